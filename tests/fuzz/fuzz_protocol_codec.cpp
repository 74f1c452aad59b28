// libFuzzer target: the client-message codec (docs/protocol.md sections 2-3).
//
// Every input is treated as a client text frame and also as a bare JSON
// value, and checked against these properties:
//  - parse_client_message never crashes, never reads out of bounds, and
//    stays fast however deep or long the input (bounded nesting; the -timeout
//    of scripts/fuzz.sh turns a slowdown into a failure);
//  - it agrees with is_valid_json_value: a frame that is valid JSON with an
//    object root never gets bad_json, anything else always does;
//  - a parsed message's fields obey the field rules, its content is valid
//    JSON lying inside the frame, and every frame the encoders build from it
//    (message, direct_message, ack, error) is valid JSON again;
//  - round trips: a message re-encoded from the parsed fields parses back to
//    the same fields; any valid room string survives append_json_string and
//    a parse; any valid id or JSON value can be spliced into a frame.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "protocol/client_message.hpp"
#include "protocol/error_code.hpp"
#include "protocol/json_check.hpp"
#include "protocol/server_message.hpp"
#include "protocol/timestamp.hpp"
#include "protocol/validate.hpp"

using namespace rtcore::protocol;
using rtcore::fuzz::strict;

namespace {

std::string_view trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

bool is_builtin(std::string_view t) {
  return t == "join_room" || t == "leave_room" || t == "room_message" || t == "direct_message";
}

const std::string& timestamp() {
  static const std::string ts = format_timestamp(1764347027123);  // fixed: deterministic runs
  return ts;
}

// Re-encodes a parsed message as a client frame from its fields.
std::string reencode(const ClientMessage& m) {
  std::string f = "{\"type\":";
  append_json_string(f, m.type_name);
  if (!m.room.empty()) {
    f += ",\"room\":";
    append_json_string(f, m.room);
  }
  if (!m.to.empty()) {
    f += ",\"to\":";
    append_json_string(f, m.to);
  }
  if (!m.content_json.empty()) {
    f += ",\"content\":";
    f += m.content_json;
  }
  if (!m.id_json.empty()) {
    f += ",\"id\":";
    f += m.id_json;
  }
  f += '}';
  return f;
}

void check_parsed(std::string_view in, const ParseResult& r) {
  const ClientMessage& m = r.message;
  if (!m.id_json.empty()) {
    FUZZ_CHECK(inside(m.id_json, in) || in.find(m.id_json) != std::string_view::npos);
    FUZZ_CHECK(is_valid_json_id(m.id_json));
    FUZZ_CHECK(is_valid_json_value(encode_ack(m.id_json)));
  }
  switch (m.type) {
    case MessageType::kJoinRoom:
    case MessageType::kLeaveRoom:
      FUZZ_CHECK(m.type_name == (m.type == MessageType::kJoinRoom ? "join_room" : "leave_room"));
      FUZZ_CHECK(is_valid_room(m.room));
      FUZZ_CHECK(m.to.empty() && m.content_json.empty());
      break;
    case MessageType::kRoomMessage:
      FUZZ_CHECK(m.type_name == "room_message");
      FUZZ_CHECK(is_valid_room(m.room));
      FUZZ_CHECK(!m.content_json.empty() && inside(m.content_json, in));
      FUZZ_CHECK(m.content_json == trim(m.content_json));
      FUZZ_CHECK(is_valid_json_value(m.content_json));
      FUZZ_CHECK(is_valid_json_value(encode_room_message(m.room, "user-1", m.content_json, timestamp())));
      break;
    case MessageType::kDirectMessage:
      FUZZ_CHECK(m.type_name == "direct_message");
      FUZZ_CHECK(is_valid_user_id(m.to));
      FUZZ_CHECK(!m.content_json.empty() && inside(m.content_json, in));
      FUZZ_CHECK(m.content_json == trim(m.content_json));
      FUZZ_CHECK(is_valid_json_value(m.content_json));
      FUZZ_CHECK(is_valid_json_value(encode_direct_message("user-1", m.content_json, timestamp())));
      break;
    case MessageType::kCustom:
      FUZZ_CHECK(!is_builtin(m.type_name));
      FUZZ_CHECK(m.room.empty() && m.to.empty() && m.content_json.empty());
      // The type name goes to the host's on_message hook as UTF-8 text.
      if (strict()) FUZZ_CHECK(is_valid_utf8(m.type_name));
      break;
  }
  // Round trip: the fields, written out again, parse back to themselves.
  if (m.type != MessageType::kCustom || is_valid_utf8(m.type_name)) {
    std::string again = reencode(m);
    FUZZ_CHECK(is_valid_json_value(again));
    ParseResult r2 = parse_client_message(again);
    FUZZ_CHECK(r2.ok);
    FUZZ_CHECK(r2.message.type == m.type && r2.message.type_name == m.type_name);
    FUZZ_CHECK(r2.message.room == m.room && r2.message.to == m.to);
    FUZZ_CHECK(r2.message.content_json == m.content_json && r2.message.id_json == m.id_json);
  }
}

void check_failed(std::string_view in, const ParseResult& r, bool object_json) {
  FUZZ_CHECK(!r.error_message.empty());
  // bad_json exactly when the frame is not one JSON object (or too deep).
  FUZZ_CHECK((r.error == ErrorCode::kBadJson) == !object_json);
  if (!r.id_json.empty()) {
    FUZZ_CHECK(r.error != ErrorCode::kBadJson);
    FUZZ_CHECK(in.find(r.id_json) != std::string_view::npos);
    FUZZ_CHECK(is_valid_json_id(r.id_json));
  }
  FUZZ_CHECK(is_valid_json_value(encode_error(error_code_name(r.error), r.error_message, r.id_json)));
}

// A frame built around content a host handed in. is_valid_json_value lets
// the content nest kMaxNestingDepth deep, and the frame object adds a level,
// so the frame itself may be one level over the limit that the engine
// enforces on every frame it reads (reported; see README "Strict checks").
void check_host_content_frame(const std::string& frame) {
  if (is_valid_json_value(frame)) return;
  FUZZ_CHECK(!strict());
  ParseResult p = parse_client_message(frame);
  FUZZ_CHECK(!p.ok && p.error_message == "JSON nested too deeply");
}

// The fast path for common frames (json_scan) agrees with RapidJSON alone:
// the same verdict, the same fields, the same views into the frame.
void check_same_as_full_parser(std::string_view in) {
  ParseResult a = parse_client_message(in);
  ParseResult b = parse_client_message_full(in);
  FUZZ_CHECK(a.ok == b.ok && a.error == b.error && a.error_message == b.error_message &&
             a.id_json == b.id_json);
  const ClientMessage &x = a.message, &y = b.message;
  FUZZ_CHECK(x.type == y.type && x.type_name == y.type_name && x.room == y.room && x.to == y.to);
  FUZZ_CHECK(x.content_json.data() == y.content_json.data() &&
             x.content_json.size() == y.content_json.size());
  FUZZ_CHECK(x.users == y.users && x.presence == y.presence && x.has_since == y.has_since);
  FUZZ_CHECK(x.since_epoch == y.since_epoch && x.since_offset == y.since_offset);
  FUZZ_CHECK(x.limit == y.limit && x.before == y.before && x.id_json == y.id_json);
  for (int depth : {kMaxNestingDepth, kMaxNestingDepth + 2, 1, 0})
    FUZZ_CHECK(is_valid_json_value(in, depth) == is_valid_json_value_full(in, depth));
}

// The in-place encoder writes exactly what encode_direct_message returns.
void check_direct_in_place(std::string_view from, std::string_view content) {
  std::string want = encode_direct_message(from, content, timestamp());
  FUZZ_CHECK(direct_message_size(from, content, timestamp()) == want.size());
  std::string got(want.size(), '\0');
  FUZZ_CHECK(write_direct_message(got.data(), from, content, timestamp()) == got.data() + got.size());
  FUZZ_CHECK(got == want);
  std::string s;
  append_json_string(s, from);
  FUZZ_CHECK(json_string_size(from) == s.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  check_same_as_full_parser(in);
  check_direct_in_place(in, "{}");
  {
    // The common shapes, around the input: a direct message with it as
    // content, and as the value of a member of the content.
    std::string dm = "{\"type\":\"direct_message\",\"to\":\"u\",\"content\":";
    dm.append(in);
    dm += '}';
    check_same_as_full_parser(dm);
    std::string nested = "{\"type\":\"room_message\",\"room\":\"r\",\"content\":{\"a\":[";
    nested.append(in);
    nested += "]}, \"id\":7}";
    check_same_as_full_parser(nested);
  }

  const bool json = is_valid_json_value(in);
  const bool id = is_valid_json_id(in);
  FUZZ_CHECK(!id || json);
  if (json) FUZZ_CHECK(is_valid_utf8(in) && rtcore::fuzz::reference_utf8(in));
  std::string_view t = trim(in);
  const bool object_json = json && !t.empty() && t.front() == '{';

  ParseResult r = parse_client_message(in);
  if (r.ok) {
    FUZZ_CHECK(object_json);
    check_parsed(in, r);
  } else {
    check_failed(in, r, object_json);
  }

  // Any JSON value can be relayed as content (the C API's send functions
  // accept content nested one level less than a frame); any id can be acked.
  if (json) {
    if (is_valid_json_value(in, rtcore::protocol::kMaxNestingDepth - 1)) {
      check_host_content_frame(encode_room_message("room", "user-1", in, timestamp()));
      check_host_content_frame(encode_direct_message("user-1", in, timestamp()));
    }
    std::string frame = "{\"type\":\"room_message\",\"room\":\"r\",\"content\":";
    frame.append(in);
    frame += '}';
    ParseResult rm = parse_client_message(frame);
    // One more level of nesting may push a value at the limit over it.
    if (rm.ok) {
      FUZZ_CHECK(rm.message.content_json == trim(in));
    } else {
      FUZZ_CHECK(rm.error == ErrorCode::kBadJson);
      FUZZ_CHECK(rm.error_message == "JSON nested too deeply");
    }
  }
  if (id) {
    FUZZ_CHECK(is_valid_json_value(encode_ack(in)));
    std::string frame = "{\"type\":\"leave_room\",\"room\":\"r\",\"id\":";
    frame.append(in);
    frame += '}';
    ParseResult rl = parse_client_message(frame);
    FUZZ_CHECK(rl.ok && rl.message.id_json == trim(in));
  }

  // The bytes as a string: escaping keeps them one valid JSON string, and a
  // valid room name survives a trip through a join_room frame.
  const bool utf8 = is_valid_utf8(in);
  FUZZ_CHECK(utf8 == rtcore::fuzz::reference_utf8(in));
  if (utf8) {
    FUZZ_CHECK(has_control_chars(in) == rtcore::fuzz::reference_has_controls(in));
    std::string s;
    append_json_string(s, in);
    FUZZ_CHECK(is_valid_json_value(s) && is_valid_json_id(s));
    FUZZ_CHECK(is_valid_json_value(encode_error("bad_json", in, {})));
    if (is_valid_room(in)) {
      std::string frame = "{\"type\":\"join_room\",\"room\":" + s + "}";
      ParseResult rj = parse_client_message(frame);
      FUZZ_CHECK(rj.ok && rj.message.type == MessageType::kJoinRoom && rj.message.room == in);
    }
  }
  return 0;
}
