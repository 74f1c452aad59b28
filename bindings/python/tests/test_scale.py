"""1000 concurrent clients through the Python host: every one authenticated
by an async on_connect hook, announced by presence, and reached by a room
broadcast from a custom handler."""

from __future__ import annotations

import asyncio
import json

import rtcore
from websockets.asyncio.client import connect

from conftest import async_test, raise_nofile

CLIENTS = 1000


@async_test(timeout=90)
async def test_thousand_concurrent_clients() -> None:
    # Client and server sockets both live in this process.
    assert raise_nofile(4 * CLIENTS + 256) >= 2 * CLIENTS + 64, "RLIMIT_NOFILE too low"
    app = rtcore.App()
    online = set()
    all_online = asyncio.Event()

    @app.on_connect
    async def authenticate(req: rtcore.ConnectRequest) -> str:
        return req.path_params["user_id"]

    @app.on_presence
    def presence(ev: rtcore.PresenceEvent) -> None:
        online.add(ev.user_id) if ev.online else online.discard(ev.user_id)
        if len(online) == CLIENTS:
            all_online.set()

    @app.on_message("shout")
    async def shout(conn: rtcore.Connection, msg: dict) -> None:
        await app.broadcast_message("all", msg["text"], sender=conn.user_id)

    async with app:
        sem = asyncio.Semaphore(200)  # bounded connect concurrency, not the test's

        async def open_client(i: int):
            async with sem:
                client = await connect(f"{app.url}/ws/u{i}", open_timeout=20, max_queue=None)
                await client.send(json.dumps({"type": "join_room", "room": "all", "id": i}))
                assert json.loads(await client.recv()) == {"type": "ack", "id": i}
                return client

        clients = await asyncio.gather(*(open_client(i) for i in range(CLIENTS)))
        try:
            await asyncio.wait_for(all_online.wait(), 20)
            stats = app.stats()
            assert (stats.connections, stats.users) == (CLIENTS, CLIENTS)

            await clients[0].send(json.dumps({"type": "shout", "text": "hello everyone", "id": "s"}))

            async def expect_message(client) -> None:
                while True:
                    msg = json.loads(await asyncio.wait_for(client.recv(), 20))
                    if msg["type"] == "message":
                        assert msg == {"type": "message", "room": "all", "from": "u0",
                                       "content": "hello everyone", "timestamp": msg["timestamp"]}
                        return

            await asyncio.gather(*(expect_message(c) for c in clients))
        finally:
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        for _ in range(200):
            if not online:
                break
            await asyncio.sleep(0.05)
        assert not online, f"{len(online)} users still online"
