/* deferring_host.c: an rtcore host whose on_connect always defers; another
 * thread accepts every request a fixed delay later (as an asynchronous
 * authentication hook would). Used by tests/integration/test_faults.py.
 *
 * Usage: deferring_host [--host ADDR] [--port N] [--max-connections-per-user N]
 *                       [--delay-ms MS] [--expose-stats]
 * Prints "deferring_host listening on ws://HOST:PORT" on stdout when ready,
 * and on stderr "peak_open N" each time the number of registered (opened)
 * connections reaches a new high. SIGTERM or SIGINT stops it. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <rtcore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUEUE_CAP 65536

static rtc_engine* g_engine;
static uint64_t g_delay_ms = 200;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static uint64_t g_ids[QUEUE_CAP];
static uint64_t g_due[QUEUE_CAP];
static size_t g_head, g_count;
static int g_stopping;

/* Engine thread only. */
static long g_open, g_peak;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_connect(void* ud, const rtc_connect_request* req, rtc_connect_decision* decision) {
  (void)ud;
  pthread_mutex_lock(&g_mu);
  if (g_count < QUEUE_CAP) {
    size_t tail = (g_head + g_count) % QUEUE_CAP;
    g_ids[tail] = req->request_id;
    g_due[tail] = now_ms() + g_delay_ms;
    ++g_count;
    pthread_cond_signal(&g_cv);
  }
  pthread_mutex_unlock(&g_mu);
  decision->defer = 1; /* a request that did not fit times out with 4408 */
}

static void on_open(void* ud, rtc_conn_id conn, const char* user, size_t len) {
  (void)ud;
  (void)conn;
  (void)user;
  (void)len;
  if (++g_open > g_peak) {
    g_peak = g_open;
    fprintf(stderr, "peak_open %ld\n", g_peak);
    fflush(stderr);
  }
}

static void on_disconnect(void* ud, rtc_conn_id conn, const char* user, size_t len, uint32_t code) {
  (void)ud;
  (void)conn;
  (void)user;
  (void)len;
  (void)code;
  --g_open;
}

static void* resolver(void* arg) {
  (void)arg;
  pthread_mutex_lock(&g_mu);
  for (;;) {
    while (!g_stopping && g_count == 0) pthread_cond_wait(&g_cv, &g_mu);
    if (g_stopping) break;
    uint64_t due = g_due[g_head], t = now_ms();
    if (due > t) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      uint64_t wait = due - t;
      ts.tv_sec += (time_t)(wait / 1000u);
      ts.tv_nsec += (long)(wait % 1000u) * 1000000L;
      if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec += 1;
        ts.tv_nsec -= 1000000000L;
      }
      pthread_cond_timedwait(&g_cv, &g_mu, &ts);
      continue;
    }
    uint64_t id = g_ids[g_head];
    g_head = (g_head + 1) % QUEUE_CAP;
    --g_count;
    pthread_mutex_unlock(&g_mu);
    rtc_connect_resolve(g_engine, id, 1, 0, NULL, 0);
    pthread_mutex_lock(&g_mu);
  }
  pthread_mutex_unlock(&g_mu);
  return NULL;
}

int main(int argc, char** argv) {
  rtc_config config;
  rtc_handlers handlers;
  sigset_t sigs;
  pthread_t thread;
  int sig, rc, i;
  const char* host = "127.0.0.1";

  rtc_config_init(&config);
  config.port = 0;
  for (i = 1; i < argc; ++i) {
    const char* flag = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(flag, "--expose-stats") == 0) {
      config.expose_stats = 1;
      continue;
    }
    if (!value) {
      fprintf(stderr, "deferring_host: %s needs a value\n", flag);
      return 2;
    }
    ++i;
    if (strcmp(flag, "--host") == 0)
      host = value;
    else if (strcmp(flag, "--port") == 0)
      config.port = (uint32_t)atoi(value);
    else if (strcmp(flag, "--max-connections-per-user") == 0)
      config.max_connections_per_user = (uint32_t)atoi(value);
    else if (strcmp(flag, "--delay-ms") == 0)
      g_delay_ms = (uint64_t)atoi(value);
    else {
      fprintf(stderr, "deferring_host: unknown argument %s\n", flag);
      return 2;
    }
  }
  config.host = host;
  rtc_handlers_init(&handlers);
  handlers.on_connect = on_connect;
  handlers.on_open = on_open;
  handlers.on_disconnect = on_disconnect;

  /* Only sigwait sees these: block them before any thread starts. */
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);

  if ((rc = rtc_engine_create(&config, &handlers, &g_engine)) != RTC_OK ||
      (rc = rtc_engine_start(g_engine)) != RTC_OK) {
    fprintf(stderr, "deferring_host: %s\n", rtc_strerror(rc));
    rtc_engine_destroy(g_engine);
    return 1;
  }
  if (pthread_create(&thread, NULL, resolver, NULL) != 0) {
    rtc_engine_destroy(g_engine);
    return 1;
  }
  printf("deferring_host listening on ws://%s:%u\n", host, (unsigned)rtc_engine_port(g_engine));
  fflush(stdout);

  sigwait(&sigs, &sig);
  pthread_mutex_lock(&g_mu);
  g_stopping = 1;
  pthread_cond_signal(&g_cv);
  pthread_mutex_unlock(&g_mu);
  pthread_join(thread, NULL);
  rtc_engine_stop(g_engine, 1000);
  rtc_engine_destroy(g_engine);
  return 0;
}
