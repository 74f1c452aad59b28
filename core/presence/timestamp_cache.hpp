// The current time as docs/protocol.md's RFC 3339 string, without a
// snprintf per call. Formatting one (protocol::format_timestamp) costs about
// 4,000 instructions; presence pays it on every connect and disconnect and a
// direct message on every message, ~30% of a direct message's server
// instructions (BENCHMARKS.md). This formats once per second and patches
// the milliseconds in between. Not thread-safe: one per engine thread.
#pragma once

#include <cstdint>
#include <string>

#include "protocol/timestamp.hpp"

namespace rtcore {

class TimestampCache {
 public:
  // The same text as protocol::now_timestamp(); valid until the next call.
  const std::string& now() { return at(protocol::now_unix_ms()); }

  const std::string& at(int64_t unix_ms) {
    if (unix_ms == ms_ && !text_.empty()) return text_;
    int64_t sec = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
    // "YYYY-MM-DDTHH:MM:SS.mmmZ": the milliseconds are the 3 digits before
    // the Z. Four-digit years only; anything else is formatted in full.
    if (sec != sec_ || text_.size() != kLength) {
      text_ = protocol::format_timestamp(unix_ms);
      sec_ = sec;
    } else {
      int ms = static_cast<int>(unix_ms - sec * 1000);
      text_[kLength - 4] = static_cast<char>('0' + ms / 100);
      text_[kLength - 3] = static_cast<char>('0' + ms / 10 % 10);
      text_[kLength - 2] = static_cast<char>('0' + ms % 10);
    }
    ms_ = unix_ms;
    return text_;
  }

 private:
  static constexpr size_t kLength = 24;
  int64_t ms_ = 0;
  int64_t sec_ = 0;
  std::string text_;
};

}  // namespace rtcore
