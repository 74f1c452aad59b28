#include <gtest/gtest.h>

#include <string>

#include "protocol/client_message.hpp"
#include "protocol/server_message.hpp"
#include "protocol/timestamp.hpp"

using namespace rtcore::protocol;

namespace {

ParseResult parse(std::string_view s) {
  return parse_client_message(s);
}

void expect_error(std::string_view frame, ErrorCode code, std::string_view id = {}) {
  ParseResult r = parse(frame);
  EXPECT_FALSE(r.ok) << frame;
  EXPECT_EQ(error_code_name(r.error), error_code_name(code)) << frame;
  EXPECT_EQ(r.id_json, id) << frame;
}

}  // namespace

TEST(ClientMessage, ParsesJoinRoom) {
  ParseResult r = parse(R"({"type":"join_room","room":"lobby"})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.message.type, MessageType::kJoinRoom);
  EXPECT_EQ(r.message.room, "lobby");
  EXPECT_TRUE(r.message.id_json.empty());
}

TEST(ClientMessage, ParsesLeaveRoomWithStringId) {
  ParseResult r = parse(R"({"id":"a\"b","type":"leave_room","room":"lobby"})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.message.type, MessageType::kLeaveRoom);
  EXPECT_EQ(r.message.id_json, R"("a\"b")");
}

TEST(ClientMessage, RelaysContentVerbatim) {
  const char* contents[] = {
      "\"text\"",
      "123456789012345678901234567890",
      "-1.5e300",
      "true",
      "false",
      "null",
      "[1, [2, {\"a\": []}]]",
      "{\"k\": \"\\u00e9\\n\", \"n\": {\"x\": [null]}}",
      "{}",
      "[]",
      "\"\"",
  };
  for (const char* c : contents) {
    std::string frame = std::string(R"({"type":"room_message","room":"r","content":)") + c + "}";
    ParseResult r = parse(frame);
    ASSERT_TRUE(r.ok) << frame;
    EXPECT_EQ(r.message.content_json, c);
  }
}

TEST(ClientMessage, ContentMayComeBeforeTypeAndWithWhitespace) {
  ParseResult r = parse(" { \"content\" :  [1,2] , \"to\":\"bob\", \"type\":\"direct_message\" } \n");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.message.type, MessageType::kDirectMessage);
  EXPECT_EQ(r.message.to, "bob");
  EXPECT_EQ(r.message.content_json, "[1,2]");
}

TEST(ClientMessage, NestedFieldsWithKnownNamesAreIgnored) {
  ParseResult r = parse(R"({"type":"room_message","room":"r","content":{"type":"x","room":"evil","id":5}})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.message.room, "r");
  EXPECT_TRUE(r.message.id_json.empty());
}

TEST(ClientMessage, IntegerIdIsKeptExactly) {
  ParseResult r = parse(R"({"type":"join_room","room":"r","id":98765432109876543210})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.message.id_json, "98765432109876543210");
}

TEST(ClientMessage, CustomTypesPassThrough) {
  ParseResult r = parse(R"({"type":"typing","room":5})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.message.type, MessageType::kCustom);
  EXPECT_EQ(r.message.type_name, "typing");
}

TEST(ClientMessage, BadJsonCases) {
  for (std::string_view f : {"", "nope", "{", "{\"type\":\"join_room\",}", "[1,2]", "\"str\"", "42", "null",
                             "{} {}", "{\"a\":1}x", "{\"type\":\"join_room\" \"room\":\"r\"}"})
    expect_error(f, ErrorCode::kBadJson);
}

TEST(ClientMessage, InvalidUtf8IsBadJson) {
  expect_error(std::string_view("{\"type\":\"join_room\",\"room\":\"\xff\"}"), ErrorCode::kBadJson);
  expect_error(std::string_view("{\"type\":\"x\",\"content\":\"\xc0\xaf\"}"),
               ErrorCode::kBadJson);  // overlong
  expect_error(std::string_view("{\"type\":\"x\",\"content\":\"\xed\xa0\x80\"}"),
               ErrorCode::kBadJson);  // surrogate
  expect_error(std::string_view("{\"type\":\"x\"}\xff"), ErrorCode::kBadJson);
}

TEST(ClientMessage, EmbeddedNulIsBadJson) {
  expect_error(std::string_view("{\"type\":\"x\"}\0garbage", 20), ErrorCode::kBadJson);
  expect_error(std::string_view("{\"type\":\"x\0\"}", 13), ErrorCode::kBadJson);
}

TEST(ClientMessage, DeepNestingIsRefusedWithoutRecursion) {
  std::string deep = R"({"type":"room_message","room":"r","content":)";
  deep += std::string(100000, '[') + std::string(100000, ']') + "}";
  expect_error(deep, ErrorCode::kBadJson);
  std::string ok = R"({"type":"room_message","room":"r","content":)";
  ok += std::string(kMaxNestingDepth - 1, '[') + std::string(kMaxNestingDepth - 1, ']') + "}";
  EXPECT_TRUE(parse(ok).ok);
}

TEST(ClientMessage, BigNumbersAreRelayedExactly) {
  std::string big(300, '9');
  std::string frame = R"({"type":"room_message","room":"r","content":[)" + big + ", -" + big + ".5e-10]}";
  ParseResult r = parse(frame);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.message.content_json, "[" + big + ", -" + big + ".5e-10]");
}

TEST(ClientMessage, NumbersBeyondDoubleRangeAreBadJson) {
  // The parser refuses magnitudes above ~1.8e308 (no client could read them
  // as numbers either); it does so in linear time.
  expect_error(R"({"type":"room_message","room":"r","content":)" + std::string(100000, '9') + "}",
               ErrorCode::kBadJson);
  expect_error(R"({"type":"room_message","room":"r","content":1e99999999999})", ErrorCode::kBadJson);
}

TEST(ClientMessage, MissingFieldCases) {
  expect_error(R"({"room":"r"})", ErrorCode::kMissingField);
  expect_error(R"({"type":5})", ErrorCode::kMissingField);
  expect_error(R"({"type":"join_room"})", ErrorCode::kMissingField);
  expect_error(R"({"type":"join_room","room":7,"id":1})", ErrorCode::kMissingField, "1");
  expect_error(R"({"type":"leave_room","room":null})", ErrorCode::kMissingField);
  expect_error(R"({"type":"room_message","room":"r"})", ErrorCode::kMissingField);
  expect_error(R"({"type":"room_message","content":1})", ErrorCode::kMissingField);
  expect_error(R"({"type":"direct_message","content":1,"id":"q"})", ErrorCode::kMissingField, "\"q\"");
  expect_error(R"({"type":"direct_message","to":"bob"})", ErrorCode::kMissingField);
  expect_error(R"({"type":"direct_message","to":["bob"],"content":1})", ErrorCode::kMissingField);
}

TEST(ClientMessage, InvalidFieldCases) {
  expect_error(R"({"type":"join_room","room":""})", ErrorCode::kInvalidField);
  expect_error(R"({"type":"join_room","room":"a\u0001b"})", ErrorCode::kInvalidField);
  expect_error(R"({"type":"join_room","room":"a\u007fb"})", ErrorCode::kInvalidField);
  expect_error(R"({"type":"join_room","room":"a\u0085b"})", ErrorCode::kInvalidField);  // C1 control
  expect_error("{\"type\":\"join_room\",\"room\":\"" + std::string(129, 'r') + "\"}",
               ErrorCode::kInvalidField);
  EXPECT_TRUE(parse("{\"type\":\"join_room\",\"room\":\"" + std::string(128, 'r') + "\"}").ok);
  expect_error(R"({"type":"direct_message","to":"a/b","content":1})", ErrorCode::kInvalidField);
  expect_error(R"({"type":"direct_message","to":"","content":1,"id":3})", ErrorCode::kInvalidField, "3");
  expect_error(R"({"type":"join_room","room":"r","id":1.5})", ErrorCode::kInvalidField);
  expect_error(R"({"type":"join_room","room":"r","id":{}})", ErrorCode::kInvalidField);
  expect_error(R"({"type":"join_room","room":"r","id":true})", ErrorCode::kInvalidField);
}

TEST(ClientMessage, RoomMayContainSlashAndUnicode) {
  ParseResult r = parse(R"({"type":"join_room","room":"a/b:c \u00e9\ud83d\ude00"})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.message.room, "a/b:c \xc3\xa9\xf0\x9f\x98\x80");
}

TEST(ServerMessage, EncodesRoomMessage) {
  EXPECT_EQ(
      encode_room_message("r\"1", "al\\ice", "{\"a\":1}", "2026-11-28T16:40:27.123Z"),
      R"({"type":"message","room":"r\"1","from":"al\\ice","content":{"a":1},"timestamp":"2026-11-28T16:40:27.123Z"})");
}

TEST(ServerMessage, EncodesDirectAckAndError) {
  EXPECT_EQ(encode_direct_message("bob", "[1]", "T"),
            R"({"type":"direct_message","from":"bob","content":[1],"timestamp":"T"})");
  EXPECT_EQ(encode_ack("\"x\""), R"({"type":"ack","id":"x"})");
  EXPECT_EQ(encode_ack("7"), R"({"type":"ack","id":7})");
  EXPECT_EQ(encode_error("bad_json", "no\n", ""), R"({"type":"error","code":"bad_json","message":"no\n"})");
  EXPECT_EQ(encode_error("not_in_room", "m", "3"),
            R"({"type":"error","code":"not_in_room","message":"m","id":3})");
}

TEST(ServerMessage, EscapesControlCharacters) {
  std::string out;
  append_json_string(out, std::string_view("a\x01\x1f\t\xc3\xa9", 6));
  EXPECT_EQ(out, "\"a\\u0001\\u001f\\t\xc3\xa9\"");
}

TEST(Timestamp, FormatsRfc3339WithMilliseconds) {
  EXPECT_EQ(format_timestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_timestamp(1795884027123), "2026-11-28T16:40:27.123Z");
  EXPECT_EQ(now_timestamp().size(), 24u);
}

TEST(ClientMessage, CustomTypeNameMustBeUnicode) {
  // A lone low surrogate escape decodes to bytes that are not UTF-8.
  expect_error(R"({"type":"x\udc00"})", ErrorCode::kInvalidField);
  EXPECT_TRUE(parse(R"({"type":"x\u00e9"})").ok);
}

// ------------------------------------------------- room presence (section 9)

TEST(ClientMessage, ParsesPresenceQuery) {
  ParseResult r = parse(R"({"type":"presence","room":"r","id":4})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.message.type, MessageType::kPresence);
  EXPECT_EQ(r.message.room, "r");
  EXPECT_EQ(r.message.id_json, "4");
  expect_error(R"({"type":"presence","id":4})", ErrorCode::kMissingField, "4");
  expect_error(R"({"type":"presence","room":"","id":"x"})", ErrorCode::kInvalidField, "\"x\"");
}

TEST(ClientMessage, ParsesOnlineQuery) {
  ParseResult r = parse(R"({"type":"online","users":["a","b\u00e9","a"],"id":"q"})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.message.type, MessageType::kOnline);
  EXPECT_EQ(r.message.users, (std::vector<std::string>{"a", "b\xc3\xa9"}));  // duplicates once
  expect_error(R"({"type":"online","id":1})", ErrorCode::kMissingField, "1");
  expect_error(R"({"type":"online","users":[],"id":1})", ErrorCode::kInvalidField, "1");
  expect_error(R"({"type":"online","users":"a","id":1})", ErrorCode::kInvalidField, "1");
  expect_error(R"({"type":"online","users":["a",2]})", ErrorCode::kInvalidField);
  expect_error(R"({"type":"online","users":["a/b"]})", ErrorCode::kInvalidField);
  expect_error(R"({"type":"online","users":[""]})", ErrorCode::kInvalidField);
  expect_error(R"({"type":"online","users":["a\u0001"]})", ErrorCode::kInvalidField);
  expect_error(R"({"type":"online","users":[["a"]]})", ErrorCode::kInvalidField);
  std::string many = R"({"type":"online","users":[)";
  for (int i = 0; i < 100; ++i) many += (i ? ",\"u" : "\"u") + std::to_string(i) + "\"";
  EXPECT_TRUE(parse(many + "]}").ok);
  expect_error(many + R"(,"u100"]})", ErrorCode::kInvalidField);
}

TEST(ClientMessage, JoinRoomPresenceFlag) {
  EXPECT_EQ(parse(R"({"type":"join_room","room":"r"})").message.presence,
            ClientMessage::PresenceFlag::kAbsent);
  EXPECT_EQ(parse(R"({"type":"join_room","room":"r","presence":true})").message.presence,
            ClientMessage::PresenceFlag::kOn);
  EXPECT_EQ(parse(R"({"type":"join_room","presence":false,"room":"r"})").message.presence,
            ClientMessage::PresenceFlag::kOff);
  // Nested fields with the name do not count.
  EXPECT_EQ(parse(R"({"type":"join_room","room":"r","x":{"presence":true}})").message.presence,
            ClientMessage::PresenceFlag::kAbsent);
  expect_error(R"({"type":"join_room","room":"r","presence":1,"id":2})", ErrorCode::kInvalidField, "2");
  expect_error(R"({"type":"join_room","room":"r","presence":"yes"})", ErrorCode::kInvalidField);
}

TEST(ServerMessage, EncodesPresenceAnswers) {
  EXPECT_EQ(encode_presence_answer("1", "r\"", {"a", "b"}, false),
            R"({"type":"presence","id":1,"room":"r\"","users":["a","b"]})");
  EXPECT_EQ(encode_presence_answer("", "r", {}, true),
            R"({"type":"presence","room":"r","users":[],"truncated":true})");
  EXPECT_EQ(encode_online_answer("\"q\"", {"a", "b"}, {true, false}),
            R"({"type":"online","id":"q","users":{"a":true,"b":false}})");
  EXPECT_EQ(encode_room_presence_event("r", "u", true, "T"),
            R"({"type":"user_joined","room":"r","user":"u","timestamp":"T"})");
  EXPECT_EQ(encode_room_presence_event("r", "u", false, "T"),
            R"({"type":"user_left","room":"r","user":"u","timestamp":"T"})");
}

// The fast path for common frames and RapidJSON alone give the same answer,
// field for field, on frames inside and outside the fast path's subset.
TEST(ClientMessage, FastPathAgreesWithFullParser) {
  const char* frames[] = {
      R"({"type":"direct_message","to":"bob","content":"hi"})",
      R"( {"content":{"a":[1,-2,true,false,null,{}]},"type":"room_message","room":"r","id":"x"} )",
      R"({"type":"direct_message","to":"b\u006fb","content":"hi"})",
      R"({"type":"room_message","room":"caf\u00e9","content":1.5})",
      R"({"type":"room_message","room":"café","content":"日本","id":12})",
      R"({"type":"join_room","room":"r","presence":true,"since":{"epoch":"e","offset":3}})",
      R"({"type":"online","users":["a","b","a"]})",
      R"({"type":"history","room":"r","limit":5,"before":123456789012345678901})",
      R"({"type":"direct_message","to":"bob","content":"x"} x)",
      R"({"type":"direct_message","to":"bob","content":01})",
      R"({"type":"direct_message","to":"bob","content":"\x01"})",
      R"({"type":"room_message","room":"r","content":[[[[]]]],"type":"leave_room"})",
      R"({"type":"direct_message","to":"bob","id":{},"content":""})",
      R"({"t\u0079pe":"direct_message","to":"bob","content":2})",
      R"({})",
      R"([])",
      "{\"type\":\"x\",\"c\":\"\xed\xa0\x80\"}",
      "{\"type\":\"x\",\"c\":\"\xf4\x90\x80\x80\"}",
  };
  for (std::string_view f : frames) {
    ParseResult a = parse_client_message(f), b = parse_client_message_full(f);
    EXPECT_EQ(a.ok, b.ok) << f;
    EXPECT_EQ(a.error, b.error) << f;
    EXPECT_EQ(a.error_message, b.error_message) << f;
    EXPECT_EQ(a.id_json, b.id_json) << f;
    EXPECT_EQ(a.message.type_name, b.message.type_name) << f;
    EXPECT_EQ(a.message.room, b.message.room) << f;
    EXPECT_EQ(a.message.to, b.message.to) << f;
    EXPECT_EQ(a.message.content_json, b.message.content_json) << f;
    EXPECT_EQ(a.message.users, b.message.users) << f;
    EXPECT_EQ(a.message.id_json, b.message.id_json) << f;
    EXPECT_EQ(a.message.limit, b.message.limit) << f;
    EXPECT_EQ(a.message.since_offset, b.message.since_offset) << f;
  }
}

TEST(ServerMessage, DirectMessageInPlaceMatchesEncoder) {
  for (std::string_view from : {"alice", "a\"b\\c\n\r\t\x01\x1f", "", "日本"}) {
    std::string want = encode_direct_message(from, R"({"k":[1]})", "2026-12-02T04:00:00.000Z");
    ASSERT_EQ(direct_message_size(from, R"({"k":[1]})", "2026-12-02T04:00:00.000Z"), want.size());
    std::string got(want.size(), '?');
    char* end = write_direct_message(got.data(), from, R"({"k":[1]})", "2026-12-02T04:00:00.000Z");
    EXPECT_EQ(end, got.data() + got.size());
    EXPECT_EQ(got, want);
  }
}
