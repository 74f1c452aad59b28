/* A C host built against an installed rtcore (find_package or pkg-config):
 * checks the header's version against the library's, starts an engine on
 * the port given (0: a free one), prints "port N", serves until a client
 * has come and gone (presence online then offline for "alice") or 30 s
 * pass, then stops. Exit 0 only if the versions agree and alice came. */
#define _POSIX_C_SOURCE 200809L
#include <rtcore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile int alice_seen; /* written by the engine thread */

static void on_presence(void* user_data, const char* user, size_t user_len, int32_t status, const char* ts,
                        size_t ts_len) {
  (void)user_data;
  (void)ts;
  (void)ts_len;
  if (user_len == 5 && memcmp(user, "alice", 5) == 0)
    __atomic_store_n(&alice_seen, status == RTC_PRESENCE_ONLINE ? 1 : 2, __ATOMIC_SEQ_CST);
}

int main(int argc, char** argv) {
  rtc_config config;
  rtc_handlers handlers;
  rtc_engine* engine = NULL;
  int rc, i;

  if (strcmp(rtc_version(), RTC_VERSION_STRING) != 0 ||
      rtc_version_number() !=
          (uint32_t)((RTC_VERSION_MAJOR << 16) | (RTC_VERSION_MINOR << 8) | RTC_VERSION_PATCH) ||
      (argc > 2 && strcmp(argv[2], RTC_VERSION_STRING) != 0)) {
    fprintf(stderr, "consumer: version mismatch: library %s, header %s, expected %s\n", rtc_version(),
            RTC_VERSION_STRING, argc > 2 ? argv[2] : "-");
    return 1;
  }
  rtc_config_init(&config);
  config.port = argc > 1 ? (uint32_t)atoi(argv[1]) : 0;
  rtc_handlers_init(&handlers);
  handlers.on_presence = on_presence;
  if ((rc = rtc_engine_create(&config, &handlers, &engine)) != RTC_OK ||
      (rc = rtc_engine_start(engine)) != RTC_OK) {
    fprintf(stderr, "consumer: %s\n", rtc_strerror(rc));
    rtc_engine_destroy(engine);
    return 1;
  }
  printf("consumer: rtcore %s, port %u\n", rtc_version(), (unsigned)rtc_engine_port(engine));
  fflush(stdout);
  for (i = 0; i < 300 && __atomic_load_n(&alice_seen, __ATOMIC_SEQ_CST) != 2; i++) {
    struct timespec tick = {0, 100 * 1000 * 1000};
    nanosleep(&tick, NULL);
  }
  rtc_engine_stop(engine, 1000);
  rtc_engine_destroy(engine);
  if (alice_seen != 2) {
    fprintf(stderr, "consumer: no client came\n");
    return 1;
  }
  printf("consumer: served alice\n");
  return 0;
}
