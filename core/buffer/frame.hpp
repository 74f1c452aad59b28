// A ready-to-send WebSocket frame (header + payload), shared by every
// recipient of a broadcast: encoded once, written many times.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string_view>
#include <utility>

namespace rtcore {

// Immutable bytes with an intrusive, non-atomic reference count. Frames live
// on the engine thread only, so the count needs no atomics.
class Frame {
 public:
  // A text frame (opcode 0x1, FIN) carrying payload, unmasked (server side).
  static Frame* make_text(std::string_view payload);
  // A text frame with room for payload_size bytes of payload, which the
  // caller writes through payload_data() before the frame is shared: one
  // allocation for a frame encoded in place.
  static Frame* make_text_for(size_t payload_size);
  char* payload_data() { return reinterpret_cast<char*>(bytes_) + header_size_; }

  const uint8_t* data() const { return bytes_; }
  size_t size() const { return size_; }
  // The payload without the WebSocket header (for the backplane).
  std::string_view payload() const {
    return {reinterpret_cast<const char*>(bytes_) + header_size_, size_ - header_size_};
  }

  void retain() { ++refs_; }
  void release() {
    if (--refs_ == 0) {
      this->~Frame();
      ::operator delete(this);
    }
  }

 private:
  Frame() = default;
  uint32_t refs_ = 1;
  uint32_t header_size_ = 0;
  size_t size_ = 0;
  uint8_t bytes_[1];
};

// Owning handle to a Frame.
class FramePtr {
 public:
  FramePtr() = default;
  // Adopts a frame fresh from Frame::make_text (count already 1).
  explicit FramePtr(Frame* adopted) : f_(adopted) {}
  FramePtr(const FramePtr& o) : f_(o.f_) {
    if (f_) f_->retain();
  }
  FramePtr(FramePtr&& o) noexcept : f_(std::exchange(o.f_, nullptr)) {}
  FramePtr& operator=(FramePtr o) noexcept {
    std::swap(f_, o.f_);
    return *this;
  }
  ~FramePtr() {
    if (f_) f_->release();
  }
  const Frame* operator->() const { return f_; }
  const Frame& operator*() const { return *f_; }
  explicit operator bool() const { return f_ != nullptr; }

 private:
  Frame* f_ = nullptr;
};

inline FramePtr make_text_frame(std::string_view payload) {
  return FramePtr(Frame::make_text(payload));
}

}  // namespace rtcore
