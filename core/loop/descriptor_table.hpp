// Reserves the process's file descriptor table up front.
//
// Linux grows a process's descriptor table by doubling it as descriptors are
// opened (64, 128, 256, ... slots; /proc/PID/status shows it as FDSize). In a
// process with more than one thread every doubling waits for an RCU grace
// period before it frees the old table (expand_fdtable() calls
// synchronize_rcu()): measured here at 10-15 ms each, with the loop thread
// blocked inside accept(). An engine accepting its first 5,000 connections
// stalled five times that way (256, 512, ... 4,096), which was most of the
// handshake p99 of a connection storm. A table never shrinks, so one
// descriptor duplicated high and closed again reserves it once per process.
#pragma once

#include <cstddef>

namespace rtcore {

// The default (an engine without a connection limit): 65,536 slots, 8 bytes
// of kernel memory each (512 KiB).
inline constexpr size_t kDescriptorReserve = size_t{1} << 16;
// Descriptors a process needs besides its connections (Redis links,
// listeners, event descriptors, the host's own files): an engine with a
// connection limit reserves that limit plus this.
inline constexpr size_t kDescriptorHeadroom = 1024;

// Grows the table to hold min(max_slots, soft RLIMIT_NOFILE) descriptors and
// returns that number (0 when nothing was done: no limit known, or the
// duplicate could not be made). Descriptors already open are not touched;
// the one it makes is closed before it returns. Any thread; cheap once the
// table is that large already (one fcntl and one close).
size_t reserve_descriptor_table(size_t max_slots = kDescriptorReserve);

}  // namespace rtcore
