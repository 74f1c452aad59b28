"""The App's settings and Stats are derived from the C library's tables
(rtc_config_option, rtc_stats_field): every row is an option under the
documented rule, with rtc_config_init's default and the row's range."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

import rtcore
from rtcore import _native
from rtcore._config import OPTIONS

from conftest import async_test

ROWS = _native.config_options()
C_INIT = _native.config_defaults()


def rule_name(row: Dict[str, Any]) -> str:
    """The rule of rtcore/_config.py, restated independently."""
    exceptions = {"auth_mode": "auth"}
    if row["name"] in exceptions:
        return exceptions[row["name"]]
    return re.sub(r"(_ms|_s|_file)$", "", row["name"])


def test_every_row_of_the_c_table_is_an_option_under_the_derived_name() -> None:
    assert len(ROWS) >= 30
    assert [rule_name(r) for r in ROWS] == list(OPTIONS)
    for row in ROWS:
        assert OPTIONS[rule_name(row)].field == row["name"]
    fields = {f.name for f in dataclasses.fields(rtcore.Config)}
    for name in OPTIONS:
        if name not in ("host", "port"):  # App(host=, port=) and start()'s arguments
            assert name in fields, name
    # The two new rows, with no code of their own in the binding.
    assert OPTIONS["history_size"].kind == "int"
    assert OPTIONS["history_ttl"].kind == "seconds"
    assert OPTIONS["presence_limit"].field == "presence_limit"
    assert OPTIONS["join_timeout"].field == "join_timeout_ms"


def test_defaults_are_rtc_config_init_s() -> None:
    cfg = rtcore.App().config
    for opt in OPTIONS.values():
        if opt.name in ("host", "port"):
            continue
        value = getattr(cfg, opt.name)
        c_value = opt.to_c(value)
        expected = C_INIT[opt.field]
        if opt.kind in ("string", "path"):
            assert c_value == (expected or ""), opt.name
        elif opt.field == "allowed_origins":
            assert c_value == (expected or ""), opt.name
        else:
            assert c_value == expected, opt.name
        assert getattr(rtcore.Defaults, opt.name) == opt.default
    assert cfg.history_size == C_INIT["history_size"] == 0
    assert cfg.history_ttl == C_INIT["history_ttl_s"] == 300
    assert cfg.ping_interval == C_INIT["ping_interval_ms"] / 1000
    assert cfg.auth == "none" and cfg.log_format == "text"


def test_out_of_range_values_are_refused_naming_the_option() -> None:
    for opt in OPTIONS.values():
        if opt.name in ("host", "port") or opt.kind not in ("int", "seconds", "ms"):
            continue
        if opt.field == "log_level":
            continue  # takes names too; checked below
        if opt.kind == "ms":
            too_big = opt.maximum / 1000 + 1
        else:
            too_big = opt.maximum + 1
        with pytest.raises(ValueError, match=opt.name):
            rtcore.App(**{opt.name: too_big})
        if opt.minimum > 0 and opt.kind != "ms":
            with pytest.raises(ValueError, match=opt.name):
                rtcore.App(**{opt.name: opt.minimum - 1})
        rtcore.App(**{opt.name: opt.default})  # the default itself is accepted
    with pytest.raises(ValueError, match="history_size"):
        rtcore.App(history_size=100001)
    with pytest.raises(ValueError, match="history_ttl"):
        rtcore.App(history_ttl=0)
    with pytest.raises(ValueError, match="history_ttl"):
        rtcore.App(history_ttl=1.5)  # whole seconds
    with pytest.raises(ValueError, match="log_level"):
        rtcore.App(log_level=4)
    with pytest.raises(ValueError, match="log_format"):
        rtcore.App(log_format="xml")
    with pytest.raises(TypeError, match="histroy_size"):
        rtcore.App(histroy_size=3)


def test_units_are_converted_into_the_fields() -> None:
    app = rtcore.App(ping_interval=1.5, idle_timeout=0.0011, history_size=50, history_ttl=60, join_timeout=2.5,
                     node_ttl=1.001, max_message_size=4096, log_level="debug", log_format="json", presence_limit=7)
    kw = app.config.native_kwargs("127.0.0.1", 0, 0)
    assert kw["ping_interval_ms"] == 1500
    assert kw["idle_timeout_ms"] == 2  # rounded up to whole ms
    assert kw["node_ttl_ms"] == 1001
    assert kw["join_timeout_ms"] == 2500
    assert (kw["history_size"], kw["history_ttl_s"]) == (50, 60)
    assert kw["max_message_size"] == 4096
    assert (kw["log_level"], kw["log_format"], kw["presence_limit"]) == (3, 1, 7)
    # Every row, under its rtc_config name: what _native.Engine.create requires.
    assert {r["name"] for r in ROWS} <= set(kw)
    # idle_timeout: 0 and None are "off".
    assert rtcore.App(idle_timeout=None).config.native_kwargs("h", 0, 0)["idle_timeout_ms"] == 0
    assert rtcore.App(idle_timeout=0).config.native_kwargs("h", 0, 0)["idle_timeout_ms"] == 0


def test_names_kept_from_before_the_table() -> None:
    # join_timeout_ms: the raw field, in milliseconds.
    kw = rtcore.App(join_timeout_ms=1234).config.native_kwargs("h", 0, 0)
    assert kw["join_timeout_ms"] == 1234
    assert rtcore.Defaults.join_timeout_ms == C_INIT["join_timeout_ms"]
    with pytest.raises(ValueError, match="join_timeout_ms"):
        rtcore.App(join_timeout_ms=0)
    with pytest.raises(ValueError, match="join_timeout"):
        rtcore.App(join_timeout_ms=5, join_timeout=1)
    # auth (auth_mode), tls_cert / tls_key (the _file rule), positional redis_url and ping_interval.
    assert rtcore.App(auth="jwt-hs256", jwt_secret="s").config.native_kwargs("h", 0, 0)["auth_mode"] == 1
    app = rtcore.App(None, 12)
    assert app.config.ping_interval == 12


def _create(**overrides: Any) -> int:
    kw = rtcore.App().config.native_kwargs("127.0.0.1", 0, 0)
    kw.update(overrides)
    engine = _native.Engine()
    rc = engine.create(**kw)
    engine.destroy()
    return rc


def test_history_settings_reach_the_engine() -> None:
    # The native layer writes every row generically into rtc_config; the
    # engine's own check (config_from_c: history_size <= kMaxHistorySize)
    # refuses what only reaches it through that field.
    assert _create(history_size=50, history_ttl_s=60) == _native.RTC_OK
    assert _create(history_size=100001) == _native.RTC_EINVAL
    assert _create(log_format=2) == _native.RTC_EINVAL  # likewise for another row
    with pytest.raises(TypeError, match="history_size"):
        kw = rtcore.App().config.native_kwargs("127.0.0.1", 0, 0)
        del kw["history_size"]
        _native.Engine().create(**kw)


def test_stats_fields_are_the_c_counters_table() -> None:
    names = [f.name for f in dataclasses.fields(rtcore.Stats)]
    assert names == [name for name, _, _ in rtcore.STATS_FIELDS]
    assert len(names) == len(_native.stats_fields()) >= 30
    assert {kind for _, kind, _ in rtcore.STATS_FIELDS} == {"counter", "gauge"}
    # Today's attribute names (rtc_stats in rtcore.h).
    for name in ("connections", "messages_in", "backplane_fenced", "queued_bytes", "internal_errors"):
        assert name in names


def test_python_m_rtcore_options_lists_every_row() -> None:
    out = subprocess.run([sys.executable, "-m", "rtcore", "options"], check=True, capture_output=True, text=True).stdout
    lines = out.splitlines()
    assert [line.split("=", 1)[0] for line in lines] == list(OPTIONS)
    assert any(line.startswith("history_ttl=300 ") and "--history-ttl" in line for line in lines)
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "python -m rtcore options" in readme


async def _unmasked_join(app: rtcore.App) -> Any:
    """Close code, or the first JSON frame, after an unmasked join_room: the
    own path closes it with 1002, libwebsockets 4.1 takes it."""
    reader, writer = await asyncio.open_connection(app.host, app.port)
    try:
        writer.write(b"GET /ws/raw HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 101"), head
        payload = json.dumps({"type": "join_room", "room": "r", "id": "u1"}).encode()
        writer.write(bytes([0x81, len(payload)]) + payload)
        first, size = await asyncio.wait_for(reader.readexactly(2), 5)
        body = await asyncio.wait_for(reader.readexactly(size & 0x7F), 5)
        return int.from_bytes(body[:2], "big") if first & 0x0F == 0x8 else json.loads(body)
    finally:
        writer.close()


@async_test()
async def test_lws_transport_serves_every_connection_through_libwebsockets() -> None:
    assert rtcore.App().config.lws_transport is False
    async with rtcore.App() as app:
        assert await _unmasked_join(app) == 1002
    async with rtcore.App(lws_transport=True) as app:
        assert await _unmasked_join(app) == {"type": "ack", "id": "u1"}
