#include "options.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

namespace rtcore_server {
namespace {

constexpr const char* kIntro = R"(Usage: rtcore-server [options]

Runs an rtcore WebSocket messaging node (docs/protocol.md): clients connect to
ws://HOST:PORT/ws/{user_id}; GET /healthz answers 200, GET /metrics serves
Prometheus text. SIGINT or SIGTERM closes every connection with 1001 and
exits 0.

Every option can also be set through the environment variable named after
it; a flag on the command line wins over the environment. Sizes take K, M, G
suffixes; SECONDS may have a fraction.

)";

// The server's own flags and the special forms, after the table's rows.
struct Special {
  const char* flag;
  const char* env;
  bool takes_value;
  const char* usage;  // "  --flag VALUE" column
  const char* help;
};
constexpr Special kSpecials[] = {
    {"--jwt-secret-file", "RTCORE_JWT_SECRET_FILE", true, "--jwt-secret-file PATH",
     "file holding the HMAC secret (trailing newline dropped); or the secret itself in RTCORE_JWT_SECRET"},
    {"--jwt-secret", "RTCORE_JWT_SECRET", true, nullptr, nullptr},  // environment only, not listed
    {"--rate-limit", "RTCORE_RATE_LIMIT", true, "--rate-limit N[:BURST]",
     "messages per second per connection (default 1000:2000); 0 disables"},
    {"--shutdown-timeout", "RTCORE_SHUTDOWN_TIMEOUT", true, "--shutdown-timeout MS",
     "grace for clients to close on stop (default 1000)"},
};

bool parse_uint(std::string_view text, uint64_t max, uint64_t& out, bool allow_suffix) {
  if (text.empty()) return false;
  std::string s(text);
  uint64_t mult = 1;
  if (allow_suffix) {
    char last = s.back();
    if (last == 'K' || last == 'k') mult = 1ull << 10;
    if (last == 'M' || last == 'm') mult = 1ull << 20;
    if (last == 'G' || last == 'g') mult = 1ull << 30;
    if (mult != 1) s.pop_back();
  }
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return false;
  errno = 0;
  unsigned long long v = std::strtoull(s.c_str(), nullptr, 10);
  if (errno != 0 || v > max / mult) return false;
  out = v * mult;
  return true;
}

// Seconds (a fraction allowed) as milliseconds.
bool parse_seconds_ms(std::string_view text, uint64_t& out_ms) {
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v) || v < 0 || v > 1e9) return false;
  out_ms = static_cast<uint64_t>(std::llround(v * 1000));
  return true;
}

bool read_secret_file(const std::string& path, std::string& out) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char buf[4096];
  size_t n = std::fread(buf, 1, sizeof buf, f);
  std::fclose(f);
  out.assign(buf, n);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return !out.empty();
}

bool parse_bool(std::string_view text) {
  return text == "1" || text == "true" || text == "yes" || text == "on";
}

// "a|b|c: rest" -> {"a","b","c"}.
std::vector<std::string_view> enum_choices(const rtc_option_info& o) {
  std::string_view help = o.help;
  std::vector<std::string_view> out;
  size_t colon = help.find(": ");
  std::string_view list = help.substr(0, colon);
  for (size_t start = 0;;) {
    size_t bar = list.find('|', start);
    out.push_back(list.substr(start, bar - start));
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  return out;
}

std::vector<const rtc_option_info*> table() {
  std::vector<const rtc_option_info*> rows;
  for (size_t i = 0; i < rtc_config_option_count(); ++i)
    if (const rtc_option_info* o = rtc_config_option(i); o && o->flag && *o->flag) rows.push_back(o);
  return rows;
}

// Parses value for row o into its numeric field value; false if invalid.
bool parse_row(const rtc_option_info& o, std::string_view value, uint64_t& n) {
  switch (o.type) {
    case RTC_OPTION_STRING: return true;
    case RTC_OPTION_BOOL:
      n = value.empty() || parse_bool(value) ? 1 : 0;
      return value.empty() || parse_bool(value) || value == "0" || value == "false" || value == "no" ||
             value == "off";
    case RTC_OPTION_ENUM: {
      auto choices = enum_choices(o);
      auto it = std::find(choices.begin(), choices.end(), value);
      n = static_cast<uint64_t>(it - choices.begin());
      return it != choices.end();
    }
    default: break;
  }
  bool ok = o.unit == RTC_UNIT_SECONDS ? parse_seconds_ms(value, n)
                                       : parse_uint(value, o.max, n, o.unit == RTC_UNIT_BYTES);
  return ok && n >= o.min && n <= o.max;
}

// A row's extra rules, beyond its type and range.
bool row_extra_ok(const rtc_option_info& o, std::string_view value) {
  std::string_view name = o.name;
  if (name == "host") return !value.empty();
  if (name == "internal_listen") {  // HOST:PORT; the library checks the host's characters too
    auto colon = value.rfind(':');
    uint64_t port = 0;
    return colon != std::string_view::npos && colon > 0 &&
           parse_uint(value.substr(colon + 1), 65535, port, false);
  }
  if (name == "node_id")  // what other nodes accept (1..128 printable ASCII, no space)
    return !value.empty() && value.size() <= 128 &&
           std::all_of(value.begin(), value.end(), [](char c) { return c > 0x20 && c < 0x7F; });
  return true;
}

bool invalid(std::string_view name, std::string_view value) {
  bool secret = name == "--jwt-secret";  // never echo a secret
  std::fprintf(stderr, "rtcore-server: invalid value '%.*s' for %.*s\n",
               secret ? 3 : static_cast<int>(value.size()), secret ? "***" : value.data(),
               static_cast<int>(name.size()), name.data());
  return false;
}

// Applies one setting; false (after printing why) if the value is bad.
bool apply(std::string_view name, std::string_view value, Options& o) {
  for (const rtc_option_info* row : table()) {
    if (name != row->flag) continue;
    uint64_t n = 0;
    if (!parse_row(*row, value, n) || !row_extra_ok(*row, value)) return invalid(name, value);
    std::string_view field = row->name;
    o.settings[std::string(field)] = std::string(value);
    if (field == "host") o.host = value;
    if (field == "port") o.port = static_cast<uint32_t>(n);
    if (field == "redis_url") o.redis_url = value;
    if (field == "auth_mode") o.auth = value;
    if (field == "tls_cert_file") o.tls_cert = value;
    if (field == "tls_key_file") o.tls_key = value;
    if (field == "log_format") o.log_format = value;
    if (field == "internal_listen") o.internal_listen = value;
    return true;
  }
  uint64_t n = 0;
  if (name == "--jwt-secret") {
    // Only from the environment (a flag would show in `ps`).
    o.jwt_secret = value;
    return !value.empty() || invalid(name, value);
  }
  if (name == "--jwt-secret-file") {
    if (read_secret_file(std::string(value), o.jwt_secret)) return true;
    std::fprintf(stderr, "rtcore-server: cannot read a secret from %.*s\n", static_cast<int>(value.size()),
                 value.data());
    return false;
  }
  if (name == "--rate-limit") {
    auto colon = value.find(':');
    uint64_t burst = 0;
    bool ok =
        parse_uint(value.substr(0, colon), 1u << 30, n, false) &&
        (colon == std::string_view::npos || parse_uint(value.substr(colon + 1), 1u << 30, burst, false));
    o.rate_limit = static_cast<long>(n);
    o.rate_burst = colon == std::string_view::npos ? -1 : static_cast<long>(burst);
    return ok || invalid(name, value);
  }
  if (name == "--shutdown-timeout") {
    bool ok = parse_uint(value, 600000, n, false) && n > 0;
    o.shutdown_timeout_ms = static_cast<uint32_t>(n);
    return ok || invalid(name, value);
  }
  return invalid(name, value);
}

std::string default_text(const rtc_option_info& o) {
  std::string_view name = o.name;
  if (name == "host") return "127.0.0.1";
  if (name == "port") return "8080";  // the server's, not the library's 0
  if (std::strstr(o.help, "(default")) return {};
  char buf[64];
  switch (o.type) {
    case RTC_OPTION_STRING: return o.default_string ? o.default_string : "";
    case RTC_OPTION_BOOL: return o.default_value ? "on" : "off";
    case RTC_OPTION_ENUM: {
      auto choices = enum_choices(o);
      return o.default_value < choices.size() ? std::string(choices[o.default_value]) : "";
    }
    default: break;
  }
  uint64_t v = o.default_value;
  if (o.unit == RTC_UNIT_SECONDS) {
    std::snprintf(buf, sizeof buf, v % 1000 ? "%.3g" : "%.0f", static_cast<double>(v) / 1000.0);
  } else if (o.unit == RTC_UNIT_BYTES && v != 0 && v % (1u << 20) == 0) {
    std::snprintf(buf, sizeof buf, "%lluM", static_cast<unsigned long long>(v >> 20));
  } else if (o.unit == RTC_UNIT_BYTES && v != 0 && v % 1024 == 0) {
    std::snprintf(buf, sizeof buf, "%lluK", static_cast<unsigned long long>(v >> 10));
  } else {
    std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(v));
  }
  return buf;
}

std::string metavar(const rtc_option_info& o) {
  switch (o.type) {
    case RTC_OPTION_BOOL: return {};
    case RTC_OPTION_ENUM:
      return std::string(std::string_view(o.help).substr(0, std::string_view(o.help).find(": ")));
    case RTC_OPTION_STRING: return "VALUE";
    default: break;
  }
  switch (o.unit) {
    case RTC_UNIT_BYTES: return "BYTES";
    case RTC_UNIT_SECONDS: return "SECONDS";
    case RTC_UNIT_MS: return "MS";
    default: return "N";
  }
}

void print_line(std::string usage, std::string env, std::string help) {
  std::printf("  %-29s %-33s %s\n", usage.c_str(), env.c_str(), help.c_str());
}

void print_usage() {
  std::fputs(kIntro, stdout);
  for (const rtc_option_info* o : table()) {
    std::string usage = o->flag;
    if (std::string m = metavar(*o); !m.empty()) usage += " " + m;
    std::string help = o->help;
    if (o->type == RTC_OPTION_ENUM) help = help.substr(help.find(": ") + 2);
    if (std::string d = default_text(*o); !d.empty()) help += " (default " + d + ")";
    print_line(usage, std::string(o->env) + (o->type == RTC_OPTION_BOOL ? "=1" : ""), help);
  }
  for (const Special& s : kSpecials)
    if (s.usage) print_line(s.usage, s.env, s.help);
  print_line("--help", "", "this text");
  print_line("--version", "", "print the version");
}

struct Flag {
  std::string name, env;
  bool takes_value;
};

std::vector<Flag> all_flags() {
  std::vector<Flag> out;
  for (const rtc_option_info* o : table()) out.push_back({o->flag, o->env, o->type != RTC_OPTION_BOOL});
  for (const Special& s : kSpecials) out.push_back({s.flag, s.env, s.takes_value});
  return out;
}

}  // namespace

ParseOutcome parse_options(int argc, char** argv, Options& out) {
  std::vector<Flag> flags = all_flags();
  for (const Flag& f : flags) {
    const char* v = std::getenv(f.env.c_str());
    if (!v) continue;
    if (!f.takes_value && !parse_bool(v)) continue;
    if (!apply(f.name, f.takes_value ? v : "1", out)) {
      std::fprintf(stderr, "rtcore-server: (from %s)\n", f.env.c_str());
      return ParseOutcome::kExitError;
    }
  }
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      print_usage();
      return ParseOutcome::kExitOk;
    }
    if (arg == "--version") {
      std::printf("rtcore-server %s\n", rtc_version());
      return ParseOutcome::kExitOk;
    }
    std::string_view name = arg, value;
    bool inline_value = false;
    if (auto eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      inline_value = true;
    }
    const Flag* flag = nullptr;
    for (const Flag& f : flags)
      if (name == f.name) flag = &f;
    if (!flag) {
      std::fprintf(stderr, "rtcore-server: unknown option '%s' (see --help)\n", argv[i]);
      return ParseOutcome::kExitError;
    }
    if (name == "--jwt-secret") {
      // Command lines are visible to every user (ps, /proc): secrets come
      // from a file or the environment only.
      std::fprintf(stderr, "rtcore-server: pass the secret with --jwt-secret-file or RTCORE_JWT_SECRET\n");
      return ParseOutcome::kExitError;
    }
    if (flag->takes_value && !inline_value) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "rtcore-server: %s needs a value\n", flag->name.c_str());
        return ParseOutcome::kExitError;
      }
      value = argv[++i];
    }
    if (!apply(name, value, out)) return ParseOutcome::kExitError;
  }
  return ParseOutcome::kRun;
}

void to_config(const Options& o, rtc_config& c) {
  rtc_config_init(&c);
  c.port = o.port;  // the server's default (8080), not the library's
  char* base = reinterpret_cast<char*>(&c);
  for (const rtc_option_info* row : table()) {
    auto it = o.settings.find(row->name);
    if (it == o.settings.end()) continue;
    const std::string& value = it->second;
    if (row->type == RTC_OPTION_STRING) {
      const char* p = value.c_str();
      std::memcpy(base + row->offset, &p, sizeof p);
      continue;
    }
    uint64_t n = 0;
    parse_row(*row, value, n);  // validated when it was applied
    if (row->size == sizeof(uint64_t)) {
      std::memcpy(base + row->offset, &n, sizeof n);
    } else {
      auto v = static_cast<uint32_t>(n);
      std::memcpy(base + row->offset, &v, sizeof v);
    }
  }
  c.jwt_secret = o.jwt_secret.data();
  c.jwt_secret_len = o.jwt_secret.size();
  if (o.rate_limit >= 0) {
    c.rate_limit_per_s = static_cast<uint32_t>(o.rate_limit);
    c.rate_limit_burst = o.rate_burst >= 0 ? static_cast<uint32_t>(o.rate_burst) : 2 * c.rate_limit_per_s;
  }
}

}  // namespace rtcore_server
