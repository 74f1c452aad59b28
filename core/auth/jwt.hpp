// Verification of HS256 JSON Web Tokens (RFC 7519) for the built-in
// jwt-hs256 auth mode. Pure apart from OpenSSL's HMAC; fuzzable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rtcore::auth {

struct JwtPolicy {
  std::string secret;     // HMAC key (raw bytes)
  int64_t leeway_s = 30;  // tolerance on exp and nbf
  std::string audience;   // required "aud" when non-empty
  std::string issuer;     // required "iss" when non-empty
};

struct JwtResult {
  bool ok = false;
  std::string subject;  // the "sub" claim: the user id
  std::string error;    // why it was refused (for logs; never the token)
};

// Checks signature (constant-time), header alg == "HS256" exactly, exp and
// nbf (with leeway) against now_s, aud and iss when the policy asks, and
// that sub is a valid user id.
JwtResult verify_hs256(std::string_view token, const JwtPolicy& policy, int64_t now_s);

// base64url without padding (RFC 7515); false on invalid input.
bool base64url_decode(std::string_view in, std::string& out);
std::string base64url_encode(std::string_view in);

// Builds a signed token (for tests and tools): header {"alg":"HS256",
// "typ":"JWT"} and the given payload JSON.
std::string sign_hs256(std::string_view payload_json, std::string_view secret);

}  // namespace rtcore::auth
