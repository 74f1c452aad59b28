#include "loop/command_queue.hpp"

#include "common/guard.hpp"

namespace rtcore {

int CommandQueue::bind(uv_loop_t* loop, Counter& errors) {
  errors_ = &errors;
  async_.data = this;
  int rc = uv_async_init(loop, &async_, &CommandQueue::on_async);
  if (rc == 0) {
    std::lock_guard lock(mutex_);
    open_ = true;
  }
  return rc;
}

void CommandQueue::close() {
  std::vector<Command> dropped;
  {
    std::lock_guard lock(mutex_);
    if (!open_) return;
    open_ = false;
    // Destroyed outside the lock: a closure's captures may run arbitrary
    // destructors.
    dropped.swap(pending_);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
}

bool CommandQueue::push(Command cmd) {
  {
    std::lock_guard lock(mutex_);
    if (!open_) return false;
    pending_.push_back(std::move(cmd));
    // uv_async_send under the lock: close() cannot run between the check
    // and the send, so the handle is alive. It coalesces repeated sends.
    uv_async_send(&async_);
  }
  return true;
}

void CommandQueue::drain() {
  {
    std::lock_guard lock(mutex_);
    if (pending_.empty()) return;
    running_.swap(pending_);
  }
  // Each command on its own: one that throws (bad_alloc in a big send, a
  // bug in a handler) must not take the rest of the batch with it, and
  // nothing may unwind into libuv.
  for (auto& cmd : running_) guarded(*errors_, "engine command", [&] { cmd(); });
  running_.clear();
}

void CommandQueue::on_async(uv_async_t* handle) {
  auto* self = static_cast<CommandQueue*>(handle->data);
  guarded(*self->errors_, "command queue", [&] { self->drain(); });
}

}  // namespace rtcore
