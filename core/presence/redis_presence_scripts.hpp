// Lua scripts that change cluster presence atomically in Redis. Keys:
//   {prefix}presence:user:{user}  set of node ids where the user is connected
//   {prefix}node_users:{node}     set of users connected on that node
//   {prefix}nodes                 set of nodes that have presence entries
//   {prefix}node:{node}           liveness key (the node's epoch), expires
//                                 after the node TTL
// Room presence (docs/protocol.md section 9), with PAIR = user .. "/" .. room
// (unambiguous: a user id has no '/', a room may):
//   {prefix}room_users:{room}     set of users with a connection in the room
//   {prefix}presence:room:{PAIR}  set of node ids where the user is in the room
//   {prefix}node_rooms:{node}     set of PAIRs that node has (for reaping and
//                                 reconcile)
// A transition (first node in / last node out) publishes the presence JSON
// on {prefix}presence inside the script, so it happens once per cluster; a
// room transition publishes {"room","user","event","timestamp"} on
// {prefix}room_presence:{room} the same way.
//
// Whatever else may write these keys, the scripts never fail on them: a key
// of the wrong type is deleted (the next writes rebuild it) and counted.
// Each script returns {result, repaired keys}.
#pragma once

namespace rtcore::presence_scripts {

// KEYS: presence:user:U, node_users:N, nodes. ARGV: node, user, channel, ts.
// Result: 1 if this was the user's first node (online published).
inline constexpr const char* kOnline = R"lua(
local bad = 0
for i = 1, 3 do
  local t = redis.call('TYPE', KEYS[i]).ok
  if t ~= 'set' and t ~= 'none' then redis.call('DEL', KEYS[i]); bad = bad + 1 end
end
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
local published = 0
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 and redis.call('SCARD', KEYS[1]) == 1 then
  redis.call('PUBLISH', ARGV[3], cjson.encode({user_id = ARGV[2], status = 'online', timestamp = ARGV[4]}))
  published = 1
end
return {published, bad}
)lua";

// KEYS: presence:user:U, node_users:N. ARGV: node, user, channel, ts.
// Result: 1 if this was the user's last node (offline published).
inline constexpr const char* kOffline = R"lua(
local bad = 0
for i = 1, 2 do
  local t = redis.call('TYPE', KEYS[i]).ok
  if t ~= 'set' and t ~= 'none' then redis.call('DEL', KEYS[i]); bad = bad + 1 end
end
redis.call('SREM', KEYS[2], ARGV[2])
local published = 0
if redis.call('SREM', KEYS[1], ARGV[1]) == 1 and redis.call('SCARD', KEYS[1]) == 0 then
  redis.call('PUBLISH', ARGV[3], cjson.encode({user_id = ARGV[2], status = 'offline', timestamp = ARGV[4]}))
  published = 1
end
return {published, bad}
)lua";

// Takes every dead node's users offline (where it was their last node) and
// out of their rooms (user_left where it was their last node in the room).
// ARGV: prefix, ts, this node. Result: the number of events published.
inline constexpr const char* kReapDeadNodes = R"lua(
local p = ARGV[1]
local bad = 0
local function is_set(k)
  local t = redis.call('TYPE', k).ok
  if t == 'set' then return true end
  if t ~= 'none' then redis.call('DEL', k); bad = bad + 1 end
  return false
end
local n = 0
if not is_set(p .. 'nodes') then return {0, bad} end
for _, node in ipairs(redis.call('SMEMBERS', p .. 'nodes')) do
  if node ~= ARGV[3] and redis.call('EXISTS', p .. 'node:' .. node) == 0 then
    local users = {}
    if is_set(p .. 'node_users:' .. node) then users = redis.call('SMEMBERS', p .. 'node_users:' .. node) end
    for _, u in ipairs(users) do
      local key = p .. 'presence:user:' .. u
      if is_set(key) and redis.call('SREM', key, node) == 1 and redis.call('SCARD', key) == 0 then
        redis.call('PUBLISH', p .. 'presence',
                   cjson.encode({user_id = u, status = 'offline', timestamp = ARGV[2]}))
        n = n + 1
      end
    end
    redis.call('DEL', p .. 'node_users:' .. node)
    -- Its room memberships: user_left where it was the user's last node.
    local pairs_ = {}
    if is_set(p .. 'node_rooms:' .. node) then pairs_ = redis.call('SMEMBERS', p .. 'node_rooms:' .. node) end
    for _, pair in ipairs(pairs_) do
      local slash = string.find(pair, '/', 1, true)
      if slash and slash > 1 and slash < #pair then
        local u = string.sub(pair, 1, slash - 1)
        local r = string.sub(pair, slash + 1)
        local key = p .. 'presence:room:' .. pair
        if is_set(key) and redis.call('SREM', key, node) == 1 and redis.call('SCARD', key) == 0 then
          if is_set(p .. 'room_users:' .. r) then redis.call('SREM', p .. 'room_users:' .. r, u) end
          redis.call('PUBLISH', p .. 'room_presence:' .. r,
                     cjson.encode({room = r, user = u, event = 'left', timestamp = ARGV[2]}))
          n = n + 1
        end
      else
        bad = bad + 1
      end
    end
    redis.call('DEL', p .. 'node_rooms:' .. node)
    redis.call('SREM', p .. 'nodes', node)
  end
end
return {n, bad}
)lua";

// A user's first connection in a room on this node. KEYS:
// presence:room:PAIR, room_users:R, node_rooms:N, nodes. ARGV: node, user,
// room, pair, channel (room_presence:R), ts. Result: 1 if this was the
// user's first node in the room (joined published).
inline constexpr const char* kRoomJoin = R"lua(
local bad = 0
for i = 1, 4 do
  local t = redis.call('TYPE', KEYS[i]).ok
  if t ~= 'set' and t ~= 'none' then redis.call('DEL', KEYS[i]); bad = bad + 1 end
end
redis.call('SADD', KEYS[4], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[4])
redis.call('SADD', KEYS[2], ARGV[2])
local published = 0
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 and redis.call('SCARD', KEYS[1]) == 1 then
  redis.call('PUBLISH', ARGV[5], cjson.encode({room = ARGV[3], user = ARGV[2], event = 'joined', timestamp = ARGV[6]}))
  published = 1
end
return {published, bad}
)lua";

// The user's last connection in a room on this node left. KEYS:
// presence:room:PAIR, room_users:R, node_rooms:N. ARGV: node, user, room,
// pair, channel, ts. Result: 1 if this was the user's last node in the room
// (left published). An emptied node set always takes the user out of the
// room's set, so the two never disagree for long.
inline constexpr const char* kRoomLeave = R"lua(
local bad = 0
for i = 1, 3 do
  local t = redis.call('TYPE', KEYS[i]).ok
  if t ~= 'set' and t ~= 'none' then redis.call('DEL', KEYS[i]); bad = bad + 1 end
end
redis.call('SREM', KEYS[3], ARGV[4])
local removed = redis.call('SREM', KEYS[1], ARGV[1])
local published = 0
if redis.call('SCARD', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[2], ARGV[2])
  if removed == 1 then
    redis.call('PUBLISH', ARGV[5], cjson.encode({room = ARGV[3], user = ARGV[2], event = 'left', timestamp = ARGV[6]}))
    published = 1
  end
end
return {published, bad}
)lua";

// Who is in a room, bounded: KEYS room_users:R, ARGV limit. At most limit
// members (SMEMBERS when the set is that small, else SRANDMEMBER with a
// count: O(limit) whatever the room's size). Read-only: a key of the wrong
// type is reported (the next join's script repairs it). Result:
// {members, truncated (0/1), bad}.
inline constexpr const char* kRoomMembers = R"lua(
local t = redis.call('TYPE', KEYS[1]).ok
if t == 'none' then return {{}, 0, 0} end
if t ~= 'set' then return {{}, 0, 1} end
local limit = tonumber(ARGV[1])
if redis.call('SCARD', KEYS[1]) <= limit then return {redis.call('SMEMBERS', KEYS[1]), 0, 0} end
return {redis.call('SRANDMEMBER', KEYS[1], limit), 1, 0}
)lua";

// Whether users are online: KEYS presence:user:U... Result: {flags (1 for
// a non-empty set), bad}. Read-only, like kRoomMembers.
inline constexpr const char* kUsersOnline = R"lua(
local out, bad = {}, 0
for i = 1, #KEYS do
  local t = redis.call('TYPE', KEYS[i]).ok
  out[i] = 0
  if t == 'set' then
    if redis.call('SCARD', KEYS[i]) > 0 then out[i] = 1 end
  elseif t ~= 'none' then
    bad = bad + 1
  end
end
return {out, bad}
)lua";

// The heartbeat, and the fence: KEYS node:N, nodes. ARGV: epoch, ttl (ms),
// node. Sets the liveness key to this process's epoch and lists the node.
// Result: 1 if the key still held our epoch and the node was still listed
// (nobody declared us dead), 0 otherwise: the node was reaped while it
// stalled, Redis lost its keys, or something overwrote them. The node then
// registers its users again.
inline constexpr const char* kHeartbeat = R"lua(
local bad = 0
local cur = false
local t = redis.call('TYPE', KEYS[1]).ok
if t == 'string' then cur = redis.call('GET', KEYS[1])
elseif t ~= 'none' then redis.call('DEL', KEYS[1]); bad = bad + 1 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local t2 = redis.call('TYPE', KEYS[2]).ok
if t2 ~= 'set' and t2 ~= 'none' then redis.call('DEL', KEYS[2]); bad = bad + 1 end
local added = redis.call('SADD', KEYS[2], ARGV[3])
if cur == ARGV[1] and added == 0 then return {1, bad} end
return {0, bad}
)lua";

}  // namespace rtcore::presence_scripts
