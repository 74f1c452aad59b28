#include "protocol/client_message.hpp"

#include <rapidjson/document.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <optional>

#include "protocol/json_check.hpp"
#include "protocol/validate.hpp"

namespace rtcore::protocol {
namespace {

// A top-level field we care about: whether it was there, whether it had the
// expected shape, its decoded string, and the raw bytes of its value.
struct Field {
  bool present = false;
  bool is_string = false;
  bool is_integer = false;
  bool is_bool = false;
  bool bool_value = false;
  // A string's decoded text: a view into the frame when the string has no
  // escapes (its raw bytes are then the text), else into storage.
  std::string_view text;
  std::string_view raw;
  std::string storage;
};

// SAX handler that looks only at the top-level object's members. Values are
// located by stream offsets so any of them can be relayed byte for byte.
class TopLevelHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, TopLevelHandler> {
 public:
  TopLevelHandler(std::string_view input, const rapidjson::MemoryStream& stream)
      : input_(input), stream_(stream) {}

  Field type, room, to, content, id, users, presence, since, limit, before;
  bool root_is_object = false;
  bool too_deep = false;

  bool Null() { return scalar(false, false, {}); }
  bool Bool(bool b) {
    if (depth_ == 1 && current_) {
      Field* f = current_;
      scalar(false, false, {});
      f->is_bool = true;
      f->bool_value = b;
    }
    return true;
  }
  bool Int(int) { return scalar(false, true, {}); }
  bool Uint(unsigned) { return scalar(false, true, {}); }
  bool Int64(int64_t) { return scalar(false, true, {}); }
  bool Uint64(uint64_t) { return scalar(false, true, {}); }
  bool Double(double) { return scalar(false, false, {}); }
  bool RawNumber(const char* str, rapidjson::SizeType len, bool) {
    std::string_view n(str, len);
    bool integer = n.find_first_of(".eE") == std::string_view::npos;
    return scalar(false, integer, {});
  }
  bool String(const char* str, rapidjson::SizeType len, bool) {
    return scalar(true, false, std::string_view(str, len));
  }
  bool Key(const char* str, rapidjson::SizeType len, bool) {
    if (depth_ == 1) {
      current_ = slot(std::string_view(str, len));
      value_start_ = stream_.Tell();
    }
    return true;
  }
  bool StartObject() { return open(true); }
  bool StartArray() { return open(false); }
  bool EndObject(rapidjson::SizeType) { return close(); }
  bool EndArray(rapidjson::SizeType) { return close(); }

  // The fast path (json_scan's subset): fills the fields as the full parse
  // would and returns true, or returns false having touched nothing that
  // reset() does not clear.
  bool scan(std::string_view input) {
    const char* end = input.data() + input.size();
    const char* p = json_scan::skip_ws(input.data(), end);
    if (p >= end || *p != '{') return false;
    root_is_object = true;
    p = json_scan::skip_ws(p + 1, end);
    if (p < end && *p == '}') return json_scan::skip_ws(p + 1, end) == end;
    for (;;) {
      if (p >= end || *p != '"') return false;
      const char* key_end = json_scan::scan_string(p, end);
      if (!key_end) return false;
      Field* f = slot(std::string_view(p + 1, static_cast<size_t>(key_end - p - 2)));
      p = json_scan::skip_ws(key_end, end);
      if (p >= end || *p != ':') return false;
      const char* v = json_scan::skip_ws(p + 1, end);
      p = json_scan::scan_value(v, end, kMaxNestingDepth - 1);
      if (!p) return false;
      if (f) {
        std::string_view raw(v, static_cast<size_t>(p - v));
        f->present = true;
        f->is_string = *v == '"';
        f->is_integer = *v == '-' || (*v >= '0' && *v <= '9');
        f->is_bool = *v == 't' || *v == 'f';
        f->bool_value = *v == 't';
        f->raw = raw;
        f->text = f->is_string ? raw.substr(1, raw.size() - 2) : std::string_view{};
      }
      p = json_scan::skip_ws(p, end);
      if (p >= end) return false;
      if (*p == '}') return json_scan::skip_ws(p + 1, end) == end;
      if (*p != ',') return false;
      p = json_scan::skip_ws(p + 1, end);
    }
  }
  void reset() {
    for (Field* f : {&type, &room, &to, &content, &id, &users, &presence, &since, &limit, &before})
      *f = Field{};
    root_is_object = false;
  }

 private:
  Field* slot(std::string_view k) {
    return k == "type"       ? &type
           : k == "room"     ? &room
           : k == "to"       ? &to
           : k == "content"  ? &content
           : k == "id"       ? &id
           : k == "users"    ? &users
           : k == "presence" ? &presence
           : k == "since"    ? &since
           : k == "limit"    ? &limit
           : k == "before"   ? &before
                             : nullptr;
  }
  bool open(bool is_object) {
    if (depth_ == 0) root_is_object = is_object;
    if (++depth_ > kMaxNestingDepth) {
      too_deep = true;
      return false;
    }
    return true;
  }
  bool close() {
    // The iterative parser reports the end of a container before it takes
    // the closing bracket, so the value ends one byte past the offset.
    if (--depth_ == 1) finish_value(false, false, {}, stream_.Tell() + 1);
    return true;
  }
  bool scalar(bool is_string, bool is_integer, std::string_view text) {
    if (depth_ == 1) finish_value(is_string, is_integer, text, stream_.Tell());
    return true;
  }
  // Records the member value that just ended at offset end.
  void finish_value(bool is_string, bool is_integer, std::string_view text, size_t end) {
    if (!current_) return;
    Field& f = *current_;
    current_ = nullptr;
    f.present = true;
    f.is_string = is_string;
    f.is_integer = is_integer;
    f.is_bool = false;
    f.bool_value = false;
    std::string_view raw = input_.substr(value_start_, end - value_start_);
    size_t start = raw.find_first_not_of(" \t\r\n:");
    f.raw = start == std::string_view::npos ? std::string_view{} : raw.substr(start);
    // text points into the reader's stack, valid only during this callback.
    // Every escape is longer than what it decodes to, so a string whose raw
    // form is its text plus the two quotes has none: its bytes are the text.
    if (!is_string) {
      f.text = {};
    } else if (f.raw.size() == text.size() + 2) {
      f.text = f.raw.substr(1, text.size());
    } else {
      f.storage.assign(text);
      f.text = f.storage;
    }
  }

  std::string_view input_;
  const rapidjson::MemoryStream& stream_;
  int depth_ = 0;
  Field* current_ = nullptr;
  size_t value_start_ = 0;
};

constexpr unsigned kParseFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag |
                                 rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseStopWhenDoneFlag;

ParseResult fail(ErrorCode code, std::string message, std::string id_json = {}) {
  ParseResult r;
  r.error = code;
  r.error_message = std::move(message);
  r.id_json = std::move(id_json);
  return r;
}

bool only_whitespace(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

std::optional<MessageType> builtin_type(std::string_view name) {
  if (name == "join_room") return MessageType::kJoinRoom;
  if (name == "leave_room") return MessageType::kLeaveRoom;
  if (name == "room_message") return MessageType::kRoomMessage;
  if (name == "direct_message") return MessageType::kDirectMessage;
  if (name == "presence") return MessageType::kPresence;
  if (name == "online") return MessageType::kOnline;
  if (name == "history") return MessageType::kHistory;
  if (name == "resume_direct") return MessageType::kResumeDirect;
  return std::nullopt;
}

// The `users` array of an online query: its raw JSON text, parsed again on
// its own (the top-level handler only locates it). False with a message on
// anything but 1..kMaxOnlineQueryUsers valid user ids.
bool parse_online_users(std::string_view raw, std::vector<std::string>& out, std::string& error) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(raw.data(), raw.size());
  if (doc.HasParseError() || !doc.IsArray()) {
    error = "'users' must be an array of user ids";
    return false;
  }
  if (doc.Empty() || doc.Size() > kMaxOnlineQueryUsers) {
    error = "'users' must hold 1 to " + std::to_string(kMaxOnlineQueryUsers) + " user ids";
    return false;
  }
  for (const auto& v : doc.GetArray()) {
    if (!v.IsString() || !is_valid_user_id(std::string_view(v.GetString(), v.GetStringLength()))) {
      error = "'users' must hold valid user ids (1-128 bytes of UTF-8 without control characters or '/')";
      return false;
    }
    std::string user(v.GetString(), v.GetStringLength());
    // At most 100 entries: a linear scan keeps the first of duplicates.
    if (std::find(out.begin(), out.end(), user) == out.end()) out.push_back(std::move(user));
  }
  return true;
}

// The `since` object: {"epoch": string, "offset": integer 0..2^53}; other
// members are ignored.
bool parse_since(std::string_view raw, ClientMessage& m, std::string& error) {
  error = "'since' must be {\"epoch\": string, \"offset\": integer 0 to 2^53}";
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(raw.data(), raw.size());
  if (doc.HasParseError() || !doc.IsObject()) return false;
  auto epoch = doc.FindMember("epoch");
  auto offset = doc.FindMember("offset");
  if (epoch == doc.MemberEnd() || offset == doc.MemberEnd() || !epoch->value.IsString()) return false;
  std::string_view e(epoch->value.GetString(), epoch->value.GetStringLength());
  if (e.empty() || e.size() > kMaxEpochSize || !is_valid_utf8(e)) return false;
  // Integers only: 5.0, -1, "5" and anything past 2^53 are refused.
  if (!offset->value.IsUint64() || offset->value.GetUint64() > kMaxOffset) return false;
  m.since_offset = offset->value.GetUint64();
  m.since_epoch.assign(e);
  m.has_since = true;
  return true;
}

// A positive integer of at most max, from its raw JSON text (the top-level
// pass reads numbers as text).
bool parse_positive(const Field& f, uint64_t max, uint64_t& out) {
  if (!f.is_integer || f.raw.empty() || f.raw[0] == '-' || f.raw.size() > 20) return false;
  uint64_t v = 0;
  for (char ch : f.raw) {
    if (ch < '0' || ch > '9') return false;
    if (v > (UINT64_MAX - 9) / 10) return false;
    v = v * 10 + static_cast<uint64_t>(ch - '0');
  }
  if (v == 0 || v > max) return false;
  out = v;
  return true;
}

// Frames up to this size are parsed with the thread's reader, whose stack
// (decoded strings, nesting) is kept between frames: no allocation per
// frame. Bigger ones get a reader of their own, so one huge frame does not
// pin its memory for the thread's lifetime.
constexpr size_t kReusedReaderMaxFrame = 16 * 1024;

ParseResult parse(std::string_view frame, bool fast) {
  rapidjson::MemoryStream stream(frame.data(), frame.size());
  TopLevelHandler handler(frame, stream);
  if (!fast || !handler.scan(frame)) {
    handler.reset();
    // The handler only records offsets: parsing never re-enters here.
    thread_local rapidjson::Reader reused;
    std::optional<rapidjson::Reader> own;
    rapidjson::Reader& reader = frame.size() <= kReusedReaderMaxFrame ? reused : own.emplace();
    rapidjson::ParseResult parsed = reader.Parse<kParseFlags>(stream, handler);
    if (handler.too_deep) return fail(ErrorCode::kBadJson, "JSON nested too deeply");
    if (parsed.IsError() || !only_whitespace(frame.substr(stream.Tell())))
      return fail(ErrorCode::kBadJson, "frame is not valid JSON");
    if (!handler.root_is_object) return fail(ErrorCode::kBadJson, "frame is not a JSON object");
  }

  std::string id_json;
  if (handler.id.present) {
    if (!handler.id.is_string && !handler.id.is_integer)
      return fail(ErrorCode::kInvalidField, "'id' must be a string or an integer");
    id_json.assign(handler.id.raw);
  }
  if (!handler.type.present || !handler.type.is_string)
    return fail(ErrorCode::kMissingField, "'type' is required and must be a string", id_json);

  ParseResult r;
  ClientMessage& m = r.message;
  m.type_name.assign(handler.type.text);
  m.id_json = id_json;
  auto type = builtin_type(m.type_name);
  // RapidJSON 1.1 decodes a lone low-surrogate escape ("\udc00") into bytes
  // that are not UTF-8; such a name must not reach a host.
  if (!type && !is_valid_utf8(m.type_name))
    return fail(ErrorCode::kInvalidField, "'type' is not valid Unicode", id_json);
  if (!type) {
    m.type = MessageType::kCustom;
    r.ok = true;
    return r;
  }
  m.type = *type;

  auto require_string = [&](Field& f, const char* name) -> std::optional<ParseResult> {
    if (!f.present || !f.is_string)
      return fail(ErrorCode::kMissingField, std::string("'") + name + "' is required and must be a string",
                  id_json);
    return std::nullopt;
  };
  if (m.type == MessageType::kOnline) {
    if (!handler.users.present) return fail(ErrorCode::kMissingField, "'users' is required", id_json);
    std::string error;
    if (!parse_online_users(handler.users.raw, m.users, error))
      return fail(ErrorCode::kInvalidField, error, id_json);
  } else if (m.type == MessageType::kResumeDirect) {
    // No target: the stream is the connection's own user's.
  } else if (m.type == MessageType::kDirectMessage) {
    if (auto e = require_string(handler.to, "to")) return *e;
    if (!is_valid_user_id(handler.to.text))
      return fail(ErrorCode::kInvalidField,
                  "'to' must be 1-128 bytes of UTF-8 without control characters or '/'", id_json);
    m.to.assign(handler.to.text);
  } else {
    if (auto e = require_string(handler.room, "room")) return *e;
    if (!is_valid_room(handler.room.text))
      return fail(ErrorCode::kInvalidField, "'room' must be 1-128 bytes of UTF-8 without control characters",
                  id_json);
    m.room.assign(handler.room.text);
  }
  if (m.type == MessageType::kJoinRoom && handler.presence.present) {
    if (!handler.presence.is_bool)
      return fail(ErrorCode::kInvalidField, "'presence' must be true or false", id_json);
    m.presence =
        handler.presence.bool_value ? ClientMessage::PresenceFlag::kOn : ClientMessage::PresenceFlag::kOff;
  }
  if ((m.type == MessageType::kJoinRoom || m.type == MessageType::kResumeDirect) && handler.since.present) {
    std::string error;
    if (!parse_since(handler.since.raw, m, error)) return fail(ErrorCode::kInvalidField, error, id_json);
  }
  if (m.type == MessageType::kHistory) {
    if (handler.limit.present && !parse_positive(handler.limit, kMaxOffset, m.limit))
      return fail(ErrorCode::kInvalidField, "'limit' must be a positive integer", id_json);
    if (handler.before.present && !parse_positive(handler.before, kMaxOffset, m.before))
      return fail(ErrorCode::kInvalidField, "'before' must be an integer 1 to 2^53", id_json);
  }
  if (m.type == MessageType::kRoomMessage || m.type == MessageType::kDirectMessage) {
    if (!handler.content.present) return fail(ErrorCode::kMissingField, "'content' is required", id_json);
    m.content_json = handler.content.raw;
  }
  r.ok = true;
  return r;
}

}  // namespace

ParseResult parse_client_message(std::string_view frame) {
  return parse(frame, true);
}

ParseResult parse_client_message_full(std::string_view frame) {
  return parse(frame, false);
}

}  // namespace rtcore::protocol
