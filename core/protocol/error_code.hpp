// The error codes of docs/protocol.md section 4.
#pragma once

#include <string_view>

namespace rtcore::protocol {

enum class ErrorCode {
  kBadJson,
  kMissingField,
  kInvalidField,
  kUnknownType,
  kNotInRoom,
  kTooManyRooms,
  kRateLimited,
  kForbidden,
  // Extension: the action could not be carried across the cluster (the
  // backplane was unreachable and its outage buffer full).
  kUnavailable,
};

// The wire name, e.g. "bad_json".
std::string_view error_code_name(ErrorCode code);

}  // namespace rtcore::protocol
