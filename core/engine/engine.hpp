// The engine facade: owns the engine thread and its loop, and is the only
// part other threads touch. Every mutating call is queued to the loop.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "engine/engine_config.hpp"
#include "engine/stats.hpp"
#include "loop/command_queue.hpp"

namespace rtcore {

class EngineCore;

enum class StartResult { kOk, kAlreadyStarted, kListenFailed, kTlsFailed, kInternal };

class Engine {
 public:
  Engine(EngineConfig config, EngineHooks hooks);
  ~Engine();  // stops (1000 ms grace) if still running
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

  bool running() const { return running_.load(std::memory_order_acquire); }
  bool on_engine_thread() const { return std::this_thread::get_id() == thread_.get_id(); }
  uint16_t port() const { return port_.load(std::memory_order_acquire); }
  const std::string& node_id() const { return config_.node_id; }
  const EngineStats& stats() const { return stats_; }
  const EngineConfig& config() const { return config_; }

 private:
  void run(std::function<void(int)> started);

  EngineConfig config_;
  EngineHooks hooks_;
  EngineStats stats_;
  CommandQueue commands_;
  std::unique_ptr<EngineCore> core_;  // engine thread only
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<uint16_t> port_{0};
  std::mutex lifecycle_;  // serialises start/stop
};

// A random node id ("n-" and 12 hex digits).
std::string random_node_id();

}  // namespace rtcore
