// Connection ids: a slot index and a generation in 64 bits (as nng's typed
// handles). A stale id fails its lookup instead of reaching a reused slot.
#pragma once

#include <cstdint>

namespace rtcore {

using ConnId = uint64_t;

inline constexpr ConnId make_conn_id(uint32_t slot, uint32_t generation) {
  return (static_cast<uint64_t>(generation) << 32) | slot;
}
inline constexpr uint32_t conn_id_slot(ConnId id) {
  return static_cast<uint32_t>(id);
}
inline constexpr uint32_t conn_id_generation(ConnId id) {
  return static_cast<uint32_t>(id >> 32);
}

}  // namespace rtcore
