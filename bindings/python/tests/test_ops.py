"""Operations: the engine's log lines reach logging.getLogger("rtcore")
(never a token or a secret), and the internal listener (internal_listen,
App.internal_port)."""

from __future__ import annotations

import asyncio
import logging
import urllib.request
from typing import List, Tuple

import pytest
import rtcore

from conftest import async_test
from support import http_status_of

SECRET = b"python-ops-secret-41d"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.Zm9yZ2Vk"


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: List[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def http_get(port: int, path: str) -> Tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@async_test()
async def test_engine_log_lines_go_to_the_rtcore_logger_without_secrets() -> None:
    log = logging.getLogger("rtcore")
    capture = Capture()
    old_level = log.level
    log.addHandler(capture)
    log.setLevel(logging.DEBUG)
    try:
        app = rtcore.App(auth="jwt-hs256", jwt_secret=SECRET, log_level="debug")
        async with app:
            assert await http_status_of(app, f"/ws/alice?token={TOKEN}") == 401
            for _ in range(100):
                if any(getattr(r, "rtcore_event", "") == "upgrade_refused" for r in capture.records):
                    break
                await asyncio.sleep(0.05)
    finally:
        log.removeHandler(capture)
        log.setLevel(old_level)
    engine_records = [r for r in capture.records if hasattr(r, "rtcore_event")]
    refused = [r for r in engine_records if r.rtcore_event == "upgrade_refused"]
    assert refused, [r.getMessage() for r in engine_records]
    assert refused[0].levelno == logging.INFO
    assert refused[0].rtcore_fields["status"] == 401
    assert refused[0].getMessage().startswith("upgrade refused (401)")
    assert any(r.rtcore_event == "lws" for r in engine_records)  # libwebsockets' lines too
    for r in engine_records:
        text = r.getMessage() + repr(r.rtcore_fields)
        assert SECRET.decode() not in text and TOKEN not in text and "Zm9yZ2Vk" not in text, text


@async_test()
async def test_internal_listen_moves_readyz_and_stats_to_internal_port() -> None:
    app = rtcore.App(internal_listen="127.0.0.1:0")
    assert app.internal_port == 0
    async with app:
        internal = app.internal_port
        assert internal not in (0, app.port)
        loop = asyncio.get_running_loop()
        assert await loop.run_in_executor(None, http_get, internal, "/readyz") == (200, "ready\n")
        assert (await loop.run_in_executor(None, http_get, internal, "/stats"))[0] == 200
        assert (await loop.run_in_executor(None, http_get, app.port, "/readyz"))[0] == 404
        assert (await loop.run_in_executor(None, http_get, app.port, "/healthz"))[0] == 200
    assert app.internal_port == 0


@async_test()
async def test_readyz_on_the_public_port_without_internal_listen() -> None:
    async with rtcore.App() as app:
        assert app.internal_port == 0
        status = await asyncio.get_running_loop().run_in_executor(None, http_get, app.port, "/readyz")
        assert status == (200, "ready\n")


@pytest.mark.parametrize("bad", ["127.0.0.1", "127.0.0.1:99999", ":9100", "127.0.0.1:x"])
def test_a_malformed_internal_listen_is_a_value_error(bad: str) -> None:
    with pytest.raises(ValueError, match="internal_listen"):
        rtcore.App(internal_listen=bad)
