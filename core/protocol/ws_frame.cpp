#include "protocol/ws_frame.hpp"

namespace rtcore::protocol {

size_t write_text_frame_header(uint8_t* out, uint64_t payload_size) {
  out[0] = 0x81;  // FIN + text
  if (payload_size < 126) {
    out[1] = static_cast<uint8_t>(payload_size);
    return 2;
  }
  if (payload_size <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<uint8_t>(payload_size >> 8);
    out[3] = static_cast<uint8_t>(payload_size);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<uint8_t>(payload_size >> (56 - 8 * i));
  return 10;
}

}  // namespace rtcore::protocol
