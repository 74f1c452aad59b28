"""A stalled host loop cannot make a flood of host-defined messages grow the
process without bound: past 64 MiB waiting, messages are refused with
error `overloaded` (lifecycle events are never dropped)."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import rtcore
from websockets.sync.client import connect as sync_connect

from conftest import async_test


@async_test(timeout=60)
async def test_flood_while_the_loop_is_stalled_gets_overloaded() -> None:
    app = rtcore.App(rate_limit=0)
    calls = []

    @app.on_message("bulk")
    def bulk(conn: rtcore.Connection, msg: dict) -> None:
        calls.append(1)
        if len(calls) == 1:
            time.sleep(4)  # the event loop is stuck here while the client floods

    outcome: dict = {}

    def client(url: str) -> None:
        body = "x" * 900_000  # under the 1 MiB message limit
        with sync_connect(url, max_size=None, compression=None, open_timeout=5) as c:
            for i in range(90):  # ~81 MB, beyond the 64 MiB budget
                c.send(json.dumps({"type": "bulk", "n": i, "id": i, "body": body}))
            codes = []
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and "overloaded" not in codes:
                try:
                    frame = json.loads(c.recv(timeout=1))
                except TimeoutError:
                    continue
                codes.append(frame.get("code"))
                if frame.get("code") == "overloaded":
                    outcome["overloaded_id"] = frame.get("id")
            outcome["codes"] = codes

    async with app:
        t = threading.Thread(target=client, args=(f"{app.url}/ws/flooder",), daemon=True)
        t.start()
        while t.is_alive():
            await asyncio.sleep(0.1)
    assert "overloaded" in outcome.get("codes", []), outcome
    # The refusal answers that message's id (from the engine, not re-parsed).
    assert isinstance(outcome.get("overloaded_id"), int) and 1 <= outcome["overloaded_id"] < 90, outcome
    # What was queued before the budget ran out did reach the handler.
    assert 1 < len(calls) < 90
