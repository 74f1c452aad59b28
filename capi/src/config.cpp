// rtc_config: defaults, and translation of a caller's struct (of any
// published size) into the engine's EngineConfig.
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "backplane/redis_url.hpp"
#include "backplane/wire.hpp"
#include "internal.hpp"
#include "options_table.hpp"

namespace rtcore_capi {
namespace {

static_assert(rtcore::kMaxHistorySize == 100000, "history_size's max in options_table.hpp");

// One row's copy (options_table.hpp, column `copy`) from the caller's field
// into EngineConfig's member of the same name.
template <Copy rule, class Field, class Member>
int copy_field(Field v, Member& out, uint64_t min, uint64_t max) {
  if constexpr (std::is_pointer_v<Field>) {
    static_assert(rule == Copy::as_is || rule == Copy::zero_default, "a string has no range");
    if (!v || (rule == Copy::zero_default && !*v)) return RTC_OK;
    out = v;
  } else {
    if (rule == Copy::zero_default && v == 0) return RTC_OK;
    if (rule == Copy::min_checked && v < min) return RTC_EINVAL;
    if (rule == Copy::range_checked && (v < min || v > max)) return RTC_EINVAL;
    out = static_cast<Member>(v);
  }
  return RTC_OK;
}

// The rows not `special`, each read only from a caller whose struct has it
// (an older caller's struct ends before a field appended later: the default
// stays).
int table_from_c(const rtc_config* c, rtcore::EngineConfig& out) {
#define RTCORE_COPY_as_is(field, min, max) RTCORE_COPY(as_is, field, min, max)
#define RTCORE_COPY_zero_default(field, min, max) RTCORE_COPY(zero_default, field, min, max)
#define RTCORE_COPY_min_checked(field, min, max) RTCORE_COPY(min_checked, field, min, max)
#define RTCORE_COPY_range_checked(field, min, max) RTCORE_COPY(range_checked, field, min, max)
#define RTCORE_COPY_special(field, min, max)
#define RTCORE_COPY(rule, field, min, max)                                                       \
  if (RTC_HAS_FIELD(c, rtc_config, field)) {                                                     \
    if (int rc = copy_field<Copy::rule>(c->field, out.field, min, max); rc != RTC_OK) return rc; \
  }
#define RTCORE_X(field, type, unit, flag, env, min, max, copy, help) RTCORE_COPY_##copy(field, min, max)
  RTCORE_OPTIONS_TABLE(RTCORE_X)
#undef RTCORE_X
#undef RTCORE_COPY
  return RTC_OK;
}

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
  if (c->allowed_origins) out.allowed_origins = split_origins(c->allowed_origins);
  out.rate_limit_per_s = c->rate_limit_per_s;
  out.rate_limit_burst = c->rate_limit_burst ? c->rate_limit_burst : 2 * c->rate_limit_per_s;
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
  if (int rc = table_from_c(c, out); rc != RTC_OK) return rc;
  // The special rows and kSpecialFields.
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
  // Fields appended later are read only from callers that know them.
  if (RTC_HAS_FIELD(c, rtc_config, tls_key_file)) {
    if (int rc = protections_from_c(c, out); rc != RTC_OK) return rc;
  }
  if (RTC_HAS_FIELD(c, rtc_config, log_format)) {
    if (c->log_format > RTC_LOG_FORMAT_JSON) return RTC_EINVAL;
    out.log_json = c->log_format == RTC_LOG_FORMAT_JSON;
  }
  if (RTC_HAS_FIELD(c, rtc_config, internal_listen) && c->internal_listen && *c->internal_listen) {
    if (!parse_host_port(c->internal_listen, out.internal_host, out.internal_port)) return RTC_EINVAL;
    out.internal_listen = true;
  }
  return RTC_OK;
}

}  // namespace rtcore_capi

namespace {

// A number's default from EngineConfig; a string's stays NULL (the
// engine's default).
template <class Field, class Member>
void set_default(Field& f, const Member& d) {
  if constexpr (!std::is_pointer_v<Field>) f = static_cast<Field>(d);
}

}  // namespace

extern "C" {

void rtc_config_init(rtc_config* config) {
  if (!config) return;
  std::memset(config, 0, sizeof *config);
  config->struct_size = sizeof *config;
  rtcore::EngineConfig d;
#define RTCORE_INIT_as_is(field) set_default(config->field, d.field);
#define RTCORE_INIT_zero_default(field) set_default(config->field, d.field);
#define RTCORE_INIT_min_checked(field) set_default(config->field, d.field);
#define RTCORE_INIT_range_checked(field) set_default(config->field, d.field);
#define RTCORE_INIT_special(field)
#define RTCORE_X(field, type, unit, flag, env, min, max, copy, help) RTCORE_INIT_##copy(field)
  RTCORE_OPTIONS_TABLE(RTCORE_X)
#undef RTCORE_X
  config->auth_mode = RTC_AUTH_NONE;
  config->rate_limit_per_s = d.rate_limit_per_s;
  config->rate_limit_burst = d.rate_limit_burst;
}

}  // extern "C"
