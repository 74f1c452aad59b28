// rtc_config: defaults, and translation of a caller's struct (of any
// published size) into the engine's EngineConfig.
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "backplane/redis_url.hpp"
#include "backplane/wire.hpp"
#include "internal.hpp"

namespace rtcore_capi {
namespace {

std::vector<std::string> split_origins(std::string_view list) {
  std::vector<std::string> out;
  for (size_t start = 0; start <= list.size();) {
    size_t end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    std::string_view o = list.substr(start, end - start);
    while (!o.empty() && o.front() == ' ') o.remove_prefix(1);
    while (!o.empty() && o.back() == ' ') o.remove_suffix(1);
    if (!o.empty()) out.emplace_back(o);
    start = end + 1;
  }
  return out;
}

// "HOST:PORT": a non-empty host without spaces (IPv4 address or name; the
// transport listens on IPv4 only) and a decimal port 0..65535.
bool parse_host_port(std::string_view text, std::string& host, uint16_t& port) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size() || text.size() - colon > 6)
    return false;
  std::string_view h = text.substr(0, colon), p = text.substr(colon + 1);
  for (char ch : h)
    if (ch <= ' ' || ch == ':' || ch == '/' || ch > '~') return false;
  uint32_t n = 0;
  for (char ch : p) {
    if (ch < '0' || ch > '9') return false;
    n = n * 10 + static_cast<uint32_t>(ch - '0');
  }
  if (n > 65535) return false;
  host.assign(h);
  port = static_cast<uint16_t>(n);
  return true;
}

int protections_from_c(const rtc_config* c, rtcore::EngineConfig& out) {
  using Mode = rtcore::EngineConfig::AuthMode;
  if (c->auth_mode == RTC_AUTH_JWT_HS256) {
    if (!c->jwt_secret || c->jwt_secret_len == 0) return RTC_EINVAL;
    out.auth_mode = Mode::kJwtHs256;
    out.jwt_secret.assign(c->jwt_secret, c->jwt_secret_len);
  } else if (c->auth_mode != RTC_AUTH_NONE) {
    return RTC_EINVAL;
  }
  out.jwt_leeway_s = c->jwt_leeway_s;
  if (c->jwt_audience) out.jwt_audience = c->jwt_audience;
  if (c->jwt_issuer) out.jwt_issuer = c->jwt_issuer;
  if (c->allowed_origins) out.allowed_origins = split_origins(c->allowed_origins);
  out.rate_limit_per_s = c->rate_limit_per_s;
  out.rate_limit_burst = c->rate_limit_burst ? c->rate_limit_burst : 2 * c->rate_limit_per_s;
  out.max_connections = c->max_connections;
  out.max_connections_per_user = c->max_connections_per_user;
  if (c->handshake_timeout_ms == 0) return RTC_EINVAL;
  out.handshake_timeout_ms = c->handshake_timeout_ms;
  out.idle_timeout_ms = c->idle_timeout_ms;
  out.expose_stats = c->expose_stats != 0;
  bool cert = c->tls_cert_file && *c->tls_cert_file, key = c->tls_key_file && *c->tls_key_file;
  if (cert != key) return RTC_EINVAL;  // both or neither
  if (cert) {
    out.tls_cert_file = c->tls_cert_file;
    out.tls_key_file = c->tls_key_file;
  }
  return RTC_OK;
}

}  // namespace

int config_from_c(const rtc_config* c, rtcore::EngineConfig& out) {
  if (!c) return RTC_OK;
  // The first version of the struct ends after log_level; nothing shorter
  // was ever published.
  if (c->struct_size < offsetof(rtc_config, log_level) + sizeof(c->log_level)) return RTC_ESTRUCT;
  if (c->host && *c->host) out.host = c->host;
  if (c->port > 65535) return RTC_EINVAL;
  out.port = static_cast<uint16_t>(c->port);
  if (c->max_message_size == 0 || c->max_send_queue_bytes == 0) return RTC_EINVAL;
  out.max_message_size = c->max_message_size;
  out.max_send_queue_bytes = c->max_send_queue_bytes;
  if (c->ping_interval_ms == 0 || c->ping_timeout_ms == 0) return RTC_EINVAL;
  out.ping_interval_ms = c->ping_interval_ms;
  out.ping_timeout_ms = c->ping_timeout_ms;
  out.max_rooms_per_connection = c->max_rooms_per_connection;
  out.allow_post_without_join = c->allow_post_without_join != 0;
  if (c->node_id && *c->node_id) {
    // Other nodes drop what names an invalid origin (backplane/wire.hpp):
    // such a node would be deaf to the cluster, so refuse it here.
    if (!rtcore::wire::is_valid_node_id(c->node_id)) return RTC_EINVAL;
    out.node_id = c->node_id;
  }
  if (c->redis_url && *c->redis_url) {
    if (!rtcore::parse_redis_url(c->redis_url, nullptr)) return RTC_EINVAL;
    out.redis_url = c->redis_url;
  }
  if (c->log_level > 3) return RTC_EINVAL;
  out.log_level = static_cast<int>(c->log_level);
  // Fields appended later are read only from callers that know them.
  if (RTC_HAS_FIELD(c, rtc_config, redis_buffer_bytes)) {
    if (c->redis_prefix) out.redis_prefix = c->redis_prefix;
    if (c->node_ttl_ms) out.node_ttl_ms = c->node_ttl_ms;
    if (c->redis_connect_timeout_ms) out.redis_connect_timeout_ms = c->redis_connect_timeout_ms;
    if (c->redis_buffer_bytes) out.redis_buffer_bytes = c->redis_buffer_bytes;
  }
  if (RTC_HAS_FIELD(c, rtc_config, tls_key_file)) {
    if (int rc = protections_from_c(c, out); rc != RTC_OK) return rc;
  }
  // An older caller's struct ends before it: the default stays.
  if (RTC_HAS_FIELD(c, rtc_config, join_timeout_ms) && c->join_timeout_ms != 0)
    out.join_timeout_ms = c->join_timeout_ms;
  if (RTC_HAS_FIELD(c, rtc_config, log_format)) {
    if (c->log_format > RTC_LOG_FORMAT_JSON) return RTC_EINVAL;
    out.log_json = c->log_format == RTC_LOG_FORMAT_JSON;
  }
  if (RTC_HAS_FIELD(c, rtc_config, internal_listen) && c->internal_listen && *c->internal_listen) {
    if (!parse_host_port(c->internal_listen, out.internal_host, out.internal_port)) return RTC_EINVAL;
    out.internal_listen = true;
  }
  if (RTC_HAS_FIELD(c, rtc_config, presence_limit) && c->presence_limit != 0)
    out.presence_limit = c->presence_limit;
  if (RTC_HAS_FIELD(c, rtc_config, history_ttl_s)) {
    if (c->history_size > rtcore::kMaxHistorySize) return RTC_EINVAL;
    out.history_size = c->history_size;
    if (c->history_ttl_s != 0) out.history_ttl_s = c->history_ttl_s;
  }
  return RTC_OK;
}

}  // namespace rtcore_capi

extern "C" {

void rtc_config_init(rtc_config* config) {
  if (!config) return;
  std::memset(config, 0, sizeof *config);
  config->struct_size = sizeof *config;
  rtcore::EngineConfig d;
  config->max_message_size = d.max_message_size;
  config->max_send_queue_bytes = d.max_send_queue_bytes;
  config->ping_interval_ms = d.ping_interval_ms;
  config->ping_timeout_ms = d.ping_timeout_ms;
  config->max_rooms_per_connection = d.max_rooms_per_connection;
  config->log_level = static_cast<uint32_t>(d.log_level);
  config->node_ttl_ms = d.node_ttl_ms;
  config->redis_connect_timeout_ms = d.redis_connect_timeout_ms;
  config->redis_buffer_bytes = d.redis_buffer_bytes;
  config->auth_mode = RTC_AUTH_NONE;
  config->jwt_leeway_s = static_cast<uint32_t>(d.jwt_leeway_s);
  config->rate_limit_per_s = d.rate_limit_per_s;
  config->rate_limit_burst = d.rate_limit_burst;
  config->max_connections = d.max_connections;
  config->max_connections_per_user = d.max_connections_per_user;
  config->handshake_timeout_ms = d.handshake_timeout_ms;
  config->idle_timeout_ms = d.idle_timeout_ms;
  config->join_timeout_ms = d.join_timeout_ms;
  config->presence_limit = d.presence_limit;
  config->history_size = d.history_size;
  config->history_ttl_s = d.history_ttl_s;
}

}  // extern "C"
