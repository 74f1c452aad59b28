// Hex digits, for the percent-escapes read from URLs (the upgrade request's
// path and query, the token in a query).
#pragma once

namespace rtcore {

// The value of one hex digit (either case), or -1.
inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace rtcore
