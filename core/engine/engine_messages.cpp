#include "engine/engine_core.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "auth/credentials.hpp"
#include "backplane/in_process.hpp"
#include "backplane/redis_backplane.hpp"
#include "common/guard.hpp"
#include "common/log.hpp"
#include "engine/engine_internal.hpp"
#include "metrics/render.hpp"
#include "presence/timestamp_cache.hpp"
#include "protocol/server_message.hpp"
#include "protocol/timestamp.hpp"
#include "protocol/validate.hpp"

namespace rtcore {

using namespace engine_detail;

// -------------------------------------------------------------- messages

void EngineCore::handle_message(Connection& c, std::string_view text, bool binary, bool preauthorized) {
  if (c.authz_request != 0 && !preauthorized) {
    // An earlier message waits for the host: keep the order, within the
    // same byte budget as the connection's send queue.
    c.last_message_ms = uv_now(loop_);
    if (c.authz_held_bytes + text.size() > config_.max_send_queue_bytes)
      return begin_close(c, 1008, "too many messages awaiting authorization");
    c.authz_held_bytes += text.size();
    c.authz_held.emplace_back(std::string(text), binary);
    return;
  }
  ++messages_this_turn_;
  if (!preauthorized) {
    stats_.messages_in.add();
    c.last_message_ms = uv_now(loop_);
  }
  protocol::ParseResult r = binary ? protocol::ParseResult{} : protocol::parse_client_message(text);
  if (!preauthorized)
    stats_.messages_by_type[r.ok ? metrics::message_type_index(r.message.type) : metrics::kInvalidMessage]
        .add();
  // Every frame counts against the rate, malformed ones too: answering
  // errors is work a flood must not get for free.
  if (!preauthorized && !within_rate_limit(c))
    return send_error(c, ErrorCode::kRateLimited, "message rate limit exceeded",
                      r.ok ? r.message.id_json : r.id_json);
  if (binary) return send_error(c, ErrorCode::kBadJson, "binary frames are not JSON", {});
  if (!r.ok) return send_error(c, r.error, r.error_message, r.id_json);
  const protocol::ClientMessage& m = r.message;
  if (!preauthorized && hooks_.on_authorize && !authorize(c, m, text)) return;
  switch (m.type) {
    case protocol::MessageType::kJoinRoom: return handle_join(c, m);
    case protocol::MessageType::kLeaveRoom: return handle_leave(c, m);
    case protocol::MessageType::kRoomMessage: return handle_room_message(c, m);
    case protocol::MessageType::kDirectMessage: return handle_direct_message(c, m);
    case protocol::MessageType::kPresence: return handle_presence_query(c, m);
    case protocol::MessageType::kOnline: return handle_online_query(c, m);
    // Without history these are not ours: custom types, like any other.
    case protocol::MessageType::kHistory:
      if (history_) return handle_history(c, m);
      break;
    case protocol::MessageType::kResumeDirect:
      if (history_) return handle_resume_direct(c, m);
      break;
    case protocol::MessageType::kCustom: break;
  }
  if (!hooks_.on_message) return send_error(c, ErrorCode::kUnknownType, "unknown message type", m.id_json);
  hooks_.on_message(c.id, c.user_id, m.type_name, text, m.id_json);
}

bool EngineCore::within_rate_limit(Connection& c) {
  if (config_.rate_limit_per_s == 0) return true;
  uint64_t now = uv_now(loop_);
  double burst = std::max<double>(config_.rate_limit_burst, 1);
  if (c.rate_refill_ms == 0) {
    c.rate_tokens = burst;
  } else {
    c.rate_tokens =
        std::min(burst, c.rate_tokens + (now - c.rate_refill_ms) * config_.rate_limit_per_s / 1000.0);
  }
  c.rate_refill_ms = now;
  if (c.rate_tokens >= 1) {
    c.rate_tokens -= 1;
    return true;
  }
  stats_.rate_limited.add();
  // Persistent abuse: too many refused messages within the window closes
  // the connection (docs/protocol.md section 4), so a flood cannot keep the
  // engine busy answering errors forever.
  if (now - c.violation_window_ms > kViolationWindowMs) {
    c.violation_window_ms = now;
    c.violations = 0;
  }
  if (++c.violations >= kViolationsBeforeClose) {
    stats_.rate_limit_closes.add();
    begin_close(c, 1008, "rate limit exceeded persistently");
  }
  return false;
}

bool EngineCore::authorize(Connection& c, const protocol::ClientMessage& m, std::string_view text) {
  Action action;
  std::string_view target;
  switch (m.type) {
    case protocol::MessageType::kJoinRoom: action = Action::kJoinRoom, target = m.room; break;
    case protocol::MessageType::kRoomMessage: action = Action::kRoomMessage, target = m.room; break;
    case protocol::MessageType::kDirectMessage: action = Action::kDirectMessage, target = m.to; break;
    case protocol::MessageType::kPresence: action = Action::kPresence, target = m.room; break;
    case protocol::MessageType::kOnline: action = Action::kOnline; break;
    default: return true;  // leaving is always allowed; custom types go to the host anyway
  }
  uint64_t request_id = ++next_request_id_;
  switch (hooks_.on_authorize(c.id, c.user_id, action, target, request_id)) {
    case Verdict::kAllow: return true;
    case Verdict::kDeny:
      stats_.forbidden.add();
      send_error(c, ErrorCode::kForbidden, "not allowed", m.id_json);
      return false;
    case Verdict::kDefer: break;
  }
  c.authz_request = request_id;
  c.authz_since_ms = uv_now(loop_);
  c.authz_message.assign(text);
  authz_pending_[request_id] = c.id;
  return false;
}

void EngineCore::resolve_authorization(uint64_t request_id, bool allow) {
  auto it = authz_pending_.find(request_id);
  if (it == authz_pending_.end()) return;  // answered already, or the client left
  Connection* c = conns_.find(it->second);
  authz_pending_.erase(it);
  if (!c || c->authz_request != request_id) return;
  c->authz_request = 0;
  std::string message = std::move(c->authz_message);
  for_connection(*c, "authorization decision", [&] {
    if (!c->close_code) {
      if (allow) {
        handle_message(*c, message, false, /*preauthorized=*/true);
      } else {
        stats_.forbidden.add();
        send_error(*c, ErrorCode::kForbidden, "not allowed",
                   protocol::parse_client_message(message).message.id_json);
      }
    }
    release_held_messages(*c);
  });
}

void EngineCore::release_held_messages(Connection& c) {
  while (c.authz_request == 0 && !c.authz_held.empty() && !c.close_code) {
    auto [text, binary] = std::move(c.authz_held.front());
    c.authz_held.pop_front();
    c.authz_held_bytes -= text.size();
    handle_message(c, text, binary);
  }
}

void EngineCore::handle_join(Connection& c, const protocol::ClientMessage& m) {
  if (!c.in_room(m.room) && config_.max_rooms_per_connection != 0 &&
      c.rooms.size() >= config_.max_rooms_per_connection)
    return send_error(c, ErrorCode::kTooManyRooms, "room limit reached for this connection", m.id_json);
  if (history_ && m.has_since && c.find_hold(StreamKind::kRoom, m.room))
    return send_error(c, ErrorCode::kInvalidField, "a recovery of this room is already in progress",
                      m.id_json);
  join_room(c, m.room);
  if (m.presence != protocol::ClientMessage::PresenceFlag::kAbsent)
    set_watching(c, m.room, m.presence == protocol::ClientMessage::PresenceFlag::kOn);
  // A watcher's ack also waits for the room's presence events to reach us,
  // so that every transition after the ack is seen.
  bool watching = m.presence == protocol::ClientMessage::PresenceFlag::kOn;
  auto when_ready = [this, watching, room = m.room](Backplane::Done done) {
    if (!watching) return backplane_->when_room_ready(room, std::move(done));
    backplane_->when_room_ready(room, [this, room, done = std::move(done)](bool ok) mutable {
      if (!ok) {
        if (done) done(false);
        return;
      }
      backplane_->when_room_presence_ready(room, std::move(done));
    });
  };
  // The ack waits until other nodes' messages to the room reach us too,
  // but not without bound: a Redis that stops answering must not leave the
  // client waiting forever. Past join_timeout_ms the answer is
  // `unavailable`; the membership stays (the subscription is still wanted
  // and takes effect when Redis confirms it), and that late confirmation
  // sends nothing more: exactly one answer per id.
  if (history_) return history_join(c, m, when_ready);
  if (m.id_json.empty()) return;
  if (config_.join_timeout_ms == 0) return when_ready(ack_later(c.id, m.id_json));
  uint64_t token = ++next_join_token_;
  pending_joins_.emplace(token, PendingJoin{c.id, std::string(m.id_json), {}});
  when_ready([this, token](bool ok) { finish_join(token, ok, false); });
  if (!pending_joins_.count(token)) return;  // answered at once (already subscribed)
  join_deadlines_.emplace_back(uv_now(loop_) + config_.join_timeout_ms, token);
  if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&join_timer_))) arm_join_timer();
}

void EngineCore::finish_join(uint64_t token, bool ok, bool timed_out, std::string answer) {
  auto it = pending_joins_.find(token);
  if (it == pending_joins_.end()) return;  // answered already
  PendingJoin p = std::move(it->second);
  pending_joins_.erase(it);
  Connection* c = conns_.find(p.conn);
  if (!c) return;
  for_connection(*c, "join answer", [&] {
    // A recovery that cannot be answered any more delivers what it held.
    if (!ok && !p.recovering_room.empty()) end_hold(*c, StreamKind::kRoom, p.recovering_room, 0);
    if (ok)
      enqueue(*c, make_text_frame(answer.empty() ? protocol::encode_ack(p.id_json) : answer),
              metrics::FrameKind::kAck);
    else if (timed_out)
      send_error(*c, ErrorCode::kUnavailable,
                 "the backplane did not confirm the room in time; the join takes effect when it does",
                 p.id_json);
    else
      send_error(*c, ErrorCode::kUnavailable, "the backplane could not subscribe to the room", p.id_json);
  });
}

void EngineCore::arm_join_timer() {
  if (join_deadlines_.empty() || stopping_) return;
  uint64_t now = uv_now(loop_), when = join_deadlines_.front().first;
  uv_timer_start(&join_timer_, &EngineCore::on_join_timer, when > now ? when - now : 0, 0);
}

void EngineCore::on_join_timer(uv_timer_t* timer) {
  auto* self = static_cast<EngineCore*>(timer->data);
  guarded(self->stats_.internal_errors, "join timeout", [self] {
    uint64_t now = uv_now(self->loop_);
    // Every deadline is join_timeout_ms after its join, so the deque is in
    // time order; tokens answered meanwhile are simply skipped.
    while (!self->join_deadlines_.empty() && self->join_deadlines_.front().first <= now) {
      uint64_t token = self->join_deadlines_.front().second;
      self->join_deadlines_.pop_front();
      self->finish_join(token, false, true);
    }
    self->arm_join_timer();
  });
}

void EngineCore::handle_leave(Connection& c, const protocol::ClientMessage& m) {
  leave_room(c, m.room, ack_later(c.id, m.id_json));
}

void EngineCore::handle_room_message(Connection& c, const protocol::ClientMessage& m) {
  if (!config_.allow_post_without_join && !c.in_room(m.room))
    return send_error(c, ErrorCode::kNotInRoom, "join the room before posting to it", m.id_json);
  std::string json =
      protocol::encode_room_message(m.room, c.user_id, m.content_json, protocol::now_timestamp());
  if (history_) return publish_message(StreamKind::kRoom, m.room, json, ack_later(c.id, m.id_json));
  FramePtr frame = make_text_frame(json);
  deliver_local_room(m.room, frame);
  backplane_->publish_to_room(m.room, frame, ack_later(c.id, m.id_json));
}

void EngineCore::handle_direct_message(Connection& c, const protocol::ClientMessage& m) {
  // Formatting the time was ~30% of a direct message's instructions; the
  // cache formats once a second (one per engine thread: not thread-safe).
  thread_local TimestampCache clock;
  std::string_view now = clock.now();
  if (history_)
    return publish_message(StreamKind::kUser, m.to,
                           protocol::encode_direct_message(c.user_id, m.content_json, now),
                           ack_later(c.id, m.id_json));
  // Encoded straight into the shared frame: one allocation, no copy.
  size_t size = protocol::direct_message_size(c.user_id, m.content_json, now);
  Frame* f = Frame::make_text_for(size);
  protocol::write_direct_message(f->payload_data(), c.user_id, m.content_json, now);
  FramePtr frame(f);
  deliver_local_user(m.to, frame);
  backplane_->publish_to_user(m.to, frame, ack_later(c.id, m.id_json));
}

void EngineCore::handle_presence_query(Connection& c, const protocol::ClientMessage& m) {
  // Members only: who is in a room is the room's business.
  if (!hub_.is_member(m.room, c.id))
    return send_error(c, ErrorCode::kForbidden, "join the room to see who is in it", m.id_json);
  room_members(m.room, 0,
               [this, conn = c.id, id = m.id_json, room = m.room](bool ok, std::vector<std::string> users,
                                                                  bool truncated) {
                 Connection* c = conns_.find(conn);
                 if (!c) return;
                 for_connection(*c, "presence answer", [&] {
                   if (!ok)
                     return send_error(*c, ErrorCode::kUnavailable, "the backplane could not answer", id);
                   enqueue(*c, make_text_frame(protocol::encode_presence_answer(id, room, users, truncated)));
                 });
               });
}

void EngineCore::handle_online_query(Connection& c, const protocol::ClientMessage& m) {
  users_online(m.users,
               [this, conn = c.id, id = m.id_json, users = m.users](bool ok, std::vector<bool> online) {
                 Connection* c = conns_.find(conn);
                 if (!c) return;
                 for_connection(*c, "online answer", [&] {
                   if (!ok)
                     return send_error(*c, ErrorCode::kUnavailable, "the backplane could not answer", id);
                   enqueue(*c, make_text_frame(protocol::encode_online_answer(id, users, online)));
                 });
               });
}

void EngineCore::room_members(std::string_view room, size_t limit, Presence::MembersFn fn) {
  backplane_->presence().room_members(room, limit ? limit : std::max<uint32_t>(config_.presence_limit, 1),
                                      std::move(fn));
}

void EngineCore::users_online(const std::vector<std::string>& users, Presence::OnlineFn fn) {
  backplane_->presence().users_online(users, std::move(fn));
}

}  // namespace rtcore
