// libFuzzer target: the MessagePack envelope between nodes (docs/protocol.md
// section 7). Envelopes arrive from Redis, so any bytes are possible.
//
//  - decode_envelope never crashes, leaks or throws on any bytes;
//  - what it accepts is version 1 with a known kind, and re-encoding then
//    decoding it gives the same fields;
//  - any fields (arbitrary bytes, drawn from the input) survive
//    encode_envelope then decode_envelope unchanged.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

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
  auto back = rtcore::decode_envelope(bytes);
  FUZZ_CHECK(back && same(e, *back));
  // A truncated envelope is never accepted.
  if (!bytes.empty()) FUZZ_CHECK(!rtcore::decode_envelope(std::string_view(bytes).substr(0, bytes.size() - 1)));
  return 0;
}
