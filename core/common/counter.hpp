// A statistics counter written by the engine thread and read from any
// thread. Only one thread writes, so an increment is a relaxed load and
// store (no locked instruction on the hot path); readers may see slightly
// stale values.
#pragma once

#include <atomic>
#include <cstdint>

namespace rtcore {

struct Counter {
  std::atomic<uint64_t> value{0};
  void add(uint64_t n = 1) {
    value.store(value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void sub(uint64_t n) { value.store(value.load(std::memory_order_relaxed) - n, std::memory_order_relaxed); }
  void set(uint64_t n) { value.store(n, std::memory_order_relaxed); }
  uint64_t get() const { return value.load(std::memory_order_relaxed); }
};

}  // namespace rtcore
