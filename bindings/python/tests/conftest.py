"""Helpers shared by the tests: every server listens on 127.0.0.1 port 0,
and every test body runs under a hard time limit."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import resource
import sys
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict

import pytest

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples" / "python"

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def async_test(timeout: float = 20.0) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Any]]:
    """Runs an async test body in a fresh loop, failing it after timeout."""

    def wrap(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            return asyncio.run(asyncio.wait_for(fn(*args, **kwargs), timeout))

        return run

    return wrap


async def recv_json(ws: Any, timeout: float = 5.0) -> Dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def send_json(ws: Any, message: Dict[str, Any]) -> None:
    await ws.send(json.dumps(message))


async def expect_silence(ws: Any, seconds: float = 0.2) -> None:
    """Fails if a frame arrives within `seconds`."""
    try:
        frame = await asyncio.wait_for(ws.recv(), seconds)
    except asyncio.TimeoutError:
        return
    raise AssertionError(f"unexpected frame {frame!r}")


def raise_nofile(wanted: int) -> int:
    """Raises the soft open-file limit towards `wanted` (up to the hard
    limit) and returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


@pytest.fixture
def examples_dir() -> Path:
    return EXAMPLES
