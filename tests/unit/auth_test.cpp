#include <gtest/gtest.h>

#include <string>

#include "auth/credentials.hpp"
#include "auth/jwt.hpp"

using namespace rtcore::auth;

namespace {

constexpr int64_t kNow = 1'800'000'000;

JwtPolicy policy() {
  JwtPolicy p;
  p.secret = "s3cret";
  p.leeway_s = 30;
  return p;
}

std::string token(const std::string& payload, const std::string& secret = "s3cret") {
  return sign_hs256(payload, secret);
}

// A token with a header of our choosing, signed with HMAC like HS256.
std::string token_with_header(const std::string& header, const std::string& payload) {
  std::string t = sign_hs256(payload, "s3cret");
  std::string sig = t.substr(t.rfind('.') + 1);
  std::string forged = base64url_encode(header) + "." + base64url_encode(payload);
  return forged + "." + sig;
}

}  // namespace

TEST(Jwt, AcceptsAValidToken) {
  JwtResult r = verify_hs256(token(R"({"sub":"alice","exp":1800000100})"), policy(), kNow);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.subject, "alice");
}

TEST(Jwt, RefusesAForgedSignature) {
  EXPECT_FALSE(verify_hs256(token(R"({"sub":"alice"})", "other"), policy(), kNow).ok);
  std::string t = token(R"({"sub":"alice"})");
  t.back() = t.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verify_hs256(t, policy(), kNow).ok);
}

TEST(Jwt, RefusesATamperedPayload) {
  std::string t = token(R"({"sub":"alice"})");
  size_t d1 = t.find('.'), d2 = t.rfind('.');
  std::string tampered = t.substr(0, d1 + 1) + base64url_encode(R"({"sub":"admin"})") + t.substr(d2);
  EXPECT_FALSE(verify_hs256(tampered, policy(), kNow).ok);
}

TEST(Jwt, ExpiryAndNotBeforeUseTheLeeway) {
  EXPECT_TRUE(verify_hs256(token(R"({"sub":"a","exp":1799999980})"), policy(), kNow).ok);   // 20 s late
  EXPECT_FALSE(verify_hs256(token(R"({"sub":"a","exp":1799999960})"), policy(), kNow).ok);  // 40 s late
  EXPECT_TRUE(verify_hs256(token(R"({"sub":"a","nbf":1800000020})"), policy(), kNow).ok);
  EXPECT_FALSE(verify_hs256(token(R"({"sub":"a","nbf":1800000040})"), policy(), kNow).ok);
  EXPECT_FALSE(verify_hs256(token(R"({"sub":"a","exp":"tomorrow"})"), policy(), kNow).ok);
}

TEST(Jwt, OnlyHs256IsAccepted) {
  std::string payload = R"({"sub":"alice"})";
  EXPECT_FALSE(verify_hs256(token_with_header(R"({"alg":"none"})", payload), policy(), kNow).ok);
  EXPECT_FALSE(verify_hs256(token_with_header(R"({"alg":"HS512"})", payload), policy(), kNow).ok);
  EXPECT_FALSE(verify_hs256(token_with_header(R"({"alg":"hs256"})", payload), policy(), kNow).ok);
  EXPECT_FALSE(verify_hs256(token_with_header(R"({"typ":"JWT"})", payload), policy(), kNow).ok);
  // alg none with an empty signature, the classic bypass.
  std::string none = base64url_encode(R"({"alg":"none"})") + "." + base64url_encode(payload) + ".";
  EXPECT_FALSE(verify_hs256(none, policy(), kNow).ok);
}

TEST(Jwt, AudienceAndIssuerWhenRequired) {
  JwtPolicy p = policy();
  p.audience = "chat";
  p.issuer = "auth.example";
  EXPECT_TRUE(verify_hs256(token(R"({"sub":"a","aud":"chat","iss":"auth.example"})"), p, kNow).ok);
  EXPECT_TRUE(verify_hs256(token(R"({"sub":"a","aud":["x","chat"],"iss":"auth.example"})"), p, kNow).ok);
  EXPECT_FALSE(verify_hs256(token(R"({"sub":"a","aud":"other","iss":"auth.example"})"), p, kNow).ok);
  EXPECT_FALSE(verify_hs256(token(R"({"sub":"a","aud":"chat"})"), p, kNow).ok);
}

TEST(Jwt, SubMustBeAValidUserId) {
  EXPECT_FALSE(verify_hs256(token(R"({"exp":1900000000})"), policy(), kNow).ok);
  EXPECT_FALSE(verify_hs256(token(R"({"sub":"a/b"})"), policy(), kNow).ok);
  EXPECT_FALSE(verify_hs256(token(R"({"sub":""})"), policy(), kNow).ok);
  EXPECT_FALSE(verify_hs256(token(R"({"sub":42})"), policy(), kNow).ok);
}

TEST(Jwt, MalformedTokensAreRefused) {
  for (const char* t : {"", "a", "a.b", "a.b.c.d", "!!!.###.$$$", "e30.e30.", ".."})
    EXPECT_FALSE(verify_hs256(t, policy(), kNow).ok) << t;
  EXPECT_FALSE(verify_hs256(std::string(10000, 'a'), policy(), kNow).ok);
}

TEST(Base64Url, RoundTrips) {
  for (std::string s : std::initializer_list<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar",
                                                          std::string("\0\xff\x10", 3)}) {
    std::string out;
    ASSERT_TRUE(base64url_decode(base64url_encode(s), out));
    EXPECT_EQ(out, s);
  }
  std::string out;
  EXPECT_FALSE(base64url_decode("a", out));
  EXPECT_FALSE(base64url_decode("ab+/", out));
}

TEST(Credentials, FindsTheTokenWhereverItTravels) {
  EXPECT_EQ(find_token("x=1&token=abc.def.ghi", "", ""), "abc.def.ghi");
  EXPECT_EQ(find_token("token=a%2Eb", "", ""), "a.b");
  EXPECT_EQ(find_token("", "Bearer abc", ""), "abc");
  EXPECT_EQ(find_token("", "bearer   abc  ", ""), "abc");
  EXPECT_EQ(find_token("", "Basic abc", ""), "");
  EXPECT_EQ(find_token("", "", "rtcore.v1, bearer.abc.def.ghi"), "abc.def.ghi");
  EXPECT_EQ(find_token("", "", "rtcore.v1"), "");
  EXPECT_EQ(find_token("token=q", "Bearer h", "bearer.p"), "q");  // the query wins
  EXPECT_EQ(find_token("notatoken=1&tokens=2", "", ""), "");
}
