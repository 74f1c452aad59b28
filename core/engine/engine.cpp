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

Engine::Engine(EngineConfig config, EngineHooks hooks) : config_(std::move(config)), hooks_(std::move(hooks)) {
  if (config_.node_id.empty()) config_.node_id = random_node_id();
}

Engine::~Engine() { stop(1000); }

StartResult Engine::start() {
  std::lock_guard lock(lifecycle_);
  if (thread_.joinable()) return StartResult::kAlreadyStarted;
  std::promise<int> ready;
  auto result = ready.get_future();
  thread_ = std::thread([this, &ready] { run([&ready](int port) { ready.set_value(port); }); });
  int port = result.get();
  if (port < 0) {
    thread_.join();
    thread_ = std::thread();
    return port == -1 ? StartResult::kListenFailed : port == -3 ? StartResult::kTlsFailed : StartResult::kInternal;
  }
  port_.store(static_cast<uint16_t>(port), std::memory_order_release);
  running_.store(true, std::memory_order_release);
  return StartResult::kOk;
}

void Engine::run(std::function<void(int)> started) {
  // hiredis and plain write(2) may raise SIGPIPE on a dead peer; block it on
  // this thread only, never touching the host's own handlers.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);

  uv_loop_t loop;
  if (uv_loop_init(&loop) != 0) return started(-2);
  // Nothing may escape this thread's function (std::terminate): a failure
  // while starting is a failed start, one later is counted and the loop
  // goes on to its teardown.
  int port = -2;
  guarded(stats_.internal_errors, "engine start", [&] {
    core_ = std::make_unique<EngineCore>(&loop, config_, hooks_, stats_);
    port = commands_.bind(&loop, stats_.internal_errors) == 0 ? core_->start() : -2;
  });
  if (port < 0) commands_.close();
  started(port);  // `started` refers to start()'s stack: not used after this

  uv_run(&loop, UV_RUN_DEFAULT);
  guarded(stats_.internal_errors, "engine teardown", [&] { core_.reset(); });  // the transport's second pass (STACK-NOTES)
  uv_run(&loop, UV_RUN_NOWAIT);
  uv_loop_close(&loop);
}

bool Engine::stop(uint32_t timeout_ms) {
  if (on_engine_thread()) return false;
  std::lock_guard lock(lifecycle_);
  if (!thread_.joinable()) return true;
  running_.store(false, std::memory_order_release);
  commands_.push([this, timeout_ms] {
    core_->begin_stop(timeout_ms, [this] { commands_.close(); });
  });
  thread_.join();
  thread_ = std::thread();
  port_.store(0, std::memory_order_release);
  return true;
}

bool Engine::post(std::function<void(EngineCore&)> fn) {
  if (!running()) return false;
  return commands_.push([this, fn = std::move(fn)] { fn(*core_); });
}

}  // namespace rtcore
