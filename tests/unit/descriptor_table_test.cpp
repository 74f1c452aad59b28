// reserve_descriptor_table (loop/descriptor_table.hpp): the kernel's table
// (FDSize in /proc/self/status) holds the reserved slots afterwards, the
// soft RLIMIT_NOFILE caps it, and no descriptor is left behind or touched.
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "loop/descriptor_table.hpp"

namespace {

size_t fd_table_size() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("FDSize:", 0) == 0) return std::stoul(line.substr(7));
  return 0;
}

size_t open_descriptors() {
  size_t n = 0;
  DIR* d = opendir("/proc/self/fd");
  if (!d) return 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n;
}

size_t soft_limit() {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  return rl.rlim_cur == RLIM_INFINITY ? SIZE_MAX : size_t(rl.rlim_cur);
}

TEST(DescriptorTable, ReservesTheTableAndLeavesNoDescriptorBehind) {
  size_t want = std::min<size_t>(4096, soft_limit());
  ASSERT_GT(want, 256u) << "this test needs ulimit -n above 256";
  int keep = ::dup(2);  // an open descriptor that must stay as it is
  ASSERT_GE(keep, 0);
  size_t before = open_descriptors();
  EXPECT_EQ(rtcore::reserve_descriptor_table(want), want);
  EXPECT_GE(fd_table_size(), want);
  EXPECT_EQ(open_descriptors(), before);
  EXPECT_NE(fcntl(keep, F_GETFD), -1);
  // The next descriptor is still the lowest free one, not one up high.
  int next = ::dup(2);
  EXPECT_LT(next, 256);
  ::close(next);
  ::close(keep);
  // A second call finds the table large enough already.
  EXPECT_EQ(rtcore::reserve_descriptor_table(want), want);
  EXPECT_EQ(open_descriptors(), before - 1);
}

TEST(DescriptorTable, CappedBySoftLimit) {
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_GT(saved.rlim_cur, 600u);
  rlimit low = saved;
  low.rlim_cur = 600;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  size_t got = rtcore::reserve_descriptor_table(size_t{1} << 20);
  size_t table = fd_table_size();
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_EQ(got, 600u);
  EXPECT_GE(table, 600u);
  // Nothing to reserve: at most one slot.
  EXPECT_EQ(rtcore::reserve_descriptor_table(1), 0u);
}

}  // namespace
