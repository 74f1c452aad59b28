// Counters: a lock-free snapshot copied into the caller's rtc_stats, the
// table that names its fields, and the Prometheus text. All derived from
// core/engine/stats_table.hpp.
#include <cstring>
#include <string>

#include "engine/stats_table.hpp"
#include "internal.hpp"
#include "metrics/render.hpp"

namespace {

// rtc_stats must be exactly the table, in order: a uint32_t struct_size,
// then one uint64_t per row. A row without a field, a field without a row
// or a different order fails to compile here.
constexpr size_t kFirstStat = offsetof(rtc_stats, connections);
constexpr size_t kStatCount = 0
#define RTCORE_X(name, kind, metric, value, help) +1
    RTCORE_STATS_TABLE(RTCORE_X)
#undef RTCORE_X
    ;
static_assert(sizeof(rtc_stats) == kFirstStat + kStatCount * sizeof(uint64_t),
              "rtc_stats has a field that is not in the stats table (or the reverse)");
constexpr size_t kOffsets[] = {
#define RTCORE_X(name, kind, metric, value, help) offsetof(rtc_stats, name),
    RTCORE_STATS_TABLE(RTCORE_X)
#undef RTCORE_X
};
constexpr bool in_table_order() {
  for (size_t i = 0; i < kStatCount; ++i)
    if (kOffsets[i] != kFirstStat + i * sizeof(uint64_t)) return false;
  return true;
}
static_assert(in_table_order(), "rtc_stats fields are not in the stats table's order");

struct StatInfo {
  const char* name;
  const char* kind;
  const char* help;
};
constexpr StatInfo kStats[] = {
#define RTCORE_X(name, kind, metric, value, help) {#name, kind == 0 ? "gauge" : "counter", help},
#define kGauge 0
#define kCounter 1
    RTCORE_STATS_TABLE(RTCORE_X)
#undef kGauge
#undef kCounter
#undef RTCORE_X
};

}  // namespace

extern "C" {

void rtc_stats_init(rtc_stats* stats) {
  if (!stats) return;
  std::memset(stats, 0, sizeof *stats);
  stats->struct_size = sizeof *stats;
}

int rtc_engine_stats(const rtc_engine* engine, rtc_stats* stats) {
  if (!engine || !stats || stats->struct_size < sizeof(uint32_t)) return RTC_EINVAL;
  const rtcore::EngineStats& s = engine->engine->stats();
  rtc_stats full;
  full.struct_size = stats->struct_size;
#define RTCORE_X(name, kind, metric, value, help) full.name = (value);
  RTCORE_STATS_TABLE(RTCORE_X)
#undef RTCORE_X
  size_t n = stats->struct_size < sizeof full ? stats->struct_size : sizeof full;
  std::memcpy(stats, &full, n);
  return RTC_OK;
}

size_t rtc_stats_count(void) {
  return kStatCount;
}

int rtc_stats_field(size_t index, const char** name, const char** kind, const char** help) {
  if (index >= kStatCount) return RTC_EINVAL;
  if (name) *name = kStats[index].name;
  if (kind) *kind = kStats[index].kind;
  if (help) *help = kStats[index].help;
  return RTC_OK;
}

int rtc_engine_metrics(const rtc_engine* engine, rtc_text_cb cb, void* userdata) {
  if (!engine || !cb) return RTC_EINVAL;
  return rtcore_capi::guarded([&] {
    const rtcore::Engine& e = *engine->engine;
    std::string text = rtcore::metrics::render_prometheus(
        e.stats(),
        rtcore::metrics::Context{e.node_id(), e.config().redis_url.empty() ? "in-process" : "redis"});
    cb(text.data(), text.size(), userdata);
    return RTC_OK;
  });
}

}  // extern "C"
