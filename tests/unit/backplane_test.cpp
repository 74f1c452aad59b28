#include <gtest/gtest.h>

#include <string>

#include "backplane/envelope.hpp"
#include "backplane/redis_url.hpp"
#include "backplane/wire.hpp"

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
  std::string bytes =
      encode_envelope("node-1", EnvelopeKind::kUser, "al ice", R"({"type":"direct_message"})");
  auto e = decode_envelope(bytes);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->version, kEnvelopeVersion);
  EXPECT_EQ(e->origin, "node-1");
  EXPECT_EQ(e->kind, EnvelopeKind::kUser);
  EXPECT_EQ(e->target, "al ice");
  EXPECT_EQ(e->frame, R"({"type":"direct_message"})");
}

TEST(Envelope, GarbageIsRefused) {
  for (std::string g : std::initializer_list<std::string>{
           std::string(), std::string("hello"), std::string("\x80", 1), std::string("\x93\x01\x02\x03"),
           std::string("\xdf\xff\xff\xff\xff")})
    EXPECT_FALSE(decode_envelope(g)) << g;
  std::string good = encode_envelope("n", EnvelopeKind::kRoom, "r", "{}");
  EXPECT_FALSE(decode_envelope(good.substr(0, good.size() - 1)));  // truncated
}

// ------------------------------------------------------------ wire (Redis input)

TEST(Wire, ControlMessagesNeedAKindAndAValidNodeId) {
  auto m = wire::decode_control("ready n-1");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, wire::ControlKind::kReady);
  EXPECT_EQ(m->node, "n-1");
  m = wire::decode_control("gone n-2");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, wire::ControlKind::kGone);
  // The three bytes that used to abort every node, and their relatives.
  for (std::string_view bad : {"abc", "", "x", "ready", "ready ", "gone", "gone ", "ready a b", "ready \x01",
                               "READY n-1", " ready n-1"})
    EXPECT_FALSE(wire::decode_control(bad)) << bad;
  EXPECT_FALSE(wire::decode_control("ready " + std::string(129, 'n')));
  EXPECT_EQ(wire::encode_control(wire::ControlKind::kGone, "n-3"), "gone n-3");
}

TEST(Wire, PresenceEventsAreValidatedBeforeTheyReachClients) {
  auto e = wire::decode_presence_event(
      R"({"user_id":"alice","status":"online","timestamp":"2026-01-01T00:00:00Z"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->user, "alice");
  EXPECT_TRUE(e->online);
  EXPECT_EQ(e->timestamp, "2026-01-01T00:00:00Z");
  e = wire::decode_presence_event(R"({"user_id":"bob","status":"offline"})");
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->online);
  for (std::string_view bad :
       {R"({"user_id":5,"status":"online"})", R"({"status":"online"})", R"({"user_id":"a"})",
        R"({"user_id":"a","status":"away"})", R"({"user_id":"a/b","status":"online"})",
        R"({"user_id":"","status":"online"})", R"({"user_id":"a","status":"online","timestamp":5})",
        R"({"user_id":"a","status":"online","timestamp":"x\"y"})", "[]", "null", "", "{", "\xff"})
    EXPECT_FALSE(wire::decode_presence_event(bad)) << bad;
}

TEST(Wire, ChannelsAreClassifiedByThePrefix) {
  EXPECT_EQ(wire::classify_channel("rtcore:control", "rtcore:").kind, wire::ChannelKind::kControl);
  EXPECT_EQ(wire::classify_channel("rtcore:presence", "rtcore:").kind, wire::ChannelKind::kPresence);
  auto c = wire::classify_channel("rtcore:room:lobby", "rtcore:");
  EXPECT_EQ(c.kind, wire::ChannelKind::kRoom);
  EXPECT_EQ(c.target, "lobby");
  c = wire::classify_channel("rtcore:user:bob", "rtcore:");
  EXPECT_EQ(c.kind, wire::ChannelKind::kUser);
  EXPECT_EQ(c.target, "bob");
  EXPECT_EQ(wire::classify_channel("other:room:x", "rtcore:").kind, wire::ChannelKind::kOther);
  EXPECT_EQ(wire::classify_channel("rtcore:", "rtcore:").kind, wire::ChannelKind::kOther);
}

TEST(Wire, APublicationMustMatchItsChannel) {
  std::string frame = R"({"type":"message","room":"lobby","from":"a","content":"hi","timestamp":"t"})";
  std::string good = encode_envelope("n-1", EnvelopeKind::kRoom, "lobby", frame);
  wire::Channel lobby{wire::ChannelKind::kRoom, "lobby"};
  auto p = wire::decode_publication(lobby, good);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->frame, frame);
  // Published on another room's channel: never delivered to that room.
  EXPECT_FALSE(wire::decode_publication({wire::ChannelKind::kRoom, "other"}, good));
  EXPECT_FALSE(wire::decode_publication({wire::ChannelKind::kUser, "lobby"}, good));
  EXPECT_FALSE(wire::decode_publication({wire::ChannelKind::kControl, ""}, good));
  EXPECT_FALSE(wire::decode_publication(lobby, encode_envelope("a b", EnvelopeKind::kRoom, "lobby", frame)));
  EXPECT_FALSE(
      wire::decode_publication(lobby, encode_envelope("n-1", EnvelopeKind::kRoom, "lobby", "not json")));
  // A host's raw frame may be any JSON value.
  EXPECT_TRUE(wire::decode_publication(lobby, encode_envelope("n-1", EnvelopeKind::kRoom, "lobby", "[1]")));
  EXPECT_FALSE(wire::decode_publication(lobby, encode_envelope("n-1", EnvelopeKind::kRoom, "lobby", "")));
  EXPECT_FALSE(wire::decode_publication(lobby, good.substr(0, good.size() - 1)));
  EXPECT_FALSE(wire::decode_publication(lobby, "abc"));
  wire::Channel bad_user{wire::ChannelKind::kUser, "a/b"};
  EXPECT_FALSE(wire::decode_publication(bad_user, encode_envelope("n-1", EnvelopeKind::kUser, "a/b", "{}")));
  // Content nested to the client limit still passes inside the frame.
  std::string deep = R"({"type":"message","content":)" + std::string(64, '[') + std::string(64, ']') + "}";
  EXPECT_TRUE(wire::decode_publication(lobby, encode_envelope("n-1", EnvelopeKind::kRoom, "lobby", deep)));
}

TEST(Wire, HistoryPublicationsCarryBothKeysAValidEpochAndTheirOffset) {
  wire::Channel lobby{wire::ChannelKind::kRoom, "lobby"};
  auto env = [](std::string epoch, uint64_t offset, std::string frame) {
    Envelope e;
    e.origin = "n-1";
    e.target = "lobby";
    e.frame = std::move(frame);
    e.epoch = std::move(epoch);
    e.offset = offset;
    return encode_envelope(e);
  };
  auto p = wire::decode_publication(lobby, env("abc_-XYZ09", 12, R"({"type":"message","offset":12})"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->epoch, "abc_-XYZ09");
  EXPECT_EQ(p->offset, 12u);
  EXPECT_FALSE(wire::decode_publication(lobby, env("abc", 12, R"({"type":"message","offset":112})")));
  EXPECT_FALSE(wire::decode_publication(lobby, env("abc", 12, R"({"type":"message","offset":13})")));
  EXPECT_FALSE(wire::decode_publication(lobby, env("a b", 1, R"({"offset":1})")));
  EXPECT_FALSE(wire::decode_publication(lobby, env(std::string(33, 'a'), 1, R"({"offset":1})")));
  EXPECT_TRUE(wire::decode_publication(lobby, env(std::string(32, 'a'), 1, R"({"offset":1})")));
  EXPECT_TRUE(wire::decode_publication(lobby, env("e", wire::kMaxOffset, R"({"offset":9007199254740992})")));
  EXPECT_FALSE(
      wire::decode_publication(lobby, env("e", wire::kMaxOffset + 1, R"({"offset":9007199254740993})")));
  // One key without the other: not ours.
  std::string head = encode_envelope_head("n-1", EnvelopeKind::kRoom, "lobby", 0, 2);
  std::string epoch_only = head +
                           "\xa2"
                           "ep"
                           "\xa1"
                           "e"
                           "\xa1"
                           "f"
                           "\xac"
                           R"({"offset":7})";
  EXPECT_FALSE(decode_envelope(epoch_only));
  std::string off_only = head +
                         "\xa3"
                         "off"
                         "\x07"
                         "\xa1"
                         "f"
                         "\xac"
                         R"({"offset":7})";
  EXPECT_FALSE(decode_envelope(off_only));
  // What the append script builds: str32 and uint64 encodings decode too.
  std::string frame = R"({"offset":7})";
  std::string lua = encode_envelope_head("n-1", EnvelopeKind::kRoom, "lobby", 5, 3) +
                    "\xa2"
                    "ep" +
                    std::string("\xdb\0\0\0\x01", 5) + "e" +
                    "\xa3"
                    "off" +
                    std::string("\xcf\0\0\0\0\0\0\0\x07", 9) +
                    "\xa1"
                    "f" +
                    std::string("\xdb\0\0\0\x0c", 5) + frame;
  p = wire::decode_publication(lobby, lua);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->offset, 7u);
  EXPECT_EQ(p->sent_ms, 5u);
  EXPECT_EQ(p->frame, frame);
}

TEST(Wire, RoomPresenceEventsMustMatchTheirChannelAndBeWellFormed) {
  wire::Channel ch = wire::classify_channel("rtcore:room_presence:a/b:c", "rtcore:");
  ASSERT_EQ(ch.kind, wire::ChannelKind::kRoomPresence);
  EXPECT_EQ(ch.target, "a/b:c");
  EXPECT_EQ(wire::classify_channel("rtcore:room:x", "rtcore:").kind, wire::ChannelKind::kRoom);
  auto e = wire::decode_room_presence_event(
      ch, R"({"room":"a\/b:c","user":"bob","event":"joined","timestamp":"T1"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->room, "a/b:c");
  EXPECT_EQ(e->user, "bob");
  EXPECT_TRUE(e->joined);
  EXPECT_EQ(e->timestamp, "T1");
  auto left =
      wire::decode_room_presence_event(ch, R"({"room":"a/b:c","user":"bob","event":"left","timestamp":"T"})");
  ASSERT_TRUE(left);
  EXPECT_FALSE(left->joined);
  for (const char* bad : {
           "",
           "[]",
           "nope",
           R"({"room":"x","user":"bob","event":"joined","timestamp":"T"})",  // another room
           R"({"room":"a/b:c","user":"b/ob","event":"joined","timestamp":"T"})",
           R"({"room":"a/b:c","user":"","event":"joined","timestamp":"T"})",
           R"({"room":"a/b:c","user":"bob","event":"came","timestamp":"T"})",
           R"({"room":"a/b:c","user":"bob","event":"joined"})",
           R"({"room":"a/b:c","user":"bob","event":"joined","timestamp":"a\"b"})",
           R"({"room":"a/b:c","user":"bob","event":"joined","timestamp":7})",
           R"({"room":"a/b:c","user":1,"event":"joined","timestamp":"T"})",
       })
    EXPECT_FALSE(wire::decode_room_presence_event(ch, bad)) << bad;
  // Only on a room presence channel.
  EXPECT_FALSE(
      wire::decode_room_presence_event(wire::classify_channel("rtcore:room:a/b:c", "rtcore:"),
                                       R"({"room":"a/b:c","user":"bob","event":"joined","timestamp":"T"})"));
  std::string big = R"({"room":"a/b:c","user":"bob","event":"joined","timestamp":"T","pad":")" +
                    std::string(5000, 'x') + "\"}";
  EXPECT_FALSE(wire::decode_room_presence_event(ch, big));
}
