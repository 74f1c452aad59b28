// libFuzzer target: the MessagePack envelope between nodes (docs/protocol.md
// section 7). Envelopes arrive from Redis, so any bytes are possible.
//
//  - decode_envelope never crashes, leaks or throws on any bytes;
//  - what it accepts is version 1 with a known kind, and re-encoding then
//    decoding it gives the same fields;
//  - any fields (arbitrary bytes, drawn from the input) survive
//    encode_envelope then decode_envelope unchanged.
#include <fuzzer/FuzzedDataProvider.h>

#include <msgpack.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "backplane/envelope.hpp"
#include "fuzz_check.hpp"

using rtcore::Envelope;
using rtcore::EnvelopeKind;

namespace {

bool same(const Envelope& a, const Envelope& b) {
  return a.version == b.version && a.origin == b.origin && a.kind == b.kind && a.target == b.target &&
         a.frame == b.frame && a.sent_ms == b.sent_ms && a.epoch == b.epoch && a.offset == b.offset;
}

bool same_view(const std::optional<rtcore::EnvelopeView>& a, const std::optional<rtcore::EnvelopeView>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  return a->version == b->version && a->origin == b->origin && a->kind == b->kind && a->target == b->target &&
         a->frame == b->frame && a->sent_ms == b->sent_ms && a->epoch == b->epoch && a->offset == b->offset;
}

// What msgpack-c's packer writes for an envelope (the encoder before it
// wrote MessagePack directly): encode_envelope must give the same bytes.
std::string reference_encode(const Envelope& e) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  auto str = [&](std::string_view s) {
    pk.pack_str(static_cast<uint32_t>(s.size()));
    pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
  };
  bool history = e.offset != 0;
  pk.pack_map((e.sent_ms != 0 ? 6 : 5) + (history ? 2 : 0));
  str("v");
  pk.pack(rtcore::kEnvelopeVersion);
  str("o");
  str(e.origin);
  str("k");
  str(e.kind == EnvelopeKind::kRoom ? "room" : "user");
  str("t");
  str(e.target);
  if (history) {
    if (e.sent_ms != 0) {
      str("ms");
      pk.pack_uint64(e.sent_ms);
    }
    str("ep");
    str(e.epoch);
    str("off");
    pk.pack_uint64(e.offset);
    str("f");
    str(e.frame);
  } else {
    str("f");
    str(e.frame);
    if (e.sent_ms != 0) {
      str("ms");
      pk.pack_uint64(e.sent_ms);
    }
  }
  return std::string(buf.data(), buf.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  // The direct reader agrees with msgpack-c on every input.
  FUZZ_CHECK(same_view(rtcore::decode_envelope_view(in), rtcore::decode_envelope_view_full(in)));

  // Untrusted bytes.
  if (auto e = rtcore::decode_envelope(in)) {
    FUZZ_CHECK(e->version == rtcore::kEnvelopeVersion);
    FUZZ_CHECK(e->kind == EnvelopeKind::kRoom || e->kind == EnvelopeKind::kUser);
    std::string bytes = rtcore::encode_envelope(*e);
    auto again = rtcore::decode_envelope(bytes);
    FUZZ_CHECK(again && same(*e, *again));
  }

  // Structured round trip with fields taken from the input.
  FuzzedDataProvider fdp(data, size);
  Envelope e;
  e.kind = fdp.ConsumeBool() ? EnvelopeKind::kUser : EnvelopeKind::kRoom;
  e.sent_ms = fdp.ConsumeBool() ? fdp.ConsumeIntegral<uint64_t>() : 0;
  if (fdp.ConsumeBool()) {
    e.offset = fdp.ConsumeIntegralInRange<uint64_t>(1, UINT64_MAX);
    e.epoch = fdp.ConsumeRandomLengthString(64);
    if (e.epoch.empty()) e.epoch = "e";
  }
  e.origin = fdp.ConsumeRandomLengthString(256);
  e.target = fdp.ConsumeRandomLengthString(256);
  e.frame = fdp.ConsumeRemainingBytesAsString();
  std::string bytes = rtcore::encode_envelope(e);
  FUZZ_CHECK(bytes == reference_encode(e));
  FUZZ_CHECK(same_view(rtcore::decode_envelope_view(bytes), rtcore::decode_envelope_view_full(bytes)));
  auto back = rtcore::decode_envelope(bytes);
  FUZZ_CHECK(back && same(e, *back));
  // A truncated envelope is never accepted.
  if (!bytes.empty())
    FUZZ_CHECK(!rtcore::decode_envelope(std::string_view(bytes).substr(0, bytes.size() - 1)));
  return 0;
}
