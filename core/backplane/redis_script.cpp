#include "backplane/redis_script.hpp"

#include <hiredis/hiredis.h>
#include <openssl/evp.h>

#include <cstring>
#include <memory>

namespace rtcore {
namespace {

struct Call {
  const RedisScript* script;
  RedisLink* link;
  std::vector<std::string> argv;  // EVALSHA sha numkeys keys... args...
  RedisLink::ReplyFn fn;
};

bool send(const std::shared_ptr<Call>& call, bool with_source) {
  std::vector<std::string_view> argv;
  argv.reserve(call->argv.size());
  for (const auto& a : call->argv) argv.emplace_back(a);
  argv[0] = with_source ? "EVAL" : "EVALSHA";
  argv[1] = with_source ? std::string_view(call->script->source()) : std::string_view(call->script->sha1());
  return call->link->command(argv, [call, with_source](redisReply* reply) {
    if (!with_source && reply && reply->type == REDIS_REPLY_ERROR && reply->len >= 8 &&
        std::memcmp(reply->str, "NOSCRIPT", 8) == 0) {
      // Not loaded on this Redis (yet): once more with the source.
      if (send(call, true)) return;
      reply = nullptr;
    }
    if (call->fn) call->fn(reply);
  });
}

}  // namespace

RedisScript::RedisScript(const char* source) : source_(source) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(source, std::strlen(source), digest, &len, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < len; ++i) {
    unsigned char b = digest[i];
    sha1_.push_back(kHex[b >> 4]);
    sha1_.push_back(kHex[b & 0xF]);
  }
}

bool RedisScript::run(RedisLink& link, std::vector<std::string> keys, std::vector<std::string> args,
                      RedisLink::ReplyFn fn) const {
  auto call = std::make_shared<Call>();
  call->script = this;
  call->link = &link;
  call->argv.reserve(3 + keys.size() + args.size());
  call->argv.emplace_back();  // verb, filled in by send()
  call->argv.emplace_back();  // sha1 or source
  call->argv.push_back(std::to_string(keys.size()));
  for (auto& k : keys) call->argv.push_back(std::move(k));
  for (auto& a : args) call->argv.push_back(std::move(a));
  call->fn = std::move(fn);
  return send(call, false);
}

bool RedisScript::load(RedisLink& link) const {
  return link.command({"SCRIPT", "LOAD", source_}, RedisLink::ReplyFn{});
}

}  // namespace rtcore
