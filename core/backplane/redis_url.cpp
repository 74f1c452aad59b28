#include "backplane/redis_url.hpp"

#include <cctype>
#include <charconv>

namespace rtcore {
namespace {

bool all_digits(std::string_view s, bool hex) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(hex ? std::isxdigit(static_cast<unsigned char>(c)) : std::isdigit(static_cast<unsigned char>(c))))
      return false;
  return true;
}

// from_chars would take a sign: only digits are numbers here.
bool parse_int(std::string_view s, int min, int max, int& out) {
  if (!all_digits(s, false)) return false;
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < min || v > max) return false;
  out = v;
  return true;
}

bool parse_hex(std::string_view s, int& out) {
  if (s.size() != 2 || !all_digits(s, true)) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  return ec == std::errc() && p == s.data() + s.size() && s.size() == 2;
}

// %XX escapes in user info (passwords may hold '@' or ':').
bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    int v = 0;
    if (i + 2 >= in.size() || !parse_hex(in.substr(i + 1, 2), v)) return false;
    out.push_back(static_cast<char>(v));
    i += 2;
  }
  return true;
}

}  // namespace

std::optional<RedisAddress> parse_redis_url(std::string_view url, std::string* error) {
  auto fail = [&](const char* why) -> std::optional<RedisAddress> {
    if (error) *error = why;
    return std::nullopt;
  };
  RedisAddress a;
  constexpr std::string_view kUnix = "unix://", kRedis = "redis://";
  if (url.substr(0, kUnix.size()) == kUnix) {
    std::string_view rest = url.substr(kUnix.size());
    if (auto q = rest.find("?db="); q != std::string_view::npos) {
      if (!parse_int(rest.substr(q + 4), 0, 1 << 20, a.db)) return fail("bad db number");
      rest = rest.substr(0, q);
    }
    if (rest.empty() || rest[0] != '/') return fail("unix:// needs an absolute path");
    a.unix_path = rest;
    return a;
  }
  if (url.substr(0, kRedis.size()) != kRedis) return fail("the URL must start with redis:// or unix://");
  std::string_view rest = url.substr(kRedis.size());
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && !parse_int(db, 0, 1 << 20, a.db)) return fail("bad db number");
    rest = rest.substr(0, slash);
  }
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    std::string_view user = userinfo, password;
    if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
      user = userinfo.substr(0, colon);
      password = userinfo.substr(colon + 1);
    } else {
      // redis://secret@host is the common short form for a password.
      password = userinfo;
      user = {};
    }
    if (!percent_decode(user, a.user) || !percent_decode(password, a.password))
      return fail("bad percent escape in credentials");
  }
  if (!rest.empty() && rest[0] == '[') {  // [IPv6]:port
    auto close = rest.find(']');
    if (close == std::string_view::npos) return fail("unterminated [IPv6 address]");
    a.host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (!rest.empty() && (rest[0] != ':' || !parse_int(rest.substr(1), 1, 65535, a.port)))
      return fail("bad port");
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    a.host = rest.substr(0, colon);
    if (!parse_int(rest.substr(colon + 1), 1, 65535, a.port)) return fail("bad port");
  } else {
    a.host = rest;
  }
  if (a.host.empty()) return fail("missing host");
  return a;
}

}  // namespace rtcore
