#include "backplane/redis_reply_arena.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <utility>

namespace rtcore {
namespace {

// Every object starts with its arena, so freeObject(root) finds it.
struct alignas(alignof(redisReply)) Header {
  ReplyArena* arena;
};

// A null return is hiredis' out-of-memory error (the reader fails, as with
// its own objects): nothing may throw through its C frames.
redisReply* make(const redisReadTask* task, int type) {
  auto* arena = static_cast<ReplyArena*>(task->privdata);
  void* mem = arena->allocate(sizeof(Header) + sizeof(redisReply));
  if (!mem) return nullptr;
  auto* h = new (mem) Header{arena};
  auto* r = new (h + 1) redisReply{};
  r->type = type;
  if (task->parent) static_cast<redisReply*>(task->parent->obj)->element[task->idx] = r;
  return r;
}

void* create_string(const redisReadTask* task, char* str, size_t len) {
  auto* buf = static_cast<char*>(static_cast<ReplyArena*>(task->privdata)->allocate(len + 1));
  if (!buf) return nullptr;
  redisReply* r = make(task, task->type);  // STRING, STATUS or ERROR
  if (!r) return nullptr;
  std::memcpy(buf, str, len);
  buf[len] = '\0';
  r->str = buf;
  r->len = len;
  return r;
}

void* create_array(const redisReadTask* task, int elements) {
  redisReply** element = nullptr;
  if (elements > 0) {
    size_t bytes = size_t(elements) * sizeof(redisReply*);
    element = static_cast<redisReply**>(static_cast<ReplyArena*>(task->privdata)->allocate(bytes));
    if (!element) return nullptr;
    std::memset(element, 0, bytes);
  }
  redisReply* r = make(task, REDIS_REPLY_ARRAY);
  if (!r) return nullptr;
  r->element = element;
  r->elements = size_t(std::max(elements, 0));
  return r;
}

void* create_integer(const redisReadTask* task, long long value) {
  redisReply* r = make(task, REDIS_REPLY_INTEGER);
  if (r) r->integer = value;
  return r;
}

void* create_nil(const redisReadTask* task) {
  return make(task, REDIS_REPLY_NIL);
}

void free_object(void* root) {
  (static_cast<Header*>(root) - 1)->arena->reset();
}

}  // namespace

redisReplyObjectFunctions ReplyArena::functions = {create_string, create_array, create_integer, create_nil,
                                                   free_object};

void ReplyArena::install(redisReader* reader) {
  reader->fn = &functions;
  reader->privdata = this;
}

void* ReplyArena::allocate(size_t n) {
  n = (n + 7) & ~size_t{7};
  if (chunks_.empty() || used_ + n > chunks_.back().size) {
    size_t size = std::max(kChunk, n);
    std::unique_ptr<std::byte[]> data(new (std::nothrow) std::byte[size]);
    if (!data) return nullptr;
    try {
      chunks_.push_back({std::move(data), size});
    } catch (const std::bad_alloc&) {
      return nullptr;
    }
    used_ = 0;
  }
  void* p = chunks_.back().data.get() + used_;
  used_ += n;
  return p;
}

void ReplyArena::reset() {
  // Keep one small chunk for the next reply; a big one goes back now.
  if (!chunks_.empty() && chunks_.front().size > kChunk) chunks_.clear();
  if (chunks_.size() > 1) chunks_.resize(1);
  used_ = 0;
}

size_t ReplyArena::held() const {
  size_t n = 0;
  for (const Chunk& c : chunks_) n += c.size;
  return n;
}

}  // namespace rtcore
