// Upgrade requests that libwebsockets 4.1.6 would mangle, recognised before
// the engine reads them. Pure functions (no lws), so they are unit-tested
// and fuzzed on their own; WsServer refuses what they name with HTTP 400
// and the returned reason as the body.
#pragma once

#include <cstddef>
#include <string_view>

namespace rtcore::transport {

inline constexpr std::string_view kAmbiguousPlus =
    "'+' in a user id is ambiguous here (the server receives it as a space, like %20); "
    "send a plus percent-encoded as %2B";

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

}  // namespace rtcore::transport
