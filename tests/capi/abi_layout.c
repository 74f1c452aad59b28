/* abi_layout.c: prints the public ABI (struct sizes, field offsets,
 * exported functions) one fact per line; check_abi.sh compares it with
 * the committed baseline: facts may be added, never changed or removed. */
#include <stddef.h>
#include <stdio.h>
#include "rtcore.h"

#define FIELD(s, f) printf("offset %s.%s %zu\n", #s, #f, offsetof(s, f))
#define CONST(c) printf("const %s %ld\n", #c, (long)(c))
#define CODE(name, value, msg) printf("code RTC_%s %d\n", #name, value);

int main(void) {
  FIELD(rtc_config, struct_size);
  FIELD(rtc_config, host);
  FIELD(rtc_config, port);
  FIELD(rtc_config, max_message_size);
  FIELD(rtc_config, max_send_queue_bytes);
  FIELD(rtc_config, ping_interval_ms);
  FIELD(rtc_config, ping_timeout_ms);
  FIELD(rtc_config, max_rooms_per_connection);
  FIELD(rtc_config, allow_post_without_join);
  FIELD(rtc_config, node_id);
  FIELD(rtc_config, redis_url);
  FIELD(rtc_config, log_level);
  FIELD(rtc_config, redis_prefix);
  FIELD(rtc_config, node_ttl_ms);
  FIELD(rtc_config, redis_connect_timeout_ms);
  FIELD(rtc_config, redis_buffer_bytes);
  FIELD(rtc_config, auth_mode);
  FIELD(rtc_config, jwt_secret);
  FIELD(rtc_config, jwt_secret_len);
  FIELD(rtc_config, jwt_leeway_s);
  FIELD(rtc_config, jwt_audience);
  FIELD(rtc_config, jwt_issuer);
  FIELD(rtc_config, allowed_origins);
  FIELD(rtc_config, rate_limit_per_s);
  FIELD(rtc_config, rate_limit_burst);
  FIELD(rtc_config, max_connections);
  FIELD(rtc_config, max_connections_per_user);
  FIELD(rtc_config, handshake_timeout_ms);
  FIELD(rtc_config, idle_timeout_ms);
  FIELD(rtc_config, expose_stats);
  FIELD(rtc_config, tls_cert_file);
  FIELD(rtc_config, tls_key_file);
  FIELD(rtc_config, join_timeout_ms);
  FIELD(rtc_config, log_format);
  FIELD(rtc_config, internal_listen);
  FIELD(rtc_config, presence_limit);
  FIELD(rtc_config, history_size);
  FIELD(rtc_config, history_ttl_s);
  FIELD(rtc_header, name);
  FIELD(rtc_header, name_len);
  FIELD(rtc_header, value);
  FIELD(rtc_header, value_len);
  FIELD(rtc_connect_request, struct_size);
  FIELD(rtc_connect_request, path);
  FIELD(rtc_connect_request, path_len);
  FIELD(rtc_connect_request, query);
  FIELD(rtc_connect_request, query_len);
  FIELD(rtc_connect_request, user_id);
  FIELD(rtc_connect_request, user_id_len);
  FIELD(rtc_connect_request, headers);
  FIELD(rtc_connect_request, header_count);
  FIELD(rtc_connect_request, request_id);
  FIELD(rtc_connect_decision, struct_size);
  FIELD(rtc_connect_decision, accept);
  FIELD(rtc_connect_decision, http_status);
  FIELD(rtc_connect_decision, user_id);
  FIELD(rtc_connect_decision, user_id_len);
  FIELD(rtc_connect_decision, defer);
  FIELD(rtc_handlers, struct_size);
  FIELD(rtc_handlers, user_data);
  FIELD(rtc_handlers, on_connect);
  FIELD(rtc_handlers, on_open);
  FIELD(rtc_handlers, on_disconnect);
  FIELD(rtc_handlers, on_message);
  FIELD(rtc_handlers, on_presence);
  FIELD(rtc_handlers, on_authorize);
  FIELD(rtc_handlers, on_log);
  FIELD(rtc_stats, struct_size);
  FIELD(rtc_stats, connections);
  FIELD(rtc_stats, users);
  FIELD(rtc_stats, rooms);
  FIELD(rtc_stats, messages_in);
  FIELD(rtc_stats, messages_out);
  FIELD(rtc_stats, bytes_out);
  FIELD(rtc_stats, drops);
  FIELD(rtc_stats, errors_sent);
  FIELD(rtc_stats, connections_total);
  FIELD(rtc_stats, rejected_upgrades);
  FIELD(rtc_stats, slow_consumer_closes);
  FIELD(rtc_stats, oversize_closes);
  FIELD(rtc_stats, backplane_connected);
  FIELD(rtc_stats, backplane_reconnects);
  FIELD(rtc_stats, backplane_buffered_bytes);
  FIELD(rtc_stats, backplane_dropped);
  FIELD(rtc_stats, backplane_invalid);
  FIELD(rtc_stats, backplane_published);
  FIELD(rtc_stats, backplane_received);
  FIELD(rtc_stats, auth_failures);
  FIELD(rtc_stats, origin_refusals);
  FIELD(rtc_stats, connection_limit_refusals);
  FIELD(rtc_stats, user_limit_refusals);
  FIELD(rtc_stats, rate_limited);
  FIELD(rtc_stats, rate_limit_closes);
  FIELD(rtc_stats, idle_closes);
  FIELD(rtc_stats, forbidden);
  FIELD(rtc_stats, internal_errors);
  FIELD(rtc_stats, queued_bytes);
  FIELD(rtc_stats, backplane_fenced);
  RTC_ERRNO_MAP(CODE)
  CONST(RTC_PAYLOAD_CONTENT);
  CONST(RTC_PAYLOAD_RAW);
  CONST(RTC_PRESENCE_OFFLINE);
  CONST(RTC_PRESENCE_ONLINE);
  CONST(RTC_AUTH_NONE);
  CONST(RTC_AUTH_JWT_HS256);
  CONST(RTC_ACTION_JOIN_ROOM);
  CONST(RTC_ACTION_ROOM_MESSAGE);
  CONST(RTC_ACTION_DIRECT_MESSAGE);
  CONST(RTC_ACTION_PRESENCE);
  CONST(RTC_ACTION_ONLINE);
  CONST(RTC_AUTHZ_DENY);
  CONST(RTC_AUTHZ_ALLOW);
  CONST(RTC_AUTHZ_DEFER);
  CONST(RTC_VERSION_MAJOR);
  CONST(RTC_LOG_FORMAT_TEXT);
  CONST(RTC_LOG_FORMAT_JSON);
  CONST(RTC_LOG_ERROR);
  CONST(RTC_LOG_WARN);
  CONST(RTC_LOG_INFO);
  CONST(RTC_LOG_DEBUG);
  return 0;
}
