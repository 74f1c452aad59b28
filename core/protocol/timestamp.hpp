// RFC 3339 UTC timestamps with milliseconds, as docs/protocol.md section 3 wants.
#pragma once

#include <cstdint>
#include <string>

namespace rtcore::protocol {

// Formats milliseconds since the Unix epoch, e.g. "2026-11-28T16:40:27.123Z".
std::string format_timestamp(int64_t unix_ms);

// The current time, formatted.
std::string now_timestamp();
// The current time in milliseconds since the Unix epoch.
int64_t now_unix_ms();

}  // namespace rtcore::protocol
