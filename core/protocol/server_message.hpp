// Encoding of server-to-client messages (docs/protocol.md section 3). Pure.
// Each function returns the JSON text of one frame.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rtcore::protocol {

// Appends s as a JSON string literal (quotes included). s must be valid
// UTF-8; control characters, '"' and '\' are escaped.
void append_json_string(std::string& out, std::string_view s);

// {"type":"message","room":R,"from":F,"content":C,"timestamp":T}
// content_json is a JSON value, copied verbatim.
std::string encode_room_message(std::string_view room, std::string_view from, std::string_view content_json,
                                std::string_view timestamp);

// {"type":"direct_message","from":F,"content":C,"timestamp":T}
std::string encode_direct_message(std::string_view from, std::string_view content_json,
                                  std::string_view timestamp);

// The same frame written in place: direct_message_size gives its exact
// length, write_direct_message writes that many bytes to out and returns
// the end. Lets the caller encode straight into a frame's storage.
size_t direct_message_size(std::string_view from, std::string_view content_json, std::string_view timestamp);
char* write_direct_message(char* out, std::string_view from, std::string_view content_json,
                           std::string_view timestamp);

// The length of append_json_string's output for s, and the same bytes
// written to out (room for that length); returns the end.
size_t json_string_size(std::string_view s);
char* write_json_string(char* out, std::string_view s);

// {"type":"ack","id":ID}; id_json is a JSON string or integer, verbatim.
std::string encode_ack(std::string_view id_json);

// {"type":"error","code":C,"message":M[,"id":ID]}
std::string encode_error(std::string_view code, std::string_view message, std::string_view id_json);

// Room presence (docs/protocol.md section 9).
// {"type":"presence"[,"id":ID],"room":R,"users":[U...][,"truncated":true]}
std::string encode_presence_answer(std::string_view id_json, std::string_view room,
                                   const std::vector<std::string>& users, bool truncated);
// {"type":"online"[,"id":ID],"users":{"U1":true,"U2":false}}; online[i]
// answers users[i].
std::string encode_online_answer(std::string_view id_json, const std::vector<std::string>& users,
                                 const std::vector<bool>& online);
// {"type":"user_joined"|"user_left","room":R,"user":U,"timestamp":T}
std::string encode_room_presence_event(std::string_view room, std::string_view user, bool joined,
                                       std::string_view timestamp);

// History and recovery (docs/protocol.md section 8).
// The frame with "offset" appended: text is an encoded frame (one JSON
// object); the result is its text up to and including `,"offset":`, ready
// for the history to append the offset and the closing brace.
std::string offset_frame_prefix(std::string_view frame_json);

// A position answer. recovered: -1 absent, 0 false, 1 true.
// With id_json: {"type":"ack","id":ID[,"recovered":B],"epoch":E,"offset":N}
// without: {"type":T[,"room":R][,"recovered":B],"epoch":E,"offset":N}
// where T is answer_type ("joined" or "resumed").
std::string encode_position(std::string_view id_json, std::string_view answer_type, std::string_view room,
                            int recovered, std::string_view epoch, uint64_t offset);

// {"type":"history"[,"id":ID],"room":R,"epoch":E,"messages":[F...]}; each
// frame is a stored frame's JSON text, copied verbatim.
std::string encode_history_answer(std::string_view id_json, std::string_view room, std::string_view epoch,
                                  const std::vector<std::string_view>& frames);

// {"type":"error","code":"gap","message":M,"room":R} for a room, or
// {..., "direct":true} for the user's direct messages (room empty).
std::string encode_gap(std::string_view room);

}  // namespace rtcore::protocol
