#include "transport/upgrade_rules.hpp"

#include <gtest/gtest.h>

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
