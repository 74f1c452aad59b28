// The engine's counters as text: the JSON of GET /stats and the Prometheus
// text exposition (format 0.0.4) of GET /metrics, both derived from the one
// table (engine/stats_table.hpp) plus the labelled families and histograms.
// Reads counters only: any thread may call these.
#pragma once

#include <string>
#include <string_view>

#include "engine/stats.hpp"

namespace rtcore::metrics {

struct Context {
  std::string_view node_id;
  std::string_view backplane;  // "in-process" or "redis"
};

std::string render_stats_json(const EngineStats& s);
std::string render_prometheus(const EngineStats& s, const Context& context);

}  // namespace rtcore::metrics
