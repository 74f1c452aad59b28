// Per-connection queue of frames waiting to be written, bounded in bytes by
// its owner. Frames are shared, so queueing a broadcast costs one pointer.
// An idle connection's queue owns no memory at all (a std::deque would hold
// a 512-byte block per connection).
#pragma once

#include <cstddef>
#include <vector>

#include "buffer/frame.hpp"

namespace rtcore {

class SendQueue {
 public:
  void push(FramePtr frame) {
    bytes_ += frame->size();
    frames_.push_back(std::move(frame));
  }
  bool empty() const { return head_ == frames_.size(); }
  size_t bytes() const { return bytes_; }
  size_t frames() const { return frames_.size() - head_; }

  // Copies whole frames, oldest first, into out while they fit in budget
  // (at least one frame, whatever its size, so big frames still go out),
  // removes them, and returns the bytes copied. out must hold
  // next_copy_size(budget) bytes.
  size_t take_into(unsigned char* out, size_t budget);
  // How many bytes take_into(out, budget) needs room for.
  size_t next_copy_size(size_t budget) const;

  void clear();

 private:
  // Frames [head_, size) are queued; taken ones are released at once and
  // the vector is reset when it drains, so it never grows without bound.
  std::vector<FramePtr> frames_;
  size_t head_ = 0;
  size_t bytes_ = 0;
};

}  // namespace rtcore
