// A hiredis reply handler that throws, against a real redis-server: the
// exception stays inside the callback (counted), only that Redis link is
// reset, and it comes back by itself.
#include <gtest/gtest.h>
#include <uv.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "../support/redis_child.hpp"
#include "backplane/redis_link.hpp"
#include "backplane/redis_url.hpp"
#include "loop/heap_timer.hpp"

namespace rtcore {
namespace {

using namespace std::chrono_literals;

using test::RedisProcess;

TEST(RedisLinkGuards, ThrowingReplyHandlerIsCountedAndOnlyThatLinkIsReset) {
  RedisProcess redis;
  if (!redis.start()) GTEST_SKIP() << "redis-server is not available";
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  Counter errors;
  int ups = 0, downs = 0, answered_after = 0;
  auto address = parse_redis_url("redis://127.0.0.1:" + std::to_string(redis.port), nullptr);
  ASSERT_TRUE(address);
  RedisLink* link_ptr = nullptr;
  RedisLink link(
      &loop, *address, "test", 2000,
      [&] {
        ++ups;
        if (ups == 1) {
          // The first answer blows up inside hiredis' callback.
          link_ptr->command({"PING"},
                            [](redisReply*) { throw std::runtime_error("test: a failing reply handler"); });
        } else {
          // Back by itself: commands work again.
          link_ptr->command({"PING"}, [&](redisReply* r) { answered_after += r != nullptr; });
        }
      },
      [&](const std::string&) { ++downs; });
  link_ptr = &link;
  link.set_error_counter(&errors);
  link.start();
  uv_timer_t* deadline = new_heap_timer(&loop, &loop);
  uv_timer_start(
      deadline, [](uv_timer_t* t) { uv_stop(static_cast<uv_loop_t*>(t->data)); }, 10000, 0);
  uv_timer_t* poll = new_heap_timer(&loop, &answered_after);
  uv_timer_start(
      poll,
      [](uv_timer_t* t) {
        if (*static_cast<int*>(t->data) > 0) uv_stop(t->loop);
      },
      10, 10);
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(errors.get(), 1u);
  EXPECT_EQ(downs, 1);  // reset once, from a timer (never inside the callback)
  EXPECT_EQ(ups, 2);
  EXPECT_EQ(answered_after, 1);
  link.stop();
  close_heap_timer(deadline);
  close_heap_timer(poll);
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

}  // namespace
}  // namespace rtcore
