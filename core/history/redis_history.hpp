// The Redis history (history/history.hpp); keys and scripts in
// history/redis_history_scripts.hpp. Design: the offset counter, the
// bounded stream, its expiry and the PUBLISH of the envelope to the
// stream's existing channel ({prefix}room:{room} / {prefix}user:{user})
// happen in ONE script per append, so a message is in the history iff it
// was published, and every node (this one included) gets it through its
// subscription: RedisBackplane::on_message hands publications with history
// fields to BackplaneSink::deliver_stream even when they are its own. One
// ordered source per stream and node.
//
// While the commands link is down, appends wait in order in the backplane's
// outage buffer (with plain publishes, the same byte bound and drain
// rules); beyond the bound done(false, 0) at once. Reads while down answer
// ok = false at once. Redis restarted without persistence: the meta is gone
// and the next append or read starts a new epoch.
//
// Every reply is untrusted (backplane/wire.hpp): a reply of the wrong shape
// fails the call (ok false) and is counted through invalid(); a stored
// entry that is not ours is left out (the read is then not complete) and
// counted the same way. A reply lost with the link (the script may or may
// not have run) is reported as a failure.
//
// Callbacks are never called synchronously except when the call fails at
// once (shut down, link down for a read, outage buffer full). Engine thread
// only; runs on the backplane's commands link.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "backplane/backplane_stats.hpp"
#include "backplane/outage_buffer.hpp"
#include "backplane/redis_link.hpp"
#include "backplane/redis_script.hpp"
#include "history/history.hpp"

namespace rtcore {

class RedisHistory final : public History {
 public:
  // commands, outbox, stats: not owned, must outlive this object.
  // invalid(what): called for everything malformed read from Redis.
  // on_sent: called whenever a script was written to the link (so the
  // backplane flushes it with its publishes). limits.size must be > 0.
  RedisHistory(RedisLink& commands, OutageBuffer& outbox, std::string prefix, std::string node_id,
               HistoryLimits limits, HistoryStats& stats, std::function<void(const char* what)> invalid,
               std::function<void()> on_sent);

  void append(StreamKind kind, std::string_view name, std::string frame_prefix, uint64_t sent_ms,
              AppendDone done) override;
  void read_since(StreamKind kind, std::string_view name, std::string_view epoch, uint64_t since,
                  ReadFn fn) override;
  void read_latest(StreamKind kind, std::string_view name, uint32_t limit, uint64_t before,
                   ReadFn fn) override;

  // Later calls fail at once; appends already held fail with the outbox.
  void shutdown() { shut_down_ = true; }
  // The commands link is up: loads the scripts before anything runs them,
  // so that appends keep their order (see RedisScript::load).
  void link_up(RedisLink& link) const {
    append_.load(link);
    read_since_.load(link);
    read_latest_.load(link);
  }

  // The keys of stream (kind, name), for tests and operators.
  std::string stream_key(StreamKind kind, std::string_view name) const;
  std::string meta_key(StreamKind kind, std::string_view name) const;

 private:
  struct AppendCall;
  void send(const std::shared_ptr<AppendCall>& call);
  void read(const std::string& what, const RedisScript& script, StreamKind kind, std::string_view name,
            std::vector<std::string> args, bool is_since, uint64_t since, uint64_t before, ReadFn fn);
  std::string new_epoch();

  RedisLink& commands_;
  OutageBuffer& outbox_;
  std::string prefix_;
  std::string node_id_;
  HistoryLimits limits_;
  HistoryStats& stats_;
  std::function<void(const char*)> invalid_;
  std::function<void()> on_sent_;
  RedisScript append_, read_since_, read_latest_;
  std::mt19937_64 rng_;
  bool shut_down_ = false;
};

}  // namespace rtcore
