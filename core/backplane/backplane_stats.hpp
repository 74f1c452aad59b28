// Counters a backplane keeps about itself.
#pragma once

#include "common/counter.hpp"
#include "metrics/histogram.hpp"

namespace rtcore {

struct BackplaneStats {
  Counter connected;          // 1 while every link to the backplane is up
  Counter reconnects;         // times a link came back after being down
  Counter buffered_bytes;     // publishes held during an outage, bytes
  Counter dropped;            // publishes dropped (buffer full, link lost)
  Counter invalid_envelopes;  // node-to-node payloads that did not decode
  Counter published;          // publishes handed to the backplane
  Counter received;           // publications from other nodes delivered here
  Counter internal_errors;    // exceptions caught in hiredis/libuv callbacks
  Counter fenced;             // times this node found itself declared dead
  Histogram round_trip;       // own probe publication back through Redis, seconds
  // Age of a message from another node when this node delivers it (the
  // publisher's clock against ours: includes clock skew between machines).
  Histogram delivery_age;
};

}  // namespace rtcore
