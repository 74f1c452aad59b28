// Google Benchmark micro-benchmarks for rtcore's pure parts, so regressions
// in the per-message costs are visible without sockets:
//   - codec: parse a client room_message, encode a server message + frame;
//   - room fan-out enqueue: one shared frame pushed to N send queues, then
//     coalesced out (the engine's write path minus the socket);
//   - registry churn: connection slots and hub membership in and out.
// Built by tests/bench/build.sh (compiles the needed core/ sources directly).
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "buffer/frame.hpp"
#include "buffer/send_queue.hpp"
#include "hub/hub.hpp"
#include "hub/registry.hpp"
#include "protocol/client_message.hpp"
#include "protocol/server_message.hpp"
#include "protocol/timestamp.hpp"

using namespace rtcore;

namespace {

std::string room_message(size_t content_bytes) {
  return R"({"type":"room_message","room":"lobby","content":")" + std::string(content_bytes, 'x') + R"("})";
}

void BM_ParseRoomMessage(benchmark::State& st) {
  std::string frame = room_message(size_t(st.range(0)));
  for (auto _ : st) {
    auto r = protocol::parse_client_message(frame);
    benchmark::DoNotOptimize(r);
  }
  st.SetItemsProcessed(st.iterations());
  st.SetBytesProcessed(st.iterations() * int64_t(frame.size()));
}
BENCHMARK(BM_ParseRoomMessage)->Arg(32)->Arg(1024);

void BM_ParseObjectContent(benchmark::State& st) {
  std::string frame =
      R"({"type":"room_message","room":"lobby","id":42,"content":{"text":"hello","n":[1,2,3,12345678901234567890],"nested":{"a":true,"b":null}}})";
  for (auto _ : st) {
    auto r = protocol::parse_client_message(frame);
    benchmark::DoNotOptimize(r);
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_ParseObjectContent);

void BM_EncodeRoomMessage(benchmark::State& st) {
  std::string content = "\"" + std::string(size_t(st.range(0)), 'x') + "\"";
  std::string ts = protocol::now_timestamp();
  for (auto _ : st) {
    std::string s = protocol::encode_room_message("lobby", "alice", content, ts);
    benchmark::DoNotOptimize(s);
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_EncodeRoomMessage)->Arg(32)->Arg(1024);

// What the engine does once per accepted room message: timestamp, encode,
// build the shared WebSocket frame.
void BM_EncodeFrameOnce(benchmark::State& st) {
  std::string content = "\"" + std::string(32, 'x') + "\"";
  for (auto _ : st) {
    std::string ts = protocol::now_timestamp();
    FramePtr f = make_text_frame(protocol::encode_room_message("lobby", "alice", content, ts));
    benchmark::DoNotOptimize(f);
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_EncodeFrameOnce);

// Room fan-out: one frame queued to N members (a pointer + refcount each),
// then every queue coalesced into a 64 KiB write buffer, as on writeable.
void BM_FanoutEnqueue(benchmark::State& st) {
  const size_t n = size_t(st.range(0));
  std::vector<SendQueue> queues(n);
  FramePtr frame = make_text_frame(
      R"({"type":"message","room":"lobby","from":"alice","content":"0123456789abcdef0123456789abcdef","timestamp":"2026-11-28T16:40:27.123Z"})");
  for (auto _ : st) {
    for (auto& q : queues) q.push(frame);
    for (auto& q : queues) q.clear();
  }
  st.SetItemsProcessed(st.iterations() * int64_t(n));  // items = deliveries queued
}
BENCHMARK(BM_FanoutEnqueue)->Arg(1000)->Arg(10000);

void BM_FanoutEnqueueAndCoalesce(benchmark::State& st) {
  const size_t n = size_t(st.range(0)), per_conn = size_t(st.range(1));
  std::vector<SendQueue> queues(n);
  FramePtr frame = make_text_frame(
      R"({"type":"message","room":"lobby","from":"alice","content":"0123456789abcdef0123456789abcdef","timestamp":"2026-11-28T16:40:27.123Z"})");
  std::vector<unsigned char> buf(64 * 1024);
  for (auto _ : st) {
    for (size_t m = 0; m < per_conn; ++m)
      for (auto& q : queues) q.push(frame);
    for (auto& q : queues)
      while (!q.empty()) benchmark::DoNotOptimize(q.take_into(buf.data(), buf.size()));
  }
  st.SetItemsProcessed(st.iterations() * int64_t(n * per_conn));
}
BENCHMARK(BM_FanoutEnqueueAndCoalesce)->Args({1000, 1})->Args({1000, 10})->Args({1000, 200});

// Hub: the member list the engine walks per room message.
void BM_HubRoomMembersLookup(benchmark::State& st) {
  Hub hub;
  for (uint32_t i = 0; i < 1000; ++i) hub.join("lobby", make_conn_id(i, 1));
  for (uint32_t r = 0; r < 1000; ++r) hub.join("room" + std::to_string(r), make_conn_id(r, 1));
  for (auto _ : st) {
    const auto& m = hub.room_members("lobby");
    benchmark::DoNotOptimize(m.data());
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_HubRoomMembersLookup);

struct FakeConn {
  std::string user;
  SendQueue queue;
};

// Registry churn: a connection arrives (slot, user entry, one room) and
// leaves again, with `live` other connections present.
void BM_RegistryChurn(benchmark::State& st) {
  const uint32_t live = uint32_t(st.range(0));
  Registry<FakeConn> reg;
  Hub hub;
  std::vector<ConnId> ids;
  for (uint32_t i = 0; i < live; ++i) {
    auto c = std::make_unique<FakeConn>();
    c->user = "u" + std::to_string(i);
    std::string user = c->user;
    ConnId id = reg.insert(std::move(c));
    hub.add_user_connection(user, id);
    hub.join("lobby", id);
    ids.push_back(id);
  }
  uint64_t k = 0;
  for (auto _ : st) {
    auto c = std::make_unique<FakeConn>();
    c->user = "churn" + std::to_string(k++ & 1023);
    std::string user = c->user;
    ConnId id = reg.insert(std::move(c));
    hub.add_user_connection(user, id);
    hub.join("side", id);
    hub.leave("side", id);
    hub.remove_user_connection(user, id);
    benchmark::DoNotOptimize(reg.erase(id));
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_RegistryChurn)->Arg(1000)->Arg(50000);

// Leaving a big room: the member vector is searched and erased from.
void BM_LeaveBigRoom(benchmark::State& st) {
  const uint32_t n = uint32_t(st.range(0));
  Hub hub;
  for (uint32_t i = 0; i < n; ++i) hub.join("lobby", make_conn_id(i, 1));
  uint32_t k = 0;
  for (auto _ : st) {
    ConnId id = make_conn_id(k++ % n, 1);
    hub.leave("lobby", id);
    hub.join("lobby", id);
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_LeaveBigRoom)->Arg(1000)->Arg(50000);

void BM_Timestamp(benchmark::State& st) {
  for (auto _ : st) {
    std::string ts = protocol::now_timestamp();
    benchmark::DoNotOptimize(ts);
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_Timestamp);

}  // namespace

BENCHMARK_MAIN();
