// The single-node history (history/history.hpp). Design: per stream a
// bounded ring of {offset, appended at, frame} in append order, an epoch
// drawn at random when the stream is created, and the stream's top offset.
// A message lives limits.ttl_s; a stream without a new message for that
// long is forgotten (its next use starts a new epoch). A uv timer sweeps
// expired entries and streams, so memory drops without traffic. A budget
// on the stored frame bytes evicts whole least-recently-appended streams
// (their next use starts a new epoch, as the contract allows: history lost).
//
// append() delivers through BackplaneSink::deliver_stream synchronously,
// before it calls done(true, N) and returns. Every callback (AppendDone,
// ReadFn) is called synchronously, before the call returns. After
// shutdown() appends fail (done(false, 0)) and reads answer ok = false.
// Engine thread only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <list>
#include <random>
#include <string>
#include <unordered_map>

#include "backplane/backplane.hpp"
#include "backplane/backplane_stats.hpp"
#include "buffer/frame.hpp"
#include "history/history.hpp"

namespace rtcore {

class InProcessHistory final : public History {
 public:
  static constexpr size_t kDefaultBudgetBytes = size_t{256} << 20;

  // loop: for the sweep timer (null: no timer; expiry is then applied only
  // when a stream is used). limits.size must be > 0. stats: not owned, must
  // outlive this object (its history counters and internal_errors). budget_bytes: bound on stored frame
  // bytes.
  InProcessHistory(BackplaneSink& sink, uv_loop_t* loop, HistoryLimits limits, BackplaneStats& stats,
                   size_t budget_bytes = kDefaultBudgetBytes);
  ~InProcessHistory() override;
  InProcessHistory(const InProcessHistory&) = delete;
  InProcessHistory& operator=(const InProcessHistory&) = delete;

  void append(StreamKind kind, std::string_view name, std::string frame_prefix, uint64_t sent_ms,
              AppendDone done) override;
  void read_since(StreamKind kind, std::string_view name, std::string_view epoch, uint64_t since,
                  ReadFn fn) override;
  void read_latest(StreamKind kind, std::string_view name, uint32_t limit, uint64_t before,
                   ReadFn fn) override;

  // Drops expired entries and streams now (the timer calls it).
  void sweep();
  // Stops the timer and forgets everything; later calls fail.
  void shutdown();

  size_t streams() const { return streams_.size(); }
  size_t stored_bytes() const { return bytes_; }

 private:
  struct Entry {
    uint64_t offset;
    uint64_t appended_ms;
    FramePtr frame;
  };
  struct Stream {
    std::string epoch;
    uint64_t top = 0;
    uint64_t last_append_ms = 0;  // or creation
    std::deque<Entry> entries;    // ascending, contiguous offsets
    size_t bytes = 0;
    std::list<std::string>::iterator lru;  // position in lru_
  };

  uint64_t now_ms() const;
  static std::string key(StreamKind kind, std::string_view name);
  // The stream, created (new epoch) if absent or expired; expired entries dropped.
  Stream& use(const std::string& key, uint64_t now);
  void drop_expired(Stream& s, uint64_t now);
  void pop_front(Stream& s);
  void erase(std::unordered_map<std::string, Stream>::iterator it);
  void enforce_budget(const std::string& keep);
  void update_gauges();
  std::string new_epoch();

  BackplaneSink& sink_;
  uv_loop_t* loop_;
  HistoryLimits limits_;
  BackplaneStats& all_stats_;
  HistoryStats& stats_;
  size_t budget_bytes_;
  uint64_t ttl_ms_;
  std::unordered_map<std::string, Stream> streams_;
  std::list<std::string> lru_;  // least recently appended first
  size_t bytes_ = 0;
  std::mt19937_64 rng_;
  uv_timer_t* timer_ = nullptr;
  bool shut_down_ = false;
};

}  // namespace rtcore
