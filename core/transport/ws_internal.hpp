// The transport's per-connection state, shared by its two paths
// (ws_server.cpp: libwebsockets; own_transport.cpp: the own path).
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "transport/frame_reader.hpp"
#include "transport/ws_server.hpp"

namespace rtcore {

// What both paths keep per connection: the engine's object and the
// keepalive's state. Plain fields only: for lws connections this lives in
// lws's per-session memory, which lws zeroes and never constructs
// (STACK-NOTES).
struct WsLink {
  void* conn;    // the engine's object (on_open's result), null before and after
  WsLink* prev;  // in the keepalive list, or the own path's handshake list
  WsLink* next;
  uint64_t heard_ms;  // uv_now() of the last frame received (accept time during a handshake)
  bool own;           // carried by the own path (an OwnConn), else by lws (a Session)
  bool linked;        // in one of the lists
  bool pinged;        // a ping went out since heard_ms
  bool ping_due;      // write a ping once nothing of an earlier write is left
  bool closing;       // our close frame is written: no more pings, pongs or frames
};

struct WsServer::Session : WsLink {
  lws* wsi;
};

struct WsServer::OwnRare {
  std::string in;        // the request head so far, or input held while reading is paused
  std::string out;       // bytes the kernel did not take, being written by wreq
  std::string out_next;  // bytes written while out is in flight
  uv_write_t wreq{};
  bool writing = false;  // wreq is in flight
};

struct WsServer::OwnConn : WsLink {
  enum class Phase : uint8_t { kHandshake, kOpen };
  WsServer* server = nullptr;
  OwnConn* all_prev = nullptr;  // every own connection, for shutdown
  OwnConn* all_next = nullptr;
  std::unique_ptr<OwnRare> rare;
  transport::FrameReader reader;
  uv_tcp_t tcp{};
  Phase phase = Phase::kHandshake;
  bool closed = false;              // own_close ran: the memory goes with the handle's close callback
  bool killed = false;              // on the kill list: nothing more is read or handed on
  bool paused = false;              // pause_reading(true)
  bool throttled = false;           // read a full chunk this turn: reading resumes next turn
  bool write_wanted = false;        // on_writeable once the socket takes more
  bool due = false;                 // on due_
  bool close_when_flushed = false;  // close the socket once out is written
  bool peer_closed = false;         // the client's close frame arrived
};

}  // namespace rtcore
