// Everything that runs on the engine thread: connections, routing of client
// messages, fan-out, presence, and the host hooks. Not thread-safe: only the
// engine thread (or the command queue) may call it.
#pragma once

#include <uv.h>

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "auth/jwt.hpp"
#include "backplane/backplane.hpp"
#include "common/guard.hpp"
#include "engine/connection.hpp"
#include "engine/engine_config.hpp"
#include "engine/stats.hpp"
#include "engine/stream_sequencer.hpp"
#include "hub/hub.hpp"
#include "hub/registry.hpp"
#include "metrics/labels.hpp"
#include "protocol/client_message.hpp"
#include "transport/ws_server.hpp"

namespace rtcore {

class EngineCore final : public TransportEvents, public BackplaneSink {
 public:
  EngineCore(uv_loop_t* loop, const EngineConfig& config, const EngineHooks& hooks, EngineStats& stats);
  ~EngineCore() override;

  // Creates the backplane and listens; returns the port or -1.
  int start();
  // The internal listener's port after start(); 0 without one.
  uint16_t internal_port() const { return server_ ? server_->internal_port() : 0; }
  // Closes every connection with 1001 after its queue, waits up to
  // timeout_ms, then tears the transport down; uv_run returns after that.
  void begin_stop(uint32_t timeout_ms, std::function<void()> on_quiet);

  // Server-side API (commands from any thread land here).
  void send_to_user(std::string_view user, const FramePtr& frame);
  void send_to_connection(ConnId conn, const FramePtr& frame);
  // A host's error frame: sent like any frame, counted as an error.
  void send_error_frame(ConnId conn, const FramePtr& frame);
  void broadcast(std::string_view room, const FramePtr& frame);
  // A `message` / `direct_message` frame (JSON text) from the host: like
  // broadcast / send_to_user, but with history on it gets an offset and is
  // kept (docs/protocol.md section 8).
  void broadcast_message(std::string_view room, std::string_view frame_json);
  void send_message_to_user(std::string_view user, std::string_view frame_json);
  // Host history read (docs/protocol.md section 8): the newest `limit`
  // stored messages of room with offset < before (0: no bound), oldest
  // first; fn runs once on the engine thread. limit 0: 50. Without history
  // fn gets ok false.
  void history_read(std::string_view room, uint64_t limit, uint64_t before, History::ReadFn fn);
  bool history_enabled() const { return history_ != nullptr; }
  void join(ConnId conn, std::string_view room);
  void leave(ConnId conn, std::string_view room);
  void disconnect(ConnId conn, uint16_t code);
  void disconnect_user(std::string_view user, uint16_t code);
  // Completes a deferred on_connect: accept registers the connection under
  // user_id (empty keeps the path's), refusal closes it with 4000 + status.
  void resolve_connect(uint64_t request_id, bool accept, int http_status, std::string user_id);
  // Completes a deferred authorization: the held message goes on, or is
  // answered with `forbidden`; the connection's later messages follow.
  void resolve_authorization(uint64_t request_id, bool allow);
  // Host queries (docs/protocol.md section 9): answered through the presence,
  // fn runs exactly once on the engine thread. limit 0: presence_limit.
  void room_members(std::string_view room, size_t limit, Presence::MembersFn fn);
  void users_online(const std::vector<std::string>& users, Presence::OnlineFn fn);
  // Hands an accepted socket and the bytes already read from it to the
  // transport (WsServer::adopt); owns fd from the call on. While stopping,
  // the upgrade is refused with 503 like any other.
  bool adopt_socket(int fd, std::string_view head);

  // TransportEvents
  UpgradeDecision on_upgrade(const UpgradeRequest& request) override;
  void* on_open(WsLink* link, UpgradeDecision accepted) override;
  void on_upgrade_abandoned(const UpgradeDecision& accepted) override;
  void on_receive(void* conn, const char* data, size_t len, bool first, bool final, bool binary,
                  size_t remaining) override;
  void on_writeable(void* conn) override;
  void on_peer_close(void* conn, uint16_t code) override;
  void on_closed(void* conn) override;
  std::string stats_json() override;
  // GET /metrics: the Prometheus text (metrics/render.hpp).
  std::string metrics_text() override;
  ReadyState readiness() override;
  void on_transport_refusal(int) override { stats_.rejected_upgrades.add(); }

  // BackplaneSink
  void deliver_to_room(std::string_view room, FramePtr frame) override;
  void deliver_to_user(std::string_view user, FramePtr frame) override;
  void deliver_stream(StreamKind kind, std::string_view name, FramePtr frame, std::string_view epoch,
                      uint64_t offset) override;
  void presence_changed(std::string_view user, bool online, std::string_view timestamp) override;
  void room_presence_changed(std::string_view room, std::string_view user, bool joined,
                             std::string_view timestamp) override;
  void stream_subscribed(StreamKind kind, std::string_view name) override;

 private:
  // --- history and recovery (engine_history.cpp) ---
  // What this node keeps per stream it follows (a room with local members,
  // a user with local connections): the sequencer, joins and resumes
  // waiting for the stream's position, and publishers' acks waiting for
  // their message to be delivered here.
  struct StreamState {
    StreamSequencer seq;
    std::vector<std::function<void(bool known)>> waiters;
    struct PendingAck {
      uint64_t offset;
      uint64_t since_ms;
      Backplane::Done done;
    };
    std::deque<PendingAck> acks;
  };
  // How a position answer is sent: for a join_room with id, through its
  // pending_joins_ token (exactly one answer); else acked with id_json,
  // or as a frame of type `type` ("joined", "resumed").
  struct PositionAnswer {
    uint64_t token = 0;
    std::string id_json;
    const char* type = "joined";
    std::string room;
  };
  using StreamMap = std::unordered_map<std::string, StreamState>;
  StreamMap& streams(StreamKind kind) { return kind == StreamKind::kRoom ? room_streams_ : user_streams_; }
  StreamState* find_stream(StreamKind kind, std::string_view name);
  void follow_stream(StreamKind kind, std::string_view name);
  void unfollow_stream(StreamKind kind, std::string_view name);
  void run_stream_actions(StreamKind kind, std::string_view name, StreamSequencer::Actions& a);
  void deliver_local_stream(StreamKind kind, std::string_view name, uint64_t offset, const FramePtr& frame);
  // True when c holds or skips this frame (a recovery in progress).
  bool hold_for_recovery(Connection& c, StreamKind kind, std::string_view name, uint64_t offset,
                         const FramePtr& frame);
  void send_gap(StreamKind kind, std::string_view name);
  void when_stream_known(StreamKind kind, std::string_view name, std::function<void(bool)> fn);
  void publish_message(StreamKind kind, std::string_view name, std::string_view frame_json,
                       Backplane::Done done);
  void ack_after_delivery(StreamKind kind, std::string_view name, uint64_t offset, Backplane::Done done);
  void release_acks(StreamState& st, bool all);
  void expire_stream_acks(uint64_t now);
  void history_join(Connection& c, const protocol::ClientMessage& m,
                    std::function<void(Backplane::Done)> when_ready);
  void handle_resume_direct(Connection& c, const protocol::ClientMessage& m);
  void handle_history(Connection& c, const protocol::ClientMessage& m);
  // Starts a recovery of (kind, name) for c: live frames are held from now.
  uint64_t begin_hold(Connection& c, StreamKind kind, std::string_view name);
  // Ends it: held frames with offset > floor go out; a floor above the
  // stream's position keeps skipping what the replay covered.
  void end_hold(Connection& c, StreamKind kind, std::string_view name, uint64_t floor);
  // The stream's position is known: answer it, or read the history after
  // `since` and answer with the replay.
  void answer_position(StreamKind kind, std::string_view name, ConnId conn, PositionAnswer answer,
                       bool has_since, std::string since_epoch, uint64_t since, uint64_t hold_id);
  void finish_recovery(StreamKind kind, std::string_view name, ConnId conn, const PositionAnswer& answer,
                       uint64_t since, uint64_t hold_id, const HistoryRead& r);
  // Sends text as the answer; false (nothing sent) when a join's answer was
  // already given (timed out).
  bool send_answer(Connection& c, const PositionAnswer& answer, std::string text);
  bool answer_pending(const PositionAnswer& answer) const;

  // preauthorized: the host already allowed this message (deferred
  // authorization); it skips the rate limit and the hook.
  void handle_message(Connection& c, std::string_view text, bool binary, bool preauthorized = false);
  // 0 if the upgrade may go on (user set), else the HTTP status refusing it.
  int check_upgrade(const UpgradeRequest& request, std::string& user);
  bool within_rate_limit(Connection& c);
  // Asks the host; false when the message must not go on now (refused, or
  // held for a deferred decision).
  bool authorize(Connection& c, const protocol::ClientMessage& m, std::string_view text);
  void release_held_messages(Connection& c);
  void handle_join(Connection& c, const protocol::ClientMessage& m);
  void handle_leave(Connection& c, const protocol::ClientMessage& m);
  // The one answer to a join_room id: the ack once the backplane confirms
  // the room (ok), else `unavailable`; later calls for token do nothing.
  void finish_join(uint64_t token, bool ok, bool timed_out, std::string answer = {});
  void arm_join_timer();
  static void on_join_timer(uv_timer_t* timer);
  void handle_room_message(Connection& c, const protocol::ClientMessage& m);
  void handle_direct_message(Connection& c, const protocol::ClientMessage& m);
  void handle_presence_query(Connection& c, const protocol::ClientMessage& m);
  void handle_online_query(Connection& c, const protocol::ClientMessage& m);
  // Subscribes c to (or off) room's user_joined / user_left; c is a member.
  void set_watching(Connection& c, std::string_view room, bool on);

  bool join_room(Connection& c, std::string_view room);
  // done (optional): the leave is in effect in the cluster (presence written).
  void leave_room(Connection& c, std::string_view room, Backplane::Done done = {});
  void deliver_local_room(std::string_view room, const FramePtr& frame,
                          metrics::FrameKind kind = metrics::FrameKind::kMessage);
  void deliver_local_user(std::string_view user, const FramePtr& frame,
                          metrics::FrameKind kind = metrics::FrameKind::kDirect);

  void enqueue(Connection& c, const FramePtr& frame, metrics::FrameKind kind = metrics::FrameKind::kHost);
  // Counts n undelivered frames, in drops and by reason.
  void count_drops(metrics::DropReason why, uint64_t n = 1) {
    stats_.drops.add(n);
    stats_.drops_by_reason[static_cast<size_t>(why)].add(n);
  }
  void send_error(Connection& c, protocol::ErrorCode code, std::string_view message,
                  std::string_view id_json);
  // A callback that acks id_json to conn if it still exists; empty if no id.
  Backplane::Done ack_later(ConnId conn, std::string_view id_json);
  void begin_close(Connection& c, uint16_t code, const char* reason, int deadline_s = 5);
  // Queued frames go out at the end of the loop turn (check phase): all the
  // frames a turn produced for a connection leave in one send(), and a
  // connection that can take them needs no writeable round trip through
  // lws and epoll (the cost that dominated paced fan-out).
  void mark_dirty(Connection& c);
  void flush_dirty();
  void write_queued(Connection& c);
  void request_writeable(Connection& c);
  // Once the queue is out: the close frame, then the socket is dropped.
  void finish_close(Connection& c);
  void update_gauges();
  // Makes an accepted connection visible: user index, hooks, presence.
  void register_connection(Connection& c);
  // The per-user limit counts registered connections plus upgrades
  // accepted for that user and not registered yet (reserved_): a deferred
  // decision takes time, and parallel upgrades must not all pass the check
  // meanwhile.
  size_t user_load(const std::string& user) const;
  bool user_limit_reached(const std::string& user) const;
  void reserve_user_slot(const std::string& user);
  void release_user_slot(const std::string& user);
  // The connection stops waiting for its decision (and its reservation).
  void end_pending(Connection& c);
  void apply_resolution(Connection& c, bool accept, int http_status, std::string user_id);
  static void on_stop_timer(uv_timer_t* timer);
  static void on_housekeeping(uv_timer_t* timer);
  void housekeeping();
  // Runs f, which concerns only c: if it throws, the exception is counted
  // (internal_errors) and only c is closed (1011), never the engine.
  template <class F>
  void for_connection(Connection& c, const char* where, F&& f) {
    if (!guarded(stats_.internal_errors, where, std::forward<F>(f))) fail_connection(c);
  }
  void fail_connection(Connection& c) noexcept;

  uv_loop_t* loop_;
  EngineConfig config_;
  auth::JwtPolicy jwt_policy_;
  const EngineHooks& hooks_;
  EngineStats& stats_;
  Registry<Connection> conns_;
  Hub hub_;
  // join_room acks waiting for the backplane (see handle_join). Declared
  // before backplane_ so they outlive it: its teardown may still answer.
  struct PendingJoin {
    ConnId conn;
    std::string id_json;
    std::string recovering_room;  // a join with since: its hold ends with the answer
  };
  std::unordered_map<uint64_t, PendingJoin> pending_joins_;   // token -> waiting ack
  std::deque<std::pair<uint64_t, uint64_t>> join_deadlines_;  // (when, token), in time order
  uint64_t next_join_token_ = 0;
  uv_timer_t join_timer_{};
  // Streams followed (history on); before backplane_ for the same reason.
  StreamMap room_streams_, user_streams_;
  uint64_t next_hold_id_ = 0;
  std::unique_ptr<Backplane> backplane_;
  History* history_ = nullptr;  // backplane_->history(): null when history is off
  // Coalescing buffer for writes, with lws's headroom in front.
  std::vector<unsigned char> write_buf_;
  bool stopping_ = false;
  // Deferred on_connect decisions: request id -> pending connection, and
  // decisions that arrived before their connection was established.
  struct Resolution {
    bool accept;
    int http_status;
    std::string user_id;
  };
  uint64_t next_request_id_ = 0;
  std::unordered_map<uint64_t, ConnId> pending_;
  std::unordered_map<uint64_t, ConnId> authz_pending_;  // request id -> connection
  std::unordered_map<uint64_t, Resolution> early_resolutions_;
  std::unordered_map<uint64_t, uint64_t> awaiting_open_;  // request id -> deadline (ms)
  std::unordered_map<std::string, uint32_t> reserved_;    // user -> accepted upgrades not registered yet
  uv_timer_t housekeeping_timer_{};
  std::vector<ConnId> dirty_;
  uint64_t dirty_since_ns_ = 0;
  uint64_t messages_this_turn_ = 0;  // client or backplane messages handled since the last check
  std::deque<std::pair<uint64_t, ConnId>> close_deadlines_;  // (when, connection), in time order
  uv_check_t flush_check_{};
  uv_idle_t flush_idle_{};  // keeps poll from blocking while dirty_ waits
  uv_timer_t stop_timer_{};
  uint64_t stop_deadline_ms_ = 0;
  std::function<void()> on_quiet_;
  // Declared last so it is destroyed first: its final teardown still calls
  // back into this object.
  std::unique_ptr<WsServer> server_;
};

}  // namespace rtcore
