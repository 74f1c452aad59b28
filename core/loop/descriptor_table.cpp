#include "loop/descriptor_table.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

namespace rtcore {

size_t reserve_descriptor_table(size_t max_slots) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  size_t limit = rl.rlim_cur == RLIM_INFINITY ? max_slots : static_cast<size_t>(rl.rlim_cur);
  size_t want = std::min({max_slots, limit, static_cast<size_t>(INT_MAX)});
  if (want < 2) return 0;
  // The lowest free descriptor at or above want - 1: the kernel sizes the
  // table to hold it. Standard input may be closed in a daemon and /dev may
  // be missing in a sandbox: duplicate a descriptor of our own.
  int probe = eventfd(0, EFD_CLOEXEC);
  if (probe < 0) return 0;
  int high = fcntl(probe, F_DUPFD_CLOEXEC, static_cast<int>(want - 1));
  ::close(probe);
  if (high < 0) return 0;
  ::close(high);
  return want;
}

}  // namespace rtcore
