"""One client script against the example chat server written in C, C++,
Python and Node (examples/README.md): every host must answer message for
message the same way.

Each server is started as its own process on a free loopback port and
stopped with SIGTERM (it must exit 0). The conversation below is the
contract: each step says which frames each client receives, in order, and
the transcript of every host must equal it (timestamps are checked for
their format, then replaced by "<ts>"). After the script each client asks
whoami once more and must get exactly that answer next, so a stray frame
anywhere fails the run.

Where the hosts come from (defaults for a checkout after scripts/build.sh
build and the two binding installs):
  RTCORE_BUILD        the CMake build with the C and C++ examples (build)
  RTCORE_PYTHON       an interpreter that imports rtcore (python3)
  RTCORE_NODE_PATH    a NODE_PATH under which require('rtcore') resolves
                      (scripts/test-node.sh sets it to its scratch install)
A host that is not available is skipped, unless RTCORE_PARITY_REQUIRE_ALL=1
(CI), which fails instead.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("RTCORE_BUILD", ROOT / "build"))
REQUIRE_ALL = os.environ.get("RTCORE_PARITY_REQUIRE_ALL") == "1"
TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
LISTENING = re.compile(r"listening on ws://[^:]+:(\d+)")
HOSTS = ["c", "cpp", "python", "node"]


def _unavailable(why: str) -> None:
    if REQUIRE_ALL:
        pytest.fail(why)
    pytest.skip(why)


def _command(host: str) -> Tuple[List[str], Dict[str, str]]:
    env = dict(os.environ)
    if host in ("c", "cpp"):
        exe = BUILD / "examples" / f"rtcore_chat_server_{host}"
        if not exe.exists():
            _unavailable(f"{exe} is not built (scripts/build.sh build)")
        return [str(exe), "0"], env
    if host == "python":
        py = os.environ.get("RTCORE_PYTHON", sys.executable)
        if subprocess.run([py, "-c", "import rtcore"], capture_output=True).returncode != 0:
            _unavailable(f"{py} cannot import rtcore (scripts/test-python.sh installs it)")
        return [py, "-u", str(ROOT / "examples/python/chat_server.py"), "--port", "0"], env
    node = shutil.which("node")
    node_path = os.environ.get("RTCORE_NODE_PATH", "")
    env["NODE_PATH"] = node_path
    env["PORT"] = "0"
    if node is None or subprocess.run([node, "-e", "require('rtcore')"], env=env,
                                      capture_output=True).returncode != 0:
        _unavailable("node cannot require('rtcore') (set RTCORE_NODE_PATH; scripts/test-node.sh does)")
    return [node, str(ROOT / "examples/node/chat_server.js")], env


class Server:
    """One example server process; collects its output on a thread."""

    def __init__(self, host: str) -> None:
        argv, env = _command(host)
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: List[str] = []
        self.port = 0
        ready = threading.Event()

        def pump() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.lines.append(line.rstrip("\n"))
                if not self.port:
                    self.port = self._port_of(line)
                    if self.port:
                        ready.set()
            ready.set()

        self.thread = threading.Thread(target=pump, daemon=True)
        self.thread.start()
        if not ready.wait(30) or not self.port:
            self.proc.kill()
            raise AssertionError(f"{host} example did not start: {self.lines}")

    @staticmethod
    def _port_of(line: str) -> int:
        m = LISTENING.search(line)
        if m:
            return int(m.group(1))
        try:
            ev = json.loads(line)
        except ValueError:
            return 0
        return int(ev["port"]) if isinstance(ev, dict) and ev.get("event") == "listening" else 0

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(15)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.thread.join(5)


def normalise(frame: Dict[str, Any]) -> Dict[str, Any]:
    out = dict(frame)
    if "timestamp" in out:
        assert TS.match(out["timestamp"]), out
        out["timestamp"] = "<ts>"
    return out


def welcome(user: str) -> Dict[str, Any]:
    return {"type": "direct_message", "from": "", "content": {"welcome": user}, "timestamp": "<ts>"}


def msg(room: str, sender: str, content: Any) -> Dict[str, Any]:
    return {"type": "message", "room": room, "from": sender, "content": content, "timestamp": "<ts>"}


def ack(id_: Any) -> Dict[str, Any]:
    return {"type": "ack", "id": id_}


# (step, who sends, what, {client: frames it then receives, in order}).
# "connect" opens the named client; its frames are what arrives first.
SCRIPT: List[Tuple[str, str, Any, Dict[str, List[Dict[str, Any]]]]] = [
    ("alice connects", "alice", "connect", {"alice": [welcome("alice")]}),
    ("bob connects", "bob", "connect", {"bob": [welcome("bob")]}),
    ("alice joins", "alice", {"type": "join_room", "room": "general", "id": "j1"}, {"alice": [ack("j1")]}),
    ("bob joins (integer id)", "bob", {"type": "join_room", "room": "general", "id": 2}, {"bob": [ack(2)]}),
    ("alice posts", "alice", {"type": "room_message", "room": "general", "content": "hello", "id": "m1"},
     {"alice": [msg("general", "alice", "hello"), ack("m1")], "bob": [msg("general", "alice", "hello")]}),
    ("bob writes to alice", "bob", {"type": "direct_message", "to": "alice", "content": {"dm": 1}, "id": "d1"},
     {"alice": [{"type": "direct_message", "from": "bob", "content": {"dm": 1}, "timestamp": "<ts>"}],
      "bob": [ack("d1")]}),
    ("whoami with an id", "alice", {"type": "whoami", "id": "w1"},
     {"alice": [{"type": "whoami", "user": "alice"}, ack("w1")]}),
    ("whoami without an id", "bob", {"type": "whoami"}, {"bob": [{"type": "whoami", "user": "bob"}]}),
    ("an unknown type with an id", "alice", {"type": "nope", "id": "u1"},
     {"alice": [{"type": "error", "code": "unknown_type", "message": 'no handler for message type "nope"', "id": "u1"}]}),
    ("an unknown type without an id", "alice", {"type": "nope"},
     {"alice": [{"type": "error", "code": "unknown_type", "message": 'no handler for message type "nope"'}]}),
    ("a built-in type with a missing field", "bob", {"type": "room_message", "room": "general", "id": "bad"},
     {"bob": [{"type": "error", "code": "missing_field", "message": "'content' is required", "id": "bad"}]}),
    ("alice leaves", "alice", {"type": "leave_room", "room": "general", "id": "l1"}, {"alice": [ack("l1")]}),
    ("bob posts to a room alice left", "bob", {"type": "room_message", "room": "general", "content": "after"},
     {"bob": [msg("general", "bob", "after")]}),
    ("alice: nothing stray", "alice", {"type": "whoami", "id": "end"},
     {"alice": [{"type": "whoami", "user": "alice"}, ack("end")]}),
    ("bob: nothing stray", "bob", {"type": "whoami", "id": "end"},
     {"bob": [{"type": "whoami", "user": "bob"}, ack("end")]}),
]


async def converse(port: int) -> List[Tuple[str, str, Any]]:
    """Runs SCRIPT; returns the transcript (step, client, frame or event)."""
    url = f"ws://127.0.0.1:{port}/ws/"
    transcript: List[Tuple[str, str, Any]] = []
    # The refused user: the upgrade completes, then close code 4403.
    try:
        async with connect(url + "mallory") as ws:
            try:
                extra = await asyncio.wait_for(ws.recv(), 5)
                transcript.append(("mallory is refused", "mallory", json.loads(extra)))
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else 1006
                transcript.append(("mallory is refused", "mallory", {"closed": code}))
    except InvalidStatus as refused:
        transcript.append(("mallory is refused", "mallory", {"http": refused.response.status_code}))

    clients: Dict[str, Any] = {}
    try:
        for step, who, what, expect in SCRIPT:
            if what == "connect":
                clients[who] = await connect(url + who)
            else:
                await clients[who].send(json.dumps(what))
            for name, frames in expect.items():
                for _ in frames:
                    raw = await asyncio.wait_for(clients[name].recv(), 5)
                    transcript.append((step, name, normalise(json.loads(raw))))
    finally:
        for ws in clients.values():
            await ws.close()
    return transcript


def expected() -> List[Tuple[str, str, Any]]:
    out: List[Tuple[str, str, Any]] = [("mallory is refused", "mallory", {"closed": 4403})]
    for step, _who, _what, expect in SCRIPT:
        for name, frames in expect.items():
            out.extend((step, name, f) for f in frames)
    return out


@pytest.fixture(scope="module")
def transcripts() -> Dict[str, List[Tuple[str, str, Any]]]:
    return {}


@pytest.mark.parametrize("host", HOSTS)
def test_example_follows_the_script(host: str, transcripts: Dict[str, Any]) -> None:
    server = Server(host)
    try:
        got = asyncio.run(asyncio.wait_for(converse(server.port), 60))
    finally:
        code = server.stop()
    transcripts[host] = got
    want = expected()
    for i, (g, w) in enumerate(zip(got, want)):
        assert g == w, f"{host}: at frame {i} (step {w[0]!r}) got {g}, want {w}"
    assert len(got) == len(want), f"{host}: {len(got)} frames, want {len(want)}"
    assert code == 0, f"{host} example exited {code} on SIGTERM: {server.lines[-20:]}"
    # Presence reached the host both ways (each prints it its own way).
    out = "\n".join(server.lines)
    assert "alice" in out and "online" in out and "offline" in out, out


def test_all_hosts_agree(transcripts: Dict[str, Any]) -> None:
    ran = {h: t for h, t in transcripts.items() if t}
    if len(ran) < 2:
        pytest.skip("fewer than two hosts ran")
    first = next(iter(ran))
    for host, t in ran.items():
        assert t == ran[first], f"{host} differs from {first}"
