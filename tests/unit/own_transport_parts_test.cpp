// The own transport path's pure parts: the upgrade request parser
// (transport/upgrade_request.hpp) and the client frame reader
// (transport/frame_reader.hpp). What the two paths make of the same request
// on a real socket is compared in ws_server_test.cpp.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "transport/frame_reader.hpp"
#include "transport/upgrade_request.hpp"

namespace {

using namespace rtcore::transport;

std::string request(const std::string& target, const std::string& extra = "") {
  return "GET " + target +
         " HTTP/1.1\r\nHost: 127.0.0.1:1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
         extra + "\r\n";
}

RequestParse parse(const std::string& in, ParsedUpgrade& out) {
  return parse_upgrade_request(in, out);
}

TEST(UpgradeRequest, PlainRequestIsParsed) {
  ParsedUpgrade out;
  std::string in = request("/ws/al%69ce?token=a%2Fb&x", "Origin: http://x\r\nCookie: c=1\r\n") + "tail";
  ASSERT_EQ(parse(in, out), RequestParse::kUpgrade);
  EXPECT_EQ(out.path, "/ws/alice");
  EXPECT_EQ(out.query, "token=a%2Fb&x");
  EXPECT_EQ(out.key, "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(out.length, in.size() - 4);
  // Forwarded headers in their fixed order, whatever the request's order.
  ASSERT_EQ(out.headers.size(), 3u);
  EXPECT_EQ(out.headers[0].first, "host");
  EXPECT_EQ(out.headers[1].first, "origin");
  EXPECT_EQ(out.headers[2].first, "cookie");
  EXPECT_EQ(out.headers[2].second, "c=1");
}

TEST(UpgradeRequest, QueryIsReencodedLikeTheLwsPath) {
  ParsedUpgrade out;
  ASSERT_EQ(parse(request("/ws/a?a=b%3Dc%26d&e=%C3%A9&f"), out), RequestParse::kUpgrade);
  EXPECT_EQ(out.query, "a=b%3Dc%26d&e=%C3%A9&f");
  // lws makes "a_b=c" of this one: not the plain form.
  EXPECT_EQ(parse(request("/ws/a?a%3Db=c"), out), RequestParse::kOther);
}

TEST(UpgradeRequest, IncompleteUntilTheBlankLine) {
  ParsedUpgrade out;
  std::string in = request("/ws/a");
  for (size_t n = 0; n + 1 < in.size(); ++n)
    EXPECT_EQ(parse(in.substr(0, n), out), RequestParse::kIncomplete) << n;
  EXPECT_EQ(parse(in, out), RequestParse::kUpgrade);
}

TEST(UpgradeRequest, UnusualFormsGoToLws) {
  ParsedUpgrade out;
  for (const char* target :
       {"/ws/a+b",   "/ws/a%20b",  "/ws//a",      "/ws/./a",   "/ws/x/../a",  "/ws/a/",  "/ws/%2e%2e/a",
        "/ws/a%2Fb", "/ws/a%zz",   "/ws/a%00",    "/ws/a%0D",  "/ws/a;b",     "/ws/a&b", "/ws/a#f",
        "/ws/a?",    "/ws/a?x&&y", "/ws/a?x=1;y", "/ws/a?x+y", "/ws/a?x=%00", "ws/a",    "*"})
    EXPECT_EQ(parse(request(target), out), RequestParse::kOther) << target;
  // Not an upgrade, or not the plain form of one.
  EXPECT_EQ(parse("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", out), RequestParse::kOther);
  EXPECT_EQ(parse("POST /ws/a HTTP/1.1\r\n", out), RequestParse::kOther);
  EXPECT_EQ(parse("\x16\x03\x01", out), RequestParse::kOther);  // TLS on a plain port
  EXPECT_EQ(parse("GET /ws/a HTTP/1.1\nHost: x\n", out), RequestParse::kOther);
  EXPECT_EQ(parse(request("/ws/a", "Cookie: a\r\nCookie: b\r\n"), out), RequestParse::kOther);
  EXPECT_EQ(parse(request("/ws/a", "Origin: x \r\n"), out), RequestParse::kOther);
  EXPECT_EQ(parse(request("/ws/a", "Origin:\r\n"), out), RequestParse::kOther);
  EXPECT_EQ(parse(request("/ws/a", "Content-Length: 0\r\n"), out), RequestParse::kOther);
  EXPECT_EQ(parse(request("/ws/a", " folded\r\n"), out), RequestParse::kOther);
  std::string v12 = request("/ws/a");
  v12.replace(v12.find("Version: 13"), 11, "Version: 12");
  EXPECT_EQ(parse(v12, out), RequestParse::kOther);
  std::string huge = request("/ws/a", "Cookie: " + std::string(kMaxOwnRequest, 'c') + "\r\n");
  EXPECT_EQ(parse(huge, out), RequestParse::kOther);
  EXPECT_EQ(parse(huge.substr(0, kMaxOwnRequest), out), RequestParse::kOther);
}

std::string sha1_hex(const std::string& in) {
  unsigned char d[20];
  sha1(reinterpret_cast<const unsigned char*>(in.data()), in.size(), d);
  std::string hex;
  for (unsigned char c : d) {
    hex.push_back("0123456789abcdef"[c >> 4]);
    hex.push_back("0123456789abcdef"[c & 15]);
  }
  return hex;
}

TEST(UpgradeRequest, Sha1MatchesFips180Vectors) {
  EXPECT_EQ(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(sha1_hex(std::string(1000000, 'a')), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(UpgradeRequest, AcceptKeyIsRfc6455s) {
  // RFC 6455 section 1.3's example.
  EXPECT_EQ(websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

// ---------------------------------------------------------------- frames

struct Event {
  bool control;
  uint8_t opcode;
  std::string data;
  bool first, final, binary;
  size_t remaining;
};

struct Recorder {
  std::vector<Event> events;
  size_t stop_after = SIZE_MAX;
  bool data(char* p, size_t n, bool first, bool final, bool binary, size_t remaining) {
    events.push_back({false, 0, std::string(p, n), first, final, binary, remaining});
    return events.size() < stop_after;
  }
  bool control(uint8_t opcode, char* p, size_t n) {
    events.push_back({true, opcode, std::string(p, n), true, true, false, 0});
    return events.size() < stop_after;
  }
};

std::string frame(uint8_t b0, const std::string& payload, bool masked = true) {
  std::string f(1, static_cast<char>(b0));
  uint8_t m = masked ? 0x80 : 0;
  if (payload.size() < 126) {
    f.push_back(static_cast<char>(m | payload.size()));
  } else if (payload.size() < 65536) {
    f.push_back(static_cast<char>(m | 126));
    f.push_back(static_cast<char>(payload.size() >> 8));
    f.push_back(static_cast<char>(payload.size() & 0xFF));
  } else {
    f.push_back(static_cast<char>(m | 127));
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((uint64_t{payload.size()} >> (8 * i)) & 0xFF));
  }
  const char mask[4] = {'\x37', '\xfa', '\x21', '\x3d'};
  if (masked) f.append(mask, 4);
  for (size_t i = 0; i < payload.size(); ++i)
    f.push_back(masked ? static_cast<char>(payload[i] ^ mask[i % 4]) : payload[i]);
  return f;
}

TEST(FrameReader, WholeAndEmptyMessages) {
  std::string in = frame(0x81, "hello") + frame(0x82, "") + frame(0x89, "p") + frame(0x8A, "");
  FrameReader r;
  Recorder rec;
  EXPECT_EQ(r.feed(in.data(), in.size(), rec), in.size());
  ASSERT_EQ(rec.events.size(), 4u);
  EXPECT_EQ(rec.events[0].data, "hello");
  EXPECT_TRUE(rec.events[0].first && rec.events[0].final && !rec.events[0].binary);
  EXPECT_TRUE(rec.events[1].final && rec.events[1].binary && rec.events[1].data.empty());
  EXPECT_TRUE(rec.events[2].control);
  EXPECT_EQ(rec.events[2].opcode, kOpPing);
  EXPECT_EQ(rec.events[2].data, "p");
  EXPECT_EQ(rec.events[3].opcode, kOpPong);
  EXPECT_FALSE(r.failed());
}

TEST(FrameReader, ByteByByteGivesTheSameMessage) {
  std::string text(70000, 'x');
  for (size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + i % 26);
  std::string in = frame(0x01, text.substr(0, 300)) + frame(0x89, "mid") + frame(0x80, text.substr(300));
  FrameReader r;
  Recorder rec;
  for (size_t i = 0; i < in.size(); ++i) ASSERT_EQ(r.feed(&in[i], 1, rec), 1u) << i;
  std::string got, ping;
  size_t finals = 0;
  for (const Event& e : rec.events) {
    if (e.control) {
      ping += e.data;
      continue;
    }
    got += e.data;
    finals += e.final;
  }
  EXPECT_EQ(got, text);
  EXPECT_EQ(ping, "mid");
  EXPECT_EQ(finals, 1u);
  EXPECT_TRUE(rec.events.back().final);
  EXPECT_TRUE(rec.events.front().first);
}

TEST(FrameReader, RemainingCountsDownThroughAFrame) {
  std::string in = frame(0x81, std::string(1000, 'z'));
  FrameReader r;
  Recorder rec;
  size_t header = in.size() - 1000;
  r.feed(in.data(), header + 400, rec);
  ASSERT_EQ(rec.events.size(), 1u);
  EXPECT_EQ(rec.events[0].remaining, 600u);
  EXPECT_FALSE(rec.events[0].final);
  r.feed(in.data() + header + 400, 600, rec);
  EXPECT_EQ(rec.events[1].remaining, 0u);
  EXPECT_TRUE(rec.events[1].final);
}

TEST(FrameReader, SinkCanStopTheFeed) {
  std::string in = frame(0x81, "a") + frame(0x81, "b");
  FrameReader r;
  Recorder rec;
  rec.stop_after = 1;
  size_t used = r.feed(in.data(), in.size(), rec);
  EXPECT_EQ(used, in.size() / 2);
  rec.stop_after = SIZE_MAX;
  EXPECT_EQ(r.feed(in.data() + used, in.size() - used, rec), in.size() - used);
  ASSERT_EQ(rec.events.size(), 2u);
  EXPECT_EQ(rec.events[1].data, "b");
}

TEST(FrameReader, ProtocolErrors) {
  for (const std::string& bad : {frame(0x81, "x", false), frame(0xC1, "x"), frame(0x83, "x"), frame(0x0B, ""),
                                 frame(0x09, "fragmented ping"), frame(0x89, std::string(126, 'p')),
                                 frame(0x80, "continuation first"), frame(0x01, "a") + frame(0x81, "b")}) {
    FrameReader r;
    Recorder rec;
    std::string in = bad;
    r.feed(in.data(), in.size(), rec);
    EXPECT_NE(r.failed(), nullptr) << testing::PrintToString(bad);
  }
  // A 64-bit length with the top bit set.
  std::string huge("\x81\xFF\x80\x00\x00\x00\x00\x00\x00\x00mask", 14);
  FrameReader r;
  Recorder rec;
  r.feed(huge.data(), huge.size(), rec);
  EXPECT_NE(r.failed(), nullptr);
}

}  // namespace
