#include "buffer/send_queue.hpp"

#include <algorithm>
#include <cstring>

namespace rtcore {

size_t SendQueue::next_copy_size(size_t budget) const {
  if (frames_.empty()) return 0;
  return std::max(budget, frames_.front()->size());
}

size_t SendQueue::take_into(unsigned char* out, size_t budget) {
  size_t used = 0;
  while (!frames_.empty()) {
    const Frame& f = *frames_.front();
    if (used != 0 && used + f.size() > budget) break;
    std::memcpy(out + used, f.data(), f.size());
    used += f.size();
    bytes_ -= f.size();
    frames_.pop_front();
  }
  return used;
}

}  // namespace rtcore
