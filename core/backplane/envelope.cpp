#include "backplane/envelope.hpp"

#include <msgpack.hpp>

#include <cstring>

namespace rtcore {
namespace {

// Bounds for decoding untrusted bytes: an envelope is one flat map.
const msgpack::unpack_limit kLimits(/*array=*/0, /*map=*/16, /*str=*/64 * 1024 * 1024,
                                    /*bin=*/64 * 1024 * 1024,
                                    /*ext=*/0, /*depth=*/2);

// MessagePack, written directly (what msgpack-c's packer writes for the
// same calls: the smallest form of each; tests/fuzz/fuzz_envelope.cpp
// compares the bytes).
size_t str_size(size_t n) {
  return (n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5) + n;
}
size_t uint_size(uint64_t v) {
  return v < 128 ? 1 : v < (1ULL << 8) ? 2 : v < (1ULL << 16) ? 3 : v < (1ULL << 32) ? 5 : 9;
}
size_t map_size(uint32_t n) {
  return n < 16 ? 1 : n < 65536 ? 3 : 5;
}

char* put_be(char* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) *out++ = static_cast<char>(v >> (8 * i));
  return out;
}
char* put_str(char* out, std::string_view s) {
  size_t n = s.size();
  if (n < 32) {
    *out++ = static_cast<char>(0xa0 | n);
  } else if (n < 256) {
    *out++ = static_cast<char>(0xd9);
    out = put_be(out, n, 1);
  } else if (n < 65536) {
    *out++ = static_cast<char>(0xda);
    out = put_be(out, n, 2);
  } else {
    *out++ = static_cast<char>(0xdb);
    out = put_be(out, n, 4);
  }
  if (n) std::memcpy(out, s.data(), n);
  return out + n;
}
char* put_uint(char* out, uint64_t v) {
  if (v < 128) {
    *out++ = static_cast<char>(v);
  } else if (v < (1ULL << 8)) {
    *out++ = static_cast<char>(0xcc);
    out = put_be(out, v, 1);
  } else if (v < (1ULL << 16)) {
    *out++ = static_cast<char>(0xcd);
    out = put_be(out, v, 2);
  } else if (v < (1ULL << 32)) {
    *out++ = static_cast<char>(0xce);
    out = put_be(out, v, 4);
  } else {
    *out++ = static_cast<char>(0xcf);
    out = put_be(out, v, 8);
  }
  return out;
}
char* put_map(char* out, uint32_t n) {
  if (n < 16) {
    *out++ = static_cast<char>(0x80 | n);
  } else if (n < 65536) {
    *out++ = static_cast<char>(0xde);
    out = put_be(out, n, 2);
  } else {
    *out++ = static_cast<char>(0xdf);
    out = put_be(out, n, 4);
  }
  return out;
}

std::string_view kind_name(EnvelopeKind kind) {
  return kind == EnvelopeKind::kRoom ? "room" : "user";
}

// The fixed keys {"v","o","k","t"} and their values: size, then bytes.
size_t head_keys_size(std::string_view origin, EnvelopeKind kind, std::string_view target) {
  return 4 * 2 + uint_size(kEnvelopeVersion) + str_size(origin.size()) + str_size(kind_name(kind).size()) +
         str_size(target.size());
}
char* put_head_keys(char* out, std::string_view origin, EnvelopeKind kind, std::string_view target) {
  out = put_str(out, "v");
  out = put_uint(out, kEnvelopeVersion);
  out = put_str(out, "o");
  out = put_str(out, origin);
  out = put_str(out, "k");
  out = put_str(out, kind_name(kind));
  out = put_str(out, "t");
  return put_str(out, target);
}

// One member of the map, as the interpretation below needs it.
struct Value {
  enum Type { kUint, kString, kOther } type = kOther;
  uint64_t u = 0;
  std::string_view s;
};

// Interprets the members one by one, as they come (later duplicates win).
class Builder {
 public:
  // False: the envelope is refused.
  bool member(bool key_is_string, std::string_view key, const Value& v) {
    if (!key_is_string) return false;
    if (key == "v") {
      if (v.type != Value::kUint) return false;
      e_.version = static_cast<int>(v.u > 1000 ? 1000 : v.u);
      has_v_ = true;
    } else if (key == "o") {
      has_o_ = v.type == Value::kString;
      if (has_o_) e_.origin = v.s;
    } else if (key == "k") {
      if (v.type != Value::kString) return false;
      if (v.s == "room")
        e_.kind = EnvelopeKind::kRoom;
      else if (v.s == "user")
        e_.kind = EnvelopeKind::kUser;
      else
        return false;
      has_k_ = true;
    } else if (key == "t") {
      has_t_ = v.type == Value::kString;
      if (has_t_) e_.target = v.s;
    } else if (key == "f") {
      has_f_ = v.type == Value::kString;
      if (has_f_) e_.frame = v.s;
    } else if (key == "ms") {
      if (v.type != Value::kUint) return false;
      e_.sent_ms = v.u;
    } else if (key == "ep") {
      if (v.type != Value::kString || v.s.empty()) return false;
      e_.epoch = v.s;
    } else if (key == "off") {
      if (v.type != Value::kUint || v.u == 0) return false;
      e_.offset = v.u;
    }
    return true;
  }
  std::optional<EnvelopeView> finish() const {
    if (!has_v_ || !has_o_ || !has_k_ || !has_t_ || !has_f_ || e_.version != kEnvelopeVersion)
      return std::nullopt;
    if (e_.epoch.empty() != (e_.offset == 0)) return std::nullopt;  // both or neither
    return e_;
  }

 private:
  EnvelopeView e_;
  bool has_v_ = false, has_o_ = false, has_k_ = false, has_t_ = false, has_f_ = false;
};

// Reads what encode_envelope writes: a fixmap, fixstr keys, values that are
// unsigned integers or str8/16/32 strings, and nothing after the map. nullopt
// on anything else (not a verdict: msgpack-c decides those).
struct Fast {
  const unsigned char* p;
  const unsigned char* end;

  bool be(int bytes, uint64_t& out) {
    if (end - p < bytes) return false;
    out = 0;
    for (int i = 0; i < bytes; ++i) out = (out << 8) | *p++;
    return true;
  }
  bool str(size_t n, std::string_view& out) {
    if (n > 64 * 1024 * 1024 || static_cast<size_t>(end - p) < n) return false;
    out = std::string_view(reinterpret_cast<const char*>(p), n);
    p += n;
    return true;
  }
  bool value(Value& v) {
    if (p >= end) return false;
    unsigned char c = *p++;
    uint64_t n = 0;
    if (c < 0x80) {
      v.type = Value::kUint;
      v.u = c;
      return true;
    }
    if (c >= 0xcc && c <= 0xcf) {
      v.type = Value::kUint;
      return be(1 << (c - 0xcc), v.u);
    }
    v.type = Value::kString;
    if ((c & 0xe0) == 0xa0) return str(c & 0x1f, v.s);
    if (c == 0xd9) return be(1, n) && str(n, v.s);
    if (c == 0xda) return be(2, n) && str(n, v.s);
    if (c == 0xdb) return be(4, n) && str(n, v.s);
    return false;
  }
};

// Outcome of the fast read: the envelope, refused, or not ours to judge.
enum class FastResult { kOk, kRefused, kUnsure };

FastResult decode_fast(std::string_view bytes, std::optional<EnvelopeView>& out) {
  Fast f{reinterpret_cast<const unsigned char*>(bytes.data()),
         reinterpret_cast<const unsigned char*>(bytes.data()) + bytes.size()};
  if (f.p >= f.end || (*f.p & 0xf0) != 0x80) return FastResult::kUnsure;
  uint32_t n = *f.p++ & 0x0f;
  // msgpack-c refuses a malformed map as a whole, before any member is
  // looked at: members are interpreted as they are read, but a refusal
  // counts only once the whole map proved well formed.
  Builder b;
  bool refused = false;
  for (uint32_t i = 0; i < n; ++i) {
    std::string_view key;
    Value value;
    if (f.p >= f.end || (*f.p & 0xe0) != 0xa0) return FastResult::kUnsure;
    if (!f.str(*f.p++ & 0x1f, key) || !f.value(value)) return FastResult::kUnsure;
    if (!refused && !b.member(true, key, value)) refused = true;
  }
  if (f.p != f.end) return FastResult::kUnsure;
  if (refused) return FastResult::kRefused;
  out = b.finish();
  return out ? FastResult::kOk : FastResult::kRefused;
}

// Strings are referenced, not copied into the zone: the views point into
// the input bytes and outlive the object handle.
bool reference_strings(msgpack::type::object_type, std::size_t, void*) {
  return true;
}

Value value_of(const msgpack::object& o) {
  Value v;
  if (o.type == msgpack::type::POSITIVE_INTEGER) {
    v.type = Value::kUint;
    v.u = o.via.u64;
  } else if (o.type == msgpack::type::STR) {
    v.type = Value::kString;
    v.s = std::string_view(o.via.str.ptr, o.via.str.size);
  } else if (o.type == msgpack::type::BIN) {
    v.type = Value::kString;
    v.s = std::string_view(o.via.bin.ptr, o.via.bin.size);
  }
  return v;
}

}  // namespace

std::string encode_envelope_head(std::string_view origin, EnvelopeKind kind, std::string_view target,
                                 uint64_t sent_ms, uint32_t extra_keys) {
  uint32_t keys = (sent_ms != 0 ? 5 : 4) + extra_keys;
  size_t size =
      map_size(keys) + head_keys_size(origin, kind, target) + (sent_ms != 0 ? 3 + uint_size(sent_ms) : 0);
  std::string out(size, '\0');
  char* p = put_map(out.data(), keys);
  p = put_head_keys(p, origin, kind, target);
  if (sent_ms != 0) {
    p = put_str(p, "ms");
    p = put_uint(p, sent_ms);
  }
  return out;
}

size_t envelope_size(std::string_view origin, EnvelopeKind kind, std::string_view target,
                     std::string_view frame, uint64_t sent_ms) {
  // {"v","o","k","t","f"[,"ms"]}
  return map_size(sent_ms != 0 ? 6 : 5) + head_keys_size(origin, kind, target) + 2 + str_size(frame.size()) +
         (sent_ms != 0 ? 3 + uint_size(sent_ms) : 0);
}

char* write_envelope(char* out, std::string_view origin, EnvelopeKind kind, std::string_view target,
                     std::string_view frame, uint64_t sent_ms) {
  out = put_map(out, sent_ms != 0 ? 6 : 5);
  out = put_head_keys(out, origin, kind, target);
  out = put_str(out, "f");
  out = put_str(out, frame);
  if (sent_ms != 0) {
    out = put_str(out, "ms");
    out = put_uint(out, sent_ms);
  }
  return out;
}

std::string encode_envelope(std::string_view origin, EnvelopeKind kind, std::string_view target,
                            std::string_view frame, uint64_t sent_ms) {
  // One allocation, the exact size.
  std::string out(envelope_size(origin, kind, target, frame, sent_ms), '\0');
  write_envelope(out.data(), origin, kind, target, frame, sent_ms);
  return out;
}

std::string encode_envelope(const Envelope& e) {
  if (e.offset == 0) return encode_envelope(e.origin, e.kind, e.target, e.frame, e.sent_ms);
  // What the append script writes (history/redis_history_scripts.hpp).
  std::string out = encode_envelope_head(e.origin, e.kind, e.target, e.sent_ms, 3);
  size_t head = out.size();
  out.resize(head + 3 + str_size(e.epoch.size()) + 4 + uint_size(e.offset) + 2 + str_size(e.frame.size()));
  char* p = out.data() + head;
  p = put_str(p, "ep");
  p = put_str(p, e.epoch);
  p = put_str(p, "off");
  p = put_uint(p, e.offset);
  p = put_str(p, "f");
  put_str(p, e.frame);
  return out;
}

Envelope EnvelopeView::to_envelope() const {
  Envelope e;
  e.version = version;
  e.origin.assign(origin);
  e.kind = kind;
  e.target.assign(target);
  e.frame.assign(frame);
  e.sent_ms = sent_ms;
  e.epoch.assign(epoch);
  e.offset = offset;
  return e;
}

std::optional<EnvelopeView> decode_envelope_view_full(std::string_view bytes) {
  try {
    msgpack::object_handle oh =
        msgpack::unpack(bytes.data(), bytes.size(), &reference_strings, nullptr, kLimits);
    const msgpack::object& root = oh.get();
    if (root.type != msgpack::type::MAP) return std::nullopt;
    Builder b;
    for (uint32_t i = 0; i < root.via.map.size; ++i) {
      const auto& kv = root.via.map.ptr[i];
      Value key = value_of(kv.key);
      if (!b.member(key.type == Value::kString, key.s, value_of(kv.val))) return std::nullopt;
    }
    return b.finish();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<EnvelopeView> decode_envelope_view(std::string_view bytes) {
  std::optional<EnvelopeView> e;
  switch (decode_fast(bytes, e)) {
    case FastResult::kOk: return e;
    case FastResult::kRefused: return std::nullopt;
    case FastResult::kUnsure: break;
  }
  return decode_envelope_view_full(bytes);
}

std::optional<Envelope> decode_envelope(std::string_view bytes) {
  std::optional<EnvelopeView> v = decode_envelope_view(bytes);
  if (!v) return std::nullopt;
  return v->to_envelope();
}

}  // namespace rtcore
