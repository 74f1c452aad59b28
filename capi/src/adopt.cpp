// rtc_engine_adopt_socket: the descriptor and the bytes already read are
// checked and copied at the call; the engine thread hands them to the
// transport (WsServer::adopt), which treats the socket like one its own
// listener accepted.
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "engine/engine_core.hpp"
#include "internal.hpp"

using rtcore::EngineCore;
using rtcore_capi::guarded;
using rtcore_capi::view;

namespace {

// Larger than any request lws would take (its header table is smaller):
// a bound on what the call copies, not a tuning knob.
constexpr size_t kMaxHead = 64 * 1024;

// The descriptor while it travels to the engine thread: closed if the
// command is dropped unrun (the engine stopped first), released to the
// transport when it runs, or handed back to the caller when it was never
// queued.
class PendingFd {
 public:
  explicit PendingFd(int fd) : fd_(fd) {}
  ~PendingFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  PendingFd(const PendingFd&) = delete;
  PendingFd& operator=(const PendingFd&) = delete;
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

bool is_stream_socket(int fd) {
  struct stat st;
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
  int type = 0;
  socklen_t len = sizeof type;
  return ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
}

}  // namespace

extern "C" {

int rtc_engine_adopt_socket(rtc_engine* engine, int fd, const char* head, size_t head_len) {
  return guarded([&]() -> int {
    if (!engine || (!head && head_len > 0) || head_len > kMaxHead || !is_stream_socket(fd)) return RTC_EINVAL;
    if (!engine->engine->config().tls_cert_file.empty()) return RTC_ENOTSUP;
    std::string bytes(view(head, head_len));
    auto pending = std::make_shared<PendingFd>(fd);
    bool queued = false;
    try {
      queued = engine->engine->post([pending, bytes = std::move(bytes)](EngineCore& core) {
        core.adopt_socket(pending->release(), bytes);
      });
    } catch (...) {
      pending->release();  // not queued: the caller keeps fd
      throw;
    }
    if (!queued) {
      pending->release();
      return RTC_ESTATE;
    }
    return RTC_OK;
  });
}

}  // extern "C"
