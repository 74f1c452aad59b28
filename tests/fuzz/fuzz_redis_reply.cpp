// libFuzzer target: the reply objects hiredis' reader builds for every byte
// a node reads from Redis (core/backplane/redis_reply_arena.*).
//
//  - Any bytes, fed in pieces whose sizes come from the input, to a reader
//    with hiredis' own objects and to one with a ReplyArena: both return the
//    same replies (types, strings byte for byte and NUL-terminated, integers,
//    nesting) and fail at the same reply with the same error.
//  - After each reply is freed the arena holds at most one small chunk.
//  - A partial reply left in a reader is freed with it (LeakSanitizer).
//  Inputs declaring arrays of more than 65,536 elements are skipped (below).
#include <hiredis/hiredis.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "backplane/redis_reply_arena.hpp"
#include "fuzz_check.hpp"

namespace {

void check_same(const redisReply* a, const redisReply* b) {
  FUZZ_CHECK(a->type == b->type);
  switch (a->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      FUZZ_CHECK(a->len == b->len && std::memcmp(a->str, b->str, a->len) == 0 && b->str[b->len] == '\0');
      break;
    case REDIS_REPLY_INTEGER: FUZZ_CHECK(a->integer == b->integer); break;
    case REDIS_REPLY_ARRAY:
      FUZZ_CHECK(a->elements == b->elements);
      for (size_t i = 0; i < a->elements; ++i) check_same(a->element[i], b->element[i]);
      break;
    default: break;
  }
}

// hiredis allocates an array's element pointers when it reads the header,
// before any element arrives (both kinds of objects do): a header of a
// billion elements is gigabytes, whatever follows. Such inputs measure
// malloc, not the arena; skip them.
bool declares_huge_array(std::string_view in) {
  for (size_t i = in.find('*'); i != std::string_view::npos; i = in.find('*', i + 1)) {
    size_t n = 0, j = i + 1;
    while (j < in.size() && in[j] >= '0' && in[j] <= '9' && n <= 65536) n = n * 10 + size_t(in[j++] - '0');
    if (n > 65536) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t piece = 1 + data[0] % 64;  // piece sizes from the input
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  if (declares_huge_array(in)) return 0;
  redisReader* plain = redisReaderCreate();
  redisReader* arena_reader = redisReaderCreate();
  {
    rtcore::ReplyArena arena;
    arena.install(arena_reader);
    bool failed = false;
    for (size_t off = 0; off < in.size() && !failed;) {
      size_t len = std::min(piece, in.size() - off);
      FUZZ_CHECK(redisReaderFeed(plain, in.data() + off, len) == REDIS_OK);
      FUZZ_CHECK(redisReaderFeed(arena_reader, in.data() + off, len) == REDIS_OK);
      off += len;
      piece = 1 + (piece * 7 + len) % 97;
      for (;;) {
        void *a = nullptr, *b = nullptr;
        int ra = redisReaderGetReply(plain, &a);
        int rb = redisReaderGetReply(arena_reader, &b);
        FUZZ_CHECK(ra == rb);
        if (ra != REDIS_OK) {
          FUZZ_CHECK(std::strcmp(plain->errstr, arena_reader->errstr) == 0);
          failed = true;
          break;
        }
        FUZZ_CHECK((a == nullptr) == (b == nullptr));
        if (!a) break;
        check_same(static_cast<redisReply*>(a), static_cast<redisReply*>(b));
        freeReplyObject(a);
        arena_reader->fn->freeObject(b);
        FUZZ_CHECK(arena.held() <= 4096);
      }
    }
    redisReaderFree(arena_reader);  // before the arena: it may free a partial reply
  }
  redisReaderFree(plain);
  return 0;
}
