/*
 * test_adopt.c: rtc_engine_adopt_socket from C (capi/include/rtcore.h).
 *
 * The test plays the host that owns the port: it listens on a loopback
 * socket of its own, accepts a client's TCP connection, reads the HTTP
 * upgrade request itself, and hands the descriptor and those bytes to the
 * engine. The clients are raw WebSocket peers (masked frames out, unmasked
 * frames in) that never learn the engine's own port.
 *
 * Plain C99 plus POSIX, no framework; CHECK records a failure and the test
 * goes on. Each test runs in a child process (a crash fails one test) under
 * a watchdog; every wait is bounded. Ends with "N passed, N failed".
 *   test_adopt [name-part...]   (no argument runs every test)
 * RTC_TEST_NOFORK=1 runs the tests in this process (a debugger; leak
 * checks at exit under ASan).
 */
#define _POSIX_C_SOURCE 200809L

#include "rtcore.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 5000

static const char* g_test = "";
static int g_failures;

static int check_impl(int ok, const char* expr, const char* file, int line) {
  if (!ok) {
    printf("FAIL %s (%s:%d): %s\n", g_test, file, line, expr);
    fflush(stdout);
    g_failures++;
  }
  return ok;
}

static int check_int_impl(long long a, long long b, const char* ea, const char* eb, const char* file,
                          int line) {
  if (a == b) return 1;
  printf("FAIL %s (%s:%d): %s == %s (got %lld, expected %lld)\n", g_test, file, line, ea, eb, a, b);
  fflush(stdout);
  g_failures++;
  return 0;
}

#define CHECK(cond) check_impl(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_INT(a, b) check_int_impl((long long)(a), (long long)(b), #a, #b, __FILE__, __LINE__)

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
/* What the handlers saw                                               */
/* ------------------------------------------------------------------ */

typedef struct seen {
  pthread_mutex_t mu;
  int n_connect, n_open, n_disconnect;
  char last_path[64];
  char last_origin[64];
  const char* refuse_user; /* on_connect refuses this user with 401 */
} seen;

static seen g_seen;

static void copy_str(char* dst, size_t cap, const char* src, size_t len) {
  if (!src) len = 0;
  if (len >= cap) len = cap - 1;
  if (len) memcpy(dst, src, len);
  dst[len] = '\0';
}

static void on_connect(void* ud, const rtc_connect_request* req, rtc_connect_decision* d) {
  seen* s = (seen*)ud;
  size_t i;
  pthread_mutex_lock(&s->mu);
  s->n_connect++;
  copy_str(s->last_path, sizeof s->last_path, req->path, req->path_len);
  s->last_origin[0] = '\0';
  for (i = 0; i < req->header_count; i++)
    if (req->headers[i].name_len == 6 && memcmp(req->headers[i].name, "origin", 6) == 0)
      copy_str(s->last_origin, sizeof s->last_origin, req->headers[i].value, req->headers[i].value_len);
  if (s->refuse_user && req->user_id_len == strlen(s->refuse_user) &&
      memcmp(req->user_id, s->refuse_user, req->user_id_len) == 0) {
    d->accept = 0;
    d->http_status = 401;
  }
  pthread_mutex_unlock(&s->mu);
}

static void on_open(void* ud, rtc_conn_id conn, const char* user, size_t user_len) {
  seen* s = (seen*)ud;
  (void)conn;
  (void)user;
  (void)user_len;
  pthread_mutex_lock(&s->mu);
  s->n_open++;
  pthread_mutex_unlock(&s->mu);
}

static void on_disconnect(void* ud, rtc_conn_id conn, const char* user, size_t user_len, uint32_t code) {
  seen* s = (seen*)ud;
  (void)conn;
  (void)user;
  (void)user_len;
  (void)code;
  pthread_mutex_lock(&s->mu);
  s->n_disconnect++;
  pthread_mutex_unlock(&s->mu);
}

static int read_int(const int* v) {
  int out;
  pthread_mutex_lock(&g_seen.mu);
  out = *v;
  pthread_mutex_unlock(&g_seen.mu);
  return out;
}

static int wait_int(const int* v, int want) {
  long long deadline = now_ms() + WAIT_MS;
  while (read_int(v) < want) {
    if (now_ms() >= deadline) return 0;
    sleep_ms(5);
  }
  return 1;
}

/* An engine on 127.0.0.1 and a free port (the defaults), which no client
 * of these tests ever connects to: every connection arrives by adoption. */
static rtc_engine* start_engine(const char* allowed_origins) {
  rtc_config cfg;
  rtc_handlers h;
  rtc_engine* e = NULL;
  rtc_config_init(&cfg);
  cfg.allowed_origins = allowed_origins;
  rtc_handlers_init(&h);
  h.user_data = &g_seen;
  h.on_connect = on_connect;
  h.on_open = on_open;
  h.on_disconnect = on_disconnect;
  if (!CHECK_INT(rtc_engine_create(&cfg, &h, &e), RTC_OK)) return NULL;
  if (!CHECK_INT(rtc_engine_start(e), RTC_OK)) {
    rtc_engine_destroy(e);
    return NULL;
  }
  return e;
}

static int stats_of(rtc_engine* e, rtc_stats* st) {
  rtc_stats_init(st);
  return rtc_engine_stats(e, st) == RTC_OK;
}

static int wait_connections(rtc_engine* e, uint64_t want) {
  long long deadline = now_ms() + WAIT_MS;
  rtc_stats st;
  for (;;) {
    if (stats_of(e, &st) && st.connections == want) return 1;
    if (now_ms() >= deadline) return 0;
    sleep_ms(5);
  }
}

/* ------------------------------------------------------------------ */
/* The host's own listener, and raw peers                              */
/* ------------------------------------------------------------------ */

static void set_timeouts(int fd) {
  struct timeval tv;
  tv.tv_sec = 1; /* per call; loops check an overall deadline */
  tv.tv_usec = 0;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Listens on 127.0.0.1 and a free port; returns the socket, port in *port. */
static int host_listen(uint16_t* port) {
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr*)&sa, sizeof sa) != 0 || listen(fd, 16) != 0 ||
      getsockname(fd, (struct sockaddr*)&sa, &len) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(sa.sin_port);
  return fd;
}

typedef struct peer {
  int fd;
  unsigned char buf[16384];
  size_t len;
} peer;

static int peer_connect(peer* p, uint16_t port) {
  struct sockaddr_in sa;
  p->len = 0;
  p->fd = socket(AF_INET, SOCK_STREAM, 0);
  if (p->fd < 0) return 0;
  set_timeouts(p->fd);
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
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

static int send_all(int fd, const void* data, size_t len) {
  const char* d = (const char*)data;
  while (len > 0) {
    ssize_t n = send(fd, d, len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    d += n;
    len -= (size_t)n;
  }
  return 1;
}

/* Receives until `need` bytes are buffered; 0 on EOF, error or deadline. */
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

/* Position just past the first "\r\n\r\n" in p's buffer, 0 if none yet. */
static size_t head_end(const peer* p) {
  size_t i;
  for (i = 4; i <= p->len; i++)
    if (memcmp(p->buf + i - 4, "\r\n\r\n", 4) == 0) return i;
  return 0;
}

/* Reads an HTTP head (through the blank line) into out, NUL-terminated. */
static size_t read_http_head(peer* p, char* out, size_t cap) {
  long long deadline = now_ms() + WAIT_MS;
  size_t end;
  while ((end = head_end(p)) == 0)
    if (!peer_fill(p, p->len + 1, deadline)) break;
  if (end == 0) end = p->len;
  copy_str(out, cap, (const char*)p->buf, end);
  peer_consume(p, end);
  return end;
}

/* The host's part: accepts one connection on lfd, reads until the end of
 * the request head (and whatever came with it in the same reads), and
 * hands descriptor and bytes to the engine. Returns the adopt result, or
 * a value below RTC_OK's range on a socket failure. */
static int host_accept_and_adopt(rtc_engine* e, int lfd) {
  peer h;
  int rc;
  long long deadline = now_ms() + WAIT_MS;
  h.len = 0;
  h.fd = accept(lfd, NULL, NULL);
  if (!CHECK(h.fd >= 0)) return -100;
  set_timeouts(h.fd);
  while (head_end(&h) == 0)
    if (!CHECK(peer_fill(&h, h.len + 1, deadline))) {
      peer_close(&h);
      return -100;
    }
  rc = rtc_engine_adopt_socket(e, h.fd, (const char*)h.buf, h.len);
  if (rc != RTC_OK) peer_close(&h); /* still ours on an error */
  return rc;
}

#define WS_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define WS_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

/* One masked client frame with FIN, appended to out at *n. */
static void frame_text(unsigned char* out, size_t* n, const char* text) {
  static const unsigned char mask[4] = {0x11, 0x5a, 0xc3, 0x7e};
  size_t len = strlen(text), i;
  out[(*n)++] = 0x81;
  if (len < 126) {
    out[(*n)++] = (unsigned char)(0x80 | len);
  } else {
    out[(*n)++] = 0x80 | 126;
    out[(*n)++] = (unsigned char)(len >> 8);
    out[(*n)++] = (unsigned char)(len & 0xff);
  }
  memcpy(out + *n, mask, 4);
  *n += 4;
  for (i = 0; i < len; i++) out[*n + i] = (unsigned char)text[i] ^ mask[i % 4];
  *n += len;
}

static int ws_send_text(peer* p, const char* text) {
  unsigned char f[1024];
  size_t n = 0;
  if (strlen(text) > sizeof f - 8) return 0;
  frame_text(f, &n, text);
  return send_all(p->fd, f, n);
}

/* Reads server frames until a text frame containing needle (1), or a close
 * frame, EOF or the deadline (0). Server frames must be unmasked. */
static int ws_expect_text(peer* p, const char* needle) {
  long long deadline = now_ms() + WAIT_MS;
  for (;;) {
    size_t h = 2, len;
    int opcode;
    char text[4096];
    if (!peer_fill(p, 2, deadline)) return 0;
    opcode = p->buf[0] & 0x0f;
    CHECK((p->buf[1] & 0x80) == 0);
    len = p->buf[1] & 0x7f;
    if (len == 126) {
      if (!peer_fill(p, 4, deadline)) return 0;
      len = ((size_t)p->buf[2] << 8) | p->buf[3];
      h = 4;
    } else if (len == 127) {
      return 0; /* nothing in these tests is that large */
    }
    if (!peer_fill(p, h + len, deadline)) return 0;
    copy_str(text, sizeof text, (const char*)p->buf + h, len);
    peer_consume(p, h + len);
    if (opcode == 0x8) return 0;
    if (opcode == 0x1 && strstr(text, needle)) return 1;
  }
}

/* A client of the host's port: sends the upgrade request for path (with
 * an Origin header when origin is not NULL) followed, in the same write,
 * by the text frame first_frame when not NULL, so that the host reads
 * bytes past the request head too; the host adopts; the response head is
 * read into resp. Returns adopt's result. */
static int open_via_host(rtc_engine* e, int lfd, uint16_t host_port, peer* p, const char* path,
                         const char* origin, const char* first_frame, char* resp, size_t cap) {
  unsigned char req[2048];
  size_t n;
  int rc;
  char origin_line[128] = "";
  resp[0] = '\0';
  if (!CHECK(peer_connect(p, host_port))) return -100;
  if (origin) snprintf(origin_line, sizeof origin_line, "Origin: %s\r\n", origin);
  n = (size_t)snprintf((char*)req, sizeof req,
                       "GET %s HTTP/1.1\r\n"
                       "Host: 127.0.0.1:%u\r\n"
                       "Upgrade: websocket\r\n"
                       "Connection: Upgrade\r\n"
                       "%s"
                       "Sec-WebSocket-Key: " WS_KEY
                       "\r\n"
                       "Sec-WebSocket-Version: 13\r\n"
                       "\r\n",
                       path, (unsigned)host_port, origin_line);
  if (first_frame) frame_text(req, &n, first_frame);
  if (!CHECK(send_all(p->fd, req, n))) return -100;
  rc = host_accept_and_adopt(e, lfd);
  if (rc == RTC_OK) read_http_head(p, resp, cap);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void test_adopted_sockets_chat_in_a_room(void) {
  uint16_t host_port = 0;
  int lfd = host_listen(&host_port);
  rtc_engine* e = start_engine(NULL);
  peer alice, bob;
  char resp[1024];
  rtc_stats st;
  if (!CHECK(lfd >= 0) || !e) return;
  /* alice's join travels in the same segment as her request: the host has
   * read it already, and the engine must take it from the bytes handed
   * over, not from the socket. */
  CHECK_INT(open_via_host(e, lfd, host_port, &alice, "/ws/alice", NULL,
                          "{\"type\":\"join_room\",\"room\":\"lobby\",\"id\":1}", resp, sizeof resp),
            RTC_OK);
  CHECK(strncmp(resp, "HTTP/1.1 101", 12) == 0);
  CHECK(strstr(resp, WS_ACCEPT) != NULL);
  CHECK(ws_expect_text(&alice, "\"type\":\"ack\",\"id\":1"));
  CHECK_INT(open_via_host(e, lfd, host_port, &bob, "/ws/bob", NULL, NULL, resp, sizeof resp), RTC_OK);
  CHECK(strncmp(resp, "HTTP/1.1 101", 12) == 0);
  CHECK(ws_send_text(&bob, "{\"type\":\"join_room\",\"room\":\"lobby\",\"id\":2}"));
  CHECK(ws_expect_text(&bob, "\"type\":\"ack\",\"id\":2"));
  CHECK(ws_send_text(&bob, "{\"type\":\"room_message\",\"room\":\"lobby\",\"content\":\"hi from bob\"}"));
  CHECK(ws_expect_text(&alice, "\"from\":\"bob\",\"content\":\"hi from bob\""));
  CHECK(wait_int(&g_seen.n_open, 2));
  CHECK_INT(read_int(&g_seen.n_connect), 2);
  pthread_mutex_lock(&g_seen.mu);
  CHECK(strcmp(g_seen.last_path, "/ws/bob") == 0);
  pthread_mutex_unlock(&g_seen.mu);
  CHECK(wait_connections(e, 2));
  CHECK(stats_of(e, &st));
  CHECK_INT(st.connections_total, 2);
  CHECK_INT(st.users, 2);
  CHECK_INT(st.rooms, 1);
  peer_close(&alice);
  CHECK(wait_int(&g_seen.n_disconnect, 1));
  CHECK(wait_connections(e, 1));
  peer_close(&bob);
  CHECK(wait_connections(e, 0));
  CHECK_INT(rtc_engine_stop(e, 1000), RTC_OK);
  rtc_engine_destroy(e);
  close(lfd);
}

static void test_adopted_upgrades_follow_the_engine_rules(void) {
  uint16_t host_port = 0;
  int lfd = host_listen(&host_port);
  rtc_engine* e = start_engine("https://app.example");
  peer p;
  char resp[1024];
  rtc_stats st;
  if (!CHECK(lfd >= 0) || !e) return;
  pthread_mutex_lock(&g_seen.mu);
  g_seen.refuse_user = "mallory";
  pthread_mutex_unlock(&g_seen.mu);
  /* allowed_origins: another site's page is refused before on_connect */
  CHECK_INT(
      open_via_host(e, lfd, host_port, &p, "/ws/alice", "https://evil.example", NULL, resp, sizeof resp),
      RTC_OK);
  CHECK(strncmp(resp, "HTTP/1.1 403", 12) == 0);
  peer_close(&p);
  CHECK_INT(read_int(&g_seen.n_connect), 0);
  /* the on_connect handler refuses */
  CHECK_INT(
      open_via_host(e, lfd, host_port, &p, "/ws/mallory", "https://app.example", NULL, resp, sizeof resp),
      RTC_OK);
  CHECK(strncmp(resp, "HTTP/1.1 401", 12) == 0);
  peer_close(&p);
  /* a path the engine does not serve */
  CHECK_INT(open_via_host(e, lfd, host_port, &p, "/elsewhere/alice", NULL, NULL, resp, sizeof resp), RTC_OK);
  CHECK(strncmp(resp, "HTTP/1.1 404", 12) == 0);
  peer_close(&p);
  /* and the allowed origin gets in, with its header passed to the hook */
  CHECK_INT(open_via_host(e, lfd, host_port, &p, "/ws/alice", "https://app.example", NULL, resp, sizeof resp),
            RTC_OK);
  CHECK(strncmp(resp, "HTTP/1.1 101", 12) == 0);
  CHECK(wait_int(&g_seen.n_open, 1));
  pthread_mutex_lock(&g_seen.mu);
  CHECK(strcmp(g_seen.last_origin, "https://app.example") == 0);
  pthread_mutex_unlock(&g_seen.mu);
  CHECK(stats_of(e, &st));
  CHECK_INT(st.origin_refusals, 1);
  CHECK_INT(st.rejected_upgrades, 3);
  CHECK_INT(st.connections, 1);
  peer_close(&p);
  CHECK_INT(rtc_engine_stop(e, 1000), RTC_OK);
  rtc_engine_destroy(e);
  close(lfd);
}

/* head_len 0: the host read nothing, and the engine reads the request
 * from the socket itself (here it is already waiting in the socket). */
static void test_adopting_before_reading_anything(void) {
  uint16_t host_port = 0;
  int lfd = host_listen(&host_port), fd;
  rtc_engine* e = start_engine(NULL);
  peer p;
  char req[512], resp[1024];
  if (!CHECK(lfd >= 0) || !e) return;
  CHECK(peer_connect(&p, host_port));
  fd = accept(lfd, NULL, NULL);
  CHECK(fd >= 0);
  CHECK_INT(rtc_engine_adopt_socket(e, fd, NULL, 0), RTC_OK);
  snprintf(req, sizeof req,
           "GET /ws/zoe HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: " WS_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n");
  sleep_ms(50); /* the engine has the socket before the request comes */
  CHECK(send_all(p.fd, req, strlen(req)));
  read_http_head(&p, resp, sizeof resp);
  CHECK(strncmp(resp, "HTTP/1.1 101", 12) == 0);
  CHECK(ws_send_text(&p, "{\"type\":\"join_room\",\"room\":\"z\",\"id\":5}"));
  CHECK(ws_expect_text(&p, "\"type\":\"ack\",\"id\":5"));
  CHECK(wait_connections(e, 1));
  peer_close(&p);
  CHECK(wait_connections(e, 0));
  CHECK_INT(rtc_engine_stop(e, 1000), RTC_OK);
  rtc_engine_destroy(e);
  close(lfd);
}

/* Whether fd is still an open descriptor of this process. */
static int fd_open(int fd) {
  return fcntl(fd, F_GETFD) != -1;
}

static void test_errors_leave_the_descriptor_with_the_caller(void) {
  rtc_config cfg;
  rtc_engine* e = NULL;
  int pipefd[2], sv[2];
  const char req[] = "GET /ws/alice HTTP/1.1\r\n\r\n";
  rtc_config_init(&cfg);
  if (!CHECK_INT(rtc_engine_create(&cfg, NULL, &e), RTC_OK)) return;
  CHECK(pipe(pipefd) == 0);
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  /* not started yet */
  CHECK_INT(rtc_engine_adopt_socket(e, sv[0], req, sizeof req - 1), RTC_ESTATE);
  CHECK(fd_open(sv[0]));
  CHECK_INT(rtc_engine_adopt_socket(NULL, sv[0], req, sizeof req - 1), RTC_EINVAL);
  CHECK(rtc_engine_start(e) == RTC_OK);
  /* not a socket, no descriptor, a bad head */
  CHECK_INT(rtc_engine_adopt_socket(e, pipefd[0], NULL, 0), RTC_EINVAL);
  CHECK(fd_open(pipefd[0]));
  CHECK_INT(rtc_engine_adopt_socket(e, -1, NULL, 0), RTC_EINVAL);
  CHECK_INT(rtc_engine_adopt_socket(e, sv[0], NULL, 5), RTC_EINVAL);
  CHECK(fd_open(sv[0]));
  CHECK_INT(rtc_engine_stop(e, 1000), RTC_OK);
  /* stopped */
  CHECK_INT(rtc_engine_adopt_socket(e, sv[0], req, sizeof req - 1), RTC_ESTATE);
  CHECK(fd_open(sv[0]));
  rtc_engine_destroy(e);
  /* an engine serving TLS cannot take a plain socket (checked at the call,
   * before the engine would load the files) */
  e = NULL;
  cfg.tls_cert_file = "/nonexistent/cert.pem";
  cfg.tls_key_file = "/nonexistent/key.pem";
  if (CHECK_INT(rtc_engine_create(&cfg, NULL, &e), RTC_OK)) {
    CHECK_INT(rtc_engine_adopt_socket(e, sv[0], req, sizeof req - 1), RTC_ENOTSUP);
    CHECK(fd_open(sv[0]));
    rtc_engine_destroy(e);
  }
  close(pipefd[0]);
  close(pipefd[1]);
  close(sv[0]);
  close(sv[1]);
}

/* On RTC_OK the engine owns the descriptor: a refused upgrade is answered
 * and the socket closed by the engine (the peer sees the response, then
 * EOF), and nothing is left open after the engine stops. */
static void test_the_engine_closes_what_it_adopted(void) {
  rtc_engine* e = start_engine(NULL);
  int sv[2];
  peer p;
  char resp[1024];
  const char req[] =
      "GET /nowhere HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: " WS_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n";
  if (!e) return;
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  p.fd = sv[1];
  p.len = 0;
  set_timeouts(p.fd);
  CHECK_INT(rtc_engine_adopt_socket(e, sv[0], req, sizeof req - 1), RTC_OK);
  read_http_head(&p, resp, sizeof resp);
  CHECK(strncmp(resp, "HTTP/1.1 404", 12) == 0);
  {
    /* the engine closes its end after the response */
    long long deadline = now_ms() + WAIT_MS;
    int eof = 0;
    while (!eof && now_ms() < deadline) {
      char c;
      ssize_t n = recv(p.fd, &c, 1, 0);
      if (n == 0)
        eof = 1;
      else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        eof = 1;
    }
    CHECK(eof);
  }
  CHECK_INT(rtc_engine_stop(e, 1000), RTC_OK);
  rtc_engine_destroy(e);
  peer_close(&p);
}

/* ------------------------------------------------------------------ */

typedef struct test_case {
  const char* name;
  void (*fn)(void);
} test_case;

#define TEST(fn) \
  { #fn, fn }
static const test_case kTests[] = {
    TEST(test_adopted_sockets_chat_in_a_room),    TEST(test_adopted_upgrades_follow_the_engine_rules),
    TEST(test_adopting_before_reading_anything),  TEST(test_errors_leave_the_descriptor_with_the_caller),
    TEST(test_the_engine_closes_what_it_adopted),
};

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
  for (i = 0; i < sizeof kTests / sizeof kTests[0]; i++) {
    pid_t pid;
    int status = 0;
    if (!selected(kTests[i].name, argc, argv)) continue;
    fflush(stdout);
    if (getenv("RTC_TEST_NOFORK")) { /* in this process: a debugger, LSan at exit */
      memset(&g_seen, 0, sizeof g_seen);
      pthread_mutex_init(&g_seen.mu, NULL);
      g_test = kTests[i].name;
      g_failures = 0;
      kTests[i].fn();
      printf("%s %s\n", g_failures ? "FAIL" : "ok  ", kTests[i].name);
      if (g_failures)
        failed++;
      else
        passed++;
      continue;
    }
    pid = fork();
    if (pid == 0) {
      alarm(30); /* watchdog */
      memset(&g_seen, 0, sizeof g_seen);
      pthread_mutex_init(&g_seen.mu, NULL);
      g_test = kTests[i].name;
      kTests[i].fn();
      fflush(stdout);
      _exit(g_failures ? 1 : 0);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      printf("FAIL %s%s\n", kTests[i].name, WIFSIGNALED(status) ? " (killed by a signal)" : "");
      failed++;
    } else {
      printf("ok   %s\n", kTests[i].name);
      passed++;
    }
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
