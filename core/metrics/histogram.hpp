// A fixed-bucket histogram of durations, written by one thread (the
// engine's) and read by any: plain relaxed counters, no locks, so observing
// costs a few adds on the hot path.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "common/counter.hpp"

namespace rtcore {

class Histogram {
 public:
  // Upper bounds in seconds (Prometheus `le`), shared by every histogram.
  static constexpr std::array<double, 14> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                     0.1,    0.25,  0.5,    1,     2.5,  5,     10};

  void observe(double seconds) {
    if (!(seconds >= 0)) seconds = 0;  // also NaN: a clock step back
    size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i]) ++i;
    buckets_[i].add();  // buckets_[kBounds.size()] is +Inf
    count_.add();
    sum_us_.add(static_cast<uint64_t>(seconds * 1e6));
  }

  // Observations in bucket i alone (not cumulative); i == kBounds.size()
  // is the overflow bucket.
  uint64_t bucket(size_t i) const { return buckets_[i].get(); }
  uint64_t count() const { return count_.get(); }
  double sum_seconds() const { return static_cast<double>(sum_us_.get()) / 1e6; }

 private:
  std::array<Counter, kBounds.size() + 1> buckets_;
  Counter count_;
  Counter sum_us_;
};

}  // namespace rtcore
