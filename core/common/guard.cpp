#include "common/guard.hpp"

#include <chrono>
#include <cstdio>
#include <mutex>

#include "common/log.hpp"

namespace rtcore {

void report_internal_error(Counter& errors, const char* where, const char* what) noexcept {
  errors.add();
  // Engines in one process share the log; a burst of the same failure must
  // not flood it, so one line per second (with the count skipped) at most.
  static std::mutex mu;
  static IntervalLog log(1000);
  uint64_t now = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::steady_clock::now().time_since_epoch())
                                           .count());
  uint64_t skipped = 0;
  bool print = false;
  try {
    std::lock_guard lock(mu);
    print = log.should_log(now, &skipped);
  } catch (...) {
    return;
  }
  if (!print) return;
  char line[512];
  std::snprintf(line, sizeof line, "internal error in %s: %s (%llu more not logged)", where,
                what ? what : "?", static_cast<unsigned long long>(skipped));
  log::write(log::Level::kError, "internal_error", line,
             {{"where", where}, {"what", what ? what : "?"}, {"suppressed", skipped}});
}

}  // namespace rtcore
