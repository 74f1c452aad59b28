// Per-connection queue of frames waiting to be written, bounded in bytes by
// its owner. Frames are shared, so queueing a broadcast costs one pointer.
#pragma once

#include <cstddef>
#include <deque>

#include "buffer/frame.hpp"

namespace rtcore {

class SendQueue {
 public:
  void push(FramePtr frame) {
    bytes_ += frame->size();
    frames_.push_back(std::move(frame));
  }
  bool empty() const { return frames_.empty(); }
  size_t bytes() const { return bytes_; }
  size_t frames() const { return frames_.size(); }

  // Copies whole frames, oldest first, into out while they fit in budget
  // (at least one frame, whatever its size, so big frames still go out),
  // removes them, and returns the bytes copied. out must hold
  // max(budget, size of the first frame) bytes: see next_copy_size().
  size_t take_into(unsigned char* out, size_t budget);
  // How many bytes take_into(out, budget) needs room for.
  size_t next_copy_size(size_t budget) const;

  void clear() {
    frames_.clear();
    bytes_ = 0;
  }

 private:
  std::deque<FramePtr> frames_;
  size_t bytes_ = 0;
};

}  // namespace rtcore
