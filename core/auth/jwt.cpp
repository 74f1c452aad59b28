#include "auth/jwt.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <rapidjson/document.h>

#include "protocol/validate.hpp"

namespace rtcore::auth {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
// Tokens longer than this are refused before any work is done.
constexpr size_t kMaxTokenBytes = 8192;

int decode_char(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

JwtResult refuse(const char* why) {
  JwtResult r;
  r.error = why;
  return r;
}

// A NumericDate claim: integer or number of seconds.
bool read_time(const rapidjson::Value& obj, const char* name, bool& present, int64_t& out) {
  present = false;
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd()) return true;
  present = true;
  if (it->value.IsInt64()) {
    out = it->value.GetInt64();
    return true;
  }
  if (it->value.IsNumber()) {
    double d = it->value.GetDouble();
    if (d > 1e15 || d < -1e15) return false;
    out = static_cast<int64_t>(d);
    return true;
  }
  return false;
}

bool audience_matches(const rapidjson::Value& aud, std::string_view want) {
  if (aud.IsString()) return std::string_view(aud.GetString(), aud.GetStringLength()) == want;
  if (aud.IsArray())
    for (const auto& v : aud.GetArray())
      if (v.IsString() && std::string_view(v.GetString(), v.GetStringLength()) == want) return true;
  return false;
}

}  // namespace

bool base64url_decode(std::string_view in, std::string& out) {
  out.clear();
  if (in.size() % 4 == 1) return false;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = decode_char(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

std::string base64url_encode(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3F]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3F]);
  return out;
}

std::string sign_hs256(std::string_view payload_json, std::string_view secret) {
  std::string signing =
      base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url_encode(payload_json);
  return signing + "." + base64url_encode(hmac_sha256(secret, signing));
}

JwtResult verify_hs256(std::string_view token, const JwtPolicy& policy, int64_t now_s) {
  if (token.empty() || token.size() > kMaxTokenBytes) return refuse("token missing or too long");
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return refuse("not a JWS compact token");
  std::string_view header_b64 = token.substr(0, dot1);
  std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view signature_b64 = token.substr(dot2 + 1);

  std::string header, payload, signature;
  if (!base64url_decode(header_b64, header) || !base64url_decode(payload_b64, payload) ||
      !base64url_decode(signature_b64, signature))
    return refuse("bad base64url");

  // The algorithm must be exactly HS256: "none" and every other algorithm
  // are refused before the signature is looked at.
  rapidjson::Document h;
  h.Parse(header.data(), header.size());
  if (h.HasParseError() || !h.IsObject()) return refuse("bad header");
  auto alg = h.FindMember("alg");
  if (alg == h.MemberEnd() || !alg->value.IsString() || std::string_view(alg->value.GetString()) != "HS256" ||
      alg->value.GetStringLength() != 5)
    return refuse("alg is not HS256");
  if (policy.secret.empty()) return refuse("no secret configured");

  std::string expected = hmac_sha256(policy.secret, token.substr(0, dot2));
  if (signature.size() != expected.size() ||
      CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0)
    return refuse("bad signature");

  rapidjson::Document p;
  p.Parse(payload.data(), payload.size());
  if (p.HasParseError() || !p.IsObject()) return refuse("bad payload");
  bool has_exp = false, has_nbf = false;
  int64_t exp = 0, nbf = 0;
  if (!read_time(p, "exp", has_exp, exp) || !read_time(p, "nbf", has_nbf, nbf))
    return refuse("bad exp or nbf");
  if (has_exp && now_s > exp + policy.leeway_s) return refuse("expired");
  if (has_nbf && now_s + policy.leeway_s < nbf) return refuse("not yet valid");
  if (!policy.audience.empty()) {
    auto aud = p.FindMember("aud");
    if (aud == p.MemberEnd() || !audience_matches(aud->value, policy.audience))
      return refuse("wrong audience");
  }
  if (!policy.issuer.empty()) {
    auto iss = p.FindMember("iss");
    if (iss == p.MemberEnd() || !iss->value.IsString() ||
        std::string_view(iss->value.GetString(), iss->value.GetStringLength()) != policy.issuer)
      return refuse("wrong issuer");
  }
  auto sub = p.FindMember("sub");
  if (sub == p.MemberEnd() || !sub->value.IsString()) return refuse("no sub");
  std::string_view subject(sub->value.GetString(), sub->value.GetStringLength());
  if (!protocol::is_valid_user_id(subject)) return refuse("sub is not a valid user id");
  JwtResult r;
  r.ok = true;
  r.subject.assign(subject);
  return r;
}

}  // namespace rtcore::auth
