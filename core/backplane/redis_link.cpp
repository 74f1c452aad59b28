#include "backplane/redis_link.hpp"
#include "loop/heap_timer.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <memory>
#include <random>

#include "backplane/redis_uv_adapter.hpp"
#include "common/guard.hpp"
#include "common/log.hpp"

namespace rtcore {
namespace {

constexpr uint32_t kBackoffBaseMs = 100;
constexpr uint32_t kBackoffMaxMs = 5000;

struct PendingReply {
  Counter* errors;
  RedisLink::ReplyFn fn;
};

void on_function_reply(redisAsyncContext* ac, void* reply, void* privdata) {
  std::unique_ptr<PendingReply> p(static_cast<PendingReply*>(privdata));
  bool ok = guarded(*p->errors, "a redis reply handler", [&] {
    if (p->fn) p->fn(static_cast<redisReply*>(reply));
  });
  // Whatever state the handler left behind for this link is suspect: start
  // the link over (the owner resynchronises on the way up).
  if (!ok && ac && ac->data)
    static_cast<RedisLink*>(ac->data)->reset_soon("internal error in a reply handler");
}

}  // namespace

RedisLink::RedisLink(uv_loop_t* loop, RedisAddress address, std::string name, uint32_t connect_timeout_ms,
                     std::function<void()> on_up, std::function<void(const std::string&)> on_down)
    : loop_(loop),
      address_(std::move(address)),
      name_(std::move(name)),
      connect_timeout_ms_(connect_timeout_ms),
      on_up_(std::move(on_up)),
      on_down_(std::move(on_down)) {}

RedisLink::~RedisLink() {
  stop();
}

void RedisLink::start() {
  if (!stopped_) return;
  stopped_ = false;
  connect_timer_ = new_heap_timer(loop_, this);
  retry_timer_ = new_heap_timer(loop_, this);
  reset_timer_ = new_heap_timer(loop_, this);
  connect();
}

void RedisLink::stop() {
  if (stopped_ && !ctx_) return;
  stopped_ = true;
  close_heap_timer(connect_timer_);
  close_heap_timer(retry_timer_);
  close_heap_timer(reset_timer_);
  if (ctx_) {
    redisAsyncContext* ac = ctx_;
    ctx_ = nullptr;
    ac->data = nullptr;  // callbacks from the free below find no link
    redisAsyncFree(ac);
  }
  up_ = false;
}

void RedisLink::stop_gracefully() {
  if (stopped_ || !ctx_ || !up_) return stop();
  stopped_ = true;
  close_heap_timer(retry_timer_);
  close_heap_timer(reset_timer_);
  up_ = false;
  // hiredis sends what is queued, waits for the replies, then calls the
  // disconnect callback; a Redis that never answers is cut off by the timer.
  redisAsyncDisconnect(ctx_);
  uv_timer_start(
      connect_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<RedisLink*>(t->data);
        if (self->ctx_) {
          redisAsyncContext* ac = self->ctx_;
          self->ctx_ = nullptr;
          ac->data = nullptr;
          redisAsyncFree(ac);
        }
        close_heap_timer(self->connect_timer_);
      },
      500, 0);
}

void RedisLink::connect() {
  redisAsyncContext* ac = address_.unix_path.empty() ? redisAsyncConnect(address_.host.c_str(), address_.port)
                                                     : redisAsyncConnectUnix(address_.unix_path.c_str());
  if (!ac) return went_down("out of memory");
  if (ac->err) {
    std::string why = ac->errstr;
    redisAsyncFree(ac);
    return went_down(why);
  }
  if (attach_redis_to_uv(ac, loop_) != 0) {
    redisAsyncFree(ac);
    return went_down("cannot watch the socket");
  }
  ac->data = this;
  ctx_ = ac;
  setup_failed_ = false;
  redisAsyncSetConnectCallback(ac, &RedisLink::on_connect);
  redisAsyncSetDisconnectCallback(ac, &RedisLink::on_disconnect);
  // Everything below is pipelined behind the connect; the final PING's
  // reply means AUTH and SELECT succeeded and the link is usable.
  if (!address_.password.empty()) {
    if (address_.user.empty())
      command({"AUTH", address_.password}, &RedisLink::on_setup_reply, this);
    else
      command({"AUTH", address_.user, address_.password}, &RedisLink::on_setup_reply, this);
  }
  if (address_.db != 0) command({"SELECT", std::to_string(address_.db)}, &RedisLink::on_setup_reply, this);
  command({"PING"}, &RedisLink::on_ready_reply, this);
  // hiredis 0.14 has no connect timeout: a silent peer would hang forever.
  uv_timer_start(
      connect_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<RedisLink*>(t->data);
        if (self->up_ || !self->ctx_) return;
        redisAsyncContext* ac = self->ctx_;
        self->ctx_ = nullptr;
        ac->data = nullptr;
        redisAsyncFree(ac);
        self->went_down("connect timed out");
      },
      connect_timeout_ms_, 0);
}

bool RedisLink::command(const std::vector<std::string_view>& argv, Callback cb, void* privdata) {
  if (!ctx_) return false;
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  ptrs.reserve(argv.size());
  lens.reserve(argv.size());
  for (auto a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  return redisAsyncCommandArgv(ctx_, reinterpret_cast<redisCallbackFn*>(cb), privdata,
                               static_cast<int>(argv.size()), ptrs.data(), lens.data()) == REDIS_OK;
}

bool RedisLink::command(const std::vector<std::string_view>& argv, ReplyFn fn) {
  auto* p = new PendingReply{&errors(), std::move(fn)};
  if (command(argv, &on_function_reply, p)) return true;
  delete p;
  return false;
}

bool RedisLink::formatted_command(std::string_view resp, ReplyFn fn) {
  if (!ctx_) return false;
  if (!fn) return redisAsyncFormattedCommand(ctx_, nullptr, nullptr, resp.data(), resp.size()) == REDIS_OK;
  auto* p = new PendingReply{&errors(), std::move(fn)};
  if (redisAsyncFormattedCommand(ctx_, reinterpret_cast<redisCallbackFn*>(&on_function_reply), p, resp.data(),
                                 resp.size()) == REDIS_OK)
    return true;
  delete p;
  return false;
}

void RedisLink::reset_soon(const std::string& why) {
  if (!reset_timer_ || stopped_) return;
  reset_why_ = why;
  uv_timer_start(
      reset_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<RedisLink*>(t->data);
        guarded(self->errors(), "the redis reset timer", [&] { self->reset(self->reset_why_); });
      },
      0, 0);
}

void RedisLink::write_now() {
  if (ctx_ && up_) redisAsyncHandleWrite(ctx_);
}

void RedisLink::reset(const std::string& why) {
  if (!ctx_) return;
  redisAsyncContext* ac = ctx_;
  ctx_ = nullptr;
  ac->data = nullptr;
  redisAsyncFree(ac);
  went_down(why);
}

void RedisLink::on_connect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<RedisLink*>(ac->data);
  if (!self || status == REDIS_OK) return;
  // hiredis frees the context after this callback.
  std::string why = ac->errstr;
  self->ctx_ = nullptr;
  self->went_down(why);
}

void RedisLink::on_disconnect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<RedisLink*>(ac->data);
  if (!self) return;
  std::string why = status == REDIS_OK ? "disconnected" : ac->errstr;
  self->ctx_ = nullptr;  // freed by hiredis after this callback
  if (self->stopped_) {
    close_heap_timer(self->connect_timer_);
    return;
  }
  self->went_down(why);
}

void RedisLink::on_setup_reply(redisAsyncContext* ac, void* r, void*) {
  auto* self = static_cast<RedisLink*>(ac->data);
  auto* reply = static_cast<redisReply*>(r);
  if (!self || !reply || reply->type != REDIS_REPLY_ERROR) return;
  self->setup_failed_ = true;
  // The reply is Redis's own error text (e.g. WRONGPASS): it never holds
  // the password we sent.
  std::string line = "redis " + self->name_ + ": setup failed: " + std::string(reply->str, reply->len);
  log::write(log::Level::kError, "redis_setup_failed", line,
             {{"link", self->name_}, {"error", std::string_view(reply->str, reply->len)}});
}

void RedisLink::on_ready_reply(redisAsyncContext* ac, void* r, void*) {
  auto* self = static_cast<RedisLink*>(ac->data);
  if (!self || !r) return;
  if (self->setup_failed_ || static_cast<redisReply*>(r)->type == REDIS_REPLY_ERROR) {
    // Wrong password or db: retrying the same credentials at full speed
    // would only hammer Redis, so this too backs off.
    redisAsyncDisconnect(ac);
    return;
  }
  uv_timer_stop(self->connect_timer_);
  self->attempt_ = 0;
  self->up_ = true;
  if (!guarded(self->errors(), "the redis link-up handler", [&] { self->on_up_(); }))
    self->reset_soon("internal error while coming up");
}

void RedisLink::went_down(const std::string& why) {
  bool was_up = up_;
  up_ = false;
  if (connect_timer_) uv_timer_stop(connect_timer_);
  if (stopped_) return;
  if (was_up || attempt_ == 0) guarded(errors(), "the redis link-down handler", [&] { on_down_(why); });
  schedule_reconnect();
}

void RedisLink::schedule_reconnect() {
  // Exponential backoff with jitter, so nodes that lost the same Redis do
  // not all come back in the same millisecond.
  uint32_t ceiling = std::min<uint32_t>(kBackoffMaxMs, kBackoffBaseMs << std::min<uint32_t>(attempt_, 6));
  static thread_local std::minstd_rand rng{std::random_device{}()};
  uint32_t delay = ceiling / 2 + static_cast<uint32_t>(rng() % (ceiling / 2 + 1));
  ++attempt_;
  uv_timer_start(
      retry_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<RedisLink*>(t->data);
        guarded(self->errors(), "the redis reconnect timer", [&] {
          if (!self->stopped_ && !self->ctx_) self->connect();
        });
      },
      delay, 0);
}

}  // namespace rtcore
