// Field rules of docs/protocol.md sections 1-2: user ids and room names.
#pragma once

#include <cstddef>
#include <string_view>

namespace rtcore::protocol {

inline constexpr size_t kMaxIdBytes = 128;

// True if s is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool is_valid_utf8(std::string_view s);

// True if s contains a C0 control (U+0000..U+001F), DEL (U+007F) or a C1
// control (U+0080..U+009F). s must be valid UTF-8.
bool has_control_chars(std::string_view s);

// Room: 1..128 bytes of valid UTF-8, no control characters.
bool is_valid_room(std::string_view room);

// User id: as a room, and no '/'.
bool is_valid_user_id(std::string_view user_id);

}  // namespace rtcore::protocol
