#include "transport/upgrade_request.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace rtcore::transport {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
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

// Percent-decodes a path; false when it is not in the plain form (a bad
// escape, or a decoded byte that lws would treat specially: controls,
// space, '/', '\\', '?', '#', '%').
bool decode_path(std::string_view raw, std::string& out) {
  out.clear();
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    auto c = static_cast<unsigned char>(raw[i]);
    if (c == '%') {
      if (i + 2 >= raw.size()) return false;
      int hi = hex_value(raw[i + 1]), lo = hex_value(raw[i + 2]);
      if (hi < 0 || lo < 0) return false;
      auto b = static_cast<unsigned char>(hi * 16 + lo);
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
      if (i + 2 >= raw.size()) return false;
      int hi = hex_value(raw[i + 1]), lo = hex_value(raw[i + 2]);
      if (hi < 0 || lo < 0) return false;
      auto b = static_cast<unsigned char>(hi * 16 + lo);
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
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

bool is_token_byte(unsigned char c) {
  if (std::isalnum(c)) return true;
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
    if (!std::isalnum(c) && c != '+' && c != '/') return false;
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
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(input, n + kGuid.size(), digest);
  char b64[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64), digest, SHA_DIGEST_LENGTH);
  return std::string(b64, static_cast<size_t>(len));
}

}  // namespace rtcore::transport
