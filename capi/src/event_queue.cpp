#include "event_queue.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace rtcore_capi {

void QueuedEvent::seal() {
  auto text = [](const std::string& s) { return rtc_text{s.empty() ? nullptr : s.data(), s.size()}; };
  view.user_id = text(user_id);
  view.a = text(a);
  view.b = text(b);
  view.c = text(c);
  headers.clear();
  headers.reserve(header_text.size());
  for (const auto& [name, value] : header_text)
    headers.push_back(rtc_header{name.data(), name.size(), value.data(), value.size()});
  view.headers = headers.empty() ? nullptr : headers.data();
  view.header_count = headers.size();
  items.clear();
  items.reserve(item_text.size());
  for (const auto& s : item_text) items.push_back(rtc_text{s.data(), s.size()});
  view.items = items.empty() ? nullptr : items.data();
  view.item_count = items.size();
  view.online = online.empty() ? nullptr : online.data();
  view.offsets = offsets.empty() ? nullptr : offsets.data();
}

EventQueue::EventQueue(uint32_t events, uint64_t max_message_bytes)
    : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      configured_(events),
      selected_(events),
      max_message_bytes_(max_message_bytes) {
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

EventQueue::~EventQueue() {
  close(fd_);
}

bool EventQueue::wants_type(std::string_view type) {
  std::lock_guard lock(types_mu_);
  return all_types_ || types_.count(std::string(type)) != 0;
}

void EventQueue::set_types(std::unordered_set<std::string> types, bool all) {
  std::lock_guard lock(types_mu_);
  types_ = std::move(types);
  all_types_ = all;
}

void EventQueue::push(EventPtr event) {
  push_bounded(std::move(event), false);
}

bool EventQueue::push_message(EventPtr event) {
  return push_bounded(std::move(event), true);
}

bool EventQueue::push_bounded(EventPtr event, bool bounded) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (bounded) {
      if (message_bytes_ >= max_message_bytes_) return false;
      message_bytes_ += event->b.size();
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

std::vector<EventPtr> EventQueue::take() {
  // Read before swapping: an event pushed in between is in this batch and
  // its producer saw signalled_ still set, so no wake-up is lost or stale.
  uint64_t count;
  ssize_t n = read(fd_, &count, sizeof count);
  (void)n;
  std::vector<EventPtr> batch;
  std::lock_guard lock(mu_);
  batch.swap(events_);
  message_bytes_ = 0;
  signalled_ = false;
  return batch;
}

}  // namespace rtcore_capi
