#include "backplane/wire.hpp"

#include <rapidjson/document.h>

#include "protocol/json_check.hpp"
#include "protocol/validate.hpp"

namespace rtcore::wire {
namespace {

constexpr std::string_view kReady = "ready ";
constexpr std::string_view kGone = "gone ";

bool starts_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(0, p.size()) == p;
}

bool is_printable_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7E) return false;
  return true;
}

const rapidjson::Value* member(const rapidjson::Value& object, const char* name) {
  return object.HasMember(name) ? &object[name] : nullptr;
}

// A timestamp spliced into a client frame as it is.
bool is_valid_timestamp(std::string_view t) {
  return t.size() <= kMaxTimestampBytes && is_printable_ascii(t) && t.find('"') == std::string_view::npos &&
         t.find('\\') == std::string_view::npos;
}

std::string_view string_of(const rapidjson::Value& v) {
  return std::string_view(v.GetString(), v.GetStringLength());
}

}  // namespace

bool is_valid_node_id(std::string_view node) {
  if (node.empty() || node.size() > kMaxNodeIdBytes) return false;
  for (unsigned char c : node)
    if (c <= 0x20 || c > 0x7E) return false;
  return true;
}

bool is_valid_epoch(std::string_view epoch) {
  if (epoch.empty() || epoch.size() > kMaxEpochBytes) return false;
  for (char c : epoch)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-'))
      return false;
  return true;
}

bool is_valid_stream_frame(std::string_view frame, uint64_t offset) {
  if (offset == 0 || offset > kMaxOffset) return false;
  std::string suffix = "\"offset\":" + std::to_string(offset) + "}";
  if (frame.size() < suffix.size() || frame.substr(frame.size() - suffix.size()) != suffix) return false;
  return protocol::is_valid_json_value(frame, protocol::kMaxNestingDepth + 2);
}

std::string encode_control(ControlKind kind, std::string_view node) {
  std::string out(kind == ControlKind::kReady ? kReady : kGone);
  out.append(node);
  return out;
}

std::optional<ControlMessage> decode_control(std::string_view payload) {
  ControlMessage m;
  if (starts_with(payload, kReady)) {
    m.kind = ControlKind::kReady;
    payload.remove_prefix(kReady.size());
  } else if (starts_with(payload, kGone)) {
    m.kind = ControlKind::kGone;
    payload.remove_prefix(kGone.size());
  } else {
    return std::nullopt;
  }
  if (!is_valid_node_id(payload)) return std::nullopt;
  m.node.assign(payload);
  return m;
}

std::string encode_probe(std::string_view node, uint64_t seq) {
  std::string out = "probe ";
  out.append(node);
  out += ' ';
  out += std::to_string(seq);
  return out;
}

std::optional<ProbeMessage> decode_probe(std::string_view channel_node, std::string_view payload) {
  constexpr std::string_view kProbe = "probe ";
  if (payload.size() > kProbe.size() + kMaxNodeIdBytes + 20 || !starts_with(payload, kProbe))
    return std::nullopt;
  payload.remove_prefix(kProbe.size());
  size_t space = payload.rfind(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::string_view node = payload.substr(0, space), seq = payload.substr(space + 1);
  // One spelling per number (no leading zeros), as encode_probe writes it.
  if (!is_valid_node_id(node) || node != channel_node || seq.empty() || seq.size() > 19 ||
      (seq.size() > 1 && seq[0] == '0'))
    return std::nullopt;
  ProbeMessage m;
  for (char c : seq) {
    if (c < '0' || c > '9') return std::nullopt;
    m.seq = m.seq * 10 + static_cast<uint64_t>(c - '0');
  }
  m.node.assign(node);
  return m;
}

std::optional<PresenceEvent> decode_presence_event(std::string_view payload) {
  // Small, flat objects only: anything big is not ours.
  if (payload.size() > 4096) return std::nullopt;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(payload.data(), payload.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  const rapidjson::Value* user = member(doc, "user_id");
  const rapidjson::Value* status = member(doc, "status");
  if (!user || !user->IsString() || !status || !status->IsString()) return std::nullopt;
  PresenceEvent e;
  e.user.assign(user->GetString(), user->GetStringLength());
  if (!protocol::is_valid_user_id(e.user)) return std::nullopt;
  std::string_view s(status->GetString(), status->GetStringLength());
  if (s == "online")
    e.online = true;
  else if (s != "offline")
    return std::nullopt;
  if (const rapidjson::Value* ts = member(doc, "timestamp")) {
    if (!ts->IsString()) return std::nullopt;
    std::string_view t(ts->GetString(), ts->GetStringLength());
    if (!is_valid_timestamp(t)) return std::nullopt;
    e.timestamp.assign(t);
  }
  return e;
}

Channel classify_channel(std::string_view channel, std::string_view prefix) {
  Channel c;
  if (!starts_with(channel, prefix)) return c;
  channel.remove_prefix(prefix.size());
  if (channel == "control") {
    c.kind = ChannelKind::kControl;
  } else if (channel == "presence") {
    c.kind = ChannelKind::kPresence;
  } else if (starts_with(channel, "room_presence:")) {
    c.kind = ChannelKind::kRoomPresence;
    c.target = channel.substr(14);
  } else if (starts_with(channel, "room:")) {
    c.kind = ChannelKind::kRoom;
    c.target = channel.substr(5);
  } else if (starts_with(channel, "user:")) {
    c.kind = ChannelKind::kUser;
    c.target = channel.substr(5);
  } else if (starts_with(channel, "probe:")) {
    c.kind = ChannelKind::kProbe;
    c.target = channel.substr(6);
  }
  return c;
}

std::optional<Envelope> decode_publication(const Channel& channel, std::string_view payload) {
  std::optional<EnvelopeView> e = decode_publication_view(channel, payload);
  if (!e) return std::nullopt;
  return e->to_envelope();
}

std::optional<EnvelopeView> decode_publication_view(const Channel& channel, std::string_view payload) {
  if (channel.kind != ChannelKind::kRoom && channel.kind != ChannelKind::kUser) return std::nullopt;
  std::optional<EnvelopeView> e = decode_envelope_view(payload);
  if (!e) return std::nullopt;
  bool room = channel.kind == ChannelKind::kRoom;
  if (e->kind != (room ? EnvelopeKind::kRoom : EnvelopeKind::kUser) || e->target != channel.target)
    return std::nullopt;
  if (!(room ? protocol::is_valid_room(e->target) : protocol::is_valid_user_id(e->target)))
    return std::nullopt;
  if (!is_valid_node_id(e->origin)) return std::nullopt;
  // The frame goes to clients as it is: it must be one JSON value (an object
  // for every frame the engine encodes; hosts may send any value raw).
  if (!protocol::is_valid_json_value(e->frame, protocol::kMaxNestingDepth + 2)) return std::nullopt;
  if (e->offset != 0 || !e->epoch.empty()) {
    if (e->offset == 0 || !is_valid_epoch(e->epoch) || !is_valid_stream_frame(e->frame, e->offset))
      return std::nullopt;
  }
  return e;
}

std::optional<RoomPresenceEvent> decode_room_presence_event(const Channel& channel,
                                                            std::string_view payload) {
  if (channel.kind != ChannelKind::kRoomPresence || payload.size() > 4096) return std::nullopt;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(payload.data(), payload.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  const rapidjson::Value* room = member(doc, "room");
  const rapidjson::Value* user = member(doc, "user");
  const rapidjson::Value* event = member(doc, "event");
  const rapidjson::Value* ts = member(doc, "timestamp");
  if (!room || !room->IsString() || !user || !user->IsString() || !event || !event->IsString() || !ts ||
      !ts->IsString())
    return std::nullopt;
  // Bytes published on one room's channel never speak for another room.
  if (string_of(*room) != channel.target || !protocol::is_valid_room(string_of(*room))) return std::nullopt;
  if (!protocol::is_valid_user_id(string_of(*user)) || !is_valid_timestamp(string_of(*ts)))
    return std::nullopt;
  RoomPresenceEvent e;
  std::string_view kind = string_of(*event);
  if (kind == "joined")
    e.joined = true;
  else if (kind != "left")
    return std::nullopt;
  e.room.assign(string_of(*room));
  e.user.assign(string_of(*user));
  e.timestamp.assign(string_of(*ts));
  return e;
}

}  // namespace rtcore::wire
