// The operational pieces that need no I/O: the self-probe's wire form
// (backplane/wire.hpp) and the logger's formatting and redaction
// (common/log.hpp).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "backplane/wire.hpp"
#include "common/log.hpp"

using namespace rtcore;

TEST(WireProbe, RoundTripsAndNamesItsChannelsNode) {
  std::string p = wire::encode_probe("n-1", 42);
  EXPECT_EQ(p, "probe n-1 42");
  auto m = wire::decode_probe("n-1", p);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->node, "n-1");
  EXPECT_EQ(m->seq, 42u);
  // Another node's id on this node's channel is not ours.
  EXPECT_FALSE(wire::decode_probe("n-2", p));
  for (std::string_view bad : {"", "probe", "probe ", "probe n-1", "probe n-1 ", "probe n-1 x",
                               "probe n-1 -1", "probe n-1 1 2", "probe n-1 01", "PROBE n-1 1", " probe n-1 1",
                               "probe n-1 12345678901234567890", "probe \x01 1", "ready n-1"})
    EXPECT_FALSE(wire::decode_probe("n-1", bad)) << bad;
  EXPECT_FALSE(wire::decode_probe(std::string(129, 'n'), "probe " + std::string(129, 'n') + " 1"));
}

TEST(WireProbe, TheChannelIsClassifiedWithItsNode) {
  auto c = wire::classify_channel("rtcore:probe:n-7", "rtcore:");
  EXPECT_EQ(c.kind, wire::ChannelKind::kProbe);
  EXPECT_EQ(c.target, "n-7");
}

TEST(Log, FieldsAreOneJsonObject) {
  EXPECT_EQ(log::fields_json({}), "{}");
  EXPECT_EQ(log::fields_json({{"status", 401}, {"reason", "a \"b\"\n"}}),
            R"({"status":401,"reason":"a \"b\"\n"})");
  std::string out;
  log::append_json_escaped(out, std::string_view("\x01\x7f", 2));
  EXPECT_EQ(out, "\\u0001\\u007f");
}

TEST(Log, RedactRemovesWhatCouldBeACredential) {
  const std::string jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";
  for (const std::string& line : std::initializer_list<std::string>{
           "GET /ws/alice?token=" + jwt + " HTTP/1.1", "authorization: Bearer " + jwt,
           "Authorization: Basic Ym9iOnNlY3JldA==", "sub-protocol bearer." + jwt, "token=" + jwt + "&x=1",
           "redis://bob:hunter2@cache:6379/0 down", "password=hunter2 secret=hunter2", "plain " + jwt}) {
    std::string r = log::redact(line);
    EXPECT_EQ(r.find(jwt), std::string::npos) << r;
    EXPECT_EQ(r.find("hunter2"), std::string::npos) << r;
    EXPECT_EQ(r.find("Ym9iOnNlY3JldA"), std::string::npos) << r;
  }
  EXPECT_EQ(log::redact("redis://bob:hunter2@cache:6379/0 down"), "redis://cache:6379/0 down");
  EXPECT_EQ(log::redact("nothing to hide here"), "nothing to hide here");
}

TEST(Log, TheSinkGetsLevelEventMessageAndFields) {
  int calls = 0;
  log::Logger logger(
      2, log::Format::kJson, "n-1",
      [&](log::Level level, std::string_view event, std::string_view msg, std::string_view fields) {
        ++calls;
        EXPECT_EQ(level, log::Level::kInfo);
        EXPECT_EQ(event, "thing_done");
        EXPECT_EQ(msg, "done");  // the trailing newline dropped
        EXPECT_EQ(fields, R"({"n":3})");
      });
  logger.write(log::Level::kInfo, "thing_done", "done\n", {{"n", 3}});
  logger.write(log::Level::kDebug, "too_verbose", "dropped");
  EXPECT_EQ(calls, 1);
  // The thread's current logger is the one in scope, the default outside.
  {
    log::Logger::Scope scope(&logger);
    log::write(log::Level::kInfo, "thing_done", "done", {{"n", 3}});
    EXPECT_EQ(calls, 2);
  }
  EXPECT_FALSE(log::enabled(log::Level::kInfo));  // the default: warnings
}
