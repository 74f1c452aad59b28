// Parsing of client-to-server messages (docs/protocol.md section 2). Pure: no
// I/O, no allocation beyond the result, safe on any bytes (fuzzed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/error_code.hpp"

namespace rtcore::protocol {

enum class MessageType {
  kJoinRoom,
  kLeaveRoom,
  kRoomMessage,
  kDirectMessage,
  kPresence,
  kOnline,
  kHistory,       // docs/protocol.md section 8; custom when history is off
  kResumeDirect,  // likewise
  kCustom
};

// Deepest nesting of arrays/objects accepted in one message. Bounding it
// keeps parsing, relaying and every client's parser safe from depth bombs.
inline constexpr int kMaxNestingDepth = 64;
// Most user ids one `online` query may ask about (docs/protocol.md section 9).
inline constexpr size_t kMaxOnlineQueryUsers = 100;
// Largest offset a client may name (`since`, `before`): 2^53, the largest
// integer every JSON client represents exactly.
inline constexpr uint64_t kMaxOffset = uint64_t{1} << 53;
// Longest epoch a client may name in `since` (ours are shorter; an unknown
// epoch of valid shape is answered recovered:false, not an error).
inline constexpr size_t kMaxEpochSize = 64;

struct ClientMessage {
  MessageType type = MessageType::kCustom;
  std::string type_name;  // as sent; the host's key for custom types
  std::string room;       // join_room, leave_room, room_message, presence
  std::string to;         // direct_message
  // The content value exactly as the client wrote it (valid JSON), a view
  // into the parsed frame. Relaying it verbatim keeps big numbers exact and
  // costs no re-encoding.
  std::string_view content_json;
  // online: the distinct user ids asked about, in the order first given
  // (1..kMaxOnlineQueryUsers, each a valid user id).
  std::vector<std::string> users;
  // join_room: "presence": true subscribes to the room's user_joined /
  // user_left events, false ends that; absent leaves it as it was.
  enum class PresenceFlag { kAbsent, kOn, kOff };
  PresenceFlag presence = PresenceFlag::kAbsent;
  // join_room, resume_direct: "since": {"epoch": E, "offset": N}.
  bool has_since = false;
  std::string since_epoch;
  uint64_t since_offset = 0;
  // history: "limit" (0: absent) and "before" (0: absent).
  uint64_t limit = 0;
  uint64_t before = 0;
  // The request id as JSON (a quoted string or an integer), empty if none.
  std::string id_json;
};

struct ParseResult {
  bool ok = false;
  ClientMessage message;                  // valid when ok
  ErrorCode error = ErrorCode::kBadJson;  // when !ok
  std::string error_message;              // when !ok
  // Set when !ok, if the request carried a usable id: the error echoes it.
  std::string id_json;
};

// Parses and validates one text frame. The result's content_json points into
// frame, which must outlive it.
ParseResult parse_client_message(std::string_view frame);

// The same with RapidJSON alone, without the fast path for common frames
// (json_check.hpp, json_scan): the reference the fuzzer compares against.
ParseResult parse_client_message_full(std::string_view frame);

}  // namespace rtcore::protocol
