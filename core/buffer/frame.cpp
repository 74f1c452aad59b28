#include "buffer/frame.hpp"

#include "protocol/ws_frame.hpp"

namespace rtcore {

Frame* Frame::make_text_for(size_t payload_size) {
  uint8_t header[protocol::kMaxFrameHeader];
  size_t header_size = protocol::write_text_frame_header(header, payload_size);
  size_t total = header_size + payload_size;
  void* mem = ::operator new(offsetof(Frame, bytes_) + total);
  Frame* f = new (mem) Frame();
  f->header_size_ = static_cast<uint32_t>(header_size);
  f->size_ = total;
  std::memcpy(f->bytes_, header, header_size);
  return f;
}

Frame* Frame::make_text(std::string_view payload) {
  Frame* f = make_text_for(payload.size());
  if (!payload.empty()) std::memcpy(f->payload_data(), payload.data(), payload.size());
  return f;
}

}  // namespace rtcore
