// WsServer against real loopback clients (raw TCP sockets doing the
// WebSocket handshake by hand): exceptions thrown by TransportEvents are
// caught at the lws callback, counted, and close only their connection.
#include "transport/ws_server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/counter.hpp"

namespace {

using namespace rtcore;
using std::chrono::steady_clock;

constexpr int kTimeoutMs = 5000;

// Echoes every text message; throws where the user id says so.
class Events : public TransportEvents {
 public:
  struct Conn {
    lws* wsi;
    std::string user;
    std::string rx;
    std::vector<std::string> out;
  };

  UpgradeDecision on_upgrade(const UpgradeRequest& request) override {
    if (request.path == "/ws/throw-upgrade") throw std::runtime_error("thrown by on_upgrade");
    UpgradeDecision d;
    d.user_id = std::string(request.path.substr(4));
    return d;
  }
  void* on_open(lws* wsi, UpgradeDecision accepted) override {
    if (accepted.user_id == "throw-open") throw std::runtime_error("thrown by on_open");
    std::lock_guard lock(mu);
    ++live;
    return new Conn{wsi, accepted.user_id, {}, {}};
  }
  void on_open_failed(lws*) override {
    std::lock_guard lock(mu);
    ++open_failed;
  }
  void on_upgrade_abandoned(const UpgradeDecision&) override {}
  void on_receive(void* conn, const char* data, size_t len, bool, bool final, bool, size_t) override {
    auto* c = static_cast<Conn*>(conn);
    if (c->user == "thrower") throw std::runtime_error("thrown by on_receive");
    c->rx.append(data, len);
    if (!final) return;
    c->out.push_back(std::move(c->rx));
    c->rx.clear();
    server->request_writeable(c->wsi);
  }
  void on_writeable(void* conn) override {
    auto* c = static_cast<Conn*>(conn);
    for (const std::string& m : c->out) {
      ASSERT_LT(m.size(), 126u);
      std::vector<unsigned char> buf(WsServer::kWritePrefix + 2 + m.size());
      unsigned char* frame = buf.data() + WsServer::kWritePrefix;
      frame[0] = 0x81;
      frame[1] = static_cast<unsigned char>(m.size());
      std::memcpy(frame + 2, m.data(), m.size());
      server->write_raw(c->wsi, frame, 2 + m.size());
    }
    c->out.clear();
  }
  void on_peer_close(void*, uint16_t) override {}
  void on_closed(void* conn) override {
    auto* c = static_cast<Conn*>(conn);
    {
      std::lock_guard lock(mu);
      --live;
      closed.push_back(c->user);
    }
    delete c;
  }

  WsServer* server = nullptr;
  std::mutex mu;
  int live = 0;
  int open_failed = 0;
  std::vector<std::string> closed;
};

// A WsServer on its own loop thread, shut down the way the engine does it
// (two destruction passes, STACK-NOTES).
class Harness {
 public:
  Harness(Events& events, Counter* errors) {
    uv_loop_init(&loop_);
    WsServerOptions options;
    options.internal_errors = errors;
    options.log_level = 0;
    server_ = std::make_unique<WsServer>(&loop_, options, events);
    events.server = server_.get();
    port_ = server_->listen();
    stop_.data = this;
    uv_async_init(&loop_, &stop_, [](uv_async_t* async) {
      static_cast<Harness*>(async->data)->server_->begin_destroy();
      uv_close(reinterpret_cast<uv_handle_t*>(async), nullptr);
    });
    thread_ = std::thread([this] {
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
      uv_run(&loop_, UV_RUN_DEFAULT);
    });
  }
  ~Harness() {
    uv_async_send(&stop_);
    thread_.join();
    server_.reset();
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }
  int port() const { return port_; }

 private:
  uv_loop_t loop_{};
  uv_async_t stop_{};
  std::unique_ptr<WsServer> server_;
  int port_ = -1;
  std::thread thread_;
};

class Client {
 public:
  explicit Client(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { close(fd_); }

  // Sends an upgrade request; returns the response's status (0 if none)
  // and keeps anything after the response head in rest_.
  int upgrade(const std::string& path) {
    if (!connected_) return 0;
    std::string request = "GET " + path +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    if (!send_all(request)) return 0;
    while (rest_.find("\r\n\r\n") == std::string::npos)
      if (!read_some()) return 0;
    size_t head_end = rest_.find("\r\n\r\n");
    std::string head = rest_.substr(0, head_end);
    rest_.erase(0, head_end + 4);
    if (head.compare(0, 9, "HTTP/1.1 ") != 0) return 0;
    return std::atoi(head.c_str() + 9);
  }

  // A masked text frame, as a client must send it.
  bool send_text(const std::string& text) {
    std::string frame;
    frame.push_back(static_cast<char>(0x81));
    frame.push_back(static_cast<char>(0x80 | text.size()));
    const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    frame.append(reinterpret_cast<const char*>(mask), 4);
    for (size_t i = 0; i < text.size(); ++i) frame.push_back(static_cast<char>(text[i] ^ mask[i % 4]));
    return send_all(frame);
  }

  // The payload of the next (short, unmasked) server frame; empty if the
  // connection ended first.
  std::string recv_text() {
    auto length = [&] {
      return rest_.size() < 2 ? size_t{0} : static_cast<size_t>(static_cast<unsigned char>(rest_[1]) & 0x7F);
    };
    while (rest_.size() < 2 + length())
      if (!read_some()) return {};
    size_t len = length();
    std::string payload = rest_.substr(2, len);
    rest_.erase(0, 2 + len);
    return payload;
  }

  // True once the server closed the connection (within the timeout).
  bool wait_closed() {
    while (read_some()) {
    }
    return eof_;
  }

  // Everything the server sends until it closes.
  std::string read_all() {
    while (read_some()) {
    }
    return rest_;
  }

 private:
  bool send_all(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  bool read_some() {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, kTimeoutMs) != 1) return false;  // timed out: eof_ stays false
    char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      eof_ = true;  // orderly close or reset
      return false;
    }
    rest_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string rest_;
};

// Waits (briefly) for the loop thread to have closed `count` connections.
std::vector<std::string> closed_after(Events& events, size_t count) {
  auto deadline = steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
  while (steady_clock::now() < deadline) {
    {
      std::lock_guard lock(events.mu);
      if (events.closed.size() >= count) return events.closed;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::lock_guard lock(events.mu);
  return events.closed;
}

TEST(WsServerGuard, ThrowInReceiveClosesOnlyThatConnection) {
  Events events;
  Counter errors;
  {
    Harness server(events, &errors);
    ASSERT_GT(server.port(), 0);
    Client good(server.port()), bad(server.port());
    ASSERT_EQ(good.upgrade("/ws/good"), 101);
    ASSERT_EQ(bad.upgrade("/ws/thrower"), 101);
    ASSERT_TRUE(good.send_text("before"));
    EXPECT_EQ(good.recv_text(), "before");

    ASSERT_TRUE(bad.send_text("boom"));
    EXPECT_TRUE(bad.wait_closed());
    // on_closed ran for it: its object is gone, nothing leaked.
    EXPECT_EQ(closed_after(events, 1), std::vector<std::string>{"thrower"});
    EXPECT_EQ(errors.get(), 1u);

    // The other connection on the same server is untouched.
    ASSERT_TRUE(good.send_text("after"));
    EXPECT_EQ(good.recv_text(), "after");
    std::lock_guard lock(events.mu);
    EXPECT_EQ(events.live, 1);
  }
  EXPECT_EQ(events.live, 0);  // the good one closed at shutdown
  EXPECT_EQ(errors.get(), 1u);
}

TEST(WsServerGuard, ThrowInOpenClosesTheConnectionAndCallsOnOpenFailed) {
  Events events;
  Counter errors;
  {
    Harness server(events, &errors);
    ASSERT_GT(server.port(), 0);
    Client good(server.port()), bad(server.port());
    ASSERT_EQ(good.upgrade("/ws/good"), 101);
    EXPECT_EQ(bad.upgrade("/ws/throw-open"), 101);  // lws answers before ESTABLISHED
    EXPECT_TRUE(bad.wait_closed());
    EXPECT_EQ(errors.get(), 1u);
    {
      std::lock_guard lock(events.mu);
      EXPECT_EQ(events.open_failed, 1);
      EXPECT_TRUE(events.closed.empty());  // no object, so no on_closed
    }
    ASSERT_TRUE(good.send_text("still here"));
    EXPECT_EQ(good.recv_text(), "still here");
  }
  EXPECT_EQ(events.live, 0);
}

TEST(WsServerGuard, ThrowInUpgradeIsAnswered500) {
  Events events;
  Counter errors;
  Harness server(events, &errors);
  ASSERT_GT(server.port(), 0);
  Client bad(server.port());
  EXPECT_EQ(bad.upgrade("/ws/throw-upgrade"), 500);
  EXPECT_EQ(bad.read_all(), "500 Internal Server Error: internal error\n");
  EXPECT_EQ(errors.get(), 1u);
  Client good(server.port());
  ASSERT_EQ(good.upgrade("/ws/good"), 101);
  ASSERT_TRUE(good.send_text("ok"));
  EXPECT_EQ(good.recv_text(), "ok");
}

TEST(WsServerGuard, WithoutACounterExceptionsAreStillCaught) {
  Events events;
  Harness server(events, nullptr);
  ASSERT_GT(server.port(), 0);
  Client good(server.port()), bad(server.port());
  ASSERT_EQ(good.upgrade("/ws/good"), 101);
  ASSERT_EQ(bad.upgrade("/ws/thrower"), 101);
  ASSERT_TRUE(bad.send_text("boom"));
  EXPECT_TRUE(bad.wait_closed());
  EXPECT_EQ(closed_after(events, 1), std::vector<std::string>{"thrower"});
  ASSERT_TRUE(good.send_text("ok"));
  EXPECT_EQ(good.recv_text(), "ok");
}

}  // namespace
