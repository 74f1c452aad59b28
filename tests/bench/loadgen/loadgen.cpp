// rtcore load generator: one thread, epoll, minimal client-side WebSocket
// framing (masked text frames, unmasked server frames, ping -> pong).
//
// It speaks docs/protocol.md (join_room with id + ack, room_message,
// direct_message) and measures, per run: deliveries/s, loss, duplicates,
// reordering (sequence numbers inside `content`), end-to-end latency
// (CLOCK_MONOTONIC send time inside `content`), the server's CPU time
// (sum of /proc/PID/task/*/schedstat) and RSS (/proc/PID/status), and its
// own CPU time (getrusage), so it can be shown not to be the bottleneck.
//
// Scenarios (first argument):
//   fanout  C clients join one room; S senders send M messages each, burst
//           (--rate 0) or paced (--rate R messages/s per sender). --slow K
//           makes the last K clients stop reading after their join ack.
//   direct  P pairs; sender i sends M direct messages to user r<i>.
//           --cross: senders on the first URL, receivers on the second.
//   storm   N connections opened as fast as possible (window --window),
//           connections/s until every upgrade is answered.
//   hold    N idle connections; prints {"ready":N} once all are open, then
//           answers pings until stdin reaches EOF or SIGTERM/SIGINT.
//   presence  C clients join one room (over every --url); client 0 then
//           sends --queries Q `presence` queries one after another (each
//           waits for its answer), then Q pipelined (all sent at once):
//           server CPU per query, latency, answer size, truncation.
//
// --presence (fanout): every join_room carries "presence": true, so each
// member also gets user_joined for the users joining after it (O(C^2)
// frames). The joins are timed (connect + join until the last ack, then
// until the last user_joined: `join_s`, `join_drain_s`, with the server's
// CPU over that phase), and the burst is measured only after the events
// are drained. user_joined / user_left frames are counted apart
// (`presence_frames`), never as deliveries.
//
// The result is one JSON object on stdout.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

// ---------------------------------------------------------------- utilities

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

// Send times inside `content` use CLOCK_REALTIME, the clock of the kernel's
// receive timestamps (SO_TIMESTAMPNS), so latency can be measured both when
// the load generator handles a frame and when the kernel queued it.
uint64_t wall_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

[[noreturn]] void die(const char* fmt, const char* a = "") {
  std::fprintf(stderr, "loadgen: ");
  std::fprintf(stderr, fmt, a);
  std::fprintf(stderr, "\n");
  std::exit(2);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// Server process accounting from /proc.
struct ProcSample {
  uint64_t run_ns = 0;   // sum of schedstat over live threads
  uint64_t utime_t = 0;  // clock ticks, whole process (incl. dead threads)
  uint64_t stime_t = 0;
  uint64_t rss_kb = 0;
  uint64_t hwm_kb = 0;
  bool alive = false;
};

ProcSample sample_proc(int pid) {
  ProcSample s;
  char path[128];
  std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
  {
    std::ifstream f(path);
    std::string line;
    if (!std::getline(f, line)) return s;
    s.alive = true;
    // Fields after the ")" of comm: state(3) ... utime(14) stime(15).
    auto p = line.rfind(')');
    std::istringstream is(line.substr(p + 2));
    std::string tok;
    for (int field = 3; is >> tok; ++field) {
      if (field == 14) s.utime_t = std::strtoull(tok.c_str(), nullptr, 10);
      if (field == 15) {
        s.stime_t = std::strtoull(tok.c_str(), nullptr, 10);
        break;
      }
    }
  }
  std::snprintf(path, sizeof path, "/proc/%d/status", pid);
  {
    std::ifstream f(path);
    std::string line;
    while (std::getline(f, line)) {
      if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::strtoull(line.c_str() + 6, nullptr, 10);
      if (line.rfind("VmHWM:", 0) == 0) s.hwm_kb = std::strtoull(line.c_str() + 6, nullptr, 10);
    }
  }
  std::snprintf(path, sizeof path, "/proc/%d/task", pid);
  std::string cmd = std::string("ls ") + path + " 2>/dev/null";
  // Enumerate tasks without <filesystem> overhead concerns: popen is fine
  // here (called twice per run, outside the measured window).
  if (FILE* ls = popen(cmd.c_str(), "r")) {
    char tid[64];
    while (std::fscanf(ls, "%63s", tid) == 1) {
      char sp[192];
      std::snprintf(sp, sizeof sp, "/proc/%d/task/%s/schedstat", pid, tid);
      std::ifstream f(sp);
      uint64_t run = 0;
      if (f >> run) s.run_ns += run;
    }
    pclose(ls);
  }
  return s;
}

double self_cpu_s() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

// ------------------------------------------------------------------ options

struct Options {
  std::string scenario;
  std::vector<std::string> urls;
  std::vector<int> pids, aux_pids;
  int clients = 100, messages = 100, senders = 1, slow = 0, pairs = 100;
  int conns = 1000, window = 512;
  double rate = 0;  // messages/s per sender; 0 = burst
  int size = 32;    // content bytes (approximately)
  bool cross = false;
  bool presence = false;  // fanout: join_room with "presence": true
  int queries = 200;      // presence scenario
  int limit = 1000;       // presence scenario: the server's --presence-limit
  int depth = 16;         // presence scenario: pipelined queries outstanding
  int src_ips = 1, src_base = 2;
  double timeout_s = 60, quiet_s = 5;
  std::string label = "b";
  std::string room = "bench";
  int slow_rcvbuf = 4096;
  int rooms = 100;  // reconnect scenario: client i is in room <room><i % rooms>
};

struct Url {
  sockaddr_in addr{};
  std::string hostport;
};

Url parse_url(const std::string& u) {
  // ws://HOST:PORT
  std::string rest = u;
  if (rest.rfind("ws://", 0) == 0) rest = rest.substr(5);
  auto slash = rest.find('/');
  if (slash != std::string::npos) rest = rest.substr(0, slash);
  auto colon = rest.rfind(':');
  if (colon == std::string::npos) die("bad url %s", u.c_str());
  Url out;
  out.hostport = rest;
  out.addr.sin_family = AF_INET;
  out.addr.sin_port = htons(uint16_t(std::atoi(rest.c_str() + colon + 1)));
  if (inet_pton(AF_INET, rest.substr(0, colon).c_str(), &out.addr.sin_addr) != 1)
    die("bad host in %s", u.c_str());
  return out;
}

// ------------------------------------------------------------------ clients

enum class State : uint8_t { kIdle, kConnecting, kHandshake, kOpen, kClosed, kFailed };

struct Stream {  // what one receiver expects from one sender
  int32_t last = -1;
  uint32_t got = 0;
};

struct Client {
  int fd = -1;
  uint32_t idx = 0;
  uint16_t url = 0;
  State state = State::kIdle;
  bool slow = false;    // stops reading after its join ack
  bool paused = false;  // not reading now
  bool joined = false;
  bool receiver = false;
  bool got_probe = false;
  bool hup = false;  // peer closed or error seen: read to EOF
  uint16_t close_code = 0;
  bool server_closed = false;
  std::string user;
  std::string in;    // partial frame bytes
  std::string frag;  // fragmented message being reassembled
  std::string out;   // unsent bytes
  size_t out_off = 0;
  // Tracking (receivers only): one Stream per expected sender and a bitmap
  // of seen sequence numbers per stream.
  std::vector<Stream> streams;
  std::vector<uint64_t> seen;
  std::vector<uint64_t> pseen;  // --presence: user_joined seen, per user index
  uint64_t frames_in = 0;
  uint64_t retry_at_ns = 0;  // reconnect scenario: next attempt after a refusal
  uint64_t connect_ns = 0;   // when this connection attempt started
};

struct Totals {
  uint64_t deliveries = 0, unique = 0, duplicates = 0, reordered = 0, misrouted = 0, errors = 0, acks = 0,
           probes = 0, bad_frames = 0, unexpected_closes = 0, slow_deliveries = 0;
  uint64_t first_delivery_ns = 0, last_delivery_ns = 0;
  uint64_t presence_frames = 0, presence_in_window = 0, presence_dups = 0, presence_self = 0,
           last_presence_ns = 0;
  std::string first_error;
};

class Loadgen {
 public:
  explicit Loadgen(Options o) : opt_(std::move(o)) {
    for (auto& u : opt_.urls) urls_.push_back(parse_url(u));
    if (urls_.empty()) die("need --url");
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    rbuf_.resize(1 << 18);
    for (int i = 0; i < 4; ++i) mask_rng_ = mask_rng_ * 6364136223846793005ull + 1442695040888963407ull;
  }

  int run();

 private:
  // --- connection management
  void start_connect(Client& c);
  void on_event(Client& c, uint32_t ev);
  void do_read(Client& c);
  void do_write(Client& c);
  void fail(Client& c, bool closed_by_server);
  void close_client(Client& c, bool rst);
  void parse_frames(Client& c, const char* data, size_t len);
  void on_text(Client& c, std::string_view msg);
  void on_open(Client& c);
  void queue_frame(Client& c, std::string_view payload, uint8_t opcode = 0x1);
  void flush(Client& c) { do_write(c); }

  // --- driving
  void connect_all(std::vector<uint32_t> which, double deadline_s);
  void poll_once(int timeout_ms);
  bool wait_until(double deadline_s, const std::function<bool()>& done, double quiet_s = 0);
  std::string content(uint32_t sender, uint32_t seq);
  void track(Client& c, uint32_t sender, uint32_t seq, uint64_t sent_ns);
  void on_room_event(Client& c, std::string_view msg);
  void on_presence_answer(Client& c, std::string_view msg);

  int scenario_fanout();
  int scenario_direct();
  int scenario_storm();
  int scenario_hold();
  int scenario_presence();
  int scenario_reconnect();
  std::string room_of(const Client& c) const {
    return opt_.room + std::to_string(c.idx % uint32_t(std::max(opt_.rooms, 1)));
  }

  // --- reporting
  std::vector<ProcSample> sample_all(const std::vector<int>& pids) {
    std::vector<ProcSample> v;
    for (int p : pids) v.push_back(sample_proc(p));
    return v;
  }
  void begin_measure();
  void end_measure();
  void report(const std::string& extra);

  Options opt_;
  std::vector<Url> urls_;
  int ep_ = -1;
  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<char> rbuf_;
  uint64_t mask_rng_ = 0x9e3779b97f4a7c15ull;
  std::string pad_;

  // counters
  uint32_t open_count_ = 0, fail_count_ = 0, in_flight_ = 0, join_acks_ = 0;
  uint64_t progress_ns_ = 0;  // last time something useful happened
  Totals t_;
  std::vector<uint32_t> lat_;     // latency samples in units of 100 ns (handled)
  std::vector<uint32_t> klat_;    // same, at the kernel's receive timestamp
  std::vector<uint32_t> hs_lat_;  // connect to upgrade response, 100 ns units
  uint64_t rx_ns_ = 0;            // kernel receive time of the current read
  // which sender id -> stream index for a receiver (fanout: identity)
  bool direct_ = false;
  uint32_t messages_per_stream_ = 0;
  // reconnect scenario: the server is being restarted. Closes are expected,
  // refused connects and upgrades are retried (counted as retries, not
  // failures).
  bool restarting_ = false;
  uint64_t retries_ = 0;

  // measurement window
  bool measuring_ = false;
  uint64_t m_start_ns_ = 0, m_end_ns_ = 0;
  // presence answers: sent time per query id, latency (100 ns units)
  std::vector<uint64_t> q_sent_;
  std::vector<uint32_t> q_lat_;
  uint32_t q_answers_ = 0, q_bad_ = 0, q_truncated_ = 0, q_unexpected_ = 0;
  uint64_t q_bytes_ = 0, q_users_ = 0, q_last_bytes_ = 0, q_last_users_ = 0;
  uint64_t q_expect_users_ = 0;
  bool q_expect_truncated_ = false, q_check_ = false;
  double lg_cpu0_ = 0, lg_cpu1_ = 0;
  std::vector<ProcSample> s0_, s1_, a0_, a1_;
  uint64_t rss_before_kb_ = 0;
  std::string errors_;
};

void Loadgen::start_connect(Client& c) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    std::fprintf(stderr, "loadgen: socket: %s\n", std::strerror(errno));
    c.state = State::kFailed;
    ++fail_count_;
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  if (c.slow) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &opt_.slow_rcvbuf, sizeof opt_.slow_rcvbuf);
  if (opt_.src_ips > 0) {
    // Spread over loopback source addresses 127.0.0.<base..base+n-1>: each
    // gives its own ephemeral port range. IP_BIND_ADDRESS_NO_PORT lets the
    // kernel pick the port at connect() with the full 4-tuple known.
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl((127u << 24) | uint32_t(opt_.src_base + int(c.idx % uint32_t(opt_.src_ips))));
    if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0)
      std::fprintf(stderr, "loadgen: bind: %s\n", std::strerror(errno));
  }
  // RST on close: no TIME_WAIT left behind between runs.
  linger lg{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  c.fd = fd;
  c.connect_ns = now_ns();
  c.state = State::kConnecting;
  ++in_flight_;
  const Url& u = urls_[c.url];
  int r = connect(fd, reinterpret_cast<const sockaddr*>(&u.addr), sizeof u.addr);
  if (r != 0 && errno != EINPROGRESS) {
    std::fprintf(stderr, "loadgen: connect: %s\n", std::strerror(errno));
    fail(c, false);
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = &c;
  epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
}

void Loadgen::fail(Client& c, bool closed_by_server) {
  if (c.state == State::kConnecting || c.state == State::kHandshake) {
    --in_flight_;
    c.state = State::kFailed;
    if (restarting_) {
      // Retried after 50-150 ms (spread, as real clients' backoff is).
      ++retries_;
      c.retry_at_ns = now_ns() + 50000000ull + uint64_t(c.idx * 7919u % 100u) * 1000000ull;
    } else {
      ++fail_count_;
    }
  } else if (c.state == State::kOpen) {
    --open_count_;
    c.state = State::kClosed;
    if (!c.slow && !restarting_) ++t_.unexpected_closes;
  }
  c.server_closed = closed_by_server;
  if (c.fd >= 0) {
    ::close(c.fd);  // also removes it from epoll
    c.fd = -1;
  }
}

void Loadgen::close_client(Client& c, bool rst) {
  if (c.fd < 0) return;
  if (!rst) {
    linger lg{0, 0};
    setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  ::close(c.fd);
  c.fd = -1;
  if (c.state == State::kOpen) --open_count_;
  if (c.state == State::kConnecting || c.state == State::kHandshake) --in_flight_;
  c.state = State::kClosed;
}

void Loadgen::on_event(Client& c, uint32_t ev) {
  if (c.state == State::kConnecting) {
    if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        if (fail_count_ < 5 && !restarting_)
          std::fprintf(stderr, "loadgen: connect %s: %s\n", c.user.c_str(), std::strerror(err));
        fail(c, false);
        return;
      }
      c.state = State::kHandshake;
      std::string req = "GET /ws/" + c.user + " HTTP/1.1\r\nHost: " + urls_[c.url].hostport +
                        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
      c.out.append(req);
      do_write(c);
      if (c.fd < 0) return;
    }
  }
  if (ev & EPOLLOUT) do_write(c);
  if (c.fd < 0) return;
  if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c.hup = true;
  if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    if (!c.paused) do_read(c);
  }
}

void Loadgen::do_write(Client& c) {
  while (c.fd >= 0 && c.out_off < c.out.size()) {
    ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_off += size_t(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return;
    } else {
      fail(c, true);
      return;
    }
  }
  if (c.out_off == c.out.size()) {
    c.out.clear();
    c.out_off = 0;
    if (c.out.capacity() > (1 << 16)) c.out.shrink_to_fit();
  }
}

void Loadgen::do_read(Client& c) {
  for (;;) {
    if (c.fd < 0 || c.paused) return;
    iovec iov{rbuf_.data(), rbuf_.size()};
    alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(timespec))];
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof cbuf;
    ssize_t n = ::recvmsg(c.fd, &mh, 0);
    rx_ns_ = 0;
    if (n > 0 && mh.msg_controllen > 0) {
      for (cmsghdr* cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
          timespec ts;
          std::memcpy(&ts, CMSG_DATA(cm), sizeof ts);
          rx_ns_ = uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
        }
      }
    }
    if (n > 0) {
      if (c.state == State::kHandshake) {
        c.in.append(rbuf_.data(), size_t(n));
        auto end = c.in.find("\r\n\r\n");
        if (end == std::string::npos) {
          if (c.in.size() > 8192) fail(c, true);
          continue;
        }
        if (c.in.compare(0, 12, "HTTP/1.1 101") != 0) {
          if (fail_count_ < 5 && !restarting_)
            std::fprintf(stderr, "loadgen: upgrade of %s refused: %.40s\n", c.user.c_str(), c.in.c_str());
          fail(c, true);
          return;
        }
        std::string rest = c.in.substr(end + 4);
        c.in.clear();
        c.in.shrink_to_fit();
        c.state = State::kOpen;
        --in_flight_;
        ++open_count_;
        progress_ns_ = now_ns();
        // Handshake latency: from socket() to the 101 response.
        hs_lat_.push_back(uint32_t(std::min<uint64_t>((progress_ns_ - c.connect_ns) / 100, 0xffffffffu)));
        on_open(c);
        if (!rest.empty()) parse_frames(c, rest.data(), rest.size());
        continue;
      }
      parse_frames(c, rbuf_.data(), size_t(n));
      // A short read drained the socket: with edge-triggered epoll, data
      // arriving later raises a new event, so skip the confirming EAGAIN
      // recv (halves the loadgen's syscalls; nginx does the same).
      if (size_t(n) < rbuf_.size() && !c.hup) return;
    } else if (n == 0) {
      fail(c, true);
      return;
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return;
    } else {
      fail(c, true);
      return;
    }
  }
}

void Loadgen::parse_frames(Client& c, const char* data, size_t len) {
  const char* p;
  size_t avail;
  bool buffered = !c.in.empty();
  if (buffered) {
    c.in.append(data, len);
    p = c.in.data();
    avail = c.in.size();
  } else {
    p = data;
    avail = len;
  }
  size_t pos = 0;
  while (c.fd >= 0) {
    if (avail - pos < 2) break;
    const uint8_t* h = reinterpret_cast<const uint8_t*>(p + pos);
    bool fin = h[0] & 0x80;
    uint8_t op = h[0] & 0x0f;
    bool masked = h[1] & 0x80;
    uint64_t plen = h[1] & 0x7f;
    size_t hl = 2;
    if (plen == 126) {
      if (avail - pos < 4) break;
      plen = (uint64_t(h[2]) << 8) | h[3];
      hl = 4;
    } else if (plen == 127) {
      if (avail - pos < 10) break;
      plen = 0;
      for (int i = 0; i < 8; ++i) plen = (plen << 8) | h[2 + i];
      hl = 10;
    }
    if (masked) {
      ++t_.bad_frames;  // servers must not mask
      hl += 4;
    }
    if (avail - pos < hl + plen) break;
    std::string_view payload(p + pos + hl, size_t(plen));
    pos += hl + size_t(plen);
    ++c.frames_in;
    switch (op) {
      case 0x1:
        if (fin) {
          on_text(c, payload);
        } else {
          c.frag.assign(payload);
        }
        break;
      case 0x0:
        c.frag.append(payload);
        if (fin) {
          std::string m;
          m.swap(c.frag);
          on_text(c, m);
        }
        break;
      case 0x8:
        c.close_code =
            payload.size() >= 2 ? uint16_t((uint8_t(payload[0]) << 8) | uint8_t(payload[1])) : 1005;
        if (!c.slow && !restarting_ && errors_.size() < 400)
          errors_ += "close " + std::to_string(c.close_code) + " to " + c.user + "; ";
        fail(c, true);
        break;
      case 0x9:
        queue_frame(c, payload, 0xA);
        flush(c);
        break;
      case 0xA: break;
      default: ++t_.bad_frames;
    }
  }
  if (c.fd < 0) {
    c.in.clear();
    return;
  }
  if (buffered) {
    c.in.erase(0, pos);
  } else if (pos < avail) {
    c.in.assign(p + pos, avail - pos);
  }
  if (c.in.empty() && c.in.capacity() > (1 << 16)) c.in.shrink_to_fit();
}

void Loadgen::queue_frame(Client& c, std::string_view payload, uint8_t opcode) {
  uint8_t hdr[14];
  size_t hl = 0;
  hdr[hl++] = uint8_t(0x80 | opcode);
  if (payload.size() < 126) {
    hdr[hl++] = uint8_t(0x80 | payload.size());
  } else if (payload.size() < 65536) {
    hdr[hl++] = 0x80 | 126;
    hdr[hl++] = uint8_t(payload.size() >> 8);
    hdr[hl++] = uint8_t(payload.size());
  } else {
    hdr[hl++] = 0x80 | 127;
    for (int i = 7; i >= 0; --i) hdr[hl++] = uint8_t(uint64_t(payload.size()) >> (8 * i));
  }
  mask_rng_ = mask_rng_ * 6364136223846793005ull + 1442695040888963407ull;
  uint32_t key32 = uint32_t(mask_rng_ >> 32);
  uint8_t key[4];
  std::memcpy(key, &key32, 4);
  std::memcpy(hdr + hl, key, 4);
  hl += 4;
  size_t base = c.out.size();
  c.out.append(reinterpret_cast<const char*>(hdr), hl);
  c.out.append(payload);
  char* d = c.out.data() + base + hl;
  size_t n = payload.size(), i = 0;
  uint64_t k8;
  uint8_t kk[8] = {key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]};
  std::memcpy(&k8, kk, 8);
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, d + i, 8);
    w ^= k8;
    std::memcpy(d + i, &w, 8);
  }
  for (; i < n; ++i) d[i] = char(d[i] ^ key[i & 3]);
}

// content: "<sender>:<seq>:<send time ns>:<padding>"
std::string Loadgen::content(uint32_t sender, uint32_t seq) {
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%u:%u:%" PRIu64 ":", sender, seq, wall_ns());
  std::string s(buf, size_t(n));
  s += pad_;
  return s;
}

uint64_t parse_u64(const char*& p, const char* end) {
  uint64_t v = 0;
  while (p < end && *p >= '0' && *p <= '9') v = v * 10 + uint64_t(*p++ - '0');
  return v;
}

void Loadgen::on_text(Client& c, std::string_view msg) {
  // The server writes "type" first: room events and presence answers are
  // told apart by their prefix (answers can be large: no scan).
  if (msg.rfind("{\"type\":\"user_joined\"", 0) == 0 || msg.rfind("{\"type\":\"user_left\"", 0) == 0) {
    on_room_event(c, msg);
    return;
  }
  if (msg.rfind("{\"type\":\"presence\"", 0) == 0) {
    on_presence_answer(c, msg);
    return;
  }
  static constexpr std::string_view kContent = "\"content\":\"";
  auto at = msg.find(kContent);
  if (at != std::string_view::npos) {
    const char* p = msg.data() + at + kContent.size();
    const char* end = msg.data() + msg.size();
    if (p < end && *p == 'P') {  // readiness probe
      c.got_probe = true;
      ++t_.probes;
      progress_ns_ = now_ns();
      return;
    }
    uint64_t sender = parse_u64(p, end);
    if (p < end && *p == ':') ++p;
    uint64_t seq = parse_u64(p, end);
    if (p < end && *p == ':') ++p;
    uint64_t sent = parse_u64(p, end);
    track(c, uint32_t(sender), uint32_t(seq), sent);
    return;
  }
  if (msg.find("\"type\":\"ack\"") != std::string_view::npos) {
    ++t_.acks;
    if (!c.joined) {
      c.joined = true;
      ++join_acks_;
      progress_ns_ = now_ns();
      if (c.slow) c.paused = true;
    }
    return;
  }
  if (msg.find("\"type\":\"error\"") != std::string_view::npos) {
    ++t_.errors;
    if (t_.first_error.empty()) t_.first_error.assign(msg.substr(0, 200));
    return;
  }
  ++t_.bad_frames;
}

void Loadgen::track(Client& c, uint32_t sender, uint32_t seq, uint64_t sent_ns) {
  uint64_t now = now_ns();
  uint64_t wnow = wall_ns();
  progress_ns_ = now;
  ++t_.deliveries;
  if (c.slow) {
    ++t_.slow_deliveries;
  }
  if (!c.receiver || c.streams.empty()) {
    ++t_.misrouted;
    return;
  }
  uint32_t stream;
  if (opt_.scenario == "reconnect" &&
      sender % uint32_t(std::max(opt_.rooms, 1)) != c.idx % uint32_t(std::max(opt_.rooms, 1))) {
    ++t_.misrouted;  // from another room
    return;
  }
  if (direct_) {
    if (sender != c.idx - uint32_t(opt_.pairs)) {  // receivers follow senders
      ++t_.misrouted;
      return;
    }
    stream = 0;
  } else {
    if (sender >= c.streams.size()) {
      ++t_.misrouted;
      return;
    }
    stream = sender;
  }
  if (seq >= messages_per_stream_) {
    ++t_.misrouted;
    return;
  }
  Stream& s = c.streams[stream];
  size_t bit = size_t(stream) * messages_per_stream_ + seq;
  uint64_t& word = c.seen[bit >> 6];
  uint64_t m = 1ull << (bit & 63);
  if (word & m) {
    ++t_.duplicates;
    return;
  }
  word |= m;
  if (int32_t(seq) < s.last)
    ++t_.reordered;
  else
    s.last = int32_t(seq);
  ++s.got;
  if (!c.slow) {
    ++t_.unique;
    if (t_.first_delivery_ns == 0) t_.first_delivery_ns = now;
    t_.last_delivery_ns = now;
    uint64_t lat = wnow > sent_ns ? (wnow - sent_ns) / 100 : 0;
    lat_.push_back(uint32_t(std::min<uint64_t>(lat, 0xffffffffu)));
    if (rx_ns_) {
      uint64_t k = rx_ns_ > sent_ns ? (rx_ns_ - sent_ns) / 100 : 0;
      klat_.push_back(uint32_t(std::min<uint64_t>(k, 0xffffffffu)));
    }
  }
}

// user_joined / user_left: counted apart from deliveries. A user's join is
// announced at most once to each connection, never to its own.
void Loadgen::on_room_event(Client& c, std::string_view msg) {
  uint64_t now = now_ns();
  progress_ns_ = now;
  t_.last_presence_ns = now;
  ++t_.presence_frames;
  if (measuring_) ++t_.presence_in_window;
  static constexpr std::string_view kUser = "\"user\":\"";
  auto at = msg.find(kUser);
  if (at == std::string_view::npos) {
    ++t_.bad_frames;
    return;
  }
  std::string_view user = msg.substr(at + kUser.size());
  user = user.substr(0, user.find('"'));
  if (user == c.user) {
    ++t_.presence_self;
    return;
  }
  bool joined = msg[10] == 'j';
  std::string prefix = opt_.label + "u";
  if (!joined || c.pseen.empty() || user.rfind(prefix, 0) != 0) return;
  const char* p = user.data() + prefix.size();
  uint64_t idx = parse_u64(p, user.data() + user.size());
  if (idx >= c.pseen.size() * 64) return;
  uint64_t m = 1ull << (idx & 63);
  if (c.pseen[idx >> 6] & m) ++t_.presence_dups;
  c.pseen[idx >> 6] |= m;
}

// {"type":"presence","id":K,"room":R,"users":[...][,"truncated":true]}
void Loadgen::on_presence_answer(Client& c, std::string_view msg) {
  (void)c;
  uint64_t now = now_ns();
  progress_ns_ = now;
  static constexpr std::string_view kId = "\"id\":";
  auto at = msg.find(kId);
  if (at == std::string_view::npos) {
    ++q_unexpected_;
    return;
  }
  const char* p = msg.data() + at + kId.size();
  uint64_t id = parse_u64(p, msg.data() + msg.size());
  if (id >= q_sent_.size() || q_sent_[id] == 0) {
    ++q_unexpected_;
    return;
  }
  uint64_t lat = (now - q_sent_[id]) / 100;
  q_sent_[id] = 0;
  q_lat_.push_back(uint32_t(std::min<uint64_t>(lat, 0xffffffffu)));
  ++q_answers_;
  auto u = msg.find("\"users\":[");
  auto e = u == std::string_view::npos ? u : msg.find(']', u);
  uint64_t users = 0;
  if (e != std::string_view::npos) {
    uint64_t quotes = uint64_t(std::count(msg.begin() + long(u) + 9, msg.begin() + long(e), '"'));
    users = quotes / 2;
  }
  bool truncated =
      msg.find("\"truncated\":true", e == std::string_view::npos ? 0 : e) != std::string_view::npos;
  q_bytes_ += msg.size();
  q_users_ += users;
  q_last_bytes_ = msg.size();
  q_last_users_ = users;
  if (truncated) ++q_truncated_;
  if (q_check_ && (users != q_expect_users_ || truncated != q_expect_truncated_)) {
    ++q_bad_;
    if (t_.first_error.empty())
      t_.first_error = "presence answer with " + std::to_string(users) + " users" +
                       (truncated ? " (truncated)" : "") + ", expected " + std::to_string(q_expect_users_);
  }
}

void Loadgen::on_open(Client& c) {
  if (opt_.scenario == "reconnect") {
    queue_frame(c, "{\"type\":\"join_room\",\"room\":\"" + room_of(c) + "\",\"id\":1}");
    flush(c);
  } else if (opt_.scenario == "fanout" || opt_.scenario == "presence") {
    std::string j = "{\"type\":\"join_room\",\"room\":\"" + opt_.room + "\",\"id\":1" +
                    (opt_.presence ? ",\"presence\":true}" : "}");
    queue_frame(c, j);
    flush(c);
  }
}

void Loadgen::poll_once(int timeout_ms) {
  epoll_event evs[512];
  int n = epoll_wait(ep_, evs, 512, timeout_ms);
  for (int i = 0; i < n; ++i) {
    Client* c = static_cast<Client*>(evs[i].data.ptr);
    if (c->fd < 0) continue;
    on_event(*c, evs[i].events);
  }
}

bool Loadgen::wait_until(double deadline_s, const std::function<bool()>& done, double quiet_s) {
  uint64_t deadline = now_ns() + uint64_t(deadline_s * 1e9);
  while (!done()) {
    uint64_t now = now_ns();
    if (now >= deadline) return false;
    if (quiet_s > 0 && progress_ns_ && now - progress_ns_ > uint64_t(quiet_s * 1e9)) return false;
    poll_once(20);
  }
  return true;
}

void Loadgen::connect_all(std::vector<uint32_t> which, double deadline_s) {
  size_t next = 0;
  uint64_t deadline = now_ns() + uint64_t(deadline_s * 1e9);
  progress_ns_ = now_ns();
  while (now_ns() < deadline) {
    while (next < which.size() && in_flight_ < uint32_t(opt_.window)) start_connect(*clients_[which[next++]]);
    if (next == which.size() && in_flight_ == 0) break;
    poll_once(next < which.size() ? 1 : 20);
  }
}

void Loadgen::begin_measure() {
  s0_ = sample_all(opt_.pids);
  a0_ = sample_all(opt_.aux_pids);
  lg_cpu0_ = self_cpu_s();
  m_start_ns_ = now_ns();
  progress_ns_ = m_start_ns_;
  measuring_ = true;
}

void Loadgen::end_measure() {
  m_end_ns_ = now_ns();
  measuring_ = false;
  lg_cpu1_ = self_cpu_s();
  s1_ = sample_all(opt_.pids);
  a1_ = sample_all(opt_.aux_pids);
}

void Loadgen::report(const std::string& extra) {
  double wall = double(m_end_ns_ - m_start_ns_) / 1e9;
  uint64_t run_ns = 0, rss = 0, hwm = 0, ticks = 0, sticks = 0, aux_ns = 0;
  bool alive = true;
  for (size_t i = 0; i < s0_.size() && i < s1_.size(); ++i) {
    run_ns += s1_[i].run_ns - std::min(s1_[i].run_ns, s0_[i].run_ns);
    ticks += (s1_[i].utime_t + s1_[i].stime_t) - (s0_[i].utime_t + s0_[i].stime_t);
    sticks += s1_[i].stime_t - s0_[i].stime_t;
    rss += s1_[i].rss_kb;
    hwm += s1_[i].hwm_kb;
    alive = alive && s1_[i].alive;
  }
  for (size_t i = 0; i < a0_.size() && i < a1_.size(); ++i)
    aux_ns += a1_[i].run_ns - std::min(a1_[i].run_ns, a0_[i].run_ns);
  auto pct = [](std::vector<uint32_t>& v, double f) {
    if (v.empty()) return 0.0;
    size_t k = std::min(v.size() - 1, size_t(f * double(v.size())));
    std::nth_element(v.begin(), v.begin() + long(k), v.end());
    return v[k] / 10.0 / 1000.0;  // ms
  };
  auto vmax = [](std::vector<uint32_t>& v) {
    return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()) / 1e4;
  };
  double p50 = pct(lat_, 0.5), p99 = pct(lat_, 0.99), pmax = vmax(lat_);
  double k50 = pct(klat_, 0.5), k99 = pct(klat_, 0.99), kmax = vmax(klat_);
  double deliver_span =
      t_.last_delivery_ns > m_start_ns_ ? double(t_.last_delivery_ns - m_start_ns_) / 1e9 : wall;
  std::string fe;
  for (char ch : t_.first_error + errors_) fe += (ch == '"' || ch == '\\') ? '\'' : (ch < 0x20 ? ' ' : ch);
  std::printf("{\"scenario\":\"%s\",\"wall_s\":%.4f,\"deliveries\":%" PRIu64 ",\"unique\":%" PRIu64
              ",\"duplicates\":%" PRIu64 ",\"reordered\":%" PRIu64 ",\"misrouted\":%" PRIu64
              ",\"errors\":%" PRIu64 ",\"bad_frames\":%" PRIu64 ",\"unexpected_closes\":%" PRIu64
              ",\"deliver_span_s\":%.4f,\"deliveries_per_s\":%.1f"
              ",\"lat_p50_ms\":%.3f,\"lat_p99_ms\":%.3f,\"lat_max_ms\":%.3f"
              ",\"klat_p50_ms\":%.3f,\"klat_p99_ms\":%.3f,\"klat_max_ms\":%.3f"
              ",\"server_cpu_s\":%.4f,\"server_cpu_ticks_s\":%.2f,\"server_sys_ticks_s\":%.2f,\"server_rss_"
              "kb\":%" PRIu64 ",\"server_hwm_kb\":%" PRIu64
              ",\"server_alive\":%s,\"aux_cpu_s\":%.4f,\"loadgen_cpu_s\":%.4f,\"open\":%u,\"failed\":%u"
              ",\"first_error\":\"%s\"%s}\n",
              opt_.scenario.c_str(), wall, t_.deliveries, t_.unique, t_.duplicates, t_.reordered,
              t_.misrouted, t_.errors, t_.bad_frames, t_.unexpected_closes, deliver_span,
              deliver_span > 0 ? double(t_.unique) / deliver_span : 0.0, p50, p99, pmax, k50, k99, kmax,
              double(run_ns) / 1e9, double(ticks) / double(sysconf(_SC_CLK_TCK)),
              double(sticks) / double(sysconf(_SC_CLK_TCK)), rss, hwm, alive ? "true" : "false",
              double(aux_ns) / 1e9, lg_cpu1_ - lg_cpu0_, open_count_, fail_count_, fe.c_str(), extra.c_str());
  std::fflush(stdout);
}

Client& make_client(std::vector<std::unique_ptr<Client>>& v, uint32_t idx, std::string user, uint16_t url) {
  auto c = std::make_unique<Client>();
  c->idx = idx;
  c->user = std::move(user);
  c->url = url;
  v.push_back(std::move(c));
  return *v.back();
}

void prepare_tracking(Client& c, uint32_t streams, uint32_t per_stream) {
  c.receiver = true;
  c.streams.assign(streams, Stream{});
  c.seen.assign((size_t(streams) * per_stream + 63) / 64, 0);
}

// -------------------------------------------------------------- scenarios

int Loadgen::scenario_fanout() {
  const uint32_t C = uint32_t(opt_.clients), S = uint32_t(std::min(opt_.senders, opt_.clients)),
                 M = uint32_t(opt_.messages), K = uint32_t(std::min(opt_.slow, opt_.clients - opt_.senders));
  messages_per_stream_ = M;
  std::vector<uint32_t> all;
  for (uint32_t i = 0; i < C; ++i) {
    Client& c = make_client(clients_, i, opt_.label + "u" + std::to_string(i), uint16_t(i % urls_.size()));
    c.slow = i >= C - K;
    prepare_tracking(c, S, M);
    if (opt_.presence) c.pseen.assign((C + 63) / 64, 0);
    all.push_back(i);
  }
  // The join phase (connect + join_room until the last ack, and with
  // --presence until the last user_joined) is timed with the server's CPU.
  std::vector<ProcSample> j0 = sample_all(opt_.pids), ja0 = sample_all(opt_.aux_pids);
  uint64_t join_t0 = now_ns(), join_acked_ns = 0;
  connect_all(all, opt_.timeout_s);
  if (open_count_ != C) {
    std::fprintf(stderr, "loadgen: only %u of %u connected\n", open_count_, C);
  }
  bool joined = wait_until(
      opt_.timeout_s, [&] { return join_acks_ + fail_count_ >= C; }, opt_.quiet_s);
  join_acked_ns = now_ns();
  if (!joined) std::fprintf(stderr, "loadgen: only %u of %u join acks\n", join_acks_, C);
  // With presence, every member that joined before user u hears u's join:
  // C(C-1)/2 user_joined frames on one node. Drain them (or stop after
  // 0.5 s without any) before the measured burst.
  uint64_t presence_expected = opt_.presence ? uint64_t(C) * (C - 1) / 2 : 0;
  if (opt_.presence)
    wait_until(
        opt_.timeout_s, [&] { return t_.presence_frames >= presence_expected; }, 0.5);
  uint64_t join_end_ns = std::max(join_acked_ns, t_.last_presence_ns);
  std::vector<ProcSample> j1 = sample_all(opt_.pids), ja1 = sample_all(opt_.aux_pids);
  uint64_t join_run_ns = 0, join_aux_ns = 0;
  for (size_t i = 0; i < j0.size() && i < j1.size(); ++i)
    join_run_ns += j1[i].run_ns - std::min(j1[i].run_ns, j0[i].run_ns);
  for (size_t i = 0; i < ja0.size() && i < ja1.size(); ++i)
    join_aux_ns += ja1[i].run_ns - std::min(ja1[i].run_ns, ja0[i].run_ns);
  uint64_t presence_join_frames = t_.presence_frames;
  // A short settle so the join phase's tail is not in the window.
  if (opt_.presence) wait_until(0.1, [] { return false; });
  uint64_t expected = uint64_t(C - K) * S * M;
  uint64_t acks_before = t_.acks;
  begin_measure();
  auto send_one = [&](uint32_t s, uint32_t seq) {
    Client& c = *clients_[s];
    if (c.state != State::kOpen) return;
    std::string m =
        "{\"type\":\"room_message\",\"room\":\"" + opt_.room + "\",\"content\":\"" + content(s, seq) + "\"}";
    queue_frame(c, m);
  };
  if (opt_.rate <= 0) {
    for (uint32_t seq = 0; seq < M; ++seq)
      for (uint32_t s = 0; s < S; ++s) send_one(s, seq);
    for (uint32_t s = 0; s < S; ++s) flush(*clients_[s]);
    wait_until(
        opt_.timeout_s, [&] { return t_.unique >= expected; }, opt_.quiet_s);
  } else {
    uint64_t interval = uint64_t(1e9 / opt_.rate);
    uint32_t seq = 0;
    uint64_t next = m_start_ns_;
    uint64_t deadline = m_start_ns_ + uint64_t(opt_.timeout_s * 1e9);
    while (seq < M && now_ns() < deadline) {
      uint64_t now = now_ns();
      if (now >= next) {
        for (uint32_t s = 0; s < S; ++s) {
          send_one(s, seq);
          flush(*clients_[s]);
        }
        ++seq;
        next += interval;
        progress_ns_ = now;
        continue;
      }
      poll_once(int(std::max<uint64_t>(0, (next - now) / 1000000)));
    }
    wait_until(
        opt_.timeout_s, [&] { return t_.unique >= expected; }, opt_.quiet_s);
  }
  end_measure();
  // Slow consumers: read what they have now and see whether the server
  // closed them (1008) rather than buffering without bound.
  uint32_t slow_closed = 0, slow_open = 0;
  uint64_t slow_got = 0;
  for (uint32_t i = C - K; i < C; ++i) {
    Client& c = *clients_[i];
    c.paused = false;
    if (c.fd >= 0) do_read(c);
  }
  wait_until(2.0, [&] {
    for (uint32_t i = C - K; i < C; ++i)
      if (clients_[i]->fd >= 0) return false;
    return true;
  });
  for (uint32_t i = C - K; i < C; ++i) {
    Client& c = *clients_[i];
    if (c.fd < 0)
      ++slow_closed;
    else
      ++slow_open;
    for (auto& s : c.streams) slow_got += s.got;
  }
  uint64_t loss = expected > t_.unique ? expected - t_.unique : 0;
  char extra[1024];
  std::snprintf(
      extra, sizeof extra,
      ",\"clients\":%u,\"senders\":%u,\"messages\":%u,\"slow\":%u,\"rate\":%.1f,\"size\":%d,\"nodes\":%zu"
      ",\"expected\":%" PRIu64 ",\"loss\":%" PRIu64 ",\"join_acks\":%u,\"msg_acks\":%" PRIu64
      ",\"slow_closed\":%u,\"slow_open\":%u,\"slow_received\":%" PRIu64
      ",\"presence\":%s,\"join_s\":%.4f,\"join_drain_s\":%.4f,\"join_server_cpu_s\":%.4f,\"join_aux_cpu_s\":%"
      ".4f"
      ",\"presence_frames\":%" PRIu64 ",\"presence_expected\":%" PRIu64 ",\"presence_in_window\":%" PRIu64
      ",\"presence_dups\":%" PRIu64 ",\"presence_self\":%" PRIu64,
      C, S, M, K, opt_.rate, opt_.size, urls_.size(), expected, loss, join_acks_, t_.acks - acks_before,
      slow_closed, slow_open, slow_got, opt_.presence ? "true" : "false",
      double(join_acked_ns - join_t0) / 1e9, double(join_end_ns - join_t0) / 1e9, double(join_run_ns) / 1e9,
      double(join_aux_ns) / 1e9, presence_join_frames, presence_expected, t_.presence_in_window,
      t_.presence_dups, t_.presence_self);
  report(extra);
  for (auto& c : clients_) close_client(*c, true);
  return 0;
}

int Loadgen::scenario_presence() {
  const uint32_t C = uint32_t(std::max(opt_.clients, 1)), Q = uint32_t(std::max(opt_.queries, 1));
  std::vector<uint32_t> all;
  for (uint32_t i = 0; i < C; ++i) {
    make_client(clients_, i, opt_.label + "u" + std::to_string(i), uint16_t(i % urls_.size()));
    all.push_back(i);
  }
  uint64_t t0 = now_ns();
  connect_all(all, opt_.timeout_s);
  if (open_count_ != C) std::fprintf(stderr, "loadgen: only %u of %u connected\n", open_count_, C);
  bool joined = wait_until(
      opt_.timeout_s, [&] { return join_acks_ + fail_count_ >= C; }, opt_.quiet_s);
  if (!joined) std::fprintf(stderr, "loadgen: only %u of %u join acks\n", join_acks_, C);
  double join_s = double(now_ns() - t0) / 1e9;
  Client& asker = *clients_[0];
  q_sent_.assign(size_t(3) * Q + 64, 0);
  uint32_t next_id = 1;
  auto ask = [&](bool flush_now) {
    uint32_t id = next_id++;
    q_sent_[id] = now_ns();
    queue_frame(asker,
                "{\"type\":\"presence\",\"room\":\"" + opt_.room + "\",\"id\":" + std::to_string(id) + "}");
    if (flush_now) flush(asker);
  };
  // Ready: the member set is complete (with Redis, joins on the other node
  // are registered asynchronously): an answer with every user, or one that
  // says truncated. Up to 10 s.
  q_expect_users_ = std::min<uint64_t>(C, uint64_t(opt_.limit));
  q_expect_truncated_ = C > uint32_t(opt_.limit);
  uint32_t warm = 0;
  uint64_t ready_deadline = now_ns() + 10000000000ull;
  while (asker.state == State::kOpen && now_ns() < ready_deadline && next_id < 64) {
    uint32_t before = q_answers_;
    ask(true);
    ++warm;
    wait_until(5.0, [&] { return q_answers_ > before; });
    if (q_last_users_ == q_expect_users_ && (q_truncated_ > 0) == q_expect_truncated_) break;
    q_truncated_ = 0;
    wait_until(0.1, [] { return false; });
  }
  bool ready = q_last_users_ == q_expect_users_;
  // Idle baseline: what the servers spend with C idle members, per second.
  wait_until(0.2, [] { return false; });
  begin_measure();
  wait_until(0.5, [] { return false; });
  end_measure();
  uint64_t idle_ns = 0;
  for (size_t i = 0; i < s0_.size() && i < s1_.size(); ++i)
    idle_ns += s1_[i].run_ns - std::min(s1_[i].run_ns, s0_[i].run_ns);
  double idle_cpu_per_s = double(idle_ns) / 1e9 / (double(m_end_ns_ - m_start_ns_) / 1e9);
  // Phase 1: Q queries one after another.
  q_answers_ = 0;
  q_truncated_ = 0;
  q_bytes_ = q_users_ = 0;
  q_lat_.clear();
  q_check_ = true;
  begin_measure();
  for (uint32_t k = 0; k < Q && asker.state == State::kOpen; ++k) {
    uint32_t before = q_answers_;
    ask(true);
    if (!wait_until(5.0, [&] { return q_answers_ > before; })) break;
  }
  end_measure();
  auto sum_run = [&](const std::vector<ProcSample>& a, const std::vector<ProcSample>& b) {
    uint64_t ns = 0;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i)
      ns += b[i].run_ns - std::min(b[i].run_ns, a[i].run_ns);
    return double(ns) / 1e9;
  };
  auto pct = [](std::vector<uint32_t> v, double f) {
    if (v.empty()) return 0.0;
    size_t k = std::min(v.size() - 1, size_t(f * double(v.size())));
    std::nth_element(v.begin(), v.begin() + long(k), v.end());
    return v[k] / 1e4;  // ms
  };
  double seq_wall = double(m_end_ns_ - m_start_ns_) / 1e9;
  double seq_cpu = sum_run(s0_, s1_), seq_aux = sum_run(a0_, a1_);
  double seq_lg = lg_cpu1_ - lg_cpu0_;
  uint32_t seq_answers = q_answers_, seq_trunc = q_truncated_;
  double seq_p50 = pct(q_lat_, 0.5), seq_p99 = pct(q_lat_, 0.99);
  double seq_max = q_lat_.empty() ? 0.0 : *std::max_element(q_lat_.begin(), q_lat_.end()) / 1e4;
  uint64_t seq_bytes = q_last_bytes_, seq_users = q_last_users_;
  double seq_mean_bytes = seq_answers ? double(q_bytes_) / seq_answers : 0.0;
  // Phase 2: Q queries pipelined, at most --depth outstanding (0: all at
  // once; the answers then queue up together at the server, and past
  // --max-queue-bytes the asker is closed as a slow consumer).
  q_answers_ = 0;
  q_truncated_ = 0;
  q_lat_.clear();
  const uint32_t D = opt_.depth > 0 ? uint32_t(opt_.depth) : Q;
  uint32_t sent = 0;
  begin_measure();
  while (asker.state == State::kOpen && (sent < Q || q_answers_ < Q)) {
    bool more = false;
    while (sent < Q && sent - q_answers_ < D) {
      ask(false);
      ++sent;
      more = true;
    }
    if (more) flush(asker);
    uint32_t before = q_answers_;
    if (!wait_until(
            opt_.timeout_s, [&] { return q_answers_ > before || q_answers_ >= Q; }, opt_.quiet_s))
      break;
  }
  end_measure();
  double pipe_wall = double(m_end_ns_ - m_start_ns_) / 1e9;
  double pipe_cpu = sum_run(s0_, s1_), pipe_aux = sum_run(a0_, a1_);
  uint32_t pipe_answers = q_answers_;
  double pipe_p50 = pct(q_lat_, 0.5), pipe_p99 = pct(q_lat_, 0.99);
  bool alive = true;
  uint64_t rss = 0;
  for (auto& s : s1_) {
    alive = alive && s.alive;
    rss += s.rss_kb;
  }
  uint64_t lost = uint64_t(2 * Q) - std::min<uint64_t>(2 * Q, uint64_t(seq_answers) + pipe_answers);
  std::string fe;
  for (char ch : t_.first_error + errors_) fe += (ch == '"' || ch == '\\') ? '\'' : (ch < 0x20 ? ' ' : ch);
  std::printf(
      "{\"scenario\":\"presence\",\"members\":%u,\"nodes\":%zu,\"queries\":%u,\"limit\":%d,\"depth\":%u,"
      "\"join_s\":%.3f"
      ",\"ready\":%s,\"warmup_queries\":%u,\"idle_server_cpu_per_s\":%.5f"
      ",\"answer_users\":%" PRIu64 ",\"answer_bytes\":%" PRIu64
      ",\"answer_mean_bytes\":%.1f,\"truncated\":%s"
      ",\"seq_answers\":%u,\"seq_wall_s\":%.4f,\"seq_server_cpu_s\":%.4f,\"seq_aux_cpu_s\":%.4f,\"seq_"
      "loadgen_cpu_s\":%.4f"
      ",\"seq_cpu_us_per_query\":%.2f,\"seq_aux_us_per_query\":%.2f,\"seq_p50_ms\":%.3f,\"seq_p99_ms\":%.3f,"
      "\"seq_max_ms\":%.3f"
      ",\"pipe_answers\":%u,\"pipe_wall_s\":%.4f,\"pipe_queries_per_s\":%.1f,\"pipe_server_cpu_s\":%.4f"
      ",\"pipe_aux_cpu_s\":%.4f,\"pipe_cpu_us_per_query\":%.2f,\"pipe_p50_ms\":%.3f,\"pipe_p99_ms\":%.3f"
      ",\"server_cpu_s\":%.4f,\"lat_p99_ms\":%.3f,\"loadgen_cpu_s\":%.4f,\"server_rss_kb\":%" PRIu64
      ",\"server_alive\":%s,\"open\":%u,\"failed\":%u,\"join_acks\":%u,\"loss\":%" PRIu64
      ",\"bad_answers\":%u"
      ",\"unexpected_answers\":%u,\"errors\":%" PRIu64 ",\"bad_frames\":%" PRIu64
      ",\"unexpected_closes\":%" PRIu64 ",\"first_error\":\"%s\"}\n",
      C, urls_.size(), Q, opt_.limit, D, join_s, ready ? "true" : "false", warm, idle_cpu_per_s, seq_users,
      seq_bytes, seq_mean_bytes, seq_trunc ? "true" : "false", seq_answers, seq_wall, seq_cpu, seq_aux,
      seq_lg, seq_answers ? seq_cpu * 1e6 / seq_answers : 0.0,
      seq_answers ? seq_aux * 1e6 / seq_answers : 0.0, seq_p50, seq_p99, seq_max, pipe_answers, pipe_wall,
      pipe_wall > 0 ? pipe_answers / pipe_wall : 0.0, pipe_cpu, pipe_aux,
      pipe_answers ? pipe_cpu * 1e6 / pipe_answers : 0.0, pipe_p50, pipe_p99, seq_cpu, seq_p99, seq_lg, rss,
      alive ? "true" : "false", open_count_, fail_count_, join_acks_, lost, q_bad_, q_unexpected_, t_.errors,
      t_.bad_frames, t_.unexpected_closes, fe.c_str());
  std::fflush(stdout);
  for (auto& c : clients_) close_client(*c, true);
  return 0;
}

int Loadgen::scenario_direct() {
  const uint32_t P = uint32_t(opt_.pairs), M = uint32_t(opt_.messages);
  direct_ = true;
  messages_per_stream_ = M;
  uint16_t rurl = uint16_t(opt_.cross && urls_.size() > 1 ? 1 : 0);
  std::vector<uint32_t> all;
  for (uint32_t i = 0; i < P; ++i) {
    make_client(clients_, i, opt_.label + "s" + std::to_string(i), 0);
    all.push_back(i);
  }
  for (uint32_t i = 0; i < P; ++i) {
    Client& c = make_client(clients_, P + i, opt_.label + "r" + std::to_string(i), rurl);
    prepare_tracking(c, 1, M);
    all.push_back(P + i);
  }
  connect_all(all, opt_.timeout_s);
  if (open_count_ != 2 * P) std::fprintf(stderr, "loadgen: only %u of %u connected\n", open_count_, 2 * P);
  // Readiness: probes until every receiver got one (covers a backplane
  // subscription still in flight). Probes are not counted as deliveries.
  uint64_t deadline = now_ns() + uint64_t(std::min(opt_.timeout_s, 20.0) * 1e9);
  for (;;) {
    uint32_t missing = 0;
    for (uint32_t i = 0; i < P; ++i) {
      Client& r = *clients_[P + i];
      if (r.got_probe || r.state != State::kOpen) continue;
      ++missing;
      Client& s = *clients_[i];
      if (s.state != State::kOpen) continue;
      queue_frame(s, "{\"type\":\"direct_message\",\"to\":\"" + r.user + "\",\"content\":\"P\"}");
      flush(s);
    }
    if (missing == 0 || now_ns() > deadline) break;
    uint64_t until = now_ns() + 200000000ull;
    while (now_ns() < until) poll_once(20);
  }
  for (uint32_t i = 0; i < P; ++i) {
    Client& r = *clients_[P + i];
    if (!r.got_probe && errors_.size() < 300) errors_ += "no probe reached " + r.user + "; ";
  }
  // Let stray probes drain.
  uint64_t until = now_ns() + 100000000ull;
  while (now_ns() < until) poll_once(10);
  uint64_t expected = uint64_t(P) * M;
  begin_measure();
  auto send_one = [&](uint32_t i, uint32_t seq) {
    Client& s = *clients_[i];
    if (s.state != State::kOpen) return;
    queue_frame(s, "{\"type\":\"direct_message\",\"to\":\"" + clients_[P + i]->user + "\",\"content\":\"" +
                       content(i, seq) + "\"}");
  };
  if (opt_.rate <= 0) {
    for (uint32_t seq = 0; seq < M; ++seq)
      for (uint32_t i = 0; i < P; ++i) send_one(i, seq);
    for (uint32_t i = 0; i < P; ++i) flush(*clients_[i]);
  } else {
    uint64_t interval = uint64_t(1e9 / opt_.rate), next = m_start_ns_;
    uint32_t seq = 0;
    while (seq < M) {
      uint64_t now = now_ns();
      if (now >= next) {
        for (uint32_t i = 0; i < P; ++i) {
          send_one(i, seq);
          flush(*clients_[i]);
        }
        ++seq;
        next += interval;
        continue;
      }
      poll_once(int((next - now) / 1000000));
    }
  }
  wait_until(
      opt_.timeout_s, [&] { return t_.unique >= expected; }, opt_.quiet_s);
  end_measure();
  uint64_t loss = expected > t_.unique ? expected - t_.unique : 0;
  char extra[256];
  std::snprintf(extra, sizeof extra,
                ",\"pairs\":%u,\"messages\":%u,\"cross\":%s,\"rate\":%.1f,\"expected\":%" PRIu64
                ",\"loss\":%" PRIu64 ",\"probes\":%" PRIu64,
                P, M, rurl ? "true" : "false", opt_.rate, expected, loss, t_.probes);
  report(extra);
  for (auto& c : clients_) close_client(*c, true);
  return 0;
}

int Loadgen::scenario_storm() {
  const uint32_t N = uint32_t(opt_.conns);
  std::vector<uint32_t> all;
  for (uint32_t i = 0; i < N; ++i) {
    make_client(clients_, i, opt_.label + "c" + std::to_string(i), uint16_t(i % urls_.size()));
    all.push_back(i);
  }
  begin_measure();
  connect_all(all, opt_.timeout_s);
  end_measure();
  double wall = double(m_end_ns_ - m_start_ns_) / 1e9;
  char extra[256];
  auto pct = [this](double f) {
    if (hs_lat_.empty()) return 0.0;
    size_t k = std::min(hs_lat_.size() - 1, size_t(f * double(hs_lat_.size())));
    std::nth_element(hs_lat_.begin(), hs_lat_.begin() + long(k), hs_lat_.end());
    return hs_lat_[k] / 1e4;  // ms
  };
  double h50 = pct(0.5), h99 = pct(0.99);
  std::snprintf(extra, sizeof extra,
                ",\"conns\":%u,\"window\":%d,\"connects_per_s\":%.1f,\"loss\":%u,\"handshake_p50_ms\":%.3f"
                ",\"handshake_p99_ms\":%.3f",
                N, opt_.window, wall > 0 ? open_count_ / wall : 0.0, N - open_count_, h50, h99);
  report(extra);
  for (auto& c : clients_) close_client(*c, true);
  return 0;
}

// Reconnect storm: C clients connect and join R rooms; the loadgen prints
// {"ready":...} and waits while the driver restarts the server(s) on the same
// port(s). Every client closed by the restart reconnects at once (refused
// connects and 503 upgrades are retried after 50-150 ms) and joins its room
// again. Once all are back, one client per room posts a message, and every
// client must receive its room's message exactly once.
int Loadgen::scenario_reconnect() {
  const uint32_t C = uint32_t(opt_.clients), R = uint32_t(std::max(1, std::min(opt_.rooms, opt_.clients)));
  opt_.rooms = int(R);
  messages_per_stream_ = 1;
  std::vector<uint32_t> all;
  for (uint32_t i = 0; i < C; ++i) {
    Client& c = make_client(clients_, i, opt_.label + "r" + std::to_string(i), uint16_t(i % urls_.size()));
    prepare_tracking(c, R, 1);
    all.push_back(i);
  }
  uint64_t t0 = now_ns();
  connect_all(all, opt_.timeout_s);
  bool joined = wait_until(
      opt_.timeout_s, [&] { return join_acks_ + fail_count_ >= C; }, opt_.quiet_s);
  double connect_s = double(now_ns() - t0) / 1e9;
  std::printf("{\"ready\":%u,\"joined\":%u,\"failed\":%u,\"connect_s\":%.3f}\n", open_count_, join_acks_,
              fail_count_, connect_s);
  std::fflush(stdout);
  if (!joined || open_count_ != C) {
    errors_ += "not every client connected and joined before the restart; ";
    return 0;
  }
  // The driver restarts the server(s) now: wait for every close.
  restarting_ = true;
  uint64_t deadline = now_ns() + uint64_t(opt_.timeout_s * 1e9);
  uint64_t first_close_ns = 0;
  uint32_t open_before = open_count_;
  while (open_count_ > 0 && now_ns() < deadline) {
    poll_once(5);
    if (!first_close_ns && open_count_ < open_before) first_close_ns = now_ns();
  }
  uint64_t closed_ns = now_ns();
  if (open_count_ > 0) errors_ += std::to_string(open_count_) + " clients never saw the restart; ";
  // Everyone reconnects at once (bounded by the window of connects in
  // flight, like the other scenarios).
  join_acks_ = 0;
  uint64_t first_open_ns = 0, joined_ns = 0;
  for (auto& cp : clients_) cp->retry_at_ns = 0;
  size_t scan = 0;
  while (join_acks_ < C && now_ns() < deadline) {
    uint64_t now = now_ns();
    for (size_t k = 0; k < clients_.size() && in_flight_ < uint32_t(opt_.window); ++k) {
      Client& c = *clients_[scan];
      scan = (scan + 1) % clients_.size();
      if ((c.state != State::kClosed && c.state != State::kFailed) || c.retry_at_ns > now) continue;
      c.in.clear();
      c.frag.clear();
      c.out.clear();
      c.out_off = 0;
      c.hup = false;
      c.paused = false;
      c.joined = false;
      c.close_code = 0;
      c.server_closed = false;
      start_connect(c);
    }
    poll_once(1);
    if (!first_open_ns && open_count_ > 0) first_open_ns = now_ns();
  }
  joined_ns = now_ns();
  restarting_ = false;
  // Receiving again: one message per room, from its first client.
  for (uint32_t r = 0; r < R; ++r) {
    Client& c = *clients_[r];
    if (c.state != State::kOpen) continue;
    queue_frame(c, "{\"type\":\"room_message\",\"room\":\"" + room_of(c) + "\",\"content\":\"" +
                       content(r, 0) + "\"}");
    flush(c);
  }
  wait_until(
      std::min(opt_.timeout_s, 60.0), [&] { return t_.unique >= C; }, opt_.quiet_s);
  uint64_t received_ns = now_ns();
  auto secs = [](uint64_t a, uint64_t b) { return b > a ? double(b - a) / 1e9 : 0.0; };
  uint64_t loss = C > t_.unique ? C - t_.unique : 0;
  std::string fe;
  for (char ch : t_.first_error + errors_) fe += (ch == '"' || ch == '\\') ? '\'' : (ch < 0x20 ? ' ' : ch);
  std::printf(
      "{\"scenario\":\"reconnect\",\"clients\":%u,\"rooms\":%u,\"nodes\":%zu,\"connect_s\":%.3f"
      ",\"closing_s\":%.3f,\"first_open_s\":%.3f,\"rejoin_s\":%.3f,\"all_back_s\":%.3f,\"receive_s\":%.3f"
      ",\"back_and_receiving_s\":%.3f,\"rejoined\":%u,\"retries\":%" PRIu64
      ",\"open\":%u,\"failed\":%u"
      ",\"unique\":%" PRIu64 ",\"expected\":%u,\"loss\":%" PRIu64 ",\"duplicates\":%" PRIu64
      ",\"reordered\":%" PRIu64 ",\"misrouted\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"bad_frames\":%" PRIu64
      ",\"unexpected_closes\":%" PRIu64 ",\"loadgen_cpu_s\":%.4f,\"first_error\":\"%s\"}\n",
      C, R, urls_.size(), connect_s, secs(first_close_ns, closed_ns), secs(closed_ns, first_open_ns),
      secs(closed_ns, joined_ns), secs(first_open_ns, joined_ns), secs(joined_ns, received_ns),
      secs(first_open_ns, received_ns), join_acks_, retries_, open_count_, fail_count_, t_.unique, C, loss,
      t_.duplicates, t_.reordered, t_.misrouted, t_.errors, t_.bad_frames, t_.unexpected_closes, self_cpu_s(),
      fe.c_str());
  std::fflush(stdout);
  for (auto& c : clients_) close_client(*c, true);
  return 0;
}

volatile sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

int Loadgen::scenario_hold() {
  const uint32_t N = uint32_t(opt_.conns);
  std::vector<uint32_t> all;
  for (uint32_t i = 0; i < N; ++i) {
    make_client(clients_, i, opt_.label + "h" + std::to_string(i), uint16_t(i % urls_.size()));
    all.push_back(i);
  }
  begin_measure();
  connect_all(all, opt_.timeout_s);
  end_measure();
  std::printf("{\"ready\":%u,\"failed\":%u,\"connect_s\":%.3f}\n", open_count_, fail_count_,
              double(m_end_ns_ - m_start_ns_) / 1e9);
  std::fflush(stdout);
  // Hold: answer pings until told to stop (stdin EOF or a signal).
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;
  int in_fd = STDIN_FILENO;
  bool watch_stdin = epoll_ctl(ep_, EPOLL_CTL_ADD, in_fd, &ev) == 0;
  uint64_t hard = now_ns() + uint64_t(opt_.timeout_s * 1e9);
  while (!g_stop && now_ns() < hard) {
    epoll_event evs[256];
    int n = epoll_wait(ep_, evs, 256, 200);
    for (int i = 0; i < n; ++i) {
      if (evs[i].data.ptr == nullptr) {
        char b[256];
        ssize_t r = read(in_fd, b, sizeof b);
        if (r <= 0) g_stop = 1;
        continue;
      }
      Client* c = static_cast<Client*>(evs[i].data.ptr);
      if (c->fd >= 0) on_event(*c, evs[i].events);
    }
    (void)watch_stdin;
  }
  uint32_t still = open_count_;
  for (auto& c : clients_) close_client(*c, true);
  std::printf("{\"released\":%u,\"failed\":%u,\"unexpected_closes\":%" PRIu64 "}\n", still, fail_count_,
              t_.unexpected_closes);
  return 0;
}

int Loadgen::run() {
  pad_.assign(size_t(std::max(0, opt_.size - 24)), 'x');
  if (opt_.scenario == "fanout") return scenario_fanout();
  if (opt_.scenario == "direct") return scenario_direct();
  if (opt_.scenario == "storm") return scenario_storm();
  if (opt_.scenario == "hold") return scenario_hold();
  if (opt_.scenario == "presence") return scenario_presence();
  if (opt_.scenario == "reconnect") return scenario_reconnect();
  die("unknown scenario %s", opt_.scenario.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(
        stderr,
        "usage: loadgen fanout|direct|storm|hold|presence|reconnect --url ws://H:P [--url ...] [--pids P,P] "
        "[--aux-pids P]\n"
        "  [--clients C] [--senders S] [--messages M] [--rate R] [--size B] [--slow K] [--presence]\n"
        "  [--queries Q] [--limit L] [--depth D]\n"
        "  [--pairs P] [--cross] [--conns N] [--window W] [--src-ips N] [--src-base B]\n"
        "  [--rooms R] [--timeout S] [--quiet S] [--label L]\n");
    return 2;
  }
  Options o;
  o.scenario = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value for %s", a.c_str());
      return argv[++i];
    };
    if (a == "--url")
      o.urls.push_back(val());
    else if (a == "--pids")
      for (auto& p : split(val(), ',')) o.pids.push_back(std::atoi(p.c_str()));
    else if (a == "--aux-pids")
      for (auto& p : split(val(), ',')) o.aux_pids.push_back(std::atoi(p.c_str()));
    else if (a == "--clients")
      o.clients = std::atoi(val().c_str());
    else if (a == "--senders")
      o.senders = std::atoi(val().c_str());
    else if (a == "--messages")
      o.messages = std::atoi(val().c_str());
    else if (a == "--rate")
      o.rate = std::atof(val().c_str());
    else if (a == "--size")
      o.size = std::atoi(val().c_str());
    else if (a == "--slow")
      o.slow = std::atoi(val().c_str());
    else if (a == "--pairs")
      o.pairs = std::atoi(val().c_str());
    else if (a == "--cross")
      o.cross = true;
    else if (a == "--presence")
      o.presence = true;
    else if (a == "--queries")
      o.queries = std::atoi(val().c_str());
    else if (a == "--limit")
      o.limit = std::atoi(val().c_str());
    else if (a == "--depth")
      o.depth = std::atoi(val().c_str());
    else if (a == "--conns")
      o.conns = std::atoi(val().c_str());
    else if (a == "--window")
      o.window = std::atoi(val().c_str());
    else if (a == "--src-ips")
      o.src_ips = std::atoi(val().c_str());
    else if (a == "--src-base")
      o.src_base = std::atoi(val().c_str());
    else if (a == "--timeout")
      o.timeout_s = std::atof(val().c_str());
    else if (a == "--quiet")
      o.quiet_s = std::atof(val().c_str());
    else if (a == "--label")
      o.label = val();
    else if (a == "--room")
      o.room = val();
    else if (a == "--rooms")
      o.rooms = std::atoi(val().c_str());
    else
      die("unknown option %s", a.c_str());
  }
  // As many descriptors as the hard limit allows.
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    uint64_t need = uint64_t(std::max({o.conns, o.clients, 2 * o.pairs})) + 16;
    if (need > rl.rlim_cur && o.scenario != "fanout" && o.scenario != "direct") {
      if (uint64_t(o.conns) + 16 > rl.rlim_cur)
        std::fprintf(stderr, "loadgen: RLIMIT_NOFILE %llu is below %llu: run several loadgen processes\n",
                     (unsigned long long)rl.rlim_cur, (unsigned long long)need);
    }
  }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  Loadgen lg(std::move(o));
  return lg.run();
}
