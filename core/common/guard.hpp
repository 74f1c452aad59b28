// Boundaries where a C library (libwebsockets, libuv, hiredis) calls into
// our code. Nothing may unwind through C frames: an exception thrown there
// is undefined behaviour at best and std::terminate at worst. Every such
// callback runs its body through guarded(): an escaping exception is
// caught, counted (internal_errors) and logged at most once per second, and
// the caller then closes only what the callback was about.
#pragma once

#include <cstdint>
#include <exception>
#include <type_traits>

#include "common/counter.hpp"

namespace rtcore {

// Counts and (rate-limited, process-wide) logs one internal error.
void report_internal_error(Counter& errors, const char* where, const char* what) noexcept;

// Runs f(); returns its result, or on_error if it threw.
template <class R, class F>
R guarded(Counter& errors, const char* where, R on_error, F&& f) noexcept {
  try {
    return f();
  } catch (const std::exception& e) {
    report_internal_error(errors, where, e.what());
  } catch (...) {
    report_internal_error(errors, where, "unknown exception");
  }
  return on_error;
}

// Runs f() (returning void); true if it completed, false if it threw.
template <class F>
bool guarded(Counter& errors, const char* where, F&& f) noexcept {
  try {
    f();
    return true;
  } catch (const std::exception& e) {
    report_internal_error(errors, where, e.what());
  } catch (...) {
    report_internal_error(errors, where, "unknown exception");
  }
  return false;
}

// "Log this at most once per interval": the first event of an interval is
// logged, later ones are counted and summarised with the next logged one.
class IntervalLog {
 public:
  explicit IntervalLog(uint64_t interval_ms) : interval_ms_(interval_ms) {}
  // now_ms: any monotonic clock. True when the caller should log now;
  // *suppressed is then the number of events not logged since the last one.
  bool should_log(uint64_t now_ms, uint64_t* suppressed) {
    if (logged_once_ && now_ms - last_ms_ < interval_ms_) {
      ++suppressed_;
      return false;
    }
    logged_once_ = true;
    last_ms_ = now_ms;
    *suppressed = suppressed_;
    suppressed_ = 0;
    return true;
  }

 private:
  uint64_t interval_ms_;
  uint64_t last_ms_ = 0;
  uint64_t suppressed_ = 0;
  bool logged_once_ = false;
};

}  // namespace rtcore
