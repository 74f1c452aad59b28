// History: every room, and every user's direct messages, is a stream with an
// epoch and gap-free offsets 1, 2, 3, ... assigned once per message for the
// whole cluster (docs/protocol.md section 8). Implementations side by side,
// as for the backplane: in-process (history/in_process_history.hpp, one
// node) and Redis (history/redis_history.hpp, where the offset counter, the
// bounded stream, its expiry and the publish to the stream's channel change
// in one script, so a message is in the history if and only if it was
// published).
//
// Delivery always goes through the backplane's sink: append() does not hand
// the frame back; the backend delivers it (in-process: synchronously, before
// append returns; Redis: through the subscription of every node that has
// members, this one included) with BackplaneSink::deliver_stream. That gives
// each node a single ordered source per stream, which the engine checks for
// gaps (engine/stream_tracker.hpp).
//
// Everything runs on the engine thread; callbacks run there too, exactly
// once each (with ok false when the backend cannot answer, e.g. Redis down
// or shut down).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace rtcore {

enum class StreamKind : uint8_t { kRoom, kUser };

// Bounds applied by every backend.
struct HistoryLimits {
  uint32_t size = 0;     // messages kept per stream (> 0 when history is on)
  uint32_t ttl_s = 300;  // each message lives this long; so does a stream without a new message
};

struct HistoryEntry {
  uint64_t offset = 0;
  std::string frame;  // the JSON text of the stored frame, offset included
};

struct HistoryRead {
  bool ok = false;    // the backend answered (false: unavailable)
  std::string epoch;  // the stream's current epoch (created by the read if the stream had none)
  uint64_t top = 0;   // the stream's current offset (0: nothing published in this epoch)
  // read_since only: the epoch asked for is the current one and every
  // offset in (since, top] is in entries. False when the epoch differs, an
  // offset in the range was trimmed or expired, or since > top.
  bool complete = false;
  std::vector<HistoryEntry> entries;  // ascending offsets, no duplicates
};

class History {
 public:
  // ok: stored and published (delivery follows through the sink); offset is
  // the message's offset. !ok: neither (nothing was delivered anywhere).
  using AppendDone = std::function<void(bool ok, uint64_t offset)>;
  using ReadFn = std::function<void(HistoryRead)>;

  virtual ~History() = default;

  // Appends one message to stream (kind, name). frame_prefix is the frame's
  // JSON text up to and including `"offset":`; the backend assigns the next
  // offset N and the stored and delivered frame is frame_prefix + N + "}".
  // sent_ms: when the engine accepted the message (Unix ms), for the
  // delivery-age histogram on receiving nodes.
  virtual void append(StreamKind kind, std::string_view name, std::string frame_prefix, uint64_t sent_ms,
                      AppendDone done) = 0;

  // Every stored message with offset > since, in (since, top], for a
  // client recovering from (epoch, since). complete says whether that is
  // all of them (see HistoryRead). At most limits.size entries.
  virtual void read_since(StreamKind kind, std::string_view name, std::string_view epoch, uint64_t since,
                          ReadFn fn) = 0;

  // The newest `limit` stored messages with offset < before (before 0: no
  // bound), oldest first. limit 0: no entries, only epoch and top (the
  // stream's position).
  virtual void read_latest(StreamKind kind, std::string_view name, uint32_t limit, uint64_t before,
                           ReadFn fn) = 0;
};

}  // namespace rtcore
