// Upgrade requests that libwebsockets 4.1.6 would mangle or drop without an
// answer, recognised before it gets the chance. Pure functions (no lws), so
// they are unit-tested and fuzzed on their own; WsServer refuses what they
// name with HTTP 400 and the returned reason as the body.
#pragma once

#include <cstddef>
#include <string_view>

namespace rtcore::transport {

// The only subprotocol lws is told about (WsServer's protocol table).
inline constexpr std::string_view kSubprotocol = "rtcore.v1";
// lws_process_ws_upgrade copies Sec-WebSocket-Protocol into char[128] with
// lws_hdr_copy(..., 127) (fails from 127 bytes on) and each name into
// char[64] with lws_tokenize_cstr (fails from 63 bytes on). Either failure,
// a malformed list, or a list without a protocol it knows makes it close
// the socket with no HTTP response at all.
inline constexpr size_t kMaxSubprotocolList = 126;
inline constexpr size_t kMaxSubprotocolName = 62;

inline constexpr std::string_view kAmbiguousPlus =
    "'+' in a user id is ambiguous here (the server receives it as a space, like %20); "
    "send a plus percent-encoded as %2B";
inline constexpr std::string_view kSubprotocolListTooLong =
    "the Sec-WebSocket-Protocol header is longer than 126 bytes (a limit of libwebsockets); "
    "send the token as the ?token= query argument or an Authorization: Bearer header";
inline constexpr std::string_view kSubprotocolNameTooLong =
    "a Sec-WebSocket-Protocol entry before rtcore.v1 is longer than 62 bytes (a limit of libwebsockets); "
    "list rtcore.v1 first, or send the token as the ?token= query argument or an Authorization: Bearer "
    "header";
inline constexpr std::string_view kSubprotocolMalformed =
    "malformed Sec-WebSocket-Protocol list (expected comma-separated tokens, e.g. 'rtcore.v1, bearer.TOKEN')";
inline constexpr std::string_view kSubprotocolMissing =
    "Sec-WebSocket-Protocol does not list rtcore.v1; send 'rtcore.v1, bearer.TOKEN', or the token as the "
    "?token= query argument or an Authorization: Bearer header";

// Why the user id in a decoded path cannot be trusted, or empty when it can.
// lws turns a raw '+' in the path into a space while it decodes (RFC 3986
// says it is a plus), and keeps no raw copy of the path: a space in the
// decoded id may have been '+' or %20. Registering either reading could
// hand one user's messages to another, so such an id is refused. %2B
// decodes to a plus that lws leaves alone, so it is the way to send one.
inline std::string_view ambiguous_path_user(std::string_view path) {
  constexpr std::string_view kPrefix = "/ws/";
  if (path.substr(0, kPrefix.size()) != kPrefix) return {};
  return path.find(' ', kPrefix.size()) == std::string_view::npos ? std::string_view{} : kAmbiguousPlus;
}

// A byte lws's tokenizer (RFC 7230 delimiters, '-' and '.' inside tokens)
// keeps inside a token: bytes from 0x80 on are allowed there too.
inline bool is_subprotocol_token_byte(unsigned char c) {
  if (c <= 0x20 || c == 0x7f) return false;
  constexpr std::string_view kDelimiters = "()<>@,;:\\\"/[]?={}";
  return kDelimiters.find(static_cast<char>(c)) == std::string_view::npos;
}

// Why lws would drop an upgrade with this Sec-WebSocket-Protocol value
// (comma-joined when sent as several headers), or empty when lws accepts it.
// Mirrors lws: the entries are read in order until the first that is
// rtcore.v1; whatever follows it is never looked at.
inline std::string_view subprotocol_problem(std::string_view list) {
  if (list.empty()) return {};  // lws takes the default protocol
  if (list.size() > kMaxSubprotocolList) return kSubprotocolListTooLong;
  for (size_t start = 0; start <= list.size();) {
    size_t end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    std::string_view entry = list.substr(start, end - start);
    while (!entry.empty() && (entry.front() == ' ' || entry.front() == '\t')) entry.remove_prefix(1);
    while (!entry.empty() && (entry.back() == ' ' || entry.back() == '\t')) entry.remove_suffix(1);
    size_t n = 0;
    while (n < entry.size() && is_subprotocol_token_byte(static_cast<unsigned char>(entry[n]))) ++n;
    std::string_view token = entry.substr(0, n);
    if (token.empty()) return kSubprotocolMalformed;  // ",x", "x,,y", "\"x\""
    if (token.size() > kMaxSubprotocolName) return kSubprotocolNameTooLong;
    if (token == kSubprotocol) return {};                 // lws binds it and stops reading
    if (n != entry.size()) return kSubprotocolMalformed;  // "x y", "a=b"
    start = end + 1;
  }
  return kSubprotocolMissing;
}

}  // namespace rtcore::transport
