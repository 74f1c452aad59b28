// One hiredis async connection that keeps itself up: connect with a
// timeout (hiredis 0.14 has none), AUTH and SELECT, then report "up"; on any
// failure report "down" and reconnect with exponential backoff and jitter.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "backplane/redis_url.hpp"
#include "common/counter.hpp"

struct redisAsyncContext;
struct redisReply;

namespace rtcore {

class RedisLink {
 public:
  using Callback = void (*)(redisAsyncContext*, void* reply, void* privdata);
  // A reply handler; reply is null when the command will never be answered
  // (the link went down or was stopped). Called exactly once.
  using ReplyFn = std::function<void(redisReply* reply)>;

  RedisLink(uv_loop_t* loop, RedisAddress address, std::string name, uint32_t connect_timeout_ms,
            std::function<void()> on_up, std::function<void(const std::string& why)> on_down);
  ~RedisLink();
  RedisLink(const RedisLink&) = delete;
  RedisLink& operator=(const RedisLink&) = delete;

  void start();
  // Disconnects and stops reconnecting; pending callbacks get NULL replies.
  // The link is fully released once the loop ran its close callbacks.
  void stop();
  // Like stop(), but lets the commands already written reach Redis first
  // (for at most kGracefulStopMs, then it drops the connection).
  void stop_gracefully();
  // Drops the current connection (e.g. Redis stopped answering) and
  // reconnects after the usual backoff.
  void reset(const std::string& why);

  bool up() const { return up_; }
  // Sends a command (argv copied by hiredis). False when not connected, in
  // which case cb is never called.
  bool command(const std::vector<std::string_view>& argv, Callback cb, void* privdata);
  // The same with a handler run through guarded(): an exception it throws is
  // counted in the error counter and resets this link (never the process).
  bool command(const std::vector<std::string_view>& argv, ReplyFn fn);
  // Sends one command already in the Redis protocol (RESP: an array of bulk
  // strings), without argv vectors or hiredis' formatting. Without fn the
  // reply is dropped (as with an empty ReplyFn, but with no handler object).
  bool formatted_command(std::string_view resp, ReplyFn fn);

  // Where exceptions caught in this link's callbacks are counted. Not owned.
  void set_error_counter(Counter* errors) { errors_ = errors; }
  Counter& errors() { return errors_ ? *errors_ : fallback_errors_; }
  // Like reset(), from a 0 ms timer: safe inside a hiredis callback.
  void reset_soon(const std::string& why);

  const std::string& name() const { return name_; }
  // Writes the commands queued so far now, rather than when the loop next
  // polls the socket.
  void write_now();

 private:
  void connect();
  void schedule_reconnect();
  void went_down(const std::string& why);
  static void on_connect(const redisAsyncContext* ac, int status);
  static void on_disconnect(const redisAsyncContext* ac, int status);
  static void on_ready_reply(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_setup_reply(redisAsyncContext* ac, void* reply, void* privdata);

  uv_loop_t* loop_;
  RedisAddress address_;
  std::string name_;
  uint32_t connect_timeout_ms_;
  std::function<void()> on_up_;
  std::function<void(const std::string&)> on_down_;

  redisAsyncContext* ctx_ = nullptr;
  bool up_ = false;
  bool stopped_ = true;
  bool setup_failed_ = false;
  uint32_t attempt_ = 0;
  // Timers live on the heap so they outlive this object until closed.
  uv_timer_t* connect_timer_ = nullptr;
  uv_timer_t* retry_timer_ = nullptr;
  uv_timer_t* reset_timer_ = nullptr;
  std::string reset_why_;
  Counter* errors_ = nullptr;
  Counter fallback_errors_;
};

}  // namespace rtcore
