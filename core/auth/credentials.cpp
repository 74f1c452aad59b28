#include "auth/credentials.hpp"

#include <cctype>

#include "common/hex.hpp"

namespace rtcore::auth {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

}  // namespace

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c != '%') {
      out.push_back(c);
    } else {
      if (i + 2 >= in.size()) return false;
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
  }
  return true;
}

std::string find_token(std::string_view query, std::string_view authorization,
                       std::string_view subprotocols) {
  std::string token;
  for (size_t start = 0; start <= query.size();) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view arg = query.substr(start, end - start);
    if (arg.substr(0, 6) == "token=" && percent_decode(arg.substr(6), token) && !token.empty()) return token;
    start = end + 1;
  }
  std::string_view auth = trim(authorization);
  if (auth.size() > 7 && iequals(auth.substr(0, 7), "bearer ")) {
    std::string_view t = trim(auth.substr(7));
    if (!t.empty()) return std::string(t);
  }
  for (size_t start = 0; start < subprotocols.size();) {
    size_t end = subprotocols.find(',', start);
    if (end == std::string_view::npos) end = subprotocols.size();
    std::string_view p = trim(subprotocols.substr(start, end - start));
    if (p.size() > 7 && p.substr(0, 7) == "bearer.") return std::string(p.substr(7));
    start = end + 1;
  }
  return {};
}

}  // namespace rtcore::auth
