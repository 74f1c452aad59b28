// The WebSocket upgrade request as rtcore's own handshake path reads it
// (WsServer, docs/design/transport.md): a strict parser that accepts only
// the plain, common form of the request and hands everything else to
// libwebsockets, so that the two paths can never disagree about a request.
// Pure (no I/O, no lws): unit-tested and fuzzed on its own.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rtcore::transport {

// The request headers handed to the engine's upgrade hook, in this order
// (lws 4.1 only exposes headers it knows by token; these are the ones an
// authentication hook needs). WsServer's lws path maps each to its token.
inline constexpr std::array<std::string_view, 7> kForwardedHeaders = {
    "host", "origin", "authorization", "cookie", "user-agent", "sec-websocket-protocol", "x-forwarded-for",
};

// Requests longer than this go to lws (its header table decides).
inline constexpr size_t kMaxOwnRequest = 3072;

struct ParsedUpgrade {
  // Percent-decoded, as lws hands it over (only paths that lws leaves
  // unchanged apart from the decoding are taken: no "//", no dot segments).
  std::string path;
  // Each argument decoded, then percent-encoded again (unreserved bytes
  // kept) and joined with '&': what WsServer's lws path rebuilds from lws's
  // decoded arguments.
  std::string query;
  std::string_view key;        // Sec-WebSocket-Key
  std::string_view protocols;  // Sec-WebSocket-Protocol, empty when absent
  // kForwardedHeaders that were present with a non-empty value, in that
  // order; views into the request.
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  size_t length = 0;  // bytes of the request head, blank line included
};

enum class RequestParse {
  kUpgrade,     // a WebSocket upgrade in the plain form: out is filled
  kIncomplete,  // no complete head yet, and nothing rules it out so far
  kOther,       // anything else (another method, an unusual form, plain HTTP): lws's job
};

// Reads the request head at the start of in (bytes after the head, such as
// frames a client pipelined, are left alone: out.length says where it ends).
RequestParse parse_upgrade_request(std::string_view in, ParsedUpgrade& out);

// Re-encodes one decoded query name or value (unreserved bytes kept, the
// rest as %XX), appended to out. Shared with the lws path.
void append_query_part(std::string& out, std::string_view part);

// The reason phrase of the HTTP statuses rtcore refuses upgrades with.
const char* http_status_text(int status);
// The plain-text body of a refusal ("403 Forbidden\n", or with ": reason",
// the reason cut at 512 bytes) into out (cap bytes, NUL-terminated);
// returns its length. No allocation: it also answers for a callback that
// threw, where the cause may have been a failed allocation.
size_t format_refusal_body(char* out, size_t cap, int status, std::string_view reason);

// SHA-1 of len bytes into out (20 bytes).
void sha1(const unsigned char* msg, size_t len, unsigned char out[20]);

// Sec-WebSocket-Accept for a key (base64 of SHA-1 of key + RFC 6455's GUID).
std::string websocket_accept(std::string_view key);

}  // namespace rtcore::transport
