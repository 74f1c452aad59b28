"""The listening address: App(host=..., port=...) applies to start() and
run(); their own arguments, when given, override it (issue 13, point 4)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import textwrap
import time

import rtcore

from conftest import async_test


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@async_test()
async def test_start_listens_on_the_constructors_port() -> None:
    port = _free_port()
    app = rtcore.App(host="127.0.0.1", port=port)
    await app.start()
    try:
        assert app.port == port
        assert app.url == f"ws://127.0.0.1:{port}"
    finally:
        await app.stop()


@async_test()
async def test_start_arguments_override_the_constructors_address() -> None:
    p, q = _free_port(), _free_port()
    app = rtcore.App(host="127.0.0.1", port=p)
    await app.start(port=q)
    try:
        assert app.port == q
    finally:
        await app.stop()


@async_test()
async def test_start_without_a_port_anywhere_picks_a_free_one() -> None:
    app = rtcore.App()
    await app.start()
    try:
        assert app.port > 0
    finally:
        await app.stop()


def _run_child(ctor: str, run_args: str, expect_port: int) -> None:
    code = f"""
        import rtcore
        rtcore.App({ctor}).run({run_args})
    """
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while not _accepts(expect_port):
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, f"nothing listens on {expect_port}"
            time.sleep(0.05)
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=10)
        assert child.returncode == 0, err
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_run_listens_on_the_constructors_host_and_port() -> None:
    port = _free_port()
    _run_child(f'host="127.0.0.1", port={port}', "", port)


def test_run_arguments_override_the_constructors_port() -> None:
    p, q = _free_port(), _free_port()
    _run_child(f'host="127.0.0.1", port={p}', f"port={q}", q)
    assert not _accepts(p)
