// The history backends (history/history.hpp): the in-process ring, and the
// Redis scripts against a real redis-server child with two nodes (two
// RedisBackplane instances) on one loop.
#include <gtest/gtest.h>
#include <uv.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../support/redis_child.hpp"
#include "backplane/in_process.hpp"
#include "backplane/redis_backplane.hpp"
#include "backplane/redis_url.hpp"
#include "history/in_process_history.hpp"
#include "loop/heap_timer.hpp"

namespace rtcore {
namespace {

using namespace std::chrono_literals;

struct Delivery {
  StreamKind kind;
  std::string name, frame, epoch;
  uint64_t offset;
};

struct TestSink : BackplaneSink {
  std::vector<Delivery> streams;
  std::vector<std::string> subscribed;
  int plain = 0;
  void deliver_to_room(std::string_view, FramePtr) override { ++plain; }
  void deliver_to_user(std::string_view, FramePtr) override { ++plain; }
  void deliver_stream(StreamKind kind, std::string_view name, FramePtr frame, std::string_view epoch,
                      uint64_t offset) override {
    streams.push_back({kind, std::string(name), std::string(frame->payload()), std::string(epoch), offset});
  }
  void stream_subscribed(StreamKind, std::string_view name) override { subscribed.emplace_back(name); }
  void presence_changed(std::string_view, bool, std::string_view) override {}
  void room_presence_changed(std::string_view, std::string_view, bool, std::string_view) override {}
  size_t subscribed_count(const std::string& name) const {
    return static_cast<size_t>(std::count(subscribed.begin(), subscribed.end(), name));
  }
};

std::string prefix_for(std::string_view room, int n) {
  return R"({"type":"message","room":")" + std::string(room) + R"(","content":)" + std::to_string(n) +
         R"(,"offset":)";
}

// ------------------------------------------------------------- in-process

struct InProcessFixture : ::testing::Test {
  TestSink sink;
  BackplaneStats stats;
  std::unique_ptr<InProcessHistory> h;
  void make(uint32_t size, uint32_t ttl_s, size_t budget = InProcessHistory::kDefaultBudgetBytes,
            uv_loop_t* loop = nullptr) {
    h = std::make_unique<InProcessHistory>(sink, loop, HistoryLimits{size, ttl_s}, stats, budget);
  }
  uint64_t append(std::string_view room, int n) {
    uint64_t got = 0;
    bool called = false;
    h->append(StreamKind::kRoom, room, prefix_for(room, n), 0, [&](bool ok, uint64_t off) {
      called = true;
      EXPECT_TRUE(ok);
      got = off;
    });
    EXPECT_TRUE(called);  // synchronous
    return got;
  }
  HistoryRead since(std::string_view room, const std::string& epoch, uint64_t s) {
    HistoryRead out;
    h->read_since(StreamKind::kRoom, room, epoch, s, [&](HistoryRead r) { out = std::move(r); });
    EXPECT_TRUE(out.ok);
    return out;
  }
  HistoryRead latest(std::string_view room, uint32_t limit, uint64_t before) {
    HistoryRead out;
    h->read_latest(StreamKind::kRoom, room, limit, before, [&](HistoryRead r) { out = std::move(r); });
    EXPECT_TRUE(out.ok);
    return out;
  }
};

std::vector<uint64_t> offsets(const HistoryRead& r) {
  std::vector<uint64_t> v;
  for (const auto& e : r.entries) v.push_back(e.offset);
  return v;
}

TEST_F(InProcessFixture, OffsetsAreGapFreeAndDeliveredBeforeAppendReturns) {
  make(10, 60);
  for (int i = 1; i <= 3; ++i) {
    size_t before = sink.streams.size();
    bool delivered_first = false;
    h->append(StreamKind::kRoom, "lobby", prefix_for("lobby", i), 0, [&](bool ok, uint64_t off) {
      EXPECT_TRUE(ok);
      EXPECT_EQ(off, static_cast<uint64_t>(i));
      delivered_first = sink.streams.size() == before + 1;
    });
    EXPECT_TRUE(delivered_first);
  }
  ASSERT_EQ(sink.streams.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(sink.streams[i].offset, static_cast<uint64_t>(i + 1));
    EXPECT_EQ(sink.streams[i].frame, prefix_for("lobby", i + 1) + std::to_string(i + 1) + "}");
    EXPECT_EQ(sink.streams[i].epoch, sink.streams[0].epoch);
    EXPECT_EQ(sink.streams[i].name, "lobby");
  }
  EXPECT_EQ(sink.streams[0].epoch.size(), 12u);
  // Another stream has its own offsets and epoch.
  h->append(StreamKind::kUser, "lobby", prefix_for("x", 1), 0,
            [](bool, uint64_t off) { EXPECT_EQ(off, 1u); });
  EXPECT_NE(sink.streams.back().epoch, sink.streams[0].epoch);
  EXPECT_EQ(stats.history.appends.get(), 4u);
}

TEST_F(InProcessFixture, RecoveryIsIncompleteOnceTheNextOffsetWasTrimmed) {
  make(3, 60);
  for (int i = 1; i <= 5; ++i) append("lobby", i);
  std::string ep = sink.streams[0].epoch;
  HistoryRead r = since("lobby", ep, 2);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(offsets(r), (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_EQ(r.entries[0].frame, prefix_for("lobby", 3) + "3}");
  r = since("lobby", ep, 1);  // 2 is gone
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.top, 5u);
  EXPECT_TRUE(since("lobby", ep, 5).complete);
  EXPECT_TRUE(since("lobby", ep, 5).entries.empty());
  EXPECT_FALSE(since("lobby", ep, 6).complete);  // ahead of the stream
  r = since("lobby", "otherepoch", 4);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.epoch, ep);
  EXPECT_TRUE(r.entries.empty());
}

TEST_F(InProcessFixture, ReadLatestHonoursLimitAndBefore) {
  make(100, 60);
  for (int i = 1; i <= 10; ++i) append("lobby", i);
  EXPECT_EQ(offsets(latest("lobby", 3, 0)), (std::vector<uint64_t>{8, 9, 10}));
  EXPECT_EQ(offsets(latest("lobby", 3, 5)), (std::vector<uint64_t>{2, 3, 4}));
  EXPECT_EQ(offsets(latest("lobby", 10, 2)), (std::vector<uint64_t>{1}));
  EXPECT_TRUE(latest("lobby", 10, 1).entries.empty());
  HistoryRead r = latest("lobby", 0, 0);
  EXPECT_TRUE(r.entries.empty());
  EXPECT_EQ(r.top, 10u);
  EXPECT_EQ(r.epoch, sink.streams[0].epoch);
}

TEST_F(InProcessFixture, AReadOfAnUnknownStreamCreatesItsEpoch) {
  make(10, 60);
  HistoryRead r = latest("new-room", 5, 0);
  EXPECT_EQ(r.top, 0u);
  EXPECT_EQ(r.epoch.size(), 12u);
  append("new-room", 1);
  EXPECT_EQ(sink.streams.back().epoch, r.epoch);
  EXPECT_TRUE(since("new-room", r.epoch, 0).complete);
}

TEST_F(InProcessFixture, MessagesAndIdleStreamsExpire) {
  make(10, 1);
  append("lobby", 1);
  std::this_thread::sleep_for(600ms);
  append("lobby", 2);
  std::this_thread::sleep_for(600ms);
  std::string ep = sink.streams[0].epoch;
  HistoryRead r = since("lobby", ep, 0);  // 1 is 1.2 s old: gone; 2 is not
  EXPECT_EQ(r.epoch, ep);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(offsets(r), (std::vector<uint64_t>{2}));
  EXPECT_TRUE(since("lobby", ep, 1).complete);
  std::this_thread::sleep_for(1200ms);  // nothing new for a whole TTL: forgotten
  r = since("lobby", ep, 2);
  EXPECT_NE(r.epoch, ep);
  EXPECT_EQ(r.top, 0u);
  EXPECT_FALSE(r.complete);
}

TEST_F(InProcessFixture, TheSweepTimerFreesExpiredStreamsWithoutTraffic) {
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  make(10, 1, InProcessHistory::kDefaultBudgetBytes, &loop);
  append("a", 1);
  append("b", 1);
  EXPECT_EQ(h->streams(), 2u);
  EXPECT_GT(stats.history.stored_bytes.get(), 0u);
  uv_timer_t* stop = new_heap_timer(&loop, nullptr);
  uv_timer_start(
      stop, [](uv_timer_t* t) { uv_stop(t->loop); }, 1400, 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(h->streams(), 0u);
  EXPECT_EQ(stats.history.stored_bytes.get(), 0u);
  EXPECT_EQ(stats.history.streams.get(), 0u);
  close_heap_timer(stop);
  h->shutdown();
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

TEST_F(InProcessFixture, TheMemoryBudgetEvictsTheLeastRecentlyAppendedStream) {
  size_t frame = (prefix_for("a", 1) + "1}").size();
  make(100, 60, 4 * frame);
  append("a", 1);
  append("a", 2);
  std::string ep_a = sink.streams[0].epoch;
  append("b", 1);
  append("b", 2);
  EXPECT_EQ(stats.history.evicted_streams.get(), 0u);
  append("c", 1);  // over budget: a (least recently appended) goes whole
  EXPECT_EQ(stats.history.evicted_streams.get(), 1u);
  EXPECT_LE(h->stored_bytes(), 4 * frame);
  HistoryRead r = latest("a", 10, 0);
  EXPECT_NE(r.epoch, ep_a);
  EXPECT_EQ(r.top, 0u);
  EXPECT_FALSE(since("a", ep_a, 1).complete);
  EXPECT_EQ(offsets(latest("b", 10, 0)), (std::vector<uint64_t>{1, 2}));
}

TEST_F(InProcessFixture, AfterShutdownCallsFail) {
  make(10, 60);
  h->shutdown();
  bool failed = false;
  h->append(StreamKind::kRoom, "a", prefix_for("a", 1), 0,
            [&](bool ok, uint64_t off) { failed = !ok && off == 0; });
  EXPECT_TRUE(failed);
  HistoryRead r;
  r.ok = true;
  h->read_since(StreamKind::kRoom, "a", "x", 0, [&](HistoryRead got) { r = std::move(got); });
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(sink.streams.empty());
}

TEST(InProcessBackplaneHistory, SizeZeroMeansNoHistory) {
  TestSink sink;
  BackplaneStats stats;
  InProcessBackplane off(sink, nullptr, HistoryLimits{0, 60}, stats);
  EXPECT_EQ(off.history(), nullptr);
  InProcessBackplane on(sink, nullptr, HistoryLimits{5, 60}, stats);
  ASSERT_NE(on.history(), nullptr);
  on.history()->append(StreamKind::kRoom, "r", prefix_for("r", 1), 0, {});
  EXPECT_EQ(sink.streams.size(), 1u);
  on.shutdown();
}

// ------------------------------------------------------------------ Redis

using test::RedisProcess;

struct Node {
  TestSink sink;
  BackplaneStats stats;
  std::unique_ptr<RedisBackplane> bp;
  History& h() { return *bp->history(); }
};

struct RedisHistoryFixture : ::testing::Test {
  RedisProcess redis;
  uv_loop_t loop{};
  Node a, b;
  const std::string prefix = "rth:";
  bool loop_ready = false;

  void SetUp() override {
    if (!redis.start()) GTEST_SKIP() << "redis-server is not available";
    ASSERT_EQ(uv_loop_init(&loop), 0);
    loop_ready = true;
  }
  void TearDown() override {
    if (!loop_ready) return;
    for (Node* n : {&a, &b})
      if (n->bp) n->bp->shutdown();
    run_for(300);
    a.bp.reset();
    b.bp.reset();
    run_for(300);
    uv_walk(
        &loop,
        [](uv_handle_t* handle, void*) {
          if (!uv_is_closing(handle)) uv_close(handle, nullptr);
        },
        nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
  }

  void start(Node& n, const std::string& id, HistoryLimits limits) {
    RedisBackplaneOptions o;
    o.address = *parse_redis_url("redis://127.0.0.1:" + std::to_string(redis.port), nullptr);
    o.prefix = prefix;
    o.node_id = id;
    o.node_ttl_ms = 3000;
    o.connect_timeout_ms = 1000;
    o.log_level = -1;
    o.history = limits;
    n.bp = std::make_unique<RedisBackplane>(&loop, std::move(o), n.sink, n.stats);
    n.bp->start();
  }
  void start_both(HistoryLimits limits, const std::string& room = "lobby") {
    start(a, "node-a", limits);
    start(b, "node-b", limits);
    a.bp->room_interest(room, true);
    b.bp->room_interest(room, true);
    ASSERT_TRUE(run_until([&] { return a.bp->readiness().ready && b.bp->readiness().ready; }, 8000));
  }

  // Runs the loop until pred() or timeout_ms; pred()'s last value.
  bool run_until(const std::function<bool()>& pred, uint64_t timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    uv_timer_t* tick = new_heap_timer(&loop, nullptr);
    uv_timer_start(
        tick, [](uv_timer_t* t) { uv_stop(t->loop); }, 5, 5);
    bool ok = pred();
    while (!ok && std::chrono::steady_clock::now() < deadline) {
      uv_run(&loop, UV_RUN_DEFAULT);
      ok = pred();
    }
    close_heap_timer(tick);
    uv_run(&loop, UV_RUN_NOWAIT);
    return ok;
  }
  void run_for(uint64_t ms) {
    run_until([] { return false; }, ms);
  }

  // Appends on n and waits for the answer; the offset (0: failed).
  uint64_t append(Node& n, int i, const std::string& room = "lobby") {
    bool done = false;
    uint64_t got = 0;
    n.h().append(StreamKind::kRoom, room, prefix_for(room, i), 1, [&](bool ok, uint64_t off) {
      done = true;
      got = ok ? off : 0;
    });
    EXPECT_TRUE(run_until([&] { return done; }, 5000));
    return got;
  }
  HistoryRead since(Node& n, const std::string& epoch, uint64_t s, const std::string& room = "lobby") {
    std::optional<HistoryRead> out;
    n.h().read_since(StreamKind::kRoom, room, epoch, s, [&](HistoryRead r) { out = std::move(r); });
    EXPECT_TRUE(run_until([&] { return out.has_value(); }, 5000));
    EXPECT_TRUE(out && out->ok);
    return out ? *out : HistoryRead{};
  }
  HistoryRead latest(Node& n, uint32_t limit, uint64_t before, const std::string& room = "lobby") {
    std::optional<HistoryRead> out;
    n.h().read_latest(StreamKind::kRoom, room, limit, before, [&](HistoryRead r) { out = std::move(r); });
    EXPECT_TRUE(run_until([&] { return out.has_value(); }, 5000));
    EXPECT_TRUE(out && out->ok);
    return out ? *out : HistoryRead{};
  }
};

TEST_F(RedisHistoryFixture, BothNodesDeliverEveryAppendInOrderWithTheSameBytes) {
  start_both({10, 60});
  EXPECT_EQ(a.sink.subscribed_count("lobby"), 1u);
  EXPECT_EQ(b.sink.subscribed_count("lobby"), 1u);
  for (int i = 1; i <= 5; ++i) EXPECT_EQ(append(a, i), static_cast<uint64_t>(i));
  ASSERT_TRUE(run_until([&] { return a.sink.streams.size() == 5 && b.sink.streams.size() == 5; }, 5000));
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(a.sink.streams[i].offset, i + 1);
    EXPECT_EQ(a.sink.streams[i].frame,
              prefix_for("lobby", static_cast<int>(i + 1)) + std::to_string(i + 1) + "}");
    EXPECT_EQ(b.sink.streams[i].frame, a.sink.streams[i].frame);
    EXPECT_EQ(b.sink.streams[i].offset, a.sink.streams[i].offset);
    EXPECT_EQ(b.sink.streams[i].epoch, a.sink.streams[0].epoch);
    EXPECT_EQ(a.sink.streams[i].epoch, a.sink.streams[0].epoch);
  }
  // B appends to the same stream: the next offset, same epoch, everywhere.
  EXPECT_EQ(append(b, 6), 6u);
  ASSERT_TRUE(run_until([&] { return a.sink.streams.size() == 6 && b.sink.streams.size() == 6; }, 5000));
  EXPECT_EQ(a.sink.streams[5].frame, b.sink.streams[5].frame);
  EXPECT_EQ(a.sink.plain + b.sink.plain, 0);
  EXPECT_EQ(a.stats.invalid_envelopes.get() + b.stats.invalid_envelopes.get(), 0u);
  EXPECT_EQ(a.stats.history.appends.get(), 5u);
  EXPECT_EQ(b.stats.history.stream_deliveries.get(), 6u);
}

TEST_F(RedisHistoryFixture, ReadsAreCompleteUntilTheStreamWasTrimmed) {
  start_both({5, 60});
  for (int i = 1; i <= 7; ++i) ASSERT_EQ(append(a, i), static_cast<uint64_t>(i));
  std::string ep = latest(b, 0, 0).epoch;
  HistoryRead r = since(b, ep, 2);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(offsets(r), (std::vector<uint64_t>{3, 4, 5, 6, 7}));
  EXPECT_EQ(r.entries[0].frame, prefix_for("lobby", 3) + "3}");
  EXPECT_FALSE(since(b, ep, 1).complete);  // 2 was trimmed (MAXLEN 5)
  EXPECT_TRUE(since(b, ep, 7).complete);
  EXPECT_FALSE(since(b, ep, 8).complete);
  r = since(b, "not-the-epoch", 5);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.epoch, ep);
  EXPECT_EQ(r.top, 7u);
  EXPECT_EQ(offsets(latest(a, 3, 0)), (std::vector<uint64_t>{5, 6, 7}));
  EXPECT_EQ(offsets(latest(a, 2, 6)), (std::vector<uint64_t>{4, 5}));
  EXPECT_EQ(offsets(latest(a, 10, 0)), (std::vector<uint64_t>{3, 4, 5, 6, 7}));
  r = latest(a, 0, 0);
  EXPECT_TRUE(r.entries.empty());
  EXPECT_EQ(r.top, 7u);
  // An unknown stream gets an epoch from the read, which the append keeps.
  r = latest(a, 5, 0, "fresh");
  EXPECT_EQ(r.top, 0u);
  EXPECT_EQ(append(b, 1, "fresh"), 1u);
  EXPECT_EQ(latest(a, 0, 0, "fresh").epoch, r.epoch);
}

TEST_F(RedisHistoryFixture, MessagesAndIdleStreamsExpireByRedisTime) {
  start_both({10, 1});
  ASSERT_EQ(append(a, 1), 1u);
  std::string ep = a.sink.streams.empty() ? "" : a.sink.streams[0].epoch;
  run_for(600);
  ASSERT_EQ(append(a, 2), 2u);
  run_for(600);
  HistoryRead r = since(b, ep, 0);
  EXPECT_EQ(r.epoch, ep);
  EXPECT_FALSE(r.complete);  // 1 expired
  EXPECT_EQ(offsets(r), (std::vector<uint64_t>{2}));
  EXPECT_EQ(redis.cli("XLEN " + prefix + "hist:r:lobby"), "1");  // dropped by the read
  run_for(1200);
  EXPECT_EQ(redis.cli("EXISTS " + prefix + "hmeta:r:lobby"), "0");
  r = since(b, ep, 2);
  EXPECT_NE(r.epoch, ep);
  EXPECT_EQ(r.top, 0u);
}

TEST_F(RedisHistoryFixture, ARedisRestartWithoutPersistenceStartsANewEpoch) {
  start_both({10, 60});
  ASSERT_EQ(append(a, 1), 1u);
  ASSERT_EQ(append(a, 2), 2u);
  ASSERT_TRUE(run_until([&] { return b.sink.streams.size() == 2; }, 5000));
  std::string ep = b.sink.streams[0].epoch;
  redis.stop();
  ASSERT_TRUE(run_until([&] { return !a.bp->readiness().ready; }, 3000));
  // Reads while down fail at once.
  std::optional<HistoryRead> down;
  a.h().read_latest(StreamKind::kRoom, "lobby", 5, 0, [&](HistoryRead r) { down = std::move(r); });
  ASSERT_TRUE(down.has_value());
  EXPECT_FALSE(down->ok);
  ASSERT_TRUE(redis.start());
  ASSERT_TRUE(run_until([&] { return a.bp->readiness().ready && b.bp->readiness().ready; }, 10000));
  EXPECT_GE(b.sink.subscribed_count("lobby"), 2u);  // re-subscribed: told again
  EXPECT_EQ(append(a, 3), 1u);                      // the counter was lost with the data
  ASSERT_TRUE(run_until([&] { return b.sink.streams.size() == 3; }, 5000));
  EXPECT_NE(b.sink.streams[2].epoch, ep);
  EXPECT_EQ(b.sink.streams[2].offset, 1u);
  EXPECT_FALSE(since(b, ep, 2).complete);
}

TEST_F(RedisHistoryFixture, AppendsDuringAnOutageAreHeldAndPublishedInOrder) {
  start_both({10, 60});
  ASSERT_EQ(append(a, 1), 1u);
  redis.stop();
  ASSERT_TRUE(run_until([&] { return !a.bp->readiness().ready && !b.bp->readiness().ready; }, 3000));
  std::vector<uint64_t> done;
  for (int i = 2; i <= 4; ++i)
    a.h().append(StreamKind::kRoom, "lobby", prefix_for("lobby", i), 1,
                 [&](bool ok, uint64_t off) { done.push_back(ok ? off : 0); });
  run_for(200);
  EXPECT_TRUE(done.empty());  // held, not failed
  EXPECT_GT(a.stats.buffered_bytes.get(), 0u);
  ASSERT_TRUE(redis.start());
  ASSERT_TRUE(run_until([&] { return done.size() == 3; }, 10000));
  EXPECT_EQ(done, (std::vector<uint64_t>{1, 2, 3}));  // a new epoch (data lost), in order
  ASSERT_TRUE(run_until([&] { return b.sink.streams.size() == 4; }, 5000));
  for (int i = 1; i < 4; ++i) {
    EXPECT_EQ(b.sink.streams[i].offset, static_cast<uint64_t>(i));
    EXPECT_EQ(b.sink.streams[i].frame, prefix_for("lobby", i + 1) + std::to_string(i) + "}");
  }
  EXPECT_EQ(a.stats.buffered_bytes.get(), 0u);
}

TEST_F(RedisHistoryFixture, AppendsBeyondTheOutageBufferFail) {
  start(a, "node-a", {10, 60});
  ASSERT_TRUE(run_until([&] { return a.bp->readiness().ready; }, 8000));
  redis.stop();
  ASSERT_TRUE(run_until([&] { return !a.bp->readiness().ready; }, 3000));
  int failed = 0, pending = 0;
  std::string big(9 << 20, 'x');  // beyond the default 8 MiB bound
  a.h().append(StreamKind::kRoom, "lobby", R"({"content":")" + big + R"(","offset":)", 0,
               [&](bool ok, uint64_t off) { failed += !ok && off == 0; });
  a.h().append(StreamKind::kRoom, "lobby", prefix_for("lobby", 1), 0, [&](bool, uint64_t) { ++pending; });
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(pending, 0);
  EXPECT_EQ(a.stats.history.append_failures.get(), 1u);
  a.bp->shutdown();  // the held one fails now
  EXPECT_EQ(pending, 1);
}

TEST_F(RedisHistoryFixture, AScriptFlushIsRecoveredByLoadingTheScriptAgain) {
  start_both({10, 60});
  ASSERT_EQ(append(a, 1), 1u);
  EXPECT_EQ(redis.cli("SCRIPT FLUSH"), "OK");
  EXPECT_EQ(append(a, 2), 2u);
  EXPECT_EQ(offsets(latest(b, 5, 0)), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(a.stats.history.append_failures.get(), 0u);
}

TEST_F(RedisHistoryFixture, StreamSubscribedIsReportedAgainAfterTheSubscriptionLinkIsKilled) {
  start_both({10, 60});
  EXPECT_EQ(a.sink.subscribed_count("lobby"), 1u);
  EXPECT_NE(redis.cli("CLIENT KILL TYPE pubsub"), "0");
  ASSERT_TRUE(run_until(
      [&] { return a.sink.subscribed_count("lobby") >= 2 && b.sink.subscribed_count("lobby") >= 2; }, 8000));
  // Still one ordered source: appends reach both again.
  ASSERT_TRUE(run_until([&] { return a.bp->readiness().ready && b.bp->readiness().ready; }, 8000));
  EXPECT_EQ(append(b, 1), 1u);
  EXPECT_TRUE(run_until([&] { return a.sink.streams.size() == 1 && b.sink.streams.size() == 1; }, 5000));
}

TEST_F(RedisHistoryFixture, KeysThatAreNotOursAreRepaired) {
  start_both({10, 60});
  redis.cli("SET " + prefix + "hmeta:r:lobby notahash");
  redis.cli("SET " + prefix + "hist:r:lobby notastream");
  EXPECT_EQ(append(a, 1), 1u);
  EXPECT_GE(a.stats.invalid_envelopes.get(), 2u);
  ASSERT_TRUE(run_until([&] { return b.sink.streams.size() == 1; }, 5000));
  std::string ep = b.sink.streams[0].epoch;
  // Meta that is not ours (a bad epoch): the stream starts again.
  redis.cli("HSET " + prefix + "hmeta:r:lobby epoch 'bad epoch!' offset 3");
  EXPECT_EQ(append(a, 2), 1u);
  ASSERT_TRUE(run_until([&] { return b.sink.streams.size() == 2; }, 5000));
  EXPECT_NE(b.sink.streams[1].epoch, ep);
  // A stored frame that is not ours is left out of reads and counted.
  std::string ep2 = b.sink.streams[1].epoch;
  redis.cli("XADD " + prefix + "hist:r:lobby 2-0 f garbage t 99999999999999");
  redis.cli("HSET " + prefix + "hmeta:r:lobby offset 2");
  uint64_t before = b.stats.invalid_envelopes.get();
  HistoryRead r = since(b, ep2, 0);
  EXPECT_EQ(offsets(r), (std::vector<uint64_t>{1}));
  EXPECT_FALSE(r.complete);
  EXPECT_GT(b.stats.invalid_envelopes.get(), before);
}

TEST_F(RedisHistoryFixture, HistoryOffMeansNoHistoryAndPlainPublications) {
  start_both({0, 60});
  EXPECT_EQ(a.bp->history(), nullptr);
  EXPECT_EQ(a.sink.subscribed_count("lobby"), 0u);  // only when history is on
  a.bp->publish_to_room("lobby", make_text_frame(R"({"type":"message"})"), {});
  ASSERT_TRUE(run_until([&] { return b.sink.plain == 1; }, 5000));
  run_for(100);
  EXPECT_EQ(a.sink.plain, 0);  // its own plain publication is not handed back
  EXPECT_TRUE(b.sink.streams.empty());
}

TEST_F(RedisHistoryFixture, PlainPublicationsStillSkipTheirOwnNodeWithHistoryOn) {
  start_both({10, 60});
  a.bp->publish_to_room("lobby", make_text_frame(R"({"type":"message"})"), {});
  ASSERT_TRUE(run_until([&] { return b.sink.plain == 1; }, 5000));
  run_for(100);
  EXPECT_EQ(a.sink.plain, 0);
}

}  // namespace
}  // namespace rtcore
