#include "presence/redis_presence.hpp"

#include "backplane/redis_reply.hpp"
#include "backplane/wire.hpp"
#include "presence/redis_presence_scripts.hpp"
#include "protocol/timestamp.hpp"
#include "protocol/validate.hpp"

namespace rtcore {

RedisPresence::RedisPresence(RedisLink& commands, std::string prefix, std::string node_id, PresenceSink& sink,
                             std::function<void(const char*)> invalid)
    : commands_(commands),
      prefix_(std::move(prefix)),
      node_id_(std::move(node_id)),
      channel_(prefix_ + "presence"),
      node_users_key_(prefix_ + "node_users:" + node_id_),
      sink_(sink),
      invalid_(std::move(invalid)),
      online_(presence_scripts::kOnline),
      offline_(presence_scripts::kOffline),
      reap_(presence_scripts::kReapDeadNodes) {}

void RedisPresence::local_user_online(std::string_view user) {
  local_users_.emplace(user);
  if (commands_.up()) run(true, user);
}

void RedisPresence::local_user_offline(std::string_view user) {
  local_users_.erase(std::string(user));
  if (commands_.up()) run(false, user);
}

void RedisPresence::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  // Take this node's users out now, so nobody waits for the TTL. Best
  // effort: written on the next loop turn, which the engine still runs.
  if (commands_.up())
    for (const auto& user : local_users_) run(false, user);
  local_users_.clear();
}

void RedisPresence::check_script_reply(redisReply* reply, const char* what) {
  if (!reply) return;  // the link went away; reconcile() follows its return
  auto r = redis_reply::script_result(reply);
  if (!r) return invalid_(what);
  for (long long i = 0; i < r->repaired; ++i) invalid_("a presence key of the wrong type (deleted)");
}

void RedisPresence::run(bool online, std::string_view user) {
  std::string ts = protocol::now_timestamp();
  std::string user_key = prefix_ + "presence:user:" + std::string(user);
  // A null reply may come from the link's destructor, after this object.
  auto done = [this, online](redisReply* reply) {
    if (reply) check_script_reply(reply, online ? "the online script's reply" : "the offline script's reply");
  };
  if (online)
    online_.run(commands_, {user_key, node_users_key_, prefix_ + "nodes"}, {node_id_, std::string(user), channel_, ts},
                done);
  else
    offline_.run(commands_, {user_key, node_users_key_}, {node_id_, std::string(user), channel_, ts}, done);
}

void RedisPresence::reconcile() {
  if (shut_down_ || !commands_.up()) return;
  // Add what is missing (online events where this is the user's first
  // node), then remove what Redis still lists but this node no longer has.
  for (const auto& user : local_users_) run(true, user);
  commands_.command({"SMEMBERS", node_users_key_}, [this](redisReply* reply) {
    if (!reply || shut_down_) return;
    if (reply->type != REDIS_REPLY_ARRAY) {
      // Wrong type: the next online script deletes and rebuilds the key.
      if (reply->type == REDIS_REPLY_ERROR) invalid_("this node's user set is not a set");
      return;
    }
    for (size_t i = 0; i < reply->elements; ++i) {
      const redisReply* e = reply->element[i];
      std::string user(redis_reply::text(e));
      if (!redis_reply::is_string(e) || !protocol::is_valid_user_id(user)) {
        invalid_("an invalid user id in this node's user set");
        if (redis_reply::is_string(e)) commands_.command({"SREM", node_users_key_, user}, RedisLink::ReplyFn{});
        continue;
      }
      if (!local_users_.count(user)) run(false, user);
    }
  });
}

void RedisPresence::reap_dead_nodes() {
  if (shut_down_) return;
  reap_.run(commands_, {}, {prefix_, protocol::now_timestamp(), node_id_},
            [this](redisReply* reply) {
              if (reply) check_script_reply(reply, "the reaper script's reply");
            });
}

void RedisPresence::on_presence_message(std::string_view payload) {
  std::optional<wire::PresenceEvent> e = wire::decode_presence_event(payload);
  if (!e) return invalid_("a malformed presence event");
  if (!shut_down_) sink_.presence_changed(e->user, e->online, e->timestamp);
}

}  // namespace rtcore
