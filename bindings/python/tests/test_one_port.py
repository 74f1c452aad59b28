"""One port for FastAPI and rtcore (examples/python/one_port, docs/one-port.md):
a real nginx, run unprivileged on a free loopback port with its own prefix,
pid and temp paths in a temporary directory, routes /ws/... to the engine
and the rest to uvicorn. The clients only ever talk to nginx's port."""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
import socket
import string
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from conftest import EXAMPLES, async_test, recv_json, send_json

ONE_PORT = Path(EXAMPLES) / "one_port"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (scripts/install-deps.sh installs it)")


def _load_example() -> Any:
    spec = importlib.util.spec_from_file_location("one_port_app", ONE_PORT / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    """nginx in the foreground as this user, from the example's template."""

    def __init__(self, run_dir: Path, app_port: int, rtcore_port: int, port: int = 0) -> None:
        self.run_dir = run_dir
        self.port = port or _free_port()
        template = string.Template((ONE_PORT / "nginx.conf").read_text())
        # safe_substitute: nginx's own $variables stay as they are.
        conf = template.safe_substitute(
            LISTEN=f"127.0.0.1:{self.port}",
            APP=f"127.0.0.1:{app_port}",
            RTCORE=f"127.0.0.1:{rtcore_port}",
            RUN_DIR=str(run_dir),
        )
        assert "${" not in conf
        (run_dir / "nginx.conf").write_text(conf)
        # master_process off: one process, no switch to another user even
        # when the tests run as root; it stops on SIGTERM.
        self.proc = subprocess.Popen(
            [NGINX, "-p", str(run_dir), "-e", str(run_dir / "error.log"), "-c", str(run_dir / "nginx.conf"),
             "-g", "daemon off; master_process off;"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def wait_listening(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"nginx exited: {self.proc.stdout.read().decode()} {self.error_log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise AssertionError(f"nginx not listening on {self.port}: {self.error_log()}")

    def error_log(self) -> str:
        log = self.run_dir / "error.log"
        return log.read_text() if log.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc.stdout.close()


@pytest.fixture
def run_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="rtcore-one-port-") as d:
        yield Path(d)


@async_test(timeout=60)
async def test_fastapi_and_rtcore_share_one_port_through_nginx(run_dir: Path) -> None:
    api = _load_example().create_app(rtcore_port=0, allowed_origins=None)
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve())
    nginx = None
    try:
        while not server.started:
            assert not serving.done(), "uvicorn exited"
            await asyncio.sleep(0.01)
        app_port = server.servers[0].sockets[0].getsockname()[1]
        rt = api.state.rtcore
        assert rt.running
        nginx = Nginx(run_dir, app_port, rt.port)
        await asyncio.get_running_loop().run_in_executor(None, nginx.wait_listening)
        port = nginx.port
        assert port not in (app_port, rt.port)
        origin = f"http://127.0.0.1:{port}"

        async with httpx.AsyncClient(base_url=origin) as http:
            # FastAPI through the one port.
            response = await http.get("/api/hello")
            assert response.status_code == 200 and response.json() == {"hello": "world"}

            # WebSockets through the same port and origin.
            url = f"ws://127.0.0.1:{port}/ws"
            async with connect(f"{url}/alice", origin=origin, open_timeout=5) as alice, \
                    connect(f"{url}/bob", origin=origin, open_timeout=5) as bob:
                await send_json(alice, {"type": "join_room", "room": "lobby", "id": 1})
                assert await recv_json(alice) == {"type": "ack", "id": 1}
                await send_json(bob, {"type": "join_room", "room": "lobby", "id": 2})
                assert await recv_json(bob) == {"type": "ack", "id": 2}
                await send_json(bob, {"type": "room_message", "room": "lobby", "content": {"text": "hi"}})
                while True:
                    msg = await recv_json(alice)
                    if msg["type"] == "message":
                        break
                assert msg["from"] == "bob" and msg["room"] == "lobby" and msg["content"] == {"text": "hi"}
                await send_json(alice, {"type": "direct_message", "to": "bob", "content": "psst"})
                while True:
                    msg = await recv_json(bob)
                    if msg["type"] == "direct_message":
                        break
                assert msg["from"] == "alice" and msg["content"] == "psst"

                # The engine's counters, read through FastAPI on the same port.
                stats = (await http.get("/api/stats")).json()
                assert stats["connections"] == 2 and stats["users"] == 2 and stats["rooms"] == 1
                # on_connect saw the client's address in X-Forwarded-For.
                got = (await http.get("/api/address/alice")).json()
                assert got == {"user_id": "alice", "address": "127.0.0.1"}
    finally:
        if nginx is not None:
            nginx.stop()
        server.should_exit = True
        await asyncio.wait_for(serving, 10)
    assert not api.state.rtcore.running


@async_test(timeout=60)
async def test_the_engine_origin_rule_holds_behind_the_proxy(run_dir: Path) -> None:
    """nginx passes Host and Origin through, so allowed_origins names the
    one public origin and another site's page is refused (HTTP 403 through
    the proxy)."""
    port = _free_port()
    api = _load_example().create_app(rtcore_port=0, allowed_origins=[f"http://127.0.0.1:{port}"])
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve())
    nginx = None
    try:
        while not server.started:
            assert not serving.done(), "uvicorn exited"
            await asyncio.sleep(0.01)
        app_port = server.servers[0].sockets[0].getsockname()[1]
        nginx = Nginx(run_dir, app_port, api.state.rtcore.port, port)
        await asyncio.get_running_loop().run_in_executor(None, nginx.wait_listening)
        url = f"ws://127.0.0.1:{port}/ws/eve"
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, origin="http://evil.example", open_timeout=5):
                pass
        assert refused.value.response.status_code == 403
        async with connect(url, origin=f"http://127.0.0.1:{port}", open_timeout=5) as eve:
            await send_json(eve, {"type": "join_room", "room": "r", "id": 1})
            assert await recv_json(eve) == {"type": "ack", "id": 1}
        assert api.state.rtcore.stats().origin_refusals == 1
    finally:
        if nginx is not None:
            nginx.stop()
        server.should_exit = True
        await asyncio.wait_for(serving, 10)
