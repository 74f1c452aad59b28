// Node-to-node payloads (docs/protocol.md section 7): MessagePack maps carrying
// the protocol version, the origin node, what the frame is for, and the
// already-encoded client frame. Pure, and safe on any bytes (fuzzed).
#pragma once

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
};

// Encodes e as a MessagePack map {"v","o","k","t","f"}, plus "ms" when
// sent_ms is not 0. Decoders ignore keys they do not know.
std::string encode_envelope(const Envelope& e);
std::string encode_envelope(std::string_view origin, EnvelopeKind kind, std::string_view target,
                            std::string_view frame, uint64_t sent_ms = 0);

// Decodes bytes; nullopt for anything that is not a well-formed envelope of
// a version this node understands.
std::optional<Envelope> decode_envelope(std::string_view bytes);

}  // namespace rtcore
