// rtcore-server: a standalone rtcore node, a small host on the public C API.
#include <csignal>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

#include <pthread.h>
#include <sys/time.h>

#include "options.hpp"
#include "rtcore.h"

namespace {

std::string json_escaped(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// The server's own stderr lines, in the format the engine's lines use
// (--log-format), so that a JSON log holds nothing but JSON lines.
void report(const rtcore_server::Options& o, const char* level, const char* event, const std::string& msg,
            const char* node = "") {
  if (o.log_format != "json") {
    std::fprintf(stderr, "rtcore-server: %s\n", msg.c_str());
    return;
  }
  timeval tv{};
  gettimeofday(&tv, nullptr);
  tm t{};
  gmtime_r(&tv.tv_sec, &t);
  char when[64];
  std::snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900, t.tm_mon + 1,
                t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, static_cast<int>(tv.tv_usec / 1000));
  std::string line = std::string("{\"time\":\"") + when + "\",\"level\":\"" + level + "\",\"event\":\"" +
                     event + "\",\"node\":\"" + json_escaped(node) + "\",\"msg\":\"" + json_escaped(msg) +
                     "\"}\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

int main(int argc, char** argv) {
  rtcore_server::Options opts;
  switch (rtcore_server::parse_options(argc, argv, opts)) {
    case rtcore_server::ParseOutcome::kExitOk: return 0;
    case rtcore_server::ParseOutcome::kExitError: return 2;
    case rtcore_server::ParseOutcome::kRun: break;
  }

  // Block the stop signals before the engine thread exists, so it inherits
  // the mask and only sigwait() below ever sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  if (opts.auth == "jwt-hs256" && opts.jwt_secret.empty()) {
    report(opts, "error", "config_invalid", "--auth jwt-hs256 needs --jwt-secret-file or RTCORE_JWT_SECRET");
    return 2;
  }
  if (opts.tls_cert.empty() != opts.tls_key.empty()) {
    report(opts, "error", "config_invalid", "--tls-cert and --tls-key go together");
    return 2;
  }
  rtc_config config;
  rtcore_server::to_config(opts, config);
  rtc_engine* engine = nullptr;
  int rc = rtc_engine_create(&config, nullptr, &engine);
  if (rc == RTC_EINVAL && !opts.redis_url.empty()) {
    report(opts, "error", "config_invalid",
           "invalid configuration (check the --redis URL: redis://[user:password@]host[:port][/db] or "
           "unix:///path" +
               std::string(opts.internal_listen.empty() ? "" : ", and --internal-listen HOST:PORT") + ")");
    return 2;
  }
  if (rc != RTC_OK) {
    report(opts, "error", "config_invalid",
           std::string("invalid configuration: ") + rtc_strerror(rc) +
               (opts.internal_listen.empty() ? "" : " (check --internal-listen HOST:PORT)"));
    return 2;
  }
  rc = rtc_engine_start(engine);
  if (rc == RTC_ETLS) {
    report(opts, "error", "tls_load_failed",
           "cannot load the TLS certificate " + opts.tls_cert + " or key " + opts.tls_key);
    rtc_engine_destroy(engine);
    return 1;
  }
  if (rc != RTC_OK) {
    report(opts, "error", "listen_failed",
           "cannot listen on " + opts.host + ":" + std::to_string(opts.port) +
               (opts.internal_listen.empty() ? "" : " or " + opts.internal_listen) + ": " + rtc_strerror(rc));
    rtc_engine_destroy(engine);
    return 1;
  }
  bool loopback = opts.host == "127.0.0.1" || opts.host == "localhost" || opts.host == "::1" ||
                  opts.host.rfind("127.", 0) == 0;
  // The internal listener goes after the established part of the line,
  // which scripts (and the tests) parse.
  std::string internal;
  if (!opts.internal_listen.empty())
    internal = " internal http://" + opts.internal_listen.substr(0, opts.internal_listen.rfind(':')) + ":" +
               std::to_string(rtc_engine_internal_port(engine));
  std::printf("rtcore-server listening on %s://%s:%u (node %s, backplane %s, auth %s)%s%s\n",
              opts.tls_cert.empty() ? "ws" : "wss", opts.host.c_str(), rtc_engine_port(engine),
              rtc_engine_node_id(engine), opts.redis_url.empty() ? "in-process" : "redis", opts.auth.c_str(),
              internal.c_str(),
              opts.auth == "none" && !loopback
                  ? " WARNING: auth none on a non-loopback address: any client can claim any user id"
                  : "");
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  report(opts, "info", "shutdown_signal",
         std::string(sig == SIGINT ? "SIGINT" : "SIGTERM") + " received, closing connections",
         rtc_engine_node_id(engine));
  rtc_engine_stop(engine, opts.shutdown_timeout_ms);
  rtc_engine_destroy(engine);
  return 0;
}
