// Client-to-server WebSocket frames (RFC 6455 section 5), decoded as the
// bytes arrive, in place: payload bytes are unmasked where they lie and
// handed on in chunks, so a message never needs a buffer of its own here
// (the engine reassembles what spans reads). Pure (no I/O): unit-tested and
// fuzzed on its own. No extensions are negotiated, so any reserved bit is
// an error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace rtcore::transport {

inline constexpr uint8_t kOpContinuation = 0x0, kOpText = 0x1, kOpBinary = 0x2, kOpClose = 0x8, kOpPing = 0x9,
                         kOpPong = 0xA;

class FrameReader {
 public:
  // Feeds len bytes (modified in place: unmasked). Events go to sink:
  //   bool sink.data(char* p, size_t n, bool first, bool final, bool binary, size_t remaining)
  //     a chunk of a text or binary message; first/final mark the message's
  //     ends, remaining is what is left of the current frame's payload
  //   bool sink.control(uint8_t opcode, char* p, size_t n)
  //     a whole close, ping or pong frame (payload at most 125 bytes)
  // A sink returning false stops the feed after that event. Returns the
  // bytes consumed: all of them unless the sink stopped it or the input
  // broke the protocol (failed() then says why; feed nothing more).
  template <class Sink>
  size_t feed(char* data, size_t len, Sink& sink);

  const char* failed() const { return failure_; }
  // Inside a text or binary message (between its first and final frame).
  bool in_message() const { return in_message_; }

 private:
  size_t header_size() const {
    size_t n = 2;
    if (have_ >= 2) {
      uint8_t len7 = hdr_[1] & 0x7F;
      n += len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
      n += (hdr_[1] & 0x80) ? 4 : 0;
    }
    return n;
  }
  // The header is complete: checks it and sets up the payload.
  bool start_frame();
  void unmask(char* p, size_t n) {
    // Byte by byte up to a word boundary of the mask, then 8 at a time.
    size_t i = 0;
    for (; i < n && (mask_pos_ & 3) != 0; ++i) p[i] = static_cast<char>(p[i] ^ mask_[mask_pos_++ & 3]);
    mask_pos_ &= 3;
    if (n - i >= 8) {
      uint64_t m;
      uint8_t m8[8] = {mask_[0], mask_[1], mask_[2], mask_[3], mask_[0], mask_[1], mask_[2], mask_[3]};
      std::memcpy(&m, m8, 8);
      for (; n - i >= 8; i += 8) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        w ^= m;
        std::memcpy(p + i, &w, 8);
      }
    }
    for (; i < n; ++i) p[i] = static_cast<char>(p[i] ^ mask_[mask_pos_++ & 3]);
    mask_pos_ &= 3;
  }

  uint64_t remaining_ = 0;               // payload bytes left of the current frame
  std::unique_ptr<char[]> control_buf_;  // a control frame split across reads (125 bytes)
  const char* failure_ = nullptr;
  uint8_t hdr_[14] = {};
  uint8_t have_ = 0;  // header bytes collected; 0xFF while in a payload
  uint8_t opcode_ = 0;
  uint8_t mask_[4] = {};
  uint8_t mask_pos_ = 0;
  uint8_t control_len_ = 0;
  bool fin_ = false;
  bool in_message_ = false;
  bool binary_ = false;
  bool first_ = false;  // the next data chunk is the message's first
};

inline bool FrameReader::start_frame() {
  const uint8_t b0 = hdr_[0], b1 = hdr_[1];
  if (b0 & 0x70) return (failure_ = "reserved bits set (no extension was negotiated)"), false;
  if (!(b1 & 0x80)) return (failure_ = "unmasked client frame"), false;
  opcode_ = b0 & 0x0F;
  fin_ = (b0 & 0x80) != 0;
  uint64_t len = b1 & 0x7F;
  size_t at = 2;
  if (len == 126) {
    len = (uint64_t{hdr_[2]} << 8) | hdr_[3];
    at = 4;
  } else if (len == 127) {
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | hdr_[2 + i];
    at = 10;
    if (len >> 63) return (failure_ = "frame length above 2^63"), false;
  }
  std::memcpy(mask_, hdr_ + at, 4);
  mask_pos_ = 0;
  if (opcode_ & 0x8) {
    if (opcode_ != kOpClose && opcode_ != kOpPing && opcode_ != kOpPong)
      return (failure_ = "unknown control opcode"), false;
    if (!fin_) return (failure_ = "fragmented control frame"), false;
    if (len > 125) return (failure_ = "control frame longer than 125 bytes"), false;
  } else if (opcode_ == kOpContinuation) {
    if (!in_message_) return (failure_ = "continuation frame outside a message"), false;
  } else if (opcode_ == kOpText || opcode_ == kOpBinary) {
    if (in_message_) return (failure_ = "new message inside a fragmented one"), false;
    in_message_ = true;
    binary_ = opcode_ == kOpBinary;
    first_ = true;
  } else {
    return (failure_ = "unknown data opcode"), false;
  }
  remaining_ = len;
  control_len_ = 0;
  return true;
}

template <class Sink>
size_t FrameReader::feed(char* data, size_t len, Sink& sink) {
  size_t pos = 0;
  while (!failure_) {
    if (have_ != 0xFF) {
      // Collecting a header (at most 14 bytes).
      size_t need = header_size();
      while (have_ < need && pos < len) {
        hdr_[have_++] = static_cast<uint8_t>(data[pos++]);
        need = header_size();
      }
      if (have_ < need) return pos;
      if (!start_frame()) return pos;
      have_ = 0xFF;
      if (remaining_ == 0) {
        // An empty frame is an event of its own (an empty message, a bare
        // ping or close).
        have_ = 0;
        bool go;
        if (opcode_ & 0x8) {
          go = sink.control(opcode_, data + pos, 0);
        } else {
          bool first = first_;
          first_ = false;
          if (fin_) in_message_ = false;
          go = sink.data(data + pos, 0, first, fin_, binary_, 0);
        }
        if (!go) return pos;
        continue;
      }
    }
    if (pos == len) return pos;
    size_t n = remaining_ < len - pos ? static_cast<size_t>(remaining_) : len - pos;
    char* p = data + pos;
    unmask(p, n);
    pos += n;
    remaining_ -= n;
    bool go = true;
    if (opcode_ & 0x8) {
      if (remaining_ == 0 && control_len_ == 0) {
        have_ = 0;
        go = sink.control(opcode_, p, n);
      } else {
        if (!control_buf_) control_buf_ = std::make_unique<char[]>(125);
        std::memcpy(control_buf_.get() + control_len_, p, n);
        control_len_ = static_cast<uint8_t>(control_len_ + n);
        if (remaining_ == 0) {
          have_ = 0;
          uint8_t total = control_len_;
          control_len_ = 0;
          go = sink.control(opcode_, control_buf_.get(), total);
        }
      }
    } else {
      bool first = first_;
      first_ = false;
      bool final = fin_ && remaining_ == 0;
      if (remaining_ == 0) {
        have_ = 0;
        if (fin_) in_message_ = false;
      }
      go = sink.data(p, n, first, final, binary_, static_cast<size_t>(remaining_));
    }
    if (!go) return pos;
  }
  return pos;
}

}  // namespace rtcore::transport
