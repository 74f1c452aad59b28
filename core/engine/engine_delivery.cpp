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
#include "protocol/server_message.hpp"
#include "protocol/timestamp.hpp"
#include "protocol/validate.hpp"

namespace rtcore {

using namespace engine_detail;

void EngineCore::on_writeable(void* conn) {
  auto& c = *static_cast<Connection*>(conn);
  c.write_requested = false;
  write_queued(c);
  if (!c.queue.empty()) return request_writeable(c);
  finish_close(c);
}

void EngineCore::finish_close(Connection& c) {
  if (!c.close_code || c.killed) return;
  if (server_->partially_sent(c.link)) return request_writeable(c);
  if (!c.close_sent) {
    c.close_sent = true;
    if (!server_->send_close_frame(c.link, c.close_code, c.close_reason)) return request_writeable(c);
  }
  // The close frame is out. Now the client answers with its own and lws
  // ends the connection; dropping the socket at once would reset it while
  // the client may still be sending, and a reset can destroy our close frame
  // in the client's receive buffer. The close deadline catches clients that
  // never answer.
}

void EngineCore::write_queued(Connection& c) {
  // Whole frames only, so lws's own pings and close frames can only ever
  // fall between frames; stop once lws holds a partial write (the socket
  // is full) and let its writeable callback continue.
  while (!c.queue.empty() && !server_->partially_sent(c.link)) {
    size_t need = c.queue.next_copy_size(kCoalesceBytes);
    if (write_buf_.size() < WsServer::kWritePrefix + need) write_buf_.resize(WsServer::kWritePrefix + need);
    unsigned char* out = write_buf_.data() + WsServer::kWritePrefix;
    size_t n = c.queue.take_into(out, kCoalesceBytes);
    if (!server_->write_raw(c.link, out, n)) return;
    stats_.bytes_out.add(n);
  }
}

void EngineCore::mark_dirty(Connection& c) {
  if (c.dirty) return;
  c.dirty = true;
  if (dirty_.empty()) {
    dirty_since_ns_ = uv_hrtime();
    uv_check_start(&flush_check_, [](uv_check_t* h) {
      auto* self = static_cast<EngineCore*>(h->data);
      guarded(self->stats_.internal_errors, "flush", [self] { self->flush_dirty(); });
    });
    uv_idle_start(&flush_idle_, [](uv_idle_t*) {});
  }
  dirty_.push_back(c.id);
}

void EngineCore::flush_dirty() {
  // While client messages keep arriving turn after turn (a burst: lws hands
  // over about one receive buffer per turn), wait for the input to pause, so
  // each connection gets many frames per send(); but never longer than
  // kMaxFlushDelayNs, and a lone message (chat rate) goes out on the very
  // next turn.
  bool busy = messages_this_turn_ != 0;
  messages_this_turn_ = 0;
  if (busy && uv_hrtime() - dirty_since_ns_ < kMaxFlushDelayNs) return;
  uv_check_stop(&flush_check_);
  uv_idle_stop(&flush_idle_);
  backplane_->flush_publishes();
  std::vector<ConnId> batch;
  batch.swap(dirty_);
  for (ConnId id : batch) {
    Connection* c = conns_.find(id);
    if (!c) continue;
    c->dirty = false;
    if (c->killed) continue;
    // lws will call on_writeable anyway, or holds unsent bytes: leave it
    // the queue rather than write around it.
    for_connection(*c, "flush", [&] {
      if (c->write_requested || server_->partially_sent(c->link)) return request_writeable(*c);
      write_queued(*c);
      if (!c->queue.empty())
        request_writeable(*c);
      else
        finish_close(*c);
    });
  }
  // Reuse the batch's storage next turn.
  if (dirty_.empty()) {
    batch.clear();
    dirty_.swap(batch);
  }
}

// ---------------------------------------------------------------- rooms

bool EngineCore::join_room(Connection& c, std::string_view room) {
  bool first_member = false, first_of_user = false;
  if (!hub_.join(room, c.id, &first_member, c.user_id, &first_of_user)) return false;
  c.rooms.emplace_back(room);
  update_gauges();
  if (first_member) {
    backplane_->room_interest(room, true);
    follow_stream(StreamKind::kRoom, room);
  }
  if (first_of_user) backplane_->presence().local_room_user_joined(room, c.user_id);
  return true;
}

void EngineCore::set_watching(Connection& c, std::string_view room, bool on) {
  bool edge = false;
  if (on ? hub_.watch(room, c.id, &edge) : hub_.unwatch(room, c.id, &edge))
    if (edge) backplane_->room_presence_interest(room, on);
}

void EngineCore::leave_room(Connection& c, std::string_view room, Backplane::Done done) {
  set_watching(c, room, false);
  bool last_member = false, last_of_user = false;
  if (!hub_.leave(room, c.id, &last_member, c.user_id, &last_of_user)) {
    if (done) done(true);
    return;
  }
  // The ack of a leave_room follows once every node's presence queries see
  // it (docs/protocol.md section 2: acks mean "in effect in the cluster").
  if (last_of_user)
    backplane_->presence().local_room_user_left(room, c.user_id,
                                                done ? [done] { done(true); } : Presence::Written{});
  else if (done)
    done(true);
  for (auto it = c.rooms.begin(); it != c.rooms.end(); ++it) {
    if (*it == room) {
      c.rooms.erase(it);
      break;
    }
  }
  update_gauges();
  if (c.holds) end_hold(c, StreamKind::kRoom, room, 0);
  if (last_member) {
    backplane_->room_interest(room, false);
    unfollow_stream(StreamKind::kRoom, room);
  }
}

void EngineCore::deliver_local_room(std::string_view room, const FramePtr& frame, metrics::FrameKind kind) {
  // Per recipient: a failure to queue for one (bad_alloc) closes that one,
  // the others still get the frame. No cost unless something throws.
  for (ConnId id : hub_.room_members(room))
    if (Connection* c = conns_.find(id))
      for_connection(*c, "room delivery", [&] { enqueue(*c, frame, kind); });
}

void EngineCore::deliver_local_user(std::string_view user, const FramePtr& frame, metrics::FrameKind kind) {
  for (ConnId id : hub_.user_connections(user))
    if (Connection* c = conns_.find(id))
      for_connection(*c, "user delivery", [&] { enqueue(*c, frame, kind); });
}

// ------------------------------------------------------------- sending

void EngineCore::enqueue(Connection& c, const FramePtr& frame, metrics::FrameKind kind) {
  if (c.close_code) {
    count_drops(metrics::DropReason::kClosing);
    return;
  }
  if (frame->size() > config_.max_send_queue_bytes) {
    // No queue could ever take it: the frame is dropped for this
    // recipient, which is not at fault and stays connected. (The C API
    // refuses such host sends with RTC_ETOOBIG; this catches the rest, e.g.
    // a client message under max_message_size but over this limit.)
    count_drops(metrics::DropReason::kTooBig);
    return;
  }
  if (c.queue.bytes() + frame->size() > config_.max_send_queue_bytes) {
    // A slow consumer: drop what it has not taken and close it, so one
    // client never grows the server's memory or stalls the room.
    count_drops(metrics::DropReason::kSlowConsumer, c.queue.frames() + 1);
    stats_.slow_consumer_closes.add();
    begin_close(c, 1008, "slow consumer");
    return;
  }
  c.queue.push(frame);
  stats_.messages_out.add();
  stats_.frames_by_kind[static_cast<size_t>(kind)].add();
  mark_dirty(c);
}

void EngineCore::request_writeable(Connection& c) {
  if (c.write_requested) return;
  c.write_requested = true;
  server_->request_writeable(c.link);
}

void EngineCore::send_error(Connection& c, ErrorCode code, std::string_view message,
                            std::string_view id_json) {
  stats_.errors_sent.add();
  enqueue(c, make_text_frame(protocol::encode_error(protocol::error_code_name(code), message, id_json)),
          metrics::FrameKind::kError);
}

Backplane::Done EngineCore::ack_later(ConnId conn, std::string_view id_json) {
  if (id_json.empty()) return {};
  return [this, conn, id = std::string(id_json)](bool ok) {
    Connection* c = conns_.find(conn);
    if (!c) return;
    if (ok)
      enqueue(*c, make_text_frame(protocol::encode_ack(id)), metrics::FrameKind::kAck);
    else
      send_error(*c, ErrorCode::kUnavailable, "the backplane could not take the message", id);
  };
}

void EngineCore::begin_close(Connection& c, uint16_t code, const char* reason, int deadline_s) {
  if (c.close_code) return;
  c.close_code = code;
  c.close_reason = reason;
  stats_.closes_by_code[metrics::close_code_index(code)].add();
  if (code == 1008 || code == 1009) c.queue.clear();  // abuse: do not flush
  c.rx.clear();
  c.rx.shrink_to_fit();
  mark_dirty(c);
  // A peer that never lets us write again, or never answers the close, is
  // dropped all the same. Our own queue, not lws's timeouts: all deadlines
  // are equally long, so the queue stays in time order at O(1) a close.
  if (deadline_s > 0)
    close_deadlines_.emplace_back(uv_now(loop_) + static_cast<uint64_t>(deadline_s) * 1000, c.id);
}

void EngineCore::fail_connection(Connection& c) noexcept {
  // Close code 1011: the server hit an unexpected condition. If even that
  // cannot be queued, the socket is dropped.
  if (!guarded(stats_.internal_errors, "closing after an internal error",
               [&] { begin_close(c, 1011, "internal error"); }) &&
      !c.killed) {
    c.killed = true;
    server_->kill(c.link);
  }
}

}  // namespace rtcore
