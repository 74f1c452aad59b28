// The engine's counters (see rtc_stats in rtcore.h for their meaning).
#pragma once

#include "backplane/backplane_stats.hpp"
#include "common/counter.hpp"

namespace rtcore {

struct EngineStats {
  Counter connections, users, rooms;
  Counter messages_in, messages_out, bytes_out, drops, errors_sent;
  Counter connections_total, rejected_upgrades, slow_consumer_closes, oversize_closes;
  // Protections: why upgrades were refused, and what limits did.
  Counter auth_failures, origin_refusals, connection_limit_refusals, user_limit_refusals;
  Counter rate_limited, rate_limit_closes, idle_closes, forbidden;
  // Exceptions caught where a C library called us (see common/guard.hpp).
  Counter internal_errors;
  BackplaneStats backplane;
};

}  // namespace rtcore
