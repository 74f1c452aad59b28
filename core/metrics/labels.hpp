// The bounded label sets of /metrics' labelled families. Labels never carry
// user ids, room names or anything a client chooses: only these fixed words.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/client_message.hpp"

namespace rtcore::metrics {

// Client messages by type: the protocol's built-in types by name, host
// types as "custom", unparsable frames as "invalid".
inline constexpr std::array<std::string_view, 10> kMessageTypes = {
    "join_room", "leave_room", "room_message",  "direct_message", "presence",
    "online",    "history",    "resume_direct", "custom",         "invalid"};
// By the parsed type (no string compares on the per-message path); the
// array's order is the enum's, plus "history" and "resume_direct" for the
// types a later version parses.
inline size_t message_type_index(protocol::MessageType type) {
  using protocol::MessageType;
  switch (type) {
    case MessageType::kJoinRoom: return 0;
    case MessageType::kLeaveRoom: return 1;
    case MessageType::kRoomMessage: return 2;
    case MessageType::kDirectMessage: return 3;
    case MessageType::kPresence: return 4;
    case MessageType::kOnline: return 5;
    case MessageType::kHistory: return 6;
    case MessageType::kResumeDirect: return 7;
    case MessageType::kCustom: break;
  }
  return kMessageTypes.size() - 2;  // "custom"
}
inline constexpr size_t kInvalidMessage = kMessageTypes.size() - 1;

// Frames queued for clients, by what they are.
enum class FrameKind : uint8_t { kMessage, kDirect, kAck, kError, kHost, kEvent, kCount };
inline constexpr std::array<std::string_view, static_cast<size_t>(FrameKind::kCount)> kFrameKinds = {
    "message", "direct_message", "ack", "error", "host", "event"};

// Frames not delivered, by why: the recipient was closing, the frame was
// larger than any send queue, the recipient was a slow consumer (its queue
// is dropped with it), frames still queued when a connection ended, or the
// connection no longer existed.
enum class DropReason : uint8_t { kClosing, kTooBig, kSlowConsumer, kUnsentAtClose, kNoConnection, kCount };
inline constexpr std::array<std::string_view, static_cast<size_t>(DropReason::kCount)> kDropReasons = {
    "closing", "too_big", "slow_consumer", "unsent_at_close", "no_connection"};

// Closes by code: the codes the engine uses, host codes as "4xxx", the
// client's own closes as "client".
inline constexpr std::array<std::string_view, 9> kCloseCodes = {"1000", "1001", "1008",  "1009",  "1011",
                                                                "4408", "4xxx", "other", "client"};
inline size_t close_code_index(uint16_t code) {
  switch (code) {
    case 1000: return 0;
    case 1001: return 1;
    case 1008: return 2;
    case 1009: return 3;
    case 1011: return 4;
    case 4408: return 5;
    default: return code >= 4000 && code <= 4999 ? 6 : 7;
  }
}
inline constexpr size_t kClientClose = kCloseCodes.size() - 1;

}  // namespace rtcore::metrics
