// Lua scripts of the Redis history (history/redis_history.hpp). Keys, with
// T = "r" for a room, "u" for a user's direct messages:
//   {prefix}hist:{T}:{name}   a Redis Stream: one entry per message, id
//                             "N-0" for offset N, fields f (the frame) and
//                             t (Redis TIME when appended, ms); MAXLEN size
//   {prefix}hmeta:{T}:{name}  a hash: epoch, offset (the stream's top)
// Both expire ttl after the last append (PEXPIRE in the append script), so
// a stream without a new message for a whole TTL is forgotten and its next
// use creates a new epoch; so does a Redis that lost its data.
//
// The append script assigns the offset, stores the frame and PUBLISHes the
// envelope to the stream's channel in one script: a message is in the
// history if and only if it was published. Entry times and expiry checks
// use Redis TIME only (one clock for every node).
//
// As in the presence scripts, whatever else may write these keys never
// makes a script fail: a key of the wrong type, or meta that is not ours
// (a bad epoch or offset), is deleted (the stream starts again, with a new
// epoch) and counted in the reply's "repaired".
//
// Every script has KEYS = {stream, meta} and ARGV[1] = a candidate epoch
// (used if the stream has none), ARGV[2] = ttl in ms.
#pragma once

#include <string>

namespace rtcore::history_scripts {

// Shared prelude: repairs the keys, loads or creates the meta. Sets bad,
// epoch, top, now (ms, Redis TIME), ttl.
inline constexpr const char* kPrelude = R"lua(
local bad = 0
local ttl = tonumber(ARGV[2])
local function fix(k, want)
  local t = redis.call('TYPE', k).ok
  if t ~= want and t ~= 'none' then redis.call('DEL', k); bad = bad + 1 end
end
fix(KEYS[1], 'stream')
fix(KEYS[2], 'hash')
local function num(n) return string.format('%.0f', n) end
local epoch = redis.call('HGET', KEYS[2], 'epoch')
local top = redis.call('HGET', KEYS[2], 'offset')
if epoch or top then
  if type(epoch) ~= 'string' or #epoch < 1 or #epoch > 32 or string.find(epoch, '[^0-9A-Za-z_%-]')
     or type(top) ~= 'string' or not string.find(top, '^%d+$') or #top > 16
     or tonumber(top) > 9007199254740992 then
    redis.call('DEL', KEYS[1], KEYS[2])
    bad = bad + 1
    epoch = false
  end
end
if epoch then
  top = tonumber(top)
else
  -- A new epoch: whatever stream is left belongs to no epoch.
  epoch = ARGV[1]
  top = 0
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'epoch', epoch, 'offset', '0')
  redis.call('PEXPIRE', KEYS[2], ttl)
end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
-- One stream entry: offset, frame, or nil when not ours (counted) / expired.
local function entry(e)
  local off = type(e[1]) == 'string' and string.match(e[1], '^(%d+)%-0$')
  local f, t = nil, nil
  local fields = e[2]
  if type(fields) == 'table' then
    for i = 1, #fields - 1, 2 do
      if fields[i] == 'f' then f = fields[i + 1] elseif fields[i] == 't' then t = tonumber(fields[i + 1]) end
    end
  end
  if not off or not f or not t then bad = bad + 1; return nil, nil, false end
  if t + ttl <= now then return nil, nil, true end
  return tonumber(off), f, false
end
)lua";

// ARGV: 3 frame prefix, 4 size, 5 channel, 6 envelope head (map header +
// fixed keys, counting the 3 keys appended here). Result: {offset,
// repaired, epoch}.
inline const std::string kAppend = std::string(kPrelude) + R"lua(
local n = redis.call('HINCRBY', KEYS[2], 'offset', 1)
local frame = ARGV[3] .. num(n) .. '}'
local id = num(n) .. '-0'
local ok = redis.pcall('XADD', KEYS[1], 'MAXLEN', ARGV[4], id, 'f', frame, 't', num(now))
if type(ok) == 'table' and ok.err then
  -- A stream whose ids are ahead of the meta is not ours: start it again.
  redis.call('DEL', KEYS[1])
  bad = bad + 1
  redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[4], id, 'f', frame, 't', num(now))
end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
local function str32(s)
  local l = #s
  return '\219' .. string.char(math.floor(l / 16777216) % 256, math.floor(l / 65536) % 256,
                               math.floor(l / 256) % 256, l % 256) .. s
end
local function u64(v)
  local b = {}
  for i = 8, 1, -1 do b[i] = string.char(v % 256); v = math.floor(v / 256) end
  return '\207' .. table.concat(b)
end
redis.call('PUBLISH', ARGV[5], ARGV[6] .. '\162ep' .. str32(epoch) .. '\163off' .. u64(n) .. '\161f' .. str32(frame))
return {n, bad, epoch}
)lua";

// ARGV: 3 epoch asked for, 4 since, 5 size. Result: {epoch, top, complete,
// {offset, frame, ...}, repaired}.
inline const std::string kReadSince = std::string(kPrelude) + R"lua(
local since = tonumber(ARGV[4])
local out = {}
local complete = 0
if epoch == ARGV[3] and since <= top then
  if since == top then
    complete = 1
  else
    local expected = since + 1
    complete = 1
    local expired = {}
    for _, e in ipairs(redis.call('XRANGE', KEYS[1], num(since + 1) .. '-0', '+', 'COUNT', ARGV[5])) do
      local off, f, old = entry(e)
      if old then table.insert(expired, e[1]) end
      if off and off <= top then
        if off ~= expected then complete = 0 end
        table.insert(out, off)
        table.insert(out, f)
        expected = off + 1
      end
    end
    if expected ~= top + 1 then complete = 0 end
    if #expired > 0 then redis.call('XDEL', KEYS[1], unpack(expired)) end
  end
end
return {epoch, top, complete, out, bad}
)lua";

// ARGV: 3 limit, 4 before (0: no bound). Result: as kReadSince, complete 0.
inline const std::string kReadLatest = std::string(kPrelude) + R"lua(
local limit = tonumber(ARGV[3])
local before = tonumber(ARGV[4])
local newest = {}
if limit > 0 and before ~= 1 then
  local max = '+'
  if before > 1 then max = num(before - 1) .. '-0' end
  local expired = {}
  for _, e in ipairs(redis.call('XREVRANGE', KEYS[1], max, '-', 'COUNT', ARGV[3])) do
    local off, f, old = entry(e)
    if old then table.insert(expired, e[1]) end
    if off and off <= top then table.insert(newest, {off, f}) end
  end
  if #expired > 0 then redis.call('XDEL', KEYS[1], unpack(expired)) end
end
local out = {}
for i = #newest, 1, -1 do
  table.insert(out, newest[i][1])
  table.insert(out, newest[i][2])
end
return {epoch, top, 0, out, bad}
)lua";

}  // namespace rtcore::history_scripts
