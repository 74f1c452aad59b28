#include "adopt.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace rtcore_node {

Napi::Value adopt_socket(const Napi::CallbackInfo& info, rtc_engine* engine) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsBuffer())
    return Napi::Number::New(env, RTC_EINVAL);
  int fd = info[0].As<Napi::Number>().Int32Value();
  auto head = info[1].As<Napi::Buffer<char>>();
  if (!engine || fd < 0) return Napi::Number::New(env, engine ? RTC_EINVAL : RTC_ESTATE);
  // The engine gets its own descriptor for the same socket: Node goes on
  // owning (and later closing) fd, which neither side reads any more.
  int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return Napi::Number::New(env, RTC_EINVAL);
  int rc = rtc_engine_adopt_socket(engine, dup, head.Data(), head.Length());
  if (rc != RTC_OK) close(dup);  // still ours on an error
  return Napi::Number::New(env, rc);
}

}  // namespace rtcore_node
