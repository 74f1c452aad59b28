#include "history/in_process_history.hpp"

#include <algorithm>
#include <chrono>

#include "common/guard.hpp"
#include "loop/heap_timer.hpp"

namespace rtcore {
namespace {

constexpr size_t kEpochChars = 12;

}  // namespace

InProcessHistory::InProcessHistory(BackplaneSink& sink, uv_loop_t* loop, HistoryLimits limits,
                                   BackplaneStats& stats, size_t budget_bytes)
    : sink_(sink),
      loop_(loop),
      limits_(limits),
      all_stats_(stats),
      stats_(stats.history),
      budget_bytes_(budget_bytes),
      ttl_ms_(uint64_t{limits.ttl_s} * 1000),
      rng_(std::random_device{}()) {
  if (!loop_) return;
  timer_ = new_heap_timer(loop_, this);
  // Often enough that memory follows the TTL closely, rarely enough to cost
  // nothing: a tenth of the TTL, within 100 ms .. 10 s.
  uint64_t every = std::clamp<uint64_t>(ttl_ms_ / 10, 100, 10000);
  uv_timer_start(
      timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<InProcessHistory*>(t->data);
        guarded(self->all_stats_.internal_errors, "the history sweep timer", [&] { self->sweep(); });
      },
      every, every);
  // The sweep never keeps the loop alive on its own.
  uv_unref(reinterpret_cast<uv_handle_t*>(timer_));
}

InProcessHistory::~InProcessHistory() {
  close_heap_timer(timer_);
}

void InProcessHistory::shutdown() {
  shut_down_ = true;
  close_heap_timer(timer_);
  streams_.clear();
  lru_.clear();
  bytes_ = 0;
  update_gauges();
}

uint64_t InProcessHistory::now_ms() const {
  // A monotonic clock read per call: uv_now() is only updated once per loop
  // turn, and a TTL must not stretch with a long turn.
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

std::string InProcessHistory::key(StreamKind kind, std::string_view name) {
  std::string k(kind == StreamKind::kRoom ? "r:" : "u:");
  k.append(name);
  return k;
}

std::string InProcessHistory::new_epoch() {
  static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::uniform_int_distribution<int> pick(0, 35);
  std::string e(kEpochChars, '0');
  for (char& c : e) c = kAlphabet[pick(rng_)];
  return e;
}

void InProcessHistory::pop_front(Stream& s) {
  size_t n = s.entries.front().frame->payload().size();
  s.bytes -= n;
  bytes_ -= n;
  s.entries.pop_front();
}

void InProcessHistory::drop_expired(Stream& s, uint64_t now) {
  while (!s.entries.empty() && now - s.entries.front().appended_ms >= ttl_ms_) pop_front(s);
}

void InProcessHistory::erase(std::unordered_map<std::string, Stream>::iterator it) {
  bytes_ -= it->second.bytes;
  lru_.erase(it->second.lru);
  streams_.erase(it);
}

InProcessHistory::Stream& InProcessHistory::use(const std::string& k, uint64_t now) {
  auto it = streams_.find(k);
  if (it != streams_.end() && now - it->second.last_append_ms >= ttl_ms_) {
    erase(it);  // nothing new for a whole TTL: forgotten
    it = streams_.end();
  }
  if (it == streams_.end()) {
    it = streams_.emplace(k, Stream{}).first;
    it->second.epoch = new_epoch();
    it->second.last_append_ms = now;
    it->second.lru = lru_.insert(lru_.end(), k);
    stats_.epochs_created.add();
  }
  drop_expired(it->second, now);
  return it->second;
}

void InProcessHistory::enforce_budget(const std::string& keep) {
  while (bytes_ > budget_bytes_ && !lru_.empty() && lru_.front() != keep) {
    erase(streams_.find(lru_.front()));
    stats_.evicted_streams.add();
  }
  // The stream appended to alone is over the budget: its oldest go.
  if (bytes_ > budget_bytes_)
    if (auto it = streams_.find(keep); it != streams_.end())
      while (bytes_ > budget_bytes_ && it->second.entries.size() > 1) pop_front(it->second);
}

void InProcessHistory::update_gauges() {
  stats_.streams.set(streams_.size());
  stats_.stored_bytes.set(bytes_);
}

void InProcessHistory::sweep() {
  if (shut_down_) return;
  uint64_t now = now_ms();
  for (auto it = streams_.begin(); it != streams_.end();) {
    auto next = std::next(it);
    if (now - it->second.last_append_ms >= ttl_ms_)
      erase(it);
    else
      drop_expired(it->second, now);
    it = next;
  }
  update_gauges();
}

void InProcessHistory::append(StreamKind kind, std::string_view name, std::string frame_prefix, uint64_t,
                              AppendDone done) {
  if (shut_down_) {
    stats_.append_failures.add();
    if (done) done(false, 0);
    return;
  }
  uint64_t now = now_ms();
  std::string k = key(kind, name);
  Stream& s = use(k, now);
  uint64_t offset = ++s.top;
  frame_prefix += std::to_string(offset);
  frame_prefix += '}';
  FramePtr frame = make_text_frame(frame_prefix);
  size_t n = frame_prefix.size();
  s.entries.push_back(Entry{offset, now, frame});
  s.bytes += n;
  bytes_ += n;
  s.last_append_ms = now;
  lru_.splice(lru_.end(), lru_, s.lru);
  while (s.entries.size() > limits_.size) pop_front(s);
  std::string epoch = s.epoch;  // s may be evicted below, never by its own append
  enforce_budget(k);
  update_gauges();
  stats_.appends.add();
  stats_.stream_deliveries.add();
  sink_.deliver_stream(kind, name, std::move(frame), epoch, offset);
  if (done) done(true, offset);
}

void InProcessHistory::read_since(StreamKind kind, std::string_view name, std::string_view epoch,
                                  uint64_t since, ReadFn fn) {
  HistoryRead r;
  if (shut_down_) {
    stats_.read_failures.add();
    return fn(std::move(r));
  }
  Stream& s = use(key(kind, name), now_ms());
  update_gauges();
  r.ok = true;
  r.epoch = s.epoch;
  r.top = s.top;
  if (epoch == s.epoch && since <= s.top) {
    // The ring is contiguous up to top: complete iff since + 1 is still
    // there (or nothing is missing at all).
    r.complete = since == s.top || (!s.entries.empty() && s.entries.front().offset <= since + 1);
    for (const Entry& e : s.entries)
      if (e.offset > since) r.entries.push_back(HistoryEntry{e.offset, std::string(e.frame->payload())});
  }
  stats_.reads.add();
  if (!r.complete) stats_.recoveries_incomplete.add();
  fn(std::move(r));
}

void InProcessHistory::read_latest(StreamKind kind, std::string_view name, uint32_t limit, uint64_t before,
                                   ReadFn fn) {
  HistoryRead r;
  if (shut_down_) {
    stats_.read_failures.add();
    return fn(std::move(r));
  }
  Stream& s = use(key(kind, name), now_ms());
  update_gauges();
  r.ok = true;
  r.epoch = s.epoch;
  r.top = s.top;
  auto end = s.entries.end();
  if (before != 0)
    end = std::lower_bound(s.entries.begin(), s.entries.end(), before,
                           [](const Entry& e, uint64_t b) { return e.offset < b; });
  auto begin = end - std::min<std::ptrdiff_t>(limit, end - s.entries.begin());
  for (auto it = begin; it != end; ++it)
    r.entries.push_back(HistoryEntry{it->offset, std::string(it->frame->payload())});
  stats_.reads.add();
  fn(std::move(r));
}

}  // namespace rtcore
