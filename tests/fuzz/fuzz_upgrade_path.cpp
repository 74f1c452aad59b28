// libFuzzer target: the upgrade path / user id rules (docs/protocol.md section
// 1) and the Redis URL parser (both read strings from outside the process).
//
// Every input is tried as an upgrade path and as a Redis URL:
//  - ws_path() (see ws_path.hpp) accepts exactly "/ws/<user id>" and the
//    bare "/ws" (user id from the token), and the user id it returns obeys
//    the rules and holds no space (an ambiguous '+'), checked against an
//    independent reference
//    (UTF-8 by the Unicode table of well-formed sequences, controls by code
//    point);
//  - is_valid_utf8 / has_control_chars / is_valid_room / is_valid_user_id
//    agree with those references on the raw bytes and on the part after
//    the prefix;
//  - subprotocol_problem (the Sec-WebSocket-Protocol values lws 4.1.6 would
//    drop without an answer) returns one of its reasons or nothing, and
//    what it lets through is at most 126 bytes with rtcore.v1 read at the
//    start of an entry;
//  - parse_redis_url never crashes, fails with a message, and what it
//    accepts is in range and round-trips through a URL rebuilt from it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "backplane/redis_url.hpp"
#include "fuzz_check.hpp"
#include "protocol/validate.hpp"
#include "ws_path.hpp"

using namespace rtcore::protocol;
using rtcore::fuzz::reference_has_controls;
using rtcore::fuzz::reference_utf8;
using rtcore::fuzz::strict;

namespace {

bool reference_user_id(std::string_view u) {
  return !u.empty() && u.size() <= 128 && reference_utf8(u) && !reference_has_controls(u) &&
         u.find('/') == std::string_view::npos;
}

// What may follow the transport into the engine: no space (lws turned a '+'
// into one, or it was %20; either way ambiguous).
bool reference_path_user(std::string_view u) {
  return reference_user_id(u) && u.find(' ') == std::string_view::npos;
}

void check_id_rules(std::string_view s) {
  const bool utf8 = is_valid_utf8(s);
  FUZZ_CHECK(utf8 == reference_utf8(s));
  if (utf8) FUZZ_CHECK(has_control_chars(s) == reference_has_controls(s));
  const bool room = is_valid_room(s);
  FUZZ_CHECK(room ==
             (!s.empty() && s.size() <= kMaxIdBytes && reference_utf8(s) && !reference_has_controls(s)));
  FUZZ_CHECK(is_valid_user_id(s) == reference_user_id(s));
}

void check_ws_path(std::string_view path) {
  rtcore::fuzz::WsPathResult r = rtcore::fuzz::ws_path(path);
  const bool prefixed = path.size() >= 4 && path.substr(0, 4) == "/ws/";
  if (r.http_status == 0 && path == "/ws") {
    FUZZ_CHECK(r.user.empty());
  } else if (r.http_status == 0) {
    FUZZ_CHECK(prefixed);
    FUZZ_CHECK(r.user.data() == path.data() + 4 && r.user.size() == path.size() - 4);
    FUZZ_CHECK(reference_path_user(r.user));
  } else if (r.http_status == 400) {
    FUZZ_CHECK(prefixed && !reference_path_user(path.substr(4)));
  } else {
    FUZZ_CHECK(r.http_status == 404);
    FUZZ_CHECK(!prefixed && path != "/ws");
  }
}

void check_subprotocols(std::string_view list) {
  namespace t = rtcore::transport;
  std::string_view why = t::subprotocol_problem(list);
  if (!why.empty()) {
    FUZZ_CHECK(why == t::kSubprotocolListTooLong || why == t::kSubprotocolNameTooLong ||
               why == t::kSubprotocolMalformed || why == t::kSubprotocolMissing);
    FUZZ_CHECK(why != t::kSubprotocolListTooLong || list.size() > t::kMaxSubprotocolList);
    return;
  }
  if (list.empty()) return;
  FUZZ_CHECK(list.size() <= t::kMaxSubprotocolList);
  // rtcore.v1 starts the list or follows a comma and optional blanks.
  bool found = false;
  for (size_t at = list.find(t::kSubprotocol); at != std::string_view::npos && !found;
       at = list.find(t::kSubprotocol, at + 1)) {
    size_t b = at;
    while (b > 0 && (list[b - 1] == ' ' || list[b - 1] == '\t')) --b;
    found = b == 0 || list[b - 1] == ',';
  }
  FUZZ_CHECK(found);
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

std::string percent_encode_all(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out += '%';
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
  }
  return out;
}

void check_redis_url(std::string_view url) {
  std::string error;
  auto a = rtcore::parse_redis_url(url, &error);
  if (!a) {
    FUZZ_CHECK(!error.empty());
    return;
  }
  FUZZ_CHECK(a->port >= 1 && a->port <= 65535);
  FUZZ_CHECK(a->db >= 0 && a->db <= (1 << 20));
  std::string rebuilt;
  if (!a->unix_path.empty()) {
    FUZZ_CHECK(url.substr(0, 7) == "unix://");
    FUZZ_CHECK(a->host.empty() && a->unix_path[0] == '/');
    rebuilt = "unix://" + a->unix_path + "?db=" + std::to_string(a->db);
  } else {
    FUZZ_CHECK(url.substr(0, 8) == "redis://");
    FUZZ_CHECK(!a->host.empty());
    FUZZ_CHECK(a->host.find('/') == std::string::npos && a->host.find('@') == std::string::npos);
    if (strict()) {
      // Every '%' in the credentials starts exactly two hex digits, and the
      // db number is plain digits (no sign).
      std::string_view rest = url.substr(8);
      std::string_view db;
      if (auto slash = rest.find('/'); slash != std::string_view::npos) {
        db = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
      }
      if (!db.empty()) FUZZ_CHECK(all_digits(db));
      if (auto at = rest.rfind('@'); at != std::string_view::npos) {
        std::string_view userinfo = rest.substr(0, at);
        for (size_t i = 0; i < userinfo.size(); ++i)
          if (userinfo[i] == '%')
            FUZZ_CHECK(i + 2 < userinfo.size() && is_hex(userinfo[i + 1]) && is_hex(userinfo[i + 2]));
      }
    }
    // A host starting with '[' came from the bracketed form, which cannot
    // hold ']'; any other host is written plainly and split at the last ':'.
    std::string host = a->host[0] == '[' ? "[" + a->host + "]" : a->host;
    if (a->host[0] == '[') FUZZ_CHECK(a->host.find(']') == std::string::npos);
    rebuilt = "redis://" + percent_encode_all(a->user) + ":" + percent_encode_all(a->password) + "@" + host +
              ":" + std::to_string(a->port) + "/" + std::to_string(a->db);
  }
  auto b = rtcore::parse_redis_url(rebuilt, &error);
  FUZZ_CHECK(b.has_value());
  FUZZ_CHECK(b->host == a->host && b->port == a->port && b->unix_path == a->unix_path);
  FUZZ_CHECK(b->user == a->user && b->password == a->password && b->db == a->db);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  check_id_rules(in);
  if (in.size() >= 4) check_id_rules(in.substr(4));
  check_ws_path(in);
  check_subprotocols(in);
  check_redis_url(in);
  return 0;
}
