#include "backplane/in_process.hpp"

#include "protocol/timestamp.hpp"

namespace rtcore {

void InProcessBackplane::local_user_online(std::string_view user) {
  sink_.presence_changed(user, true, protocol::now_timestamp());
}

void InProcessBackplane::local_user_offline(std::string_view user) {
  sink_.presence_changed(user, false, protocol::now_timestamp());
}

}  // namespace rtcore
