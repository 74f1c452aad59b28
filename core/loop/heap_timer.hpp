// uv timers on the heap, for objects that may be destroyed before the loop
// has run the timers' close callbacks: the timer frees itself once closed.
#pragma once

#include <uv.h>

namespace rtcore {

inline uv_timer_t* new_heap_timer(uv_loop_t* loop, void* data) {
  auto* t = new uv_timer_t;
  uv_timer_init(loop, t);
  t->data = data;
  return t;
}

// Stops and closes t (freed in its close callback) and nulls the pointer.
inline void close_heap_timer(uv_timer_t*& t) {
  if (!t) return;
  uv_timer_stop(t);
  uv_close(reinterpret_cast<uv_handle_t*>(t),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  t = nullptr;
}

}  // namespace rtcore
