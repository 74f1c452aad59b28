"""The chat server examples, run as their own processes and spoken to the
way the reference chat server's clients speak."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from typing import Iterator, List

import pytest
from websockets.asyncio.client import connect

from conftest import EXAMPLES, recv_json, send_json


@contextmanager
def run_example(script: str, *args: str) -> Iterator["tuple[subprocess.Popen, int]"]:
    proc = subprocess.Popen([sys.executable, "-u", str(EXAMPLES / script), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        if "listening on ws://" not in line:
            proc.wait(10)
            raise RuntimeError(f"{script} did not start: {line}{proc.stderr.read()}")
        yield proc, int(line.rsplit(":", 1)[1].split()[0])
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
        assert proc.returncode == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def _chat(port_a: int, port_b: int) -> None:
    async with connect(f"ws://127.0.0.1:{port_a}/ws/alice") as alice, \
            connect(f"ws://127.0.0.1:{port_b}/ws/bob") as bob:
        for client, user in ((alice, "alice"), (bob, "bob")):  # the example greets each connection
            hello = await recv_json(client)
            assert (hello["type"], hello["from"], hello["content"]) == ("direct_message", "", {"welcome": user})
        for client in (alice, bob):
            await send_json(client, {"type": "join_room", "room": "general", "id": "j"})
            assert await recv_json(client) == {"type": "ack", "id": "j"}
        await send_json(alice, {"type": "room_message", "room": "general", "content": "hello"})
        for client in (alice, bob):
            msg = await recv_json(client)
            assert (msg["type"], msg["room"], msg["from"], msg["content"]) == ("message", "general", "alice", "hello")
        await send_json(bob, {"type": "direct_message", "to": "alice", "content": {"dm": 1}})
        msg = await recv_json(alice)
        assert (msg["type"], msg["from"], msg["content"]) == ("direct_message", "bob", {"dm": 1})
        await send_json(alice, {"type": "leave_room", "room": "general", "id": "l"})
        assert await recv_json(alice) == {"type": "ack", "id": "l"}


def test_chat_server_behaves_like_the_reference() -> None:
    with run_example("chat_server.py", "--port", "0") as (proc, port):
        asyncio.run(asyncio.wait_for(_chat(port, port), 15))
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
    assert 'presence {"user_id": "alice", "status": "online"' in out
    assert 'presence {"user_id": "bob", "status": "offline"' in out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_multinode_example_needs_the_redis_backplane() -> None:
    redis_port = _free_port()
    args = ["--redis", f"redis://127.0.0.1:{redis_port}", "--port", "0"]
    probe = subprocess.Popen([sys.executable, "-u", str(EXAMPLES / "chat_server_multinode.py"), *args],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = probe.stdout.readline()
    finally:
        if "listening" in first:
            probe.send_signal(signal.SIGINT)
        out, err = probe.communicate(timeout=10)
    if "listening" not in first:  # this build has no Redis backplane
        assert probe.returncode == 2, err
        assert "Redis backplane" in err and "without --redis" in err
        return
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server not installed")
    redis = subprocess.Popen([server, "--port", str(redis_port), "--save", "", "--appendonly", "no"],
                             stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        with run_example("chat_server_multinode.py", *args, "--node-id", "a") as (_, port_a), \
                run_example("chat_server_multinode.py", *args, "--node-id", "b") as (_, port_b):
            asyncio.run(asyncio.wait_for(_chat(port_a, port_b), 15))
    finally:
        redis.terminate()
        redis.wait(5)
