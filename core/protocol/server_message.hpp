// Encoding of server-to-client messages (docs/protocol.md section 3). Pure.
// Each function returns the JSON text of one frame.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rtcore::protocol {

// Appends s as a JSON string literal (quotes included). s must be valid
// UTF-8; control characters, '"' and '\' are escaped.
void append_json_string(std::string& out, std::string_view s);

// {"type":"message","room":R,"from":F,"content":C,"timestamp":T}
// content_json is a JSON value, copied verbatim.
std::string encode_room_message(std::string_view room, std::string_view from,
                                std::string_view content_json, std::string_view timestamp);

// {"type":"direct_message","from":F,"content":C,"timestamp":T}
std::string encode_direct_message(std::string_view from, std::string_view content_json,
                                  std::string_view timestamp);

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

}  // namespace rtcore::protocol
