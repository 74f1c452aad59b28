// Exceptions at the engine's C-library boundaries (issue 10, part 2): a
// command that throws is counted in internal_errors, the rest of its batch
// still runs, and the engine keeps serving.
#include <gtest/gtest.h>

#include <uv.h>
#include <mutex>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>

#include "engine/engine.hpp"
#include "engine/engine_core.hpp"

namespace rtcore {
namespace {

using namespace std::chrono_literals;

// One HTTP/1.0 GET; the status line (empty on failure).
std::string http_status_line(uint16_t port, const char* path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return {};
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
    std::string req =
        std::string("GET ") + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (send(fd, req.data(), req.size(), 0) == static_cast<ssize_t>(req.size())) {
      char buf[512];
      ssize_t n;
      while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
        out.append(buf, static_cast<size_t>(n));
        if (out.find("\r\n") != std::string::npos) break;
      }
    }
  }
  close(fd);
  return out.substr(0, out.find("\r\n"));
}

EngineConfig quiet_config() {
  EngineConfig cfg;
  cfg.port = 0;
  cfg.log_level = 0;
  return cfg;
}

TEST(EngineGuards, ThrowingCommandIsCountedAndTheEngineKeepsServing) {
  Engine engine(quiet_config(), EngineHooks{});
  ASSERT_EQ(engine.start(), StartResult::kOk);
  std::promise<void> later_ran;
  // Queued back to back, so they usually share one drain of the queue.
  ASSERT_TRUE(engine.post([](EngineCore&) { throw std::runtime_error("test: a failing command"); }));
  ASSERT_TRUE(engine.post([&](EngineCore&) { later_ran.set_value(); }));
  ASSERT_EQ(later_ran.get_future().wait_for(5s), std::future_status::ready);
  EXPECT_EQ(engine.stats().internal_errors.get(), 1u);
  EXPECT_EQ(http_status_line(engine.port(), "/healthz"), "HTTP/1.1 200 OK");
  // Non-standard exceptions are caught too.
  std::promise<void> after_int;
  ASSERT_TRUE(engine.post([](EngineCore&) { throw 42; }));
  ASSERT_TRUE(engine.post([&](EngineCore&) { after_int.set_value(); }));
  ASSERT_EQ(after_int.get_future().wait_for(5s), std::future_status::ready);
  EXPECT_EQ(engine.stats().internal_errors.get(), 2u);
  EXPECT_TRUE(engine.stop(1000));
}

// Upgrades to /ws/{user}; the response's status line (empty on failure).
std::string upgrade_status_line(uint16_t port, const char* user) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return {};
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
    std::string req = std::string("GET /ws/") + user +
                      " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    if (send(fd, req.data(), req.size(), 0) == static_cast<ssize_t>(req.size())) {
      char buf[512];
      ssize_t n;
      while (out.find("\r\n\r\n") == std::string::npos && (n = recv(fd, buf, sizeof buf, 0)) > 0)
        out.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return out.substr(0, out.find("\r\n"));
}

// A host hook that throws (here on_open) costs only that connection: it is
// undone as if closed, counted, and the engine serves the next one.
TEST(EngineGuards, ThrowingOnOpenHookUndoesOnlyThatConnection) {
  EngineHooks hooks;
  std::atomic<int> opens{0}, disconnects{0};
  hooks.on_open = [&](ConnId, std::string_view) {
    if (opens.fetch_add(1) == 0) throw std::runtime_error("test: a failing on_open hook");
  };
  hooks.on_disconnect = [&](ConnId, std::string_view, uint16_t) { disconnects.fetch_add(1); };
  // Presence stays paired: the undo's offline follows an online.
  std::mutex presence_mu;
  std::vector<bool> presence;
  hooks.on_presence = [&](std::string_view, bool online, std::string_view) {
    std::lock_guard lock(presence_mu);
    presence.push_back(online);
  };
  EngineConfig cfg = quiet_config();
  cfg.max_connections_per_user = 1;
  Engine engine(cfg, hooks);
  ASSERT_EQ(engine.start(), StartResult::kOk);
  EXPECT_EQ(upgrade_status_line(engine.port(), "alice"), "HTTP/1.1 101 Switching Protocols");
  auto deadline = std::chrono::steady_clock::now() + 5s;
  // The transport counts the exception just after on_open has undone it.
  while ((engine.stats().users.get() != 0 || engine.stats().internal_errors.get() == 0) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  EXPECT_EQ(engine.stats().users.get(), 0u);
  EXPECT_EQ(engine.stats().internal_errors.get(), 1u);
  EXPECT_EQ(disconnects.load(), 1);  // the host saw on_open (it threw there): it hears of the end
  {
    std::lock_guard lock(presence_mu);
    EXPECT_EQ(presence, (std::vector<bool>{true, false}));
  }
  // Nothing of alice's first connection is left: with a limit of one, her
  // next upgrade is accepted.
  EXPECT_EQ(upgrade_status_line(engine.port(), "alice").substr(0, 12), "HTTP/1.1 101");
  deadline = std::chrono::steady_clock::now() + 5s;  // on_open may run just after the 101 went out
  while (opens.load() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(opens.load(), 2);
  EXPECT_TRUE(engine.stop(1000));
}

TEST(CommandQueue, ThrowingCommandDoesNotStopTheRestOfTheBatch) {
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  Counter errors;
  CommandQueue queue;
  ASSERT_EQ(queue.bind(&loop, errors), 0);
  int ran = 0;
  ASSERT_TRUE(queue.push([&] { ++ran; }));
  ASSERT_TRUE(queue.push([] { throw std::runtime_error("test: a failing command"); }));
  ASSERT_TRUE(queue.push([&] { ++ran; }));
  uv_run(&loop, UV_RUN_NOWAIT);  // one wake-up: the three commands in one batch
  EXPECT_EQ(ran, 2);
  EXPECT_EQ(errors.get(), 1u);
  queue.close();
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

}  // namespace
}  // namespace rtcore
