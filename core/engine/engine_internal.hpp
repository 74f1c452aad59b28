// Shared by the files that implement EngineCore (not a public header): the
// engine's fixed limits and small helpers. EngineCore is split along its
// jobs: engine_core.cpp (lifecycle, housekeeping, gauges), engine_connections.cpp
// (upgrades, limits, deferred decisions, receive, close), engine_messages.cpp
// (client messages, authorization, rooms' and presence requests),
// engine_delivery.cpp (queues, coalesced writes, closes, fan-out),
// engine_host_api.cpp (the server-side API and the backplane's sink).
#pragma once

#include <cstddef>
#include <cstdint>

#include "protocol/error_code.hpp"

namespace rtcore::engine_detail {

using protocol::ErrorCode;

// Frames coalesced into one socket write (see STACK-NOTES: frames per
// send() decide fan-out cost).
inline constexpr size_t kCoalesceBytes = 64 * 1024;
// The reassembly buffer keeps at most this much capacity between messages.
inline constexpr size_t kKeptRxCapacity = 64 * 1024;
// Longest a queued frame waits for more to coalesce with (see flush_dirty).
inline constexpr uint64_t kMaxFlushDelayNs = 2'000'000;
// A deferred on_connect decision must arrive within this time.
inline constexpr uint64_t kConnectDecisionTimeoutMs = 10000;
inline constexpr uint16_t kCloseDecisionTimeout = 4408;
// Messages kept for a connection still waiting for its decision.
inline constexpr size_t kMaxHeldMessages = 64;
// Rate-limit violations within this window that close the connection.
inline constexpr uint64_t kViolationWindowMs = 10000;
inline constexpr uint32_t kViolationsBeforeClose = 100;

inline uint16_t seconds_from_ms(uint32_t ms) {
  uint32_t s = (ms + 999) / 1000;
  return static_cast<uint16_t>(s == 0 ? 1 : (s > 65535 ? 65535 : s));
}

}  // namespace rtcore::engine_detail
