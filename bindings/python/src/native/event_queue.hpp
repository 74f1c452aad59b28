// Hands engine events to Python without the GIL: the engine thread appends
// to a mutex-guarded vector and signals an eventfd only when the vector goes
// from empty to non-empty; the asyncio loop watches the eventfd
// (loop.add_reader) and takes the whole batch in one swap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace rtcore_py {

// kAnswer: the answer to rtc_room_members / rtc_users_online (id = the
// caller's token, number = status, request = truncated). kHistory: the
// answer to rtc_history_read (id = token, number = status, a = epoch,
// request = top, users = the stored frames, oldest first).
enum class EventKind : int {
  kConnect = 0,
  kOpen = 1,
  kDisconnect = 2,
  kMessage = 3,
  kPresence = 4,
  kAuthorize = 5,
  kLog = 6,
  kAnswer = 7,
  kHistory = 8,
};

// One engine event, copied out of the borrowed handler arguments. Fields
// unused by a kind stay empty.
struct Event {
  EventKind kind;
  uint64_t id = 0;       // connection id, or request id for kConnect
  uint64_t request = 0;  // request id for kAuthorize
  int64_t number = 0;    // close code (kDisconnect), presence status, RTC_ACTION_* (kAuthorize), RTC_LOG_* (kLog)
  std::string user_id;   // user id | fields JSON (kLog)
  std::string a;         // path | message type | timestamp | target (kAuthorize) | event (kLog)
  std::string b;         // query | message JSON | message (kLog)
  std::string id_json;   // kMessage: the request's id as JSON, "" if none
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::string> users;  // kAnswer | the frames (kHistory)
  std::vector<uint8_t> flags;      // kAnswer of users_online: online[i]
};

class EventQueue {
 public:
  EventQueue();   // throws std::system_error if no eventfd can be made
  ~EventQueue();
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  int fd() const { return fd_; }

  // Engine thread: never blocks on Python, only on the short mutex.
  void push(Event&& event);
  // Like push, for client messages: refused (false) while the client
  // messages already waiting for Python hold max_bytes or more, so a stalled
  // event loop cannot make a flood grow memory without bound.
  bool push_bounded(Event&& event, size_t max_bytes);

  // Python thread: clears the eventfd and returns every queued event.
  std::vector<Event> take();

 private:
  int fd_;
  std::mutex mutex_;
  std::vector<Event> events_;
  bool signalled_ = false;  // an eventfd write is pending since the last take
  size_t message_bytes_ = 0;  // payload bytes of queued kMessage events
};

}  // namespace rtcore_py
