// History and recovery on the engine thread (docs/protocol.md section 8).
//
// With history on, a room's or a user's messages are appended to the
// history (history/history.hpp), which assigns the offset and publishes
// them; every node, this one included, receives them back through the
// backplane's sink (deliver_stream) and runs them through the stream's
// sequencer (engine/stream_sequencer.hpp), which delivers them to local
// members in offset order and fills holes from the history. A publisher's
// ack waits until its message went through here, so a sender that is a
// member still sees its own message before the ack.
//
// A recovery (join_room with since, resume_direct) holds the connection's
// live frames of that stream while the history after `since` is read, then
// sends the replay, the answer, and the held frames the replay did not
// cover: in order, nothing missing, nothing twice.
#include <algorithm>

#include "common/guard.hpp"
#include "common/log.hpp"
#include "engine/engine_core.hpp"
#include "engine/engine_internal.hpp"
#include "protocol/server_message.hpp"
#include "protocol/timestamp.hpp"

namespace rtcore {

using namespace engine_detail;

namespace {

// Most messages one `history` answer carries, whatever the client asks.
constexpr uint64_t kMaxHistoryRead = 1000;
constexpr uint64_t kDefaultHistoryRead = 50;

metrics::FrameKind frame_kind(StreamKind kind) {
  return kind == StreamKind::kRoom ? metrics::FrameKind::kMessage : metrics::FrameKind::kDirect;
}

}  // namespace

// ---------------------------------------------------------------- streams

EngineCore::StreamState* EngineCore::find_stream(StreamKind kind, std::string_view name) {
  auto& map = streams(kind);
  auto it = map.find(std::string(name));
  return it == map.end() ? nullptr : &it->second;
}

void EngineCore::follow_stream(StreamKind kind, std::string_view name) {
  if (!history_) return;
  auto [it, fresh] = streams(kind).try_emplace(std::string(name));
  if (!fresh) return;
  StreamSequencer::Actions a;
  it->second.seq.start(a);
  run_stream_actions(kind, name, a);
}

void EngineCore::unfollow_stream(StreamKind kind, std::string_view name) {
  auto& map = streams(kind);
  auto it = map.find(std::string(name));
  if (it == map.end()) return;
  StreamState st = std::move(it->second);
  map.erase(it);
  // Nobody here waits for these messages any more: the acks hold (the
  // messages are published), the waiters learn the stream is gone.
  release_acks(st, true);
  for (auto& w : st.waiters) w(false);
}

void EngineCore::deliver_stream(StreamKind kind, std::string_view name, FramePtr frame,
                                std::string_view epoch, uint64_t offset) {
  ++messages_this_turn_;
  StreamState* st = find_stream(kind, name);
  if (!st) return;  // not followed here (no local member any more)
  StreamSequencer::Actions a;
  st->seq.on_live(epoch, offset, std::move(frame), a);
  run_stream_actions(kind, name, a);
}

void EngineCore::stream_subscribed(StreamKind kind, std::string_view name) {
  StreamState* st = find_stream(kind, name);
  if (!st) return;
  StreamSequencer::Actions a;
  st->seq.on_resubscribed(a);
  run_stream_actions(kind, name, a);
}

void EngineCore::run_stream_actions(StreamKind kind, std::string_view name, StreamSequencer::Actions& a) {
  for (auto& item : a.deliver) deliver_local_stream(kind, name, item.offset, item.frame);
  if (a.gap) send_gap(kind, name);
  // Reads may answer synchronously (in-process) and run actions of their
  // own: the state is looked up again after each step.
  std::string key(name);
  if (a.read_position || a.read_since) {
    uint64_t read_id = a.read_id;
    auto answer = [this, kind, key, read_id, position = a.read_position](HistoryRead r) {
      guarded(stats_.internal_errors, "history read answer", [&] {
        StreamState* st = find_stream(kind, key);
        if (!st) return;
        StreamSequencer::Actions next;
        if (position)
          st->seq.on_position(read_id, r, next);
        else
          st->seq.on_fill(read_id, r, next);
        if (!position && !next.deliver.empty()) stats_.history_fills.add();
        run_stream_actions(kind, key, next);
      });
    };
    StreamState* st = find_stream(kind, key);
    if (a.read_position)
      history_->read_latest(kind, key, 0, 0, std::move(answer));
    else if (st)
      history_->read_since(kind, key, st->seq.epoch(), a.read_after, std::move(answer));
  }
  StreamState* st = find_stream(kind, key);
  if (!st) return;
  release_acks(*st, false);
  if (st->seq.known() && !st->waiters.empty()) {
    auto waiters = std::move(st->waiters);
    st->waiters.clear();
    for (auto& w : waiters) w(true);
  }
}

void EngineCore::deliver_local_stream(StreamKind kind, std::string_view name, uint64_t offset,
                                      const FramePtr& frame) {
  const std::vector<ConnId>& ids =
      kind == StreamKind::kRoom ? hub_.room_members(name) : hub_.user_connections(name);
  metrics::FrameKind fk = frame_kind(kind);
  for (ConnId id : ids) {
    Connection* c = conns_.find(id);
    if (!c) continue;
    if (c->holds && hold_for_recovery(*c, kind, name, offset, frame)) [[unlikely]]
      continue;
    for_connection(*c, "stream delivery", [&] { enqueue(*c, frame, fk); });
  }
}

bool EngineCore::hold_for_recovery(Connection& c, StreamKind kind, std::string_view name, uint64_t offset,
                                   const FramePtr& frame) {
  StreamHold* h = c.find_hold(kind, name);
  if (!h) return false;
  if (!h->holding) {
    if (offset <= h->floor) return true;  // the replay sent it already
    end_hold(c, kind, name, 0);           // past the floor: nothing more to skip
    return false;
  }
  h->bytes += frame->size();
  if (h->bytes > config_.max_send_queue_bytes) {
    // Like held client messages: a budget, and 1008 beyond it.
    begin_close(c, 1008, "too many messages held during recovery");
    return true;
  }
  h->frames.emplace_back(offset, frame);
  return true;
}

void EngineCore::send_gap(StreamKind kind, std::string_view name) {
  stats_.history_gaps.add();
  FramePtr frame =
      make_text_frame(protocol::encode_gap(kind == StreamKind::kRoom ? name : std::string_view{}));
  const std::vector<ConnId>& ids =
      kind == StreamKind::kRoom ? hub_.room_members(name) : hub_.user_connections(name);
  for (ConnId id : std::vector<ConnId>(ids))
    if (Connection* c = conns_.find(id))
      for_connection(*c, "gap notice", [&] {
        stats_.errors_sent.add();
        enqueue(*c, frame, metrics::FrameKind::kError);
      });
}

void EngineCore::when_stream_known(StreamKind kind, std::string_view name, std::function<void(bool)> fn) {
  StreamState* st = find_stream(kind, name);
  if (!st) return fn(false);
  if (st->seq.known()) return fn(true);
  st->waiters.push_back(std::move(fn));
}

// ------------------------------------------------------------- publishing

void EngineCore::publish_message(StreamKind kind, std::string_view name, std::string_view frame_json,
                                 Backplane::Done done) {
  history_->append(
      kind, name, protocol::offset_frame_prefix(frame_json), static_cast<uint64_t>(protocol::now_unix_ms()),
      [this, kind, key = std::string(name), done = std::move(done)](bool ok, uint64_t offset) mutable {
        if (!ok) {
          if (done) done(false);
          return;
        }
        ack_after_delivery(kind, key, offset, std::move(done));
      });
}

void EngineCore::ack_after_delivery(StreamKind kind, std::string_view name, uint64_t offset,
                                    Backplane::Done done) {
  if (!done) return;
  StreamState* st = find_stream(kind, name);
  // Nobody here receives it, or it went out already: the ack now.
  if (!st || (st->seq.known() && st->seq.last() >= offset)) return done(true);
  st->acks.push_back({offset, uv_now(loop_), std::move(done)});
}

void EngineCore::release_acks(StreamState& st, bool all) {
  if (st.acks.empty()) return;
  // In offset order, except across a reset of the epoch (an old offset then
  // waits for its deadline): scan them all.
  std::vector<Backplane::Done> ready;
  for (auto it = st.acks.begin(); it != st.acks.end();) {
    if (all || (st.seq.known() && it->offset <= st.seq.last())) {
      ready.push_back(std::move(it->done));
      it = st.acks.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& done : ready) done(true);
}

void EngineCore::expire_stream_acks(uint64_t now) {
  // A message is published once its append succeeded; its ack waits for the
  // local delivery only to keep "own message before the ack". If that
  // delivery does not come (the subscription is down), the ack goes anyway.
  uint64_t wait = std::max<uint64_t>(config_.join_timeout_ms, 1000);
  for (auto* map : {&room_streams_, &user_streams_})
    for (auto& [name, st] : *map)
      while (!st.acks.empty() && now - st.acks.front().since_ms >= wait) {
        Backplane::Done done = std::move(st.acks.front().done);
        st.acks.pop_front();
        done(true);
      }
}

void EngineCore::broadcast_message(std::string_view room, std::string_view frame_json) {
  if (!history_) return broadcast(room, make_text_frame(frame_json));
  publish_message(StreamKind::kRoom, room, frame_json, {});
}

void EngineCore::send_message_to_user(std::string_view user, std::string_view frame_json) {
  if (!history_) return send_to_user(user, make_text_frame(frame_json));
  publish_message(StreamKind::kUser, user, frame_json, {});
}

// ---------------------------------------------------------------- recovery

uint64_t EngineCore::begin_hold(Connection& c, StreamKind kind, std::string_view name) {
  if (!c.holds) c.holds = std::make_unique<std::vector<StreamHold>>();
  StreamHold h;
  h.kind = kind;
  h.name.assign(name);
  h.id = ++next_hold_id_;
  c.holds->push_back(std::move(h));
  return c.holds->back().id;
}

void EngineCore::end_hold(Connection& c, StreamKind kind, std::string_view name, uint64_t floor) {
  StreamHold* h = c.find_hold(kind, name);
  if (!h) return;
  auto frames = std::move(h->frames);
  StreamState* st = find_stream(kind, name);
  // Keep skipping what the replay covered until the stream gets past it.
  bool keep = floor > 0 && st && st->seq.last() < floor;
  if (keep) {
    h->holding = false;
    h->floor = floor;
    h->frames.clear();
    h->bytes = 0;
  } else {
    c.holds->erase(c.holds->begin() + (h - c.holds->data()));
    if (c.holds->empty()) c.holds.reset();
  }
  metrics::FrameKind fk = frame_kind(kind);
  for (auto& [offset, frame] : frames)
    if (offset == 0 || offset > floor) enqueue(c, frame, fk);
}

bool EngineCore::answer_pending(const PositionAnswer& answer) const {
  return answer.token == 0 || pending_joins_.count(answer.token) != 0;
}

bool EngineCore::send_answer(Connection& c, const PositionAnswer& answer, std::string text) {
  if (answer.token != 0) {
    if (!pending_joins_.count(answer.token)) return false;
    finish_join(answer.token, true, false, std::move(text));
    return true;
  }
  enqueue(c, make_text_frame(text), metrics::FrameKind::kAck);
  return true;
}

void EngineCore::answer_position(StreamKind kind, std::string_view name, ConnId conn, PositionAnswer answer,
                                 bool has_since, std::string since_epoch, uint64_t since, uint64_t hold_id) {
  Connection* c = conns_.find(conn);
  if (!c) return;
  StreamState* st = find_stream(kind, name);
  if (!st || !st->seq.known()) {
    // The stream is not followed any more (the member left), or its
    // position could not be read.
    if (has_since) end_hold(*c, kind, name, 0);
    if (answer.token != 0) return finish_join(answer.token, false, false);
    std::string id = answer.token == 0 ? answer.id_json : std::string();
    if (!id.empty() || has_since)
      send_error(*c, ErrorCode::kUnavailable, "the history could not be reached", id);
    return;
  }
  if (!has_since) {
    if (answer.token == 0 && answer.id_json.empty() && std::string_view(answer.type) == "joined") return;
    send_answer(*c, answer,
                protocol::encode_position(answer.id_json, answer.type, answer.room, -1, st->seq.epoch(),
                                          st->seq.last()));
    return;
  }
  history_->read_since(
      kind, name, since_epoch, since,
      [this, kind, key = std::string(name), conn, answer = std::move(answer), since, hold_id](HistoryRead r) {
        guarded(stats_.internal_errors, "recovery answer",
                [&] { finish_recovery(kind, key, conn, answer, since, hold_id, r); });
      });
}

void EngineCore::finish_recovery(StreamKind kind, std::string_view name, ConnId conn,
                                 const PositionAnswer& answer, uint64_t since, uint64_t hold_id,
                                 const HistoryRead& r) {
  Connection* c = conns_.find(conn);
  if (!c) return;
  StreamHold* h = c->find_hold(kind, name);
  if (!h || h->id != hold_id || !h->holding) return;  // ended meanwhile (join timed out, member left)
  if (!answer_pending(answer)) return end_hold(*c, kind, name, 0);
  for_connection(*c, "recovery", [&] {
    StreamState* st = find_stream(kind, name);
    std::string epoch = st && st->seq.known() ? st->seq.epoch() : r.epoch;
    uint64_t last = st && st->seq.known() ? st->seq.last() : r.top;
    uint64_t first_held = 0;
    for (auto& [offset, frame] : h->frames)
      if (offset != 0) {
        first_held = offset;
        break;
      }
    // Complete, in the epoch this node follows, and no hole between the
    // replay's end and the first frame held.
    bool recovered = r.ok && r.complete && st && st->seq.known() && r.epoch == epoch &&
                     (first_held == 0 || first_held <= r.top + 1);
    if (!recovered) {
      stats_.history_recovery_failures.add();
      uint64_t at = first_held ? first_held - 1 : last;
      send_answer(*c, answer,
                  protocol::encode_position(answer.id_json, answer.type, answer.room, 0, epoch, at));
      return end_hold(*c, kind, name, 0);
    }
    stats_.history_recoveries.add();
    metrics::FrameKind fk = frame_kind(kind);
    for (const HistoryEntry& e : r.entries)
      if (e.offset > since) enqueue(*c, make_text_frame(e.frame), fk);
    // The answer marks the seam: everything up to floor came before it
    // (delivered earlier or just replayed), every held frame after it is
    // above floor. Not the stream's newest offset seen here (last): a frame
    // the sequencer passed while the read was on its way is still held for
    // this connection and follows the answer.
    uint64_t floor = std::max(r.top, since);
    send_answer(*c, answer,
                protocol::encode_position(answer.id_json, answer.type, answer.room, 1, epoch, floor));
    end_hold(*c, kind, name, floor);
  });
}

void EngineCore::history_join(Connection& c, const protocol::ClientMessage& m,
                              std::function<void(Backplane::Done)> when_ready) {
  PositionAnswer answer;
  answer.type = "joined";
  answer.room = m.room;
  answer.id_json = m.id_json;
  if (!m.id_json.empty()) {
    answer.token = ++next_join_token_;
    pending_joins_.emplace(answer.token,
                           PendingJoin{c.id, std::string(m.id_json), m.has_since ? m.room : ""});
  }
  uint64_t hold_id = m.has_since ? begin_hold(c, StreamKind::kRoom, m.room) : 0;
  uint64_t token = answer.token;
  when_ready([this, conn = c.id, room = m.room, answer = std::move(answer), has_since = m.has_since,
              epoch = m.since_epoch, since = m.since_offset, hold_id](bool ok) mutable {
    Connection* c = conns_.find(conn);
    if (!c) return;
    if (!ok) {
      if (has_since) end_hold(*c, StreamKind::kRoom, room, 0);
      if (answer.token) finish_join(answer.token, false, false);
      return;
    }
    when_stream_known(StreamKind::kRoom, room,
                      [this, conn, room, answer = std::move(answer), has_since, epoch = std::move(epoch),
                       since, hold_id](bool) mutable {
                        answer_position(StreamKind::kRoom, room, conn, std::move(answer), has_since,
                                        std::move(epoch), since, hold_id);
                      });
  });
  if (token == 0 || config_.join_timeout_ms == 0 || !pending_joins_.count(token)) return;
  join_deadlines_.emplace_back(uv_now(loop_) + config_.join_timeout_ms, token);
  if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&join_timer_))) arm_join_timer();
}

void EngineCore::handle_resume_direct(Connection& c, const protocol::ClientMessage& m) {
  if (m.has_since && c.find_hold(StreamKind::kUser, c.user_id))
    return send_error(c, ErrorCode::kInvalidField, "a resume_direct is already in progress", m.id_json);
  PositionAnswer answer;
  answer.type = "resumed";
  answer.id_json = m.id_json;
  uint64_t hold_id = m.has_since ? begin_hold(c, StreamKind::kUser, c.user_id) : 0;
  when_stream_known(StreamKind::kUser, c.user_id,
                    [this, conn = c.id, user = c.user_id, answer = std::move(answer), has_since = m.has_since,
                     epoch = m.since_epoch, since = m.since_offset, hold_id](bool) mutable {
                      answer_position(StreamKind::kUser, user, conn, std::move(answer), has_since,
                                      std::move(epoch), since, hold_id);
                    });
}

void EngineCore::handle_history(Connection& c, const protocol::ClientMessage& m) {
  if (!hub_.is_member(m.room, c.id))
    return send_error(c, ErrorCode::kForbidden, "join the room to read its history", m.id_json);
  history_read(m.room, m.limit, m.before, [this, conn = c.id, id = m.id_json, room = m.room](HistoryRead r) {
    Connection* c = conns_.find(conn);
    if (!c) return;
    for_connection(*c, "history answer", [&] {
      if (!r.ok) return send_error(*c, ErrorCode::kUnavailable, "the history could not be reached", id);
      // The answer must fit the connection's send queue: the newest
      // messages that fit, within half of it.
      size_t budget = config_.max_send_queue_bytes / 2, used = 0, first = r.entries.size();
      while (first > 0 && used + r.entries[first - 1].frame.size() + 1 <= budget)
        used += r.entries[--first].frame.size() + 1;
      std::vector<std::string_view> frames;
      frames.reserve(r.entries.size() - first);
      for (size_t i = first; i < r.entries.size(); ++i) frames.push_back(r.entries[i].frame);
      enqueue(*c, make_text_frame(protocol::encode_history_answer(id, room, r.epoch, frames)));
    });
  });
}

void EngineCore::history_read(std::string_view room, uint64_t limit, uint64_t before, History::ReadFn fn) {
  if (!history_) return fn(HistoryRead{});
  uint64_t n = limit ? limit : kDefaultHistoryRead;
  n = std::min<uint64_t>({n, kMaxHistoryRead, config_.history_size});
  history_->read_latest(StreamKind::kRoom, room, static_cast<uint32_t>(n), before, std::move(fn));
}

}  // namespace rtcore
