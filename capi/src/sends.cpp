// Sending, membership, disconnects and deferred decisions: argument checks
// at the call, then one command queued for the engine thread.
#include <string>

#include "engine/engine_core.hpp"
#include "internal.hpp"
#include "protocol/json_check.hpp"
#include "protocol/server_message.hpp"
#include "protocol/timestamp.hpp"
#include "protocol/validate.hpp"

using rtcore::EngineCore;
using rtcore_capi::guarded;
using rtcore_capi::view;

namespace {

// Encodes a payload for the send functions; empty on invalid input.
std::string encode_payload(int32_t kind, std::string_view payload, bool room, std::string_view room_name,
                           std::string_view from) {
  // Content is wrapped in one more object, so it may nest one level less
  // than a whole frame: the frame then stays within what clients accept.
  int depth =
      kind == RTC_PAYLOAD_RAW ? rtcore::protocol::kMaxNestingDepth : rtcore::protocol::kMaxNestingDepth - 1;
  if (!rtcore::protocol::is_valid_json_value(payload, depth)) return {};
  if (kind == RTC_PAYLOAD_RAW) return std::string(payload);
  std::string ts = rtcore::protocol::now_timestamp();
  return room ? rtcore::protocol::encode_room_message(room_name, from, payload, ts)
              : rtcore::protocol::encode_direct_message(from, payload, ts);
}

bool valid_kind(int32_t kind) {
  return kind == RTC_PAYLOAD_CONTENT || kind == RTC_PAYLOAD_RAW;
}

bool valid_close_code(uint32_t code) {
  return code == 1000 || (code >= 3000 && code <= 4999);
}

// A frame above the per-connection send queue limit could never be queued
// for anyone: the engine would close every recipient as a slow consumer.
// Refused at the call instead (RTC_ETOOBIG), before anything is queued.
bool too_big(const rtc_engine* e, size_t payload_size) {
  size_t header = payload_size < 126 ? 2 : payload_size <= 0xFFFF ? 4 : 10;
  return payload_size + header > e->engine->config().max_send_queue_bytes;
}

int post(rtc_engine* e, std::function<void(EngineCore&)> fn) {
  if (!e) return RTC_EINVAL;
  return e->engine->post(std::move(fn)) ? RTC_OK : RTC_ESTATE;
}

}  // namespace

extern "C" {

int rtc_send_to_user(rtc_engine* engine, const char* user_id, size_t user_id_len, const char* from,
                     size_t from_len, int32_t kind, const char* payload, size_t payload_len) {
  return guarded([&]() -> int {
    std::string user(view(user_id, user_id_len));
    if (!rtcore::protocol::is_valid_user_id(user) || !valid_kind(kind)) return RTC_EINVAL;
    std::string text = encode_payload(kind, view(payload, payload_len), false, {}, view(from, from_len));
    if (text.empty()) return RTC_EINVAL;
    if (!engine) return RTC_EINVAL;
    if (too_big(engine, text.size())) return RTC_ETOOBIG;
    // A `direct_message` gets an offset and is kept when history is on.
    return post(engine, [user = std::move(user), text = std::move(text), kind](EngineCore& core) {
      if (kind == RTC_PAYLOAD_CONTENT)
        core.send_message_to_user(user, text);
      else
        core.send_to_user(user, rtcore::make_text_frame(text));
    });
  });
}

int rtc_send_to_connection(rtc_engine* engine, rtc_conn_id conn, const char* from, size_t from_len,
                           int32_t kind, const char* payload, size_t payload_len) {
  return guarded([&]() -> int {
    if (conn == 0 || !valid_kind(kind)) return RTC_EINVAL;
    std::string text = encode_payload(kind, view(payload, payload_len), false, {}, view(from, from_len));
    if (text.empty()) return RTC_EINVAL;
    if (!engine) return RTC_EINVAL;
    if (too_big(engine, text.size())) return RTC_ETOOBIG;
    return post(engine, [conn, text = std::move(text)](EngineCore& core) {
      core.send_to_connection(conn, rtcore::make_text_frame(text));
    });
  });
}

int rtc_broadcast(rtc_engine* engine, const char* room, size_t room_len, const char* from, size_t from_len,
                  int32_t kind, const char* payload, size_t payload_len) {
  return guarded([&]() -> int {
    std::string r(view(room, room_len));
    if (!rtcore::protocol::is_valid_room(r) || !valid_kind(kind)) return RTC_EINVAL;
    std::string text = encode_payload(kind, view(payload, payload_len), true, r, view(from, from_len));
    if (text.empty()) return RTC_EINVAL;
    if (!engine) return RTC_EINVAL;
    if (too_big(engine, text.size())) return RTC_ETOOBIG;
    return post(engine, [r = std::move(r), text = std::move(text), kind](EngineCore& core) {
      if (kind == RTC_PAYLOAD_CONTENT)
        core.broadcast_message(r, text);
      else
        core.broadcast(r, rtcore::make_text_frame(text));
    });
  });
}

static int membership(rtc_engine* engine, rtc_conn_id conn, const char* room, size_t room_len, bool join) {
  return guarded([&]() -> int {
    std::string r(view(room, room_len));
    if (conn == 0 || !rtcore::protocol::is_valid_room(r)) return RTC_EINVAL;
    return post(engine, [conn, r = std::move(r), join](EngineCore& core) {
      join ? core.join(conn, r) : core.leave(conn, r);
    });
  });
}

int rtc_join(rtc_engine* engine, rtc_conn_id conn, const char* room, size_t room_len) {
  return membership(engine, conn, room, room_len, true);
}

int rtc_leave(rtc_engine* engine, rtc_conn_id conn, const char* room, size_t room_len) {
  return membership(engine, conn, room, room_len, false);
}

int rtc_send_error(rtc_engine* engine, rtc_conn_id conn, const char* code, size_t code_len,
                   const char* message, size_t message_len, const char* id_json, size_t id_json_len) {
  return guarded([&]() -> int {
    std::string_view c = view(code, code_len), m = view(message, message_len),
                     id = view(id_json, id_json_len);
    if (conn == 0 || c.empty() || !rtcore::protocol::is_valid_utf8(c) ||
        !rtcore::protocol::is_valid_utf8(m) || (!id.empty() && !rtcore::protocol::is_valid_json_id(id)))
      return RTC_EINVAL;
    std::string text = rtcore::protocol::encode_error(c, m, id);
    if (!engine) return RTC_EINVAL;
    if (too_big(engine, text.size())) return RTC_ETOOBIG;
    return post(engine, [conn, text = std::move(text)](EngineCore& core) {
      core.send_error_frame(conn, rtcore::make_text_frame(text));
    });
  });
}

int rtc_connect_resolve(rtc_engine* engine, uint64_t request_id, int32_t accept, int32_t http_status,
                        const char* user_id, size_t len) {
  return guarded([&]() -> int {
    std::string user(view(user_id, len));
    if (request_id == 0 || (!user.empty() && !rtcore::protocol::is_valid_user_id(user)) ||
        (user_id && len == 0) || (!accept && http_status != 0 && (http_status < 400 || http_status > 599)))
      return RTC_EINVAL;
    return post(engine, [request_id, accept, http_status, user = std::move(user)](EngineCore& core) mutable {
      core.resolve_connect(request_id, accept != 0, http_status, std::move(user));
    });
  });
}

int rtc_authorize_resolve(rtc_engine* engine, uint64_t request_id, int32_t allow) {
  if (request_id == 0) return RTC_EINVAL;
  return guarded([&]() -> int {
    return post(engine, [request_id, allow](EngineCore& core) {
      core.resolve_authorization(request_id, allow != 0);
    });
  });
}

int rtc_disconnect(rtc_engine* engine, rtc_conn_id conn, uint32_t close_code) {
  if (conn == 0 || !valid_close_code(close_code)) return RTC_EINVAL;
  return guarded([&]() -> int {
    return post(engine, [conn, close_code](EngineCore& core) {
      core.disconnect(conn, static_cast<uint16_t>(close_code));
    });
  });
}

int rtc_disconnect_user(rtc_engine* engine, const char* user_id, size_t user_id_len, uint32_t close_code) {
  return guarded([&]() -> int {
    std::string user(view(user_id, user_id_len));
    if (!rtcore::protocol::is_valid_user_id(user) || !valid_close_code(close_code)) return RTC_EINVAL;
    return post(engine, [user = std::move(user), close_code](EngineCore& core) {
      core.disconnect_user(user, static_cast<uint16_t>(close_code));
    });
  });
}

}  // extern "C"
