// rtcore-server: a standalone rtcore node, a small host on the public C API.
#include <csignal>
#include <cstdio>

#include <pthread.h>

#include "options.hpp"
#include "rtcore.h"

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
    std::fprintf(stderr, "rtcore-server: --auth jwt-hs256 needs --jwt-secret-file or RTCORE_JWT_SECRET\n");
    return 2;
  }
  if (opts.tls_cert.empty() != opts.tls_key.empty()) {
    std::fprintf(stderr, "rtcore-server: --tls-cert and --tls-key go together\n");
    return 2;
  }
  rtc_config config;
  rtcore_server::to_config(opts, config);
  rtc_engine* engine = nullptr;
  int rc = rtc_engine_create(&config, nullptr, &engine);
  if (rc == RTC_EINVAL && !opts.redis_url.empty()) {
    std::fprintf(stderr, "rtcore-server: invalid configuration (check the --redis URL: "
                         "redis://[user:password@]host[:port][/db] or unix:///path)\n");
    return 2;
  }
  if (rc != RTC_OK) {
    std::fprintf(stderr, "rtcore-server: invalid configuration: %s\n", rtc_strerror(rc));
    return 2;
  }
  rc = rtc_engine_start(engine);
  if (rc == RTC_ETLS) {
    std::fprintf(stderr, "rtcore-server: cannot load the TLS certificate %s or key %s\n", opts.tls_cert.c_str(),
                 opts.tls_key.c_str());
    rtc_engine_destroy(engine);
    return 1;
  }
  if (rc != RTC_OK) {
    std::fprintf(stderr, "rtcore-server: cannot listen on %s:%u: %s\n", opts.host.c_str(), opts.port,
                 rtc_strerror(rc));
    rtc_engine_destroy(engine);
    return 1;
  }
  bool loopback = opts.host == "127.0.0.1" || opts.host == "localhost" || opts.host == "::1" ||
                  opts.host.rfind("127.", 0) == 0;
  std::printf("rtcore-server listening on %s://%s:%u (node %s, backplane %s, auth %s)%s\n",
              opts.tls_cert.empty() ? "ws" : "wss", opts.host.c_str(), rtc_engine_port(engine),
              rtc_engine_node_id(engine), opts.redis_url.empty() ? "in-process" : "redis", opts.auth.c_str(),
              opts.auth == "none" && !loopback
                  ? " WARNING: auth none on a non-loopback address: any client can claim any user id"
                  : "");
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::fprintf(stderr, "rtcore-server: %s received, closing connections\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  rtc_engine_stop(engine, opts.shutdown_timeout_ms);
  rtc_engine_destroy(engine);
  return 0;
}
