// Parsing of client-to-server messages (docs/protocol.md section 2). Pure: no
// I/O, no allocation beyond the result, safe on any bytes (fuzzed).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "protocol/error_code.hpp"

namespace rtcore::protocol {

enum class MessageType { kJoinRoom, kLeaveRoom, kRoomMessage, kDirectMessage, kCustom };

// Deepest nesting of arrays/objects accepted in one message. Bounding it
// keeps parsing, relaying and every client's parser safe from depth bombs.
inline constexpr int kMaxNestingDepth = 64;

struct ClientMessage {
  MessageType type = MessageType::kCustom;
  std::string type_name;  // as sent; the host's key for custom types
  std::string room;       // join_room, leave_room, room_message
  std::string to;         // direct_message
  // The content value exactly as the client wrote it (valid JSON), a view
  // into the parsed frame. Relaying it verbatim keeps big numbers exact and
  // costs no re-encoding.
  std::string_view content_json;
  // The request id as JSON (a quoted string or an integer), empty if none.
  std::string id_json;
};

struct ParseResult {
  bool ok = false;
  ClientMessage message;    // valid when ok
  ErrorCode error = ErrorCode::kBadJson;  // when !ok
  std::string error_message;              // when !ok
  // Set when !ok, if the request carried a usable id: the error echoes it.
  std::string id_json;
};

// Parses and validates one text frame. The result's content_json points into
// frame, which must outlive it.
ParseResult parse_client_message(std::string_view frame);

}  // namespace rtcore::protocol
