"""Small client-side helpers for the tests (real `websockets` clients)."""

from __future__ import annotations

import asyncio
from typing import Any, List

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus


def ws(app: Any, path: str, **kwargs: Any) -> Any:
    """A client connection to `path` on the running app."""
    kwargs.setdefault("open_timeout", 5)
    kwargs.setdefault("close_timeout", 2)
    return connect(app.url + path, **kwargs)


async def close_code_of(app: Any, path: str, timeout: float = 5.0) -> int:
    """Connects and returns the close code the server ends with. A deferred
    on_connect refusal is a close frame after the upgrade. The code is read
    as soon as the close frame arrives and the socket is then dropped, so
    the test does not depend on how fast the server closes TCP afterwards."""
    client = await ws(app, path)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while client.protocol.close_rcvd is None:
            if loop.time() > deadline:
                raise AssertionError("no close frame received")
            try:
                await asyncio.wait_for(client.recv(), 0.05)
            except asyncio.TimeoutError:
                pass
            except ConnectionClosed:
                break
        assert client.protocol.close_rcvd is not None, "closed without a close frame"
        return client.protocol.close_rcvd.code
    finally:
        client.transport.abort()


async def http_status_of(app: Any, path: str, **kwargs: Any) -> int:
    """The HTTP status refusing an upgrade (kwargs go to connect)."""
    try:
        async with ws(app, path, **kwargs):
            pass
    except InvalidStatus as exc:
        return exc.response.status_code
    raise AssertionError("upgrade was accepted")


class Recorder:
    """Collects handler calls and lets a test wait for the n-th one."""

    def __init__(self) -> None:
        self.calls: List[Any] = []
        self._changed = asyncio.Event()

    def __call__(self, *args: Any) -> None:
        self.calls.append(args[0] if len(args) == 1 else args)
        self._changed.set()

    async def wait_for(self, n: int, timeout: float = 5.0) -> List[Any]:
        async def wait() -> None:
            while len(self.calls) < n:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(wait(), timeout)
        return self.calls
