#include "loop/heap_timer.hpp"
#include "backplane/redis_backplane.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <rapidjson/document.h>

#include <cstdarg>
#include <cstdio>
#include <algorithm>

#include "backplane/envelope.hpp"
#include "backplane/presence_scripts.hpp"
#include "protocol/timestamp.hpp"

namespace rtcore {
namespace {

// Channels per SUBSCRIBE command when resubscribing everything.
constexpr size_t kChannelsPerCommand = 512;
// Longest wait for peers to resubscribe before the outbox is sent anyway
// (a peer that died meanwhile never will).
constexpr uint64_t kMaxDrainWaitMs = 3000;
constexpr uint64_t kDrainPollMs = 25;
constexpr uint64_t kAnnouncementMemoryMs = 5000;


std::string_view str(const redisReply* r) {
  return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
             ? std::string_view(r->str, r->len)
             : std::string_view();
}

// A publish whose ack someone waits for.
struct PublishWait {
  BackplaneStats* stats;
  Backplane::Done done;
};

void on_publish_reply(redisAsyncContext*, void* r, void* privdata) {
  auto* wait = static_cast<PublishWait*>(privdata);
  auto* reply = static_cast<redisReply*>(r);
  bool ok = reply && reply->type != REDIS_REPLY_ERROR;
  if (wait) {
    if (!ok) wait->stats->dropped.add();
    if (wait->done) wait->done(ok);
    delete wait;
  }
}

void on_ignored_reply(redisAsyncContext*, void*, void*) {}

}  // namespace

RedisBackplane::RedisBackplane(uv_loop_t* loop, RedisBackplaneOptions options, BackplaneSink& sink,
                               BackplaneStats& stats)
    : loop_(loop),
      opts_(std::move(options)),
      sink_(sink),
      stats_(stats),
      presence_channel_(opts_.prefix + "presence"),
      control_channel_(opts_.prefix + "control"),
      commands_(loop, opts_.address, "commands", opts_.connect_timeout_ms, [this] { commands_up(); },
                [this](const std::string& why) { commands_down(why); }),
      subscriptions_(loop, opts_.address, "subscriptions", opts_.connect_timeout_ms,
                     [this] { subscriptions_up(); }, [this](const std::string& why) { subscriptions_down(why); }) {}

RedisBackplane::~RedisBackplane() { shutdown(); }

void RedisBackplane::start() {
  flush_timer_ = new_heap_timer(loop_, this);
  heartbeat_timer_ = new_heap_timer(loop_, this);
  drain_timer_ = new_heap_timer(loop_, this);
  // Beat at least every second: the liveness key needs a third of the TTL,
  // and the list of peers (for holding publishes over an outage) should be
  // fresh.
  uint32_t period = std::clamp<uint32_t>(opts_.node_ttl_ms / 3, 100, 1000);
  uv_timer_start(
      heartbeat_timer_, [](uv_timer_t* t) { static_cast<RedisBackplane*>(t->data)->heartbeat(); }, period, period);
  log(1, "connecting to redis (node %s)", opts_.node_id.c_str());
  commands_.start();
  subscriptions_.start();
}

void RedisBackplane::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  close_heap_timer(flush_timer_);
  close_heap_timer(heartbeat_timer_);
  close_heap_timer(drain_timer_);
  // Take this node's users out of the cluster's presence and its liveness
  // key away, so nobody waits for the TTL. Best effort: the commands are
  // written on the next loop turn, which the engine still runs.
  if (commands_.up()) {
    for (const auto& user : local_users_) run_presence_script(false, user);
    std::string key = opts_.prefix + "node:" + opts_.node_id;
    commands_.command({"DEL", key, opts_.prefix + "ready:" + opts_.node_id}, on_ignored_reply, nullptr);
    commands_.command({"SREM", opts_.prefix + "nodes", opts_.node_id}, on_ignored_reply, nullptr);
    commands_.command({"PUBLISH", control_channel_, "gone " + opts_.node_id}, on_ignored_reply, nullptr);
  }
  local_users_.clear();
  for (auto& p : outbox_)
    if (p.done) p.done(false);
  outbox_.clear();
  for (auto& [ch, list] : waiters_)
    for (auto& d : list) d(false);
  waiters_.clear();
  commands_.stop_gracefully();
  subscriptions_.stop();
  stats_.connected.set(0);
}

// --------------------------------------------------------------- channels

std::string RedisBackplane::room_channel(std::string_view room) const {
  return opts_.prefix + "room:" + std::string(room);
}

std::string RedisBackplane::user_channel(std::string_view user) const {
  return opts_.prefix + "user:" + std::string(user);
}

void RedisBackplane::room_interest(std::string_view room, bool wanted) { want(room_channel(room), wanted); }

void RedisBackplane::user_interest(std::string_view user, bool wanted) { want(user_channel(user), wanted); }

void RedisBackplane::want(std::string channel, bool wanted) {
  if (shut_down_) return;
  if (wanted) {
    queue_unsub_.erase(channel);
    if (!subscribed_.count(channel) && !sub_inflight_.count(channel) && !unsub_inflight_.count(channel))
      queue_sub_.insert(channel);
    wanted_.insert(std::move(channel));
  } else {
    queue_sub_.erase(channel);
    if (subscribed_.count(channel) || sub_inflight_.count(channel)) queue_unsub_.insert(channel);
    // A join undone before Redis confirmed it has nothing left to wait for.
    run_waiters(channel, true);
    wanted_.erase(channel);
  }
  schedule_flush();
}

void RedisBackplane::when_room_ready(std::string_view room, Done done) {
  std::string ch = room_channel(room);
  if (subscribed_.count(ch) || shut_down_) {
    if (done) done(!shut_down_);
    return;
  }
  waiters_[ch].push_back(std::move(done));
}

void RedisBackplane::run_waiters(const std::string& channel, bool ok) {
  auto it = waiters_.find(channel);
  if (it == waiters_.end()) return;
  std::vector<Done> list = std::move(it->second);
  waiters_.erase(it);
  for (auto& d : list)
    if (d) d(ok);
}

void RedisBackplane::schedule_flush() {
  // Subscription changes are batched per loop turn: a 0 ms timer runs once
  // after everything this turn has queued.
  if (flush_timer_ && !uv_is_active(reinterpret_cast<uv_handle_t*>(flush_timer_)))
    uv_timer_start(
        flush_timer_, [](uv_timer_t* t) { static_cast<RedisBackplane*>(t->data)->flush_subscriptions(); }, 0, 0);
}

void RedisBackplane::flush_subscriptions() {
  if (!subscriptions_.up()) return;  // everything wanted is sent on reconnect
  auto send = [&](const char* verb, std::unordered_set<std::string>& queue, std::unordered_set<std::string>& inflight) {
    std::vector<std::string_view> argv{verb};
    auto flush = [&] {
      if (argv.size() > 1) subscriptions_.command(argv, &RedisBackplane::on_subscription, this);
      argv.resize(1);
    };
    for (const auto& ch : queue) {
      inflight.insert(ch);
      argv.push_back(*inflight.find(ch));
      if (argv.size() > kChannelsPerCommand) flush();
    }
    flush();
    queue.clear();
  };
  send("SUBSCRIBE", queue_sub_, sub_inflight_);
  send("UNSUBSCRIBE", queue_unsub_, unsub_inflight_);
}

void RedisBackplane::on_subscription(redisAsyncContext*, void* reply, void* privdata) {
  static_cast<RedisBackplane*>(privdata)->on_subscription_reply(reply);
}

void RedisBackplane::on_subscription_reply(void* r) {
  auto* reply = static_cast<redisReply*>(r);
  if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 || shut_down_) return;
  std::string_view kind = str(reply->element[0]);
  std::string channel(str(reply->element[1]));
  if (kind == "message") {
    on_channel_message(channel, str(reply->element[2]));
  } else if (kind == "subscribe") {
    sub_inflight_.erase(channel);
    subscribed_.insert(channel);
    run_waiters(channel, true);
    // Once we hear announcements, list the nodes already there: together
    // the two leave no gap in which a peer goes unnoticed.
    if (channel == control_channel_) refresh_peers();
    if (sub_inflight_.empty()) mark_ready();
  } else if (kind == "unsubscribe") {
    unsub_inflight_.erase(channel);
    subscribed_.erase(channel);
    // Wanted again while the unsubscribe was in flight: subscribe now
    // (hiredis forgets the channel's callback when this reply arrives).
    if (wanted_.count(channel)) {
      queue_sub_.insert(channel);
      schedule_flush();
    }
  }
}

void RedisBackplane::on_channel_message(std::string_view channel, std::string_view payload) {
  if (channel == control_channel_) {
    bool ready = payload.substr(0, 6) == "ready ";
    bool gone = payload.substr(0, 5) == "gone ";
    std::string node(payload.substr(ready ? 6 : 5));
    if ((!ready && !gone) || node == opts_.node_id || draining_) return;
    auto it = std::find(known_peers_.begin(), known_peers_.end(), node);
    if (ready && it == known_peers_.end()) known_peers_.push_back(node);
    if (ready) announced_at_[node] = uv_now(loop_);
    if (gone && it != known_peers_.end()) known_peers_.erase(it);
    if (gone) announced_at_.erase(node);
    return;
  }
  if (channel == presence_channel_) {
    rapidjson::Document doc;
    doc.Parse(payload.data(), payload.size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("user_id") || !doc["user_id"].IsString() ||
        !doc.HasMember("status") || !doc["status"].IsString()) {
      stats_.invalid_envelopes.add();
      return;
    }
    std::string_view user(doc["user_id"].GetString(), doc["user_id"].GetStringLength());
    std::string_view status = doc["status"].GetString();
    std::string_view ts = doc.HasMember("timestamp") && doc["timestamp"].IsString()
                              ? std::string_view(doc["timestamp"].GetString(), doc["timestamp"].GetStringLength())
                              : std::string_view();
    if (status == "online" || status == "offline") sink_.presence_changed(user, status == "online", ts);
    return;
  }
  std::optional<Envelope> e = decode_envelope(payload);
  if (!e) {
    stats_.invalid_envelopes.add();
    return;
  }
  if (e->origin == opts_.node_id) return;  // our own: delivered locally already
  stats_.received.add();
  // One frame per publication, shared by every local recipient.
  FramePtr frame = make_text_frame(e->frame);
  if (e->kind == EnvelopeKind::kRoom)
    sink_.deliver_to_room(e->target, std::move(frame));
  else
    sink_.deliver_to_user(e->target, std::move(frame));
}

// --------------------------------------------------------------- publish

void RedisBackplane::publish_to_room(std::string_view room, const FramePtr& frame, Done done) {
  publish(room_channel(room), encode_envelope(opts_.node_id, EnvelopeKind::kRoom, room, frame->payload()),
          std::move(done));
}

void RedisBackplane::publish_to_user(std::string_view user, const FramePtr& frame, Done done) {
  publish(user_channel(user), encode_envelope(opts_.node_id, EnvelopeKind::kUser, user, frame->payload()),
          std::move(done));
}

void RedisBackplane::publish(std::string channel, std::string payload, Done done) {
  if (shut_down_) {
    if (done) done(false);
    return;
  }
  stats_.published.add();
  if (commands_.up() && outbox_.empty() && !draining_) return send_publish(channel, payload, std::move(done));
  // Redis is away: keep it, in order, within the buffer; beyond, drop it
  // and say so (counted, and the sender's ack becomes an error).
  if (outbox_bytes_ + payload.size() > opts_.buffer_bytes) {
    stats_.dropped.add();
    if (done) done(false);
    return;
  }
  outbox_bytes_ += payload.size();
  stats_.buffered_bytes.set(outbox_bytes_);
  outbox_.push_back(Pending{std::move(channel), std::move(payload), std::move(done)});
}

void RedisBackplane::flush_publishes() {
  if (publishes_unflushed_) {
    publishes_unflushed_ = false;
    commands_.write_now();
  }
}

void RedisBackplane::send_publish(const std::string& channel, const std::string& payload, Done done) {
  auto* wait = done ? new PublishWait{&stats_, std::move(done)} : nullptr;
  publishes_unflushed_ = true;
  if (!commands_.command({"PUBLISH", channel, payload}, on_publish_reply, wait)) {
    stats_.dropped.add();
    if (wait) {
      wait->done(false);
      delete wait;
    }
  }
}

// -------------------------------------------------------------- presence

void RedisBackplane::local_user_online(std::string_view user) {
  local_users_.emplace(user);
  if (commands_.up()) run_presence_script(true, user);
}

void RedisBackplane::local_user_offline(std::string_view user) {
  local_users_.erase(std::string(user));
  if (commands_.up()) run_presence_script(false, user);
}

void RedisBackplane::run_presence_script(bool online, std::string_view user) {
  std::string user_key = opts_.prefix + "presence:user:" + std::string(user);
  std::string node_key = opts_.prefix + "node_users:" + opts_.node_id;
  std::string ts = protocol::now_timestamp();
  if (online) {
    std::string nodes_key = opts_.prefix + "nodes";
    commands_.command({"EVAL", presence_scripts::kOnline, "3", user_key, node_key, nodes_key, opts_.node_id, user,
                       presence_channel_, ts},
                      on_ignored_reply, nullptr);
  } else {
    commands_.command({"EVAL", presence_scripts::kOffline, "2", user_key, node_key, opts_.node_id, user,
                       presence_channel_, ts},
                      on_ignored_reply, nullptr);
  }
}

void RedisBackplane::heartbeat() {
  if (!commands_.up()) return;
  if (heartbeat_outstanding_) {
    // No answer to a heartbeat for a third of the TTL: Redis is hung or the
    // path to it is. Start over rather than queue forever.
    if (uv_now(loop_) - heartbeat_sent_ms_ < opts_.node_ttl_ms / 3) return;
    heartbeat_outstanding_ = false;
    commands_.reset("redis did not answer the heartbeat");
    subscriptions_.reset("redis did not answer the heartbeat");
    return;
  }
  heartbeat_outstanding_ = true;
  heartbeat_sent_ms_ = uv_now(loop_);
  commands_.command({"SET", opts_.prefix + "node:" + opts_.node_id, "1", "PX", std::to_string(opts_.node_ttl_ms)},
                    [](redisAsyncContext*, void* r, void* privdata) {
                      if (r) static_cast<RedisBackplane*>(privdata)->heartbeat_outstanding_ = false;
                    },
                    this);
  commands_.command({"SADD", opts_.prefix + "nodes", opts_.node_id}, on_ignored_reply, nullptr);
  mark_ready();
  refresh_peers();
  reap_dead_nodes();
}

void RedisBackplane::refresh_peers() {
  if (!commands_.up()) return;
  commands_.command({"SMEMBERS", opts_.prefix + "nodes"},
                    [](redisAsyncContext*, void* r, void* privdata) {
                      auto* self = static_cast<RedisBackplane*>(privdata);
                      auto* reply = static_cast<redisReply*>(r);
                      // Frozen while draining: after a Redis restart the set
                      // fills again only as peers come back.
                      if (!reply || reply->type != REDIS_REPLY_ARRAY || self->draining_ || self->shut_down_) return;
                      // A reply may predate an announcement that arrived on
                      // the other link: recent announcements are kept too.
                      uint64_t now = uv_now(self->loop_);
                      self->known_peers_.clear();
                      for (size_t i = 0; i < reply->elements; ++i)
                        if (str(reply->element[i]) != self->opts_.node_id)
                          self->known_peers_.emplace_back(str(reply->element[i]));
                      for (auto it = self->announced_at_.begin(); it != self->announced_at_.end();) {
                        if (now - it->second > kAnnouncementMemoryMs) {
                          it = self->announced_at_.erase(it);
                          continue;
                        }
                        if (std::find(self->known_peers_.begin(), self->known_peers_.end(), it->first) ==
                            self->known_peers_.end())
                          self->known_peers_.push_back(it->first);
                        ++it;
                      }
                    },
                    this);
}

void RedisBackplane::reap_dead_nodes() {
  commands_.command({"EVAL", presence_scripts::kReapDeadNodes, "0", opts_.prefix, protocol::now_timestamp(),
                     opts_.node_id},
                    on_ignored_reply, nullptr);
}

void RedisBackplane::mark_ready() {
  // "This node's subscriptions are all in place": what peers wait for
  // before sending what they held during an outage.
  if (!commands_.up() || !subscriptions_.up() || !sub_inflight_.empty()) return;
  commands_.command({"SET", opts_.prefix + "ready:" + opts_.node_id, "1", "PX", std::to_string(opts_.node_ttl_ms)},
                    on_ignored_reply, nullptr);
  if (!announced_) {
    announced_ = true;
    commands_.command({"PUBLISH", control_channel_, "ready " + opts_.node_id}, on_ignored_reply, nullptr);
  }
}

void RedisBackplane::start_drain() {
  draining_ = true;
  drain_started_ms_ = uv_now(loop_);
  ready_check_outstanding_ = false;
  uv_timer_start(
      drain_timer_, [](uv_timer_t* t) { static_cast<RedisBackplane*>(t->data)->check_peers_ready(); }, 0,
      kDrainPollMs);
}

void RedisBackplane::check_peers_ready() {
  if (!commands_.up() || ready_check_outstanding_) return;
  if (known_peers_.empty() || uv_now(loop_) - drain_started_ms_ >= kMaxDrainWaitMs) return flush_outbox();
  std::vector<std::string> keys;
  for (const auto& p : known_peers_) keys.push_back(opts_.prefix + "ready:" + p);
  std::vector<std::string_view> argv{"MGET"};
  for (const auto& k : keys) argv.push_back(k);
  ready_check_outstanding_ = true;
  commands_.command(argv,
                    [](redisAsyncContext*, void* r, void* privdata) {
                      auto* self = static_cast<RedisBackplane*>(privdata);
                      auto* reply = static_cast<redisReply*>(r);
                      if (!reply || self->shut_down_) return;
                      self->ready_check_outstanding_ = false;
                      if (reply->type != REDIS_REPLY_ARRAY || !self->draining_) return;
                      for (size_t i = 0; i < reply->elements; ++i)
                        if (reply->element[i]->type == REDIS_REPLY_NIL) return;
                      self->flush_outbox();
                    },
                    this);
}

void RedisBackplane::flush_outbox() {
  uv_timer_stop(drain_timer_);
  draining_ = false;
  // Publishes held during the outage go out first, in order.
  while (!outbox_.empty() && commands_.up()) {
    Pending p = std::move(outbox_.front());
    outbox_.pop_front();
    outbox_bytes_ -= p.payload.size();
    send_publish(p.channel, p.payload, std::move(p.done));
  }
  stats_.buffered_bytes.set(outbox_bytes_);
  if (!outbox_.empty()) draining_ = true;  // the link fell again: next time
}

void RedisBackplane::reconcile_presence() {
  // This node's local connections are the truth for its own entries: add
  // what is missing (online events where it is the user's first node), then
  // remove what Redis still lists but this node no longer has.
  for (const auto& user : local_users_) run_presence_script(true, user);
  commands_.command({"SMEMBERS", opts_.prefix + "node_users:" + opts_.node_id},
                    [](redisAsyncContext*, void* r, void* privdata) {
                      auto* self = static_cast<RedisBackplane*>(privdata);
                      auto* reply = static_cast<redisReply*>(r);
                      if (!reply || reply->type != REDIS_REPLY_ARRAY || self->shut_down_) return;
                      for (size_t i = 0; i < reply->elements; ++i) {
                        std::string user(str(reply->element[i]));
                        if (!self->local_users_.count(user)) self->run_presence_script(false, user);
                      }
                    },
                    this);
}

// ----------------------------------------------------------------- state

void RedisBackplane::commands_up() {
  heartbeat_outstanding_ = false;
  heartbeat();
  reconcile_presence();
  if (!outbox_.empty()) start_drain();
  update_state();
}

void RedisBackplane::commands_down(const std::string& why) {
  heartbeat_outstanding_ = false;
  ready_check_outstanding_ = false;
  uv_timer_stop(drain_timer_);
  log(1, "redis commands link down: %s", why.c_str());
  update_state();
}

void RedisBackplane::subscriptions_up() {
  subscribed_.clear();
  sub_inflight_.clear();
  unsub_inflight_.clear();
  queue_unsub_.clear();
  queue_sub_ = wanted_;
  queue_sub_.insert(presence_channel_);
  queue_sub_.insert(control_channel_);
  announced_ = false;
  flush_subscriptions();
  update_state();
}

void RedisBackplane::subscriptions_down(const std::string& why) {
  subscribed_.clear();
  sub_inflight_.clear();
  unsub_inflight_.clear();
  log(1, "redis subscriptions link down: %s", why.c_str());
  update_state();
}

void RedisBackplane::update_state() {
  bool connected = commands_.up() && subscriptions_.up();
  stats_.connected.set(connected ? 1 : 0);
  if (connected == was_connected_) return;
  was_connected_ = connected;
  if (connected) {
    if (ever_connected_) stats_.reconnects.add();
    ever_connected_ = true;
    log(1, "backplane redis: connected (node %s, %zu channels, %zu bytes buffered)", opts_.node_id.c_str(),
        wanted_.size(), outbox_bytes_);
  } else {
    log(0, "backplane redis: reconnecting (local delivery continues; buffering up to %zu bytes)",
        opts_.buffer_bytes);
  }
}

void RedisBackplane::log(int level, const char* fmt, ...) const {
  if (level > opts_.log_level) return;
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "rtcore: %s\n", line);
}

}  // namespace rtcore
