#include "transport/upgrade_request.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "common/hex.hpp"

namespace rtcore::transport {

namespace {

// ASCII only, inline: the request is read byte by byte, and the C library's
// locale-aware ctype calls were a tenth of the own path's cost per
// connection (callgrind).
constexpr bool is_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}
constexpr unsigned char to_lower(unsigned char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<unsigned char>(c | 0x20) : c;
}

uint32_t rol(uint32_t x, int n) {
  return (x << n) | (x >> (32 - n));
}

void sha1_block(uint32_t h[5], const unsigned char* p) {
  uint32_t w[80];
  for (int i = 0; i < 16; ++i)
    w[i] = (uint32_t{p[4 * i]} << 24) | (uint32_t{p[4 * i + 1]} << 16) | (uint32_t{p[4 * i + 2]} << 8) |
           p[4 * i + 3];
  for (int i = 16; i < 80; ++i) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  auto step = [&](uint32_t f, uint32_t k, uint32_t wi) {
    uint32_t t = rol(a, 5) + f + e + k + wi;
    e = d;
    d = c;
    c = rol(b, 30);
    b = a;
    a = t;
  };
  for (int i = 0; i < 20; ++i) step((b & c) | (~b & d), 0x5A827999, w[i]);
  for (int i = 20; i < 40; ++i) step(b ^ c ^ d, 0x6ED9EBA1, w[i]);
  for (int i = 40; i < 60; ++i) step((b & c) | (b & d) | (c & d), 0x8F1BBCDC, w[i]);
  for (int i = 60; i < 80; ++i) step(b ^ c ^ d, 0xCA62C1D6, w[i]);
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
}

}  // namespace

// SHA-1 (FIPS 180-4), for Sec-WebSocket-Accept only (RFC 6455 uses it as a
// checksum, not for security). OpenSSL 3's one-shot SHA1() fetches the
// algorithm on every call: ~8,900 instructions per connection.
void sha1(const unsigned char* msg, size_t len, unsigned char out[20]) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  size_t off = 0;
  for (; len - off >= 64; off += 64) sha1_block(h, msg + off);
  // The tail, 0x80, zeros and the length in bits: one or two blocks.
  unsigned char tail[128] = {};
  size_t rest = len - off;
  if (rest) std::memcpy(tail, msg + off, rest);
  tail[rest] = 0x80;
  size_t n = rest + 1 + 8 <= 64 ? 64 : 128;
  const uint64_t bits = static_cast<uint64_t>(len) * 8;
  for (int k = 0; k < 8; ++k)
    tail[n - 1 - static_cast<size_t>(k)] = static_cast<unsigned char>(bits >> (8 * k));
  sha1_block(h, tail);
  if (n == 128) sha1_block(h, tail + 64);
  for (int i = 0; i < 5; ++i)
    for (int k = 0; k < 4; ++k) out[i * 4 + k] = static_cast<unsigned char>(h[i] >> (24 - 8 * k));
}

namespace {

bool is_unreserved(unsigned char c) {
  return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

// Raw path bytes taken as they are. Anything else ('+', which lws reads as
// a space; ';', '&'; spaces, controls, raw non-ASCII) is lws's to judge.
bool is_plain_path_byte(unsigned char c) {
  if (is_unreserved(c) || c == '/') return true;
  constexpr std::string_view kSubDelims = "@:!$'()*,=";
  return kSubDelims.find(static_cast<char>(c)) != std::string_view::npos;
}

// Raw query bytes taken as they are (the same, without '/', and '&' as the
// separator).
bool is_plain_query_byte(unsigned char c) {
  if (is_unreserved(c)) return true;
  constexpr std::string_view kSubDelims = "@:!$'()*,=/";
  return kSubDelims.find(static_cast<char>(c)) != std::string_view::npos;
}

// The byte of the "%XX" escape at raw[i], or -1 for a bad or cut escape.
int escaped_byte(std::string_view raw, size_t i) {
  if (i + 2 >= raw.size()) return -1;
  int hi = hex_value(raw[i + 1]), lo = hex_value(raw[i + 2]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

// Percent-decodes a path; false when it is not in the plain form (a bad
// escape, or a decoded byte that lws would treat specially: controls,
// space, '/', '\\', '?', '#', '%').
bool decode_path(std::string_view raw, std::string& out) {
  out.clear();
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    auto c = static_cast<unsigned char>(raw[i]);
    if (c == '%') {
      int b = escaped_byte(raw, i);
      if (b <= 0x20 || b == 0x7f || b == '/' || b == '\\' || b == '?' || b == '#' || b == '%') return false;
      out.push_back(static_cast<char>(b));
      i += 2;
    } else if (is_plain_path_byte(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      return false;
    }
  }
  // Forms lws would rewrite: "//", a trailing '/', "." and ".." segments.
  if (out.empty() || out.front() != '/') return false;
  if (out.size() > 1 && out.back() == '/') return false;
  if (out.find("//") != std::string::npos) return false;
  for (size_t start = 1; start <= out.size();) {
    size_t end = out.find('/', start);
    if (end == std::string::npos) end = out.size();
    std::string_view segment(out.data() + start, end - start);
    if (segment == "." || segment == "..") return false;
    start = end + 1;
  }
  return true;
}

// Decodes one query argument into out; false outside the plain form.
bool decode_query_arg(std::string_view raw, std::string& out) {
  out.clear();
  for (size_t i = 0; i < raw.size(); ++i) {
    auto c = static_cast<unsigned char>(raw[i]);
    if (c == '%') {
      int b = escaped_byte(raw, i);
      if (b < 0x20 || b == 0x7f) return false;
      out.push_back(static_cast<char>(b));
      i += 2;
    } else if (is_plain_query_byte(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      return false;
    }
  }
  return true;
}

bool encode_query(std::string_view raw, std::string& out) {
  out.clear();
  if (raw.empty()) return false;  // "?" alone
  std::string arg;
  for (size_t start = 0; start <= raw.size();) {
    size_t end = raw.find('&', start);
    if (end == std::string_view::npos) end = raw.size();
    std::string_view part = raw.substr(start, end - start);
    if (part.empty() || !decode_query_arg(part, arg)) return false;
    // lws turns an escaped '=' before the argument's first literal one into
    // '_' ("a%3Db=c" arrives as "a_b=c"): its path's business.
    size_t literal_eq = part.find('=');
    size_t escaped_eq = std::min(part.find("%3D"), part.find("%3d"));
    if (escaped_eq != std::string_view::npos && escaped_eq < literal_eq) return false;
    if (!out.empty()) out.push_back('&');
    size_t eq = arg.find('=');
    append_query_part(out, std::string_view(arg).substr(0, eq));
    if (eq != std::string::npos) {
      out.push_back('=');
      append_query_part(out, std::string_view(arg).substr(eq + 1));
    }
    start = end + 1;
  }
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (to_lower(static_cast<unsigned char>(a[i])) != to_lower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

bool is_token_byte(unsigned char c) {
  if (is_alnum(c)) return true;
  constexpr std::string_view kTchar = "!#$%&'*+-.^_`|~";
  return kTchar.find(static_cast<char>(c)) != std::string_view::npos;
}

// "keep-alive, Upgrade" lists the upgrade token.
bool lists_upgrade(std::string_view value) {
  for (size_t start = 0; start <= value.size();) {
    size_t end = value.find(',', start);
    if (end == std::string_view::npos) end = value.size();
    std::string_view item = value.substr(start, end - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (iequals(item, "upgrade")) return true;
    start = end + 1;
  }
  return false;
}

bool is_websocket_key(std::string_view key) {
  // 16 random bytes, base64: 22 characters and "==".
  if (key.size() != 24 || key.substr(22) != "==") return false;
  for (size_t i = 0; i < 22; ++i) {
    auto c = static_cast<unsigned char>(key[i]);
    if (!is_alnum(c) && c != '+' && c != '/') return false;
  }
  return true;
}

enum Known : int {
  kUpgradeHeader = static_cast<int>(kForwardedHeaders.size()),
  kConnectionHeader,
  kKeyHeader,
  kVersionHeader,
  kKnownCount,
};

// Which known header a name is: an index into kForwardedHeaders, one of
// Known, -1 for a header that is ignored, -2 for one that makes the request
// not plain (a body, or something lws would treat specially).
int classify(std::string_view name) {
  for (size_t i = 0; i < kForwardedHeaders.size(); ++i)
    if (iequals(name, kForwardedHeaders[i])) return static_cast<int>(i);
  if (iequals(name, "upgrade")) return kUpgradeHeader;
  if (iequals(name, "connection")) return kConnectionHeader;
  if (iequals(name, "sec-websocket-key")) return kKeyHeader;
  if (iequals(name, "sec-websocket-version")) return kVersionHeader;
  if (iequals(name, "content-length") || iequals(name, "transfer-encoding") || iequals(name, "expect"))
    return -2;
  return -1;
}

}  // namespace

const char* http_status_text(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

size_t format_refusal_body(char* out, size_t cap, int status, std::string_view reason) {
  int n = reason.empty() ? snprintf(out, cap, "%d %s\n", status, http_status_text(status))
                         : snprintf(out, cap, "%d %s: %.*s\n", status, http_status_text(status),
                                    static_cast<int>(std::min(reason.size(), size_t{512})), reason.data());
  return n <= 0 ? 0 : std::min(static_cast<size_t>(n), cap - 1);
}

void append_query_part(std::string& out, std::string_view part) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : part) {
    if (is_unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
}

RequestParse parse_upgrade_request(std::string_view in, ParsedUpgrade& out) {
  constexpr std::string_view kMethod = "GET ";
  if (in.substr(0, kMethod.size()) != kMethod.substr(0, std::min(in.size(), kMethod.size())))
    return RequestParse::kOther;
  size_t head_end = in.substr(0, kMaxOwnRequest).find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    if (in.size() >= kMaxOwnRequest) return RequestParse::kOther;
    // A line ended by a bare LF is not the plain form either.
    for (size_t i = in.find('\n'); i != std::string_view::npos; i = in.find('\n', i + 1))
      if (i == 0 || in[i - 1] != '\r') return RequestParse::kOther;
    return RequestParse::kIncomplete;
  }
  std::string_view head = in.substr(0, head_end + 2);  // every line with its CRLF
  size_t line_end = head.find("\r\n");
  std::string_view request_line = head.substr(0, line_end);
  constexpr std::string_view kVersion = " HTTP/1.1";
  if (request_line.size() < kMethod.size() + kVersion.size() ||
      request_line.substr(request_line.size() - kVersion.size()) != kVersion)
    return RequestParse::kOther;
  std::string_view target =
      request_line.substr(kMethod.size(), request_line.size() - kMethod.size() - kVersion.size());
  if (target.empty() || target.front() != '/') return RequestParse::kOther;
  size_t qmark = target.find('?');
  if (!decode_path(target.substr(0, qmark), out.path)) return RequestParse::kOther;
  out.query.clear();
  if (qmark != std::string_view::npos && !encode_query(target.substr(qmark + 1), out.query))
    return RequestParse::kOther;

  std::array<std::string_view, kKnownCount> values{};
  std::array<bool, kKnownCount> seen{};
  for (size_t pos = line_end + 2; pos < head.size();) {
    size_t end = head.find("\r\n", pos);
    std::string_view line = head.substr(pos, end - pos);
    pos = end + 2;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return RequestParse::kOther;
    std::string_view name = line.substr(0, colon);
    for (unsigned char c : name)
      if (!is_token_byte(c)) return RequestParse::kOther;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    for (unsigned char c : value)
      if ((c < 0x20 && c != '\t') || c >= 0x7f) return RequestParse::kOther;
    if (!value.empty() && (value.back() == ' ' || value.back() == '\t')) return RequestParse::kOther;
    int which = classify(name);
    if (which == -2) return RequestParse::kOther;
    if (which < 0) continue;
    // Repeated or empty known headers: lws joins or drops them its own way.
    if (seen[which] || value.empty()) return RequestParse::kOther;
    seen[which] = true;
    values[which] = value;
  }
  if (!iequals(values[kUpgradeHeader], "websocket") || !lists_upgrade(values[kConnectionHeader]) ||
      values[kVersionHeader] != "13" || !is_websocket_key(values[kKeyHeader]))
    return RequestParse::kOther;
  out.key = values[kKeyHeader];
  out.headers.clear();
  for (size_t i = 0; i < kForwardedHeaders.size(); ++i)
    if (seen[i]) out.headers.emplace_back(kForwardedHeaders[i], values[i]);
  out.protocols = values[5];
  out.length = head_end + 4;
  return RequestParse::kUpgrade;
}

std::string websocket_accept(std::string_view key) {
  static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char input[64 + 36];
  size_t n = std::min(key.size(), size_t{64});
  std::memcpy(input, key.data(), n);
  std::memcpy(input + n, kGuid.data(), kGuid.size());
  unsigned char digest[20];
  sha1(input, n + kGuid.size(), digest);
  static constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve(28);
  for (size_t i = 0; i < 20; i += 3) {
    uint32_t v = static_cast<uint32_t>(digest[i]) << 16;
    if (i + 1 < 20) v |= static_cast<uint32_t>(digest[i + 1]) << 8;
    if (i + 2 < 20) v |= digest[i + 2];
    out.push_back(kBase64[(v >> 18) & 63]);
    out.push_back(kBase64[(v >> 12) & 63]);
    out.push_back(i + 1 < 20 ? kBase64[(v >> 6) & 63] : '=');
    out.push_back(i + 2 < 20 ? kBase64[v & 63] : '=');
  }
  return out;
}

}  // namespace rtcore::transport
