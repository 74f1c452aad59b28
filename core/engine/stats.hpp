// The engine's counters (see rtc_stats in rtcore.h for their meaning).
#pragma once

#include <array>

#include "backplane/backplane_stats.hpp"
#include "common/counter.hpp"
#include "metrics/labels.hpp"

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
  Counter queued_bytes;  // gauge, sampled by the housekeeping timer
  // History (engine/engine_history.cpp; the backend's own counters are in
  // backplane.history): holes on a live stream filled from the history;
  // gaps announced to clients (code `gap`); recoveries answered
  // recovered:true / recovered:false.
  Counter history_fills, history_gaps;
  Counter history_recoveries, history_recovery_failures;
  BackplaneStats backplane;

  // Labelled families, /metrics only (metrics/labels.hpp).
  std::array<Counter, metrics::kMessageTypes.size()> messages_by_type;
  std::array<Counter, metrics::kFrameKinds.size()> frames_by_kind;
  std::array<Counter, metrics::kCloseCodes.size()> closes_by_code;
  std::array<Counter, metrics::kDropReasons.size()> drops_by_reason;  // sums to drops
};

}  // namespace rtcore
