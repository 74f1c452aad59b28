#include "protocol/json_check.hpp"

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "protocol/client_message.hpp"

namespace rtcore::protocol {
namespace {

// Counts depth and remembers the kind of the root value.
class ShapeHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, ShapeHandler> {
 public:
  explicit ShapeHandler(int max_depth = kMaxNestingDepth) : max_depth_(max_depth) {}
  bool Default() { return note(kOther); }
  bool String(const char*, rapidjson::SizeType, bool) { return note(kString); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    return note(std::string_view(s, n).find_first_of(".eE") == std::string_view::npos ? kInteger : kOther);
  }
  bool StartObject() { return open(); }
  bool StartArray() { return open(); }
  bool EndObject(rapidjson::SizeType) { return --depth_, true; }
  bool EndArray(rapidjson::SizeType) { return --depth_, true; }

  enum Kind { kNone, kString, kInteger, kOther };
  Kind root = kNone;

 private:
  bool note(Kind k) {
    if (depth_ == 0) root = k;
    return true;
  }
  bool open() {
    note(kOther);
    return ++depth_ <= max_depth_;
  }
  int max_depth_;
  int depth_ = 0;
};

bool parse_whole(std::string_view text, ShapeHandler& handler) {
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag |
                              rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseStopWhenDoneFlag;
  rapidjson::MemoryStream stream(text.data(), text.size());
  rapidjson::Reader reader;
  if (reader.Parse<kFlags>(stream, handler).IsError()) return false;
  return text.substr(stream.Tell()).find_first_not_of(" \t\r\n") == std::string_view::npos;
}

}  // namespace

namespace json_scan {

namespace {

// Flags (the high bit of each byte) the bytes of w that need a closer look:
// control characters, '"', '\\' and anything above 0x7F. A flag can be
// wrong only in a byte above a rightly flagged one (borrows run upwards),
// so the lowest flag is always the first such byte.
inline uint64_t special8(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  auto zero_bytes = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
  return (below_space | zero_bytes(w ^ (kOnes * '"')) | zero_bytes(w ^ (kOnes * '\\')) | w) & kHigh;
}

}  // namespace

const char* scan_string(const char* p, const char* end) {
  const auto* u = reinterpret_cast<const unsigned char*>(p + 1);
  const auto* e = reinterpret_cast<const unsigned char*>(end);
  while (u < e) {
    // Eight bytes at a time up to the first that needs a look (the byte
    // loop below takes that one, and the last few of the input).
    if constexpr (std::endian::native == std::endian::little) {
      if (e - u >= 8) {
        uint64_t w;
        std::memcpy(&w, u, 8);
        uint64_t flags = special8(w);
        if (flags == 0) {
          u += 8;
          continue;
        }
        u += std::countr_zero(flags) / 8;
      }
    }
    unsigned char c = *u;
    if (c == '"') return reinterpret_cast<const char*>(u + 1);
    if (c < 0x80) {
      // Escapes and control characters: the full parser's business.
      if (c < 0x20 || c == '\\') return nullptr;
      ++u;
      continue;
    }
    // Well-formed UTF-8 only (RFC 3629: no overlongs, no surrogates, at
    // most U+10FFFF).
    if (c >= 0xC2 && c <= 0xDF) {
      if (e - u < 2 || (u[1] & 0xC0) != 0x80) return nullptr;
      u += 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      if (e - u < 3 || (u[1] & 0xC0) != 0x80 || (u[2] & 0xC0) != 0x80) return nullptr;
      if ((c == 0xE0 && u[1] < 0xA0) || (c == 0xED && u[1] > 0x9F)) return nullptr;
      u += 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      if (e - u < 4 || (u[1] & 0xC0) != 0x80 || (u[2] & 0xC0) != 0x80 || (u[3] & 0xC0) != 0x80)
        return nullptr;
      if ((c == 0xF0 && u[1] < 0x90) || (c == 0xF4 && u[1] > 0x8F)) return nullptr;
      u += 4;
    } else {
      return nullptr;
    }
  }
  return nullptr;
}

namespace {

const char* scan_number(const char* p, const char* end) {
  const char* start = p;
  if (*p == '-') ++p;
  if (p == end) return nullptr;
  if (*p == '0') {
    ++p;
  } else if (*p >= '1' && *p <= '9') {
    while (p < end && *p >= '0' && *p <= '9') ++p;
  } else {
    return nullptr;
  }
  if (p - start > 19) return nullptr;  // 18 digits and a sign: no overflow anywhere
  if (p < end && (*p == '.' || *p == 'e' || *p == 'E' || (*p >= '0' && *p <= '9'))) return nullptr;
  return p;
}

const char* scan_literal(const char* p, const char* end, std::string_view word) {
  if (static_cast<size_t>(end - p) < word.size() || std::string_view(p, word.size()) != word) return nullptr;
  return p + word.size();
}

}  // namespace

const char* scan_value(const char* p, const char* end, int depth_left) {
  if (p >= end) return nullptr;
  switch (*p) {
    case '"': return scan_string(p, end);
    case 't': return scan_literal(p, end, "true");
    case 'f': return scan_literal(p, end, "false");
    case 'n': return scan_literal(p, end, "null");
    case '{': {
      if (depth_left <= 0) return nullptr;
      p = skip_ws(p + 1, end);
      if (p < end && *p == '}') return p + 1;
      for (;;) {
        if (p >= end || *p != '"') return nullptr;
        p = scan_string(p, end);
        if (!p) return nullptr;
        p = skip_ws(p, end);
        if (p >= end || *p != ':') return nullptr;
        p = scan_value(skip_ws(p + 1, end), end, depth_left - 1);
        if (!p) return nullptr;
        p = skip_ws(p, end);
        if (p >= end) return nullptr;
        if (*p == '}') return p + 1;
        if (*p != ',') return nullptr;
        p = skip_ws(p + 1, end);
      }
    }
    case '[': {
      if (depth_left <= 0) return nullptr;
      p = skip_ws(p + 1, end);
      if (p < end && *p == ']') return p + 1;
      for (;;) {
        p = scan_value(p, end, depth_left - 1);
        if (!p) return nullptr;
        p = skip_ws(p, end);
        if (p >= end) return nullptr;
        if (*p == ']') return p + 1;
        if (*p != ',') return nullptr;
        p = skip_ws(p + 1, end);
      }
    }
    default: return scan_number(p, end);
  }
}

}  // namespace json_scan

bool is_valid_json_value_full(std::string_view text, int max_depth) {
  ShapeHandler h(max_depth);
  return parse_whole(text, h);
}

bool is_valid_json_value(std::string_view text, int max_depth) {
  // The common case without RapidJSON; anything else it decides.
  const char* end = text.data() + text.size();
  const char* p = json_scan::scan_value(json_scan::skip_ws(text.data(), end), end, max_depth);
  if (p && json_scan::skip_ws(p, end) == end) return true;
  return is_valid_json_value_full(text, max_depth);
}

bool is_valid_json_id(std::string_view text) {
  ShapeHandler h;
  return parse_whole(text, h) && (h.root == ShapeHandler::kString || h.root == ShapeHandler::kInteger);
}

}  // namespace rtcore::protocol
