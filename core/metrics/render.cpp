#include "metrics/render.hpp"

#include <cstdio>

#include "engine/stats_table.hpp"

namespace rtcore::metrics {
namespace {

enum class StatKind { kGauge, kCounter };

void append_uint(std::string& out, uint64_t v) {
  out += std::to_string(v);
}

void append_double(std::string& out, double v) {
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%.9g", v);
  out.append(buf, static_cast<size_t>(n));
}

// Label values here are our own fixed words and node ids (printable ASCII
// without spaces, backplane/wire.hpp); escape anyway, as the format says.
void append_label_value(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

template <size_t N, size_t M>
void labelled(std::string& out, std::string_view name, std::string_view label, std::string_view help,
              const std::array<Counter, N>& counters, const std::array<std::string_view, M>& labels) {
  static_assert(N == M);
  header(out, name, "counter", help);
  for (size_t i = 0; i < N; ++i) {
    out += name;
    out += '{';
    out += label;
    out += "=\"";
    out += labels[i];
    out += "\"} ";
    append_uint(out, counters[i].get());
    out += '\n';
  }
}

void histogram(std::string& out, std::string_view name, std::string_view help, const Histogram& h) {
  header(out, name, "histogram", help);
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= Histogram::kBounds.size(); ++i) {
    cumulative += h.bucket(i);
    out += name;
    out += "_bucket{le=\"";
    if (i < Histogram::kBounds.size())
      append_double(out, Histogram::kBounds[i]);
    else
      out += "+Inf";
    out += "\"} ";
    append_uint(out, cumulative);
    out += '\n';
  }
  out += name;
  out += "_sum ";
  append_double(out, h.sum_seconds());
  out += '\n';
  out += name;
  out += "_count ";
  // The count of the buckets read above, so that +Inf == _count even while
  // the engine thread observes concurrently.
  append_uint(out, cumulative);
  out += '\n';
}

}  // namespace

std::string render_stats_json(const EngineStats& s) {
  std::string out = "{";
  bool first = true;
#define RTCORE_X(name, kind, metric, value, help) \
  if (!first) out += ',';                         \
  first = false;                                  \
  out += "\"" #name "\":";                        \
  append_uint(out, (value));
  RTCORE_STATS_TABLE(RTCORE_X)
#undef RTCORE_X
  return out + "}";
}

std::string render_prometheus(const EngineStats& s, const Context& context) {
  std::string out;
  out.reserve(8192);
  header(out, "rtcore_info", "gauge", "Always 1; labels say which node this is and its backplane.");
  out += "rtcore_info{node=\"";
  append_label_value(out, context.node_id);
  out += "\",backplane=\"";
  append_label_value(out, context.backplane);
  out += "\"} 1\n";
#define RTCORE_X(name, kind, metric, value, help)                                      \
  header(out, metric, StatKind::kind == StatKind::kGauge ? "gauge" : "counter", help); \
  out += metric;                                                                       \
  out += ' ';                                                                          \
  append_uint(out, (value));                                                           \
  out += '\n';
  RTCORE_STATS_TABLE(RTCORE_X)
#undef RTCORE_X
  labelled(out, "rtcore_client_messages_total", "type", "Client messages received, by type.",
           s.messages_by_type, kMessageTypes);
  labelled(out, "rtcore_frames_queued_total", "kind",
           "Frames queued for clients, by kind (one per recipient).", s.frames_by_kind, kFrameKinds);
  labelled(out, "rtcore_closes_total", "code",
           "Connections closed, by close code (4xxx: host or refusal codes; client: closed by the client).",
           s.closes_by_code, kCloseCodes);
  labelled(out, "rtcore_frame_drops_total", "reason",
           "Frames not delivered, by reason (sums to rtcore_dropped_frames_total).", s.drops_by_reason,
           kDropReasons);
  histogram(out, "rtcore_backplane_round_trip_seconds",
            "Time for this node's own probe publication to come back through the backplane.",
            s.backplane.round_trip);
  histogram(out, "rtcore_delivery_age_seconds",
            "Age of messages from other nodes when delivered here (publisher's clock against ours).",
            s.backplane.delivery_age);
  return out;
}

}  // namespace rtcore::metrics
