// Reply objects for hiredis' reader, carved from one arena per connection.
//
// hiredis builds every reply as a tree of separately allocated redisReply
// structs, strings and element arrays: nine allocations and nine frees for
// one pub/sub message (an array of three strings), a third of the
// receiving node's instructions per cross-node direct message. The reader
// parses one reply at a time and frees it (freeObject on its root) before
// it starts the next, so all of a reply can live in one arena that the
// root's free resets. The objects are ordinary redisReply trees: code
// reading replies does not change.
//
// Rules: freeObject is only ever called on a root (hiredis 0.14: read.c and
// async.c); at most one root is alive per reader. A reset keeps one small
// chunk, so a big reply's memory goes back at once.
#pragma once

#include <hiredis/read.h>

#include <cstddef>
#include <memory>
#include <vector>

namespace rtcore {

class ReplyArena {
 public:
  ReplyArena() = default;
  ReplyArena(const ReplyArena&) = delete;
  ReplyArena& operator=(const ReplyArena&) = delete;

  // Makes reader build its replies here. The arena must outlive the reader
  // (hiredis frees a partial reply when it frees the reader).
  void install(redisReader* reader);

  // Bytes held now (for tests: bounded after a reset).
  size_t held() const;

  // hiredis' object functions for readers with an arena as privdata.
  static redisReplyObjectFunctions functions;

  void* allocate(size_t n);  // 8-byte aligned, not zeroed; null when out of memory
  void reset();

 private:
  static constexpr size_t kChunk = 4096;
  struct Chunk {
    std::unique_ptr<std::byte[]> data;
    size_t size;
  };
  std::vector<Chunk> chunks_;
  size_t used_ = 0;  // bytes used in chunks_.back()
};

}  // namespace rtcore
