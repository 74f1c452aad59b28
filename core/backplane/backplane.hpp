// The backplane carries messages and presence between the nodes of a
// cluster. Implementations: in-process (one node; the default) and Redis.
//
// Guarantees (all implementations): at most once delivery to each node,
// per-publisher order per channel. The engine delivers a message to its own
// local recipients itself; the backplane only reaches the *other* nodes, and
// never hands a node its own publication.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "buffer/frame.hpp"
#include "history/history.hpp"
#include "presence/presence.hpp"

namespace rtcore {

// What a backplane reports back to its engine (on the engine thread),
// presence transitions included (PresenceSink).
class BackplaneSink : public PresenceSink {
 public:
  // A frame published by another node to a room or user channel.
  virtual void deliver_to_room(std::string_view room, FramePtr frame) = 0;
  virtual void deliver_to_user(std::string_view user, FramePtr frame) = 0;
  // A message of a stream with history (history/history.hpp), published by
  // any node, this one included, in the order the history assigned offsets
  // (as far as the transport kept it: gaps are the engine's to detect). The
  // frame already carries "offset": offset.
  virtual void deliver_stream(StreamKind kind, std::string_view name, FramePtr frame, std::string_view epoch,
                              uint64_t offset) = 0;
  // The channel of stream (kind, name) is subscribed: called when Redis
  // confirms it the first time and again after every reconnection of the
  // subscription link, since what was published in between may have been
  // missed. Only for streams this node wants (room_interest/user_interest)
  // and only when history is on. The in-process backplane never calls it.
  virtual void stream_subscribed(StreamKind /*kind*/, std::string_view /*name*/) {}
};

// Whether the backplane lets this node do its job (GET /readyz).
struct Readiness {
  bool ready = true;
  std::string reason;  // when not ready: short, for operators
};

class Backplane {
 public:
  // Called once: ok when the action holds cluster-wide (for acks, PROTOCOL
  // section 2), !ok when it was dropped (e.g. the outage buffer was full).
  // Empty when nobody waits.
  using Done = std::function<void(bool ok)>;

  virtual ~Backplane() = default;

  // Human-readable kind for logs and the ready line ("in-process", "redis").
  virtual std::string_view kind() const = 0;
  // Starts connecting (if there is anything to connect to).
  virtual void start() {}

  // Local interest: this node has (or no longer has) members of a room /
  // connections of a user, so it needs (or not) other nodes' traffic.
  virtual void room_interest(std::string_view room, bool wanted) = 0;
  virtual void user_interest(std::string_view user, bool wanted) = 0;
  // done fires once other nodes' publications to room reach this node.
  virtual void when_room_ready(std::string_view room, Done done) = 0;

  // Sends frame to the other nodes' members of room / connections of user.
  // done fires once it has been handed to every node.
  virtual void publish_to_room(std::string_view room, const FramePtr& frame, Done done) = 0;
  virtual void publish_to_user(std::string_view user, const FramePtr& frame, Done done) = 0;

  // The user's first / last connection on this node; the backplane's
  // presence (presence/) decides whether that is a cluster-wide transition
  // and reports it to the sink.
  virtual void local_user_online(std::string_view user) = 0;
  virtual void local_user_offline(std::string_view user) = 0;
  // Room presence and the presence queries (presence/presence.hpp).
  virtual Presence& presence() = 0;
  // The streams' history and offsets (history/history.hpp); null when
  // history is off. Messages appended there are published by it: do not
  // also publish_to_room/publish_to_user them.
  virtual History* history() { return nullptr; }

  // This node has (or no longer has) connections subscribed to room's
  // user_joined / user_left events, so it needs (or not) the cluster's
  // room presence transitions for room (PresenceSink::room_presence_changed).
  virtual void room_presence_interest(std::string_view room, bool wanted) = 0;
  // done fires once the cluster's transitions for room reach this node.
  virtual void when_room_presence_ready(std::string_view room, Done done) = 0;

  // Sends what this loop turn published now, before the engine writes to
  // its local clients, so other nodes start their fan-out in parallel
  // instead of after ours.
  virtual void flush_publishes() {}

  // Releases every resource; no sink call happens after it returns.
  virtual void shutdown() = 0;

  // Connected, subscribed, and this node's own publications make it
  // through (Redis: a recent self-probe round trip). The in-process
  // backplane is always ready.
  virtual Readiness readiness() const { return {}; }

  // Each round trip of the backplane's self-probe, in seconds (Redis only),
  // on the engine thread. Set by the engine if it wants them; may be empty.
  std::function<void(double seconds)> on_round_trip;
  // The last round trip, seconds; 0 before the first.
  double last_round_trip_s() const { return last_round_trip_s_; }

 protected:
  void record_round_trip(double seconds) {
    last_round_trip_s_ = seconds;
    if (on_round_trip) on_round_trip(seconds);
  }

 private:
  double last_round_trip_s_ = 0;
};

}  // namespace rtcore
