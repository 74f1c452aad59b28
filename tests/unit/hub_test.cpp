#include <gtest/gtest.h>

#include <algorithm>

#include "hub/hub.hpp"

using rtcore::Hub;

TEST(Hub, FirstAndLastUserConnectionAreReported) {
  Hub h;
  EXPECT_TRUE(h.add_user_connection("alice", 1));
  EXPECT_FALSE(h.add_user_connection("alice", 2));
  EXPECT_EQ(h.user_connections("alice").size(), 2u);
  EXPECT_FALSE(h.remove_user_connection("alice", 1));
  EXPECT_TRUE(h.remove_user_connection("alice", 2));
  EXPECT_TRUE(h.user_connections("alice").empty());
  EXPECT_EQ(h.user_count(), 0u);
}

TEST(Hub, RemovingUnknownConnectionIsNoOp) {
  Hub h;
  h.add_user_connection("alice", 1);
  EXPECT_FALSE(h.remove_user_connection("alice", 9));
  EXPECT_FALSE(h.remove_user_connection("bob", 1));
  EXPECT_EQ(h.user_count(), 1u);
}

TEST(RoomIndex, JoinIsIdempotentAndReportsFirstMember) {
  Hub h;
  bool first = false;
  EXPECT_TRUE(h.join("r", 1, &first));
  EXPECT_TRUE(first);
  EXPECT_TRUE(h.join("r", 2, &first));
  EXPECT_FALSE(first);
  EXPECT_FALSE(h.join("r", 1, &first));
  EXPECT_EQ(h.room_members("r"), (std::vector<rtcore::ConnId>{1, 2}));
}

TEST(RoomIndex, LeavingLastMemberDropsRoom) {
  Hub h;
  h.join("r", 1);
  h.join("r", 2);
  bool last = true;
  EXPECT_TRUE(h.leave("r", 1, &last));
  EXPECT_FALSE(last);
  EXPECT_TRUE(h.leave("r", 2, &last));
  EXPECT_TRUE(last);
  EXPECT_EQ(h.room_count(), 0u);
  EXPECT_FALSE(h.leave("r", 2, &last));
  EXPECT_FALSE(last);
}

TEST(RoomIndex, MembershipIsPerRoom) {
  Hub h;
  h.join("a", 1);
  h.join("b", 2);
  EXPECT_TRUE(h.is_member("a", 1));
  EXPECT_FALSE(h.is_member("a", 2));
  EXPECT_FALSE(h.is_member("c", 1));
  EXPECT_TRUE(h.room_members("c").empty());
}

TEST(RoomIndex, LeavingFromTheMiddleKeepsEveryOtherMember) {
  Hub h;
  for (rtcore::ConnId id = 1; id <= 5; ++id) h.join("r", id);
  EXPECT_TRUE(h.leave("r", 2));
  EXPECT_TRUE(h.leave("r", 1));
  auto members = h.room_members("r");
  std::sort(members.begin(), members.end());
  EXPECT_EQ(members, (std::vector<rtcore::ConnId>{3, 4, 5}));
  EXPECT_FALSE(h.is_member("r", 2));
  EXPECT_TRUE(h.is_member("r", 5));
  EXPECT_FALSE(h.leave("r", 2));
  EXPECT_TRUE(h.join("r", 2));
  EXPECT_EQ(h.room_members("r").size(), 4u);
}

TEST(Hub, CountsUsersPerRoomAndWatchers) {
  rtcore::Hub h;
  bool first_member = false, first_user = false, last_member = false, last_user = false;
  EXPECT_TRUE(h.join("r", 1, &first_member, "alice", &first_user));
  EXPECT_TRUE(first_member);
  EXPECT_TRUE(first_user);
  EXPECT_TRUE(h.join("r", 2, &first_member, "alice", &first_user));  // second tab
  EXPECT_FALSE(first_user);
  EXPECT_TRUE(h.join("r", 3, &first_member, "bob", &first_user));
  EXPECT_TRUE(first_user);
  EXPECT_EQ(h.room_user_count("r"), 2u);
  bool first_watcher = false, last_watcher = false;
  EXPECT_FALSE(h.watch("r", 9, &first_watcher));  // not a member
  EXPECT_TRUE(h.watch("r", 1, &first_watcher));
  EXPECT_TRUE(first_watcher);
  EXPECT_TRUE(h.watch("r", 3, &first_watcher));
  EXPECT_FALSE(first_watcher);
  EXPECT_FALSE(h.watch("r", 3));
  EXPECT_EQ(h.room_watchers("r").size(), 2u);
  EXPECT_TRUE(h.unwatch("r", 3, &last_watcher));
  EXPECT_FALSE(last_watcher);
  EXPECT_TRUE(h.leave("r", 1, &last_member, "alice", &last_user));
  EXPECT_FALSE(last_user);
  EXPECT_TRUE(h.room_watchers("r").empty());  // leaving unwatches
  EXPECT_TRUE(h.leave("r", 2, &last_member, "alice", &last_user));
  EXPECT_TRUE(last_user);
  EXPECT_EQ(h.room_user_count("r"), 1u);
  EXPECT_TRUE(h.leave("r", 3, &last_member, "bob", &last_user));
  EXPECT_TRUE(last_user);
  EXPECT_TRUE(last_member);
  EXPECT_EQ(h.room_user_count("r"), 0u);
}
