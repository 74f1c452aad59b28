#include "protocol/error_code.hpp"

namespace rtcore::protocol {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadJson: return "bad_json";
    case ErrorCode::kMissingField: return "missing_field";
    case ErrorCode::kInvalidField: return "invalid_field";
    case ErrorCode::kUnknownType: return "unknown_type";
    case ErrorCode::kNotInRoom: return "not_in_room";
    case ErrorCode::kTooManyRooms: return "too_many_rooms";
    case ErrorCode::kRateLimited: return "rate_limited";
    case ErrorCode::kForbidden: return "forbidden";
    case ErrorCode::kUnavailable: return "unavailable";
  }
  return "internal";
}

}  // namespace rtcore::protocol
