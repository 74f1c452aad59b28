// The one list of the engine's counters and gauges. Everything that shows
// them derives from it: rtc_stats (capi/src/stats.cpp fills it from this
// table and checks field for field at compile time that the public struct
// has exactly these fields in this order), rtc_stats_field() for the
// bindings' stats dictionaries, GET /stats and GET /metrics. Adding a
// counter: add its Counter (engine/stats.hpp or backplane_stats.hpp), a row
// here, and the field at the end of rtc_stats with its comment (a test
// checks that the header documents every row).
//
// X(name, kind, metric, value, help)
//   name    rtc_stats field, /stats key (Python: as is; Node: camelCase)
//   kind    kGauge or kCounter
//   metric  Prometheus name (counters end in _total, sizes in _bytes)
//   value   expression on `s` (const EngineStats&)
//   help    one line for # HELP
#pragma once

// clang-format off (one row per counter, as the doc check reads them)
#define RTCORE_STATS_TABLE(X)                                                                                \
  X(connections, kGauge, "rtcore_connections", s.connections.get(), "Open WebSocket connections.")           \
  X(users, kGauge, "rtcore_users", s.users.get(), "Users with at least one connection on this node.")        \
  X(rooms, kGauge, "rtcore_rooms", s.rooms.get(), "Rooms with at least one member on this node.")            \
  X(messages_in, kCounter, "rtcore_messages_received_total", s.messages_in.get(),                            \
    "Client messages received.")                                                                             \
  X(messages_out, kCounter, "rtcore_messages_sent_total", s.messages_out.get(),                              \
    "Frames queued for delivery, one per recipient.")                                                        \
  X(bytes_out, kCounter, "rtcore_sent_bytes_total", s.bytes_out.get(), "Bytes handed to the sockets.")       \
  X(drops, kCounter, "rtcore_dropped_frames_total", s.drops.get(),                                           \
    "Frames not delivered (slow consumers, closing or vanished connections).")                               \
  X(errors_sent, kCounter, "rtcore_errors_sent_total", s.errors_sent.get(), "Error frames sent to clients.") \
  X(connections_total, kCounter, "rtcore_connections_accepted_total", s.connections_total.get(),             \
    "Connections accepted.")                                                                                 \
  X(rejected_upgrades, kCounter, "rtcore_upgrades_refused_total", s.rejected_upgrades.get(),                 \
    "Upgrades refused, with an HTTP status or a 4xxx close after a deferred decision.")                      \
  X(slow_consumer_closes, kCounter, "rtcore_slow_consumer_closes_total", s.slow_consumer_closes.get(),       \
    "Connections closed as slow consumers (1008).")                                                          \
  X(oversize_closes, kCounter, "rtcore_oversize_closes_total", s.oversize_closes.get(),                      \
    "Connections closed for a message above the size limit (1009).")                                         \
  X(backplane_connected, kGauge, "rtcore_backplane_connected", s.backplane.connected.get(),                  \
    "1 while every link to the backplane is up (always 1 in-process).")                                      \
  X(backplane_reconnects, kCounter, "rtcore_backplane_reconnects_total", s.backplane.reconnects.get(),       \
    "Times the backplane came back after an outage.")                                                        \
  X(backplane_buffered_bytes, kGauge, "rtcore_backplane_buffered_bytes", s.backplane.buffered_bytes.get(),   \
    "Publishes held while the backplane is unreachable.")                                                    \
  X(backplane_dropped, kCounter, "rtcore_backplane_dropped_total", s.backplane.dropped.get(),                \
    "Publishes dropped (outage buffer full, link lost).")                                                    \
  X(backplane_invalid, kCounter, "rtcore_backplane_invalid_total", s.backplane.invalid_envelopes.get(),      \
    "Malformed input from the backplane, dropped or repaired.")                                              \
  X(backplane_published, kCounter, "rtcore_backplane_published_total", s.backplane.published.get(),          \
    "Publications handed to the backplane.")                                                                 \
  X(backplane_received, kCounter, "rtcore_backplane_received_total", s.backplane.received.get(),             \
    "Publications from other nodes delivered here.")                                                         \
  X(auth_failures, kCounter, "rtcore_auth_failures_total", s.auth_failures.get(),                            \
    "Upgrades refused with 401 (missing or invalid credential).")                                            \
  X(origin_refusals, kCounter, "rtcore_origin_refusals_total", s.origin_refusals.get(),                      \
    "Upgrades refused with 403 (origin not allowed).")                                                       \
  X(connection_limit_refusals, kCounter, "rtcore_connection_limit_refusals_total",                           \
    s.connection_limit_refusals.get(), "Upgrades refused with 503 (connection limit).")                      \
  X(user_limit_refusals, kCounter, "rtcore_user_limit_refusals_total", s.user_limit_refusals.get(),          \
    "Upgrades refused with 429 or closed with 4429 (per-user limit).")                                       \
  X(rate_limited, kCounter, "rtcore_rate_limited_total", s.rate_limited.get(),                               \
    "Client messages refused with rate_limited.")                                                            \
  X(rate_limit_closes, kCounter, "rtcore_rate_limit_closes_total", s.rate_limit_closes.get(),                \
    "Connections closed for persistent flooding (1008).")                                                    \
  X(idle_closes, kCounter, "rtcore_idle_closes_total", s.idle_closes.get(), "Connections closed as idle.")   \
  X(forbidden, kCounter, "rtcore_forbidden_total", s.forbidden.get(),                                        \
    "Actions refused by the host's authorization hook.")                                                     \
  X(internal_errors, kCounter, "rtcore_internal_errors_total",                                               \
    s.internal_errors.get() + s.backplane.internal_errors.get(),                                             \
    "Exceptions caught where a C library called the engine.")                                                \
  X(queued_bytes, kGauge, "rtcore_queued_bytes", s.queued_bytes.get(),                                       \
    "Bytes waiting in the connections' send queues (sampled every second).")                                 \
  X(backplane_fenced, kCounter, "rtcore_backplane_fenced_total", s.backplane.fenced.get(),                   \
    "Times this node found the cluster had declared it dead, and registered again.")                         \
  X(history_appends, kCounter, "rtcore_history_appends_total", s.backplane.history.appends.get(),            \
    "Messages stored in the history and published (history on).")                                            \
  X(history_append_failures, kCounter, "rtcore_history_append_failures_total",                               \
    s.backplane.history.append_failures.get(),                                                               \
    "Appends the history could not take (the sender got unavailable).")                                      \
  X(history_reads, kCounter, "rtcore_history_reads_total", s.backplane.history.reads.get(),                  \
    "History reads answered (recoveries, history requests, gap fills, positions).")                          \
  X(history_read_failures, kCounter, "rtcore_history_read_failures_total",                                   \
    s.backplane.history.read_failures.get(), "History reads that could not be answered.")                    \
  X(history_gap_fills, kCounter, "rtcore_history_gap_fills_total", s.history_fills.get(),                    \
    "Holes in a live stream this node read back from the history.")                                          \
  X(history_gaps, kCounter, "rtcore_history_gaps_total", s.history_gaps.get(),                               \
    "Times local members were told (error gap) that a stream lost continuity.")                              \
  X(history_recoveries, kCounter, "rtcore_history_recoveries_total", s.history_recoveries.get(),             \
    "Recoveries (join_room since, resume_direct) answered recovered:true.")                                  \
  X(history_recovery_failures, kCounter, "rtcore_history_recovery_failures_total",                           \
    s.history_recovery_failures.get(), "Recoveries answered recovered:false.")                               \
  X(history_streams, kGauge, "rtcore_history_streams", s.backplane.history.streams.get(),                    \
    "Streams kept by the in-process history.")                                                               \
  X(history_stored_bytes, kGauge, "rtcore_history_stored_bytes", s.backplane.history.stored_bytes.get(),     \
    "Frame bytes kept by the in-process history.")                                                           \
  X(history_evicted_streams, kCounter, "rtcore_history_evicted_streams_total",                               \
    s.backplane.history.evicted_streams.get(),                                                               \
    "Streams the in-process history dropped for its memory budget.")
// clang-format on
