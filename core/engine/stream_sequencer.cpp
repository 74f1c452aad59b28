#include "engine/stream_sequencer.hpp"

#include <utility>

namespace rtcore {

void StreamSequencer::start(Actions& a) {
  read(Read::kPosition, a);
}

void StreamSequencer::read(Read what, Actions& a) {
  reading_ = what;
  a.read_id = ++read_id_;
  if (what == Read::kPosition) {
    a.read_position = true;
  } else {
    a.read_since = true;
    a.read_after = last_;
  }
}

void StreamSequencer::deliver(uint64_t offset, FramePtr frame, Actions& a) {
  last_ = offset;
  a.deliver.push_back({offset, std::move(frame)});
}

void StreamSequencer::drain(Actions& a) {
  while (!held_.empty()) {
    auto it = held_.begin();
    if (it->first <= last_) {
      held_.erase(it);
    } else if (it->first == last_ + 1) {
      deliver(it->first, std::move(it->second), a);
      held_.erase(it);
    } else {
      break;
    }
  }
  if (held_.empty()) {
    fill_attempts_ = 0;
  } else if (reading_ == Read::kNone) {
    read(Read::kSince, a);  // a hole before the held messages
  }
}

void StreamSequencer::give_up(Actions& a) {
  a.gap = true;
  for (auto& [offset, frame] : held_)
    if (offset > last_) deliver(offset, std::move(frame), a);
  held_.clear();
  fill_attempts_ = 0;
}

void StreamSequencer::on_position(uint64_t read_id, const HistoryRead& r, Actions& a) {
  if (read_id != read_id_ || reading_ != Read::kPosition) return;
  reading_ = Read::kNone;
  if (r.ok) {
    known_ = true;
    epoch_ = r.epoch;
    last_ = r.top;
    // Held messages of another epoch predate a reset the read already saw.
    if (held_epoch_ != epoch_) held_.clear();
    drain(a);
  } else if (!held_.empty()) {
    // No position, but the stream is flowing: follow it from what came.
    known_ = true;
    epoch_ = held_epoch_;
    last_ = held_.begin()->first - 1;
    drain(a);
  }
  if (reread_ && reading_ == Read::kNone) {
    reread_ = false;
    read(known_ ? Read::kSince : Read::kPosition, a);
  }
}

void StreamSequencer::on_live(std::string_view epoch, uint64_t offset, FramePtr frame, Actions& a) {
  if (offset == 0) return;
  if (!known_) {
    if (reading_ == Read::kPosition) {
      if (held_.empty() || epoch != held_epoch_) {
        held_.clear();
        held_epoch_.assign(epoch);
      }
      held_.emplace(offset, std::move(frame));
      if (held_.size() > kMaxHeld) {
        // The position never came back: follow from what was held.
        known_ = true;
        epoch_ = held_epoch_;
        last_ = held_.begin()->first - 1;
        reading_ = Read::kNone;
        ++read_id_;
        drain(a);
      }
      return;
    }
    // The position read failed: follow the stream from this message.
    known_ = true;
    epoch_.assign(epoch);
    last_ = offset - 1;
  }
  if (epoch != epoch_) {
    // The stream's history was lost (e.g. Redis restarted empty): what this
    // node's members had cannot be continued.
    a.gap = true;
    epoch_.assign(epoch);
    last_ = 0;
    held_.clear();
    fill_attempts_ = 0;
    if (reading_ == Read::kSince) {
      reading_ = Read::kNone;
      ++read_id_;  // its answer concerns the old epoch
    }
  }
  if (offset <= last_) return;  // a duplicate
  if (offset == last_ + 1 && held_.empty() && reading_ == Read::kNone)
    return deliver(offset, std::move(frame), a);
  held_.emplace(offset, std::move(frame));
  if (held_.size() > kMaxHeld) return give_up(a);
  if (reading_ == Read::kNone) drain(a);
}

void StreamSequencer::on_fill(uint64_t read_id, const HistoryRead& r, Actions& a) {
  if (read_id != read_id_ || reading_ != Read::kSince) return;
  reading_ = Read::kNone;
  if (!r.ok) {
    give_up(a);
  } else if (r.epoch != epoch_) {
    // Reset while we read: deliver what was held, then follow the new epoch.
    give_up(a);
    epoch_ = r.epoch;
    last_ = r.top;
  } else {
    for (const HistoryEntry& e : r.entries) {
      if (e.offset <= last_) continue;
      if (e.offset != last_ + 1) a.gap = true;  // trimmed or expired before it
      auto held = held_.find(e.offset);
      if (held != held_.end()) {
        deliver(e.offset, std::move(held->second), a);
        held_.erase(held);
      } else {
        deliver(e.offset, make_text_frame(e.frame), a);
      }
    }
    if (!r.complete && r.top > last_) {
      // What is left of (last, top] is gone from the history: a gap.
      a.gap = true;
      last_ = r.top;
    }
    bool hole = !held_.empty() && held_.begin()->first > last_ + 1;
    if (hole && (!r.complete || ++fill_attempts_ >= 3))
      give_up(a);
    else
      drain(a);
  }
  if (reread_ && reading_ == Read::kNone) {
    reread_ = false;
    read(Read::kSince, a);
  }
}

void StreamSequencer::on_resubscribed(Actions& a) {
  if (reading_ != Read::kNone) {
    reread_ = true;
    return;
  }
  read(known_ ? Read::kSince : Read::kPosition, a);
}

}  // namespace rtcore
