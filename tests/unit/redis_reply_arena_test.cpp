// ReplyArena (backplane/redis_reply_arena.hpp) against hiredis' own reply
// objects: random RESP streams fed to two readers in random pieces give the
// same replies, the same errors, and the arena holds little after each.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <random>
#include <string>

#include "backplane/redis_reply_arena.hpp"

namespace rtcore {
namespace {

// One random reply in RESP; depth bounded below hiredis' nesting limit.
void random_reply(std::mt19937& rng, int depth, std::string& out) {
  int kind = std::uniform_int_distribution<int>(0, depth >= 4 ? 5 : 7)(rng);
  auto blob = [&](size_t max) {
    size_t n = std::uniform_int_distribution<size_t>(0, max)(rng);
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng());  // any bytes, CRLF included
    return s;
  };
  switch (kind) {
    case 0:
    case 1: {
      size_t max = rng() % 20 == 0 ? 70000 : 300;
      std::string s = blob(max);
      out += "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
      break;
    }
    case 2: out += ":" + std::to_string(static_cast<long long>(rng()) - (1ll << 31)) + "\r\n"; break;
    case 3: out += "+OK " + std::to_string(rng() % 1000) + "\r\n"; break;
    case 4: out += "-ERR something " + std::to_string(rng() % 1000) + "\r\n"; break;
    case 5: out += rng() % 2 ? "$-1\r\n" : "*-1\r\n"; break;
    default: {
      int n = std::uniform_int_distribution<int>(0, 6)(rng);
      out += "*" + std::to_string(n) + "\r\n";
      for (int i = 0; i < n; ++i) random_reply(rng, depth + 1, out);
    }
  }
}

::testing::AssertionResult same(const redisReply* a, const redisReply* b) {
  if (a->type != b->type) return ::testing::AssertionFailure() << "type " << a->type << " vs " << b->type;
  switch (a->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      if (std::string(a->str, a->len) != std::string(b->str, b->len) || b->str[b->len] != '\0')
        return ::testing::AssertionFailure() << "string of " << a->len << " bytes differs";
      break;
    case REDIS_REPLY_INTEGER:
      if (a->integer != b->integer) return ::testing::AssertionFailure() << "integer";
      break;
    case REDIS_REPLY_ARRAY:
      if (a->elements != b->elements) return ::testing::AssertionFailure() << "elements";
      for (size_t i = 0; i < a->elements; ++i)
        if (auto r = same(a->element[i], b->element[i]); !r) return r;
      break;
    default: break;
  }
  return ::testing::AssertionSuccess();
}

struct Readers {
  redisReader* plain = redisReaderCreate();
  redisReader* arena_reader = redisReaderCreate();
  ReplyArena arena;
  Readers() { arena.install(arena_reader); }
  ~Readers() {
    redisReaderFree(plain);
    redisReaderFree(arena_reader);
  }
};

TEST(ReplyArena, RandomRepliesInRandomPiecesMatchHiredisOwnObjects) {
  std::mt19937 rng(20261202);
  for (int round = 0; round < 300; ++round) {
    Readers r;
    std::string stream;
    int replies = std::uniform_int_distribution<int>(1, 40)(rng);
    for (int i = 0; i < replies; ++i) random_reply(rng, 0, stream);
    int got = 0;
    for (size_t off = 0; off < stream.size();) {
      size_t len = std::min(stream.size() - off, size_t(1 + rng() % 3000));
      ASSERT_EQ(redisReaderFeed(r.plain, stream.data() + off, len), REDIS_OK);
      ASSERT_EQ(redisReaderFeed(r.arena_reader, stream.data() + off, len), REDIS_OK);
      off += len;
      for (;;) {
        void *a = nullptr, *b = nullptr;
        ASSERT_EQ(redisReaderGetReply(r.plain, &a), REDIS_OK);
        ASSERT_EQ(redisReaderGetReply(r.arena_reader, &b), REDIS_OK);
        ASSERT_EQ(a == nullptr, b == nullptr) << "round " << round;
        if (!a) break;
        EXPECT_TRUE(same(static_cast<redisReply*>(a), static_cast<redisReply*>(b))) << "round " << round;
        freeReplyObject(a);
        r.arena_reader->fn->freeObject(b);
        EXPECT_LE(r.arena.held(), 4096u);  // a big reply's memory went back at once
        ++got;
      }
    }
    EXPECT_EQ(got, replies) << "round " << round;
  }
}

TEST(ReplyArena, AProtocolErrorIsTheSameErrorAndAPartialReplyIsFreedWithTheReader) {
  Readers r;
  // A partial array, then a byte that is no RESP type.
  std::string bad = "*3\r\n$3\r\nabc\r\n:12\r\n";
  for (redisReader* rd : {r.plain, r.arena_reader}) {
    ASSERT_EQ(redisReaderFeed(rd, bad.data(), bad.size()), REDIS_OK);
    void* reply = nullptr;
    ASSERT_EQ(redisReaderGetReply(rd, &reply), REDIS_OK);
    EXPECT_EQ(reply, nullptr);  // incomplete: held by the reader
  }
  // Freeing the readers (in ~Readers) frees the partial reply: ASan and
  // LeakSanitizer in CI check both kinds.
  std::string garbage = "?\r\n";
  void* a = nullptr;
  void* b = nullptr;
  ASSERT_EQ(redisReaderFeed(r.plain, garbage.data(), garbage.size()), REDIS_OK);
  ASSERT_EQ(redisReaderFeed(r.arena_reader, garbage.data(), garbage.size()), REDIS_OK);
  EXPECT_EQ(redisReaderGetReply(r.plain, &a), REDIS_ERR);
  EXPECT_EQ(redisReaderGetReply(r.arena_reader, &b), REDIS_ERR);
  EXPECT_STREQ(r.plain->errstr, r.arena_reader->errstr);
}

}  // namespace
}  // namespace rtcore
