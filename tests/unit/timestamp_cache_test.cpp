#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "engine/connection.hpp"
#include "presence/timestamp_cache.hpp"
#include "protocol/timestamp.hpp"

using rtcore::LazyFifo;
using rtcore::TimestampCache;
using rtcore::protocol::format_timestamp;

TEST(TimestampCache, MatchesTheFullFormatterAcrossSecondsAndDays) {
  TimestampCache cache;
  // 2026-11-29T23:59:58.000Z, stepping 7 ms at a time past midnight, then
  // back in time (a clock step) and a jump of a year.
  int64_t start = 1795996798000;
  for (int64_t t = start; t < start + 5000; t += 7) EXPECT_EQ(cache.at(t), format_timestamp(t)) << t;
  for (int64_t t :
       {start + 4000, start - 1, start + int64_t{365} * 86400000, int64_t{0}, int64_t{999}, int64_t{1000}})
    EXPECT_EQ(cache.at(t), format_timestamp(t)) << t;
  EXPECT_EQ(cache.at(start + 1), cache.at(start + 1));
}

TEST(TimestampCache, NowIsTheCurrentTime) {
  TimestampCache cache;
  std::string a = rtcore::protocol::now_timestamp();
  std::string b = cache.now();
  std::string c = rtcore::protocol::now_timestamp();
  EXPECT_LE(a, b);
  EXPECT_LE(b, c);
  EXPECT_EQ(b.size(), 24u);
}

TEST(LazyFifo, OwnsNoMemoryWhenEmptyAndKeepsOrder) {
  LazyFifo<std::pair<std::string, bool>> q;
  EXPECT_TRUE(q.empty());
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 200; ++i) q.emplace_back(std::to_string(i), i % 2 == 0);
    // Take some, add more, so the compaction runs with items still queued.
    for (int i = 0; i < 150; ++i) {
      auto [text, binary] = std::move(q.front());
      q.pop_front();
      EXPECT_EQ(text, std::to_string(i));
      EXPECT_EQ(binary, i % 2 == 0);
    }
    for (int i = 200; i < 300; ++i) q.emplace_back(std::to_string(i), i % 2 == 0);
    EXPECT_EQ(q.size(), 150u);
    for (int i = 150; i < 300; ++i) {
      EXPECT_EQ(q.front().first, std::to_string(i));
      q.pop_front();
    }
    EXPECT_TRUE(q.empty());
  }
}
