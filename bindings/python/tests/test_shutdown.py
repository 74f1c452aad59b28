"""Stopping: with open connections, from app.run() on a signal, and by
interpreter exit without stop()."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time

import rtcore

from conftest import async_test, recv_json, send_json
from support import Recorder, ws


@async_test()
async def test_stop_with_open_connections_is_prompt_and_runs_last_handlers() -> None:
    app = rtcore.App()
    closed, presence = Recorder(), Recorder()
    app.on_disconnect(closed)
    app.on_presence(presence)
    await app.start()
    clients = [await ws(app, f"/ws/u{i}") for i in range(20)]
    for c in clients:
        await send_json(c, {"type": "join_room", "room": "r", "id": 1})
        await recv_json(c)
    started = time.monotonic()
    await app.stop()
    assert time.monotonic() - started < 1.5
    for c in clients:
        await asyncio.wait_for(c.wait_closed(), 2)
        assert c.close_code == 1001
    # Every disconnect and offline event was handed to Python before stop() returned.
    assert sorted(code for _, code in closed.calls) == [1001] * 20
    assert len([e for e in presence.calls if e.status == "offline"]) == 20


@async_test()
async def test_stop_with_a_client_that_never_answers_is_bounded() -> None:
    app = rtcore.App(shutdown_timeout=0.5)
    await app.start()
    client = await ws(app, "/ws/alice")
    client.transport.pause_reading()  # never reads the close frame
    started = time.monotonic()
    await app.stop()
    assert time.monotonic() - started < 1.5
    client.transport.abort()


def _python(code: str, timeout: float = 15) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout)


def test_interpreter_exit_without_stop_does_not_hang() -> None:
    code = """
        import asyncio, json, rtcore
        from websockets.asyncio.client import connect

        app = rtcore.App()
        app.on_message("x")(lambda conn, msg: None)
        app.on_presence(lambda ev: None)

        async def main():
            await app.start()
            # A connected client and pending events, and no stop().
            global client
            client = await connect(app.url + "/ws/alice")
            await client.send(json.dumps({"type": "x"}))
            print("started", flush=True)

        asyncio.run(main())
    """
    started = time.monotonic()
    result = _python(code)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout
    assert time.monotonic() - started < 10


def test_exit_while_the_loop_is_still_running_does_not_hang() -> None:
    code = """
        import asyncio, rtcore

        async def main():
            app = rtcore.App()
            await app.start()
            print("started", flush=True)
            raise SystemExit(0)  # leaves the engine running

        asyncio.run(main())
    """
    result = _python(code)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_run_serves_until_sigint() -> None:
    code = """
        import logging, sys, rtcore
        logging.basicConfig(level=logging.INFO, stream=sys.stdout)
        app = rtcore.App()
        app.run(host="127.0.0.1", port=0)
        print("stopped", flush=True)
    """
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert "listening on ws://127.0.0.1:" in line, line + proc.stderr.read()
        port = int(line.rsplit(":", 1)[1].split()[0])

        async def talk() -> None:
            from websockets.asyncio.client import connect
            import json
            async with connect(f"ws://127.0.0.1:{port}/ws/alice") as c:
                await c.send(json.dumps({"type": "join_room", "room": "r", "id": 1}))
                assert json.loads(await c.recv()) == {"type": "ack", "id": 1}

        asyncio.run(asyncio.wait_for(talk(), 10))
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert "stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
