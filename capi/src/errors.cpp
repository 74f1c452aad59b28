// Result codes and the library version: static data, no engine involved.
#include "rtcore.h"

extern "C" {

const char* rtc_strerror(int code) {
  switch (code) {
#define RTC_X_MSG(name, value, msg) \
  case value: return msg;
    RTC_ERRNO_MAP(RTC_X_MSG)
#undef RTC_X_MSG
  }
  return "unknown error";
}

const char* rtc_err_name(int code) {
  switch (code) {
#define RTC_X_NAME(name, value, msg) \
  case value: return "RTC_" #name;
    RTC_ERRNO_MAP(RTC_X_NAME)
#undef RTC_X_NAME
  }
  return "RTC_UNKNOWN";
}

const char* rtc_version(void) {
  return RTC_VERSION_STRING;
}

uint32_t rtc_version_number(void) {
  return (RTC_VERSION_MAJOR << 16) | (RTC_VERSION_MINOR << 8) | RTC_VERSION_PATCH;
}

}  // extern "C"
