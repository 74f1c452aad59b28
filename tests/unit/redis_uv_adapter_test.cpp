// The libuv adapter for hiredis (backplane/redis_uv_adapter.cpp) against a
// real redis-server: it reads for hiredis and feeds the reader in 1 KiB
// pieces, so replies of every size, split anywhere, must arrive whole and
// in order; a callback that frees the context ends the read there; a server
// that dies is a disconnect with hiredis' own error.
#include <gtest/gtest.h>
#include <hiredis/async.h>
#include <uv.h>

#include <signal.h>

#include <string>
#include <vector>

#include "../support/redis_child.hpp"
#include "backplane/redis_uv_adapter.hpp"
#include "loop/heap_timer.hpp"

namespace rtcore {
namespace {

using test::RedisProcess;

// Sizes around the reader's 1 KiB discard point and the feed size, small
// pub/sub-like messages, and some far bigger than one read (64 KiB).
size_t size_of(size_t i) {
  if (i % 97 == 0) return 150000 + i;
  if (i % 13 == 0) return 1022 + i % 5;
  if (i % 11 == 0) return 4096 + i % 3;
  return 1 + (i * 37) % 300;
}

std::string payload(size_t i) {
  std::string s = std::to_string(i) + ":";
  s.resize(size_of(i), static_cast<char>('a' + i % 26));
  return s;
}

struct Loop {
  uv_loop_t loop;
  uv_timer_t* deadline = nullptr;
  Loop() {
    uv_loop_init(&loop);
    deadline = new_heap_timer(&loop, &loop);
    uv_timer_start(
        deadline, [](uv_timer_t* t) { uv_stop(static_cast<uv_loop_t*>(t->data)); }, 20000, 0);
  }
  ~Loop() {
    close_heap_timer(deadline);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
  }
};

redisAsyncContext* connect(Loop& l, uint16_t port) {
  redisAsyncContext* ac = redisAsyncConnect("127.0.0.1", port);
  if (!ac || ac->err) return nullptr;
  if (attach_redis_to_uv(ac, &l.loop) != 0) return nullptr;
  return ac;
}

// Every test: a redis-server of its own and a loop (closed after it).
class RedisUvAdapter : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!redis.start()) GTEST_SKIP() << "redis-server is not available";
  }
  redisAsyncContext* open() { return connect(l, redis.port); }
  RedisProcess redis;
  Loop l;
};

struct Received {
  size_t next = 0, wrong = 0, total = 0;
  redisAsyncContext* publisher = nullptr;
  uv_loop_t* loop = nullptr;
};

constexpr size_t kMessages = 3000;

TEST_F(RedisUvAdapter, PublishedMessagesOfEverySizeArriveWholeAndInOrder) {
  redisAsyncContext* sub = open();
  redisAsyncContext* pub = open();
  ASSERT_TRUE(sub && pub);
  Received got;
  got.loop = &l.loop;
  got.publisher = pub;
  redisAsyncCommand(
      sub,
      [](redisAsyncContext*, void* r, void* p) {
        auto* reply = static_cast<redisReply*>(r);
        auto* g = static_cast<Received*>(p);
        if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) return;
        std::string kind(reply->element[0]->str, reply->element[0]->len);
        if (kind == "subscribe") {  // subscribed: publish everything at once
          for (size_t i = 0; i < kMessages; ++i) {
            std::string m = payload(i);
            redisAsyncCommand(g->publisher, nullptr, nullptr, "PUBLISH adapter-test %b", m.data(), m.size());
          }
          return;
        }
        ++g->total;
        const redisReply* body = reply->element[2];
        if (kind != "message" || std::string(body->str, body->len) != payload(g->next)) ++g->wrong;
        ++g->next;
        if (g->total == kMessages) uv_stop(g->loop);
      },
      &got, "SUBSCRIBE adapter-test");
  uv_run(&l.loop, UV_RUN_DEFAULT);
  EXPECT_EQ(got.total, kMessages);
  EXPECT_EQ(got.wrong, 0u);
  redisAsyncFree(sub);
  redisAsyncFree(pub);
}

TEST_F(RedisUvAdapter, PipelinedRepliesOfEverySizeArriveWholeAndInOrder) {
  constexpr size_t kCommands = kMessages;
  redisAsyncContext* ac = open();
  ASSERT_TRUE(ac);
  Received got;
  got.loop = &l.loop;
  for (size_t i = 0; i < kCommands; ++i) {
    std::string m = payload(i);
    redisAsyncCommand(
        ac,
        [](redisAsyncContext*, void* r, void* p) {
          auto* reply = static_cast<redisReply*>(r);
          auto* g = static_cast<Received*>(p);
          ++g->total;
          if (!reply || reply->type != REDIS_REPLY_STRING ||
              std::string(reply->str, reply->len) != payload(g->next))
            ++g->wrong;
          ++g->next;
          if (g->total == kCommands) uv_stop(g->loop);
        },
        &got, "ECHO %b", m.data(), m.size());
  }
  uv_run(&l.loop, UV_RUN_DEFAULT);
  EXPECT_EQ(got.total, kCommands);
  EXPECT_EQ(got.wrong, 0u);
  redisAsyncFree(ac);
}

TEST_F(RedisUvAdapter, ACallbackThatFreesTheContextEndsTheReadThere) {
  redisAsyncContext* ac = open();
  ASSERT_TRUE(ac);
  struct Count {
    uv_loop_t* loop;
    int answered = 0, cancelled = 0;
  } count{&l.loop};
  // 2,000 small replies arrive in a few reads, each fed in many pieces:
  // the 100th callback frees the context in the middle of one.
  for (int i = 0; i < 2000; ++i) {
    redisAsyncCommand(
        ac,
        [](redisAsyncContext* c, void* r, void* p) {
          auto* n = static_cast<Count*>(p);
          if (!r) {
            ++n->cancelled;
            return;
          }
          if (++n->answered == 100) {
            uv_stop(n->loop);
            redisAsyncFree(c);
          }
        },
        &count, "PING");
  }
  uv_run(&l.loop, UV_RUN_DEFAULT);
  EXPECT_EQ(count.answered, 100);
  EXPECT_EQ(count.cancelled, 1900);  // hiredis calls the rest with no reply
}

TEST_F(RedisUvAdapter, AServerThatDiesIsADisconnectWithHiredisError) {
  redisAsyncContext* ac = open();
  ASSERT_TRUE(ac);
  struct State {
    pid_t redis = -1;
    uv_loop_t* loop = nullptr;
    int status = 1, disconnects = 0;
    std::string error;
  } st;
  st.redis = redis.pid;
  st.loop = &l.loop;
  ac->data = &st;
  redisAsyncSetDisconnectCallback(ac, [](const redisAsyncContext* c, int status) {
    auto* s = static_cast<State*>(c->data);
    ++s->disconnects;
    s->status = status;
    s->error = c->errstr;
    uv_stop(s->loop);
  });
  // Connected and answering, then killed (SIGKILL: no goodbye from Redis).
  redisAsyncCommand(
      ac, [](redisAsyncContext* c, void*, void*) { kill(static_cast<State*>(c->data)->redis, SIGKILL); },
      nullptr, "PING");
  uv_run(&l.loop, UV_RUN_DEFAULT);
  EXPECT_EQ(st.disconnects, 1);
  EXPECT_EQ(st.status, REDIS_ERR);
  EXPECT_FALSE(st.error.empty());
}

}  // namespace
}  // namespace rtcore
