// The engine's one logger: every line has a level, a short snake_case event
// name, a message and optional key/value fields, and goes to one sink: the
// host's (rtc_handlers.on_log) or stderr, as text or as JSON lines.
//
// Each engine owns a Logger and installs it as its thread's current logger
// (Logger::Scope) for the life of its engine thread. Code without a handle
// on the engine (guard.cpp, the Redis links, libwebsockets' process-wide
// emit callback) logs through log::write(), which reaches the logger of the
// engine whose thread is running: several engines in one process (Node,
// Python) each get their own lines. Elsewhere the default text-to-stderr
// logger takes the line.
//
// Nothing sensitive belongs in a line: no tokens, secrets, Authorization
// headers, query strings or Redis passwords (log::redact() scrubs foreign
// text such as libwebsockets' lines of the forms those take).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

namespace rtcore::log {

enum class Level : int { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };
enum class Format { kText, kJson };

const char* level_name(Level level);

// One key/value field; numbers are written unquoted in JSON.
struct Field {
  Field(std::string_view k, std::string_view v) : key(k), text(v) {}
  Field(std::string_view k, const char* v) : key(k), text(v ? v : "") {}
  Field(std::string_view k, const std::string& v) : key(k), text(v) {}
  Field(std::string_view k, int64_t v) : key(k), number(v), is_number(true) {}
  Field(std::string_view k, int v) : Field(k, static_cast<int64_t>(v)) {}
  Field(std::string_view k, unsigned v) : Field(k, static_cast<int64_t>(v)) {}
  Field(std::string_view k, uint64_t v) : Field(k, static_cast<int64_t>(v)) {}
  Field(std::string_view k, long long v) : Field(k, static_cast<int64_t>(v)) {}
  std::string_view key;
  std::string_view text;
  int64_t number = 0;
  bool is_number = false;
};
using Fields = std::initializer_list<Field>;

class Logger {
 public:
  // A host's sink: level, event, message, and the fields as one JSON object
  // ("{}" when there are none). Called on the engine thread; must not block.
  using Sink =
      std::function<void(Level, std::string_view event, std::string_view message, std::string_view fields)>;

  Logger() = default;
  // level: the most verbose level written (0 errors .. 3 debug).
  Logger(int level, Format format, std::string node, Sink sink = {});

  bool enabled(Level level) const { return static_cast<int>(level) <= level_; }
  void write(Level level, std::string_view event, std::string_view message, Fields fields = {}) const;
  // True when lines go to stderr as plain text (no host sink, text format).
  bool plain_stderr() const { return !sink_ && format_ == Format::kText; }

  // Makes logger the current thread's logger until the scope ends.
  class Scope {
   public:
    explicit Scope(const Logger* logger);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    const Logger* previous_;
  };

  // The current thread's logger, or the default one (warnings, text).
  static const Logger& current();

 private:
  int level_ = 1;
  Format format_ = Format::kText;
  std::string node_;
  Sink sink_;
};

// Writes through the current thread's logger.
inline bool enabled(Level level) {
  return Logger::current().enabled(level);
}
inline void write(Level level, std::string_view event, std::string_view message, Fields fields = {}) {
  Logger::current().write(level, event, message, fields);
}

// Fields as one JSON object, e.g. {"status":401,"reason":"expired"}.
std::string fields_json(Fields fields);
// Appends s to out as a JSON string body (no quotes), escaped.
void append_json_escaped(std::string& out, std::string_view s);
// Foreign text with whatever might be a credential removed: the query
// after a '?', values after "token=", "password=", "secret=", the rest of
// an "Authorization:" or "Bearer " phrase, a JWT-like
// "eyJ....xxx.yyy", and the user:password part of a redis:// URL.
std::string redact(std::string_view text);

}  // namespace rtcore::log
