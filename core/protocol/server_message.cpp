#include "protocol/server_message.hpp"

#include <bit>
#include <cstdint>
#include <cstring>

namespace rtcore::protocol {

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  // start of the pending run of bytes that need no escape
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

namespace {

// The length of s's leading run of bytes that need no escape, found eight
// bytes at a time (flags for control characters, '"' and '\\'; the lowest
// flag is exact, as in json_scan).
size_t plain_run(std::string_view s) {
  size_t i = 0;
  if constexpr (std::endian::native == std::endian::little) {
    constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
    auto zero_bytes = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
    for (; i + 8 <= s.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      uint64_t flags =
          ((w - kOnes * 0x20) & ~w & kHigh) | zero_bytes(w ^ (kOnes * '"')) | zero_bytes(w ^ (kOnes * '\\'));
      if (flags) return i + static_cast<size_t>(std::countr_zero(flags)) / 8;
    }
  }
  for (; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == '"' || c == '\\') return i;
  }
  return i;
}

}  // namespace

size_t json_string_size(std::string_view s) {
  size_t plain = plain_run(s);
  size_t n = s.size() + 2;
  s.remove_prefix(plain);
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    n += c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' ? 1 : 5;
  }
  return n;
}

char* write_json_string(char* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  *out++ = '"';
  size_t run = 0;  // as in append_json_string
  for (size_t i = plain_run(s); i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    std::memcpy(out, s.data() + run, i - run);
    out += i - run;
    run = i + 1;
    *out++ = '\\';
    switch (c) {
      case '"': *out++ = '"'; break;
      case '\\': *out++ = '\\'; break;
      case '\n': *out++ = 'n'; break;
      case '\r': *out++ = 'r'; break;
      case '\t': *out++ = 't'; break;
      default:
        std::memcpy(out, "u00", 3);
        out += 3;
        *out++ = kHex[c >> 4];
        *out++ = kHex[c & 0xF];
    }
  }
  std::memcpy(out, s.data() + run, s.size() - run);
  out += s.size() - run;
  *out++ = '"';
  return out;
}

namespace {

constexpr std::string_view kDirectHead = R"({"type":"direct_message","from":)";
constexpr std::string_view kContentKey = R"(,"content":)";
constexpr std::string_view kTimestampKey = R"(,"timestamp":)";

char* put(char* out, std::string_view s) {
  std::memcpy(out, s.data(), s.size());
  return out + s.size();
}

}  // namespace

size_t direct_message_size(std::string_view from, std::string_view content_json, std::string_view timestamp) {
  return kDirectHead.size() + json_string_size(from) + kContentKey.size() + content_json.size() +
         kTimestampKey.size() + json_string_size(timestamp) + 1;
}

char* write_direct_message(char* out, std::string_view from, std::string_view content_json,
                           std::string_view timestamp) {
  out = put(out, kDirectHead);
  out = write_json_string(out, from);
  out = put(out, kContentKey);
  out = put(out, content_json);
  out = put(out, kTimestampKey);
  out = write_json_string(out, timestamp);
  *out++ = '}';
  return out;
}

std::string encode_room_message(std::string_view room, std::string_view from, std::string_view content_json,
                                std::string_view timestamp) {
  std::string out;
  out.reserve(64 + room.size() + from.size() + content_json.size() + timestamp.size());
  out += R"({"type":"message","room":)";
  append_json_string(out, room);
  out += R"(,"from":)";
  append_json_string(out, from);
  out += R"(,"content":)";
  out += content_json;
  out += R"(,"timestamp":)";
  append_json_string(out, timestamp);
  out.push_back('}');
  return out;
}

std::string encode_direct_message(std::string_view from, std::string_view content_json,
                                  std::string_view timestamp) {
  std::string out;
  out.reserve(64 + from.size() + content_json.size() + timestamp.size());
  out += R"({"type":"direct_message","from":)";
  append_json_string(out, from);
  out += R"(,"content":)";
  out += content_json;
  out += R"(,"timestamp":)";
  append_json_string(out, timestamp);
  out.push_back('}');
  return out;
}

std::string encode_ack(std::string_view id_json) {
  std::string out = R"({"type":"ack","id":)";
  out += id_json;
  out.push_back('}');
  return out;
}

std::string encode_error(std::string_view code, std::string_view message, std::string_view id_json) {
  std::string out = R"({"type":"error","code":)";
  append_json_string(out, code);
  out += R"(,"message":)";
  append_json_string(out, message);
  if (!id_json.empty()) {
    out += R"(,"id":)";
    out += id_json;
  }
  out.push_back('}');
  return out;
}

std::string encode_presence_answer(std::string_view id_json, std::string_view room,
                                   const std::vector<std::string>& users, bool truncated) {
  std::string out = R"({"type":"presence")";
  if (!id_json.empty()) {
    out += R"(,"id":)";
    out += id_json;
  }
  out += R"(,"room":)";
  append_json_string(out, room);
  out += R"(,"users":[)";
  for (size_t i = 0; i < users.size(); ++i) {
    if (i) out.push_back(',');
    append_json_string(out, users[i]);
  }
  out.push_back(']');
  if (truncated) out += R"(,"truncated":true)";
  out.push_back('}');
  return out;
}

std::string encode_online_answer(std::string_view id_json, const std::vector<std::string>& users,
                                 const std::vector<bool>& online) {
  std::string out = R"({"type":"online")";
  if (!id_json.empty()) {
    out += R"(,"id":)";
    out += id_json;
  }
  out += R"(,"users":{)";
  for (size_t i = 0; i < users.size(); ++i) {
    if (i) out.push_back(',');
    append_json_string(out, users[i]);
    out += i < online.size() && online[i] ? ":true" : ":false";
  }
  out += "}}";
  return out;
}

std::string encode_room_presence_event(std::string_view room, std::string_view user, bool joined,
                                       std::string_view timestamp) {
  std::string out = joined ? R"({"type":"user_joined","room":)" : R"({"type":"user_left","room":)";
  append_json_string(out, room);
  out += R"(,"user":)";
  append_json_string(out, user);
  out += R"(,"timestamp":)";
  append_json_string(out, timestamp);
  out.push_back('}');
  return out;
}

std::string offset_frame_prefix(std::string_view frame_json) {
  size_t end = frame_json.find_last_of('}');
  std::string out(frame_json.substr(0, end == std::string_view::npos ? frame_json.size() : end));
  out += R"(,"offset":)";
  return out;
}

std::string encode_position(std::string_view id_json, std::string_view answer_type, std::string_view room,
                            int recovered, std::string_view epoch, uint64_t offset) {
  std::string out;
  if (!id_json.empty()) {
    out = R"({"type":"ack","id":)";
    out += id_json;
  } else {
    out = R"({"type":)";
    append_json_string(out, answer_type);
    if (!room.empty()) {
      out += R"(,"room":)";
      append_json_string(out, room);
    }
  }
  if (recovered >= 0) out += recovered ? R"(,"recovered":true)" : R"(,"recovered":false)";
  out += R"(,"epoch":)";
  append_json_string(out, epoch);
  out += R"(,"offset":)";
  out += std::to_string(offset);
  out.push_back('}');
  return out;
}

std::string encode_history_answer(std::string_view id_json, std::string_view room, std::string_view epoch,
                                  const std::vector<std::string_view>& frames) {
  size_t size = 64 + room.size() + epoch.size() + id_json.size();
  for (auto f : frames) size += f.size() + 1;
  std::string out;
  out.reserve(size);
  out = R"({"type":"history")";
  if (!id_json.empty()) {
    out += R"(,"id":)";
    out += id_json;
  }
  out += R"(,"room":)";
  append_json_string(out, room);
  out += R"(,"epoch":)";
  append_json_string(out, epoch);
  out += R"(,"messages":[)";
  for (size_t i = 0; i < frames.size(); ++i) {
    if (i) out.push_back(',');
    out += frames[i];
  }
  out += "]}";
  return out;
}

std::string encode_gap(std::string_view room) {
  std::string out = R"({"type":"error","code":"gap","message":)";
  append_json_string(out, room.empty() ? "direct messages may have been missed: send resume_direct again"
                                       : "messages may have been missed: join the room again with since");
  if (room.empty()) {
    out += R"(,"direct":true})";
  } else {
    out += R"(,"room":)";
    append_json_string(out, room);
    out.push_back('}');
  }
  return out;
}

}  // namespace rtcore::protocol
