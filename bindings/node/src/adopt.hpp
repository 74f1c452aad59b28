// Native.adoptSocket (lib/attach.js): hands a duplicate of a Node socket's
// descriptor to the engine (rtc_engine_adopt_socket).
#pragma once

#include <napi.h>

#include "rtcore.h"

namespace rtcore_node {

// adoptSocket(fd, head: Buffer) -> rc. Duplicates fd (Node keeps and
// closes its own), hands the duplicate and head to engine; on an error the
// duplicate is closed here and Node's descriptor is untouched either way.
Napi::Value adopt_socket(const Napi::CallbackInfo& info, rtc_engine* engine);

}  // namespace rtcore_node
