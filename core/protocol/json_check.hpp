// Validation of JSON handed in by hosts (send payloads, request ids) before
// it is spliced into frames that clients parse.
#pragma once

#include <string_view>

#include "protocol/client_message.hpp"

namespace rtcore::protocol {

// True if text is exactly one JSON value (any type), valid UTF-8, nested at
// most kMaxNestingDepth deep.
bool is_valid_json_value(std::string_view text, int max_depth = kMaxNestingDepth);

// True if text is a JSON string or a JSON integer (a request id).
bool is_valid_json_id(std::string_view text);

}  // namespace rtcore::protocol
