// The queue under rtc_engine_create_queued: the engine thread appends copied
// events under a short mutex and makes an eventfd readable when the queue
// goes from empty to non-empty; the host's thread takes the whole queue in
// one swap (rtc_events_take). Client messages are bounded in bytes.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "rtcore.h"

namespace rtcore_capi {

// One event and the storage its public view points into. Built on the
// engine thread, then never moved (held by unique_ptr), so the pointers in
// view stay valid until the batch holding it is freed.
struct QueuedEvent {
  rtc_event view{};
  std::string user_id, a, b, c;
  std::vector<std::pair<std::string, std::string>> header_text;
  std::vector<rtc_header> headers;
  std::vector<std::string> item_text;
  std::vector<rtc_text> items;
  std::vector<int32_t> online;
  std::vector<uint64_t> offsets;

  explicit QueuedEvent(int32_t kind) {
    view.struct_size = sizeof view;
    view.kind = kind;
  }
  // Points view at the strings and lists; call once they are filled.
  void seal();
};

using EventPtr = std::unique_ptr<QueuedEvent>;

class EventQueue {
 public:
  // Throws std::system_error when no eventfd can be made.
  EventQueue(uint32_t events, uint64_t max_message_bytes);
  ~EventQueue();
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  int fd() const { return fd_; }
  uint32_t configured() const { return configured_; }
  // The bits queued now (configured ones narrowed by select()).
  bool wants(uint32_t bit) const { return (selected_.load(std::memory_order_relaxed) & bit) != 0; }
  void select(uint32_t bits) { selected_.store(configured_ & bits, std::memory_order_relaxed); }
  bool wants_type(std::string_view type);
  void set_types(std::unordered_set<std::string> types, bool all);

  // Engine thread (or a query's thread): never blocks but on the mutex.
  void push(EventPtr event);
  // A client message: false (nothing queued) while the messages already
  // waiting hold max_message_bytes or more.
  bool push_message(EventPtr event);
  // The host's thread: clears the eventfd and returns everything queued.
  std::vector<EventPtr> take();

 private:
  bool push_bounded(EventPtr event, bool bounded);

  int fd_;
  const uint32_t configured_;
  std::atomic<uint32_t> selected_;
  const uint64_t max_message_bytes_;
  std::mutex mu_;
  std::vector<EventPtr> events_;
  bool signalled_ = false;      // an eventfd write is pending since the last take
  uint64_t message_bytes_ = 0;  // JSON bytes of the queued messages
  std::mutex types_mu_;
  std::unordered_set<std::string> types_;
  bool all_types_ = true;
};

}  // namespace rtcore_capi
