// Settings introspection: the rows of options_table.hpp, with the defaults
// of rtc_config_init.
#include <cstddef>
#include <cstring>

#include "internal.hpp"
#include "options_table.hpp"

namespace {

struct Table {
  rtc_option_info rows[0
#define RTCORE_X(field, type, unit, flag, env, min, max, copy, help) +1
                       RTCORE_OPTIONS_TABLE(RTCORE_X)
#undef RTCORE_X
  ];
};

uint64_t read_uint(const rtc_config& c, size_t offset, size_t size) {
  const char* p = reinterpret_cast<const char*>(&c) + offset;
  if (size == sizeof(uint64_t)) {
    uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

const Table& table() {
  static const Table t = [] {
    rtc_config d;
    rtc_config_init(&d);
    Table out{};
    size_t i = 0;
#define RTCORE_X(field, type_, unit_, flag_, env_, min_, max_, copy_, help_)   \
  {                                                                            \
    rtc_option_info& r = out.rows[i++];                                        \
    r.name = #field;                                                           \
    r.flag = flag_;                                                            \
    r.env = env_;                                                              \
    r.help = help_;                                                            \
    r.type = type_;                                                            \
    r.unit = unit_;                                                            \
    r.offset = offsetof(rtc_config, field);                                    \
    r.size = sizeof(d.field);                                                  \
    r.min = min_;                                                              \
    r.max = max_;                                                              \
    if constexpr (type_ == RTC_OPTION_STRING) {                                \
      const char* s = nullptr;                                                 \
      std::memcpy(&s, reinterpret_cast<const char*>(&d) + r.offset, sizeof s); \
      r.default_string = s;                                                    \
    } else {                                                                   \
      r.default_value = read_uint(d, r.offset, r.size);                        \
    }                                                                          \
  }
    RTCORE_OPTIONS_TABLE(RTCORE_X)
#undef RTCORE_X
    return out;
  }();
  return t;
}

}  // namespace

extern "C" {

size_t rtc_config_option_count(void) {
  return sizeof(Table::rows) / sizeof(Table::rows[0]);
}

const rtc_option_info* rtc_config_option(size_t index) {
  if (index >= rtc_config_option_count()) return nullptr;
  return &table().rows[index];
}

}  // extern "C"
