// A Lua script run with EVALSHA: the script's SHA1 is computed here once, so
// each call sends 40 bytes instead of the source; when Redis answers
// NOSCRIPT (it restarted, or SCRIPT FLUSH ran) the call is sent again once
// with EVAL, which also loads the script for the next EVALSHA.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "backplane/redis_link.hpp"

namespace rtcore {

class RedisScript {
 public:
  explicit RedisScript(const char* source);

  const std::string& sha1() const { return sha1_; }
  const char* source() const { return source_; }

  // Runs the script on link with keys and args (copied); fn gets the reply
  // (null when the link went away). False when the link is down, in which
  // case fn is never called.
  bool run(RedisLink& link, std::vector<std::string> keys, std::vector<std::string> args,
           RedisLink::ReplyFn fn = {}) const;
  // SCRIPT LOAD on link, to be sent when the link comes up and before any
  // run(): a run answered NOSCRIPT is sent again after the runs pipelined
  // behind it, so scripts whose order matters (history appends) must never
  // meet NOSCRIPT on a fresh connection.
  bool load(RedisLink& link) const;

 private:
  const char* source_;
  std::string sha1_;  // lower-case hex, as Redis prints it
};

}  // namespace rtcore
