#include "backplane/redis_uv_adapter.hpp"

#include "backplane/redis_reply_arena.hpp"

#include <errno.h>
#include <hiredis/async.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

// The second half of redisAsyncHandleRead (async.c): run the callbacks of
// the replies the reader holds. Exported by hiredis 0.14 (and still by 1.x)
// but declared in none of its headers.
extern "C" void redisProcessCallbacks(redisAsyncContext* ac);

namespace rtcore {
namespace {

// hiredis 0.14's reader drops what it has parsed once that is 1 KiB or
// more, by moving the rest of its buffer to the front, after every reply
// (read.c, redisReaderGetReply). One 16 KiB read of small pub/sub messages
// is then moved ~50 times: 1,300 instructions per received DM, the largest
// single item on the receiving node. Fed at most this much at a time, the
// reader never holds much more than 1 KiB to move.
constexpr size_t kFeedChunk = 1024;

struct Adapter {
  redisAsyncContext* ac = nullptr;
  uv_poll_t poll{};
  int events = 0;
  // The context's replies (redis_reply_arena.hpp); freed with the adapter,
  // after the context (hiredis frees a partial reply when it frees it).
  ReplyArena replies;
};

// What redisAsyncHandleRead does, with one read of up to 64 KiB handed to
// the reader in kFeedChunk pieces, the callbacks run after each: exactly
// what hiredis does for a socket that yields 1 KiB per read. A failed read
// is left to hiredis (the error set as its own read would set it), and so
// is a connect still in progress.
void handle_read(Adapter* a) {
  redisAsyncContext* ac = a->ac;
  redisContext* c = &ac->c;
  if (!(c->flags & REDIS_CONNECTED) || c->err) {
    redisAsyncHandleRead(ac);
    return;
  }
  static thread_local char buf[1 << 16];
  ssize_t n = ::read(c->fd, buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
    redisProcessCallbacks(ac);  // as hiredis does after a read with nothing to read
    return;
  }
  if (n <= 0) {
    c->err = n == 0 ? REDIS_ERR_EOF : REDIS_ERR_IO;
    std::snprintf(c->errstr, sizeof c->errstr, "%s",
                  n == 0 ? "Server closed the connection" : std::strerror(errno));
    redisAsyncHandleRead(ac);  // sees the error and disconnects
    return;
  }
  for (size_t off = 0; off < size_t(n);) {
    size_t len = std::min(kFeedChunk, size_t(n) - off);
    if (redisReaderFeed(c->reader, buf + off, len) != REDIS_OK) {
      c->err = c->reader->err;
      std::snprintf(c->errstr, sizeof c->errstr, "%s", c->reader->errstr);
      redisAsyncHandleRead(ac);
      return;
    }
    off += len;
    redisProcessCallbacks(ac);
    if (!a->poll.data) return;  // a callback freed the context (cleanup ran)
  }
}

void on_poll(uv_poll_t* handle, int status, int events) {
  auto* a = static_cast<Adapter*>(handle->data);
  // A poll error (refused connect, reset) is reported as both readable and
  // writable, so hiredis tries the socket and sees the failure itself.
  if (status < 0) events = UV_READABLE | UV_WRITABLE;
  // Each call may free the context (and this adapter via cleanup): check
  // the registered interest again before the second call.
  if (events & UV_READABLE) handle_read(a);
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
  auto* a = new Adapter;
  a->ac = ac;
  int rc = uv_poll_init_socket(loop, &a->poll, ac->c.fd);
  if (rc != 0) {
    delete a;
    return rc;
  }
  a->poll.data = a;
  a->replies.install(ac->c.reader);
  ac->ev.data = a;
  ac->ev.addRead = add_read;
  ac->ev.delRead = del_read;
  ac->ev.addWrite = add_write;
  ac->ev.delWrite = del_write;
  ac->ev.cleanup = cleanup;
  return 0;
}

}  // namespace rtcore
