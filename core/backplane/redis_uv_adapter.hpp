// Plugs a hiredis async context into a libuv loop. Our own, because the
// packaged adapters/libuv.h ignores the poll status: a refused connect never
// reaches the connect callback and the client hangs forever (STACK-NOTES).
// It also reads for hiredis (fed to the reader in 1 KiB pieces) and makes
// the context's reader build its replies in an arena (redis_reply_arena.hpp).
#pragma once

#include <uv.h>

struct redisAsyncContext;

namespace rtcore {

// Attaches ac to loop; returns 0 or a libuv error. The adapter frees itself
// when hiredis calls its cleanup hook (when the context is freed).
int attach_redis_to_uv(redisAsyncContext* ac, uv_loop_t* loop);

}  // namespace rtcore
