// Lua scripts that change cluster presence atomically in Redis. Keys:
//   {prefix}presence:user:{user}  set of node ids where the user is connected
//   {prefix}node_users:{node}     set of users connected on that node
//   {prefix}nodes                 set of nodes that have presence entries
//   {prefix}node:{node}           liveness key, expires after the node TTL
// A transition (first node in / last node out) publishes the presence JSON
// on {prefix}presence inside the script, so it happens once per cluster.
#pragma once

namespace rtcore::presence_scripts {

// KEYS: presence:user:U, node_users:N, nodes. ARGV: node, user, channel, ts.
inline constexpr const char* kOnline = R"lua(
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 and redis.call('SCARD', KEYS[1]) == 1 then
  redis.call('PUBLISH', ARGV[3], cjson.encode({user_id = ARGV[2], status = 'online', timestamp = ARGV[4]}))
  return 1
end
return 0
)lua";

// KEYS: presence:user:U, node_users:N. ARGV: node, user, channel, ts.
inline constexpr const char* kOffline = R"lua(
redis.call('SREM', KEYS[2], ARGV[2])
if redis.call('SREM', KEYS[1], ARGV[1]) == 1 and redis.call('SCARD', KEYS[1]) == 0 then
  redis.call('PUBLISH', ARGV[3], cjson.encode({user_id = ARGV[2], status = 'offline', timestamp = ARGV[4]}))
  return 1
end
return 0
)lua";

// Takes every dead node's users offline (where it was their last node).
// ARGV: prefix, ts, this node. Returns the number of offline events.
inline constexpr const char* kReapDeadNodes = R"lua(
local p = ARGV[1]
local n = 0
for _, node in ipairs(redis.call('SMEMBERS', p .. 'nodes')) do
  if node ~= ARGV[3] and redis.call('EXISTS', p .. 'node:' .. node) == 0 then
    for _, u in ipairs(redis.call('SMEMBERS', p .. 'node_users:' .. node)) do
      local key = p .. 'presence:user:' .. u
      if redis.call('SREM', key, node) == 1 and redis.call('SCARD', key) == 0 then
        redis.call('PUBLISH', p .. 'presence',
                   cjson.encode({user_id = u, status = 'offline', timestamp = ARGV[2]}))
        n = n + 1
      end
    end
    redis.call('DEL', p .. 'node_users:' .. node)
    redis.call('SREM', p .. 'nodes', node)
  end
end
return n
)lua";

}  // namespace rtcore::presence_scripts
