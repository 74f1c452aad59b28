#include "backplane/envelope.hpp"

#include <msgpack.hpp>

namespace rtcore {
namespace {

// Bounds for decoding untrusted bytes: an envelope is one flat map.
const msgpack::unpack_limit kLimits(/*array=*/0, /*map=*/16, /*str=*/64 * 1024 * 1024, /*bin=*/64 * 1024 * 1024,
                                    /*ext=*/0, /*depth=*/2);

bool read_string(const msgpack::object& o, std::string& out) {
  if (o.type == msgpack::type::STR) {
    out.assign(o.via.str.ptr, o.via.str.size);
    return true;
  }
  if (o.type == msgpack::type::BIN) {
    out.assign(o.via.bin.ptr, o.via.bin.size);
    return true;
  }
  return false;
}

}  // namespace

std::string encode_envelope_head(std::string_view origin, EnvelopeKind kind, std::string_view target,
                                 uint64_t sent_ms, uint32_t extra_keys) {
  msgpack::sbuffer buf(64 + origin.size() + target.size());
  msgpack::packer<msgpack::sbuffer> pk(buf);
  auto str = [&](std::string_view s) {
    pk.pack_str(static_cast<uint32_t>(s.size()));
    pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
  };
  pk.pack_map((sent_ms != 0 ? 5 : 4) + extra_keys);
  str("v");
  pk.pack(kEnvelopeVersion);
  str("o");
  str(origin);
  str("k");
  str(kind == EnvelopeKind::kRoom ? "room" : "user");
  str("t");
  str(target);
  if (sent_ms != 0) {
    str("ms");
    pk.pack_uint64(sent_ms);
  }
  return std::string(buf.data(), buf.size());
}

std::string encode_envelope(std::string_view origin, EnvelopeKind kind, std::string_view target,
                            std::string_view frame, uint64_t sent_ms) {
  msgpack::sbuffer buf(64 + origin.size() + target.size() + frame.size());
  msgpack::packer<msgpack::sbuffer> pk(buf);
  auto str = [&](std::string_view s) {
    pk.pack_str(static_cast<uint32_t>(s.size()));
    pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
  };
  pk.pack_map(sent_ms != 0 ? 6 : 5);
  str("v");
  pk.pack(kEnvelopeVersion);
  str("o");
  str(origin);
  str("k");
  str(kind == EnvelopeKind::kRoom ? "room" : "user");
  str("t");
  str(target);
  str("f");
  str(frame);
  if (sent_ms != 0) {
    str("ms");
    pk.pack_uint64(sent_ms);
  }
  return std::string(buf.data(), buf.size());
}

std::string encode_envelope(const Envelope& e) {
  if (e.offset == 0) return encode_envelope(e.origin, e.kind, e.target, e.frame, e.sent_ms);
  // What the append script writes (history/redis_history_scripts.hpp).
  std::string out = encode_envelope_head(e.origin, e.kind, e.target, e.sent_ms, 3);
  msgpack::sbuffer buf(32 + e.epoch.size() + e.frame.size());
  msgpack::packer<msgpack::sbuffer> pk(buf);
  auto str = [&](std::string_view s) {
    pk.pack_str(static_cast<uint32_t>(s.size()));
    pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
  };
  str("ep");
  str(e.epoch);
  str("off");
  pk.pack_uint64(e.offset);
  str("f");
  str(e.frame);
  out.append(buf.data(), buf.size());
  return out;
}

std::optional<Envelope> decode_envelope(std::string_view bytes) {
  try {
    msgpack::object_handle oh = msgpack::unpack(bytes.data(), bytes.size(), nullptr, nullptr, kLimits);
    const msgpack::object& root = oh.get();
    if (root.type != msgpack::type::MAP) return std::nullopt;
    Envelope e;
    bool has_v = false, has_o = false, has_k = false, has_t = false, has_f = false;
    for (uint32_t i = 0; i < root.via.map.size; ++i) {
      const auto& kv = root.via.map.ptr[i];
      std::string key, kind;
      if (!read_string(kv.key, key)) return std::nullopt;
      if (key == "v") {
        if (kv.val.type != msgpack::type::POSITIVE_INTEGER) return std::nullopt;
        e.version = static_cast<int>(kv.val.via.u64 > 1000 ? 1000 : kv.val.via.u64);
        has_v = true;
      } else if (key == "o") {
        has_o = read_string(kv.val, e.origin);
      } else if (key == "k") {
        if (!read_string(kv.val, kind)) return std::nullopt;
        if (kind == "room") e.kind = EnvelopeKind::kRoom;
        else if (kind == "user") e.kind = EnvelopeKind::kUser;
        else return std::nullopt;
        has_k = true;
      } else if (key == "t") {
        has_t = read_string(kv.val, e.target);
      } else if (key == "f") {
        has_f = read_string(kv.val, e.frame);
      } else if (key == "ms") {
        if (kv.val.type != msgpack::type::POSITIVE_INTEGER) return std::nullopt;
        e.sent_ms = kv.val.via.u64;
      } else if (key == "ep") {
        if (!read_string(kv.val, e.epoch) || e.epoch.empty()) return std::nullopt;
      } else if (key == "off") {
        if (kv.val.type != msgpack::type::POSITIVE_INTEGER || kv.val.via.u64 == 0) return std::nullopt;
        e.offset = kv.val.via.u64;
      }
    }
    if (!has_v || !has_o || !has_k || !has_t || !has_f || e.version != kEnvelopeVersion) return std::nullopt;
    if (e.epoch.empty() != (e.offset == 0)) return std::nullopt;  // both or neither
    return e;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace rtcore
