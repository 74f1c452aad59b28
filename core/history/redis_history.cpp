#include "history/redis_history.hpp"

#include "backplane/envelope.hpp"
#include "backplane/redis_reply.hpp"
#include "backplane/wire.hpp"
#include "history/redis_history_scripts.hpp"

namespace rtcore {
namespace {

constexpr size_t kEpochChars = 12;

const char* type_letter(StreamKind kind) {
  return kind == StreamKind::kRoom ? "r:" : "u:";
}

bool is_integer(const redisReply* r) {
  return r && r->type == REDIS_REPLY_INTEGER;
}

bool in_offset_range(const redisReply* r, long long lo) {
  return is_integer(r) && r->integer >= lo && static_cast<unsigned long long>(r->integer) <= wire::kMaxOffset;
}

}  // namespace

struct RedisHistory::AppendCall {
  std::vector<std::string> keys;
  std::vector<std::string> args;
  AppendDone done;
};

RedisHistory::RedisHistory(RedisLink& commands, OutageBuffer& outbox, std::string prefix, std::string node_id,
                           HistoryLimits limits, HistoryStats& stats,
                           std::function<void(const char*)> invalid, std::function<void()> on_sent)
    : commands_(commands),
      outbox_(outbox),
      prefix_(std::move(prefix)),
      node_id_(std::move(node_id)),
      limits_(limits),
      stats_(stats),
      invalid_(std::move(invalid)),
      on_sent_(std::move(on_sent)),
      append_(history_scripts::kAppend.c_str()),
      read_since_(history_scripts::kReadSince.c_str()),
      read_latest_(history_scripts::kReadLatest.c_str()),
      rng_(std::random_device{}()) {}

std::string RedisHistory::stream_key(StreamKind kind, std::string_view name) const {
  return prefix_ + "hist:" + type_letter(kind) + std::string(name);
}

std::string RedisHistory::meta_key(StreamKind kind, std::string_view name) const {
  return prefix_ + "hmeta:" + type_letter(kind) + std::string(name);
}

std::string RedisHistory::new_epoch() {
  // A candidate only: the script keeps the stream's epoch if it has one.
  static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::uniform_int_distribution<int> pick(0, 35);
  std::string e(kEpochChars, '0');
  for (char& c : e) c = kAlphabet[pick(rng_)];
  return e;
}

void RedisHistory::append(StreamKind kind, std::string_view name, std::string frame_prefix, uint64_t sent_ms,
                          AppendDone done) {
  if (shut_down_) {
    stats_.append_failures.add();
    if (done) done(false, 0);
    return;
  }
  bool room = kind == StreamKind::kRoom;
  auto call = std::make_shared<AppendCall>();
  call->keys = {stream_key(kind, name), meta_key(kind, name)};
  std::string head =
      encode_envelope_head(node_id_, room ? EnvelopeKind::kRoom : EnvelopeKind::kUser, name, sent_ms, 3);
  size_t bytes = frame_prefix.size() + head.size();
  call->args = {new_epoch(),
                std::to_string(uint64_t{limits_.ttl_s} * 1000),
                std::move(frame_prefix),
                std::to_string(limits_.size),
                prefix_ + (room ? "room:" : "user:") + std::string(name),
                std::move(head)};
  call->done = std::move(done);
  if (commands_.up() && !outbox_.holding()) return send(call);
  // Redis is away: wait in order with the plain publishes, within the same
  // bound; beyond it, fail now.
  HistoryStats& stats = stats_;
  outbox_.hold_send(
      bytes, [this, call] { send(call); },
      [&stats, call] {
        stats.append_failures.add();
        if (call->done) call->done(false, 0);
      });
}

void RedisHistory::send(const std::shared_ptr<AppendCall>& call) {
  // A null reply may come from the link's destructor, after this object:
  // then touch only the stats (owned by the engine) and the caller's done.
  HistoryStats& stats = stats_;
  bool sent = append_.run(commands_, call->keys, call->args, [this, &stats, call](redisReply* reply) {
    auto fail = [&] {
      stats.append_failures.add();
      if (call->done) call->done(false, 0);
    };
    if (!reply) return fail();
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 || !in_offset_range(reply->element[0], 1) ||
        !is_integer(reply->element[1]) || reply->element[1]->integer < 0 ||
        !redis_reply::is_string(reply->element[2]) ||
        !wire::is_valid_epoch(redis_reply::text(reply->element[2]))) {
      invalid_(reply->type == REDIS_REPLY_ERROR ? "an error from the history append script"
                                                : "the history append script's reply");
      return fail();
    }
    for (long long i = 0; i < reply->element[1]->integer; ++i)
      invalid_("a history key that was not ours (deleted)");
    stats.appends.add();
    if (call->done) call->done(true, static_cast<uint64_t>(reply->element[0]->integer));
  });
  if (!sent) {
    stats_.append_failures.add();
    if (call->done) call->done(false, 0);
    return;
  }
  if (on_sent_) on_sent_();
}

void RedisHistory::read_since(StreamKind kind, std::string_view name, std::string_view epoch, uint64_t since,
                              ReadFn fn) {
  read("the history read script's reply", read_since_, kind, name,
       {std::string(epoch), std::to_string(since), std::to_string(limits_.size)}, true, since, 0,
       std::move(fn));
}

void RedisHistory::read_latest(StreamKind kind, std::string_view name, uint32_t limit, uint64_t before,
                               ReadFn fn) {
  read("the history latest script's reply", read_latest_, kind, name,
       {std::to_string(limit), std::to_string(before)}, false, 0, before, std::move(fn));
}

// is_since: read_since (since is its bound), else read_latest (before is).
void RedisHistory::read(const std::string& what, const RedisScript& script, StreamKind kind,
                        std::string_view name, std::vector<std::string> args, bool is_since, uint64_t since,
                        uint64_t before, ReadFn fn) {
  if (shut_down_ || !commands_.up()) {
    stats_.read_failures.add();
    return fn(HistoryRead{});
  }
  args.insert(args.begin(), {new_epoch(), std::to_string(uint64_t{limits_.ttl_s} * 1000)});
  size_t max_entries = limits_.size;
  HistoryStats& stats = stats_;
  bool sent = script.run(
      commands_, {stream_key(kind, name), meta_key(kind, name)}, std::move(args),
      [this, &stats, fn, what, is_since, since, before, max_entries](redisReply* reply) {
        if (!reply) {
          stats.read_failures.add();
          return fn(HistoryRead{});
        }
        const redisReply* const* el = reply->element;
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 5 || !redis_reply::is_string(el[0]) ||
            !wire::is_valid_epoch(redis_reply::text(el[0])) || !in_offset_range(el[1], 0) ||
            !is_integer(el[2]) || (el[2]->integer != 0 && el[2]->integer != 1) || !el[3] ||
            el[3]->type != REDIS_REPLY_ARRAY || el[3]->elements % 2 != 0 ||
            el[3]->elements / 2 > max_entries || !is_integer(el[4]) || el[4]->integer < 0) {
          invalid_(what.c_str());
          stats.read_failures.add();
          return fn(HistoryRead{});
        }
        for (long long i = 0; i < el[4]->integer; ++i) invalid_("a history key or entry that was not ours");
        HistoryRead r;
        r.ok = true;
        r.epoch.assign(redis_reply::text(el[0]));
        r.top = static_cast<uint64_t>(el[1]->integer);
        bool complete = el[2]->integer == 1;
        uint64_t last = is_since ? since : 0;
        const redisReply* list = el[3];
        for (size_t i = 0; i < list->elements; i += 2) {
          const redisReply* off = list->element[i];
          const redisReply* frame = list->element[i + 1];
          uint64_t o = in_offset_range(off, 1) ? static_cast<uint64_t>(off->integer) : 0;
          // Ascending, within the stream (and the bounds asked for), and a
          // frame of exactly that offset: anything else is not ours.
          if (o == 0 || o <= last || o > r.top || (before != 0 && o >= before) ||
              !redis_reply::is_string(frame) || !wire::is_valid_stream_frame(redis_reply::text(frame), o)) {
            invalid_("a history entry that is not ours");
            complete = false;
            continue;
          }
          r.entries.push_back(HistoryEntry{o, std::string(redis_reply::text(frame))});
          last = o;
        }
        if (is_since) {
          // Trust, but check: complete means exactly (since, top], no gap.
          bool covers = r.entries.size() == r.top - std::min(since, r.top) &&
                        (r.entries.empty() ||
                         (r.entries.front().offset == since + 1 && r.entries.back().offset == r.top));
          r.complete = complete && since <= r.top && covers;
          if (!r.complete) stats.recoveries_incomplete.add();
        }
        stats.reads.add();
        fn(std::move(r));
      });
  if (!sent) {
    stats_.read_failures.add();
    fn(HistoryRead{});
  }
}

}  // namespace rtcore
