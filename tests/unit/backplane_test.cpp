#include <gtest/gtest.h>

#include <string>

#include "backplane/envelope.hpp"
#include "backplane/redis_url.hpp"

using namespace rtcore;

TEST(RedisUrl, ParsesTheForms) {
  auto a = parse_redis_url("redis://127.0.0.1:6380", nullptr);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 6380);
  EXPECT_EQ(a->db, 0);
  a = parse_redis_url("redis://localhost", nullptr);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port, 6379);
  a = parse_redis_url("redis://bob:p%40ss:w@cache:7000/3", nullptr);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->user, "bob");
  EXPECT_EQ(a->password, "p@ss:w");
  EXPECT_EQ(a->host, "cache");
  EXPECT_EQ(a->db, 3);
  a = parse_redis_url("redis://secret@h:1", nullptr);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->user, "");
  EXPECT_EQ(a->password, "secret");
  a = parse_redis_url("unix:///run/redis.sock?db=2", nullptr);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->unix_path, "/run/redis.sock");
  EXPECT_EQ(a->db, 2);
  a = parse_redis_url("redis://[::1]:6379", nullptr);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "::1");
}

TEST(RedisUrl, RefusesMalformedUrls) {
  for (const char* u : {"", "http://h", "redis://", "redis://h:0", "redis://h:70000", "redis://h:x",
                        "redis://h/abc", "unix://relative", "redis://u:%zz@h", "redis://u:%-1@h",
                        "redis://h/-0", "redis://h:+80", "redis://u:%1@h"}) {
    std::string why;
    EXPECT_FALSE(parse_redis_url(u, &why)) << u;
    EXPECT_FALSE(why.empty()) << u;
  }
}

TEST(Envelope, RoundTrips) {
  std::string bytes = encode_envelope("node-1", EnvelopeKind::kUser, "al ice", R"({"type":"direct_message"})");
  auto e = decode_envelope(bytes);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->version, kEnvelopeVersion);
  EXPECT_EQ(e->origin, "node-1");
  EXPECT_EQ(e->kind, EnvelopeKind::kUser);
  EXPECT_EQ(e->target, "al ice");
  EXPECT_EQ(e->frame, R"({"type":"direct_message"})");
}

TEST(Envelope, GarbageIsRefused) {
  for (std::string g : std::initializer_list<std::string>{std::string(), std::string("hello"), std::string("\x80", 1), std::string("\x93\x01\x02\x03"),
                        std::string("\xdf\xff\xff\xff\xff")})
    EXPECT_FALSE(decode_envelope(g)) << g;
  std::string good = encode_envelope("n", EnvelopeKind::kRoom, "r", "{}");
  EXPECT_FALSE(decode_envelope(good.substr(0, good.size() - 1)));  // truncated
}
