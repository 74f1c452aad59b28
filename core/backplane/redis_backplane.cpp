#include "backplane/redis_backplane.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>
#include <cstdarg>
#include <cstdio>

#include "backplane/envelope.hpp"
#include "backplane/wire.hpp"
#include "common/log.hpp"
#include "protocol/timestamp.hpp"

namespace rtcore {
namespace {

// A publish whose ack someone waits for.
void finish_publish(BackplaneStats& stats, const Backplane::Done& done, redisReply* reply) {
  bool ok = reply && reply->type != REDIS_REPLY_ERROR;
  if (!ok) stats.dropped.add();
  if (done) done(ok);
}

}  // namespace

RedisBackplane::RedisBackplane(uv_loop_t* loop, RedisBackplaneOptions options, BackplaneSink& sink,
                               BackplaneStats& stats)
    : loop_(loop),
      opts_(std::move(options)),
      sink_(sink),
      stats_(stats),
      control_channel_(opts_.prefix + "control"),
      probe_channel_(opts_.prefix + "probe:" + opts_.node_id),
      commands_(
          loop, opts_.address, "commands", opts_.connect_timeout_ms, [this] { commands_up(); },
          [this](const std::string& why) { commands_down(why); }),
      subscriptions_(
          loop, opts_.address, "subscriptions", opts_.connect_timeout_ms, [this] { subscriptions_up(); },
          [this](const std::string& why) { subscriptions_down(why); }),
      liveness_(
          loop, commands_, opts_.prefix, opts_.node_id, opts_.node_ttl_ms,
          NodeLiveness::Hooks{
              [this] {
                stats_.fenced.add();
                presence_.reconcile();
              },
              [this] {
                commands_.reset("redis did not answer the heartbeat");
                subscriptions_.reset("redis did not answer the heartbeat");
              },
              [this] {
                commands_.command({"SADD", opts_.prefix + "nodes", opts_.node_id}, RedisLink::ReplyFn{});
                mark_ready();
                liveness_.refresh_peers();
                presence_.reap_dead_nodes();
                probe_.send();
              },
              [this](const char* what) { invalid(what); }}),
      presence_(commands_, opts_.prefix, opts_.node_id, sink, [this](const char* what) { invalid(what); }),
      outbox_(loop, commands_, opts_.prefix, opts_.buffer_bytes, stats, liveness_,
              [this](const std::string& channel, const std::string& payload, Done done) {
                send_publish(channel, payload, std::move(done));
              }),
      subs_(
          loop, subscriptions_, {presence_.channel(), control_channel_, probe_channel_},
          [this](std::string_view channel, std::string_view payload) { on_message(channel, payload); },
          [this](const std::string& channel) { on_confirmed(channel); },
          [this](const char* what) { invalid(what); }),
      probe_(commands_, probe_channel_, opts_.node_id, std::clamp<uint32_t>(opts_.node_ttl_ms / 3, 100, 1000),
             [this](double seconds) { record_round_trip(seconds); }) {
  commands_.set_error_counter(&stats_.internal_errors);
  subscriptions_.set_error_counter(&stats_.internal_errors);
  if (opts_.history.size > 0)
    history_ = std::make_unique<RedisHistory>(
        commands_, outbox_, opts_.prefix, opts_.node_id, opts_.history, stats_.history,
        [this](const char* what) { invalid(what); }, [this] { publishes_unflushed_ = true; });
}

RedisBackplane::~RedisBackplane() {
  shutdown();
}

void RedisBackplane::start() {
  started_ = true;
  subs_.start();
  outbox_.start();
  liveness_.start();
  log(1, "connecting to redis (node %s)", opts_.node_id.c_str());
  commands_.start();
  subscriptions_.start();
}

void RedisBackplane::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  // Leave the cluster's presence and liveness at once, so nobody waits for
  // the TTL (best effort: written on the next loop turn).
  presence_.shutdown();
  liveness_.shutdown();
  if (history_) history_->shutdown();
  outbox_.shutdown();
  subs_.shutdown();
  commands_.stop_gracefully();
  subscriptions_.stop();
  stats_.connected.set(0);
}

void RedisBackplane::invalid(const char* what) {
  stats_.invalid_envelopes.add();
  uint64_t skipped = 0;
  if (invalid_log_.should_log(uv_now(loop_), &skipped))
    log(0, "dropped invalid input from redis: %s (%llu more since the last report)", what,
        static_cast<unsigned long long>(skipped));
}

// --------------------------------------------------------------- channels

std::string RedisBackplane::room_channel(std::string_view room) const {
  return opts_.prefix + "room:" + std::string(room);
}

std::string RedisBackplane::user_channel(std::string_view user) const {
  return opts_.prefix + "user:" + std::string(user);
}

void RedisBackplane::room_interest(std::string_view room, bool wanted) {
  if (!shut_down_) subs_.want(room_channel(room), wanted);
}

void RedisBackplane::user_interest(std::string_view user, bool wanted) {
  if (!shut_down_) subs_.want(user_channel(user), wanted);
}

void RedisBackplane::room_presence_interest(std::string_view room, bool wanted) {
  if (!shut_down_) subs_.want(presence_.room_presence_channel(room), wanted);
}

void RedisBackplane::when_room_presence_ready(std::string_view room, Done done) {
  if (shut_down_) {
    if (done) done(false);
    return;
  }
  subs_.when_ready(presence_.room_presence_channel(room), std::move(done));
}

void RedisBackplane::when_room_ready(std::string_view room, Done done) {
  if (shut_down_) {
    if (done) done(false);
    return;
  }
  subs_.when_ready(room_channel(room), std::move(done));
}

void RedisBackplane::on_confirmed(const std::string& channel) {
  // Once we hear announcements, list the nodes already there: together the
  // two leave no gap in which a peer goes unnoticed.
  if (channel == control_channel_) liveness_.refresh_peers();
  // Readiness needs a round trip on this channel: the first one at once.
  if (channel == probe_channel_) probe_.send(true);
  // A stream's channel (again, after a reset of the subscription link):
  // what was published while it was not subscribed may have been missed.
  if (history_ && subs_.wants(channel)) {
    wire::Channel ch = wire::classify_channel(channel, opts_.prefix);
    if (ch.kind == wire::ChannelKind::kRoom) sink_.stream_subscribed(StreamKind::kRoom, ch.target);
    if (ch.kind == wire::ChannelKind::kUser) sink_.stream_subscribed(StreamKind::kUser, ch.target);
  }
  if (subs_.settled()) mark_ready();
}

void RedisBackplane::on_message(std::string_view channel, std::string_view payload) {
  wire::Channel ch = wire::classify_channel(channel, opts_.prefix);
  switch (ch.kind) {
    case wire::ChannelKind::kControl: return liveness_.on_control_message(payload);
    case wire::ChannelKind::kPresence: return presence_.on_presence_message(payload);
    case wire::ChannelKind::kProbe:
      if (!probe_.on_message(ch.target, payload)) invalid("a malformed probe");
      return;
    case wire::ChannelKind::kRoomPresence: return presence_.on_room_presence_message(ch.target, payload);
    case wire::ChannelKind::kRoom:
    case wire::ChannelKind::kUser: break;
    case wire::ChannelKind::kOther: return invalid("a message on a channel this node does not use");
  }
  // Views into payload, which outlives this call: nothing is copied but
  // the frame, once, into the shared frame below.
  std::optional<EnvelopeView> e = wire::decode_publication_view(ch, payload);
  if (!e) return invalid("a malformed publication");
  // A history message: every node, the publisher too, delivers it from
  // here (the one ordered source per stream). Plain ones: our own were
  // delivered locally already.
  bool stream = e->offset != 0 && history_;
  if (!stream && e->origin == opts_.node_id) return;
  bool own = e->origin == opts_.node_id;
  if (!own) stats_.received.add();
  if (e->sent_ms != 0 && !own) {
    auto now = static_cast<uint64_t>(protocol::now_unix_ms());
    stats_.delivery_age.observe(now > e->sent_ms ? static_cast<double>(now - e->sent_ms) / 1000.0 : 0.0);
  }
  // One frame per publication, shared by every local recipient.
  FramePtr frame = make_text_frame(e->frame);
  if (stream) {
    stats_.history.stream_deliveries.add();
    return sink_.deliver_stream(e->kind == EnvelopeKind::kRoom ? StreamKind::kRoom : StreamKind::kUser,
                                e->target, std::move(frame), e->epoch, e->offset);
  }
  if (e->kind == EnvelopeKind::kRoom)
    sink_.deliver_to_room(e->target, std::move(frame));
  else
    sink_.deliver_to_user(e->target, std::move(frame));
}

// --------------------------------------------------------------- publish

void RedisBackplane::publish_to_room(std::string_view room, const FramePtr& frame, Done done) {
  publish_envelope(EnvelopeKind::kRoom, room, frame->payload(), std::move(done));
}

void RedisBackplane::publish_to_user(std::string_view user, const FramePtr& frame, Done done) {
  publish_envelope(EnvelopeKind::kUser, user, frame->payload(), std::move(done));
}

namespace {

void append_bulk_header(std::string& out, size_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  (void)ec;
  out += '$';
  out.append(digits, end);
  out += "\r\n";
}

}  // namespace

void RedisBackplane::publish_envelope(EnvelopeKind kind, std::string_view target, std::string_view frame,
                                      Done done) {
  auto sent_ms = static_cast<uint64_t>(protocol::now_unix_ms());
  std::string_view infix = kind == EnvelopeKind::kRoom ? "room:" : "user:";
  if (shut_down_ || !commands_.up() || outbox_.holding())
    return publish(kind == EnvelopeKind::kRoom ? room_channel(target) : user_channel(target),
                   encode_envelope(opts_.node_id, kind, target, frame, sent_ms), std::move(done));
  stats_.published.add();
  // PUBLISH channel envelope, as RESP.
  size_t envelope = envelope_size(opts_.node_id, kind, target, frame, sent_ms);
  resp_.clear();
  resp_ += "*3\r\n$7\r\nPUBLISH\r\n";
  append_bulk_header(resp_, opts_.prefix.size() + infix.size() + target.size());
  resp_ += opts_.prefix;
  resp_ += infix;
  resp_ += target;
  resp_ += "\r\n";
  append_bulk_header(resp_, envelope);
  size_t at = resp_.size();
  resp_.resize(at + envelope);
  write_envelope(resp_.data() + at, opts_.node_id, kind, target, frame, sent_ms);
  resp_ += "\r\n";
  send_resp(std::move(done));
}

void RedisBackplane::publish(std::string channel, std::string payload, Done done) {
  if (shut_down_) {
    if (done) done(false);
    return;
  }
  stats_.published.add();
  if (commands_.up() && !outbox_.holding()) return send_publish(channel, payload, std::move(done));
  // Redis is away: keep it, in order, within the buffer; beyond, drop it
  // and say so (counted, and the sender's ack becomes an error).
  outbox_.hold(std::move(channel), std::move(payload), std::move(done));
}

void RedisBackplane::flush_publishes() {
  if (publishes_unflushed_) {
    publishes_unflushed_ = false;
    commands_.write_now();
  }
}

void RedisBackplane::send_publish(const std::string& channel, const std::string& payload, Done done) {
  resp_.clear();
  resp_ += "*3\r\n$7\r\nPUBLISH\r\n";
  append_bulk_header(resp_, channel.size());
  resp_ += channel;
  resp_ += "\r\n";
  append_bulk_header(resp_, payload.size());
  resp_ += payload;
  resp_ += "\r\n";
  send_resp(std::move(done));
}

void RedisBackplane::send_resp(Done done) {
  publishes_unflushed_ = true;
  bool sent = done ? commands_.formatted_command(
                         resp_, [this, done](redisReply* reply) { finish_publish(stats_, done, reply); })
                   : commands_.formatted_command(resp_, RedisLink::ReplyFn{});
  // hiredis copied it; a big one's memory is not kept for the next.
  if (resp_.capacity() > 64 * 1024) std::string().swap(resp_);
  if (!sent) {
    stats_.dropped.add();
    if (done) done(false);
  }
}

// ----------------------------------------------------------------- state

Readiness RedisBackplane::readiness() const {
  if (shut_down_) return {false, "redis: shut down"};
  if (!commands_.up() || !subscriptions_.up()) return {false, "redis: links down"};
  if (!subs_.confirmed()) return {false, "redis: subscriptions pending"};
  if (!probe_.fresh())
    return {false, "redis: no probe round trip for " + std::to_string(probe_.age_ms()) + " ms"};
  return {};
}

void RedisBackplane::mark_ready() {
  // "This node's subscriptions are all in place": what peers wait for
  // before sending what they held during an outage.
  if (!commands_.up() || !subscriptions_.up() || !subs_.settled()) return;
  commands_.command(
      {"SET", opts_.prefix + "ready:" + opts_.node_id, "1", "PX", std::to_string(opts_.node_ttl_ms)},
      RedisLink::ReplyFn{});
  if (!announced_) {
    announced_ = true;
    commands_.command(
        {"PUBLISH", control_channel_, wire::encode_control(wire::ControlKind::kReady, opts_.node_id)},
        RedisLink::ReplyFn{});
  }
}

void RedisBackplane::commands_up() {
  // First on the new connection: the history's scripts (order of appends).
  if (history_) history_->link_up(commands_);
  liveness_.link_up();
  presence_.reconcile();
  outbox_.link_up();
  update_state();
}

void RedisBackplane::commands_down(const std::string& why) {
  liveness_.link_down();
  outbox_.link_down();
  log(1, "redis commands link down: %s", why.c_str());
  update_state();
}

void RedisBackplane::subscriptions_up() {
  announced_ = false;
  subs_.link_up();
  update_state();
}

void RedisBackplane::subscriptions_down(const std::string& why) {
  subs_.link_down();
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
    log(1, "backplane redis: connected (node %s, %zu channels)", opts_.node_id.c_str(), subs_.wanted());
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
  log::write(static_cast<log::Level>(level), "redis_backplane", line);
}

}  // namespace rtcore
