// chat_server.cpp: the example chat server (examples/README.md) in C++,
// on the header-only wrapper rtcore.hpp (RAII engine, std::string_view,
// lambdas as handlers). Same behaviour as the C, Python and Node examples:
//   - "mallory" is refused with 403 (deferred decision: close code 4403);
//   - every new connection gets {"type":"direct_message","from":"",
//     "content":{"welcome":USER},...} from the server;
//   - {"type":"whoami"} is answered with {"type":"whoami","user":USER},
//     then its ack.
//
// Usage: chat_server_cpp [port]   (default 8000; 0 picks a free port).
#include <rtcore.hpp>

#include <pthread.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

namespace {

// user as a JSON string.
std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", c);
      out += esc;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + '"';
}

}  // namespace

int main(int argc, char** argv) {
  rtcore::Engine engine;
  engine.config().port = argc > 1 ? static_cast<uint32_t>(std::atoi(argv[1])) : 8000;

  engine.on_connect([&engine](const rtcore::ConnectRequest& req, rtcore::ConnectDecision& decision) {
    if (req.user_id() == "mallory") {
      decision.defer();  // decided after the upgrade, as the bindings do
      engine.resolve_connect(req.request_id(), false, 403);
    }
  });
  engine.on_open([&engine](rtcore::ConnId conn, std::string_view user) {
    engine.send_message_to_connection(conn, "{\"welcome\":" + quoted(user) + "}");
  });
  engine.on_message([&engine](const rtcore::Message& m) {
    if (m.type != "whoami")  // the bindings' wording
      return engine.send_error(m, "unknown_type",
                               "no handler for message type \"" + std::string(m.type) + "\"");
    engine.send_to_connection(m.conn, R"({"type":"whoami","user":)" + quoted(m.user_id) + "}");
    engine.ack(m);
  });
  engine.on_presence([](const rtcore::PresenceEvent& ev) {
    std::cout << "presence " << ev.user_id << (ev.online ? " online " : " offline ") << ev.timestamp
              << std::endl;
  });

  // Block the signals before the engine thread starts, so only sigwait
  // gets them.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  try {
    engine.start();
  } catch (const rtcore::Error& e) {
    std::cerr << "chat_server: " << e.what() << "\n";
    return 1;
  }
  std::cout << "listening on ws://127.0.0.1:" << engine.port() << std::endl;

  int sig = 0;
  sigwait(&sigs, &sig);
  engine.stop();  // 1001 to every client; the destructor frees the engine
  return 0;
}
