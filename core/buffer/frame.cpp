#include "buffer/frame.hpp"

#include "protocol/ws_frame.hpp"

namespace rtcore {

Frame* Frame::make_text(std::string_view payload) {
  uint8_t header[protocol::kMaxFrameHeader];
  size_t header_size = protocol::write_text_frame_header(header, payload.size());
  size_t total = header_size + payload.size();
  void* mem = ::operator new(offsetof(Frame, bytes_) + total);
  Frame* f = new (mem) Frame();
  f->header_size_ = static_cast<uint32_t>(header_size);
  f->size_ = total;
  std::memcpy(f->bytes_, header, header_size);
  if (!payload.empty()) std::memcpy(f->bytes_ + header_size, payload.data(), payload.size());
  return f;
}

}  // namespace rtcore
