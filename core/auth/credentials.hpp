// Where a client's token travels (docs/protocol.md section 1): `?token=JWT`,
// `Authorization: Bearer JWT`, or `Sec-WebSocket-Protocol: rtcore.v1,
// bearer.JWT`. Pure.
#pragma once

#include <string>
#include <string_view>

namespace rtcore::auth {

// The token from the first place that has one (query, then Authorization,
// then the subprotocol list); empty if none. query is percent-encoded.
std::string find_token(std::string_view query, std::string_view authorization, std::string_view subprotocols);

// Decodes %XX escapes (and '+' as a space, as in forms); false on a bad escape.
bool percent_decode(std::string_view in, std::string& out);

}  // namespace rtcore::auth
