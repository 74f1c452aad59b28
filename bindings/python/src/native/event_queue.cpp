#include "event_queue.hpp"

#include <cstdint>

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace rtcore_py {

EventQueue::EventQueue() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

EventQueue::~EventQueue() { close(fd_); }

void EventQueue::push(Event&& event) { push_bounded(std::move(event), SIZE_MAX); }

bool EventQueue::push_bounded(Event&& event, size_t max_bytes) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (event.kind == EventKind::kMessage) {
      if (message_bytes_ >= max_bytes) return false;
      message_bytes_ += event.b.size();
    }
    events_.push_back(std::move(event));
    if (!signalled_) signalled_ = wake = true;
  }
  if (wake) {
    uint64_t one = 1;
    // EAGAIN would need 2^64-1 pending writes; nothing else can fail here.
    ssize_t n = write(fd_, &one, sizeof one);
    (void)n;
  }
  return true;
}

std::vector<Event> EventQueue::take() {
  // Read before swapping: an event pushed in between is in this batch and
  // its producer saw signalled_ still set, so no wake-up is lost or stale.
  uint64_t count;
  ssize_t n = read(fd_, &count, sizeof count);
  (void)n;
  std::vector<Event> batch;
  std::lock_guard<std::mutex> lock(mutex_);
  batch.swap(events_);
  message_bytes_ = 0;
  signalled_ = false;
  return batch;
}

}  // namespace rtcore_py
