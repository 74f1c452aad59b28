#include "presence/in_process_presence.hpp"

#include "protocol/timestamp.hpp"

namespace rtcore {

void InProcessPresence::local_user_online(std::string_view user) {
  if (!shut_down_) sink_.presence_changed(user, true, protocol::now_timestamp());
}

void InProcessPresence::local_user_offline(std::string_view user) {
  if (!shut_down_) sink_.presence_changed(user, false, protocol::now_timestamp());
}

}  // namespace rtcore
