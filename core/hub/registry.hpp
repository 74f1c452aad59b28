// Slot map from generation-checked ids to owned objects. Lookups are an
// index and a compare; freed slots are reused with a new generation, so ids
// are never reused while the registry lives (until 2^32 reuses of a slot).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "hub/conn_id.hpp"

namespace rtcore {

template <typename T>
class Registry {
 public:
  // Stores value and returns its new id (never 0).
  ConnId insert(std::unique_ptr<T> value) {
    uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<uint32_t>(slots_.size());
      slots_.push_back(Slot{});
    }
    Slot& s = slots_[slot];
    ++s.generation;  // generations start at 1, so no id is 0
    s.value = std::move(value);
    ++size_;
    return make_conn_id(slot, s.generation);
  }

  // The object for id, or nullptr if id is stale or was never issued.
  T* find(ConnId id) const {
    uint32_t slot = conn_id_slot(id);
    if (slot >= slots_.size()) return nullptr;
    const Slot& s = slots_[slot];
    return s.generation == conn_id_generation(id) ? s.value.get() : nullptr;
  }

  // Removes and returns the object for id (nullptr if stale).
  std::unique_ptr<T> erase(ConnId id) {
    if (!find(id)) return nullptr;
    uint32_t slot = conn_id_slot(id);
    Slot& s = slots_[slot];
    auto out = std::move(s.value);
    // Bumping the generation now makes the old id stale at once.
    ++s.generation;
    free_.push_back(slot);
    --size_;
    return out;
  }

  size_t size() const { return size_; }

  template <typename F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_)
      if (s.value) f(*s.value);
  }

 private:
  struct Slot {
    uint32_t generation = 0;
    std::unique_ptr<T> value;
  };
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  size_t size_ = 0;
};

}  // namespace rtcore
