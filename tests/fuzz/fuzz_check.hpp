// Shared helpers for the libFuzzer targets in tests/fuzz.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

// A property that must hold for every input. A failure aborts, which
// libFuzzer reports as a crash and saves the input as crash-<sha1>.
#define FUZZ_CHECK(cond)                                                                      \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s\n  at %s:%d\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)

namespace rtcore::fuzz {

// RTCORE_FUZZ_STRICT=1 turns on checks for known spec deviations that are
// not memory-safety bugs (see tests/fuzz/README.md, "Strict checks"). They
// are off by default so CI stays green until the engine is fixed.
inline bool strict() {
  static const bool on = [] {
    const char* v = std::getenv("RTCORE_FUZZ_STRICT");
    return v && *v && std::string_view(v) != "0";
  }();
  return on;
}

// Reference UTF-8 check written straight from the Unicode standard's table
// of well-formed byte sequences (Unicode 15, Table 3-7), independent of the
// engine's decoder so the two can be compared.
inline bool reference_utf8(std::string_view s) {
  auto in = [](unsigned char c, unsigned lo, unsigned hi) { return c >= lo && c <= hi; };
  size_t i = 0;
  while (i < s.size()) {
    auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
    size_t left = s.size() - i;
    unsigned char c = b(0);
    if (c <= 0x7F) {
      i += 1;
    } else if (in(c, 0xC2, 0xDF)) {
      if (left < 2 || !in(b(1), 0x80, 0xBF)) return false;
      i += 2;
    } else if (c == 0xE0) {
      if (left < 3 || !in(b(1), 0xA0, 0xBF) || !in(b(2), 0x80, 0xBF)) return false;
      i += 3;
    } else if (in(c, 0xE1, 0xEC) || in(c, 0xEE, 0xEF)) {
      if (left < 3 || !in(b(1), 0x80, 0xBF) || !in(b(2), 0x80, 0xBF)) return false;
      i += 3;
    } else if (c == 0xED) {
      if (left < 3 || !in(b(1), 0x80, 0x9F) || !in(b(2), 0x80, 0xBF)) return false;
      i += 3;
    } else if (c == 0xF0) {
      if (left < 4 || !in(b(1), 0x90, 0xBF) || !in(b(2), 0x80, 0xBF) || !in(b(3), 0x80, 0xBF)) return false;
      i += 4;
    } else if (in(c, 0xF1, 0xF3)) {
      if (left < 4 || !in(b(1), 0x80, 0xBF) || !in(b(2), 0x80, 0xBF) || !in(b(3), 0x80, 0xBF)) return false;
      i += 4;
    } else if (c == 0xF4) {
      if (left < 4 || !in(b(1), 0x80, 0x8F) || !in(b(2), 0x80, 0xBF) || !in(b(3), 0x80, 0xBF)) return false;
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

// Reference control-character check for valid UTF-8, by code point: C0
// (U+0000..U+001F), DEL (U+007F) and C1 (U+0080..U+009F).
inline bool reference_has_controls(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    unsigned cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < len && i + k < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    if (cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F)) return true;
    i += len;
  }
  return false;
}

}  // namespace rtcore::fuzz
