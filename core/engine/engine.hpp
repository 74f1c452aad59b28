// The engine facade: owns the engine thread and its loop, and is the only
// part other threads touch. Every mutating call is queued to the loop.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/log.hpp"
#include "engine/engine_config.hpp"
#include "engine/stats.hpp"
#include "loop/command_queue.hpp"

namespace rtcore {

class EngineCore;

enum class StartResult { kOk, kAlreadyStarted, kListenFailed, kTlsFailed, kInternal };

class Engine {
 public:
  Engine(EngineConfig config, EngineHooks hooks);
  // Stops (1000 ms grace) if still running. On the engine thread itself
  // (from a hook) it cannot wait for that thread: it mutes every hook (none
  // runs after this returns, the calling one excepted), queues the stop,
  // and detaches the thread, which finishes the stop and frees the shared
  // state on its own once the hook has returned.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Starts the engine thread; returns once listening or failed.
  StartResult start();
  // Graceful stop and join; idempotent. Must not be called on the engine
  // thread (returns false there).
  bool stop(uint32_t timeout_ms);

  // Queues fn to run on the engine thread with the core. False if the
  // engine is not running (fn is dropped).
  bool post(std::function<void(EngineCore&)> fn);

  bool running() const { return s_->running.load(std::memory_order_acquire); }
  bool on_engine_thread() const { return std::this_thread::get_id() == thread_.get_id(); }
  uint16_t port() const { return s_->port.load(std::memory_order_acquire); }
  // The internal listener's port (EngineConfig::internal_listen), 0 if none
  // or not started.
  uint16_t internal_port() const { return s_->internal_port.load(std::memory_order_acquire); }
  const std::string& node_id() const { return s_->config.node_id; }
  const EngineStats& stats() const { return s_->stats; }
  const EngineConfig& config() const { return s_->config; }

 private:
  // Everything the engine thread uses. Shared with that thread, so that a
  // destroy from the thread itself can leave it running to its end.
  struct State {
    EngineConfig config;
    EngineHooks hooks;       // the host's
    EngineHooks core_hooks;  // what the core calls: the host's unless muted
    bool muted = false;      // engine thread only
    EngineStats stats;
    CommandQueue commands;
    std::unique_ptr<EngineCore> core;  // engine thread only
    std::atomic<bool> running{false};
    std::atomic<uint16_t> port{0};
    std::atomic<uint16_t> internal_port{0};
    // The engine thread's logger (common/log.hpp): its sink is the host's
    // on_log (skipped once muted) or stderr.
    log::Logger logger;
  };

  static void run(State& s, std::function<void(int)> started);
  // Queues the graceful stop; the loop ends after it.
  static bool queue_stop(State& s, uint32_t timeout_ms);

  std::shared_ptr<State> s_;
  std::thread thread_;
  std::mutex lifecycle_;  // serialises start/stop
};

// A random node id ("n-" and 12 hex digits).
std::string random_node_id();

}  // namespace rtcore
