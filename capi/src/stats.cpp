// Counters: a lock-free snapshot copied into the caller's rtc_stats.
#include <cstring>

#include "internal.hpp"

extern "C" {

void rtc_stats_init(rtc_stats* stats) {
  if (!stats) return;
  std::memset(stats, 0, sizeof *stats);
  stats->struct_size = sizeof *stats;
}

int rtc_engine_stats(const rtc_engine* engine, rtc_stats* stats) {
  if (!engine || !stats || stats->struct_size < sizeof(uint32_t)) return RTC_EINVAL;
  const rtcore::EngineStats& s = engine->engine->stats();
  rtc_stats full;
  full.struct_size = stats->struct_size;
  full.connections = s.connections.get();
  full.users = s.users.get();
  full.rooms = s.rooms.get();
  full.messages_in = s.messages_in.get();
  full.messages_out = s.messages_out.get();
  full.bytes_out = s.bytes_out.get();
  full.drops = s.drops.get();
  full.errors_sent = s.errors_sent.get();
  full.connections_total = s.connections_total.get();
  full.rejected_upgrades = s.rejected_upgrades.get();
  full.slow_consumer_closes = s.slow_consumer_closes.get();
  full.oversize_closes = s.oversize_closes.get();
  const rtcore::BackplaneStats& b = s.backplane;
  bool redis = !engine->engine->config().redis_url.empty();
  full.backplane_connected = redis ? b.connected.get() : 1;
  full.backplane_reconnects = b.reconnects.get();
  full.backplane_buffered_bytes = b.buffered_bytes.get();
  full.backplane_dropped = b.dropped.get();
  full.backplane_invalid = b.invalid_envelopes.get();
  full.backplane_published = b.published.get();
  full.backplane_received = b.received.get();
  full.auth_failures = s.auth_failures.get();
  full.origin_refusals = s.origin_refusals.get();
  full.connection_limit_refusals = s.connection_limit_refusals.get();
  full.user_limit_refusals = s.user_limit_refusals.get();
  full.rate_limited = s.rate_limited.get();
  full.rate_limit_closes = s.rate_limit_closes.get();
  full.idle_closes = s.idle_closes.get();
  full.forbidden = s.forbidden.get();
  full.internal_errors = s.internal_errors.get() + b.internal_errors.get();
  size_t n = stats->struct_size < sizeof full ? stats->struct_size : sizeof full;
  std::memcpy(stats, &full, n);
  return RTC_OK;
}

}  // extern "C"
