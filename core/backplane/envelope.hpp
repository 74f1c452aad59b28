// Node-to-node payloads (docs/protocol.md section 7): MessagePack maps carrying
// the protocol version, the origin node, what the frame is for, and the
// already-encoded client frame. Pure, and safe on any bytes (fuzzed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rtcore {

inline constexpr int kEnvelopeVersion = 1;

enum class EnvelopeKind { kRoom, kUser };

struct Envelope {
  int version = kEnvelopeVersion;
  std::string origin;  // node id of the publisher
  EnvelopeKind kind = EnvelopeKind::kRoom;
  std::string target;  // room or user id
  std::string frame;   // the JSON text of the client frame, ready to send
  // When the publisher published it (Unix ms, its clock); 0 when absent
  // (optional key "ms", added after version 1 first shipped).
  uint64_t sent_ms = 0;
  // A message of a stream with history (history/history.hpp): its epoch and
  // offset (optional keys "ep" and "off"; both or neither). offset 0: absent.
  // Such envelopes are built by the Redis history's append script.
  std::string epoch;
  uint64_t offset = 0;
};

// Encodes e as a MessagePack map {"v","o","k","t","f"}, plus "ms" when
// sent_ms is not 0. Decoders ignore keys they do not know.
std::string encode_envelope(const Envelope& e);
std::string encode_envelope(std::string_view origin, EnvelopeKind kind, std::string_view target,
                            std::string_view frame, uint64_t sent_ms = 0);

// encode_envelope(origin, kind, target, frame, sent_ms) written in place:
// its exact size, and the same bytes written to out (returns the end).
size_t envelope_size(std::string_view origin, EnvelopeKind kind, std::string_view target,
                     std::string_view frame, uint64_t sent_ms);
char* write_envelope(char* out, std::string_view origin, EnvelopeKind kind, std::string_view target,
                     std::string_view frame, uint64_t sent_ms);

// The head of a history envelope, for the append script: a MessagePack map
// header counting the fixed keys plus extra_keys more, then the fixed keys
// {"v","o","k","t"} (and "ms" when sent_ms is not 0) already encoded. The
// script appends "ep", "off" and "f" (extra_keys = 3).
std::string encode_envelope_head(std::string_view origin, EnvelopeKind kind, std::string_view target,
                                 uint64_t sent_ms, uint32_t extra_keys);

// Decodes bytes; nullopt for anything that is not a well-formed envelope of
// a version this node understands.
std::optional<Envelope> decode_envelope(std::string_view bytes);

// An envelope whose strings are views into the bytes it was decoded from
// (valid while they are): what the receive path uses, without copies.
struct EnvelopeView {
  int version = kEnvelopeVersion;
  std::string_view origin;
  EnvelopeKind kind = EnvelopeKind::kRoom;
  std::string_view target;
  std::string_view frame;
  uint64_t sent_ms = 0;
  std::string_view epoch;
  uint64_t offset = 0;

  Envelope to_envelope() const;
};

// decode_envelope, into views. The maps this node writes (fixmap of fixstr
// keys, integer and string values, nothing after) are read directly; any
// other bytes go through msgpack-c, which has the last word.
std::optional<EnvelopeView> decode_envelope_view(std::string_view bytes);

// msgpack-c alone (what decode_envelope_view falls back to), for tests.
std::optional<EnvelopeView> decode_envelope_view_full(std::string_view bytes);

}  // namespace rtcore
