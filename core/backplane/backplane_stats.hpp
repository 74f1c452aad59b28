// Counters a backplane keeps about itself.
#pragma once

#include "common/counter.hpp"
#include "metrics/histogram.hpp"

namespace rtcore {

// Counters of a history backend (history/history.hpp); all zero while
// history is off.
struct HistoryStats {
  Counter appends;                // messages stored and published (append done ok)
  Counter append_failures;        // appends that failed (backend down, buffer full, shut down, bad reply)
  Counter reads;                  // read_since / read_latest answered
  Counter read_failures;          // reads that could not be answered (backend down, bad reply)
  Counter recoveries_incomplete;  // read_since answers with complete = false
  Counter stream_deliveries;      // stream messages handed to deliver_stream on this node
  Counter epochs_created;         // streams (re)started with a new epoch by this node (in-process only)
  Counter evicted_streams;        // whole streams dropped for the memory budget (in-process only)
  Counter streams;                // gauge: streams held (in-process only)
  Counter stored_bytes;           // gauge: frame bytes held (in-process only)
};

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
  HistoryStats history;  // the backplane's history, when on
};

}  // namespace rtcore
