#include "presence/redis_presence.hpp"

#include <algorithm>
#include <memory>

#include "backplane/redis_reply.hpp"
#include "backplane/wire.hpp"
#include "presence/redis_presence_scripts.hpp"
#include "protocol/timestamp.hpp"
#include "protocol/validate.hpp"

namespace rtcore {
namespace {

std::string room_pair(std::string_view room, std::string_view user) {
  std::string pair(user);
  pair.push_back('/');
  pair.append(room);
  return pair;
}

// Splits a pair read back from Redis; false unless both halves are valid.
bool split_pair(std::string_view pair, std::string_view& room, std::string_view& user) {
  size_t slash = pair.find('/');
  if (slash == std::string_view::npos) return false;
  user = pair.substr(0, slash);
  room = pair.substr(slash + 1);
  return protocol::is_valid_user_id(user) && protocol::is_valid_room(room);
}

}  // namespace

RedisPresence::RedisPresence(RedisLink& commands, std::string prefix, std::string node_id, PresenceSink& sink,
                             std::function<void(const char*)> invalid)
    : commands_(commands),
      prefix_(std::move(prefix)),
      node_id_(std::move(node_id)),
      channel_(prefix_ + "presence"),
      node_users_key_(prefix_ + "node_users:" + node_id_),
      sink_(sink),
      invalid_(std::move(invalid)),
      node_rooms_key_(prefix_ + "node_rooms:" + node_id_),
      online_(presence_scripts::kOnline),
      offline_(presence_scripts::kOffline),
      reap_(presence_scripts::kReapDeadNodes),
      room_join_(presence_scripts::kRoomJoin),
      room_leave_(presence_scripts::kRoomLeave),
      room_members_(presence_scripts::kRoomMembers),
      users_online_(presence_scripts::kUsersOnline) {}

void RedisPresence::local_user_online(std::string_view user) {
  local_users_.emplace(user);
  if (commands_.up()) run(true, user);
}

void RedisPresence::local_user_offline(std::string_view user) {
  local_users_.erase(std::string(user));
  if (commands_.up()) run(false, user);
}

void RedisPresence::local_room_user_joined(std::string_view room, std::string_view user) {
  std::string pair = room_pair(room, user);
  auto [it, added] = local_room_pairs_.insert(std::move(pair));
  if (added && commands_.up()) run_room(true, *it);
}

void RedisPresence::local_room_user_left(std::string_view room, std::string_view user, Written written) {
  std::string pair = room_pair(room, user);
  if (local_room_pairs_.erase(pair) && commands_.up()) return run_room(false, pair, std::move(written));
  if (written) written();
}

void RedisPresence::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  // Take this node's users out now, so nobody waits for the TTL. Best
  // effort: written on the next loop turn, which the engine still runs.
  if (commands_.up()) {
    for (const auto& pair : local_room_pairs_) run_room(false, pair);
    for (const auto& user : local_users_) run(false, user);
  }
  local_room_pairs_.clear();
  local_users_.clear();
}

void RedisPresence::run_room(bool joined, const std::string& pair, Written written) {
  std::string_view room, user;
  if (!split_pair(pair, room, user)) {  // never: built from validated ids
    if (written) written();
    return;
  }
  std::string key = prefix_ + "presence:room:" + pair;
  std::string room_users = prefix_ + "room_users:" + std::string(room);
  // written runs with or without a reply (no reply: the link went away and
  // the write with it), as the backplane's publish acks do, or at once when
  // the script could not even be sent.
  auto after = written ? std::make_shared<Written>(std::move(written)) : nullptr;
  auto done = [this, joined, after](redisReply* reply) {
    if (reply)
      check_script_reply(reply, joined ? "the room join script's reply" : "the room leave script's reply");
    if (after) (*after)();
  };
  std::vector<std::string> args{node_id_, std::string(user),           std::string(room),
                                pair,     room_presence_channel(room), clock_.now()};
  bool sent = joined ? room_join_.run(commands_, {key, room_users, node_rooms_key_, prefix_ + "nodes"},
                                      std::move(args), done)
                     : room_leave_.run(commands_, {key, room_users, node_rooms_key_}, std::move(args), done);
  if (!sent && after) (*after)();
}

void RedisPresence::room_members(std::string_view room, size_t limit, MembersFn fn) {
  if (shut_down_ || !commands_.up()) return fn(false, {}, false);
  // The reply is {members, truncated, bad}; anything else is not ours.
  bool sent = room_members_.run(
      commands_, {prefix_ + "room_users:" + std::string(room)}, {std::to_string(limit)},
      [this, fn, limit](redisReply* reply) {
        // No reply: the link went away (maybe in its destructor, after
        // this object): touch nothing of ours.
        if (!reply) return fn(false, {}, false);
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 || !reply->element[0] ||
            reply->element[0]->type != REDIS_REPLY_ARRAY || !reply->element[1] ||
            reply->element[1]->type != REDIS_REPLY_INTEGER || !reply->element[2] ||
            reply->element[2]->type != REDIS_REPLY_INTEGER) {
          invalid_("the room members script's reply");
          return fn(false, {}, false);
        }
        if (reply->element[2]->integer != 0) invalid_("a room user set of the wrong type");
        const redisReply* list = reply->element[0];
        std::vector<std::string> users;
        users.reserve(std::min(list->elements, limit));
        for (size_t i = 0; i < list->elements && users.size() < limit; ++i) {
          std::string_view u = redis_reply::text(list->element[i]);
          if (!redis_reply::is_string(list->element[i]) || !protocol::is_valid_user_id(u)) {
            invalid_("an invalid user id in a room user set");
            continue;
          }
          users.emplace_back(u);
        }
        fn(true, std::move(users), reply->element[1]->integer != 0 || list->elements > limit);
      });
  if (!sent) fn(false, {}, false);
}

void RedisPresence::users_online(const std::vector<std::string>& users, OnlineFn fn) {
  if (shut_down_ || !commands_.up()) return fn(false, {});
  std::vector<std::string> keys;
  keys.reserve(users.size());
  for (const auto& u : users) keys.push_back(prefix_ + "presence:user:" + u);
  size_t n = users.size();
  bool sent = users_online_.run(commands_, std::move(keys), {}, [this, fn, n](redisReply* reply) {
    if (!reply) return fn(false, {});
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 || !reply->element[0] ||
        reply->element[0]->type != REDIS_REPLY_ARRAY || reply->element[0]->elements != n ||
        !reply->element[1] || reply->element[1]->type != REDIS_REPLY_INTEGER) {
      invalid_("the online script's reply");
      return fn(false, {});
    }
    for (long long i = 0; i < reply->element[1]->integer; ++i) invalid_("a presence key of the wrong type");
    std::vector<bool> online(n, false);
    for (size_t i = 0; i < n; ++i) {
      const redisReply* e = reply->element[0]->element[i];
      online[i] = e && e->type == REDIS_REPLY_INTEGER && e->integer == 1;
    }
    fn(true, std::move(online));
  });
  if (!sent) fn(false, {});
}

void RedisPresence::check_script_reply(redisReply* reply, const char* what) {
  if (!reply) return;  // the link went away; reconcile() follows its return
  auto r = redis_reply::script_result(reply);
  if (!r) return invalid_(what);
  for (long long i = 0; i < r->repaired; ++i) invalid_("a presence key of the wrong type (deleted)");
}

void RedisPresence::run(bool online, std::string_view user) {
  const std::string& ts = clock_.now();
  std::string user_key = prefix_ + "presence:user:" + std::string(user);
  // A null reply may come from the link's destructor, after this object.
  auto done = [this, online](redisReply* reply) {
    if (reply) check_script_reply(reply, online ? "the online script's reply" : "the offline script's reply");
  };
  if (online)
    online_.run(commands_, {user_key, node_users_key_, prefix_ + "nodes"},
                {node_id_, std::string(user), channel_, ts}, done);
  else
    offline_.run(commands_, {user_key, node_users_key_}, {node_id_, std::string(user), channel_, ts}, done);
}

void RedisPresence::reconcile() {
  if (shut_down_ || !commands_.up()) return;
  // Add what is missing (online events where this is the user's first
  // node), then remove what Redis still lists but this node no longer has.
  for (const auto& user : local_users_) run(true, user);
  for (const auto& pair : local_room_pairs_) run_room(true, pair);
  commands_.command({"SMEMBERS", node_rooms_key_}, [this](redisReply* reply) {
    if (!reply || shut_down_) return;
    if (reply->type != REDIS_REPLY_ARRAY) {
      if (reply->type == REDIS_REPLY_ERROR) invalid_("this node's room set is not a set");
      return;
    }
    for (size_t i = 0; i < reply->elements; ++i) {
      const redisReply* e = reply->element[i];
      std::string pair(redis_reply::text(e));
      std::string_view room, user;
      if (!redis_reply::is_string(e) || !split_pair(pair, room, user)) {
        invalid_("an invalid entry in this node's room set");
        if (redis_reply::is_string(e))
          commands_.command({"SREM", node_rooms_key_, pair}, RedisLink::ReplyFn{});
        continue;
      }
      // The leave script takes this node out of the pair's set (user_left
      // if it was the last) and the pair out of this node's set.
      if (!local_room_pairs_.count(pair)) run_room(false, pair);
    }
  });
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
        if (redis_reply::is_string(e))
          commands_.command({"SREM", node_users_key_, user}, RedisLink::ReplyFn{});
        continue;
      }
      if (!local_users_.count(user)) run(false, user);
    }
  });
}

void RedisPresence::reap_dead_nodes() {
  if (shut_down_) return;
  reap_.run(commands_, {}, {prefix_, protocol::now_timestamp(), node_id_}, [this](redisReply* reply) {
    if (reply) check_script_reply(reply, "the reaper script's reply");
  });
}

void RedisPresence::on_room_presence_message(std::string_view room, std::string_view payload) {
  wire::Channel ch{wire::ChannelKind::kRoomPresence, room};
  std::optional<wire::RoomPresenceEvent> e = wire::decode_room_presence_event(ch, payload);
  if (!e) return invalid_("a malformed room presence event");
  if (!shut_down_) sink_.room_presence_changed(e->room, e->user, e->joined, e->timestamp);
}

void RedisPresence::on_presence_message(std::string_view payload) {
  std::optional<wire::PresenceEvent> e = wire::decode_presence_event(payload);
  if (!e) return invalid_("a malformed presence event");
  if (!shut_down_) sink_.presence_changed(e->user, e->online, e->timestamp);
}

}  // namespace rtcore
