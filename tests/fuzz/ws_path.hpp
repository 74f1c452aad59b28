// The upgrade path rule, as the fuzz targets see it.
//
// Today the rule lives inside EngineCore::check_upgrade (core/engine/
// engine_core.cpp), which needs an event loop, after the transport's own
// check (transport/upgrade_rules.hpp: a decoded space in the id is an
// ambiguous '+' and refused with 400 before the engine sees it): a path
// starting with "/ws/"
// must continue with a valid user id (else 400); the bare path "/ws" carries
// no user id (the JWT's sub supplies it; without JWT auth it is a 400);
// anything else is a 404. This header mirrors that logic so it can be fuzzed
// on its own. When the engine gains a pure `parse_ws_path`, build with
// -DRTCORE_FUZZ_CORE_WS_PATH and adapt the one function below to call it:
// the target itself does not change.
#pragma once

#include <string_view>

#include "protocol/validate.hpp"
#include "transport/upgrade_rules.hpp"

#ifdef RTCORE_FUZZ_CORE_WS_PATH
#include "protocol/ws_path.hpp"  // expected home of the extracted function
#endif

namespace rtcore::fuzz {

struct WsPathResult {
  int http_status = 0;    // 0: accepted; 404: not a WebSocket path; 400: bad user id
  std::string_view user;  // the path's user id when accepted (a view into path);
                          // empty for the bare "/ws" (user from the token)
};

inline WsPathResult ws_path(std::string_view path) {
#ifdef RTCORE_FUZZ_CORE_WS_PATH
  auto r = rtcore::protocol::parse_ws_path(path);  // adapt to its final signature
  return {r.http_status, r.user};
#else
  if (!rtcore::transport::ambiguous_path_user(path).empty()) return {400, {}};
  // Copy of the path checks in EngineCore::check_upgrade.
  static constexpr std::string_view kPrefix = "/ws/";
  if (path.substr(0, kPrefix.size()) == kPrefix) {
    std::string_view user = path.substr(kPrefix.size());
    if (!rtcore::protocol::is_valid_user_id(user)) return {400, {}};
    return {0, user};
  }
  if (path != "/ws") return {404, {}};
  return {0, {}};
#endif
}

}  // namespace rtcore::fuzz
