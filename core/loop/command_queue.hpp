// The only way other threads reach the engine thread: a mutex-guarded queue
// of closures plus a uv_async_t wake-up (uWebSockets' Loop::defer). The hot
// path never takes this lock: only calls from outside the loop do.
#pragma once

#include <uv.h>

#include <functional>
#include <mutex>
#include <vector>

#include "common/counter.hpp"

namespace rtcore {

class CommandQueue {
 public:
  using Command = std::function<void()>;

  // Binds the wake-up to loop; call on the loop thread before any push.
  // A command that throws is counted in errors (see common/guard.hpp) and
  // the rest of its batch still runs.
  int bind(uv_loop_t* loop, Counter& errors);
  // Closes the wake-up handle (loop thread). Pending commands are dropped.
  void close();

  // Any thread. False once closed (the command is not run).
  bool push(Command cmd);

  // Runs every queued command, in order (loop thread). Cheap when empty.
  // A throwing command is counted, not propagated.
  void drain();

 private:
  static void on_async(uv_async_t* handle);

  std::mutex mutex_;
  std::vector<Command> pending_;
  std::vector<Command> running_;  // reused between drains
  uv_async_t async_{};
  bool open_ = false;
  Counter* errors_ = nullptr;
};

}  // namespace rtcore
