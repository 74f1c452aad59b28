"""Helpers for the rtcore-server integration tests: starting and stopping the
server binary, and small asyncio client helpers on top of `websockets`."""

import asyncio
import base64
import itertools
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from datetime import datetime, timezone
from urllib.parse import quote

from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

try:  # websockets >= 14
    from websockets.exceptions import InvalidStatus as _InvalidStatus

    _InvalidStatusCode = None
except ImportError:  # pragma: no cover - older websockets
    from websockets.exceptions import InvalidStatusCode as _InvalidStatusCode

    _InvalidStatus = None

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVER_PATH = os.environ.get("RTCORE_SERVER", os.path.join(_REPO_ROOT, "build", "rtcore-server"))
READY_TIMEOUT = 10.0
PORT_RE = re.compile(r"wss?://[^:]+:(\d+)")
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

# --------------------------------------------------------------------------
# Server process
# --------------------------------------------------------------------------


class Server:
    """One rtcore-server process listening on 127.0.0.1 with a free port."""

    def __init__(self, *args, binary=None):
        """binary: another host program taking --host/--port (default: SERVER_PATH)."""
        self.args = [binary or SERVER_PATH, "--host", "127.0.0.1", "--port", "0", *map(str, args)]
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.stderr
        )
        try:
            self.ready_line = self._read_ready_line()
        except Exception:
            self.stop()
            raise
        self.port = int(PORT_RE.search(self.ready_line).group(1))
        # Keep draining stdout so the server can never block on a full pipe.
        threading.Thread(target=self._drain_stdout, daemon=True).start()

    def _read_ready_line(self):
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + READY_TIMEOUT
        buf = b""
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"no ready line within {READY_TIMEOUT}s: {buf!r}\n{self.stderr_text()}")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError(
                    f"server exited (rc={self.proc.wait()}) before its ready line: "
                    f"{buf!r}\n{self.stderr_text()}"
                )
            buf += chunk
        line = buf.split(b"\n", 1)[0].decode("utf-8", "replace")
        if not PORT_RE.search(line):
            raise RuntimeError(f"ready line has no ws://host:port: {line!r}")
        return line

    def _drain_stdout(self):
        try:
            while self.proc.stdout.read(4096):
                pass
        except (OSError, ValueError):
            pass

    def stderr_text(self, limit=4000):
        try:
            self.stderr.seek(0)
            data = self.stderr.read()
        except (OSError, ValueError):
            return ""
        return data[-limit:].decode("utf-8", "replace")

    def url(self, user, *, encode=True):
        path = quote(user, safe="") if encode else user
        return f"ws://127.0.0.1:{self.port}/ws/{path}"

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self):
        """SIGTERM, then SIGKILL after 3 s. Safe to call more than once."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.send_signal(signal.SIGCONT)  # a paused (SIGSTOP) process must see it
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(3)
        try:
            self.proc.stdout.close()
        except OSError:
            pass


def stats(server, timeout=2.0):
    """GET /stats of a server started with --expose-stats, as a dict."""
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/stats", timeout=timeout) as resp:
        return json.loads(resp.read())


def server_available():
    return os.path.isfile(SERVER_PATH) and os.access(SERVER_PATH, os.X_OK)


# --------------------------------------------------------------------------
# Async client helpers
# --------------------------------------------------------------------------

TEST_TIMEOUT = 15.0
_ids = itertools.count(1)


def run(coro, timeout=TEST_TIMEOUT):
    """Run one test coroutine with a hard time bound."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def next_id(prefix="req"):
    return f"{prefix}-{next(_ids)}"


async def connect(server, user, *, encode=True, **kwargs):
    """A websockets client for /ws/{user}. No compression (frame sizes stay
    what the test says), no client pings, no receive size limit."""
    opts = dict(
        compression=None, ping_interval=None, max_size=None, open_timeout=5, close_timeout=2
    )
    opts.update(kwargs)
    return await ws_connect(server.url(user, encode=encode), **opts)


class Clients:
    """`async with Clients(server) as c: ws = await c.open("alice")` closes
    every client it opened on exit."""

    def __init__(self, server):
        self.server = server
        self.open_ws = []

    async def open(self, user, **kwargs):
        ws = await connect(self.server, user, **kwargs)
        self.open_ws.append(ws)
        return ws

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await asyncio.gather(*(close_quietly(ws) for ws in self.open_ws))


async def close_quietly(ws):
    try:
        await asyncio.wait_for(ws.close(), 3)
    except Exception:
        pass


def handshake_status(exc):
    """The HTTP status of a refused upgrade, or None if exc is not one."""
    if _InvalidStatus is not None and isinstance(exc, _InvalidStatus):
        return exc.response.status_code
    if _InvalidStatusCode is not None and isinstance(exc, _InvalidStatusCode):
        return exc.status_code
    return None


async def upgrade_status(server, raw_path):
    """Try an upgrade to the raw (already percent-encoded) path and return the
    HTTP status: 101 when accepted, else the refusal status."""
    url = f"ws://127.0.0.1:{server.port}{raw_path}"
    try:
        ws = await ws_connect(url, compression=None, ping_interval=None, open_timeout=5)
    except Exception as exc:  # noqa: BLE001 - classified below
        status = handshake_status(exc)
        if status is None:
            raise
        return status
    await close_quietly(ws)
    return 101


async def send_json(ws, obj, ensure_ascii=False):
    """Send obj as one text frame; raw UTF-8 by default, or with every
    non-ASCII character as a \\uXXXX escape (surrogate pairs included)."""
    await ws.send(json.dumps(obj, ensure_ascii=ensure_ascii))


async def recv_json(ws, timeout=5.0):
    frame = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(frame, str), f"expected a text frame, got {frame!r:.200}"
    return json.loads(frame)


async def expect_silence(ws, duration=0.3):
    """Assert that no frame arrives on ws within duration seconds."""
    try:
        frame = await asyncio.wait_for(ws.recv(), duration)
    except asyncio.TimeoutError:
        return
    raise AssertionError(f"unexpected frame: {frame!r:.300}")


async def request(ws, obj, timeout=5.0):
    """Send obj and return the next frame received."""
    await send_json(ws, obj)
    return await recv_json(ws, timeout)


def assert_ack(frame, req_id):
    assert frame.get("type") == "ack", f"expected ack for {req_id!r}, got {frame}"
    assert "id" in frame, frame
    assert frame["id"] == req_id and type(frame["id"]) is type(req_id), (
        f"ack id {frame['id']!r} != request id {req_id!r}"
    )


def assert_error(frame, code, req_id=None):
    assert frame.get("type") == "error", f"expected error {code}, got {frame}"
    assert frame.get("code") == code, f"expected error code {code}, got {frame}"
    assert isinstance(frame.get("message"), str), frame
    if req_id is None:
        assert "id" not in frame, frame
    else:
        assert frame.get("id") == req_id and type(frame["id"]) is type(req_id), frame


async def acked(ws, obj, req_id=None):
    """Send obj with an id and assert that the next frame is its ack."""
    req_id = next_id() if req_id is None else req_id
    frame = await request(ws, {**obj, "id": req_id})
    assert_ack(frame, req_id)


async def join(ws, room):
    await acked(ws, {"type": "join_room", "room": room})


async def leave(ws, room):
    await acked(ws, {"type": "leave_room", "room": room})


def assert_timestamp(ts):
    assert isinstance(ts, str) and TIMESTAMP_RE.match(ts), f"bad timestamp {ts!r}"
    when = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    skew = abs((datetime.now(timezone.utc) - when).total_seconds())
    assert skew < 60, f"timestamp {ts} is {skew:.1f}s away from now"


def assert_room_message(frame, room, sender, content):
    assert frame.get("type") == "message", frame
    assert frame.get("room") == room, frame
    assert frame.get("from") == sender, frame
    assert "content" in frame, frame
    assert same_json(frame["content"], content), f"content {frame['content']!r} != {content!r}"
    assert_timestamp(frame.get("timestamp"))


def assert_direct_message(frame, sender, content):
    assert frame.get("type") == "direct_message", frame
    assert frame.get("from") == sender, frame
    assert "content" in frame, frame
    assert same_json(frame["content"], content), f"content {frame['content']!r} != {content!r}"
    assert_timestamp(frame.get("timestamp"))


def same_json(a, b):
    """Equal as JSON values: like ==, but bool is not a number and an
    integer must stay an integer (no float round trip)."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(b, int) and not isinstance(a, int):
            return False  # an integer came back as a float
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


# --------------------------------------------------------------------------
# A deliberately misbehaving raw peer (no pongs, ever)
# --------------------------------------------------------------------------


def raw_upgrade(port, user, timeout=5.0):
    """Open a TCP connection, do the WebSocket upgrade by hand and return
    (socket, bytes received after the 101 response)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws/{quote(user, safe='')} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise AssertionError(f"connection closed during the upgrade: {buf!r}")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    assert head.split(b"\r\n")[0].split()[1] == b"101", head
    return sock, rest


def read_until_eof(sock, initial, deadline):
    """Read (never write) until the peer closes. Returns (list of server
    frame opcodes, close code or None, eof_seen)."""
    buf, opcodes, close_code = initial, [], None
    while True:
        while len(buf) >= 2:  # parse complete unmasked server frames
            opcode, length, hdr = buf[0] & 0x0F, buf[1] & 0x7F, 2
            if length == 126:
                if len(buf) < 4:
                    break
                length, hdr = struct.unpack("!H", buf[2:4])[0], 4
            elif length == 127:
                if len(buf) < 10:
                    break
                length, hdr = struct.unpack("!Q", buf[2:10])[0], 10
            if len(buf) < hdr + length:
                break
            payload, buf = buf[hdr : hdr + length], buf[hdr + length :]
            opcodes.append(opcode)
            if opcode == 0x8 and len(payload) >= 2:
                close_code = struct.unpack("!H", payload[:2])[0]
        left = deadline - time.monotonic()
        if left <= 0:
            return opcodes, close_code, False
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return opcodes, close_code, False
        except ConnectionResetError:
            return opcodes, close_code, True
        if not chunk:
            return opcodes, close_code, True
        buf += chunk


__all__ = [
    "ConnectionClosed",
    "Clients",
    "Server",
    "SERVER_PATH",
    "acked",
    "assert_ack",
    "assert_direct_message",
    "assert_error",
    "assert_room_message",
    "assert_timestamp",
    "connect",
    "expect_silence",
    "join",
    "leave",
    "next_id",
    "raw_upgrade",
    "read_until_eof",
    "recv_json",
    "request",
    "run",
    "same_json",
    "send_json",
    "server_available",
    "stats",
    "upgrade_status",
]
