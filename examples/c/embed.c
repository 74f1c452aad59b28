/* embed.c: run an rtcore engine inside a C program until Ctrl-C.
 * Usage: embed [port]   (default 8080; 0 picks a free port) */
#define _POSIX_C_SOURCE 200809L
#include <rtcore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

/* Runs on the engine thread: "alice online" when ws://.../ws/alice connects. */
static void on_presence(void* user_data, const char* user, size_t user_len, int32_t status, const char* ts,
                        size_t ts_len) {
  (void)user_data;
  (void)ts;
  (void)ts_len;
  printf("%.*s %s\n", (int)user_len, user, status == RTC_PRESENCE_ONLINE ? "online" : "offline");
  fflush(stdout);
}

int main(int argc, char** argv) {
  rtc_config config;
  rtc_handlers handlers;
  rtc_engine* engine = NULL;
  sigset_t sigs;
  int sig, rc;

  rtc_config_init(&config);
  config.port = argc > 1 ? (uint32_t)atoi(argv[1]) : 8080;
  rtc_handlers_init(&handlers);
  handlers.on_presence = on_presence;

  /* Block SIGINT before the engine thread starts, so only sigwait gets it. */
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);

  if ((rc = rtc_engine_create(&config, &handlers, &engine)) != RTC_OK ||
      (rc = rtc_engine_start(engine)) != RTC_OK) {
    fprintf(stderr, "rtcore: %s\n", rtc_strerror(rc));
    rtc_engine_destroy(engine); /* NULL is a no-op */
    return 1;
  }
  printf("listening on port %u\n", (unsigned)rtc_engine_port(engine));
  fflush(stdout);

  sigwait(&sigs, &sig);          /* Ctrl-C */
  rtc_engine_stop(engine, 1000); /* clients get a close frame with 1001 */
  rtc_engine_destroy(engine);
  return 0;
}
