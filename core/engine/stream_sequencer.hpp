// Keeps one stream's live messages on this node gap-free and in offset order
// (docs/protocol.md section 8, "gap detection"). Pure: no I/O. The engine
// feeds it what the backplane delivers (on_live), the stream's position
// read when the node starts following the stream (on_position), and the
// history reads it asked for (on_fill); the sequencer answers with Actions:
// frames to deliver to local members, in order, whether to tell them that
// continuity was lost (`gap`), and whether to read the history.
//
// Rules:
// - A message with the next offset is delivered at once; older ones
//   (offset <= last) are duplicates and dropped.
// - A message past a hole is held; the hole is filled from the history
//   (read_since(epoch, last)). What the history cannot give back (trimmed,
//   expired, unavailable) is a gap: local members are told, and delivery
//   goes on from the held messages.
// - A message of another epoch means the stream's history was lost: a gap;
//   the sequencer follows the new epoch from there.
// - Held messages are bounded (kMaxHeld); past that the hole is declared a
//   gap rather than holding more.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "buffer/frame.hpp"
#include "history/history.hpp"

namespace rtcore {

class StreamSequencer {
 public:
  // Held messages beyond which a hole is given up as a gap.
  static constexpr size_t kMaxHeld = 4096;

  struct Item {
    uint64_t offset;
    FramePtr frame;
  };
  struct Actions {
    std::vector<Item> deliver;   // to local members, in this order
    bool gap = false;            // continuity lost: tell local members
    bool read_position = false;  // read the stream's position (read_latest limit 0)
    bool read_since = false;     // read the history after read_after in epoch()
    uint64_t read_after = 0;
    uint64_t read_id = 0;  // pass back to on_position / on_fill
  };

  // Starts following the stream: the engine reads its position.
  void start(Actions& a);
  // The answer to read_position. Answers to reads that were superseded
  // (read_id not the latest) are ignored.
  void on_position(uint64_t read_id, const HistoryRead& r, Actions& a);
  // A message from the backplane.
  void on_live(std::string_view epoch, uint64_t offset, FramePtr frame, Actions& a);
  // The answer to read_since (for read_after).
  void on_fill(uint64_t read_id, const HistoryRead& r, Actions& a);
  // The stream's subscription was (re)established: what was published
  // meanwhile may be missing, so catch up from the history.
  void on_resubscribed(Actions& a);

  // The epoch and the last offset delivered, once known.
  bool known() const { return known_; }
  const std::string& epoch() const { return epoch_; }
  uint64_t last() const { return last_; }
  bool reading() const { return reading_ != Read::kNone; }
  size_t held() const { return held_.size(); }

 private:
  enum class Read { kNone, kPosition, kSince };
  void drain(Actions& a);
  void give_up(Actions& a);
  void read(Read what, Actions& a);

  void deliver(uint64_t offset, FramePtr frame, Actions& a);

  bool known_ = false;
  uint64_t read_id_ = 0;
  std::string epoch_;
  uint64_t last_ = 0;
  Read reading_ = Read::kNone;
  bool reread_ = false;  // resubscribed while a read was in flight
  int fill_attempts_ = 0;
  std::map<uint64_t, FramePtr> held_;  // offset > last_ + 1, or anything while unknown
  std::string held_epoch_;             // epoch of held_ while unknown
};

}  // namespace rtcore
