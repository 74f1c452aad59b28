#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <vector>

#include "hub/registry.hpp"

using rtcore::ConnId;
using rtcore::Registry;

TEST(Registry, IdsAreNeverZeroAndFindTheirValue) {
  Registry<int> r;
  ConnId a = r.insert(std::make_unique<int>(1));
  ConnId b = r.insert(std::make_unique<int>(2));
  EXPECT_NE(a, 0u);
  EXPECT_NE(a, b);
  EXPECT_EQ(*r.find(a), 1);
  EXPECT_EQ(*r.find(b), 2);
  EXPECT_EQ(r.size(), 2u);
}

TEST(Registry, StaleIdFindsNothingAfterSlotReuse) {
  Registry<int> r;
  ConnId a = r.insert(std::make_unique<int>(1));
  ASSERT_NE(r.erase(a), nullptr);
  EXPECT_EQ(r.find(a), nullptr);
  ConnId b = r.insert(std::make_unique<int>(2));
  EXPECT_EQ(rtcore::conn_id_slot(a), rtcore::conn_id_slot(b));  // same slot reused
  EXPECT_NE(a, b);
  EXPECT_EQ(r.find(a), nullptr);
  EXPECT_EQ(*r.find(b), 2);
  EXPECT_EQ(r.erase(a), nullptr);  // erasing a stale id is a no-op
  EXPECT_EQ(r.size(), 1u);
}

TEST(Registry, UnknownIdsFindNothing) {
  Registry<int> r;
  EXPECT_EQ(r.find(0), nullptr);
  EXPECT_EQ(r.find(rtcore::make_conn_id(12345, 1)), nullptr);
}

TEST(Registry, ChurnKeepsIdsUnique) {
  Registry<int> r;
  std::set<ConnId> seen;
  for (int round = 0; round < 100; ++round) {
    std::vector<ConnId> ids;
    for (int i = 0; i < 50; ++i) {
      ConnId id = r.insert(std::make_unique<int>(i));
      EXPECT_TRUE(seen.insert(id).second);
      ids.push_back(id);
    }
    for (ConnId id : ids) r.erase(id);
  }
  EXPECT_EQ(r.size(), 0u);
}
