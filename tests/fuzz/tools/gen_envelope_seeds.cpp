// Writes the envelope target's seed corpus with the engine's own encoder
// (plus hand-packed malformed variants). The output is committed; rebuild
// and rerun only to change the seeds:
//
//   clang++ -std=c++20 -DMSGPACK_NO_BOOST -Icore tests/fuzz/tools/gen_envelope_seeds.cpp \
//     core/backplane/envelope.cpp -o /tmp/gen_envelope_seeds
//   /tmp/gen_envelope_seeds tests/fuzz/corpus/envelope
#include <msgpack.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "backplane/envelope.hpp"

namespace {

std::filesystem::path dir;

void write(const std::string& name, std::string_view bytes) {
  std::ofstream(dir / name, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

using Packer = msgpack::packer<msgpack::sbuffer>;

void str(Packer& pk, std::string_view s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

void bin(Packer& pk, std::string_view s) {
  pk.pack_bin(static_cast<uint32_t>(s.size()));
  pk.pack_bin_body(s.data(), static_cast<uint32_t>(s.size()));
}

// A hand-packed map; each entry appends one key/value pair.
template <typename F>
void packed(const std::string& name, uint32_t entries, F body) {
  msgpack::sbuffer buf;
  Packer pk(buf);
  pk.pack_map(entries);
  body(pk);
  write(name, std::string_view(buf.data(), buf.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  dir = argv[1];
  std::filesystem::create_directories(dir);
  using rtcore::encode_envelope;
  using rtcore::EnvelopeKind;

  // Valid envelopes from the encoder.
  write(
      "room",
      encode_envelope(
          "node-a", EnvelopeKind::kRoom, "general",
          R"({"type":"message","room":"general","from":"alice","content":"hi","timestamp":"2026-11-28T16:40:27.123Z"})"));
  write(
      "user",
      encode_envelope(
          "node-b", EnvelopeKind::kUser, "bob",
          R"({"type":"direct_message","from":"alice","content":{"x":[1,2]},"timestamp":"2026-11-28T16:40:27.123Z"})"));
  write(
      "presence",
      encode_envelope(
          "n", EnvelopeKind::kRoom, "lobby",
          R"({"type":"presence","user":"alice","status":"online","timestamp":"2026-11-28T16:40:27.123Z"})"));
  write("empty-fields", encode_envelope("", EnvelopeKind::kRoom, "", ""));
  write("unicode", encode_envelope("n\xc3\xa9", EnvelopeKind::kUser, "caf\xc3\xa9", "\"\xf0\x9f\x98\x80\""));
  write("str8", encode_envelope(std::string(40, 'o'), EnvelopeKind::kRoom, std::string(100, 't'),
                                std::string(200, 'f')));
  write("str16", encode_envelope("n", EnvelopeKind::kRoom, "r", std::string(1000, 'f')));
  write("binary-bytes", encode_envelope(std::string("\0\xff", 2), EnvelopeKind::kUser, std::string("\x80", 1),
                                        std::string("\0\1\2\xfe", 4)));

  // Variants a peer might send, valid and not.
  packed("bin-fields", 5, [](Packer& pk) {
    bin(pk, "v");
    pk.pack(1);
    bin(pk, "o");
    bin(pk, "n");
    bin(pk, "k");
    bin(pk, "room");
    bin(pk, "t");
    bin(pk, "r");
    bin(pk, "f");
    bin(pk, "{}");
  });
  packed("reordered-extra-key", 6, [](Packer& pk) {
    str(pk, "f");
    str(pk, "{}");
    str(pk, "x");
    pk.pack_array(0);
    str(pk, "t");
    str(pk, "r");
    str(pk, "k");
    str(pk, "user");
    str(pk, "o");
    str(pk, "n");
    str(pk, "v");
    pk.pack(1);
  });
  packed("duplicate-key", 6, [](Packer& pk) {
    str(pk, "v");
    pk.pack(1);
    str(pk, "o");
    str(pk, "n");
    str(pk, "k");
    str(pk, "room");
    str(pk, "t");
    str(pk, "r");
    str(pk, "f");
    str(pk, "a");
    str(pk, "f");
    str(pk, "b");
  });
  packed("version-2", 5, [](Packer& pk) {
    str(pk, "v");
    pk.pack(2);
    str(pk, "o");
    str(pk, "n");
    str(pk, "k");
    str(pk, "room");
    str(pk, "t");
    str(pk, "r");
    str(pk, "f");
    str(pk, "{}");
  });
  packed("version-huge", 5, [](Packer& pk) {
    str(pk, "v");
    pk.pack(uint64_t{0xFFFFFFFFFFFFFFFFull});
    str(pk, "o");
    str(pk, "n");
    str(pk, "k");
    str(pk, "room");
    str(pk, "t");
    str(pk, "r");
    str(pk, "f");
    str(pk, "{}");
  });
  packed("version-negative", 5, [](Packer& pk) {
    str(pk, "v");
    pk.pack(-1);
    str(pk, "o");
    str(pk, "n");
    str(pk, "k");
    str(pk, "room");
    str(pk, "t");
    str(pk, "r");
    str(pk, "f");
    str(pk, "{}");
  });
  packed("version-string", 5, [](Packer& pk) {
    str(pk, "v");
    str(pk, "1");
    str(pk, "o");
    str(pk, "n");
    str(pk, "k");
    str(pk, "room");
    str(pk, "t");
    str(pk, "r");
    str(pk, "f");
    str(pk, "{}");
  });
  packed("bad-kind", 5, [](Packer& pk) {
    str(pk, "v");
    pk.pack(1);
    str(pk, "o");
    str(pk, "n");
    str(pk, "k");
    str(pk, "both");
    str(pk, "t");
    str(pk, "r");
    str(pk, "f");
    str(pk, "{}");
  });
  packed("missing-frame", 4, [](Packer& pk) {
    str(pk, "v");
    pk.pack(1);
    str(pk, "o");
    str(pk, "n");
    str(pk, "k");
    str(pk, "room");
    str(pk, "t");
    str(pk, "r");
  });
  packed("int-key", 5, [](Packer& pk) {
    pk.pack(1);
    pk.pack(1);
    str(pk, "o");
    str(pk, "n");
    str(pk, "k");
    str(pk, "room");
    str(pk, "t");
    str(pk, "r");
    str(pk, "f");
    str(pk, "{}");
  });
  packed("nested-map", 5, [](Packer& pk) {
    str(pk, "v");
    pk.pack(1);
    str(pk, "o");
    pk.pack_map(1);
    str(pk, "a");
    str(pk, "b");
    str(pk, "k");
    str(pk, "room");
    str(pk, "t");
    str(pk, "r");
    str(pk, "f");
    str(pk, "{}");
  });
  packed("frame-nil", 5, [](Packer& pk) {
    str(pk, "v");
    pk.pack(1);
    str(pk, "o");
    str(pk, "n");
    str(pk, "k");
    str(pk, "room");
    str(pk, "t");
    str(pk, "r");
    str(pk, "f");
    pk.pack_nil();
  });
  packed("too-many-entries", 17, [](Packer& pk) {
    for (int i = 0; i < 17; ++i) {
      str(pk, "x");
      pk.pack(i);
    }
  });
  {
    std::string ok = encode_envelope("node-a", EnvelopeKind::kRoom, "general", "{\"type\":\"message\"}");
    write("truncated", std::string_view(ok).substr(0, ok.size() - 3));
    write("trailing-bytes", ok + "\xc0\xc0");
    write("two-envelopes", ok + ok);
  }
  write("not-a-map", std::string("\x93\x01\x02\x03", 4));
  write("str-root", std::string("\xa4room", 5));
  write("empty", "");
  write("huge-declared-str", std::string("\x85\xa1v\x01\xa1o\xdb\xff\xff\xff\xf0", 10));
  write("huge-declared-map", std::string("\xdf\xff\xff\xff\xff", 5));
  write("huge-declared-array", std::string("\xdd\xff\xff\xff\xff", 5));
  write("ext", std::string("\xc7\x03\x01"
                           "abc",
                           6));
  write("deep-arrays", std::string(64, '\x91') + "\x01");
  write("json-not-msgpack", "{\"v\":1,\"o\":\"n\",\"k\":\"room\",\"t\":\"r\",\"f\":\"{}\"}");
  return 0;
}
