#include <gtest/gtest.h>

#include <string>

#include "protocol/json_check.hpp"
#include "protocol/validate.hpp"

using namespace rtcore::protocol;

TEST(Utf8, AcceptsValidSequences) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("\xc3\xa9"));          // é
  EXPECT_TRUE(is_valid_utf8("\xe2\x82\xac"));      // €
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x98\x80"));  // emoji
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
}

TEST(Utf8, RejectsMalformedSequences) {
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\x80"));                  // lone continuation
  EXPECT_FALSE(is_valid_utf8("\xc3"));                  // truncated
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));              // truncated
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));              // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));          // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));      // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xf8\x88\x80\x80\x80"));  // 5-byte form
  EXPECT_FALSE(is_valid_utf8("a\xc3(b"));               // bad continuation
}

TEST(UserId, FollowsSectionOne) {
  EXPECT_TRUE(is_valid_user_id("alice"));
  EXPECT_TRUE(is_valid_user_id("\xc3\xa9l\xc3\xa8ve"));
  EXPECT_TRUE(is_valid_user_id(std::string(128, 'a')));
  EXPECT_FALSE(is_valid_user_id(std::string(129, 'a')));
  EXPECT_FALSE(is_valid_user_id(""));
  EXPECT_FALSE(is_valid_user_id("a/b"));
  EXPECT_FALSE(is_valid_user_id(std::string_view("a\0b", 3)));
  EXPECT_FALSE(is_valid_user_id("a\nb"));
  EXPECT_FALSE(is_valid_user_id("a\x7f"));
  EXPECT_FALSE(is_valid_user_id("a\xc2\x9f"));  // C1 control
  EXPECT_TRUE(is_valid_user_id("a\xc2\xa0"));   // no-break space is not a control
  EXPECT_FALSE(is_valid_user_id("\xff\xfe"));
}

TEST(Room, AllowsSlashButNotControls) {
  EXPECT_TRUE(is_valid_room("a/b"));
  EXPECT_TRUE(is_valid_room("room:with:colons"));
  EXPECT_FALSE(is_valid_room(""));
  EXPECT_FALSE(is_valid_room("tab\there"));
  EXPECT_FALSE(is_valid_room(std::string(129, 'r')));
}

TEST(JsonCheck, ValuesAndIds) {
  EXPECT_TRUE(is_valid_json_value("{\"a\":[1,2,{}]}"));
  EXPECT_TRUE(is_valid_json_value(" 12 "));
  EXPECT_TRUE(is_valid_json_value("\"s\""));
  EXPECT_FALSE(is_valid_json_value(""));
  EXPECT_FALSE(is_valid_json_value("{"));
  EXPECT_FALSE(is_valid_json_value("1 2"));
  EXPECT_FALSE(is_valid_json_value(std::string(1000, '[') + std::string(1000, ']')));
  EXPECT_TRUE(is_valid_json_id("\"x\""));
  EXPECT_TRUE(is_valid_json_id("-12"));
  EXPECT_FALSE(is_valid_json_id("1.5"));
  EXPECT_FALSE(is_valid_json_id("[1]"));
  EXPECT_FALSE(is_valid_json_id("null"));
}

TEST(JsonCheck, DepthBoundIsAdjustable) {
  std::string d64 = std::string(64, '[') + std::string(64, ']');
  EXPECT_TRUE(is_valid_json_value(d64));
  EXPECT_FALSE(is_valid_json_value(d64, 63));
}
