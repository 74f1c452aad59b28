/* chat_server.c: the example chat server (examples/README.md) in C.
 *
 * The reference chat servers' protocol (join_room, leave_room,
 * room_message, direct_message) runs inside the engine; this program adds
 * what every example adds, in the same way as the C++, Python and Node
 * ones:
 *   - an auth hook that refuses the user "mallory" (403; the decision is
 *     deferred, as a host asking an auth service would, so the client sees
 *     close code 4403 after the upgrade, exactly as with the bindings);
 *   - a server-side push: every new connection gets a direct_message from
 *     the server ("from": "") whose content is {"welcome": USER};
 *   - one host-defined message type: {"type":"whoami"} is answered with the
 *     frame {"type":"whoami","user":USER}, then the ack if it had an id.
 *
 * Usage: chat_server [port]   (default 8000; 0 picks a free port). Prints
 * "listening on ws://127.0.0.1:PORT"; SIGINT or SIGTERM stops it (every
 * client gets close code 1001) and it exits 0. */
#define _POSIX_C_SOURCE 200809L
#include <rtcore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The engine, for handlers that answer (set before the engine starts, so
 * the engine thread only ever reads it). */
static rtc_engine* g_engine;

/* Appends s as a JSON string (quoted, escaped) to out; returns the new
 * length or 0 if it does not fit. */
static size_t json_string(char* out, size_t at, size_t cap, const char* s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  size_t i;
  if (at + 1 >= cap) return 0;
  out[at++] = '"';
  for (i = 0; i < len; ++i) {
    unsigned char c = (unsigned char)s[i];
    if (at + 7 >= cap) return 0;
    if (c == '"' || c == '\\') {
      out[at++] = '\\';
      out[at++] = (char)c;
    } else if (c < 0x20) {
      memcpy(out + at, "\\u00", 4);
      out[at + 4] = hex[c >> 4];
      out[at + 5] = hex[c & 15];
      at += 6;
    } else {
      out[at++] = (char)c;
    }
  }
  out[at++] = '"';
  return at;
}

/* Builds prefix + JSON string of user + suffix into out (NUL-terminated). */
static size_t with_user(char* out, size_t cap, const char* prefix, const char* user, size_t len,
                        const char* suffix) {
  size_t at = strlen(prefix), tail = strlen(suffix);
  if (at >= cap) return 0;
  memcpy(out, prefix, at);
  at = json_string(out, at, cap, user, len);
  if (at == 0 || at + tail + 1 > cap) return 0;
  memcpy(out + at, suffix, tail + 1);
  return at + tail;
}

static void on_connect(void* ud, const rtc_connect_request* req, rtc_connect_decision* decision) {
  (void)ud;
  if (req->user_id_len == 7 && memcmp(req->user_id, "mallory", 7) == 0) {
    decision->defer = 1; /* decided below, after the upgrade completed */
    rtc_connect_resolve(g_engine, req->request_id, 0, 403, NULL, 0);
  }
}

static void on_open(void* ud, rtc_conn_id conn, const char* user, size_t len) {
  char content[640];
  size_t n = with_user(content, sizeof content, "{\"welcome\":", user, len, "}");
  (void)ud;
  if (n) rtc_send_to_connection(g_engine, conn, NULL, 0, RTC_PAYLOAD_CONTENT, content, n);
}

/* A client message whose type is not built in; id_json is its id ("" when
 * it had none), passed back verbatim in the answer. */
static void on_message(void* ud, rtc_conn_id conn, const char* user, size_t user_len, const char* type,
                       size_t type_len, const char* json, size_t json_len, const char* id_json,
                       size_t id_len) {
  char frame[640];
  size_t n;
  (void)ud;
  (void)json;
  (void)json_len;
  if (type_len != 6 || memcmp(type, "whoami", 6) != 0) { /* the bindings' wording */
    n = (size_t)snprintf(frame, sizeof frame, "no handler for message type \"%.*s\"", (int)type_len, type);
    rtc_send_error(g_engine, conn, "unknown_type", 12, frame, n < sizeof frame ? n : sizeof frame - 1,
                   id_len ? id_json : NULL, id_len);
    return;
  }
  n = with_user(frame, sizeof frame, "{\"type\":\"whoami\",\"user\":", user, user_len, "}");
  if (n) rtc_send_to_connection(g_engine, conn, NULL, 0, RTC_PAYLOAD_RAW, frame, n);
  if (id_len) { /* exactly one answer to a message with an id */
    n = (size_t)snprintf(frame, sizeof frame, "{\"type\":\"ack\",\"id\":%.*s}", (int)id_len, id_json);
    if (n < sizeof frame) rtc_send_to_connection(g_engine, conn, NULL, 0, RTC_PAYLOAD_RAW, frame, n);
  }
}

static void on_presence(void* ud, const char* user, size_t len, int32_t status, const char* ts,
                        size_t ts_len) {
  (void)ud;
  printf("presence %.*s %s %.*s\n", (int)len, user, status == RTC_PRESENCE_ONLINE ? "online" : "offline",
         (int)ts_len, ts);
  fflush(stdout);
}

int main(int argc, char** argv) {
  rtc_config config;
  rtc_handlers handlers;
  sigset_t sigs;
  int sig, rc;

  rtc_config_init(&config);
  config.port = argc > 1 ? (uint32_t)atoi(argv[1]) : 8000;
  rtc_handlers_init(&handlers);
  handlers.on_connect = on_connect;
  handlers.on_open = on_open;
  handlers.on_message_with_id = on_message;
  handlers.on_presence = on_presence;

  /* Block the signals before the engine thread starts, so only sigwait
   * gets them. */
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);

  if ((rc = rtc_engine_create(&config, &handlers, &g_engine)) != RTC_OK ||
      (rc = rtc_engine_start(g_engine)) != RTC_OK) {
    fprintf(stderr, "chat_server: %s\n", rtc_strerror(rc));
    rtc_engine_destroy(g_engine); /* NULL is a no-op */
    return 1;
  }
  printf("listening on ws://127.0.0.1:%u\n", (unsigned)rtc_engine_port(g_engine));
  fflush(stdout);

  sigwait(&sigs, &sig);
  rtc_engine_stop(g_engine, 1000); /* clients get a close frame with 1001 */
  rtc_engine_destroy(g_engine);
  return 0;
}
