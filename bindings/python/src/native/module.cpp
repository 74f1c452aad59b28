// rtcore._native: the pybind11 layer over the C API. It converts types and
// releases the GIL around every call that waits for the engine thread;
// policy (dispatch, errors, asyncio) lives in the pure-Python package.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "native_engine.hpp"

namespace py = pybind11;
using rtcore_py::Event;
using rtcore_py::NativeEngine;
using rtcore_py::Settings;

namespace {

// Engine text is validated UTF-8, except header values and the query,
// which reach us as the client sent them: never fail on those.
py::str text(const std::string& s) {
  PyObject* o = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
  if (!o) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(o);
}

py::tuple to_tuple(const Event& e) {
  using K = rtcore_py::EventKind;
  int kind = static_cast<int>(e.kind);
  switch (e.kind) {
    case K::kConnect: {
      py::list headers(e.headers.size());
      for (size_t i = 0; i < e.headers.size(); ++i)
        headers[i] = py::make_tuple(text(e.headers[i].first), text(e.headers[i].second));
      return py::make_tuple(kind, e.id, text(e.user_id), text(e.a), text(e.b), headers);
    }
    case K::kOpen: return py::make_tuple(kind, e.id, text(e.user_id));
    case K::kDisconnect: return py::make_tuple(kind, e.id, text(e.user_id), e.number);
    case K::kMessage: return py::make_tuple(kind, e.id, text(e.user_id), text(e.a), text(e.b));
    case K::kPresence: return py::make_tuple(kind, text(e.user_id), e.number, text(e.a));
  }
  return py::make_tuple(kind);
}

bool finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing();
#else
  return _Py_IsFinalizing();
#endif
}

// The Python-visible engine: destroying it waits for the engine thread, so
// the GIL is released unless the interpreter is already finalizing.
class PyEngine : public NativeEngine {
 public:
  ~PyEngine() {
    if (!created()) return;
    if (finalizing()) {
      destroy();
    } else {
      py::gil_scoped_release release;
      destroy();
    }
  }
};

py::dict stats_dict(const PyEngine& e) {
  rtc_stats s;
  int rc = e.stats(s);
  py::dict d;
  d["rc"] = rc;
  d["connections"] = s.connections;
  d["users"] = s.users;
  d["rooms"] = s.rooms;
  d["messages_in"] = s.messages_in;
  d["messages_out"] = s.messages_out;
  d["bytes_out"] = s.bytes_out;
  d["drops"] = s.drops;
  d["errors_sent"] = s.errors_sent;
  d["connections_total"] = s.connections_total;
  d["rejected_upgrades"] = s.rejected_upgrades;
  d["slow_consumer_closes"] = s.slow_consumer_closes;
  d["oversize_closes"] = s.oversize_closes;
  return d;
}

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "Thin binding of the rtcore C API (rtcore.h). Use the rtcore package instead.";

  m.def("version", &rtc_version);
  m.def("version_number", &rtc_version_number);
  m.def("strerror", &rtc_strerror, py::arg("code"));
  m.def("err_name", &rtc_err_name, py::arg("code"));

#define RTC_X_CONST(name, value, msg) m.attr("RTC_" #name) = value;
  RTC_ERRNO_MAP(RTC_X_CONST)
#undef RTC_X_CONST
  m.attr("PAYLOAD_CONTENT") = RTC_PAYLOAD_CONTENT;
  m.attr("PAYLOAD_RAW") = RTC_PAYLOAD_RAW;
  m.attr("PRESENCE_ONLINE") = RTC_PRESENCE_ONLINE;
  m.attr("PRESENCE_OFFLINE") = RTC_PRESENCE_OFFLINE;
  m.attr("HOOK_CONNECT") = static_cast<uint32_t>(rtcore_py::kHookConnect);
  m.attr("HOOK_OPEN") = static_cast<uint32_t>(rtcore_py::kHookOpen);
  m.attr("HOOK_DISCONNECT") = static_cast<uint32_t>(rtcore_py::kHookDisconnect);
  m.attr("HOOK_MESSAGE") = static_cast<uint32_t>(rtcore_py::kHookMessage);
  m.attr("HOOK_PRESENCE") = static_cast<uint32_t>(rtcore_py::kHookPresence);
  m.attr("EVENT_CONNECT") = static_cast<int>(rtcore_py::EventKind::kConnect);
  m.attr("EVENT_OPEN") = static_cast<int>(rtcore_py::EventKind::kOpen);
  m.attr("EVENT_DISCONNECT") = static_cast<int>(rtcore_py::EventKind::kDisconnect);
  m.attr("EVENT_MESSAGE") = static_cast<int>(rtcore_py::EventKind::kMessage);
  m.attr("EVENT_PRESENCE") = static_cast<int>(rtcore_py::EventKind::kPresence);

  py::class_<PyEngine>(m, "Engine")
      .def(py::init<>())
      .def(
          "create",
          [](PyEngine& self, const std::string& host, uint32_t port, uint64_t max_message_size,
             uint64_t max_send_queue_bytes, uint32_t ping_interval_ms, uint32_t ping_timeout_ms,
             int64_t max_rooms_per_connection, bool allow_post_without_join, const std::string& node_id,
             const std::string& redis_url, uint32_t log_level, uint32_t hooks) {
            Settings s{host, port, max_message_size, max_send_queue_bytes, ping_interval_ms, ping_timeout_ms,
                       max_rooms_per_connection, allow_post_without_join, node_id, redis_url, log_level, hooks};
            return self.create(s);
          },
          py::kw_only(), py::arg("host"), py::arg("port"), py::arg("max_message_size"),
          py::arg("max_send_queue_bytes"), py::arg("ping_interval_ms"), py::arg("ping_timeout_ms"),
          py::arg("max_rooms_per_connection"), py::arg("allow_post_without_join"), py::arg("node_id"),
          py::arg("redis_url"), py::arg("log_level"), py::arg("hooks"))
      .def("start", &PyEngine::start, py::call_guard<py::gil_scoped_release>())
      .def("stop", &PyEngine::stop, py::arg("timeout_ms"), py::call_guard<py::gil_scoped_release>())
      .def("destroy", &PyEngine::destroy, py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("created", &PyEngine::created)
      .def("port", &PyEngine::port)
      .def("node_id", &PyEngine::node_id)
      .def("stats", &stats_dict)
      .def("fileno", &PyEngine::fd)
      .def("drain",
           [](PyEngine& self) {
             std::vector<Event> batch;
             {
               py::gil_scoped_release release;  // the queue mutex may be held by the engine thread
               batch = self.take();
             }
             py::list out(batch.size());
             for (size_t i = 0; i < batch.size(); ++i) out[i] = to_tuple(batch[i]);
             return out;
           })
      .def("resolve", &PyEngine::resolve, py::arg("request_id"), py::arg("accept"), py::arg("status"),
           py::arg("user_id"))
      .def("send_to_user", &PyEngine::send_to_user, py::arg("user_id"), py::arg("sender"), py::arg("kind"),
           py::arg("payload"))
      .def("send_to_connection", &PyEngine::send_to_connection, py::arg("conn"), py::arg("sender"),
           py::arg("kind"), py::arg("payload"))
      .def("broadcast", &PyEngine::broadcast, py::arg("room"), py::arg("sender"), py::arg("kind"),
           py::arg("payload"))
      .def("join", &PyEngine::join, py::arg("conn"), py::arg("room"))
      .def("leave", &PyEngine::leave, py::arg("conn"), py::arg("room"))
      .def("send_error", &PyEngine::send_error, py::arg("conn"), py::arg("code"), py::arg("message"),
           py::arg("id_json"))
      .def("disconnect", &PyEngine::disconnect, py::arg("conn"), py::arg("close_code"))
      .def("disconnect_user", &PyEngine::disconnect_user, py::arg("user_id"), py::arg("close_code"));
}
