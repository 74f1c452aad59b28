// Reading hiredis replies defensively: a reply is whatever Redis (or
// whatever wrote into its keys) produced, never what we assume.
#pragma once

#include <hiredis/hiredis.h>

#include <optional>
#include <string_view>

namespace rtcore::redis_reply {

// The text of a string or status reply; empty for anything else.
inline std::string_view text(const redisReply* r) {
  return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
             ? std::string_view(r->str, r->len)
             : std::string_view();
}

inline bool is_string(const redisReply* r) {
  return r && r->type == REDIS_REPLY_STRING;
}

// Our scripts answer {result, repaired keys}: both integers.
struct ScriptResult {
  long long result;
  long long repaired;
};
inline std::optional<ScriptResult> script_result(const redisReply* r) {
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) return std::nullopt;
  const redisReply* a = r->element[0];
  const redisReply* b = r->element[1];
  if (!a || !b || a->type != REDIS_REPLY_INTEGER || b->type != REDIS_REPLY_INTEGER) return std::nullopt;
  return ScriptResult{a->integer, b->integer};
}

}  // namespace rtcore::redis_reply
