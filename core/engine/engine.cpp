#include "engine/engine.hpp"

#include <csignal>
#include <future>
#include <random>

#include <pthread.h>

#include "common/guard.hpp"
#include "engine/engine_core.hpp"

namespace rtcore {

std::string random_node_id() {
  std::random_device rd;
  uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  char buf[20];
  std::snprintf(buf, sizeof buf, "n-%012llx", static_cast<unsigned long long>(v & 0xFFFFFFFFFFFFULL));
  return buf;
}

namespace {

// The hooks the core calls: the host's, skipped once muted (after a
// destroy from a hook, nothing may call into a host that believes the
// engine gone). Empty hooks stay empty (the core treats that as "none").
EngineHooks muteable(const EngineHooks& h, const bool& muted) {
  EngineHooks out;
  if (h.on_connect)
    out.on_connect = [&h, &muted](const ConnectRequest& req, ConnectDecision& d) {
      if (!muted) return h.on_connect(req, d);
      d.accept = false;
      d.http_status = 503;
    };
  if (h.on_open)
    out.on_open = [&h, &muted](ConnId id, std::string_view user) {
      if (!muted) h.on_open(id, user);
    };
  if (h.on_disconnect)
    out.on_disconnect = [&h, &muted](ConnId id, std::string_view user, uint16_t code) {
      if (!muted) h.on_disconnect(id, user, code);
    };
  if (h.on_message)
    out.on_message = [&h, &muted](ConnId id, std::string_view user, std::string_view type,
                                  std::string_view json, std::string_view id_json) {
      if (!muted) h.on_message(id, user, type, json, id_json);
    };
  if (h.on_presence)
    out.on_presence = [&h, &muted](std::string_view user, bool online, std::string_view ts) {
      if (!muted) h.on_presence(user, online, ts);
    };
  if (h.on_authorize)
    out.on_authorize = [&h, &muted](ConnId id, std::string_view user, Action action, std::string_view target,
                                    uint64_t request_id) {
      return muted ? Verdict::kDeny : h.on_authorize(id, user, action, target, request_id);
    };
  return out;
}

}  // namespace

Engine::Engine(EngineConfig config, EngineHooks hooks) : s_(std::make_shared<State>()) {
  s_->config = std::move(config);
  s_->hooks = std::move(hooks);
  s_->core_hooks = muteable(s_->hooks, s_->muted);
  if (s_->config.node_id.empty()) s_->config.node_id = random_node_id();
  log::Logger::Sink sink;
  if (s_->hooks.on_log) {
    // The state outlives every line: the logger is used on the engine
    // thread only, which holds the state until its end.
    State* s = s_.get();
    sink = [s](log::Level level, std::string_view event, std::string_view message, std::string_view fields) {
      if (!s->muted) s->hooks.on_log(static_cast<int>(level), event, message, fields);
    };
  }
  s_->logger =
      log::Logger(s_->config.log_level, s_->config.log_json ? log::Format::kJson : log::Format::kText,
                  s_->config.node_id, std::move(sink));
}

Engine::~Engine() {
  if (!on_engine_thread()) {
    stop(1000);
    return;
  }
  // Destroyed from a hook: this thread cannot join itself, and destroying
  // a joinable std::thread is std::terminate. The thread holds its own
  // reference to the state and ends the stop by itself.
  s_->muted = true;
  s_->running.store(false, std::memory_order_release);
  queue_stop(*s_, 1000);
  thread_.detach();
}

StartResult Engine::start() {
  std::lock_guard lock(lifecycle_);
  if (thread_.joinable()) return StartResult::kAlreadyStarted;
  std::promise<int> ready;
  auto result = ready.get_future();
  // The thread keeps the state alive until its loop has ended (see ~Engine).
  thread_ = std::thread([s = s_, &ready] { run(*s, [&ready](int port) { ready.set_value(port); }); });
  int port = result.get();
  if (port < 0) {
    thread_.join();
    thread_ = std::thread();
    return port == -1   ? StartResult::kListenFailed
           : port == -3 ? StartResult::kTlsFailed
                        : StartResult::kInternal;
  }
  s_->port.store(static_cast<uint16_t>(port), std::memory_order_release);
  s_->running.store(true, std::memory_order_release);
  return StartResult::kOk;
}

void Engine::run(State& s, std::function<void(int)> started) {
  // hiredis and plain write(2) may raise SIGPIPE on a dead peer; block it on
  // this thread only, never touching the host's own handlers.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  // Whatever logs on this thread (libwebsockets included) reaches this
  // engine's logger.
  log::Logger::Scope log_scope(&s.logger);

  uv_loop_t loop;
  if (uv_loop_init(&loop) != 0) return started(-2);
  // Nothing may escape this thread's function (std::terminate): a failure
  // while starting is a failed start, one later is counted and the loop
  // goes on to its teardown.
  int port = -2;
  guarded(s.stats.internal_errors, "engine start", [&] {
    s.core = std::make_unique<EngineCore>(&loop, s.config, s.core_hooks, s.stats);
    port = s.commands.bind(&loop, s.stats.internal_errors) == 0 ? s.core->start() : -2;
    if (port >= 0) s.internal_port.store(s.core->internal_port(), std::memory_order_release);
  });
  if (port < 0) s.commands.close();
  started(port);  // `started` refers to start()'s stack: not used after this

  uv_run(&loop, UV_RUN_DEFAULT);
  // The transport's second teardown pass (STACK-NOTES).
  guarded(s.stats.internal_errors, "engine teardown", [&] { s.core.reset(); });
  uv_run(&loop, UV_RUN_NOWAIT);
  uv_loop_close(&loop);
}

bool Engine::queue_stop(State& s, uint32_t timeout_ms) {
  State* p = &s;  // commands run only while the loop (and so the state) lives
  return s.commands.push([p, timeout_ms] { p->core->begin_stop(timeout_ms, [p] { p->commands.close(); }); });
}

bool Engine::stop(uint32_t timeout_ms) {
  if (on_engine_thread()) return false;
  std::lock_guard lock(lifecycle_);
  if (!thread_.joinable()) return true;
  s_->running.store(false, std::memory_order_release);
  queue_stop(*s_, timeout_ms);
  thread_.join();
  thread_ = std::thread();
  s_->port.store(0, std::memory_order_release);
  s_->internal_port.store(0, std::memory_order_release);
  return true;
}

bool Engine::post(std::function<void(EngineCore&)> fn) {
  if (!running()) return false;
  State* s = s_.get();
  return s->commands.push([s, fn = std::move(fn)] { fn(*s->core); });
}

}  // namespace rtcore
