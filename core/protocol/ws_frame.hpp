// WebSocket framing for server-to-client frames (RFC 6455 section 5.2).
// Server frames are never masked, so a frame is header + payload verbatim.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rtcore::protocol {

inline constexpr size_t kMaxFrameHeader = 10;

// Writes the header of a final text frame with payload_size bytes into out
// (room for kMaxFrameHeader bytes) and returns its length.
size_t write_text_frame_header(uint8_t* out, uint64_t payload_size);

}  // namespace rtcore::protocol
