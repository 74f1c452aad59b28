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

// A fast scanner for the common subset of JSON, in front of RapidJSON:
// strings without escapes (printable ASCII and well-formed UTF-8), integers
// of at most 18 digits, true, false, null, and objects and arrays of these.
// It never rejects: what it does not vouch for (anything outside the
// subset, invalid or not) goes to the full parser, which has the last word.
// Whatever it vouches for, RapidJSON accepts with the same shape (checked by
// tests/fuzz/fuzz_protocol_codec.cpp against the full parser).
namespace json_scan {

// JSON whitespace (RapidJSON's set).
inline const char* skip_ws(const char* p, const char* end) {
  while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) ++p;
  return p;
}

// p at an opening quote: the end of the string (past its closing quote),
// or nullptr when it is not a string of the subset.
const char* scan_string(const char* p, const char* end);

// p at the first byte of a value: its end, or nullptr when the value is not
// in the subset or opens more than depth_left containers.
const char* scan_value(const char* p, const char* end, int depth_left);

}  // namespace json_scan

// The full parser only (what is_valid_json_value falls back to), for tests.
bool is_valid_json_value_full(std::string_view text, int max_depth = kMaxNestingDepth);

}  // namespace rtcore::protocol
