#include "protocol/json_check.hpp"

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include "protocol/client_message.hpp"

namespace rtcore::protocol {
namespace {

// Counts depth and remembers the kind of the root value.
class ShapeHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, ShapeHandler> {
 public:
  explicit ShapeHandler(int max_depth = kMaxNestingDepth) : max_depth_(max_depth) {}
  bool Default() { return note(kOther); }
  bool String(const char*, rapidjson::SizeType, bool) { return note(kString); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    return note(std::string_view(s, n).find_first_of(".eE") == std::string_view::npos ? kInteger : kOther);
  }
  bool StartObject() { return open(); }
  bool StartArray() { return open(); }
  bool EndObject(rapidjson::SizeType) { return --depth_, true; }
  bool EndArray(rapidjson::SizeType) { return --depth_, true; }

  enum Kind { kNone, kString, kInteger, kOther };
  Kind root = kNone;

 private:
  bool note(Kind k) {
    if (depth_ == 0) root = k;
    return true;
  }
  bool open() {
    note(kOther);
    return ++depth_ <= max_depth_;
  }
  int max_depth_;
  int depth_ = 0;
};

bool parse_whole(std::string_view text, ShapeHandler& handler) {
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag |
                              rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseStopWhenDoneFlag;
  rapidjson::MemoryStream stream(text.data(), text.size());
  rapidjson::Reader reader;
  if (reader.Parse<kFlags>(stream, handler).IsError()) return false;
  return text.substr(stream.Tell()).find_first_not_of(" \t\r\n") == std::string_view::npos;
}

}  // namespace

bool is_valid_json_value(std::string_view text, int max_depth) {
  ShapeHandler h(max_depth);
  return parse_whole(text, h);
}

bool is_valid_json_id(std::string_view text) {
  ShapeHandler h;
  return parse_whole(text, h) && (h.root == ShapeHandler::kString || h.root == ShapeHandler::kInteger);
}

}  // namespace rtcore::protocol
