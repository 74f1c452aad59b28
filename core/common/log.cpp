#include "common/log.hpp"

#include <cstdio>
#include <cstring>

#include "protocol/timestamp.hpp"

namespace rtcore::log {
namespace {

thread_local const Logger* t_current = nullptr;

const Logger& default_logger() {
  static const Logger logger;
  return logger;
}

bool starts_with_ci(std::string_view s, std::string_view p) {
  if (s.size() < p.size()) return false;
  for (size_t i = 0; i < p.size(); ++i) {
    char a = s[i], b = p[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

// Where a credential-like token ends: at white space, a quote, or one of
// the separators that end a query argument or a header value.
size_t token_end(std::string_view s, size_t from, bool stop_at_amp) {
  size_t i = from;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\'' || c == ',' || c == ';' ||
        (stop_at_amp && c == '&'))
      break;
    ++i;
  }
  return i;
}

bool is_b64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '=';
}

}  // namespace

const char* level_name(Level level) {
  switch (level) {
    case Level::kError: return "error";
    case Level::kWarn: return "warn";
    case Level::kInfo: return "info";
    case Level::kDebug: return "debug";
  }
  return "debug";
}

Logger::Logger(int level, Format format, std::string node, Sink sink)
    : level_(level), format_(format), node_(std::move(node)), sink_(std::move(sink)) {}

Logger::Scope::Scope(const Logger* logger) : previous_(t_current) {
  t_current = logger;
}
Logger::Scope::~Scope() {
  t_current = previous_;
}

const Logger& Logger::current() {
  return t_current ? *t_current : default_logger();
}

void append_json_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        // Control bytes escaped; bytes >= 0x80 pass (messages are UTF-8,
        // and a stray invalid byte is the reader's to replace).
        if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}

namespace {

void append_fields(std::string& out, Fields fields) {
  for (const Field& f : fields) {
    out += ",\"";
    append_json_escaped(out, f.key);
    out += "\":";
    if (f.is_number) {
      out += std::to_string(f.number);
    } else {
      out += '"';
      append_json_escaped(out, f.text);
      out += '"';
    }
  }
}

}  // namespace

std::string fields_json(Fields fields) {
  std::string out = "{";
  append_fields(out, fields);
  if (out.size() > 1) out.erase(1, 1);  // the first field's comma
  return out + "}";
}

void Logger::write(Level level, std::string_view event, std::string_view message, Fields fields) const {
  if (!enabled(level)) return;
  // A log line must never take the engine down: a failed allocation while
  // formatting drops the line.
  try {
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.remove_suffix(1);
    if (sink_) {
      sink_(level, event, message, fields_json(fields));
      return;
    }
    std::string line;
    if (format_ == Format::kText) {
      // The text format is the one rtcore always printed.
      line.reserve(message.size() + 9);
      line += "rtcore: ";
      line += message;
    } else {
      line.reserve(message.size() + 128);
      line += "{\"time\":\"";
      line += protocol::now_timestamp();
      line += "\",\"level\":\"";
      line += level_name(level);
      line += "\",\"event\":\"";
      append_json_escaped(line, event);
      line += "\",\"node\":\"";
      append_json_escaped(line, node_);
      line += "\",\"msg\":\"";
      append_json_escaped(line, message);
      line += '"';
      append_fields(line, fields);
      line += '}';
    }
    line += '\n';
    // One call per line: stdio locks the stream per call, so lines of
    // several engine threads never interleave.
    std::fwrite(line.data(), 1, line.size(), stderr);
  } catch (...) {
  }
}

std::string redact(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    std::string_view rest = s.substr(i);
    // A query string: everything after '?' up to white space.
    if (s[i] == '?') {
      out += "?<redacted>";
      i = token_end(s, i + 1, false);
      continue;
    }
    size_t skip = 0;
    for (std::string_view key : {"token=", "password=", "secret=", "access_token="})
      if (starts_with_ci(rest, key)) skip = key.size();
    if (skip) {
      out.append(rest.substr(0, skip));
      out += "<redacted>";
      i = token_end(s, i + skip, true);
      continue;
    }
    if (starts_with_ci(rest, "authorization:")) {
      out += "authorization: <redacted>";
      i = s.find('\n', i);
      if (i == std::string_view::npos) i = s.size();
      continue;
    }
    if (starts_with_ci(rest, "bearer ") || starts_with_ci(rest, "bearer.")) {
      out.append(rest.substr(0, 7));
      out += "<redacted>";
      i = token_end(s, i + 7, false);
      continue;
    }
    // A JWT: base64url JSON header, always "eyJ".
    if (rest.substr(0, 3) == "eyJ") {
      size_t j = i;
      int dots = 0;
      while (j < s.size() && (is_b64url(s[j]) || s[j] == '.')) dots += s[j++] == '.';
      if (dots >= 1) {
        out += "<redacted>";
        i = j;
        continue;
      }
    }
    // redis://user:password@host: keep only what follows the '@'.
    if (starts_with_ci(rest, "redis://")) {
      size_t end = token_end(s, i, false);
      std::string_view url = s.substr(i, end - i);
      size_t at = url.rfind('@');
      out += "redis://";
      out += at == std::string_view::npos ? url.substr(8) : url.substr(at + 1);
      i = end;
      continue;
    }
    out += s[i++];
  }
  return out;
}

}  // namespace rtcore::log
