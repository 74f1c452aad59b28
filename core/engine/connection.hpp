// One client connection as the engine sees it (engine thread only).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "buffer/send_queue.hpp"
#include "history/history.hpp"
#include "hub/conn_id.hpp"

namespace rtcore {

struct WsLink;

// A recovery in progress on one stream of a connection (docs/protocol.md
// section 8): while the history is read, live frames of the stream are held
// here (holding); once the replay is out, frames the replay already covered
// (offset <= floor) are skipped until the stream passes the floor.
struct StreamHold {
  StreamKind kind = StreamKind::kRoom;
  std::string name;
  uint64_t id = 0;  // tells a superseded read's answer apart
  bool holding = true;
  uint64_t floor = 0;
  std::vector<std::pair<uint64_t, FramePtr>> frames;  // (offset, frame), in arrival order
  size_t bytes = 0;
};

// A first-in first-out list that owns no memory while empty: a std::deque
// allocates about 550 bytes when it is constructed, which was a sixth of an
// idle connection's memory (BENCHMARKS.md, idle memory profile).
template <typename T>
class LazyFifo {
 public:
  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }
  template <typename... A>
  T& emplace_back(A&&... args) {
    return items_.emplace_back(std::forward<A>(args)...);
  }
  T& front() { return items_[head_]; }
  void pop_front() {
    if (++head_ == items_.size()) {
      items_.clear();
      items_.shrink_to_fit();
      head_ = 0;
    } else if (head_ >= 64 && head_ * 2 >= items_.size()) {
      // Taken items are moved-from; drop them so a list that never quite
      // empties does not grow without bound.
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }

 private:
  std::vector<T> items_;
  size_t head_ = 0;
};

struct Connection {
  ConnId id = 0;
  WsLink* link = nullptr;  // the transport's handle
  std::string user_id;
  // Rooms this connection joined; short, so a vector beats a set.
  std::vector<std::string> rooms;

  SendQueue queue;
  bool write_requested = false;  // the transport will call on_writeable
  bool dirty = false;            // queued this loop turn; flushed in the check phase

  // Reassembly of a fragmented or chunked client message.
  std::string rx;
  bool rx_in_message = false;
  bool rx_binary = false;

  // A message waiting for a deferred authorization, and the messages that
  // came after it (held so the connection's order is kept).
  uint64_t authz_request = 0;
  uint64_t authz_since_ms = 0;
  std::string authz_message;
  LazyFifo<std::pair<std::string, bool>> authz_held;
  size_t authz_held_bytes = 0;

  // Token bucket of the message rate limit, and recent violations (a
  // client that keeps flooding is closed with 1008).
  double rate_tokens = 0;
  uint64_t rate_refill_ms = 0;
  uint64_t violation_window_ms = 0;
  uint32_t violations = 0;
  uint64_t last_message_ms = 0;  // for the idle timeout

  // Non-zero once the server decided to close (sent after the queue).
  uint16_t close_code = 0;
  const char* close_reason = "";
  bool close_sent = false;  // our close frame is written
  bool killed = false;      // the socket is being dropped
  uint16_t peer_close_code = 0;

  // Waiting for a deferred on_connect decision: not registered yet, not
  // reading, invisible to the hub and the host.
  bool pending = false;
  // While pending, this connection counts toward user_id's connection
  // limit (EngineCore::reserved_), so a flood of deferred upgrades cannot
  // pass the limit before any of them is registered.
  bool reserved = false;
  uint64_t request_id = 0;
  uint64_t pending_since_ms = 0;
  // Messages that arrived while pending (lws may hold some already read).
  std::vector<std::string> held;

  // Recoveries in progress; null (no cost on the fan-out path) otherwise.
  std::unique_ptr<std::vector<StreamHold>> holds;
  StreamHold* find_hold(StreamKind kind, std::string_view name) {
    if (!holds) return nullptr;
    for (auto& h : *holds)
      if (h.kind == kind && h.name == name) return &h;
    return nullptr;
  }

  bool in_room(std::string_view room) const {
    for (const auto& r : rooms)
      if (r == room) return true;
    return false;
  }
};

}  // namespace rtcore
