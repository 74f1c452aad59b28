#include "backplane/redis_uv_adapter.hpp"

#include <hiredis/async.h>

namespace rtcore {
namespace {

struct Adapter {
  redisAsyncContext* ac;
  uv_poll_t poll;
  int events = 0;
};

void on_poll(uv_poll_t* handle, int status, int events) {
  auto* a = static_cast<Adapter*>(handle->data);
  // A poll error (refused connect, reset) is reported as both readable and
  // writable, so hiredis tries the socket and sees the failure itself.
  if (status < 0) events = UV_READABLE | UV_WRITABLE;
  // Each call may free the context (and this adapter via cleanup): check
  // the registered interest again before the second call.
  if (events & UV_READABLE) redisAsyncHandleRead(a->ac);
  if ((events & UV_WRITABLE) && handle->data && (a->events & UV_WRITABLE)) redisAsyncHandleWrite(a->ac);
}

void update(Adapter* a, int add, int remove) {
  int next = (a->events | add) & ~remove;
  if (next == a->events) return;
  a->events = next;
  if (next)
    uv_poll_start(&a->poll, next, on_poll);
  else
    uv_poll_stop(&a->poll);
}

void add_read(void* p) {
  update(static_cast<Adapter*>(p), UV_READABLE, 0);
}
void del_read(void* p) {
  update(static_cast<Adapter*>(p), 0, UV_READABLE);
}
void add_write(void* p) {
  update(static_cast<Adapter*>(p), UV_WRITABLE, 0);
}
void del_write(void* p) {
  update(static_cast<Adapter*>(p), 0, UV_WRITABLE);
}

void cleanup(void* p) {
  auto* a = static_cast<Adapter*>(p);
  uv_poll_stop(&a->poll);
  a->poll.data = nullptr;  // tells on_poll the context is gone
  // Memory goes back in the close callback, never earlier (libuv rule).
  uv_close(reinterpret_cast<uv_handle_t*>(&a->poll), [](uv_handle_t* h) {
    delete reinterpret_cast<Adapter*>(reinterpret_cast<char*>(h) - offsetof(Adapter, poll));
  });
}

}  // namespace

int attach_redis_to_uv(redisAsyncContext* ac, uv_loop_t* loop) {
  if (ac->ev.data) return UV_EEXIST;
  auto* a = new Adapter{ac, {}, 0};
  int rc = uv_poll_init_socket(loop, &a->poll, ac->c.fd);
  if (rc != 0) {
    delete a;
    return rc;
  }
  a->poll.data = a;
  ac->ev.data = a;
  ac->ev.addRead = add_read;
  ac->ev.delRead = del_read;
  ac->ev.addWrite = add_write;
  ac->ev.delWrite = del_write;
  ac->ev.cleanup = cleanup;
  return 0;
}

}  // namespace rtcore
