// What a node reads from Redis, decoded and validated (docs/protocol.md section
// 7). Everything that arrives there — on the control, presence, room and
// user channels, in keys and in script replies — is untrusted input: another
// program may publish or write anything. These functions are pure, never
// throw, and accept only what this node itself would have produced; the
// Redis backplane drops (and counts as backplane_invalid) everything else.
// Fuzzed by tests/fuzz/fuzz_backplane_wire.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "backplane/envelope.hpp"

namespace rtcore::wire {

inline constexpr size_t kMaxNodeIdBytes = 128;
inline constexpr size_t kMaxTimestampBytes = 64;

// A node id: 1..128 bytes of printable ASCII other than space.
bool is_valid_node_id(std::string_view node);

// Control channel ({prefix}control): "ready NODE" (subscriptions in place)
// and "gone NODE" (left the cluster cleanly).
enum class ControlKind { kReady, kGone };
struct ControlMessage {
  ControlKind kind = ControlKind::kReady;
  std::string node;
};
std::string encode_control(ControlKind kind, std::string_view node);
std::optional<ControlMessage> decode_control(std::string_view payload);

// Presence channel ({prefix}presence): the JSON the presence scripts
// publish, {"user_id":U,"status":"online"|"offline","timestamp":T}. The user
// id must be a valid user id and the timestamp (optional) short printable
// ASCII, because both are spliced into frames for clients.
struct PresenceEvent {
  std::string user;
  bool online = false;
  std::string timestamp;
};
std::optional<PresenceEvent> decode_presence_event(std::string_view payload);

// Probe channel ({prefix}probe:{node}): "probe NODE SEQ", which a node
// publishes to itself to measure a round trip through Redis (GET /readyz).
// NODE must be the channel's node; SEQ is decimal, at most 19 digits.
struct ProbeMessage {
  std::string node;
  uint64_t seq = 0;
};
std::string encode_probe(std::string_view node, uint64_t seq);
std::optional<ProbeMessage> decode_probe(std::string_view channel_node, std::string_view payload);

// What a channel name is for, relative to the cluster's key prefix.
enum class ChannelKind { kControl, kPresence, kRoom, kUser, kProbe, kRoomPresence, kOther };
struct Channel {
  ChannelKind kind = ChannelKind::kOther;
  // room, user or node, for kRoom / kUser / kRoomPresence / kProbe (a view
  // into the name)
  std::string_view target;
};
Channel classify_channel(std::string_view channel, std::string_view prefix);

// Room presence channel ({prefix}room_presence:{room}): the JSON the room
// presence scripts publish, {"room":R,"user":U,"event":"joined"|"left",
// "timestamp":T}, at most 4096 bytes. R must be a valid room equal to the
// channel's room, U a valid user id, T (required) short printable ASCII
// without '"' or '\': all three are spliced into frames for clients.
struct RoomPresenceEvent {
  std::string room;
  std::string user;
  bool joined = false;
  std::string timestamp;
};
std::optional<RoomPresenceEvent> decode_room_presence_event(const Channel& channel, std::string_view payload);

// A stream's epoch (history/history.hpp): 1..32 bytes of [0-9A-Za-z_-].
inline constexpr size_t kMaxEpochBytes = 32;
bool is_valid_epoch(std::string_view epoch);
// The largest offset a node accepts (2^53: exact in Redis' Lua numbers).
inline constexpr uint64_t kMaxOffset = uint64_t{1} << 53;
// A stored or published frame of a stream: one JSON value ending with
// "offset":OFFSET} (what frame_prefix + OFFSET + "}" gives), offset in
// 1..kMaxOffset.
bool is_valid_stream_frame(std::string_view frame, uint64_t offset);

// A publication on a room or user channel: a well-formed envelope whose kind
// and target match the channel it arrived on (so bytes published on one
// room's channel can never reach another room), from a valid node id, with a
// target that is a valid room / user id and a frame that is one JSON value.
// A history publication carries both "ep" and "off" (or neither): a valid
// epoch, an offset in 1..kMaxOffset, and a frame that is_valid_stream_frame.
std::optional<Envelope> decode_publication(const Channel& channel, std::string_view payload);
// The same, into views of payload (the receive path: no copies).
std::optional<EnvelopeView> decode_publication_view(const Channel& channel, std::string_view payload);

}  // namespace rtcore::wire
