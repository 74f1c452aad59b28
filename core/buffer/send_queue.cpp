#include "buffer/send_queue.hpp"

#include <algorithm>
#include <cstring>

namespace rtcore {
namespace {

// A drained queue keeps at most this many slots of capacity: a burst's
// worth, without pinning memory on every connection that ever had one.
constexpr size_t kKeptCapacity = 64;

}  // namespace

size_t SendQueue::next_copy_size(size_t budget) const {
  if (empty()) return 0;
  return std::max(budget, frames_[head_]->size());
}

size_t SendQueue::take_into(unsigned char* out, size_t budget) {
  size_t used = 0;
  while (head_ < frames_.size()) {
    const Frame& f = *frames_[head_];
    if (used != 0 && used + f.size() > budget) break;
    std::memcpy(out + used, f.data(), f.size());
    used += f.size();
    bytes_ -= f.size();
    frames_[head_++] = FramePtr();
  }
  if (head_ == frames_.size()) {
    clear();
  } else if (head_ >= kKeptCapacity && head_ * 2 >= frames_.size()) {
    // A queue that never drains completely: drop the taken slots so the
    // vector stays proportional to what is queued.
    frames_.erase(frames_.begin(), frames_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  return used;
}

void SendQueue::clear() {
  frames_.clear();
  if (frames_.capacity() > kKeptCapacity) std::vector<FramePtr>().swap(frames_);
  head_ = 0;
  bytes_ = 0;
}

}  // namespace rtcore
