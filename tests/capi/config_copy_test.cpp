// config_from_c, row by row from the settings table (capi/src/options_table.hpp):
// a value set in rtc_config reaches EngineConfig's member of the same name,
// rtc_config_init's defaults come back as EngineConfig's, ranges are
// checked as the row's `copy` says, and an older caller's struct keeps the
// default of a field it does not have.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>

#include "internal.hpp"
#include "options_table.hpp"

namespace {

using rtcore_capi::config_from_c;
using rtcore_capi::Copy;

// The size of the first published rtc_config (it ends after log_level).
constexpr uint32_t kFirstSize = offsetof(rtc_config, log_level) + sizeof(uint32_t);

template <class Member>
uint64_t as_u64(const Member& m) {
  return static_cast<uint64_t>(m);
}

// A value in min..max that is not the default.
template <class Field>
Field other_value(Field def, uint64_t min, uint64_t max) {
  return static_cast<Field>(def != max ? max : min);
}

template <Copy rule, class Field, class Member>
void check_row(const char* name, Field rtc_config::*field, Member rtcore::EngineConfig::*member, uint64_t min,
               uint64_t max) {
  SCOPED_TRACE(name);
  const rtcore::EngineConfig defaults;
  rtc_config c;
  rtc_config_init(&c);
  size_t offset = reinterpret_cast<const char*>(&(c.*field)) - reinterpret_cast<const char*>(&c);

  {  // rtc_config_init's default comes back as EngineConfig's.
    rtcore::EngineConfig out;
    ASSERT_EQ(config_from_c(&c, out), RTC_OK);
    EXPECT_EQ(out.*member, defaults.*member);
  }
  if constexpr (std::is_pointer_v<Field>) {
    c.*field = name;
    rtcore::EngineConfig out;
    ASSERT_EQ(config_from_c(&c, out), RTC_OK);
    EXPECT_EQ(out.*member, name);
    c.*field = "";
    rtcore::EngineConfig empty;
    ASSERT_EQ(config_from_c(&c, empty), RTC_OK);
    EXPECT_EQ(empty.*member, rule == Copy::zero_default ? defaults.*member : std::string());
  } else {
    Field v = other_value(c.*field, min, max);
    ASSERT_NE(as_u64(v), as_u64(defaults.*member)) << "no other value in range";
    c.*field = v;
    rtcore::EngineConfig out;
    ASSERT_EQ(config_from_c(&c, out), RTC_OK);
    EXPECT_EQ(as_u64(out.*member), as_u64(v));

    if (offset >= kFirstSize) {  // a caller that predates the field
      rtc_config old = c;
      old.struct_size = kFirstSize;
      rtcore::EngineConfig kept;
      ASSERT_EQ(config_from_c(&old, kept), RTC_OK);
      EXPECT_EQ(kept.*member, defaults.*member);
    }
    if (min > 0) {
      c.*field = static_cast<Field>(min - 1);
      rtcore::EngineConfig below;
      int want = rule == Copy::min_checked || rule == Copy::range_checked ? RTC_EINVAL : RTC_OK;
      EXPECT_EQ(config_from_c(&c, below), want) << "below min";
      if (rule == Copy::zero_default && min == 1) {
        EXPECT_EQ(below.*member, defaults.*member);
      }
    }
    if (rule == Copy::range_checked && max < std::numeric_limits<Field>::max()) {
      c.*field = static_cast<Field>(max + 1);
      rtcore::EngineConfig above;
      EXPECT_EQ(config_from_c(&c, above), RTC_EINVAL) << "above max";
    }
  }
}

TEST(ConfigCopy, EveryRowReachesEngineConfig) {
  size_t rows = 0;
#define RTCORE_CHECK_as_is(field, min, max) RTCORE_CHECK(as_is, field, min, max)
#define RTCORE_CHECK_zero_default(field, min, max) RTCORE_CHECK(zero_default, field, min, max)
#define RTCORE_CHECK_min_checked(field, min, max) RTCORE_CHECK(min_checked, field, min, max)
#define RTCORE_CHECK_range_checked(field, min, max) RTCORE_CHECK(range_checked, field, min, max)
#define RTCORE_CHECK_special(field, min, max)
#define RTCORE_CHECK(rule, field, min, max)                                                  \
  check_row<Copy::rule>(#field, &rtc_config::field, &rtcore::EngineConfig::field, min, max); \
  ++rows;
#define RTCORE_X(field, type, unit, flag, env, min, max, copy, help) RTCORE_CHECK_##copy(field, min, max)
  RTCORE_OPTIONS_TABLE(RTCORE_X)
#undef RTCORE_X
  EXPECT_GE(rows, 25u);
}

// The rows config.cpp copies by hand (validated, renamed or converted; its
// own tests cover them): a row turning special must be added here on
// purpose, not by losing its copy.
TEST(ConfigCopy, TheSpecialRowsAreTheHandWrittenOnes) {
  std::string special;
#define RTCORE_X(field, type, unit, flag, env, min, max, copy, help) \
  if (Copy::copy == Copy::special) special += std::string(special.empty() ? "" : " ") + #field;
  RTCORE_OPTIONS_TABLE(RTCORE_X)
#undef RTCORE_X
  EXPECT_EQ(
      special,
      "redis_url node_id auth_mode allowed_origins tls_cert_file tls_key_file log_format internal_listen");
}

}  // namespace
