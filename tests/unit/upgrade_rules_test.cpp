#include "transport/upgrade_rules.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace rtcore::transport;

TEST(AmbiguousPathUser, SpaceInThePathUserIdIsAmbiguous) {
  // lws hands "/ws/a+b" over as "/ws/a b", and "/ws/a%20b" the same way.
  EXPECT_EQ(ambiguous_path_user("/ws/a b"), kAmbiguousPlus);
  EXPECT_EQ(ambiguous_path_user("/ws/ x"), kAmbiguousPlus);
  EXPECT_EQ(ambiguous_path_user("/ws/x "), kAmbiguousPlus);
  EXPECT_NE(kAmbiguousPlus.find("%2B"), std::string_view::npos);
}

TEST(AmbiguousPathUser, OtherPathsAreLeftToTheEngine) {
  EXPECT_TRUE(ambiguous_path_user("/ws/a+b").empty());  // %2B decodes to a kept '+'
  EXPECT_TRUE(ambiguous_path_user("/ws/alice").empty());
  EXPECT_TRUE(ambiguous_path_user("/ws").empty());
  EXPECT_TRUE(ambiguous_path_user("/ws/").empty());
  EXPECT_TRUE(ambiguous_path_user("/other path").empty());  // a 404 anyway
}

TEST(SubprotocolProblem, WhatLwsAccepts) {
  EXPECT_TRUE(subprotocol_problem("").empty());
  EXPECT_TRUE(subprotocol_problem("rtcore.v1").empty());
  EXPECT_TRUE(subprotocol_problem(" rtcore.v1 ").empty());
  EXPECT_TRUE(subprotocol_problem("rtcore.v1, bearer.abc").empty());
  EXPECT_TRUE(subprotocol_problem("bearer.abc, rtcore.v1").empty());
  EXPECT_TRUE(subprotocol_problem("x , rtcore.v1").empty());
  // lws stops at the match: what follows it is never read.
  EXPECT_TRUE(subprotocol_problem("rtcore.v1,,x y").empty());
  EXPECT_TRUE(subprotocol_problem("rtcore.v1;q=1").empty());
  EXPECT_TRUE(subprotocol_problem("rtcore.v1, bearer." + std::string(100, 't')).empty());
  // The limits themselves.
  EXPECT_TRUE(subprotocol_problem("rtcore.v1, bearer." + std::string(108, 't')).empty());  // 126 bytes
  EXPECT_TRUE(subprotocol_problem(std::string(62, 'b') + ",rtcore.v1").empty());
  EXPECT_TRUE(subprotocol_problem("a_b, a~b, a+b, a!b, a%b, \xC3\xA9, rtcore.v1").empty());
}

TEST(SubprotocolProblem, WhatLwsDropsWithoutAnAnswer) {
  EXPECT_EQ(subprotocol_problem("rtcore.v1, bearer." + std::string(109, 't')), kSubprotocolListTooLong);
  EXPECT_EQ(subprotocol_problem("bearer." + std::string(150, 't')), kSubprotocolListTooLong);
  EXPECT_EQ(subprotocol_problem(std::string(63, 'b') + ",rtcore.v1"), kSubprotocolNameTooLong);
  EXPECT_EQ(subprotocol_problem("bearer.abc"), kSubprotocolMissing);
  EXPECT_EQ(subprotocol_problem("RTCORE.V1"), kSubprotocolMissing);
  EXPECT_EQ(subprotocol_problem("rtcore.v1x"), kSubprotocolMissing);
  EXPECT_EQ(subprotocol_problem("rtcore.v1.msgpack"), kSubprotocolMissing);
  EXPECT_EQ(subprotocol_problem(", rtcore.v1"), kSubprotocolMalformed);
  EXPECT_EQ(subprotocol_problem("x,, rtcore.v1"), kSubprotocolMalformed);
  EXPECT_EQ(subprotocol_problem("x y, rtcore.v1"), kSubprotocolMalformed);
  EXPECT_EQ(subprotocol_problem("a=b, rtcore.v1"), kSubprotocolMalformed);
  EXPECT_EQ(subprotocol_problem("a/b, rtcore.v1"), kSubprotocolMalformed);
  EXPECT_EQ(subprotocol_problem("\"x\", rtcore.v1"), kSubprotocolMalformed);
}

TEST(SubprotocolProblem, ReasonsNameTheOtherTokenForms) {
  for (std::string_view r : {kSubprotocolListTooLong, kSubprotocolNameTooLong, kSubprotocolMissing}) {
    EXPECT_NE(r.find("?token="), std::string_view::npos) << r;
    EXPECT_NE(r.find("Authorization: Bearer"), std::string_view::npos) << r;
  }
}
