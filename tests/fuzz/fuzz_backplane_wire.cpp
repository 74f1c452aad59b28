// libFuzzer target: everything a node decodes from Redis (backplane/wire).
// The first input byte picks the message kind, the rest is the payload as
// it would arrive on that channel; any bytes are possible there.
//
//  - no decoder crashes, leaks or throws on any bytes;
//  - a control message that decodes names a valid node id and encodes back
//    to exactly the bytes it came from;
//  - a presence event that decodes has a valid user id, a known status and
//    a short printable timestamp without quotes or backslashes;
//  - a publication that decodes matches the channel it arrived on (kind and
//    target), comes from a valid node id, targets a valid room / user id, and
//    carries one JSON value as its frame; with history fields, both of them,
//    a valid epoch and an offset in 1..2^53 that its frame ends with;
//  - a room presence event that decodes arrived on a room presence channel
//    whose room it names, with a valid room and user id, and a
//    short printable timestamp without quotes or backslashes;
//  - classify_channel only ever returns a target that is a suffix of the
//    channel name.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "backplane/wire.hpp"
#include "fuzz_check.hpp"
#include "protocol/json_check.hpp"
#include "protocol/validate.hpp"

using namespace rtcore;

namespace {

void check_publication(const wire::Channel& ch, const Envelope& p) {
  FUZZ_CHECK(ch.kind == wire::ChannelKind::kRoom || ch.kind == wire::ChannelKind::kUser);
  FUZZ_CHECK(p.kind == (ch.kind == wire::ChannelKind::kRoom ? EnvelopeKind::kRoom : EnvelopeKind::kUser));
  FUZZ_CHECK(p.target == ch.target);
  FUZZ_CHECK(p.kind == EnvelopeKind::kRoom ? protocol::is_valid_room(p.target)
                                           : protocol::is_valid_user_id(p.target));
  FUZZ_CHECK(wire::is_valid_node_id(p.origin));
  FUZZ_CHECK(protocol::is_valid_json_value(p.frame, protocol::kMaxNestingDepth + 2));
  FUZZ_CHECK(p.epoch.empty() == (p.offset == 0));
  if (p.offset != 0) {
    FUZZ_CHECK(wire::is_valid_epoch(p.epoch) && p.offset <= wire::kMaxOffset);
    std::string suffix = "\"offset\":" + std::to_string(p.offset) + "}";
    FUZZ_CHECK(p.frame.size() >= suffix.size() && p.frame.ends_with(suffix));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0: {
      if (auto m = wire::decode_control(in)) {
        FUZZ_CHECK(wire::is_valid_node_id(m->node));
        FUZZ_CHECK(wire::encode_control(m->kind, m->node) == in);
      }
      break;
    }
    case 1: {
      if (auto e = wire::decode_presence_event(in)) {
        FUZZ_CHECK(protocol::is_valid_user_id(e->user));
        FUZZ_CHECK(e->timestamp.size() <= wire::kMaxTimestampBytes);
        for (char c : e->timestamp) FUZZ_CHECK(c >= 0x20 && c <= 0x7E && c != '"' && c != '\\');
      }
      break;
    }
    case 2: {
      // The channel name comes first (up to a NUL), then the payload.
      size_t nul = in.find('\0');
      std::string_view name = in.substr(0, nul);
      std::string_view payload = nul == std::string_view::npos ? std::string_view() : in.substr(nul + 1);
      wire::Channel ch = wire::classify_channel(name, "rtcore:");
      if (!ch.target.empty()) FUZZ_CHECK(name.size() >= ch.target.size() && name.ends_with(ch.target));
      if (auto p = wire::decode_publication(ch, payload)) check_publication(ch, *p);
      if (ch.kind == wire::ChannelKind::kProbe)
        if (auto m = wire::decode_probe(ch.target, payload)) {
          FUZZ_CHECK(m->node == ch.target && wire::is_valid_node_id(m->node));
          FUZZ_CHECK(wire::encode_probe(m->node, m->seq) == payload);
        }
      break;
    }
    case 3: {
      // The payload alone, on the channel its own envelope names: reaches
      // the checks behind a well-formed envelope far more often.
      auto e = decode_envelope(in);
      if (!e) break;
      std::string target = e->target;
      wire::Channel ch{e->kind == EnvelopeKind::kRoom ? wire::ChannelKind::kRoom : wire::ChannelKind::kUser,
                       target};
      if (auto p = wire::decode_publication(ch, in)) check_publication(ch, *p);
      break;
    }
    case 4: {
      // Room presence: the channel name (up to a NUL), then the payload.
      size_t nul = in.find('\0');
      std::string_view name = in.substr(0, nul);
      std::string_view payload = nul == std::string_view::npos ? std::string_view() : in.substr(nul + 1);
      wire::Channel ch = wire::classify_channel(name, "rtcore:");
      if (!ch.target.empty()) FUZZ_CHECK(name.size() >= ch.target.size() && name.ends_with(ch.target));
      if (auto e = wire::decode_room_presence_event(ch, payload)) {
        FUZZ_CHECK(ch.kind == wire::ChannelKind::kRoomPresence);
        FUZZ_CHECK(e->room == ch.target);
        FUZZ_CHECK(protocol::is_valid_room(e->room));
        FUZZ_CHECK(protocol::is_valid_user_id(e->user));
        FUZZ_CHECK(e->timestamp.size() <= wire::kMaxTimestampBytes);
        for (char c : e->timestamp) FUZZ_CHECK(c >= 0x20 && c <= 0x7E && c != '"' && c != '\\');
      }
      break;
    }
  }
  return 0;
}
