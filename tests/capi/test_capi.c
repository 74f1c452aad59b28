/*
 * test_capi.c: tests of the public C API (capi/include/rtcore.h) from C.
 *
 * Plain C99 plus POSIX (sockets, pthreads); no test framework. Each test is
 * a function; CHECK records a failure with file:line and the test goes on.
 * main runs every test (each in a child process, so a crash fails one test)
 * and ends with exactly one line "N passed, N failed".
 *
 * The network tests talk to the engine over raw sockets: a minimal HTTP
 * client and a minimal WebSocket peer (masked frames out, unmasked frames
 * in). Every wait is bounded (5 s), and a watchdog ends a stuck test.
 *
 * Build:
 *   cc -std=c99 -Wall -Wextra -Werror -pedantic -Icapi/include \
 *      tests/capi/test_capi.c -Lbuild -lrtcore -pthread \
 *      -Wl,-rpath,$PWD/build -o test_capi
 * Run:
 *   test_capi [name-part...]   (no argument runs every test)
 */
#define _POSIX_C_SOURCE 200809L

#include "rtcore.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Harness                                                             */
/* ------------------------------------------------------------------ */

#define WAIT_MS 5000 /* bound of every wait for the engine */

static const char* g_test = "";
static int g_test_failures; /* failed checks in the current test */

static int check_impl(int ok, const char* expr, const char* file, int line) {
  if (!ok) {
    printf("FAIL %s (%s:%d): %s\n", g_test, file, line, expr);
    fflush(stdout);
    g_test_failures++;
  }
  return ok;
}

static int check_int_impl(long long a, long long b, const char* ea, const char* eb, const char* file,
                          int line) {
  if (a != b) {
    printf("FAIL %s (%s:%d): %s == %s (got %lld, expected %lld)\n", g_test, file, line, ea, eb, a, b);
    fflush(stdout);
    g_test_failures++;
    return 0;
  }
  return 1;
}

static int check_str_impl(const char* a, const char* b, const char* ea, const char* file, int line) {
  if (a == NULL || strcmp(a, b) != 0) {
    printf("FAIL %s (%s:%d): %s == \"%s\" (got %s%s%s)\n", g_test, file, line, ea, b, a ? "\"" : "",
           a ? a : "NULL", a ? "\"" : "");
    fflush(stdout);
    g_test_failures++;
    return 0;
  }
  return 1;
}

/* Each returns non-zero when the check passed, so a test can stop early. */
#define CHECK(cond) check_impl(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_INT(a, b) check_int_impl((long long)(a), (long long)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_STR(a, b) check_str_impl((a), (b), #a, __FILE__, __LINE__)

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* ------------------------------------------------------------------ */
/* Handlers that record what the engine reports                        */
/* ------------------------------------------------------------------ */

#define LOG_CAP 32
#define LOG_LEN 64

typedef struct events {
  pthread_mutex_t mu;
  /* set by the test before start */
  rtc_engine* engine;
  int refuse_status;      /* non-zero: on_connect refuses with it */
  const char* rename_to;  /* non-NULL: on_connect sets this user id */
  int stop_in_open;       /* non-zero: on_open calls rtc_engine_stop */
  int defer;              /* non-zero: on_connect defers its decision */
  uint64_t authz_request; /* the last deferred authorization */
  int authz_calls;
  uint64_t request_id; /* the last request's id */
  /* recorded by the handlers */
  int n_connect, n_open, n_disconnect, n_online, n_offline;
  char connect_path[LOG_LEN], connect_user[LOG_LEN];
  char connect_host[LOG_LEN];   /* value of the "host" header */
  int connect_upper_case_names; /* header names with an upper-case letter */
  rtc_conn_id open_conn, disconnect_conn;
  char open_user[LOG_LEN], disconnect_user[LOG_LEN];
  uint32_t disconnect_code;
  char presence_ts[LOG_LEN];
  int stop_in_open_rc;
  char log[LOG_CAP][LOG_LEN + 16]; /* "open alice", "online alice", ... */
  int n_log;
} events;

static void copy_str(char* dst, size_t cap, const char* src, size_t len) {
  if (src == NULL) len = 0;
  if (len >= cap) len = cap - 1;
  if (len) memcpy(dst, src, len);
  dst[len] = '\0';
}

static void log_event(events* ev, const char* what, const char* user, size_t user_len) {
  char u[LOG_LEN];
  copy_str(u, sizeof u, user, user_len);
  if (ev->n_log < LOG_CAP) {
    snprintf(ev->log[ev->n_log], sizeof ev->log[0], "%.12s %s", what, u);
    ev->n_log++;
  }
}

/* Index of the first log entry equal to s, or -1. */
static int log_index(events* ev, const char* s) {
  int i, found = -1;
  pthread_mutex_lock(&ev->mu);
  for (i = 0; i < ev->n_log && found < 0; i++)
    if (strcmp(ev->log[i], s) == 0) found = i;
  pthread_mutex_unlock(&ev->mu);
  return found;
}

static void on_connect(void* ud, const rtc_connect_request* req, rtc_connect_decision* d) {
  events* ev = (events*)ud;
  size_t i;
  pthread_mutex_lock(&ev->mu);
  ev->n_connect++;
  copy_str(ev->connect_path, LOG_LEN, req->path, req->path_len);
  copy_str(ev->connect_user, LOG_LEN, req->user_id, req->user_id_len);
  for (i = 0; i < req->header_count; i++) {
    const rtc_header* h = &req->headers[i];
    size_t j;
    for (j = 0; j < h->name_len; j++)
      if (h->name[j] >= 'A' && h->name[j] <= 'Z') ev->connect_upper_case_names++;
    if (h->name_len == 4 && memcmp(h->name, "host", 4) == 0)
      copy_str(ev->connect_host, LOG_LEN, h->value, h->value_len);
  }
  log_event(ev, "connect", req->user_id, req->user_id_len);
  ev->request_id = req->request_id;
  if (ev->defer) {
    d->defer = 1;
  } else if (ev->refuse_status) {
    d->accept = 0;
    d->http_status = ev->refuse_status;
  } else if (ev->rename_to) {
    rtc_connect_decision_set_user(d, ev->rename_to, strlen(ev->rename_to));
  }
  pthread_mutex_unlock(&ev->mu);
}

static void on_open(void* ud, rtc_conn_id conn, const char* user, size_t user_len) {
  events* ev = (events*)ud;
  int stop;
  pthread_mutex_lock(&ev->mu);
  ev->open_conn = conn;
  copy_str(ev->open_user, LOG_LEN, user, user_len);
  log_event(ev, "open", user, user_len);
  stop = ev->stop_in_open;
  pthread_mutex_unlock(&ev->mu);
  if (stop) {
    int rc = rtc_engine_stop(ev->engine, 0); /* must refuse: RTC_ESTATE */
    pthread_mutex_lock(&ev->mu);
    ev->stop_in_open_rc = rc;
    pthread_mutex_unlock(&ev->mu);
  }
  pthread_mutex_lock(&ev->mu);
  ev->n_open++; /* last, so a waiter sees everything above */
  pthread_mutex_unlock(&ev->mu);
}

static void on_disconnect(void* ud, rtc_conn_id conn, const char* user, size_t user_len, uint32_t code) {
  events* ev = (events*)ud;
  pthread_mutex_lock(&ev->mu);
  ev->disconnect_conn = conn;
  ev->disconnect_code = code;
  copy_str(ev->disconnect_user, LOG_LEN, user, user_len);
  log_event(ev, "disconnect", user, user_len);
  ev->n_disconnect++;
  pthread_mutex_unlock(&ev->mu);
}

static void on_presence(void* ud, const char* user, size_t user_len, int32_t status, const char* ts,
                        size_t ts_len) {
  events* ev = (events*)ud;
  pthread_mutex_lock(&ev->mu);
  copy_str(ev->presence_ts, LOG_LEN, ts, ts_len);
  log_event(ev, status == RTC_PRESENCE_ONLINE ? "online" : "offline", user, user_len);
  if (status == RTC_PRESENCE_ONLINE)
    ev->n_online++;
  else
    ev->n_offline++;
  pthread_mutex_unlock(&ev->mu);
}

static void events_init(events* ev) {
  memset(ev, 0, sizeof *ev);
  pthread_mutex_init(&ev->mu, NULL);
  ev->stop_in_open_rc = 1; /* not a result code: "not called" */
}

static int read_counter(events* ev, const int* counter) {
  int v;
  pthread_mutex_lock(&ev->mu);
  v = *counter;
  pthread_mutex_unlock(&ev->mu);
  return v;
}

/* Waits (at most WAIT_MS) until *counter >= want; returns non-zero if so. */
static int wait_counter(events* ev, const int* counter, int want) {
  long long deadline = now_ms() + WAIT_MS;
  for (;;) {
    if (read_counter(ev, counter) >= want) return 1;
    if (now_ms() >= deadline) return 0;
    sleep_ms(5);
  }
}

/* Waits (at most WAIT_MS) until stats.connections == want. */
static int wait_connections(rtc_engine* e, uint64_t want, uint64_t* seen) {
  long long deadline = now_ms() + WAIT_MS;
  for (;;) {
    rtc_stats st;
    rtc_stats_init(&st);
    if (rtc_engine_stats(e, &st) == RTC_OK) {
      *seen = st.connections;
      if (st.connections == want) return 1;
    }
    if (now_ms() >= deadline) return 0;
    sleep_ms(5);
  }
}

/* Creates and starts an engine on a free port with the recording handlers.
 * Returns NULL (after recording a failure) if that fails. */
static rtc_engine* start_engine(events* ev, int with_on_connect) {
  rtc_config cfg;
  rtc_handlers h;
  rtc_engine* e = NULL;
  rtc_config_init(&cfg);
  rtc_handlers_init(&h);
  h.user_data = ev;
  if (with_on_connect) h.on_connect = on_connect;
  h.on_open = on_open;
  h.on_disconnect = on_disconnect;
  h.on_presence = on_presence;
  if (!CHECK_INT(rtc_engine_create(&cfg, &h, &e), RTC_OK) || !CHECK(e)) return NULL;
  ev->engine = e;
  if (!CHECK_INT(rtc_engine_start(e), RTC_OK) || !CHECK(rtc_engine_port(e) != 0)) {
    rtc_engine_destroy(e);
    return NULL;
  }
  return e;
}

/* ------------------------------------------------------------------ */
/* A raw socket peer                                                   */
/* ------------------------------------------------------------------ */

typedef struct peer {
  int fd;
  unsigned char buf[65536];
  size_t len; /* received bytes not consumed yet */
} peer;

static int peer_connect(peer* p, uint32_t port) {
  struct sockaddr_in sa;
  struct timeval tv;
  p->len = 0;
  p->fd = socket(AF_INET, SOCK_STREAM, 0);
  if (p->fd < 0) return 0;
  tv.tv_sec = 1; /* per recv; loops also check an overall deadline */
  tv.tv_usec = 0;
  setsockopt(p->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  tv.tv_sec = WAIT_MS / 1000;
  setsockopt(p->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(p->fd, (struct sockaddr*)&sa, sizeof sa) != 0) {
    close(p->fd);
    p->fd = -1;
    return 0;
  }
  return 1;
}

static void peer_close(peer* p) {
  if (p->fd >= 0) close(p->fd);
  p->fd = -1;
}

static int send_all(peer* p, const void* data, size_t len) {
  const char* d = (const char*)data;
  while (len > 0) {
    ssize_t n = send(p->fd, d, len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    d += n;
    len -= (size_t)n;
  }
  return 1;
}

/* Receives until at least `need` bytes are buffered; 0 on EOF, error or
 * the deadline. */
static int peer_fill(peer* p, size_t need, long long deadline) {
  while (p->len < need) {
    ssize_t n;
    if (need > sizeof p->buf || now_ms() >= deadline) return 0;
    n = recv(p->fd, p->buf + p->len, sizeof p->buf - p->len, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n <= 0) return 0;
    p->len += (size_t)n;
  }
  return 1;
}

static void peer_consume(peer* p, size_t n) {
  memmove(p->buf, p->buf + n, p->len - n);
  p->len -= n;
}

/* Reads an HTTP response head (through the blank line, or what came before
 * EOF) into out as a NUL-terminated string; bytes after it stay buffered.
 * Returns the head's length, 0 if nothing came. */
static size_t read_http_head(peer* p, char* out, size_t cap) {
  long long deadline = now_ms() + WAIT_MS;
  size_t end = 0, i;
  for (;;) {
    for (i = 3; i < p->len && end == 0; i++)
      if (memcmp(p->buf + i - 3, "\r\n\r\n", 4) == 0) end = i + 1;
    if (end) break;
    if (!peer_fill(p, p->len + 1, deadline)) {
      end = p->len; /* EOF or timeout: take what came */
      break;
    }
  }
  copy_str(out, cap, (const char*)p->buf, end);
  peer_consume(p, end);
  return end;
}

/* A plain HTTP request; returns the response head in out. */
static size_t http_request(uint32_t port, const char* request, char* out, size_t cap) {
  peer p;
  size_t n = 0;
  out[0] = '\0';
  if (!CHECK(peer_connect(&p, port))) return 0;
  if (CHECK(send_all(&p, request, strlen(request)))) n = read_http_head(&p, out, cap);
  peer_close(&p);
  return n;
}

static int starts_with(const char* s, const char* prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The RFC 6455 sample key and its accept value. */
#define WS_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define WS_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static void upgrade_request(char* out, size_t cap, const char* path) {
  snprintf(out, cap,
           "GET %s HTTP/1.1\r\n"
           "Host: 127.0.0.1\r\n"
           "Upgrade: websocket\r\n"
           "Connection: Upgrade\r\n"
           "Sec-WebSocket-Key: " WS_KEY
           "\r\n"
           "Sec-WebSocket-Version: 13\r\n"
           "\r\n",
           path);
}

/* Connects and upgrades to path; the response head goes to head. Returns
 * non-zero if the socket is connected (whatever the status). */
static int ws_open(peer* p, uint32_t port, const char* path, char* head, size_t cap) {
  char req[512];
  head[0] = '\0';
  if (!CHECK(peer_connect(p, port))) return 0;
  upgrade_request(req, sizeof req, path);
  if (!CHECK(send_all(p, req, strlen(req)))) {
    peer_close(p);
    return 0;
  }
  read_http_head(p, head, cap);
  return 1;
}

/* Sends one masked frame with FIN set, as a client must. */
static int ws_send(peer* p, int opcode, const void* data, size_t len) {
  static const unsigned char mask[4] = {0x37, 0xfa, 0x21, 0x3d};
  unsigned char frame[1024];
  const unsigned char* d = (const unsigned char*)data;
  size_t h = 0, i;
  if (len > sizeof frame - 8) return 0;
  frame[h++] = (unsigned char)(0x80 | opcode);
  if (len < 126) {
    frame[h++] = (unsigned char)(0x80 | len);
  } else {
    frame[h++] = 0x80 | 126;
    frame[h++] = (unsigned char)(len >> 8);
    frame[h++] = (unsigned char)(len & 0xff);
  }
  memcpy(frame + h, mask, 4);
  h += 4;
  for (i = 0; i < len; i++) frame[h + i] = d[i] ^ mask[i % 4];
  return send_all(p, frame, h + len);
}

static int ws_send_text(peer* p, const char* text) {
  return ws_send(p, 0x1, text, strlen(text));
}

typedef struct frame {
  int fin, opcode, masked;
  char data[8192]; /* NUL-terminated (truncated if longer) */
  size_t len;
} frame;

/* Reads one server frame; 0 on EOF, error or the deadline. */
static int ws_read(peer* p, frame* f, long long deadline) {
  size_t h = 2, len, i;
  if (!peer_fill(p, 2, deadline)) return 0;
  f->fin = (p->buf[0] & 0x80) != 0;
  f->opcode = p->buf[0] & 0x0f;
  f->masked = (p->buf[1] & 0x80) != 0;
  len = p->buf[1] & 0x7f;
  if (len == 126) {
    if (!peer_fill(p, 4, deadline)) return 0;
    len = ((size_t)p->buf[2] << 8) | p->buf[3];
    h = 4;
  } else if (len == 127) {
    if (!peer_fill(p, 10, deadline)) return 0;
    for (len = 0, i = 2; i < 10; i++) len = (len << 8) | p->buf[i];
    h = 10;
  }
  if (f->masked) h += 4; /* a server must not mask; read it anyway */
  if (!peer_fill(p, h + len, deadline)) return 0;
  if (f->masked)
    for (i = 0; i < len; i++) p->buf[h + i] ^= p->buf[h - 4 + i % 4];
  copy_str(f->data, sizeof f->data, (const char*)p->buf + h, len);
  f->len = len;
  peer_consume(p, h + len);
  return 1;
}

/* Reads frames until a text frame containing needle (returned in f), or a
 * close frame / EOF / the deadline (returns 0). Server frames must be
 * unmasked and final. */
static int ws_expect_text(peer* p, const char* needle, frame* f) {
  long long deadline = now_ms() + WAIT_MS;
  while (ws_read(p, f, deadline)) {
    CHECK(!f->masked);
    if (f->opcode == 0x8) return 0;
    if (f->opcode != 0x1) continue; /* ping, pong */
    CHECK(f->fin);
    if (strstr(f->data, needle)) return 1;
    printf("  (%s: skipping frame %s)\n", g_test, f->data);
  }
  return 0;
}

/* Checks a timestamp of the form 2026-11-28T16:40:27.123Z. */
static int is_rfc3339_ms(const char* s) {
  static const char pat[] = "dddd-dd-ddTdd:dd:dd.dddZ";
  size_t i;
  if (strlen(s) != sizeof pat - 1) return 0;
  for (i = 0; i < sizeof pat - 1; i++) {
    if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i]) return 0;
  }
  return 1;
}

/* ------------------------------------------------------------------ */
/* Tests without an engine                                             */
/* ------------------------------------------------------------------ */

static void test_version_matches_macros(void) {
  char expect[32];
  uint32_t n =
      ((uint32_t)RTC_VERSION_MAJOR << 16) | ((uint32_t)RTC_VERSION_MINOR << 8) | (uint32_t)RTC_VERSION_PATCH;
  snprintf(expect, sizeof expect, "%d.%d.%d", RTC_VERSION_MAJOR, RTC_VERSION_MINOR, RTC_VERSION_PATCH);
  CHECK_STR(rtc_version(), RTC_VERSION_STRING);
  CHECK_STR(rtc_version(), expect);
  CHECK_INT(rtc_version_number(), n);
}

static void test_every_error_code_has_message_and_name(void) {
#define X(name, value, msg)            \
  CHECK_INT(RTC_##name, value);        \
  CHECK_STR(rtc_strerror(value), msg); \
  CHECK_STR(rtc_err_name(value), "RTC_" #name);
  RTC_ERRNO_MAP(X)
#undef X
}

static void test_unknown_error_code_is_unknown_error(void) {
  static const int codes[] = {-99, -1000, 1, 42, -2147483647 - 1};
  size_t i;
  for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    CHECK_STR(rtc_strerror(codes[i]), "unknown error");
    CHECK(rtc_err_name(codes[i]) != NULL);
  }
}

static void test_config_init_sets_defaults(void) {
  rtc_config cfg;
  memset(&cfg, 0xab, sizeof cfg);
  rtc_config_init(&cfg);
  CHECK_INT(cfg.struct_size, sizeof(rtc_config));
  CHECK_INT(cfg.port, 0);
  CHECK_INT(cfg.max_message_size, 1024 * 1024);
  CHECK_INT(cfg.max_send_queue_bytes, 4 * 1024 * 1024);
  CHECK_INT(cfg.ping_interval_ms, 30000);
  CHECK_INT(cfg.ping_timeout_ms, 30000);
  CHECK_INT(cfg.max_rooms_per_connection, 1024);
  CHECK_INT(cfg.allow_post_without_join, 0);
  CHECK_INT(cfg.log_level, 1);
  CHECK_INT(cfg.join_timeout_ms, 3000);
  CHECK(cfg.redis_url == NULL || cfg.redis_url[0] == '\0');
}

static void test_handlers_and_stats_init_set_struct_size(void) {
  rtc_handlers h;
  rtc_stats st;
  memset(&h, 0xab, sizeof h);
  rtc_handlers_init(&h);
  CHECK_INT(h.struct_size, sizeof(rtc_handlers));
  CHECK(h.user_data == NULL);
  CHECK(h.on_connect == NULL && h.on_open == NULL && h.on_disconnect == NULL && h.on_message == NULL &&
        h.on_presence == NULL);
  memset(&st, 0xab, sizeof st);
  rtc_stats_init(&st);
  CHECK_INT(st.struct_size, sizeof(rtc_stats));
}

static void test_decision_set_user_validates_the_id(void) {
  rtc_connect_decision d;
  char long_id[130];
  memset(&d, 0, sizeof d);
  d.struct_size = sizeof d;
  CHECK_INT(rtc_connect_decision_set_user(&d, "carol", 5), RTC_OK);
  CHECK_STR(d.user_id, "carol");
  CHECK_INT(d.user_id_len, 5);
  CHECK_INT(rtc_connect_decision_set_user(&d, "x", 0), RTC_EINVAL);
  CHECK_INT(rtc_connect_decision_set_user(&d, "a/b", 3), RTC_EINVAL);
  CHECK_INT(rtc_connect_decision_set_user(&d, "a\nb", 3), RTC_EINVAL);
  memset(long_id, 'u', sizeof long_id);
  CHECK_INT(rtc_connect_decision_set_user(&d, long_id, 128), RTC_OK);
  CHECK_INT(rtc_connect_decision_set_user(&d, long_id, 129), RTC_EINVAL);
}

static void test_create_with_null_out_is_einval(void) {
  rtc_config cfg;
  rtc_config_init(&cfg);
  CHECK_INT(rtc_engine_create(&cfg, NULL, NULL), RTC_EINVAL);
  CHECK_INT(rtc_engine_create(NULL, NULL, NULL), RTC_EINVAL);
}

/* Creates with cfg, expects `want`, and frees an engine made by mistake. */
static void expect_create_fails(const rtc_config* cfg, int want, int line) {
  rtc_engine* e = NULL;
  int rc = rtc_engine_create(cfg, NULL, &e);
  check_int_impl(rc, want, "rtc_engine_create(...)", rtc_err_name(want), __FILE__, line);
  if (rc == RTC_OK) rtc_engine_destroy(e);
}

static void test_create_rejects_bad_config(void) {
  rtc_config cfg;
  rtc_config_init(&cfg);
  cfg.struct_size = 0;
  expect_create_fails(&cfg, RTC_ESTRUCT, __LINE__);
  rtc_config_init(&cfg);
  cfg.max_message_size = 0;
  expect_create_fails(&cfg, RTC_EINVAL, __LINE__);
}

static void test_create_checks_the_redis_url(void) {
  rtc_config cfg;
  rtc_engine* e = NULL;
  rtc_config_init(&cfg);
  cfg.redis_url = "http://127.0.0.1:6379";
  expect_create_fails(&cfg, RTC_EINVAL, __LINE__);
  cfg.redis_url = "redis://127.0.0.1:99999";
  expect_create_fails(&cfg, RTC_EINVAL, __LINE__);
  cfg.redis_url = "redis://:pw@127.0.0.1:1/2";
  CHECK_INT(rtc_engine_create(&cfg, NULL, &e), RTC_OK);
  rtc_engine_destroy(e);
}

static void test_destroy_null_is_a_noop(void) {
  rtc_engine_destroy(NULL);
  CHECK(1);
}

/* ------------------------------------------------------------------ */
/* The counters' table and the metrics text                           */
/* ------------------------------------------------------------------ */

static void collect_text(const char* text, size_t len, void* userdata) {
  char* out = (char*)userdata;
  size_t n = len < 65535 ? len : 65535;
  memcpy(out, text, n);
  out[n] = '\0';
}

static void test_settings_table_matches_rtc_config_init(void) {
  size_t n = rtc_config_option_count(), i;
  rtc_config d;
  int saw_port = 0, saw_prefix = 0;
  rtc_config_init(&d);
  CHECK(n >= 20);
  CHECK(rtc_config_option(n) == NULL);
  for (i = 0; i < n; ++i) {
    const rtc_option_info* o = rtc_config_option(i);
    if (!CHECK(o && o->name && o->flag && o->env && o->help)) return;
    CHECK(o->offset + o->size <= sizeof d);
    if (o->type != RTC_OPTION_STRING) {
      uint64_t v = 0;
      if (o->size == 8) {
        memcpy(&v, (const char*)&d + o->offset, 8);
      } else {
        uint32_t v32;
        memcpy(&v32, (const char*)&d + o->offset, 4);
        v = v32;
      }
      CHECK(v == o->default_value);
    }
    if (strcmp(o->name, "port") == 0) {
      saw_port = 1;
      CHECK_STR(o->flag, "--port");
      CHECK_STR(o->env, "RTCORE_PORT");
      CHECK(o->offset == offsetof(rtc_config, port) && o->max == 65535);
    }
    if (strcmp(o->name, "redis_prefix") == 0) saw_prefix = 1;
    if (strcmp(o->name, "max_message_size") == 0) CHECK(o->unit == RTC_UNIT_BYTES && o->size == 8);
    if (strcmp(o->name, "node_ttl_ms") == 0) CHECK(o->unit == RTC_UNIT_SECONDS && o->default_value == 15000);
  }
  CHECK(saw_port && saw_prefix);
}

static void test_stats_table_names_every_field_and_metrics_render(void) {
  size_t n = rtc_stats_count();
  const char *name = NULL, *kind = NULL, *help = NULL;
  static char text[65536];
  rtc_engine* e = NULL;
  rtc_config cfg;
  /* One name per uint64_t field after struct_size, in order. */
  CHECK_INT((int)n, (int)((sizeof(rtc_stats) - offsetof(rtc_stats, connections)) / sizeof(uint64_t)));
  CHECK_INT(rtc_stats_field(0, &name, &kind, &help), RTC_OK);
  CHECK_STR(name, "connections");
  CHECK_STR(kind, "gauge");
  CHECK(help && *help);
  CHECK_INT(rtc_stats_field((offsetof(rtc_stats, internal_errors) - offsetof(rtc_stats, connections)) / 8,
                            &name, &kind, NULL),
            RTC_OK);
  CHECK_STR(name, "internal_errors");
  CHECK_STR(kind, "counter");
  CHECK_INT(rtc_stats_field(n, &name, NULL, NULL), RTC_EINVAL);
  CHECK_INT(rtc_stats_field(0, NULL, NULL, NULL), RTC_OK);

  rtc_config_init(&cfg);
  if (!CHECK_INT(rtc_engine_create(&cfg, NULL, &e), RTC_OK)) return;
  CHECK_INT(rtc_engine_metrics(e, NULL, text), RTC_EINVAL);
  CHECK_INT(rtc_engine_metrics(NULL, collect_text, text), RTC_EINVAL);
  CHECK_INT(rtc_engine_start(e), RTC_OK);
  text[0] = '\0';
  CHECK_INT(rtc_engine_metrics(e, collect_text, text), RTC_OK);
  CHECK(strstr(text, "# TYPE rtcore_connections gauge\nrtcore_connections 0\n") != NULL);
  CHECK(strstr(text, "rtcore_internal_errors_total 0\n") != NULL);
  CHECK(strstr(text, "rtcore_delivery_age_seconds_bucket{le=\"+Inf\"} 0\n") != NULL);
  CHECK(strstr(text, "backplane=\"in-process\"") != NULL);
  rtc_engine_destroy(e);
}

/* ------------------------------------------------------------------ */
/* Lifecycle                                                           */
/* ------------------------------------------------------------------ */

static void test_lifecycle_and_state_errors(void) {
  rtc_engine* e = NULL;
  rtc_config cfg;
  char node[16];
  static const char msg[] = "{\"a\":1}";
  rtc_config_init(&cfg);
  /* Node ids other nodes would drop are refused up front. */
  cfg.node_id = "a b";
  CHECK_INT(rtc_engine_create(&cfg, NULL, &e), RTC_EINVAL);
  cfg.node_id = "n\x01";
  CHECK_INT(rtc_engine_create(&cfg, NULL, &e), RTC_EINVAL);
  strcpy(node, "node-a");
  cfg.node_id = node;
  if (!CHECK_INT(rtc_engine_create(&cfg, NULL, &e), RTC_OK) || !CHECK(e)) return;
  strcpy(node, "XXXXXX"); /* borrowed only until create returned */
  CHECK_STR(rtc_engine_node_id(e), "node-a");
  CHECK_INT(rtc_engine_port(e), 0);

  /* created, not running */
  CHECK_INT(rtc_send_to_user(e, "alice", 5, NULL, 0, RTC_PAYLOAD_CONTENT, msg, 7), RTC_ESTATE);

  CHECK_INT(rtc_engine_start(e), RTC_OK);
  CHECK(rtc_engine_port(e) != 0);
  CHECK_INT(rtc_engine_start(e), RTC_ESTATE);
  CHECK_INT(rtc_send_to_user(e, "alice", 5, NULL, 0, RTC_PAYLOAD_CONTENT, msg, 7), RTC_OK);

  CHECK_INT(rtc_engine_stop(e, 0), RTC_OK);
  CHECK_INT(rtc_engine_stop(e, 0), RTC_OK);

  /* stopped */
  CHECK_INT(rtc_send_to_user(e, "alice", 5, NULL, 0, RTC_PAYLOAD_CONTENT, msg, 7), RTC_ESTATE);
  CHECK_INT(rtc_send_to_connection(e, 12345, NULL, 0, RTC_PAYLOAD_CONTENT, msg, 7), RTC_ESTATE);
  CHECK_INT(rtc_broadcast(e, "r", 1, NULL, 0, RTC_PAYLOAD_CONTENT, msg, 7), RTC_ESTATE);
  CHECK_INT(rtc_join(e, 12345, "r", 1), RTC_ESTATE);
  CHECK_INT(rtc_leave(e, 12345, "r", 1), RTC_ESTATE);
  CHECK_INT(rtc_disconnect(e, 12345, 1000), RTC_ESTATE);
  CHECK_INT(rtc_disconnect_user(e, "alice", 5, 1000), RTC_ESTATE);
  CHECK_STR(rtc_engine_node_id(e), "node-a");
  rtc_engine_destroy(e);
}

static void test_destroy_stops_a_running_engine(void) {
  rtc_engine* e = NULL;
  if (!CHECK_INT(rtc_engine_create(NULL, NULL, &e), RTC_OK) || !CHECK(e)) return;
  CHECK_INT(rtc_engine_start(e), RTC_OK);
  rtc_engine_destroy(e);
}

static void test_start_on_a_taken_port_is_elisten(void) {
  rtc_engine *a = NULL, *b = NULL;
  rtc_config cfg;
  if (!CHECK_INT(rtc_engine_create(NULL, NULL, &a), RTC_OK) || !CHECK_INT(rtc_engine_start(a), RTC_OK)) {
    rtc_engine_destroy(a);
    return;
  }
  rtc_config_init(&cfg);
  cfg.port = rtc_engine_port(a);
  if (CHECK_INT(rtc_engine_create(&cfg, NULL, &b), RTC_OK)) {
    CHECK_INT(rtc_engine_start(b), RTC_ELISTEN);
    CHECK_INT(rtc_engine_port(b), 0);
    rtc_engine_destroy(b);
  }
  rtc_engine_destroy(a);
}

static void test_stats_writes_only_struct_size_bytes(void) {
  rtc_engine* e = NULL;
  rtc_stats st;
  if (!CHECK_INT(rtc_engine_create(NULL, NULL, &e), RTC_OK) || !CHECK_INT(rtc_engine_start(e), RTC_OK)) {
    rtc_engine_destroy(e);
    return;
  }
  memset(&st, 0xab, sizeof st);
  st.struct_size = (uint32_t)offsetof(rtc_stats, users);
  CHECK_INT(rtc_engine_stats(e, &st), RTC_OK);
  CHECK_INT(st.connections, 0);
  CHECK(st.users == 0xababababababababULL);
  CHECK(st.oversize_closes == 0xababababababababULL);
  rtc_engine_destroy(e);
}

/* ------------------------------------------------------------------ */
/* HTTP and WebSocket                                                  */
/* ------------------------------------------------------------------ */

static void test_healthz_answers_200(void) {
  events ev;
  char head[4096];
  rtc_engine* e;
  events_init(&ev);
  if (!(e = start_engine(&ev, 1))) return;
  http_request(rtc_engine_port(e), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", head, sizeof head);
  if (!CHECK(starts_with(head, "HTTP/1.1 200"))) printf("  response: %s\n", head);
  CHECK_INT(read_counter(&ev, &ev.n_connect), 0);
  rtc_engine_destroy(e);
}

static void test_upgrade_without_user_id_is_400(void) {
  events ev;
  char head[4096], req[512];
  rtc_engine* e;
  events_init(&ev);
  if (!(e = start_engine(&ev, 1))) return;
  upgrade_request(req, sizeof req, "/ws/");
  http_request(rtc_engine_port(e), req, head, sizeof head);
  if (!CHECK(starts_with(head, "HTTP/1.1 400"))) printf("  response: %s\n", head);
  CHECK_INT(read_counter(&ev, &ev.n_connect), 0);
  CHECK_INT(read_counter(&ev, &ev.n_open), 0);
  rtc_engine_destroy(e);
}

/* --internal-listen: its own port for /readyz, /stats, /metrics, /healthz;
 * the public port keeps only /healthz of those; no upgrades there. */
static void test_internal_listener_serves_the_operational_endpoints(void) {
  rtc_config cfg;
  rtc_engine* e = NULL;
  char head[4096], req[512];
  uint32_t port, internal;
  rtc_config_init(&cfg);
  CHECK_INT(rtc_engine_internal_port(NULL), 0);
  cfg.internal_listen = "127.0.0.1";
  CHECK_INT(rtc_engine_create(&cfg, NULL, &e), RTC_EINVAL);
  cfg.internal_listen = "127.0.0.1:70000";
  CHECK_INT(rtc_engine_create(&cfg, NULL, &e), RTC_EINVAL);
  cfg.internal_listen = "127.0.0.1:0";
  if (!CHECK_INT(rtc_engine_create(&cfg, NULL, &e), RTC_OK)) return;
  CHECK_INT(rtc_engine_internal_port(e), 0); /* not started yet */
  if (!CHECK_INT(rtc_engine_start(e), RTC_OK)) {
    rtc_engine_destroy(e);
    return;
  }
  port = rtc_engine_port(e);
  internal = rtc_engine_internal_port(e);
  CHECK(internal != 0 && internal != port);
  http_request(internal, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n", head, sizeof head);
  if (!CHECK(starts_with(head, "HTTP/1.1 200"))) printf("  response: %s\n", head);
  http_request(internal, "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n", head, sizeof head);
  if (!CHECK(starts_with(head, "HTTP/1.1 200"))) printf("  response: %s\n", head);
  http_request(internal, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", head, sizeof head);
  CHECK(starts_with(head, "HTTP/1.1 200"));
  http_request(port, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n", head, sizeof head);
  if (!CHECK(starts_with(head, "HTTP/1.1 404"))) printf("  response: %s\n", head);
  http_request(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", head, sizeof head);
  CHECK(starts_with(head, "HTTP/1.1 200"));
  upgrade_request(req, sizeof req, "/ws/alice");
  http_request(internal, req, head, sizeof head);
  if (!CHECK(starts_with(head, "HTTP/1.1 404"))) printf("  response: %s\n", head);
  CHECK_INT(rtc_engine_stop(e, 0), RTC_OK);
  CHECK_INT(rtc_engine_internal_port(e), 0);
  rtc_engine_destroy(e);
  /* Without the option there is no internal port, and /readyz is public. */
  rtc_config_init(&cfg);
  if (!CHECK_INT(rtc_engine_create(&cfg, NULL, &e), RTC_OK)) return;
  if (CHECK_INT(rtc_engine_start(e), RTC_OK)) {
    CHECK_INT(rtc_engine_internal_port(e), 0);
    http_request(rtc_engine_port(e), "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n", head, sizeof head);
    if (!CHECK(starts_with(head, "HTTP/1.1 200"))) printf("  response: %s\n", head);
  }
  rtc_engine_destroy(e);
}

/* What the on_log handler saw (it runs on the engine thread). */
typedef struct log_sink {
  pthread_mutex_t mu;
  int lines, refusals, bad_fields, leaks;
  int refusal_level;
  char refusal_fields[256];
} log_sink;

static int contains(const char* s, size_t len, const char* needle) {
  size_t n = strlen(needle), i;
  for (i = 0; i + n <= len; i++)
    if (memcmp(s + i, needle, n) == 0) return 1;
  return 0;
}

static void on_log(void* ud, int32_t level, const char* event, size_t event_len, const char* message,
                   size_t message_len, const char* fields, size_t fields_len) {
  log_sink* ls = (log_sink*)ud;
  pthread_mutex_lock(&ls->mu);
  ls->lines++;
  if (fields_len < 2 || fields[0] != '{' || fields[fields_len - 1] != '}') ls->bad_fields++;
  if (contains(message, message_len, "s3cret-value") || contains(message, message_len, "bad.token.here") ||
      contains(fields, fields_len, "s3cret-value") || contains(fields, fields_len, "bad.token.here"))
    ls->leaks++;
  if (event_len == 15 && memcmp(event, "upgrade_refused", 15) == 0) {
    ls->refusals++;
    ls->refusal_level = level;
    copy_str(ls->refusal_fields, sizeof ls->refusal_fields, fields, fields_len);
  }
  pthread_mutex_unlock(&ls->mu);
}

static void test_log_handler_gets_lines_without_secrets(void) {
  rtc_config cfg;
  rtc_handlers h;
  rtc_engine* e = NULL;
  log_sink ls;
  char head[4096], req[512];
  long long deadline;
  int refusals = 0;
  memset(&ls, 0, sizeof ls);
  pthread_mutex_init(&ls.mu, NULL);
  rtc_config_init(&cfg);
  cfg.log_level = RTC_LOG_DEBUG;
  cfg.auth_mode = RTC_AUTH_JWT_HS256;
  cfg.jwt_secret = "s3cret-value";
  cfg.jwt_secret_len = strlen(cfg.jwt_secret);
  rtc_handlers_init(&h);
  h.user_data = &ls;
  h.on_log = on_log;
  if (!CHECK_INT(rtc_engine_create(&cfg, &h, &e), RTC_OK)) return;
  if (CHECK_INT(rtc_engine_start(e), RTC_OK)) {
    upgrade_request(req, sizeof req, "/ws/alice?token=bad.token.here");
    http_request(rtc_engine_port(e), req, head, sizeof head);
    CHECK(starts_with(head, "HTTP/1.1 401"));
    for (deadline = now_ms() + WAIT_MS; now_ms() < deadline && refusals == 0; sleep_ms(10)) {
      pthread_mutex_lock(&ls.mu);
      refusals = ls.refusals;
      pthread_mutex_unlock(&ls.mu);
    }
  }
  rtc_engine_destroy(e);
  CHECK_INT(ls.refusals, 1);
  CHECK_INT(ls.refusal_level, RTC_LOG_INFO);
  if (!CHECK(strstr(ls.refusal_fields, "\"status\":401") != NULL))
    printf("  fields: %s\n", ls.refusal_fields);
  CHECK(ls.lines > 1); /* libwebsockets' own lines come through too */
  CHECK_INT(ls.bad_fields, 0);
  CHECK_INT(ls.leaks, 0);
  pthread_mutex_destroy(&ls.mu);
}

/* The whole life of one connection, seen from the host. */
static void test_connection_lifecycle_and_handlers(void) {
  events ev;
  char head[4096];
  rtc_engine* e;
  rtc_stats st;
  peer p;
  frame f;
  uint64_t seen = 99;
  rtc_conn_id conn;
  static const char msg[] = "{\"a\":1}";
  int i_open, i_online, i_disc, i_offline;
  events_init(&ev);
  if (!(e = start_engine(&ev, 1))) return;

  CHECK(wait_connections(e, 0, &seen));
  if (!ws_open(&p, rtc_engine_port(e), "/ws/alice", head, sizeof head)) goto out;
  if (!CHECK(starts_with(head, "HTTP/1.1 101"))) {
    printf("  response: %s\n", head);
    goto out_close;
  }
  CHECK(strstr(head, WS_ACCEPT) != NULL);

  if (!CHECK(wait_counter(&ev, &ev.n_open, 1))) goto out_close;
  CHECK(wait_counter(&ev, &ev.n_online, 1));
  pthread_mutex_lock(&ev.mu);
  CHECK_INT(ev.n_connect, 1);
  CHECK_STR(ev.connect_user, "alice");
  CHECK_STR(ev.connect_path, "/ws/alice");
  CHECK_STR(ev.connect_host, "127.0.0.1");
  CHECK_INT(ev.connect_upper_case_names, 0);
  CHECK_STR(ev.open_user, "alice");
  CHECK(ev.open_conn != 0);
  CHECK(is_rfc3339_ms(ev.presence_ts));
  conn = ev.open_conn;
  pthread_mutex_unlock(&ev.mu);
  CHECK(log_index(&ev, "connect alice") == 0);
  CHECK(log_index(&ev, "online alice") >= 0);

  CHECK(wait_connections(e, 1, &seen));
  CHECK_INT(seen, 1);
  rtc_stats_init(&st);
  CHECK_INT(rtc_engine_stats(e, &st), RTC_OK);
  CHECK_INT(st.users, 1);
  CHECK(st.connections_total >= 1);

  /* sends on a running engine */
  CHECK_INT(rtc_send_to_user(e, "alice", 5, NULL, 0, RTC_PAYLOAD_CONTENT, msg, strlen(msg)), RTC_OK);
  CHECK(ws_expect_text(&p, "\"type\":\"direct_message\"", &f));
  CHECK(strstr(f.data, "\"content\":{\"a\":1}") != NULL);
  CHECK(strstr(f.data, "\"from\":\"\"") != NULL);
  CHECK_INT(rtc_send_to_user(e, "nobody", 6, NULL, 0, RTC_PAYLOAD_CONTENT, msg, strlen(msg)), RTC_OK);
  CHECK_INT(rtc_broadcast(e, "r", 1, "srv", 3, RTC_PAYLOAD_CONTENT, msg, strlen(msg)), RTC_OK);
  CHECK_INT(rtc_join(e, 12345, "r", 1), RTC_OK); /* stale id: ignored */
  CHECK_INT(rtc_disconnect(e, 12345, 1000), RTC_OK);
  CHECK_INT(rtc_send_to_user(e, "alice", 5, NULL, 0, RTC_PAYLOAD_CONTENT, "{\"a\":", 5), RTC_EINVAL);
  CHECK_INT(rtc_broadcast(e, "r", 1, NULL, 0, RTC_PAYLOAD_CONTENT, "nope", 4), RTC_EINVAL);
  CHECK_INT(rtc_send_to_connection(e, conn, NULL, 0, RTC_PAYLOAD_RAW, "{", 1), RTC_EINVAL);
  CHECK_INT(rtc_disconnect(e, conn, 999), RTC_EINVAL);

  /* the client goes away without a close frame */
  peer_close(&p);
  CHECK(wait_counter(&ev, &ev.n_disconnect, 1));
  CHECK(wait_counter(&ev, &ev.n_offline, 1));
  pthread_mutex_lock(&ev.mu);
  CHECK(ev.disconnect_conn == conn);
  CHECK_STR(ev.disconnect_user, "alice");
  CHECK_INT(ev.disconnect_code, 1006);
  CHECK_INT(ev.n_open, 1);
  CHECK_INT(ev.n_online, 1);
  pthread_mutex_unlock(&ev.mu);
  i_open = log_index(&ev, "open alice");
  i_online = log_index(&ev, "online alice");
  i_disc = log_index(&ev, "disconnect alice");
  i_offline = log_index(&ev, "offline alice");
  CHECK(i_open >= 0 && i_online >= 0);
  CHECK(i_disc > i_open && i_disc > i_online);
  CHECK(i_offline > i_disc);
  CHECK(wait_connections(e, 0, &seen));
  CHECK_INT(seen, 0);
  rtc_stats_init(&st);
  CHECK_INT(rtc_engine_stats(e, &st), RTC_OK);
  CHECK_INT(st.users, 0);
  goto out;
out_close:
  peer_close(&p);
out:
  CHECK_INT(rtc_engine_stop(e, 0), RTC_OK);
  CHECK_INT(rtc_engine_stop(e, 0), RTC_OK);
  CHECK_INT(rtc_broadcast(e, "r", 1, NULL, 0, RTC_PAYLOAD_CONTENT, msg, strlen(msg)), RTC_ESTATE);
  rtc_engine_destroy(e);
}

static void test_on_connect_can_refuse_with_401(void) {
  events ev;
  char head[4096];
  rtc_engine* e;
  peer p;
  rtc_stats st;
  events_init(&ev);
  ev.refuse_status = 401;
  if (!(e = start_engine(&ev, 1))) return;
  if (ws_open(&p, rtc_engine_port(e), "/ws/alice", head, sizeof head)) {
    if (!CHECK(starts_with(head, "HTTP/1.1 401"))) printf("  response: %s\n", head);
    peer_close(&p);
  }
  CHECK_INT(read_counter(&ev, &ev.n_connect), 1);
  sleep_ms(200); /* give a wrongly accepted connection time to show up */
  CHECK_INT(read_counter(&ev, &ev.n_open), 0);
  CHECK_INT(read_counter(&ev, &ev.n_online), 0);
  CHECK_INT(read_counter(&ev, &ev.n_disconnect), 0);
  rtc_stats_init(&st);
  CHECK_INT(rtc_engine_stats(e, &st), RTC_OK);
  CHECK_INT(st.connections, 0);
  CHECK(st.rejected_upgrades >= 1);
  rtc_engine_destroy(e);
}

static void test_on_connect_can_choose_the_user_id(void) {
  events ev;
  char head[4096];
  rtc_engine* e;
  peer p;
  events_init(&ev);
  ev.rename_to = "carol";
  if (!(e = start_engine(&ev, 1))) return;
  if (ws_open(&p, rtc_engine_port(e), "/ws/alice", head, sizeof head)) {
    CHECK(starts_with(head, "HTTP/1.1 101"));
    if (CHECK(wait_counter(&ev, &ev.n_open, 1))) {
      pthread_mutex_lock(&ev.mu);
      CHECK_STR(ev.open_user, "carol");
      pthread_mutex_unlock(&ev.mu);
      CHECK(wait_counter(&ev, &ev.n_online, 1)); /* may follow on_open */
      CHECK(log_index(&ev, "online carol") >= 0);
      CHECK(log_index(&ev, "online alice") < 0);
    }
    peer_close(&p);
  }
  rtc_engine_destroy(e);
}

static void test_stop_from_a_handler_is_estate(void) {
  events ev;
  char head[4096];
  rtc_engine* e;
  peer p;
  events_init(&ev);
  ev.stop_in_open = 1;
  if (!(e = start_engine(&ev, 0))) return;
  if (ws_open(&p, rtc_engine_port(e), "/ws/alice", head, sizeof head)) {
    if (CHECK(wait_counter(&ev, &ev.n_open, 1)))
      CHECK_INT(read_counter(&ev, &ev.stop_in_open_rc), RTC_ESTATE);
    peer_close(&p);
  }
  CHECK_INT(rtc_engine_stop(e, 0), RTC_OK);
  rtc_engine_destroy(e);
}

/* A minimal WebSocket peer: join with an id, get the ack, get a broadcast,
 * then be closed by the host with 4000. */
static void test_raw_websocket_client_join_ack_and_close(void) {
  events ev;
  char head[4096];
  rtc_engine* e;
  peer p;
  frame f;
  rtc_conn_id conn;
  static const char msg[] = "{\"a\":1}";
  long long deadline;
  int got_close = 0;
  events_init(&ev);
  if (!(e = start_engine(&ev, 0))) return; /* no on_connect: accept all */
  if (!ws_open(&p, rtc_engine_port(e), "/ws/bob", head, sizeof head)) goto out;
  if (!CHECK(starts_with(head, "HTTP/1.1 101"))) {
    printf("  response: %s\n", head);
    goto out_close;
  }
  if (!CHECK(wait_counter(&ev, &ev.n_open, 1))) goto out_close;
  pthread_mutex_lock(&ev.mu);
  conn = ev.open_conn;
  pthread_mutex_unlock(&ev.mu);

  CHECK(ws_send_text(&p, "{\"type\":\"join_room\",\"room\":\"r\",\"id\":1}"));
  if (!CHECK(ws_expect_text(&p, "{\"type\":\"ack\",\"id\":1}", &f))) {
    printf("  last frame: opcode %d: %s\n", f.opcode, f.data);
    goto out_close;
  }
  CHECK_INT(f.opcode, 1);
  CHECK(!f.masked);

  /* after the ack the connection is a member of r */
  CHECK_INT(rtc_broadcast(e, "r", 1, "srv", 3, RTC_PAYLOAD_CONTENT, msg, strlen(msg)), RTC_OK);
  if (CHECK(ws_expect_text(&p, "\"type\":\"message\"", &f))) {
    CHECK(strstr(f.data, "\"room\":\"r\"") != NULL);
    CHECK(strstr(f.data, "\"from\":\"srv\"") != NULL);
    CHECK(strstr(f.data, "\"content\":{\"a\":1}") != NULL);
  }

  /* the host closes it with 4000: a close frame carrying 4000 */
  CHECK_INT(rtc_disconnect(e, conn, 4000), RTC_OK);
  deadline = now_ms() + WAIT_MS;
  while (!got_close && ws_read(&p, &f, deadline)) {
    CHECK(!f.masked);
    if (f.opcode == 0x8) got_close = 1;
  }
  if (CHECK(got_close) && CHECK(f.len >= 2)) {
    unsigned code = ((unsigned)(unsigned char)f.data[0] << 8) | (unsigned char)f.data[1];
    CHECK_INT(code, 4000);
    ws_send(&p, 0x8, f.data, 2); /* echo the close */
  }
  if (CHECK(wait_counter(&ev, &ev.n_disconnect, 1))) {
    pthread_mutex_lock(&ev.mu);
    CHECK(ev.disconnect_conn == conn);
    CHECK_INT(ev.disconnect_code, 4000);
    pthread_mutex_unlock(&ev.mu);
  }
out_close:
  peer_close(&p);
out:
  rtc_engine_destroy(e);
}

/* Denies joins to "secret", defers joins to "later", allows the rest. */
static int32_t on_authorize(void* ud, rtc_conn_id conn, const char* user, size_t user_len, int32_t action,
                            const char* target, size_t target_len, uint64_t request_id) {
  events* ev = (events*)ud;
  int32_t verdict = RTC_AUTHZ_ALLOW;
  (void)conn;
  (void)user;
  (void)user_len;
  pthread_mutex_lock(&ev->mu);
  ev->authz_calls++;
  if (action == RTC_ACTION_JOIN_ROOM && target_len == 6 && memcmp(target, "secret", 6) == 0)
    verdict = RTC_AUTHZ_DENY;
  if (action == RTC_ACTION_JOIN_ROOM && target_len == 5 && memcmp(target, "later", 5) == 0) {
    ev->authz_request = request_id;
    verdict = RTC_AUTHZ_DEFER;
  }
  pthread_mutex_unlock(&ev->mu);
  return verdict;
}

static void test_authorization_hook_allows_denies_and_defers(void) {
  events ev;
  char head[4096];
  rtc_config cfg;
  rtc_handlers h;
  rtc_engine* e = NULL;
  peer p;
  frame f;
  uint64_t rid;
  events_init(&ev);
  rtc_config_init(&cfg);
  rtc_handlers_init(&h);
  h.user_data = &ev;
  h.on_authorize = on_authorize;
  if (!CHECK_INT(rtc_engine_create(&cfg, &h, &e), RTC_OK) || !CHECK_INT(rtc_engine_start(e), RTC_OK)) {
    rtc_engine_destroy(e);
    return;
  }
  if (!ws_open(&p, rtc_engine_port(e), "/ws/alice", head, sizeof head)) goto out;
  CHECK(ws_send_text(&p, "{\"type\":\"join_room\",\"room\":\"secret\",\"id\":1}"));
  if (CHECK(ws_expect_text(&p, "\"code\":\"forbidden\"", &f))) CHECK(strstr(f.data, "\"id\":1") != NULL);
  CHECK(ws_send_text(&p, "{\"type\":\"join_room\",\"room\":\"later\",\"id\":2}"));
  CHECK(ws_send_text(&p, "{\"type\":\"join_room\",\"room\":\"open\",\"id\":3}"));
  sleep_ms(200);
  pthread_mutex_lock(&ev.mu);
  rid = ev.authz_request;
  pthread_mutex_unlock(&ev.mu);
  CHECK(rid != 0);
  CHECK_INT(rtc_authorize_resolve(e, rid, 1), RTC_OK);
  /* The deferred join goes first, then the one held behind it. */
  CHECK(ws_expect_text(&p, "{\"type\":\"ack\",\"id\":2}", &f));
  CHECK(ws_expect_text(&p, "{\"type\":\"ack\",\"id\":3}", &f));
  /* A denied deferral answers forbidden. */
  CHECK(ws_send_text(&p, "{\"type\":\"join_room\",\"room\":\"later\",\"id\":4}"));
  sleep_ms(100);
  pthread_mutex_lock(&ev.mu);
  rid = ev.authz_request;
  pthread_mutex_unlock(&ev.mu);
  CHECK_INT(rtc_authorize_resolve(e, rid, 0), RTC_OK);
  if (CHECK(ws_expect_text(&p, "\"code\":\"forbidden\"", &f))) CHECK(strstr(f.data, "\"id\":4") != NULL);
  CHECK_INT(rtc_authorize_resolve(e, 0, 1), RTC_EINVAL);
  peer_close(&p);
out:
  rtc_engine_destroy(e);
}

static uint64_t read_request_id(events* ev) {
  uint64_t v;
  pthread_mutex_lock(&ev->mu);
  v = ev->request_id;
  pthread_mutex_unlock(&ev->mu);
  return v;
}

/* A deferred decision: the socket is upgraded but nothing is registered
 * until rtc_connect_resolve accepts it; messages sent meanwhile are kept
 * and handled after the decision. */
static void test_deferred_connect_accepts_later(void) {
  events ev;
  char head[4096];
  rtc_engine* e;
  peer p;
  frame f;
  uint64_t seen = 0;
  events_init(&ev);
  ev.defer = 1;
  if (!(e = start_engine(&ev, 1))) return;
  if (!ws_open(&p, rtc_engine_port(e), "/ws/alice", head, sizeof head)) goto out;
  CHECK(starts_with(head, "HTTP/1.1 101"));
  CHECK(ws_send_text(&p, "{\"type\":\"join_room\",\"room\":\"r\",\"id\":7}"));
  sleep_ms(200);
  CHECK_INT(read_counter(&ev, &ev.n_open), 0); /* not registered yet */
  CHECK(read_request_id(&ev) != 0);
  CHECK_INT(rtc_connect_resolve(e, read_request_id(&ev), 1, 0, "dana", 4), RTC_OK);
  if (CHECK(wait_counter(&ev, &ev.n_open, 1))) {
    pthread_mutex_lock(&ev.mu);
    CHECK_STR(ev.open_user, "dana");
    pthread_mutex_unlock(&ev.mu);
  }
  CHECK(ws_expect_text(&p, "{\"type\":\"ack\",\"id\":7}", &f));
  CHECK(wait_connections(e, 1, &seen));
  /* a second resolution of the same request is ignored */
  CHECK_INT(rtc_connect_resolve(e, read_request_id(&ev), 0, 401, NULL, 0), RTC_OK);
  sleep_ms(100);
  CHECK_INT(read_counter(&ev, &ev.n_disconnect), 0);
  peer_close(&p);
out:
  rtc_engine_destroy(e);
}

static void test_deferred_connect_refusal_closes_with_4000_plus_status(void) {
  events ev;
  char head[4096];
  rtc_engine* e;
  peer p;
  frame f;
  long long deadline;
  int got_close = 0;
  events_init(&ev);
  ev.defer = 1;
  if (!(e = start_engine(&ev, 1))) return;
  if (!ws_open(&p, rtc_engine_port(e), "/ws/mallory", head, sizeof head)) goto out;
  CHECK(starts_with(head, "HTTP/1.1 101"));
  CHECK_INT(rtc_connect_resolve(e, read_request_id(&ev), 0, 401, NULL, 0), RTC_OK);
  deadline = now_ms() + WAIT_MS;
  while (!got_close && ws_read(&p, &f, deadline))
    if (f.opcode == 0x8) got_close = 1;
  if (CHECK(got_close) && CHECK(f.len >= 2)) {
    unsigned code = ((unsigned)(unsigned char)f.data[0] << 8) | (unsigned char)f.data[1];
    CHECK_INT(code, 4401);
  }
  CHECK_INT(read_counter(&ev, &ev.n_open), 0);
  CHECK_INT(read_counter(&ev, &ev.n_online), 0);
  CHECK_INT(read_counter(&ev, &ev.n_disconnect), 0); /* never opened */
  CHECK_INT(rtc_connect_resolve(e, 0, 1, 0, NULL, 0), RTC_EINVAL);
  CHECK_INT(rtc_connect_resolve(e, 5, 0, 200, NULL, 0), RTC_EINVAL);
  CHECK_INT(rtc_connect_resolve(e, 5, 1, 0, "a/b", 3), RTC_EINVAL);
  peer_close(&p);
out:
  rtc_engine_destroy(e);
}

/* ------------------------------------------------------------------ */
/* Hardening (issue 10)                                                */
/* ------------------------------------------------------------------ */

/* Opens a raw peer as user and joins room (acked); non-zero on success. */
static int open_member(peer* p, uint32_t port, const char* user, const char* room) {
  char path[160], head[4096], join[256];
  frame f;
  snprintf(path, sizeof path, "/ws/%s", user);
  if (!ws_open(p, port, path, head, sizeof head)) return 0;
  if (!CHECK(starts_with(head, "HTTP/1.1 101"))) {
    peer_close(p);
    return 0;
  }
  snprintf(join, sizeof join, "{\"type\":\"join_room\",\"room\":\"%s\",\"id\":\"j\"}", room);
  if (!CHECK(ws_send_text(p, join)) || !CHECK(ws_expect_text(p, "{\"type\":\"ack\",\"id\":\"j\"}", &f))) {
    peer_close(p);
    return 0;
  }
  return 1;
}

/* A host send larger than max_send_queue_bytes could never be queued for
 * anyone: it is refused at the call with RTC_ETOOBIG, and nobody is closed
 * as a slow consumer (before, every recipient of the room was). */
static void test_send_bigger_than_the_send_queue_is_etoobig(void) {
  events ev;
  rtc_config cfg;
  rtc_handlers h;
  rtc_engine* e = NULL;
  peer a, b;
  frame f;
  rtc_stats st;
  static char big[6000];
  rtc_conn_id conn;
  int opened = 0;
  events_init(&ev);
  rtc_config_init(&cfg);
  cfg.max_send_queue_bytes = 4096;
  rtc_handlers_init(&h);
  h.user_data = &ev;
  h.on_open = on_open;
  h.on_disconnect = on_disconnect;
  if (!CHECK_INT(rtc_engine_create(&cfg, &h, &e), RTC_OK)) return;
  if (!CHECK_INT(rtc_engine_start(e), RTC_OK)) goto out;
  /* a JSON string of 5000 bytes in all */
  memset(big, 'x', sizeof big);
  big[0] = '"';
  big[4999] = '"';
  big[5000] = '\0';
  if (!open_member(&a, rtc_engine_port(e), "alice", "r")) goto out;
  if (!open_member(&b, rtc_engine_port(e), "bob", "r")) goto out_a;
  opened = 1;
  pthread_mutex_lock(&ev.mu);
  conn = ev.open_conn; /* bob's */
  pthread_mutex_unlock(&ev.mu);

  CHECK_INT(rtc_broadcast(e, "r", 1, NULL, 0, RTC_PAYLOAD_CONTENT, big, 5000), RTC_ETOOBIG);
  CHECK_INT(rtc_broadcast(e, "r", 1, NULL, 0, RTC_PAYLOAD_RAW, big, 5000), RTC_ETOOBIG);
  CHECK_INT(rtc_send_to_user(e, "alice", 5, NULL, 0, RTC_PAYLOAD_CONTENT, big, 5000), RTC_ETOOBIG);
  CHECK_INT(rtc_send_to_connection(e, conn, NULL, 0, RTC_PAYLOAD_CONTENT, big, 5000), RTC_ETOOBIG);
  CHECK_INT(rtc_send_error(e, conn, "too_big", 7, big + 1, 4998, NULL, 0), RTC_ETOOBIG);
  /* The limit is on the whole frame, header included: a raw 4092-byte
   * payload (4-byte header) fits exactly, one byte more does not. */
  big[4091] = '"';
  CHECK_INT(rtc_send_to_connection(e, conn, NULL, 0, RTC_PAYLOAD_RAW, big, 4092), RTC_OK);
  CHECK(ws_expect_text(&b, "xxxxxxxx", &f) && CHECK_INT(f.len, 4092));
  big[4091] = 'x';
  big[4092] = '"';
  CHECK_INT(rtc_broadcast(e, "r", 1, NULL, 0, RTC_PAYLOAD_RAW, big, 4093), RTC_ETOOBIG);
  CHECK_STR(rtc_err_name(RTC_ETOOBIG), "RTC_ETOOBIG");

  /* nobody was closed: both still get the next broadcast */
  CHECK_INT(rtc_broadcast(e, "r", 1, NULL, 0, RTC_PAYLOAD_CONTENT, "1", 1), RTC_OK);
  CHECK(ws_expect_text(&a, "\"content\":1", &f));
  CHECK(ws_expect_text(&b, "\"content\":1", &f));
  rtc_stats_init(&st);
  CHECK_INT(rtc_engine_stats(e, &st), RTC_OK);
  CHECK_INT(st.slow_consumer_closes, 0);
  CHECK_INT(read_counter(&ev, &ev.n_disconnect), 0);
  peer_close(&b);
out_a:
  peer_close(&a);
out:
  (void)opened;
  rtc_engine_destroy(e);
}

/* Deferred on_connect for the per-user limit test: records every request
 * id; the test resolves them all at once from its own thread. */
#define FLOOD 200
typedef struct flood {
  pthread_mutex_t mu;
  uint64_t ids[2 * FLOOD];
  int n_ids;
  int open_now, open_max, n_open;
} flood;

static void flood_on_connect(void* ud, const rtc_connect_request* req, rtc_connect_decision* d) {
  flood* fl = (flood*)ud;
  pthread_mutex_lock(&fl->mu);
  if (fl->n_ids < 2 * FLOOD) fl->ids[fl->n_ids++] = req->request_id;
  pthread_mutex_unlock(&fl->mu);
  d->defer = 1;
}

static void flood_on_open(void* ud, rtc_conn_id conn, const char* user, size_t user_len) {
  flood* fl = (flood*)ud;
  (void)conn;
  (void)user;
  (void)user_len;
  pthread_mutex_lock(&fl->mu);
  fl->n_open++;
  if (++fl->open_now > fl->open_max) fl->open_max = fl->open_now;
  pthread_mutex_unlock(&fl->mu);
}

static void flood_on_disconnect(void* ud, rtc_conn_id conn, const char* user, size_t user_len,
                                uint32_t code) {
  flood* fl = (flood*)ud;
  (void)conn;
  (void)user;
  (void)user_len;
  (void)code;
  pthread_mutex_lock(&fl->mu);
  fl->open_now--;
  pthread_mutex_unlock(&fl->mu);
}

static int flood_read(flood* fl, const int* field) {
  int v;
  pthread_mutex_lock(&fl->mu);
  v = *field;
  pthread_mutex_unlock(&fl->mu);
  return v;
}

/* Sends FLOOD upgrade requests at once (path_fmt with %d), then reads every
 * response head; returns how many were upgraded (101). */
static int flood_upgrade(peer* peers, uint32_t port, const char* path_fmt, int* upgraded) {
  char path[64], req[512], head[1024];
  int i, n101 = 0;
  for (i = 0; i < FLOOD; i++) {
    snprintf(path, sizeof path, path_fmt, i);
    upgrade_request(req, sizeof req, path);
    if (!CHECK(peer_connect(&peers[i], port)) || !CHECK(send_all(&peers[i], req, strlen(req)))) return -1;
  }
  for (i = 0; i < FLOOD; i++) {
    read_http_head(&peers[i], head, sizeof head);
    upgraded[i] = starts_with(head, "HTTP/1.1 101");
    if (upgraded[i])
      n101++;
    else
      CHECK(starts_with(head, "HTTP/1.1 429"));
  }
  return n101;
}

/* The per-user limit holds against a flood of parallel upgrades whose
 * decision is deferred: pending connections count toward it, and the
 * decision is checked again for the user it finally names. */
static void test_user_limit_holds_with_deferred_decisions(void) {
  enum { LIMIT = 5 };
  flood fl;
  rtc_config cfg;
  rtc_handlers h;
  rtc_engine* e = NULL;
  peer* peers = calloc(FLOOD, sizeof *peers);
  int* upgraded = calloc(FLOOD, sizeof *upgraded);
  int i, n101, n_ids, closed_4429 = 0;
  long long deadline;
  rtc_stats st;
  memset(&fl, 0, sizeof fl);
  pthread_mutex_init(&fl.mu, NULL);
  if (!CHECK(peers && upgraded)) goto out;
  rtc_config_init(&cfg);
  cfg.max_connections_per_user = LIMIT;
  rtc_handlers_init(&h);
  h.user_data = &fl;
  h.on_connect = flood_on_connect;
  h.on_open = flood_on_open;
  h.on_disconnect = flood_on_disconnect;
  if (!CHECK_INT(rtc_engine_create(&cfg, &h, &e), RTC_OK)) goto out;
  if (!CHECK_INT(rtc_engine_start(e), RTC_OK)) goto out;

  /* 1. FLOOD parallel upgrades of alice, all deferred: only LIMIT are
   * upgraded, the rest refused with HTTP 429 while the first wait. */
  n101 = flood_upgrade(peers, rtc_engine_port(e), "/ws/alice", upgraded);
  CHECK(n101 >= 1);
  CHECK(n101 <= LIMIT);
  pthread_mutex_lock(&fl.mu);
  n_ids = fl.n_ids;
  pthread_mutex_unlock(&fl.mu);
  for (i = 0; i < n_ids; i++) CHECK_INT(rtc_connect_resolve(e, fl.ids[i], 1, 0, NULL, 0), RTC_OK);
  deadline = now_ms() + WAIT_MS;
  while (flood_read(&fl, &fl.n_open) < n101 && now_ms() < deadline) sleep_ms(5);
  sleep_ms(300); /* time for registrations beyond the limit to show up */
  CHECK(flood_read(&fl, &fl.open_max) <= LIMIT);
  CHECK_INT(flood_read(&fl, &fl.n_open), n101 <= LIMIT ? n101 : LIMIT);
  for (i = 0; i < FLOOD; i++) peer_close(&peers[i]);
  deadline = now_ms() + WAIT_MS;
  while (flood_read(&fl, &fl.open_now) > 0 && now_ms() < deadline) sleep_ms(5);
  CHECK_INT(flood_read(&fl, &fl.open_now), 0);

  /* 2. FLOOD upgrades as distinct users (each within the limit), renamed
   * to carol by the deferred decision: at most LIMIT become carol, the
   * others are closed with 4000 + 429. */
  pthread_mutex_lock(&fl.mu);
  fl.n_ids = 0;
  fl.open_max = 0;
  fl.n_open = 0;
  pthread_mutex_unlock(&fl.mu);
  n101 = flood_upgrade(peers, rtc_engine_port(e), "/ws/u%d", upgraded);
  CHECK_INT(n101, FLOOD);
  pthread_mutex_lock(&fl.mu);
  n_ids = fl.n_ids;
  pthread_mutex_unlock(&fl.mu);
  CHECK_INT(n_ids, FLOOD);
  for (i = 0; i < n_ids; i++) CHECK_INT(rtc_connect_resolve(e, fl.ids[i], 1, 0, "carol", 5), RTC_OK);
  deadline = now_ms() + WAIT_MS;
  do {
    sleep_ms(20);
    rtc_stats_init(&st);
    rtc_engine_stats(e, &st);
  } while (st.user_limit_refusals < (uint64_t)(FLOOD - LIMIT) && now_ms() < deadline);
  for (i = 0; i < FLOOD; i++) {
    struct timeval tv = {0, 100000};
    frame f;
    setsockopt(peers[i].fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (ws_read(&peers[i], &f, now_ms() + 300) && f.opcode == 0x8 && f.len >= 2 &&
        (((unsigned)(unsigned char)f.data[0] << 8) | (unsigned char)f.data[1]) == 4429)
      closed_4429++;
  }
  CHECK(flood_read(&fl, &fl.open_max) <= LIMIT);
  CHECK_INT(flood_read(&fl, &fl.n_open), LIMIT);
  CHECK_INT(closed_4429, FLOOD - LIMIT);
  rtc_stats_init(&st);
  CHECK_INT(rtc_engine_stats(e, &st), RTC_OK);
  CHECK(st.user_limit_refusals >= (uint64_t)(FLOOD - LIMIT));
  printf("  (%s: limit %d, registered at most %d at once, %d closed with 4429)\n", g_test, LIMIT,
         flood_read(&fl, &fl.open_max), closed_4429);
  for (i = 0; i < FLOOD; i++) peer_close(&peers[i]);
out:
  rtc_engine_destroy(e);
  free(peers);
  free(upgraded);
}

/* Threads of this process (Linux: /proc/self/task); -1 if unknown. */
static int thread_count(void) {
  DIR* d = opendir("/proc/self/task");
  struct dirent* de;
  int n = 0;
  if (!d) return -1;
  while ((de = readdir(d)) != NULL)
    if (de->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

/* Handlers that destroy their engine from the engine thread. */
typedef struct destroyer {
  pthread_mutex_t mu;
  rtc_engine* engine;
  int in_open, in_message; /* where to call rtc_engine_destroy */
  int destroyed;           /* rtc_engine_destroy returned */
  int calls_after;         /* handler calls after that */
} destroyer;

static void destroyer_call(destroyer* d, int here) {
  int destroy;
  pthread_mutex_lock(&d->mu);
  if (d->destroyed) d->calls_after++;
  destroy = here && !d->destroyed;
  pthread_mutex_unlock(&d->mu);
  if (!destroy) return;
  rtc_engine_destroy(d->engine); /* on the engine thread */
  pthread_mutex_lock(&d->mu);
  d->destroyed = 1;
  pthread_mutex_unlock(&d->mu);
}

static void destroyer_on_open(void* ud, rtc_conn_id conn, const char* user, size_t user_len) {
  destroyer* d = (destroyer*)ud;
  (void)conn;
  (void)user;
  (void)user_len;
  destroyer_call(d, d->in_open);
}

static void destroyer_on_message(void* ud, rtc_conn_id conn, const char* user, size_t user_len,
                                 const char* type, size_t type_len, const char* json, size_t json_len) {
  destroyer* d = (destroyer*)ud;
  (void)conn;
  (void)user;
  (void)user_len;
  (void)type;
  (void)type_len;
  (void)json;
  (void)json_len;
  destroyer_call(d, d->in_message);
}

static void destroyer_on_disconnect(void* ud, rtc_conn_id conn, const char* user, size_t user_len,
                                    uint32_t code) {
  (void)conn;
  (void)user;
  (void)user_len;
  (void)code;
  destroyer_call((destroyer*)ud, 0);
}

static void destroyer_on_presence(void* ud, const char* user, size_t user_len, int32_t status, const char* ts,
                                  size_t ts_len) {
  (void)user;
  (void)user_len;
  (void)status;
  (void)ts;
  (void)ts_len;
  destroyer_call((destroyer*)ud, 0);
}

/* rtc_engine_destroy from a handler: no abort; the engine stops and frees
 * itself after the handler returns (its thread ends), no handler runs
 * after the call, and the client sees the engine go. */
static void destroy_from_handler(int in_open) {
  destroyer d;
  rtc_config cfg;
  rtc_handlers h;
  char head[4096];
  peer p;
  frame f;
  long long deadline;
  int threads_before = thread_count(), threads = -1, ended = 0;
  memset(&d, 0, sizeof d);
  pthread_mutex_init(&d.mu, NULL);
  d.in_open = in_open;
  d.in_message = !in_open;
  rtc_config_init(&cfg);
  rtc_handlers_init(&h);
  h.user_data = &d;
  h.on_open = destroyer_on_open;
  h.on_message = destroyer_on_message;
  h.on_disconnect = destroyer_on_disconnect;
  h.on_presence = destroyer_on_presence;
  if (!CHECK_INT(rtc_engine_create(&cfg, &h, &d.engine), RTC_OK)) return;
  if (!CHECK_INT(rtc_engine_start(d.engine), RTC_OK)) {
    rtc_engine_destroy(d.engine);
    return;
  }
  if (!ws_open(&p, rtc_engine_port(d.engine), "/ws/alice", head, sizeof head)) return;
  CHECK(starts_with(head, "HTTP/1.1 101"));
  if (!in_open) CHECK(ws_send_text(&p, "{\"type\":\"bye\"}"));
  /* the engine goes: a close frame (1001) or EOF */
  deadline = now_ms() + WAIT_MS;
  while (!ended) {
    if (!ws_read(&p, &f, deadline)) {
      ended = 1;
    } else if (f.opcode == 0x8) {
      ended = 1;
      if (CHECK(f.len >= 2))
        CHECK_INT(((unsigned)(unsigned char)f.data[0] << 8) | (unsigned char)f.data[1], 1001);
      ws_send(&p, 0x8, f.data, 2);
    }
    if (now_ms() >= deadline) break;
  }
  CHECK(ended);
  peer_close(&p);
  pthread_mutex_lock(&d.mu);
  CHECK_INT(d.destroyed, 1); /* rtc_engine_destroy returned in the handler */
  pthread_mutex_unlock(&d.mu);
  /* the engine thread ends by itself (it was detached, nothing joins it) */
  deadline = now_ms() + WAIT_MS;
  while (threads_before > 0 && now_ms() < deadline) {
    threads = thread_count();
    if (threads <= threads_before) break;
    sleep_ms(10);
  }
  if (threads_before > 0) CHECK(threads <= threads_before);
  sleep_ms(100);
  pthread_mutex_lock(&d.mu);
  CHECK_INT(d.calls_after, 0);
  pthread_mutex_unlock(&d.mu);
}

static void test_destroy_from_on_open_is_deferred(void) {
  destroy_from_handler(1);
}
static void test_destroy_from_on_message_is_deferred(void) {
  destroy_from_handler(0);
}

/* on_message_with_id (issue 13): the request's id arrives as the client
 * wrote it, without the host re-parsing the frame; an answer sent with it
 * echoes it. A message without id gets id_json_len 0. */
typedef struct id_host {
  rtc_engine* engine;
} id_host;

static void id_on_message(void* ud, rtc_conn_id conn, const char* user, size_t user_len, const char* type,
                          size_t type_len, const char* json, size_t json_len, const char* id_json,
                          size_t id_json_len) {
  id_host* h = (id_host*)ud;
  char frame_text[512];
  int n;
  (void)user;
  (void)user_len;
  (void)json;
  (void)json_len;
  /* echo what arrived: the type and the id's JSON text, as content */
  if (id_json_len == 0) {
    n = snprintf(frame_text, sizeof frame_text, "{\"type\":\"seen\",\"t\":\"%.*s\",\"noid\":true}",
                 (int)type_len, type);
  } else {
    n = snprintf(frame_text, sizeof frame_text, "{\"type\":\"ack\",\"id\":%.*s,\"t\":\"%.*s\"}",
                 (int)id_json_len, id_json, (int)type_len, type);
  }
  if (n > 0 && (size_t)n < sizeof frame_text)
    rtc_send_to_connection(h->engine, conn, NULL, 0, RTC_PAYLOAD_RAW, frame_text, (size_t)n);
}

static void old_on_message(void* ud, rtc_conn_id conn, const char* user, size_t user_len, const char* type,
                           size_t type_len, const char* json, size_t json_len) {
  /* never called: on_message_with_id takes precedence */
  (void)ud;
  (void)conn;
  (void)user;
  (void)user_len;
  (void)type;
  (void)type_len;
  (void)json;
  (void)json_len;
  abort();
}

static void test_on_message_with_id_gets_the_raw_id(void) {
  id_host host;
  rtc_config cfg;
  rtc_handlers h;
  char head[4096];
  peer p;
  frame f;
  rtc_config_init(&cfg);
  rtc_handlers_init(&h);
  h.user_data = &host;
  h.on_message = old_on_message;
  h.on_message_with_id = id_on_message;
  if (!CHECK_INT(rtc_engine_create(&cfg, &h, &host.engine), RTC_OK)) return;
  if (!CHECK_INT(rtc_engine_start(host.engine), RTC_OK)) {
    rtc_engine_destroy(host.engine);
    return;
  }
  if (ws_open(&p, rtc_engine_port(host.engine), "/ws/alice", head, sizeof head)) {
    CHECK(starts_with(head, "HTTP/1.1 101"));
    /* a string id with an escape, verbatim */
    CHECK(ws_send_text(&p, "{\"type\":\"typing\",\"id\":\"a\\u0041\"}"));
    if (CHECK(ws_expect_text(&p, "\"t\":\"typing\"", &f)))
      CHECK_STR(f.data, "{\"type\":\"ack\",\"id\":\"a\\u0041\",\"t\":\"typing\"}");
    CHECK(ws_send_text(&p, "{\"id\":42,\"type\":\"vote\",\"x\":{\"id\":1}}"));
    if (CHECK(ws_expect_text(&p, "\"t\":\"vote\"", &f)))
      CHECK_STR(f.data, "{\"type\":\"ack\",\"id\":42,\"t\":\"vote\"}");
    CHECK(ws_send_text(&p, "{\"type\":\"plain\"}"));
    if (CHECK(ws_expect_text(&p, "\"t\":\"plain\"", &f)))
      CHECK_STR(f.data, "{\"type\":\"seen\",\"t\":\"plain\",\"noid\":true}");
    peer_close(&p);
  }
  rtc_engine_destroy(host.engine);
}

/* ------------------------------------------------------------------ */
/* Queued mode (issue 13): events through a pollable fd                */
/* ------------------------------------------------------------------ */

static int text_is(rtc_text t, const char* s) {
  return t.len == strlen(s) && (t.len == 0 || memcmp(t.data, s, t.len) == 0);
}

/* Waits with poll() until the queue's fd is readable, then takes a batch;
 * NULL if nothing came within ms. */
static rtc_event_batch* take_within(rtc_engine* e, int ms) {
  struct pollfd pfd;
  rtc_event_batch* batch = NULL;
  pfd.fd = rtc_events_fd(e);
  pfd.events = POLLIN;
  pfd.revents = 0;
  if (poll(&pfd, 1, ms) != 1 || !(pfd.revents & POLLIN)) return NULL;
  if (rtc_events_take(e, &batch) != RTC_OK) return NULL;
  return batch;
}

/* The next event of the given kind (0: of any kind), taking batches as
 * needed (events of other kinds before it are skipped); *batch holds it
 * until freed. */
static const rtc_event* next_event(rtc_engine* e, rtc_event_batch** batch, size_t* index, int32_t kind) {
  long long deadline = now_ms() + WAIT_MS;
  for (;;) {
    while (*batch && *index < rtc_event_batch_count(*batch)) {
      const rtc_event* ev = rtc_event_batch_get(*batch, (*index)++);
      if (kind == 0 || ev->kind == kind) return ev;
    }
    rtc_event_batch_free(*batch);
    *batch = NULL;
    *index = 0;
    if (now_ms() >= deadline) return NULL;
    *batch = take_within(e, (int)(deadline - now_ms()));
  }
}

static void test_queued_mode_delivers_events_through_the_fd(void) {
  rtc_config cfg;
  rtc_events_config ec;
  rtc_engine* e = NULL;
  rtc_event_batch* batch = NULL;
  size_t at = 0;
  const rtc_event* ev;
  char head[4096];
  peer p;
  frame f;
  rtc_conn_id conn = 0;
  uint64_t req;
  const char* only[] = {"custom"};
  size_t only_len[] = {6};
  struct pollfd pfd;
  rtc_config_init(&cfg);
  rtc_events_config_init(&ec);
  CHECK_INT(ec.struct_size, sizeof ec);
  ec.events = RTC_EVENTS_CONNECT | RTC_EVENTS_OPEN | RTC_EVENTS_DISCONNECT | RTC_EVENTS_MESSAGE |
              RTC_EVENTS_PRESENCE | RTC_EVENTS_AUTHORIZE;
  if (!CHECK_INT(rtc_engine_create_queued(&cfg, &ec, &e), RTC_OK)) return;
  CHECK(rtc_events_fd(e) >= 0);
  if (!CHECK_INT(rtc_engine_start(e), RTC_OK)) {
    rtc_engine_destroy(e);
    return;
  }
  pfd.fd = rtc_events_fd(e);
  pfd.events = POLLIN;
  CHECK_INT(poll(&pfd, 1, 0), 0); /* nothing waiting: not readable */
  CHECK_INT(rtc_events_take(e, &batch), RTC_OK);
  CHECK(batch == NULL);

  if (!ws_open(&p, rtc_engine_port(e), "/ws/alice?x=1", head, sizeof head)) {
    rtc_engine_destroy(e);
    return;
  }
  CHECK(starts_with(head, "HTTP/1.1 101")); /* the decision is deferred */
  ev = next_event(e, &batch, &at, RTC_EVENT_CONNECT);
  if (CHECK(ev != NULL)) {
    CHECK(ev->struct_size >= sizeof *ev);
    CHECK(text_is(ev->user_id, "alice") && text_is(ev->a, "/ws/alice"));
    CHECK(text_is(ev->b, "x=1") && ev->header_count > 0);
    req = ev->request_id;
    CHECK_INT(rtc_connect_resolve(e, req, 1, 0, NULL, 0), RTC_OK);
  }
  /* open and online, in the engine's order (either may come first) */
  {
    int seen_open = 0, seen_online = 0;
    while (!(seen_open && seen_online)) {
      ev = next_event(e, &batch, &at, 0);
      if (!CHECK(ev != NULL)) break;
      if (ev->kind == RTC_EVENT_OPEN) {
        conn = ev->conn;
        CHECK(conn != 0 && text_is(ev->user_id, "alice"));
        seen_open = 1;
      } else if (ev->kind == RTC_EVENT_PRESENCE) {
        char ts[64];
        copy_str(ts, sizeof ts, ev->a.data, ev->a.len);
        CHECK(text_is(ev->user_id, "alice") && ev->code == RTC_PRESENCE_ONLINE);
        CHECK(is_rfc3339_ms(ts));
        seen_online = 1;
      }
    }
  }

  /* A host-defined message with its id, answered by the host. */
  CHECK(ws_send_text(&p, "{\"type\":\"custom\",\"id\":\"q\",\"n\":1}"));
  ev = next_event(e, &batch, &at, RTC_EVENT_MESSAGE);
  if (CHECK(ev != NULL)) {
    CHECK(ev->conn == conn && text_is(ev->a, "custom"));
    CHECK(text_is(ev->b, "{\"type\":\"custom\",\"id\":\"q\",\"n\":1}"));
    CHECK(text_is(ev->c, "\"q\""));
    CHECK_INT(
        rtc_send_to_connection(e, conn, NULL, 0, RTC_PAYLOAD_RAW, "{\"type\":\"ack\",\"id\":\"q\"}", 23),
        RTC_OK);
  }
  CHECK(ws_expect_text(&p, "\"ack\"", &f));

  /* Authorization, deferred to the host. */
  CHECK(ws_send_text(&p, "{\"type\":\"join_room\",\"room\":\"r\",\"id\":2}"));
  ev = next_event(e, &batch, &at, RTC_EVENT_AUTHORIZE);
  if (CHECK(ev != NULL)) {
    CHECK(ev->conn == conn && ev->code == RTC_ACTION_JOIN_ROOM && text_is(ev->a, "r"));
    CHECK_INT(rtc_authorize_resolve(e, ev->request_id, 1), RTC_OK);
  }
  if (CHECK(ws_expect_text(&p, "\"ack\"", &f))) CHECK(strstr(f.data, "\"id\":2") != NULL);

  /* A query's answer is an event with the caller's token. */
  CHECK_INT(rtc_room_members_queued(e, "r", 1, 0, 77), RTC_OK);
  ev = next_event(e, &batch, &at, RTC_EVENT_ROOM_MEMBERS);
  if (CHECK(ev != NULL)) {
    CHECK(ev->token == 77 && ev->status == RTC_OK && ev->code == 0);
    CHECK(ev->item_count == 1 && text_is(ev->items[0], "alice"));
  }
  CHECK_INT(rtc_history_read_queued(e, "r", 1, 0, 0, 5), RTC_ENOTSUP);

  /* Types the host does not handle are answered by the engine. */
  CHECK_INT(rtc_events_set_message_types(e, only, only_len, 1, 0), RTC_OK);
  CHECK(ws_send_text(&p, "{\"type\":\"other\",\"id\":3}"));
  if (CHECK(ws_expect_text(&p, "unknown_type", &f))) CHECK(strstr(f.data, "\"id\":3") != NULL);
  CHECK(ws_send_text(&p, "{\"type\":\"custom\",\"id\":4}"));
  ev = next_event(e, &batch, &at, RTC_EVENT_MESSAGE);
  if (CHECK(ev != NULL)) CHECK(text_is(ev->c, "4")); /* "other" was never queued */

  /* Stopping: the disconnect and the offline are still takeable. */
  CHECK_INT(rtc_events_select(e, RTC_EVENTS_DISCONNECT), RTC_OK); /* no presence any more */
  CHECK_INT(rtc_engine_stop(e, 1000), RTC_OK);
  ev = next_event(e, &batch, &at, RTC_EVENT_DISCONNECT);
  if (CHECK(ev != NULL)) CHECK(ev->conn == conn && ev->code == 1001);
  while (batch && at < rtc_event_batch_count(batch))
    CHECK(rtc_event_batch_get(batch, at++)->kind != RTC_EVENT_PRESENCE);
  rtc_event_batch_free(batch);
  peer_close(&p);
  rtc_engine_destroy(e);
}

static void test_queued_mode_answers_overloaded_beyond_the_bound(void) {
  rtc_config cfg;
  rtc_events_config ec;
  rtc_engine* e = NULL;
  rtc_event_batch* batch = NULL;
  char head[4096];
  peer p;
  frame f;
  size_t i, messages = 0;
  rtc_config_init(&cfg);
  rtc_events_config_init(&ec);
  ec.events = RTC_EVENTS_MESSAGE;
  ec.max_message_bytes = 100;
  if (!CHECK_INT(rtc_engine_create_queued(&cfg, &ec, &e), RTC_OK)) return;
  if (!CHECK_INT(rtc_engine_start(e), RTC_OK) ||
      !ws_open(&p, rtc_engine_port(e), "/ws/bob", head, sizeof head)) {
    rtc_engine_destroy(e);
    return;
  }
  /* Nobody takes: 2 x 60 bytes reach the bound, the third is refused. */
  CHECK(ws_send_text(&p, "{\"type\":\"bulk\",\"id\":1,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}"));
  CHECK(ws_send_text(&p, "{\"type\":\"bulk\",\"id\":2,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}"));
  CHECK(ws_send_text(&p, "{\"type\":\"bulk\",\"id\":3,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}"));
  if (CHECK(ws_expect_text(&p, "overloaded", &f))) CHECK(strstr(f.data, "\"id\":3") != NULL);
  batch = take_within(e, WAIT_MS);
  for (i = 0; i < rtc_event_batch_count(batch); ++i)
    if (rtc_event_batch_get(batch, i)->kind == RTC_EVENT_MESSAGE) messages++;
  CHECK_INT(messages, 2);
  rtc_event_batch_free(batch);
  /* Taking frees the budget: the next message is queued again. */
  CHECK(ws_send_text(&p, "{\"type\":\"bulk\",\"id\":4}"));
  batch = take_within(e, WAIT_MS);
  if (CHECK(batch != NULL)) CHECK(text_is(rtc_event_batch_get(batch, 0)->c, "4"));
  rtc_event_batch_free(batch);
  peer_close(&p);
  rtc_engine_destroy(e);
}

static void test_events_calls_need_a_queued_engine(void) {
  rtc_engine* e = NULL;
  rtc_event_batch* batch = NULL;
  if (!CHECK_INT(rtc_engine_create(NULL, NULL, &e), RTC_OK)) return;
  CHECK_INT(rtc_events_fd(e), -1);
  CHECK_INT(rtc_events_take(e, &batch), RTC_EINVAL);
  CHECK_INT(rtc_events_select(e, 0), RTC_EINVAL);
  CHECK_INT(rtc_room_members_queued(e, "r", 1, 0, 1), RTC_EINVAL);
  CHECK_INT(rtc_event_batch_count(NULL), 0);
  CHECK(rtc_event_batch_get(NULL, 0) == NULL);
  rtc_event_batch_free(NULL);
  rtc_engine_destroy(e);
  CHECK_INT(rtc_events_fd(NULL), -1);
}

/* ------------------------------------------------------------------ */
/* Room presence queries (single node)                                 */
/* ------------------------------------------------------------------ */

typedef struct presence_answer {
  pthread_mutex_t mu;
  int calls;
  int32_t status;
  size_t count;
  int32_t truncated;
  char joined[256]; /* users, sorted by the test's reading, "|"-separated */
  int32_t online[8];
} presence_answer;

static void answer_init(presence_answer* a) {
  memset(a, 0, sizeof *a);
  pthread_mutex_init(&a->mu, NULL);
}

static void on_members(void* ud, int32_t status, const char* const* users, const size_t* lens, size_t count,
                       int32_t truncated) {
  presence_answer* a = ud;
  size_t i;
  pthread_mutex_lock(&a->mu);
  a->status = status;
  a->count = count;
  a->truncated = truncated;
  a->joined[0] = '\0';
  for (i = 0; i < count; i++) {
    size_t used = strlen(a->joined);
    if (used + lens[i] + 2 < sizeof a->joined) {
      memcpy(a->joined + used, users[i], lens[i]);
      a->joined[used + lens[i]] = '|';
      a->joined[used + lens[i] + 1] = '\0';
    }
  }
  a->calls++;
  pthread_mutex_unlock(&a->mu);
}

static void on_online(void* ud, int32_t status, const char* const* users, const size_t* lens,
                      const int32_t* online, size_t count) {
  presence_answer* a = ud;
  size_t i;
  (void)users;
  (void)lens;
  pthread_mutex_lock(&a->mu);
  a->status = status;
  a->count = count;
  for (i = 0; i < count && i < 8; i++) a->online[i] = online[i];
  a->calls++;
  pthread_mutex_unlock(&a->mu);
}

static int wait_answer(presence_answer* a, int calls) {
  long long deadline = now_ms() + WAIT_MS;
  for (;;) {
    int n;
    pthread_mutex_lock(&a->mu);
    n = a->calls;
    pthread_mutex_unlock(&a->mu);
    if (n >= calls) return n == calls;
    if (now_ms() > deadline) return 0;
    sleep_ms(5);
  }
}

static void test_room_members_and_users_online(void) {
  events ev;
  char head[4096];
  rtc_engine* e;
  peer p1, p2;
  frame f;
  presence_answer a;
  const char* ask[3] = {"bob", "nobody", "carol"};
  size_t ask_len[3] = {3, 6, 5};
  const char* bad[1] = {"a/b"};
  size_t bad_len[1] = {3};
  events_init(&ev);
  answer_init(&a);
  if (!(e = start_engine(&ev, 0))) return;
  /* arguments are checked at the call; the callback never runs then */
  CHECK_INT(rtc_room_members(NULL, "r", 1, 0, on_members, &a), RTC_EINVAL);
  CHECK_INT(rtc_room_members(e, "", 0, 0, on_members, &a), RTC_EINVAL);
  CHECK_INT(rtc_room_members(e, "r", 1, 0, NULL, &a), RTC_EINVAL);
  CHECK_INT(rtc_users_online(e, ask, ask_len, 0, on_online, &a), RTC_EINVAL);
  CHECK_INT(rtc_users_online(e, bad, bad_len, 1, on_online, &a), RTC_EINVAL);
  CHECK_INT(rtc_users_online(e, NULL, ask_len, 1, on_online, &a), RTC_EINVAL);

  if (!ws_open(&p1, rtc_engine_port(e), "/ws/bob", head, sizeof head)) goto out;
  if (!ws_open(&p2, rtc_engine_port(e), "/ws/carol", head, sizeof head)) goto out_close1;
  CHECK(ws_send_text(&p1, "{\"type\":\"join_room\",\"room\":\"r\",\"id\":1}"));
  CHECK(ws_expect_text(&p1, "{\"type\":\"ack\",\"id\":1}", &f));
  CHECK(ws_send_text(&p2, "{\"type\":\"join_room\",\"room\":\"r\",\"id\":2}"));
  CHECK(ws_expect_text(&p2, "{\"type\":\"ack\",\"id\":2}", &f));

  CHECK_INT(rtc_room_members(e, "r", 1, 0, on_members, &a), RTC_OK);
  if (CHECK(wait_answer(&a, 1))) {
    CHECK_INT(a.status, RTC_OK);
    CHECK_INT(a.count, 2);
    CHECK_INT(a.truncated, 0);
    CHECK(strcmp(a.joined, "bob|carol|") == 0 || strcmp(a.joined, "carol|bob|") == 0);
  }
  /* a limit below the room's size truncates */
  CHECK_INT(rtc_room_members(e, "r", 1, 1, on_members, &a), RTC_OK);
  if (CHECK(wait_answer(&a, 2))) {
    CHECK_INT(a.status, RTC_OK);
    CHECK_INT(a.count, 1);
    CHECK_INT(a.truncated, 1);
  }
  CHECK_INT(rtc_room_members(e, "empty", 5, 0, on_members, &a), RTC_OK);
  if (CHECK(wait_answer(&a, 3))) {
    CHECK_INT(a.status, RTC_OK);
    CHECK_INT(a.count, 0);
  }
  CHECK_INT(rtc_users_online(e, ask, ask_len, 3, on_online, &a), RTC_OK);
  if (CHECK(wait_answer(&a, 4))) {
    CHECK_INT(a.status, RTC_OK);
    CHECK_INT(a.count, 3);
    CHECK_INT(a.online[0], 1);
    CHECK_INT(a.online[1], 0);
    CHECK_INT(a.online[2], 1);
  }
  /* a client's own queries, answered on its connection */
  CHECK(ws_send_text(&p1, "{\"type\":\"online\",\"users\":[\"carol\",\"zed\"],\"id\":3}"));
  CHECK(ws_expect_text(&p1, "{\"type\":\"online\",\"id\":3,\"users\":{\"carol\":true,\"zed\":false}}", &f));
  CHECK(ws_send_text(&p1, "{\"type\":\"presence\",\"room\":\"elsewhere\",\"id\":4}"));
  CHECK(ws_expect_text(&p1, "\"code\":\"forbidden\"", &f));
  peer_close(&p2);
out_close1:
  peer_close(&p1);
out:
  rtc_engine_destroy(e);
  /* after the engine is gone, nothing can be queued */
  pthread_mutex_destroy(&a.mu);
}

typedef struct history_answer {
  pthread_mutex_t mu;
  int calls;
  int32_t status;
  size_t count;
  uint64_t top;
  uint64_t offsets[8];
  char epoch[64];
  char frames[2048];
} history_answer;

static void on_history(void* ud, int32_t status, const char* epoch, size_t epoch_len, uint64_t top,
                       const uint64_t* offsets, const char* const* frames, const size_t* lens, size_t count) {
  history_answer* a = ud;
  size_t i;
  pthread_mutex_lock(&a->mu);
  a->status = status;
  a->count = count;
  a->top = top;
  a->epoch[0] = '\0';
  if (epoch && epoch_len < sizeof a->epoch) {
    memcpy(a->epoch, epoch, epoch_len);
    a->epoch[epoch_len] = '\0';
  }
  a->frames[0] = '\0';
  for (i = 0; i < count; i++) {
    size_t used = strlen(a->frames);
    if (i < 8) a->offsets[i] = offsets[i];
    if (used + lens[i] + 2 < sizeof a->frames) {
      memcpy(a->frames + used, frames[i], lens[i]);
      a->frames[used + lens[i]] = '\n';
      a->frames[used + lens[i] + 1] = '\0';
    }
  }
  a->calls++;
  pthread_mutex_unlock(&a->mu);
}

static int wait_history(history_answer* a, int calls) {
  long long deadline = now_ms() + WAIT_MS;
  for (;;) {
    int n;
    pthread_mutex_lock(&a->mu);
    n = a->calls;
    pthread_mutex_unlock(&a->mu);
    if (n >= calls) return n == calls;
    if (now_ms() > deadline) return 0;
    sleep_ms(5);
  }
}

static void test_history_read_and_host_messages_get_offsets(void) {
  events ev;
  char head[4096];
  rtc_config cfg;
  rtc_handlers h;
  rtc_engine *e = NULL, *plain;
  peer p;
  frame f;
  history_answer a;
  events_init(&ev);
  memset(&a, 0, sizeof a);
  pthread_mutex_init(&a.mu, NULL);
  /* without history the call is refused at once */
  if ((plain = start_engine(&ev, 0))) {
    CHECK_INT(rtc_history_read(plain, "r", 1, 0, 0, on_history, &a), RTC_ENOTSUP);
    rtc_engine_destroy(plain);
  }
  events_init(&ev);
  rtc_config_init(&cfg);
  cfg.history_size = 10;
  rtc_handlers_init(&h);
  h.user_data = &ev;
  h.on_open = on_open;
  h.on_disconnect = on_disconnect;
  if (!CHECK_INT(rtc_engine_create(&cfg, &h, &e), RTC_OK)) return;
  ev.engine = e;
  if (!CHECK_INT(rtc_engine_start(e), RTC_OK)) goto out;
  CHECK_INT(rtc_history_read(e, "", 0, 0, 0, on_history, &a), RTC_EINVAL);
  CHECK_INT(rtc_history_read(e, "r", 1, 0, 0, NULL, &a), RTC_EINVAL);
  CHECK_INT(rtc_history_read(e, "r", 1, 0, (1ull << 53) + 1, on_history, &a), RTC_EINVAL);
  if (!ws_open(&p, rtc_engine_port(e), "/ws/bob", head, sizeof head)) goto out;
  CHECK(ws_send_text(&p, "{\"type\":\"join_room\",\"room\":\"r\",\"id\":1}"));
  CHECK(ws_expect_text(&p, "\"epoch\":", &f));
  CHECK(ws_send_text(&p, "{\"type\":\"room_message\",\"room\":\"r\",\"content\":\"c1\"}"));
  CHECK(ws_expect_text(&p, "\"offset\":1}", &f));
  /* a host's content message is a stream message too; a raw frame is not */
  CHECK_INT(rtc_broadcast(e, "r", 1, "srv", 3, RTC_PAYLOAD_CONTENT, "\"c2\"", 4), RTC_OK);
  CHECK(ws_expect_text(&p, "\"offset\":2}", &f));
  CHECK_INT(rtc_broadcast(e, "r", 1, "srv", 3, RTC_PAYLOAD_RAW, "{\"raw\":1}", 9), RTC_OK);
  CHECK(ws_expect_text(&p, "{\"raw\":1}", &f));
  CHECK_INT(rtc_broadcast(e, "r", 1, "srv", 3, RTC_PAYLOAD_CONTENT, "\"c3\"", 4), RTC_OK);
  CHECK(ws_expect_text(&p, "\"offset\":3}", &f));
  CHECK_INT(rtc_history_read(e, "r", 1, 2, 0, on_history, &a), RTC_OK);
  if (CHECK(wait_history(&a, 1))) {
    CHECK_INT(a.status, RTC_OK);
    CHECK_INT(a.count, 2);
    CHECK_INT((int)a.top, 3);
    CHECK_INT((int)a.offsets[0], 2);
    CHECK_INT((int)a.offsets[1], 3);
    CHECK(strlen(a.epoch) > 0);
    CHECK(strstr(a.frames, "\"c2\"") && strstr(a.frames, "\"c3\"") && !strstr(a.frames, "\"c1\""));
  }
  CHECK_INT(rtc_history_read(e, "r", 1, 0, 2, on_history, &a), RTC_OK);
  if (CHECK(wait_history(&a, 2))) {
    CHECK_INT(a.status, RTC_OK);
    CHECK_INT(a.count, 1);
    CHECK_INT((int)a.offsets[0], 1);
    CHECK(strstr(a.frames, "\"from\":\"bob\"") != NULL);
  }
  peer_close(&p);
out:
  rtc_engine_destroy(e);
  pthread_mutex_destroy(&a.mu);
}

static void test_presence_queries_after_stop_are_estate(void) {
  events ev;
  rtc_engine* e;
  presence_answer a;
  const char* ask[1] = {"bob"};
  size_t ask_len[1] = {3};
  events_init(&ev);
  answer_init(&a);
  if (!(e = start_engine(&ev, 0))) return;
  CHECK_INT(rtc_engine_stop(e, 100), RTC_OK);
  CHECK_INT(rtc_room_members(e, "r", 1, 0, on_members, &a), RTC_ESTATE);
  CHECK_INT(rtc_users_online(e, ask, ask_len, 1, on_online, &a), RTC_ESTATE);
  sleep_ms(50);
  CHECK_INT(a.calls, 0);
  rtc_engine_destroy(e);
  pthread_mutex_destroy(&a.mu);
}

/* ------------------------------------------------------------------ */
/* main                                                                */
/* ------------------------------------------------------------------ */

typedef struct test_case {
  const char* name;
  void (*fn)(void);
} test_case;

#define TEST(fn) \
  { #fn, fn }

static const test_case tests[] = {
    TEST(test_version_matches_macros),
    TEST(test_deferred_connect_accepts_later),
    TEST(test_authorization_hook_allows_denies_and_defers),
    TEST(test_deferred_connect_refusal_closes_with_4000_plus_status),
    TEST(test_every_error_code_has_message_and_name),
    TEST(test_unknown_error_code_is_unknown_error),
    TEST(test_config_init_sets_defaults),
    TEST(test_handlers_and_stats_init_set_struct_size),
    TEST(test_decision_set_user_validates_the_id),
    TEST(test_create_with_null_out_is_einval),
    TEST(test_create_rejects_bad_config),
    TEST(test_create_checks_the_redis_url),
    TEST(test_destroy_null_is_a_noop),
    TEST(test_lifecycle_and_state_errors),
    TEST(test_destroy_stops_a_running_engine),
    TEST(test_start_on_a_taken_port_is_elisten),
    TEST(test_stats_writes_only_struct_size_bytes),
    TEST(test_healthz_answers_200),
    TEST(test_internal_listener_serves_the_operational_endpoints),
    TEST(test_log_handler_gets_lines_without_secrets),
    TEST(test_upgrade_without_user_id_is_400),
    TEST(test_connection_lifecycle_and_handlers),
    TEST(test_on_connect_can_refuse_with_401),
    TEST(test_on_connect_can_choose_the_user_id),
    TEST(test_stop_from_a_handler_is_estate),
    TEST(test_raw_websocket_client_join_ack_and_close),
    TEST(test_room_members_and_users_online),
    TEST(test_presence_queries_after_stop_are_estate),
    TEST(test_history_read_and_host_messages_get_offsets),
    TEST(test_send_bigger_than_the_send_queue_is_etoobig),
    TEST(test_user_limit_holds_with_deferred_decisions),
    TEST(test_destroy_from_on_open_is_deferred),
    TEST(test_destroy_from_on_message_is_deferred),
    TEST(test_on_message_with_id_gets_the_raw_id),
    TEST(test_queued_mode_delivers_events_through_the_fd),
    TEST(test_queued_mode_answers_overloaded_beyond_the_bound),
    TEST(test_events_calls_need_a_queued_engine),
    TEST(test_stats_table_names_every_field_and_metrics_render),
    TEST(test_settings_table_matches_rtc_config_init),
};

/* A stuck test (a deadlock in the engine) fails instead of hanging. */
static void on_watchdog(int sig) {
  static const char msg[] = "FAIL: timed out (watchdog)\n";
  (void)sig;
  if (write(1, msg, sizeof msg - 1) < 0) _exit(1);
  _exit(1);
}

/* Runs one test in a child process, so that a crash or a hang in the engine
 * fails that test only and the summary line still comes out. Returns the
 * number of failed checks (1 for a crash or a timeout). RTC_TEST_NOFORK=1
 * runs tests in this process (for a debugger). */
static int run_test(const test_case* t) {
  pid_t pid;
  int status;
  g_test = t->name;
  g_test_failures = 0;
  fflush(stdout);
  if (getenv("RTC_TEST_NOFORK")) {
    t->fn();
    return g_test_failures;
  }
  pid = fork();
  if (pid < 0) {
    printf("FAIL %s: fork: %s\n", t->name, strerror(errno));
    return 1;
  }
  if (pid == 0) {
    signal(SIGALRM, on_watchdog);
    alarm(60);
    t->fn();
    fflush(stdout);
    _exit(g_test_failures > 0 ? 1 : 0);
  }
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      printf("FAIL %s: waitpid: %s\n", t->name, strerror(errno));
      return 1;
    }
  }
  if (WIFSIGNALED(status)) {
    printf("FAIL %s: killed by signal %d\n", t->name, WTERMSIG(status));
    return 1;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

/* Non-zero if the test is selected: no arguments select every test, else
 * the tests whose name contains one of the arguments. */
static int selected(const char* name, int argc, char** argv) {
  int i;
  if (argc < 2) return 1;
  for (i = 1; i < argc; i++)
    if (strstr(name, argv[i])) return 1;
  return 0;
}

int main(int argc, char** argv) {
  size_t i;
  int passed = 0, failed = 0;
  signal(SIGPIPE, SIG_IGN);
  for (i = 0; i < sizeof tests / sizeof tests[0]; i++) {
    if (!selected(tests[i].name, argc, argv)) continue;
    if (run_test(&tests[i]) == 0) {
      passed++;
      printf("ok   %s\n", tests[i].name);
    } else {
      failed++;
      printf("FAIL %s\n", tests[i].name);
    }
    fflush(stdout);
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
