// rtcore._native: the pybind11 layer over the C API. It converts types and
// releases the GIL around every call that waits for the engine thread;
// policy (dispatch, errors, asyncio) lives in the pure-Python package.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <deque>
#include <string>
#include <type_traits>

#include "native_engine.hpp"

namespace py = pybind11;
using rtcore_py::NativeEngine;

namespace {

// Engine text is validated UTF-8, except header values and the query,
// which reach us as the client sent them: never fail on those.
py::str text(const std::string& s) {
  PyObject* o = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
  if (!o) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(o);
}

py::str text(const rtc_text& t) {
  return text(std::string(t.data ? t.data : "", t.len));
}

py::list items(const rtc_event& e) {
  py::list out(e.item_count);
  for (size_t i = 0; i < e.item_count; ++i) out[i] = text(e.items[i]);
  return out;
}

// One C event as the tuple rtcore._dispatch expects (see _native.pyi);
// None for a kind this module does not know (a newer library's).
py::object to_tuple(const rtc_event& e) {
  using K = rtcore_py::EventKind;
  auto k = [](K kind) { return static_cast<int>(kind); };
  switch (e.kind) {
    case RTC_EVENT_CONNECT: {
      py::list headers(e.header_count);
      for (size_t i = 0; i < e.header_count; ++i) {
        const rtc_header& h = e.headers[i];
        headers[i] =
            py::make_tuple(text(std::string(h.name, h.name_len)), text(std::string(h.value, h.value_len)));
      }
      return py::make_tuple(k(K::kConnect), e.request_id, text(e.user_id), text(e.a), text(e.b), headers);
    }
    case RTC_EVENT_OPEN: return py::make_tuple(k(K::kOpen), e.conn, text(e.user_id));
    case RTC_EVENT_DISCONNECT: return py::make_tuple(k(K::kDisconnect), e.conn, text(e.user_id), e.code);
    case RTC_EVENT_MESSAGE:
      return py::make_tuple(k(K::kMessage), e.conn, text(e.user_id), text(e.a), text(e.b), text(e.c));
    case RTC_EVENT_PRESENCE: return py::make_tuple(k(K::kPresence), text(e.user_id), e.code, text(e.a));
    case RTC_EVENT_AUTHORIZE:
      return py::make_tuple(k(K::kAuthorize), e.conn, text(e.user_id), e.code, text(e.a), e.request_id);
    case RTC_EVENT_LOG: return py::make_tuple(k(K::kLog), e.code, text(e.a), text(e.b), text(e.c));
    case RTC_EVENT_ROOM_MEMBERS:
      // (kind, token, status, users, truncated, flags)
      return py::make_tuple(k(K::kAnswer), e.token, e.status, items(e), e.code != 0, py::list());
    case RTC_EVENT_USERS_ONLINE: {
      py::list flags(e.item_count);
      for (size_t i = 0; i < e.item_count; ++i) flags[i] = py::bool_(e.online[i] != 0);
      return py::make_tuple(k(K::kAnswer), e.token, e.status, items(e), false, flags);
    }
    case RTC_EVENT_HISTORY:
      // (kind, token, status, epoch, top, [frame JSON])
      return py::make_tuple(k(K::kHistory), e.token, e.status, text(e.a), e.top, items(e));
  }
  return py::none();
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

// Every counter by the name rtcore.h gives it, from the library's own table
// (rtc_stats_field), so a counter added to the engine needs no change here.
py::dict stats_dict(const PyEngine& e) {
  rtc_stats s;
  int rc = e.stats(s);
  py::dict d;
  d["rc"] = rc;
  const char* base = reinterpret_cast<const char*>(&s) + offsetof(rtc_stats, connections);
  size_t known = (sizeof s - offsetof(rtc_stats, connections)) / sizeof(uint64_t);
  size_t n = std::min(rtc_stats_count(), known);  // a newer library may know more
  for (size_t i = 0; i < n; ++i) {
    const char* name = nullptr;
    if (rtc_stats_field(i, &name, nullptr, nullptr) != RTC_OK) break;
    uint64_t v;
    std::memcpy(&v, base + i * sizeof v, sizeof v);
    d[name] = v;
  }
  return d;
}

py::tuple metrics_text(const PyEngine& e) {
  std::string text;
  int rc = e.metrics(text);
  return py::make_tuple(rc, py::str(text));
}

const char* type_name(uint32_t type) {
  switch (type) {
    case RTC_OPTION_STRING: return "string";
    case RTC_OPTION_UINT: return "uint";
    case RTC_OPTION_BOOL: return "bool";
    case RTC_OPTION_ENUM: return "enum";
  }
  return "unknown";  // a newer library's type: the Python layer skips the row
}

const char* unit_name(uint32_t unit) {
  switch (unit) {
    case RTC_UNIT_NONE: return "none";
    case RTC_UNIT_BYTES: return "bytes";
    case RTC_UNIT_MS: return "ms";
    case RTC_UNIT_SECONDS: return "seconds";
  }
  return "unknown";
}

// The library's settings table (rtc_config_option), one dict a row, so the
// Python layer derives its options, defaults and checks from it and a new
// row reaches Python without a change here. "default" is None for a string
// the engine picks (NULL in rtc_config_init).
py::list config_options() {
  py::list out;
  for (size_t i = 0; i < rtc_config_option_count(); ++i) {
    const rtc_option_info* o = rtc_config_option(i);
    if (!o) break;
    py::dict d;
    d["name"] = o->name;
    d["flag"] = o->flag;
    d["env"] = o->env;
    d["help"] = o->help;
    d["type"] = type_name(o->type);
    d["unit"] = unit_name(o->unit);
    d["min"] = o->min;
    d["max"] = o->max;
    if (o->type == RTC_OPTION_STRING)
      d["default"] = o->default_string ? py::object(py::str(o->default_string)) : py::object(py::none());
    else if (o->type == RTC_OPTION_BOOL)
      d["default"] = py::bool_(o->default_value != 0);
    else
      d["default"] = o->default_value;
    out.append(d);
  }
  return out;
}

// rtc_config_init's values by field name: every row, plus the two
// rate-limit fields, which are set as a pair and have no row.
py::dict config_defaults() {
  rtc_config c;
  rtc_config_init(&c);
  py::dict d;
  for (const auto& row : config_options()) d[row["name"]] = row["default"];
  d["rate_limit_per_s"] = c.rate_limit_per_s;
  d["rate_limit_burst"] = c.rate_limit_burst;
  return d;
}

// The counters' table (rtc_stats_field): (name, kind, help) a counter.
py::list stats_fields() {
  py::list out;
  for (size_t i = 0; i < rtc_stats_count(); ++i) {
    const char *name = nullptr, *kind = nullptr, *help = nullptr;
    if (rtc_stats_field(i, &name, &kind, &help) != RTC_OK) break;
    out.append(py::make_tuple(name, kind, help));
  }
  return out;
}

// Writes one row's value (range-checked by rtcore._config against the row;
// the engine checks it again) into the rtc_config field the row describes
// (offset and size from the descriptor): no per-setting code. An empty
// string leaves the field NULL (the engine's default); strings live in
// `strings` until the engine has copied them.
void set_field(rtc_config& c, const rtc_option_info& o, const py::handle& value,
               std::deque<std::string>& strings) {
  char* p = reinterpret_cast<char*>(&c) + o.offset;
  if (o.type == RTC_OPTION_STRING) {
    if (o.size != sizeof(const char*))
      throw py::type_error(std::string("setting ") + o.name + ": unexpected field");
    const char* s = nullptr;
    if (!value.is_none()) {
      strings.push_back(value.cast<std::string>());
      if (strings.back().find('\0') != std::string::npos)
        throw py::value_error(std::string(o.name) + " must not contain NUL");
      if (!strings.back().empty()) s = strings.back().c_str();
    }
    std::memcpy(p, &s, sizeof s);
    return;
  }
  if (o.type != RTC_OPTION_UINT && o.type != RTC_OPTION_BOOL && o.type != RTC_OPTION_ENUM)
    throw py::type_error(std::string("setting ") + o.name + " has a type this binding does not know");
  uint64_t v = py::isinstance<py::bool_>(value) ? (value.cast<bool>() ? 1 : 0) : value.cast<uint64_t>();
  if (o.size == sizeof(uint64_t)) {
    std::memcpy(p, &v, sizeof v);
  } else if (o.size == sizeof(uint32_t)) {
    uint32_t v32 = static_cast<uint32_t>(v);
    if (v32 != v) throw py::value_error(std::string(o.name) + " does not fit 32 bits");
    std::memcpy(p, &v32, sizeof v32);
  } else {
    throw py::type_error(std::string("setting ") + o.name + ": unexpected field size");
  }
}

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "Thin binding of the rtcore C API (rtcore.h). Use the rtcore package instead.";

  m.def("version", &rtc_version);
  m.def("version_number", &rtc_version_number);
  m.def("strerror", &rtc_strerror, py::arg("code"));
  m.def("err_name", &rtc_err_name, py::arg("code"));
  m.def("config_defaults", &config_defaults, "rtc_config_init's values by rtc_config field name");
  m.def("config_options", &config_options, "the settings table (rtc_config_option), a dict a row");
  m.def("stats_fields", &stats_fields, "the counters' table (rtc_stats_field): (name, kind, help) tuples");

#define RTC_X_CONST(name, value, msg) m.attr("RTC_" #name) = value;
  RTC_ERRNO_MAP(RTC_X_CONST)
#undef RTC_X_CONST
  m.attr("AUTH_NONE") = RTC_AUTH_NONE;
  m.attr("AUTH_JWT_HS256") = RTC_AUTH_JWT_HS256;
  m.attr("PAYLOAD_CONTENT") = RTC_PAYLOAD_CONTENT;
  m.attr("PAYLOAD_RAW") = RTC_PAYLOAD_RAW;
  m.attr("PRESENCE_ONLINE") = RTC_PRESENCE_ONLINE;
  m.attr("PRESENCE_OFFLINE") = RTC_PRESENCE_OFFLINE;
  m.attr("HOOK_CONNECT") = static_cast<uint32_t>(rtcore_py::kHookConnect);
  m.attr("HOOK_OPEN") = static_cast<uint32_t>(rtcore_py::kHookOpen);
  m.attr("HOOK_DISCONNECT") = static_cast<uint32_t>(rtcore_py::kHookDisconnect);
  m.attr("HOOK_MESSAGE") = static_cast<uint32_t>(rtcore_py::kHookMessage);
  m.attr("HOOK_PRESENCE") = static_cast<uint32_t>(rtcore_py::kHookPresence);
  m.attr("HOOK_AUTHORIZE") = static_cast<uint32_t>(rtcore_py::kHookAuthorize);
  m.attr("HOOK_LOG") = static_cast<uint32_t>(rtcore_py::kHookLog);
  m.attr("EVENT_CONNECT") = static_cast<int>(rtcore_py::EventKind::kConnect);
  m.attr("EVENT_OPEN") = static_cast<int>(rtcore_py::EventKind::kOpen);
  m.attr("EVENT_DISCONNECT") = static_cast<int>(rtcore_py::EventKind::kDisconnect);
  m.attr("EVENT_MESSAGE") = static_cast<int>(rtcore_py::EventKind::kMessage);
  m.attr("EVENT_PRESENCE") = static_cast<int>(rtcore_py::EventKind::kPresence);
  m.attr("EVENT_AUTHORIZE") = static_cast<int>(rtcore_py::EventKind::kAuthorize);
  m.attr("EVENT_LOG") = static_cast<int>(rtcore_py::EventKind::kLog);
  m.attr("EVENT_ANSWER") = static_cast<int>(rtcore_py::EventKind::kAnswer);
  m.attr("EVENT_HISTORY") = static_cast<int>(rtcore_py::EventKind::kHistory);
  m.attr("ACTION_JOIN_ROOM") = RTC_ACTION_JOIN_ROOM;
  m.attr("ACTION_ROOM_MESSAGE") = RTC_ACTION_ROOM_MESSAGE;
  m.attr("ACTION_DIRECT_MESSAGE") = RTC_ACTION_DIRECT_MESSAGE;
  m.attr("ACTION_PRESENCE") = RTC_ACTION_PRESENCE;
  m.attr("ACTION_ONLINE") = RTC_ACTION_ONLINE;

  py::class_<PyEngine>(m, "Engine")
      .def(py::init<>())
      .def("create",
           [](PyEngine& self, const py::kwargs& kw) {
             // Every row of the settings table is required by its rtc_config
             // name, so a Python/C mismatch is a TypeError here rather than
             // a silently defaulted field. Rows are written generically
             // (set_field); only the fields without a row are named here.
             rtc_config config;
             rtc_config_init(&config);
             std::deque<std::string> strings;
             size_t used = 0;
             for (size_t i = 0; i < rtc_config_option_count(); ++i) {
               const rtc_option_info* o = rtc_config_option(i);
               if (!o) break;
               if (!kw.contains(o->name))
                 throw py::type_error(std::string("create() missing setting ") + o->name);
               set_field(config, *o, kw[o->name], strings);
               ++used;
             }
             auto get = [&](const char* key, auto& field) {
               if (!kw.contains(key)) throw py::type_error(std::string("create() missing setting ") + key);
               field = kw[key].cast<std::remove_reference_t<decltype(field)>>();
               ++used;
             };
             uint32_t hooks = 0;
             get("hooks", hooks);
             get("rate_limit_per_s", config.rate_limit_per_s);
             get("rate_limit_burst", config.rate_limit_burst);
             // The secret is bytes (never str, never echoed in an error).
             if (!kw.contains("jwt_secret") || !py::isinstance<py::bytes>(kw["jwt_secret"]))
               throw py::type_error("create() needs jwt_secret as bytes");
             std::string secret = kw["jwt_secret"].cast<std::string>();
             ++used;
             config.jwt_secret = secret.empty() ? nullptr : secret.data();
             config.jwt_secret_len = secret.size();
             if (used != kw.size()) throw py::type_error("create() got an unknown setting");
             int rc = self.create(config, hooks);
             std::fill(secret.begin(), secret.end(), '\0');  // the engine keeps its own copy
             return rc;
           })
      .def("start", &PyEngine::start, py::call_guard<py::gil_scoped_release>())
      .def("stop", &PyEngine::stop, py::arg("timeout_ms"), py::call_guard<py::gil_scoped_release>())
      .def("destroy", &PyEngine::destroy, py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("created", &PyEngine::created)
      .def("port", &PyEngine::port)
      .def("internal_port", &PyEngine::internal_port)
      .def("node_id", &PyEngine::node_id)
      .def("stats", &stats_dict)
      .def("metrics", &metrics_text)
      .def("fileno", &PyEngine::fd)
      .def("drain",
           [](PyEngine& self) {
             rtcore_py::Batch batch;
             {
               py::gil_scoped_release release;  // the queue mutex may be held by the engine thread
               batch = self.take();
             }
             py::list out;
             for (size_t i = 0; i < rtc_event_batch_count(batch.get()); ++i) {
               py::object t = to_tuple(*rtc_event_batch_get(batch.get(), i));
               if (!t.is_none()) out.append(t);
             }
             return out;
           })
      .def("resolve", &PyEngine::resolve, py::arg("request_id"), py::arg("accept"), py::arg("status"),
           py::arg("user_id"))
      .def("authorize_resolve", &PyEngine::authorize_resolve, py::arg("request_id"), py::arg("allow"))
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
      .def("disconnect_user", &PyEngine::disconnect_user, py::arg("user_id"), py::arg("close_code"))
      .def("room_members", &PyEngine::room_members, py::arg("room"), py::arg("limit"), py::arg("token"))
      .def("users_online", &PyEngine::users_online, py::arg("users"), py::arg("token"))
      .def("history", &PyEngine::history, py::arg("room"), py::arg("limit"), py::arg("before"),
           py::arg("token"));
}
