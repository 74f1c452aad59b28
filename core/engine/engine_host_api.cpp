#include "engine/engine_core.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "auth/credentials.hpp"
#include "backplane/in_process.hpp"
#include "backplane/redis_backplane.hpp"
#include "common/guard.hpp"
#include "common/log.hpp"
#include "engine/engine_internal.hpp"
#include "metrics/render.hpp"
#include "protocol/server_message.hpp"
#include "protocol/timestamp.hpp"
#include "protocol/validate.hpp"

namespace rtcore {

using namespace engine_detail;

// ------------------------------------------------------ server-side API

void EngineCore::send_to_user(std::string_view user, const FramePtr& frame) {
  deliver_local_user(user, frame, metrics::FrameKind::kHost);
  backplane_->publish_to_user(user, frame, {});
}

void EngineCore::send_error_frame(ConnId conn, const FramePtr& frame) {
  if (conns_.find(conn)) stats_.errors_sent.add();
  send_to_connection(conn, frame);
}

void EngineCore::send_to_connection(ConnId conn, const FramePtr& frame) {
  if (Connection* c = conns_.find(conn))
    enqueue(*c, frame);
  else
    count_drops(metrics::DropReason::kNoConnection);
}

void EngineCore::broadcast(std::string_view room, const FramePtr& frame) {
  deliver_local_room(room, frame, metrics::FrameKind::kHost);
  backplane_->publish_to_room(room, frame, {});
}

void EngineCore::join(ConnId conn, std::string_view room) {
  Connection* c = conns_.find(conn);
  if (!c || c->close_code || c->in_room(room)) return;
  join_room(*c, room);
}

void EngineCore::leave(ConnId conn, std::string_view room) {
  if (Connection* c = conns_.find(conn)) leave_room(*c, room);
}

void EngineCore::disconnect(ConnId conn, uint16_t code) {
  if (Connection* c = conns_.find(conn)) begin_close(*c, code, "closed by server");
}

void EngineCore::disconnect_user(std::string_view user, uint16_t code) {
  for (ConnId id : std::vector<ConnId>(hub_.user_connections(user))) disconnect(id, code);
}

// ------------------------------------------------------------- backplane

void EngineCore::deliver_to_room(std::string_view room, FramePtr frame) {
  ++messages_this_turn_;
  deliver_local_room(room, frame);
}

void EngineCore::deliver_to_user(std::string_view user, FramePtr frame) {
  ++messages_this_turn_;  // like deliver_to_room: a stream of them is coalesced too
  deliver_local_user(user, frame);
}

void EngineCore::presence_changed(std::string_view user, bool online, std::string_view timestamp) {
  if (hooks_.on_presence) hooks_.on_presence(user, online, timestamp);
}

void EngineCore::room_presence_changed(std::string_view room, std::string_view user, bool joined,
                                       std::string_view timestamp) {
  const std::vector<ConnId>& watchers = hub_.room_watchers(room);
  if (watchers.empty()) return;
  ++messages_this_turn_;
  // One frame per event, shared by every watcher. A connection is not told
  // about its own user: it knows, and its own join's event may be published
  // before its subscription is in place, which would make it arrive or not.
  FramePtr frame = make_text_frame(protocol::encode_room_presence_event(room, user, joined, timestamp));
  for (ConnId id : watchers)
    if (Connection* c = conns_.find(id); c && c->user_id != user)
      for_connection(*c, "room presence delivery", [&] { enqueue(*c, frame); });
}

}  // namespace rtcore
