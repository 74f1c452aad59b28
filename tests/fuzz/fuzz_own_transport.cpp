// libFuzzer target: the own transport path's readers of client bytes
// (core/transport/upgrade_request.*, frame_reader.hpp).
//
//  - parse_upgrade_request on any bytes: never reads past them; what it
//    accepts is a head of at most kMaxOwnRequest bytes ending in a blank
//    line, a path that starts with '/' and holds no "//", no dot segment, no
//    control byte, space or '%' (the forms it leaves to lws), a query of
//    unreserved bytes, "%XX", '&' and '=' only, a 24-byte key; every prefix
//    of an accepted request is kIncomplete or kOther, never kUpgrade.
//  - sha1 equals OpenSSL's SHA1 on every input.
//  - FrameReader on any bytes, fed in one piece and again in pieces whose
//    sizes come from the input: both feeds see the same messages, the same
//    control frames and the same failure (the reader's state across reads
//    is what makes a frame split over TCP segments come out right).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/sha.h>

#include "fuzz_check.hpp"
#include "transport/frame_reader.hpp"
#include "transport/upgrade_request.hpp"

using namespace rtcore::transport;

namespace {

void check_request(std::string_view in) {
  ParsedUpgrade out;
  RequestParse r = parse_upgrade_request(in, out);
  if (r != RequestParse::kUpgrade) return;
  FUZZ_CHECK(out.length <= in.size() && out.length <= kMaxOwnRequest);
  FUZZ_CHECK(in.substr(0, out.length).ends_with("\r\n\r\n"));
  FUZZ_CHECK(!out.path.empty() && out.path.front() == '/');
  FUZZ_CHECK(out.path.find("//") == std::string::npos);
  FUZZ_CHECK(out.path.find("/./") == std::string::npos && out.path.find("/../") == std::string::npos);
  FUZZ_CHECK(!out.path.ends_with("/.") && !out.path.ends_with("/.."));
  for (unsigned char c : out.path) FUZZ_CHECK(c > 0x20 && c != 0x7f && c != '%' && c != '?' && c != '#');
  for (size_t i = 0; i < out.query.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(out.query[i]);
    bool plain = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
                 c == '.' || c == '_' || c == '~' || c == '&' || c == '=' || c == '%';
    FUZZ_CHECK(plain);
    if (c == '%') FUZZ_CHECK(i + 2 < out.query.size());
  }
  FUZZ_CHECK(out.key.size() == 24);
  // No prefix of it is already an upgrade.
  for (size_t n = 0; n < out.length; n += 1 + n / 8) {
    ParsedUpgrade part;
    FUZZ_CHECK(parse_upgrade_request(in.substr(0, n), part) != RequestParse::kUpgrade);
  }
}

struct Log {
  std::string messages;  // "T:<bytes>|" per message, "B:" for binary; controls as "C<op>:<bytes>|"
  std::string current;
  bool in_message = false;
  bool data(char* p, size_t n, bool first, bool final, bool binary, size_t) {
    FUZZ_CHECK(first == !in_message);
    in_message = !final;
    current.append(p, n);
    if (final) {
      messages += binary ? "B:" : "T:";
      messages += current;
      messages += "|";
      current.clear();
    }
    return true;
  }
  bool control(uint8_t op, char* p, size_t n) {
    FUZZ_CHECK(n <= 125);
    FUZZ_CHECK(op == kOpClose || op == kOpPing || op == kOpPong);
    messages += "C" + std::to_string(op) + ":" + std::string(p, n) + "|";
    return true;
  }
};

void check_frames(const uint8_t* data, size_t size) {
  if (size < 1) return;
  // The first byte seeds the piece sizes; the rest is the stream.
  unsigned seed = data[0];
  std::string whole(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string pieces = whole;

  FrameReader a;
  Log la;
  size_t used = a.feed(whole.data(), whole.size(), la);
  FUZZ_CHECK(used <= whole.size());
  if (!a.failed()) FUZZ_CHECK(used == whole.size());

  FrameReader b;
  Log lb;
  size_t off = 0;
  while (off < pieces.size() && !b.failed()) {
    seed = seed * 1103515245u + 12345u;
    size_t n = std::min<size_t>(pieces.size() - off, 1 + (seed >> 16) % 97);
    size_t got = b.feed(pieces.data() + off, n, lb);
    if (!b.failed()) FUZZ_CHECK(got == n);
    off += n;
  }
  FUZZ_CHECK((a.failed() == nullptr) == (b.failed() == nullptr));
  if (!a.failed()) {
    FUZZ_CHECK(la.messages == lb.messages);
    FUZZ_CHECK(la.current == lb.current);
    FUZZ_CHECK(a.in_message() == b.in_message());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The accept key's SHA-1 against OpenSSL's, on every input.
  unsigned char ours[20], theirs[20];
  sha1(data, size, ours);
  SHA1(data, size, theirs);
  FUZZ_CHECK(std::memcmp(ours, theirs, 20) == 0);
  check_request(std::string_view(reinterpret_cast<const char*>(data), size));
  check_frames(data, size);
  return 0;
}
