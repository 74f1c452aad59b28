// The stream sequencer (engine/stream_sequencer.hpp): what a node delivers
// to its local members from a stream's live messages and history reads.
#include "engine/stream_sequencer.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace rtcore {
namespace {

FramePtr frame(uint64_t off) {
  return make_text_frame("{\"n\":" + std::to_string(off) + "}");
}

std::vector<uint64_t> offsets(const StreamSequencer::Actions& a) {
  std::vector<uint64_t> out;
  for (const auto& i : a.deliver) out.push_back(i.offset);
  return out;
}

HistoryRead position(std::string epoch, uint64_t top) {
  HistoryRead r;
  r.ok = true;
  r.epoch = std::move(epoch);
  r.top = top;
  return r;
}

HistoryRead fill(std::string epoch, uint64_t top, std::vector<uint64_t> have, bool complete) {
  HistoryRead r = position(std::move(epoch), top);
  r.complete = complete;
  for (uint64_t o : have) r.entries.push_back({o, "{\"n\":" + std::to_string(o) + "}"});
  return r;
}

// A started sequencer that knows (epoch "e", top).
StreamSequencer known(uint64_t top) {
  StreamSequencer s;
  StreamSequencer::Actions a;
  s.start(a);
  EXPECT_TRUE(a.read_position);
  StreamSequencer::Actions b;
  s.on_position(a.read_id, position("e", top), b);
  EXPECT_TRUE(s.known());
  return s;
}

TEST(StreamSequencer, DeliversInOrderAndDropsDuplicates) {
  StreamSequencer s = known(4);
  StreamSequencer::Actions a;
  s.on_live("e", 5, frame(5), a);
  s.on_live("e", 6, frame(6), a);
  s.on_live("e", 6, frame(6), a);
  s.on_live("e", 3, frame(3), a);
  EXPECT_EQ(offsets(a), (std::vector<uint64_t>{5, 6}));
  EXPECT_FALSE(a.gap);
  EXPECT_FALSE(a.read_since);
  EXPECT_EQ(s.last(), 6u);
}

TEST(StreamSequencer, LiveMessagesBeforeThePositionAreHeldThenMerged) {
  StreamSequencer s;
  StreamSequencer::Actions a;
  s.start(a);
  StreamSequencer::Actions b;
  s.on_live("e", 7, frame(7), b);
  s.on_live("e", 8, frame(8), b);
  EXPECT_TRUE(b.deliver.empty());
  StreamSequencer::Actions c;
  s.on_position(a.read_id, position("e", 7), c);  // 7 was published before the read
  EXPECT_EQ(offsets(c), (std::vector<uint64_t>{8}));
  EXPECT_FALSE(c.gap);
}

TEST(StreamSequencer, AHoleIsFilledFromTheHistory) {
  StreamSequencer s = known(2);
  StreamSequencer::Actions a;
  s.on_live("e", 5, frame(5), a);
  EXPECT_TRUE(a.deliver.empty());
  ASSERT_TRUE(a.read_since);
  EXPECT_EQ(a.read_after, 2u);
  StreamSequencer::Actions b;
  s.on_live("e", 6, frame(6), b);  // more arrives while reading: held
  EXPECT_TRUE(b.deliver.empty());
  StreamSequencer::Actions c;
  s.on_fill(a.read_id, fill("e", 6, {3, 4, 5, 6}, true), c);
  EXPECT_EQ(offsets(c), (std::vector<uint64_t>{3, 4, 5, 6}));
  EXPECT_FALSE(c.gap);
  EXPECT_EQ(s.last(), 6u);
  EXPECT_EQ(s.held(), 0u);
}

TEST(StreamSequencer, WhatTheHistoryLostIsAGap) {
  StreamSequencer s = known(2);
  StreamSequencer::Actions a;
  s.on_live("e", 9, frame(9), a);
  ASSERT_TRUE(a.read_since);
  StreamSequencer::Actions b;
  s.on_fill(a.read_id, fill("e", 9, {6, 7, 8, 9}, false), b);  // 3..5 trimmed
  EXPECT_TRUE(b.gap);
  EXPECT_EQ(offsets(b), (std::vector<uint64_t>{6, 7, 8, 9}));
  StreamSequencer::Actions c;
  s.on_live("e", 10, frame(10), c);
  EXPECT_EQ(offsets(c), (std::vector<uint64_t>{10}));
  EXPECT_FALSE(c.gap);
}

TEST(StreamSequencer, AnUnreachableHistoryIsAGapAndDeliveryGoesOn) {
  StreamSequencer s = known(2);
  StreamSequencer::Actions a;
  s.on_live("e", 4, frame(4), a);
  StreamSequencer::Actions b;
  s.on_fill(a.read_id, HistoryRead{}, b);
  EXPECT_TRUE(b.gap);
  EXPECT_EQ(offsets(b), (std::vector<uint64_t>{4}));
}

TEST(StreamSequencer, ANewEpochIsAGapThenFollowed) {
  StreamSequencer s = known(40);
  StreamSequencer::Actions a;
  s.on_live("f", 1, frame(1), a);
  EXPECT_TRUE(a.gap);
  EXPECT_EQ(offsets(a), (std::vector<uint64_t>{1}));
  EXPECT_EQ(s.epoch(), "f");
  StreamSequencer::Actions b;
  s.on_live("f", 2, frame(2), b);
  EXPECT_EQ(offsets(b), (std::vector<uint64_t>{2}));
  EXPECT_FALSE(b.gap);
}

TEST(StreamSequencer, ResubscriptionCatchesUpAndStaleAnswersAreIgnored) {
  StreamSequencer s = known(3);
  StreamSequencer::Actions a;
  s.on_resubscribed(a);
  ASSERT_TRUE(a.read_since);
  StreamSequencer::Actions b;
  s.on_resubscribed(b);  // while reading: once more afterwards
  EXPECT_FALSE(b.read_since);
  StreamSequencer::Actions c;
  s.on_fill(a.read_id + 100, fill("e", 5, {4, 5}, true), c);  // not the read we asked for
  EXPECT_TRUE(c.deliver.empty());
  StreamSequencer::Actions d;
  s.on_fill(a.read_id, fill("e", 5, {4, 5}, true), d);
  EXPECT_EQ(offsets(d), (std::vector<uint64_t>{4, 5}));
  EXPECT_TRUE(d.read_since);  // the second resubscription's catch-up
  EXPECT_EQ(d.read_after, 5u);
}

// Whatever order live messages arrive in and whichever are lost, what is
// delivered is strictly increasing, and with a complete history every
// offset is delivered exactly once.
TEST(StreamSequencer, RandomisedOrderAndLossWithAFullHistory) {
  for (unsigned seed = 1; seed <= 200; ++seed) {
    std::mt19937 rng(seed);
    StreamSequencer s = known(0);
    const uint64_t n = 200;
    std::vector<uint64_t> delivered;
    std::vector<std::pair<uint64_t, bool>> pending_reads;  // (read id, outstanding)
    uint64_t read_id = 0, read_after = 0;
    bool reading = false;
    auto apply = [&](StreamSequencer::Actions& a) {
      for (auto& i : a.deliver) delivered.push_back(i.offset);
      if (a.read_since) {
        reading = true;
        read_id = a.read_id;
        read_after = a.read_after;
      }
    };
    uint64_t next = 1;
    while (next <= n || reading) {
      if (next <= n && (rng() % 4 != 0 || !reading)) {
        uint64_t off = next++;
        if (rng() % 5 == 0) continue;  // lost between Redis and this node
        StreamSequencer::Actions a;
        s.on_live("e", off, frame(off), a);
        apply(a);
      } else if (reading) {
        reading = false;
        std::vector<uint64_t> have;
        uint64_t top = next - 1;
        for (uint64_t o = read_after + 1; o <= top; ++o) have.push_back(o);
        StreamSequencer::Actions a;
        s.on_fill(read_id, fill("e", top, have, true), a);
        EXPECT_FALSE(a.gap) << seed;
        apply(a);
      }
    }
    // Whatever was lost at the very end is caught up like after a resubscription.
    StreamSequencer::Actions a;
    s.on_resubscribed(a);
    apply(a);
    if (reading) {
      std::vector<uint64_t> have;
      for (uint64_t o = read_after + 1; o <= n; ++o) have.push_back(o);
      StreamSequencer::Actions b;
      s.on_fill(read_id, fill("e", n, have, true), b);
      apply(b);
    }
    std::vector<uint64_t> want;
    for (uint64_t o = 1; o <= n; ++o) want.push_back(o);
    EXPECT_EQ(delivered, want) << "seed " << seed;
  }
}

}  // namespace
}  // namespace rtcore
