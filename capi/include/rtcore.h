/*
 * rtcore.h: the stable C API of rtcore, an embeddable real-time messaging
 * engine (WebSocket rooms, direct messages, presence).
 *
 * This header is the contract: what is not declared here is not API.
 *
 * Threads
 *   An engine runs its own event loop on one engine thread. Every function
 *   below says which threads may call it. Functions marked "any thread"
 *   only enqueue a command for the engine thread and return at once; their
 *   effect happens later, in the order the calls were made from one thread.
 *   Handlers (callbacks) run on the engine thread, must not block, and may
 *   call any "any thread" function, including on the engine they run for.
 *   Instead of handlers, a host may take the events in batches on its own
 *   thread from the engine's event queue (rtc_engine_create_queued, below).
 *
 * Ownership
 *   Strings are UTF-8 passed as (pointer, length); the engine copies every
 *   input before the call returns, so the caller keeps ownership. Data
 *   handed to a handler is borrowed for the duration of that call only.
 *
 * Errors
 *   Functions returning int return RTC_OK (0) or a negative RTC_E* code from
 *   the table below; rtc_strerror() names it. When a function that takes a
 *   handler fails, that handler is never called for that request.
 *   Callers must tolerate codes they do not know (new ones may be added).
 */
#ifndef RTCORE_H
#define RTCORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define RTC_API
#else
#define RTC_API __attribute__((visibility("default")))
#endif

#define RTC_VERSION_MAJOR 0
#define RTC_VERSION_MINOR 1
#define RTC_VERSION_PATCH 0
#define RTC_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/* X(name, value, message): the one table of result codes. */
#define RTC_ERRNO_MAP(X)                                               \
  X(OK, 0, "success")                                                  \
  X(EINVAL, -1, "invalid argument")                                    \
  X(ENOMEM, -2, "out of memory")                                       \
  X(ESTATE, -3, "operation not allowed in the engine's current state") \
  X(ELISTEN, -4, "could not listen on the configured address")         \
  X(ENOTSUP, -5, "not supported by this build or configuration")       \
  X(ESTRUCT, -6, "struct_size is smaller than any known version")      \
  X(EINTERNAL, -7, "internal error")                                   \
  X(ENOTFOUND, -8, "no such connection or user")                       \
  X(EQUEUE, -9, "the engine's command queue is full")                  \
  X(ETLS, -10, "the TLS certificate or key could not be loaded")       \
  X(ETOOBIG, -11, "the message is larger than the send queue limit")   \
  X(EUNAVAILABLE, -12, "the backplane could not answer (Redis unreachable)")

typedef enum rtc_result {
#define RTC_X_ENUM(name, value, msg) RTC_##name = value,
  RTC_ERRNO_MAP(RTC_X_ENUM)
#undef RTC_X_ENUM
} rtc_result;

/* The message for a result code; "unknown error" for codes it does not
 * know. Returns a static string (never NULL, never freed). Any thread. */
RTC_API const char* rtc_strerror(int code);

/* The symbolic name of a result code, e.g. "RTC_EINVAL"; static string.
 * Any thread. */
RTC_API const char* rtc_err_name(int code);

/* The library version as "MAJOR.MINOR.PATCH", static string. Any thread. */
RTC_API const char* rtc_version(void);

/* The library version as (MAJOR << 16) | (MINOR << 8) | PATCH. Any thread. */
RTC_API uint32_t rtc_version_number(void);

/* ------------------------------------------------------------------ */
/* Ids                                                                 */
/* ------------------------------------------------------------------ */

/* A connection id: a slot index and a generation in 64 bits. Ids are never
 * reused while the engine lives: an id of a closed connection is stale and
 * every call with it is ignored. 0 is never a valid id. */
typedef uint64_t rtc_conn_id;

/* ------------------------------------------------------------------ */
/* Configuration                                                       */
/* ------------------------------------------------------------------ */

typedef struct rtc_config {
  /* sizeof(rtc_config); set by rtc_config_init(). Fields are only ever
   * appended, so an older caller's smaller struct keeps working. */
  uint32_t struct_size;

  /* Address to listen on, NUL-terminated; NULL means "127.0.0.1".
   * Borrowed until rtc_engine_create() returns. */
  const char* host;
  /* TCP port; 0 picks a free one (read it back with rtc_engine_port). */
  uint32_t port;

  /* Largest accepted client message (after reassembly), bytes; a larger
   * one closes the connection with 1009. Default 1 MiB. */
  uint64_t max_message_size;
  /* Per-connection bytes queued for sending before the client counts as a
   * slow consumer and is closed with 1008. Default 4 MiB. */
  uint64_t max_send_queue_bytes;
  /* Liveness: ping a connection idle for ping_interval_ms; close it when
   * it has sent nothing, not even a pong, for another ping_timeout_ms.
   * Whole seconds are used (rounded up, at least 1). Defaults 30000/30000. */
  uint32_t ping_interval_ms;
  uint32_t ping_timeout_ms;
  /* Rooms one connection may be a member of; 0 means unlimited.
   * Default 1024. */
  uint32_t max_rooms_per_connection;
  /* Non-zero: room_message is allowed without joining (section 4,
   * not_in_room). Default 0. */
  uint32_t allow_post_without_join;

  /* This node's id, NUL-terminated; NULL or "" picks a random one.
   * 1..128 bytes of printable ASCII without spaces (RTC_EINVAL otherwise).
   * Borrowed until rtc_engine_create() returns. */
  const char* node_id;
  /* Backplane: NULL or "" for the in-process backplane (a single node);
   * otherwise "redis://[user:password@]host[:port][/db]" or
   * "unix:///path[?db=N]": every node sharing that Redis acts as one.
   * Borrowed until rtc_engine_create() returns. */
  const char* redis_url;

  /* Log verbosity: 0 errors, 1 warnings (default), 2 info, 3 debug.
   * Logs go to stderr, one line each. */
  uint32_t log_level;

  /* --- Redis backplane (ignored without redis_url; 0 or NULL in any of
   * these fields means its default) --- */
  /* Channel and key prefix, NUL-terminated; NULL means "rtcore:". */
  const char* redis_prefix;
  /* A node that has not refreshed its liveness key for this long is dead:
   * the others take its users offline. Default 15000. */
  uint32_t node_ttl_ms;
  /* Connect timeout for each Redis connection. Default 2000. */
  uint32_t redis_connect_timeout_ms;
  /* Publishes held, in order, while Redis is unreachable; what does not
   * fit is dropped and counted (stats.backplane_dropped). Default 8 MiB. */
  uint64_t redis_buffer_bytes;

  /* --- Protections (see SECURITY.md for each default and why) --- */
  /* RTC_AUTH_NONE (default): the path's user id is trusted (demo and
   * trusted networks only). RTC_AUTH_JWT_HS256: every upgrade needs an
   * HS256 JWT (?token=, Authorization: Bearer, or the subprotocol
   * "bearer.JWT") whose sub is the user id; refusals are HTTP 401. */
  uint32_t auth_mode;
  /* The HMAC secret (bytes, copied); required with RTC_AUTH_JWT_HS256. */
  const char* jwt_secret;
  size_t jwt_secret_len;
  /* Tolerance on exp and nbf, seconds. Default 30. */
  uint32_t jwt_leeway_s;
  /* When set (NUL-terminated), the token's aud / iss must match. */
  const char* jwt_audience;
  const char* jwt_issuer;
  /* Comma-separated browser origins allowed to connect (exact match, e.g.
   * "https://app.example.com"); others get HTTP 403. NULL/"" allows any.
   * Requests without an Origin header (not browsers) are not affected. */
  const char* allowed_origins;
  /* Per-connection message rate (token bucket): rate_limit_per_s messages
   * per second with bursts of rate_limit_burst; beyond, error rate_limited,
   * and 100 refusals within 10 s close with 1008 (malformed frames count
   * too). rate_limit_per_s 0 disables it; rate_limit_burst 0 means twice
   * the rate. Defaults 1000 and 2000. */
  uint32_t rate_limit_per_s;
  uint32_t rate_limit_burst;
  /* Connections on this node (HTTP 503 beyond) and per user on this node
   * (HTTP 429 beyond); 0 = unlimited. Defaults 100000 and 100. The per-user
   * count includes upgrades still waiting for a deferred on_connect
   * decision (under the path's user id), and is checked again when the
   * decision comes, for the user id it names: a connection refused then is
   * closed with 4429 (counted in user_limit_refusals). */
  uint32_t max_connections;
  uint32_t max_connections_per_user;
  /* The HTTP request and upgrade must complete within this. Default 10000. */
  uint32_t handshake_timeout_ms;
  /* A connection that sends no message for this long is closed with 1000;
   * 0 (default) disables it (pings already catch dead peers). */
  uint32_t idle_timeout_ms;
  /* Non-zero: GET /stats answers the counters as JSON. Default 0. */
  uint32_t expose_stats;
  /* wss://: PEM certificate (chain) and private key files; TLS 1.2+ only.
   * Both NULL (default) for plain ws://. */
  const char* tls_cert_file;
  const char* tls_key_file;

  /* --- Appended (issue 10) --- */
  /* A join_room carrying an id is acked once the backplane confirms the
   * room's subscription (docs/protocol.md section 2); if that takes longer than
   * this, the answer is error unavailable with the id instead. The
   * membership stays and takes effect once the subscription is confirmed
   * (nothing more is sent for that id). 0 means the default, 3000. */
  uint32_t join_timeout_ms;

  /* --- Appended (issue 11) --- */
  /* RTC_LOG_FORMAT_TEXT (default): "rtcore: ..." lines on stderr;
   * RTC_LOG_FORMAT_JSON: one JSON object per line, {"time","level","event",
   * "node","msg", ...fields}. Ignored for lines that go to an on_log
   * handler instead. */
  uint32_t log_format;
  /* "HOST:PORT" (NUL-terminated; PORT 0 picks a free one, read it back with
   * rtc_engine_internal_port): a second, plain-HTTP listener serving
   * GET /metrics, /readyz, /stats and /healthz and refusing WebSocket
   * upgrades (404); the public port then answers 404 for /metrics, /readyz
   * and /stats. NULL or "" (default): all are served on the public port
   * (/stats only with expose_stats). Borrowed until rtc_engine_create()
   * returns; RTC_EINVAL if malformed. */
  const char* internal_listen;

  /* Most users one presence answer lists (the client's "presence" query and
   * rtc_room_members with limit 0); when the room has more, the answer
   * says truncated. 0 means the default, 1000. */
  uint32_t presence_limit;

  /* --- Appended (issue 12) --- */
  /* History and recovery (docs/protocol.md section 8): every room and every
   * user's direct messages keep their last history_size messages, each for
   * history_ttl_s seconds, and frames carry offsets. 0 (default) turns
   * history off. With a Redis backplane the history and the offsets live in
   * Redis; without one, in this process. */
  uint32_t history_size;
  /* How long a stored message (and a stream without new messages) is kept,
   * seconds. 0 means the default, 300. */
  uint32_t history_ttl_s;

  /* --- Appended (issue 14) --- */
  /* Non-zero: every connection of the public listener is served by
   * libwebsockets, as before rtcore had its own accept and upgrade path.
   * 0 (default): a plain-TCP listener on an IPv4 address accepts and
   * upgrades with rtcore's own path (less CPU per connection and memory per
   * idle connection) and hands libwebsockets only what it does not serve
   * itself; TLS listeners and other hosts always use libwebsockets. A
   * fallback for operators: the protocol is the same on both paths, except
   * that libwebsockets accepts unmasked client frames, which the own path
   * closes with 1002. */
  uint32_t lws_transport;
} rtc_config;

#define RTC_AUTH_NONE 0
#define RTC_AUTH_JWT_HS256 1

#define RTC_LOG_FORMAT_TEXT 0
#define RTC_LOG_FORMAT_JSON 1

/* Log levels (rtc_config.log_level and rtc_handlers.on_log). */
#define RTC_LOG_ERROR 0
#define RTC_LOG_WARN 1
#define RTC_LOG_INFO 2
#define RTC_LOG_DEBUG 3

/* Fills *config with the defaults and sets struct_size. Any thread. */
RTC_API void rtc_config_init(rtc_config* config);

/* ------------------------------------------------------------------ */
/* Handlers                                                            */
/* ------------------------------------------------------------------ */

typedef struct rtc_engine rtc_engine;

/* One header of an upgrade request, borrowed for the handler call. */
typedef struct rtc_header {
  const char* name; /* lower-case */
  size_t name_len;
  const char* value;
  size_t value_len;
} rtc_header;

/* An upgrade request as seen by on_connect. Every pointer is borrowed for
 * the duration of the handler call. */
typedef struct rtc_connect_request {
  uint32_t struct_size;
  const char* path; /* decoded, normalised path, e.g. "/ws/alice" */
  size_t path_len;
  /* The query string without '?', may be empty. The HTTP layer decodes
   * it, so this is an equivalent re-encoding: every name and value
   * percent-encoded (unreserved characters kept), joined with '&'. */
  const char* query;
  size_t query_len;
  const char* user_id; /* the validated user id from the path */
  size_t user_id_len;
  const rtc_header* headers;
  size_t header_count;
  /* Identifies this request for rtc_connect_resolve() when the handler
   * defers its decision. Never 0. */
  uint64_t request_id;
} rtc_connect_request;

/* What on_connect decided. The handler starts with accept = 1, the path's
 * user id, and status 0. */
typedef struct rtc_connect_decision {
  uint32_t struct_size;
  /* 1 accepts the upgrade, 0 refuses it with http_status. */
  int32_t accept;
  /* HTTP status of a refusal (400..599); 0 means 403. */
  int32_t http_status;
  /* The user id to register the connection under, when accepting. Set it
   * through rtc_connect_decision_set_user() (it copies). */
  char user_id[129];
  uint32_t user_id_len;
  /* 1 defers the decision: the handler returns at once and the host
   * decides later, on any thread, with rtc_connect_resolve(request_id).
   * The upgrade then completes (101) while the connection waits, unable to
   * send or receive messages; a refusal closes it with close code
   * 4000 + http_status (e.g. 4401), since the HTTP response is gone. A
   * connection left undecided for 10 s is closed with 4408. accept,
   * http_status and user_id are ignored when defer is 1. */
  int32_t defer;
} rtc_connect_decision;

/* Sets decision->user_id to a copy of (user_id, len). Returns RTC_EINVAL if
 * len is 0 or above 128 or the id breaks the user id rules (docs/protocol.md
 * section 1). Any thread (it touches only *decision). */
RTC_API int rtc_connect_decision_set_user(rtc_connect_decision* decision, const char* user_id, size_t len);

/* Completes a deferred on_connect decision. accept = 1 registers the
 * connection under (user_id, len) (NULL keeps the path's user id) and
 * on_open follows; accept = 0 closes it with 4000 + http_status (400..599;
 * anything else means 403). Returns RTC_EINVAL for a bad user id or
 * status, RTC_ESTATE when the engine is not running. An unknown or
 * already-resolved request_id is ignored (the client may have gone).
 * Any thread, asynchronous. */
RTC_API int rtc_connect_resolve(rtc_engine* engine, uint64_t request_id, int32_t accept, int32_t http_status,
                                const char* user_id, size_t len);

/* Completes a deferred on_authorize: allow = 1 lets the held message take
 * effect, 0 answers it with error forbidden. An unknown or answered
 * request_id is ignored. Any thread, asynchronous. */
RTC_API int rtc_authorize_resolve(rtc_engine* engine, uint64_t request_id, int32_t allow);

/* Presence states. */
#define RTC_PRESENCE_OFFLINE 0
#define RTC_PRESENCE_ONLINE 1

typedef struct rtc_handlers {
  uint32_t struct_size;
  /* Passed back to every handler unchanged. */
  void* user_data;

  /* A WebSocket upgrade to /ws/{user_id} passed the protocol checks.
   * Decide in *decision before returning (the refusal is then an HTTP
   * status), or set decision->defer and decide later with
   * rtc_connect_resolve(). NULL accepts every valid request. Only these
   * headers are passed (lws 4.1 exposes only headers it knows): host,
   * origin, authorization, cookie, user-agent, sec-websocket-protocol,
   * x-forwarded-for. */
  void (*on_connect)(void* user_data, const rtc_connect_request* request, rtc_connect_decision* decision);

  /* A connection is registered and may receive messages. */
  void (*on_open)(void* user_data, rtc_conn_id conn, const char* user_id, size_t user_id_len);

  /* A connection is gone (already removed from every room and its user).
   * close_code is the WebSocket close code seen or sent, 1006 if none. */
  void (*on_disconnect)(void* user_data, rtc_conn_id conn, const char* user_id, size_t user_id_len,
                        uint32_t close_code);

  /* A client message whose type is not built in. json is the whole frame
   * (one JSON object). NULL: such messages get error unknown_type. The
   * handler answers, if at all, through the send functions. Superseded by
   * on_message_with_id (appended below), which also gets the request id. */
  void (*on_message)(void* user_data, rtc_conn_id conn, const char* user_id, size_t user_id_len,
                     const char* type, size_t type_len, const char* json, size_t json_len);

  /* A user went online (first connection) or offline (last one gone).
   * timestamp is RFC 3339 UTC with milliseconds. */
  void (*on_presence)(void* user_data, const char* user_id, size_t user_id_len, int32_t status,
                      const char* timestamp, size_t timestamp_len);

  /* Authorization: asked before a join_room, room_message or
   * direct_message takes effect. Return RTC_AUTHZ_ALLOW, RTC_AUTHZ_DENY
   * (the client gets error forbidden), or RTC_AUTHZ_DEFER to decide later
   * with rtc_authorize_resolve(request_id): the message, and the
   * connection's later messages, wait meanwhile (in order, up to
   * max_send_queue_bytes of them, beyond which the connection is closed
   * with 1008; undecided after 10 s means denied). target is the room, or the recipient of a direct
   * message; for RTC_ACTION_PRESENCE (a client's presence query) the room,
   * for RTC_ACTION_ONLINE (an online query) empty (target_len 0). Hosts
   * must treat action values they do not know as they see fit (more may
   * be appended). Runs on the engine thread for every such message: it must be
   * fast and must not block. NULL allows everything. */
  int32_t (*on_authorize)(void* user_data, rtc_conn_id conn, const char* user_id, size_t user_id_len,
                          int32_t action, const char* target, size_t target_len, uint64_t request_id);

  /* --- Appended (issue 11) --- */
  /* Every log line of this engine at or below rtc_config.log_level
   * (libwebsockets' own lines included), instead of stderr: level
   * (RTC_LOG_*), a short snake_case event name, the message, and its
   * fields as one JSON object ("{}" when none); all borrowed for the call,
   * none NUL-terminated. Lines never hold tokens, secrets, Authorization
   * headers, query strings or Redis passwords.
   * Thread: the engine thread, including during rtc_engine_start and
   * rtc_engine_stop (while the calling thread waits in them) and while a
   * handler of this engine runs; never concurrently with itself for one
   * engine. It must not block and must not call rtc_engine_stop or
   * rtc_engine_destroy. NULL: lines go to stderr (rtc_config.log_format). */
  void (*on_log)(void* user_data, int32_t level, const char* event, size_t event_len, const char* message,
                 size_t message_len, const char* fields_json, size_t fields_json_len);

  /* --- Appended (issue 13) --- */
  /* Like on_message, with the request's id: id_json (id_json_len bytes,
   * not NUL-terminated) is the JSON text of the frame's "id" member as the
   * client sent it (a quoted string or an integer), id_json_len 0 when the
   * message carried none; pass it as is to rtc_send_error, or answer
   * {"type":"ack","id":ID} with RTC_PAYLOAD_RAW (docs/protocol.md section
   * 2: exactly one ack or one error per message with an id; docs/hosts.md).
   * When set, it is called instead of on_message (which is then ignored);
   * both NULL: such messages get error unknown_type. Thread and borrowing
   * as on_message: the engine thread, everything borrowed for the call. */
  void (*on_message_with_id)(void* user_data, rtc_conn_id conn, const char* user_id, size_t user_id_len,
                             const char* type, size_t type_len, const char* json, size_t json_len,
                             const char* id_json, size_t id_json_len);
} rtc_handlers;

#define RTC_AUTHZ_DENY 0
#define RTC_AUTHZ_ALLOW 1
#define RTC_AUTHZ_DEFER 2

#define RTC_ACTION_JOIN_ROOM 1
#define RTC_ACTION_ROOM_MESSAGE 2
#define RTC_ACTION_DIRECT_MESSAGE 3
#define RTC_ACTION_PRESENCE 4 /* appended (issue 11) */
#define RTC_ACTION_ONLINE 5   /* appended (issue 11) */

/* Zeroes *handlers and sets struct_size. Any thread. */
RTC_API void rtc_handlers_init(rtc_handlers* handlers);

/* ------------------------------------------------------------------ */
/* Engine lifecycle                                                    */
/* ------------------------------------------------------------------ */

/* Creates an engine (not yet listening). config and handlers are copied;
 * either may be NULL for the defaults. On success *out owns the engine:
 * release it with rtc_engine_destroy(). Returns RTC_EINVAL for a bad
 * setting, RTC_ENOTSUP for a backplane this build lacks. Any thread. */
RTC_API int rtc_engine_create(const rtc_config* config, const rtc_handlers* handlers, rtc_engine** out);

/* Starts the engine thread and waits until it listens (or failed).
 * Returns RTC_ELISTEN if the address cannot be bound, RTC_ETLS if the TLS
 * certificate or key cannot be loaded, RTC_ESTATE if already started. Any thread except the engine's own; not
 * concurrently with rtc_engine_stop/destroy on the same engine. */
RTC_API int rtc_engine_start(rtc_engine* engine);

/* The TCP port the engine listens on, 0 before a successful start.
 * Any thread. */
RTC_API uint32_t rtc_engine_port(const rtc_engine* engine);

/* The port of the internal listener (rtc_config.internal_listen), 0
 * without one or before a successful start. Any thread. */
RTC_API uint32_t rtc_engine_internal_port(const rtc_engine* engine);

/* This node's id (NUL-terminated, owned by the engine, valid until
 * rtc_engine_destroy). Any thread. */
RTC_API const char* rtc_engine_node_id(const rtc_engine* engine);

/* Graceful stop: stops accepting, sends every connection a close frame
 * with 1001 after what was queued for it, waits at most timeout_ms for
 * the clients (0 means 1000 ms), drops the rest, and joins the engine
 * thread. No handler runs after it returns. Idempotent. Any thread except
 * the engine's own (from a handler it returns RTC_ESTATE). */
RTC_API int rtc_engine_stop(rtc_engine* engine, uint32_t timeout_ms);

/* Stops the engine if running (as rtc_engine_stop with 1000 ms), then
 * frees it. NULL is a no-op. The engine pointer is invalid once the call
 * returns. Any thread, but not while another thread is still inside a call
 * on the same engine (as with any destroy).
 *
 * From a handler (the engine thread) the call does not wait, since that
 * thread cannot wait for itself: it returns at once, no handler of this
 * engine runs after it returns (the calling handler excepted, which must
 * not use the engine again), and once the handler has returned the engine
 * stops by itself (1001 to every client, at most 1000 ms) and frees
 * everything on its own thread, which then ends. Nothing leaks, and
 * nothing is left to join. A process that exits right after such a call
 * may end before that teardown has finished; the operating system then
 * closes the sockets. */
RTC_API void rtc_engine_destroy(rtc_engine* engine);

/* ------------------------------------------------------------------ */
/* Sending and membership (any thread, asynchronous)                   */
/* ------------------------------------------------------------------ */
/* These return RTC_OK once the command is queued, RTC_EINVAL for a bad
 * argument (checked at the call), RTC_ESTATE when the engine is not
 * running. A stale connection id or an unknown user is not an error: the
 * command has nothing to act on.
 * The functions that send a frame (rtc_send_to_user, rtc_send_to_connection,
 * rtc_broadcast, rtc_send_error) return RTC_ETOOBIG when the frame, as
 * encoded with its WebSocket header, is larger than the engine's
 * max_send_queue_bytes: it could never be queued for any recipient, so
 * nothing is queued or sent and no connection is affected. */

/* Kinds of payload for the send functions. */
#define RTC_PAYLOAD_CONTENT 0 /* JSON value: wrapped in the envelope */
#define RTC_PAYLOAD_RAW 1     /* one complete JSON text frame, sent as is */

/* Sends to every connection of user_id. With RTC_PAYLOAD_CONTENT the
 * payload is any JSON value and clients receive
 * {"type":"direct_message","from":from,"content":payload,"timestamp":T};
 * from may be NULL/0 for "" (a server message). With RTC_PAYLOAD_RAW the
 * payload is sent as the text frame (it must be valid UTF-8 JSON; from is
 * ignored). Returns RTC_EINVAL if the payload is not valid JSON. */
RTC_API int rtc_send_to_user(rtc_engine* engine, const char* user_id, size_t user_id_len, const char* from,
                             size_t from_len, int32_t kind, const char* payload, size_t payload_len);

/* Like rtc_send_to_user, for one connection. */
RTC_API int rtc_send_to_connection(rtc_engine* engine, rtc_conn_id conn, const char* from, size_t from_len,
                                   int32_t kind, const char* payload, size_t payload_len);

/* Broadcasts to every member of room. With RTC_PAYLOAD_CONTENT clients
 * receive {"type":"message","room":room,"from":from,"content":payload,
 * "timestamp":T}. The frame is encoded once for all recipients. */
RTC_API int rtc_broadcast(rtc_engine* engine, const char* room, size_t room_len, const char* from,
                          size_t from_len, int32_t kind, const char* payload, size_t payload_len);

/* Makes a connection join or leave a room (as if it had sent join_room /
 * leave_room, without an ack). */
RTC_API int rtc_join(rtc_engine* engine, rtc_conn_id conn, const char* room, size_t room_len);
RTC_API int rtc_leave(rtc_engine* engine, rtc_conn_id conn, const char* room, size_t room_len);

/* Sends an error frame {"type":"error","code":..,"message":..[,"id":..]}
 * to one connection. id_json is the request's id as JSON (a quoted string
 * or an integer) or NULL/0 for none. */
RTC_API int rtc_send_error(rtc_engine* engine, rtc_conn_id conn, const char* code, size_t code_len,
                           const char* message, size_t message_len, const char* id_json, size_t id_json_len);

/* Closes a connection with close_code (1000, or 3000..4999) after what is
 * queued for it. */
RTC_API int rtc_disconnect(rtc_engine* engine, rtc_conn_id conn, uint32_t close_code);

/* Closes every connection of a user on this node. */
RTC_API int rtc_disconnect_user(rtc_engine* engine, const char* user_id, size_t user_id_len,
                                uint32_t close_code);

/* ------------------------------------------------------------------ */
/* Stats                                                               */
/* ------------------------------------------------------------------ */

typedef struct rtc_stats {
  uint32_t struct_size;
  uint64_t connections;          /* open connections now */
  uint64_t users;                /* users with at least one connection now */
  uint64_t rooms;                /* rooms with at least one member now */
  uint64_t messages_in;          /* client messages received */
  uint64_t messages_out;         /* frames queued for delivery (per recipient) */
  uint64_t bytes_out;            /* bytes handed to the sockets */
  uint64_t drops;                /* frames dropped (slow consumers, stale ids) */
  uint64_t errors_sent;          /* error frames sent to clients */
  uint64_t connections_total;    /* connections accepted since start */
  uint64_t rejected_upgrades;    /* upgrades refused with an HTTP status */
  uint64_t slow_consumer_closes; /* connections closed with 1008 */
  uint64_t oversize_closes;      /* connections closed with 1009 */
  /* Backplane (all 0 with the in-process one, except connected = 1). */
  uint64_t backplane_connected;      /* 1 while every link is up */
  uint64_t backplane_reconnects;     /* times it came back after an outage */
  uint64_t backplane_buffered_bytes; /* publishes held during an outage */
  uint64_t backplane_dropped;        /* publishes dropped (buffer full...) */
  uint64_t backplane_invalid;        /* undecodable node-to-node payloads */
  uint64_t backplane_published;      /* publishes to other nodes */
  uint64_t backplane_received;       /* publications received from them */
  /* Protections. */
  uint64_t auth_failures;             /* upgrades refused with 401 */
  uint64_t origin_refusals;           /* upgrades refused with 403 (origin) */
  uint64_t connection_limit_refusals; /* upgrades refused with 503 (total) */
  uint64_t user_limit_refusals;       /* upgrades refused with 429 (per user) */
  uint64_t rate_limited;              /* messages refused with rate_limited */
  uint64_t rate_limit_closes;         /* connections closed for flooding */
  uint64_t idle_closes;               /* connections closed as idle */
  uint64_t forbidden;                 /* actions refused by on_authorize */
  /* Robustness (appended). */
  uint64_t internal_errors;  /* exceptions caught at a C library's callback
                                (the affected connection or Redis link is
                                closed, the engine keeps running) */
  uint64_t queued_bytes;     /* bytes waiting in send queues now (sampled
                                every second) */
  uint64_t backplane_fenced; /* times this node found the cluster had
                                declared it dead and registered again */
  /* History (appended, issue 12; all 0 while history is off). */
  uint64_t history_appends;           /* messages stored and published */
  uint64_t history_append_failures;   /* appends refused (sender got unavailable) */
  uint64_t history_reads;             /* history reads answered */
  uint64_t history_read_failures;     /* history reads that failed */
  uint64_t history_gap_fills;         /* live holes read back from the history */
  uint64_t history_gaps;              /* gap notices (error gap) events */
  uint64_t history_recoveries;        /* recoveries answered recovered:true */
  uint64_t history_recovery_failures; /* recoveries answered recovered:false */
  uint64_t history_streams;           /* streams kept in process (gauge) */
  uint64_t history_stored_bytes;      /* frame bytes kept in process (gauge) */
  uint64_t history_evicted_streams;   /* streams dropped for the memory budget */
} rtc_stats;

/* Copies a snapshot of the counters into *stats. Set stats->struct_size
 * first (rtc_stats_init or sizeof); only that many bytes are written.
 * Counters are read without locks and may be mutually a little stale.
 * Any thread. */
RTC_API void rtc_stats_init(rtc_stats* stats);
RTC_API int rtc_engine_stats(const rtc_engine* engine, rtc_stats* stats);

/* The counters' table: the i-th uint64_t field of rtc_stats (after
 * struct_size, in order) is named *name (as in this header), is a "gauge"
 * or a "counter" (*kind), and *help describes it in one line. Lets bindings
 * and tools list every counter without a copy of this header. Static
 * strings; any of the out pointers may be NULL. Returns RTC_EINVAL when
 * index >= rtc_stats_count(). Any thread. */
RTC_API size_t rtc_stats_count(void);
RTC_API int rtc_stats_field(size_t index, const char** name, const char** kind, const char** help);

/* ------------------------------------------------------------------ */
/* Settings table                                                     */
/* ------------------------------------------------------------------ */

/* What a setting holds, and in which unit (rtc_option_info). */
typedef enum rtc_option_type {
  RTC_OPTION_STRING = 0, /* const char *, NUL-terminated, NULL = default */
  RTC_OPTION_UINT = 1,   /* uint32_t or uint64_t (see size) */
  RTC_OPTION_BOOL = 2,   /* uint32_t, 0 or 1 */
  RTC_OPTION_ENUM = 3    /* uint32_t; help starts with "a|b|c: ", by value */
} rtc_option_type;
typedef enum rtc_option_unit {
  RTC_UNIT_NONE = 0,
  RTC_UNIT_BYTES = 1,  /* a size in bytes (flags take K/M/G suffixes) */
  RTC_UNIT_MS = 2,     /* milliseconds, flag in milliseconds too */
  RTC_UNIT_SECONDS = 3 /* milliseconds in the field, seconds on the flag */
} rtc_option_unit;

/* One row of the library's settings table: a field of rtc_config that
 * users set, with the flag and environment variable rtcore-server reads it
 * from. Every row's default is rtc_config_init's value. */
typedef struct rtc_option_info {
  const char* name;           /* the rtc_config field, e.g. "max_message_size" */
  const char* flag;           /* rtcore-server's flag, e.g. "--max-message-size" */
  const char* env;            /* its environment variable */
  const char* help;           /* one line */
  uint32_t type;              /* rtc_option_type */
  uint32_t unit;              /* rtc_option_unit */
  size_t offset;              /* offsetof(rtc_config, name) */
  size_t size;                /* sizeof the field */
  uint64_t min, max;          /* bounds of the value (UINT, BOOL, ENUM) */
  uint64_t default_value;     /* UINT, BOOL, ENUM */
  const char* default_string; /* STRING (NULL: the engine picks) */
} rtc_option_info;

/* The settings table, so that hosts, bindings and tools list, document and
 * parse every setting without a copy of this header: rows 0 to
 * rtc_config_option_count() - 1; rtc_config_option() returns NULL past the
 * end. Static storage, never freed. Fields without a row (struct_size, the
 * JWT secret, the rate limit pair) are set directly. Any thread. */
RTC_API size_t rtc_config_option_count(void);
RTC_API const rtc_option_info* rtc_config_option(size_t index);

/* Receives text: borrowed for the duration of the call only (not
 * NUL-terminated; len bytes). */
typedef void (*rtc_text_cb)(const char* text, size_t len, void* userdata);

/* Renders every counter, gauge, labelled family and histogram in the
 * Prometheus text exposition format (version 0.0.4; what GET /metrics
 * serves) and calls cb once with it, on the calling thread, before
 * returning. A host can serve it on its own /metrics. Returns RTC_EINVAL
 * for a NULL engine or cb. Any thread. */
RTC_API int rtc_engine_metrics(const rtc_engine* engine, rtc_text_cb cb, void* userdata);

/* ------------------------------------------------------------------ */
/* Room presence queries (any thread, asynchronous; appended, issue 11) */
/* ------------------------------------------------------------------ */
/* Cluster-wide answers, like the clients' presence and online queries
 * (docs/protocol.md section 9): with a Redis backplane they come from Redis,
 * with the in-process one from this node.
 *
 * Both return RTC_OK once the query is queued (the callback then runs
 * exactly once), RTC_EINVAL for a bad argument, RTC_ESTATE when the engine
 * is not running (the callback is then never called).
 *
 * The callback runs on the engine thread and must not block. status is
 * RTC_OK with the answer, RTC_EUNAVAILABLE when the backplane could not
 * answer (Redis unreachable, a malformed reply, or the engine stopping
 * while Redis had not answered yet), or RTC_ESTATE when the engine stopped
 * before the query ran (the callback may then run on the thread that stops
 * or destroys the engine). Every array and string it gets is borrowed for the call
 * only; on an error the arrays are empty (count 0). */

/* The distinct users with at least one connection in room, on any node:
 * users[i] (users_len[i] bytes, not NUL-terminated), count of them,
 * truncated = 1 when the room had more than the limit (which ones are then
 * listed is unspecified). limit 0 means the engine's presence_limit. */
typedef void (*rtc_room_members_cb)(void* userdata, int32_t status, const char* const* users,
                                    const size_t* users_len, size_t count, int32_t truncated);
RTC_API int rtc_room_members(rtc_engine* engine, const char* room, size_t room_len, uint32_t limit,
                             rtc_room_members_cb callback, void* userdata);

/* Whether each user is online (has a connection on any node): online[i]
 * (1 or 0) answers users[i], in the order given (duplicates answered
 * each time); count is the caller's count. 1..1000 valid user ids
 * (RTC_EINVAL otherwise); the engine copies them before returning. */
typedef void (*rtc_users_online_cb)(void* userdata, int32_t status, const char* const* users,
                                    const size_t* users_len, const int32_t* online, size_t count);
RTC_API int rtc_users_online(rtc_engine* engine, const char* const* users, const size_t* users_len,
                             size_t count, rtc_users_online_cb callback, void* userdata);

/* ------------------------------------------------------------------ */
/* History (any thread, asynchronous; appended, issue 12)              */
/* ------------------------------------------------------------------ */
/* The newest `limit` stored messages of room with offset < before (0: no
 * bound), oldest first, like the clients' history request
 * (docs/protocol.md section 8): from Redis with a Redis backplane, from
 * this process otherwise. limit 0 means 50; at most 1000 and at most
 * history_size are returned.
 *
 * Returns RTC_OK once the read is queued (the callback then runs exactly
 * once), RTC_EINVAL for a bad argument (room, callback, before > 2^53),
 * RTC_ENOTSUP when the engine runs without history (history_size 0),
 * RTC_ESTATE when the engine is not running (the callback is then never
 * called).
 *
 * The callback runs on the engine thread and must not block. status is
 * RTC_OK with the answer, RTC_EUNAVAILABLE when the history could not be
 * read (Redis unreachable, a malformed reply, the engine stopping), or
 * RTC_ESTATE when the engine stopped before the read ran. epoch
 * (epoch_len bytes) is the room's epoch and top its current offset;
 * frames[i] (frames_len[i] bytes, not NUL-terminated) is the JSON text of
 * the stored `message` frame with offset offsets[i]. Everything is
 * borrowed for the call only; on an error the arrays are empty (count 0)
 * and epoch is NULL. */
typedef void (*rtc_history_cb)(void* userdata, int32_t status, const char* epoch, size_t epoch_len,
                               uint64_t top, const uint64_t* offsets, const char* const* frames,
                               const size_t* frames_len, size_t count);
RTC_API int rtc_history_read(rtc_engine* engine, const char* room, size_t room_len, uint32_t limit,
                             uint64_t before, rtc_history_cb callback, void* userdata);

/* ------------------------------------------------------------------ */
/* Adopting a socket (any thread; appended, issue 13)                  */
/* ------------------------------------------------------------------ */
/* Hands a TCP connection that the host accepted itself (its own HTTP
 * server, on its own port) to the engine, as if the engine's listener had
 * accepted it: the engine answers the WebSocket upgrade, and the same
 * upgrade rules (path /ws/{user_id} or /ws, allowed_origins, auth_mode,
 * connection limits), the on_connect handler, keepalive and counters apply
 * as to any connection. See docs/one-port.md.
 *
 * fd: a connected, stream socket; blocking or not (the engine makes it
 * non-blocking). head, head_len: every byte the host has already read
 * from the socket, which is the whole HTTP upgrade request as received
 * (request line and headers up to and including the blank line) and
 * anything the client sent after it; at most 65536 bytes. The engine
 * copies head before returning. head_len 0 (head may then be NULL) when
 * nothing was read: the engine then reads the request itself.
 *
 * The engine needs its listener to have started (rtc_engine_start); a
 * host that only adopts can listen on 127.0.0.1 with port 0 (the
 * defaults): nothing else needs to reach that port.
 *
 * Ownership: on RTC_OK the engine owns fd: the caller must not read,
 * write or close it any more. (A host that passed a dup(2) of its own
 * descriptor may close its own one without a word: only shutdown(2) on it
 * would reach the connection.) The engine closes fd when the connection
 * ends, when the upgrade is refused (after the HTTP error response), or
 * when the engine stops before it took the socket. On any other result
 * the caller keeps fd, untouched.
 *
 * Returns RTC_OK once queued, RTC_EINVAL for fd not a socket or a bad
 * head (NULL with head_len > 0, or too long), RTC_ENOTSUP when the engine
 * serves TLS (tls_cert_file: an adopted socket is plain TCP), RTC_ESTATE
 * when the engine is not running. Any thread, including handlers. */
RTC_API int rtc_engine_adopt_socket(rtc_engine* engine, int fd, const char* head, size_t head_len);

/* ------------------------------------------------------------------ */
/* Event queue (appended, issue 13)                                    */
/* ------------------------------------------------------------------ */
/* An engine created with rtc_engine_create_queued() calls no handler on
 * its thread: it copies every event into a queue and makes a file
 * descriptor readable, so any host loop (asyncio's add_reader, a libuv
 * uv_poll_t, poll()) wakes on its own thread and takes the queued events in
 * one batch with rtc_events_take(). This is how the Python and Node
 * bindings are built (docs/hosts.md).
 *
 * Which events are queued is chosen at creation (rtc_events_config.events):
 *   RTC_EVENTS_CONNECT: every valid upgrade is deferred (as with
 *     decision->defer in on_connect) and queued as RTC_EVENT_CONNECT; the
 *     host decides with rtc_connect_resolve(request_id). Without it the
 *     engine accepts every valid upgrade itself.
 *   RTC_EVENTS_AUTHORIZE: every join_room, room_message, direct_message,
 *     presence and online query is deferred (RTC_AUTHZ_DEFER) and queued as
 *     RTC_EVENT_AUTHORIZE; the host answers with rtc_authorize_resolve().
 *     Without it everything is allowed.
 *   RTC_EVENTS_MESSAGE: client messages of types that are not built in are
 *     queued as RTC_EVENT_MESSAGE (with the request's id), unless
 *     rtc_events_set_message_types() excludes their type; without it, or
 *     for an excluded type, the engine answers error unknown_type (with the
 *     id) itself.
 *   RTC_EVENTS_OPEN, RTC_EVENTS_DISCONNECT, RTC_EVENTS_PRESENCE: the
 *     corresponding events; RTC_EVENTS_LOG: the engine's log lines (as
 *     on_log would get them); a line not queued goes to stderr as
 *     "rtcore: MESSAGE".
 * The answers of rtc_room_members_queued, rtc_users_online_queued and
 * rtc_history_read_queued are always queued.
 *
 * Overload: client messages waiting in the queue hold at most
 * max_message_bytes (bytes of their JSON); while that much is waiting, a
 * further one is not queued but answered {"type":"error","code":
 * "overloaded",...} with its id. Other events are never dropped (except,
 * like everything, when memory runs out).
 *
 * Events of one engine are queued in the order they happened. */

/* rtc_events_config.events bits. */
#define RTC_EVENTS_CONNECT (1u << 0)
#define RTC_EVENTS_OPEN (1u << 1)
#define RTC_EVENTS_DISCONNECT (1u << 2)
#define RTC_EVENTS_MESSAGE (1u << 3)
#define RTC_EVENTS_PRESENCE (1u << 4)
#define RTC_EVENTS_AUTHORIZE (1u << 5)
#define RTC_EVENTS_LOG (1u << 6)

typedef struct rtc_events_config {
  /* sizeof(rtc_events_config); set by rtc_events_config_init(). */
  uint32_t struct_size;
  /* RTC_EVENTS_* bits: what is queued. Default 0. */
  uint32_t events;
  /* The overload bound: bytes of client messages waiting in the queue.
   * 0 means the default, 64 MiB. */
  uint64_t max_message_bytes;
} rtc_events_config;

/* Fills *config with the defaults and sets struct_size. Any thread. */
RTC_API void rtc_events_config_init(rtc_events_config* config);

/* Creates an engine in queued mode (not yet listening): like
 * rtc_engine_create, with the events of *events queued instead of handlers
 * (events may be NULL: nothing but query answers is queued). On success
 * *out owns the engine (rtc_engine_destroy frees it, the queue included).
 * Returns RTC_EINVAL for a bad setting, RTC_ENOMEM when no file descriptor
 * can be made, RTC_ENOTSUP for a backplane this build lacks. Any thread. */
RTC_API int rtc_engine_create_queued(const rtc_config* config, const rtc_events_config* events,
                                     rtc_engine** out);

/* The queue's file descriptor: readable while events are waiting (an
 * eventfd; never read or write it yourself, rtc_events_take clears it).
 * Owned by the engine, valid until rtc_engine_destroy. -1 for an engine
 * not created with rtc_engine_create_queued. Any thread. */
RTC_API int rtc_events_fd(const rtc_engine* engine);

/* Narrows, at any time, which of RTC_EVENTS_OPEN, RTC_EVENTS_DISCONNECT,
 * RTC_EVENTS_PRESENCE and RTC_EVENTS_LOG are queued, among those chosen at
 * creation (other bits are ignored: deferrals cannot be turned off while
 * running). A host with no listener for an event saves waking for it.
 * Returns RTC_EINVAL for an engine not in queued mode. Any thread. */
RTC_API int rtc_events_select(rtc_engine* engine, uint32_t events);

/* Restricts RTC_EVENT_MESSAGE to the given types (types[i], lens[i]
 * bytes; copied), or, with all = 1, lets every type through (the default;
 * types is then ignored). Messages of other types are answered error
 * unknown_type, with their id, by the engine without being queued.
 * Returns RTC_EINVAL for an engine not in queued mode. Any thread. */
RTC_API int rtc_events_set_message_types(rtc_engine* engine, const char* const* types, const size_t* lens,
                                         size_t count, int32_t all);

/* Kinds of rtc_event. Hosts must skip kinds they do not know (more may be
 * appended). */
#define RTC_EVENT_CONNECT 1      /* an upgrade waits for rtc_connect_resolve */
#define RTC_EVENT_OPEN 2         /* as on_open */
#define RTC_EVENT_DISCONNECT 3   /* as on_disconnect */
#define RTC_EVENT_MESSAGE 4      /* as on_message_with_id */
#define RTC_EVENT_PRESENCE 5     /* as on_presence */
#define RTC_EVENT_AUTHORIZE 6    /* an action waits for rtc_authorize_resolve */
#define RTC_EVENT_LOG 7          /* as on_log */
#define RTC_EVENT_ROOM_MEMBERS 8 /* the answer of rtc_room_members_queued */
#define RTC_EVENT_USERS_ONLINE 9 /* the answer of rtc_users_online_queued */
#define RTC_EVENT_HISTORY 10     /* the answer of rtc_history_read_queued */

/* A string of an event: len bytes at data, not NUL-terminated; data may be
 * NULL when len is 0. */
typedef struct rtc_text {
  const char* data;
  size_t len;
} rtc_text;

/* One queued event, owned by its batch. Fields a kind does not use are 0
 * or empty. Only ever appended to: check struct_size before reading a
 * field added after the version you compiled against. */
typedef struct rtc_event {
  uint32_t struct_size;
  int32_t kind; /* RTC_EVENT_* */
  /* OPEN, DISCONNECT, MESSAGE, AUTHORIZE: the connection. */
  rtc_conn_id conn;
  /* CONNECT: for rtc_connect_resolve; AUTHORIZE: for
   * rtc_authorize_resolve. */
  uint64_t request_id;
  /* ROOM_MEMBERS, USERS_ONLINE, HISTORY: the token given to the query. */
  uint64_t token;
  /* ROOM_MEMBERS, USERS_ONLINE, HISTORY: RTC_OK or an RTC_E* code, as the
   * callbacks get it (on an error the lists are empty). */
  int32_t status;
  /* DISCONNECT: the close code; PRESENCE: RTC_PRESENCE_*; AUTHORIZE:
   * RTC_ACTION_*; LOG: RTC_LOG_*; ROOM_MEMBERS: truncated (0 or 1). */
  int32_t code;
  /* CONNECT (the path's), OPEN, DISCONNECT, MESSAGE, PRESENCE, AUTHORIZE:
   * the user id. */
  rtc_text user_id;
  /* CONNECT: the path; MESSAGE: the type; PRESENCE: the timestamp;
   * AUTHORIZE: the target; LOG: the event name; HISTORY: the epoch. */
  rtc_text a;
  /* CONNECT: the query (as on_connect gets it); MESSAGE: the whole frame
   * (one JSON object); LOG: the message. */
  rtc_text b;
  /* MESSAGE: the request id's JSON text as the client wrote it (len 0 when
   * none); LOG: the fields as one JSON object. */
  rtc_text c;
  /* CONNECT: the headers (as on_connect gets them). */
  const rtc_header* headers;
  size_t header_count;
  /* ROOM_MEMBERS, USERS_ONLINE: the users; HISTORY: the stored frames,
   * oldest first. item_count of them. */
  const rtc_text* items;
  size_t item_count;
  /* USERS_ONLINE: online[i] (1 or 0) answers items[i]. */
  const int32_t* online;
  /* HISTORY: offsets[i] is the offset of items[i]; top the room's current
   * offset. */
  const uint64_t* offsets;
  uint64_t top;
} rtc_event;

/* A batch of events taken from the queue, owned by the caller. */
typedef struct rtc_event_batch rtc_event_batch;

/* Takes every event queued so far and clears the file descriptor's
 * readiness. *out receives a batch the caller owns (free it with
 * rtc_event_batch_free; its events and every pointer in them stay valid
 * until then, on any thread), or NULL when nothing was waiting. The bytes
 * its client messages held no longer count against max_message_bytes.
 * Returns RTC_EINVAL for an engine not in queued mode, RTC_ENOMEM (nothing
 * is taken) when the batch cannot be allocated. Any thread, but one taker
 * at a time per engine. Events queued while the engine stops (the
 * disconnects of rtc_engine_stop) remain takeable until
 * rtc_engine_destroy. */
RTC_API int rtc_events_take(rtc_engine* engine, rtc_event_batch** out);

/* The number of events in batch (0 for NULL), and the index-th of them
 * (NULL past the end), in the order they happened. Any thread. */
RTC_API size_t rtc_event_batch_count(const rtc_event_batch* batch);
RTC_API const rtc_event* rtc_event_batch_get(const rtc_event_batch* batch, size_t index);

/* Frees a batch and everything its events point to. NULL is a no-op. Any
 * thread. */
RTC_API void rtc_event_batch_free(rtc_event_batch* batch);

/* rtc_room_members, rtc_users_online and rtc_history_read for an engine in
 * queued mode: the same checks, return codes and answers, queued as an
 * RTC_EVENT_ROOM_MEMBERS / RTC_EVENT_USERS_ONLINE / RTC_EVENT_HISTORY event
 * carrying token (exactly one per call that returned RTC_OK) instead of a
 * callback. RTC_EINVAL also for an engine not in queued mode. Any thread. */
RTC_API int rtc_room_members_queued(rtc_engine* engine, const char* room, size_t room_len, uint32_t limit,
                                    uint64_t token);
RTC_API int rtc_users_online_queued(rtc_engine* engine, const char* const* users, const size_t* users_len,
                                    size_t count, uint64_t token);
RTC_API int rtc_history_read_queued(rtc_engine* engine, const char* room, size_t room_len, uint32_t limit,
                                    uint64_t before, uint64_t token);

#ifdef __cplusplus
}
#endif

#endif /* RTCORE_H */
