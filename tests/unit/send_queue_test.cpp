#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "buffer/frame.hpp"
#include "buffer/send_queue.hpp"

using rtcore::FramePtr;
using rtcore::make_text_frame;
using rtcore::SendQueue;

TEST(Frame, HeaderLengthsFollowRfc6455) {
  EXPECT_EQ(make_text_frame("abc")->size(), 2u + 3);
  EXPECT_EQ(make_text_frame(std::string(125, 'x'))->size(), 2u + 125);
  EXPECT_EQ(make_text_frame(std::string(126, 'x'))->size(), 4u + 126);
  EXPECT_EQ(make_text_frame(std::string(65536, 'x'))->size(), 10u + 65536);
  FramePtr f = make_text_frame(std::string(300, 'y'));
  EXPECT_EQ(f->data()[0], 0x81);
  EXPECT_EQ(f->data()[1], 126);
  EXPECT_EQ((f->data()[2] << 8) | f->data()[3], 300);
  EXPECT_EQ(f->payload(), std::string(300, 'y'));
}

TEST(SendQueue, SharedFrameIsNotCopiedUntilWritten) {
  FramePtr f = make_text_frame("hello");
  SendQueue a, b;
  a.push(f);
  b.push(f);
  EXPECT_EQ(a.bytes(), 7u);
  EXPECT_EQ(b.frames(), 1u);
}

TEST(SendQueue, CoalescesWholeFramesWithinBudget) {
  SendQueue q;
  for (int i = 0; i < 10; ++i) q.push(make_text_frame(std::string(8, char('a' + i))));
  std::vector<unsigned char> out(q.next_copy_size(25));
  size_t n = q.take_into(out.data(), 25);
  EXPECT_EQ(n, 20u);  // two 10-byte frames fit, the third would not
  EXPECT_EQ(q.frames(), 8u);
  EXPECT_EQ(q.bytes(), 80u);
  EXPECT_EQ(out[2], 'a');
  EXPECT_EQ(out[12], 'b');
}

TEST(SendQueue, OversizedFrameGoesOutAlone) {
  SendQueue q;
  q.push(make_text_frame(std::string(1000, 'z')));
  q.push(make_text_frame("x"));
  std::vector<unsigned char> out(q.next_copy_size(100));
  EXPECT_EQ(out.size(), 1004u);
  EXPECT_EQ(q.take_into(out.data(), 100), 1004u);
  EXPECT_EQ(q.frames(), 1u);
}
