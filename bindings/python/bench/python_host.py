"""The Python host used by fanout.py: an rtcore.App with Python hooks
installed (presence and a custom type), serving the built-in room messages
the benchmark sends. Prints "listening on ws://HOST:PORT" like
rtcore-server and stops on SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import signal
import sys

import rtcore

# One sender floods the room for several rounds: no rate limit, as for the
# server binary in fanout.py.
app = rtcore.App(rate_limit=0)
online = set()


@app.on_presence
def presence(ev: rtcore.PresenceEvent) -> None:
    online.add(ev.user_id) if ev.online else online.discard(ev.user_id)


@app.on_message("ping")
async def ping(conn: rtcore.Connection, msg: dict) -> None:
    await conn.send({"pong": len(online)})


async def main(port: int) -> None:
    done = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, done.set)
    await app.start(port=port)
    try:
        print(f"listening on {app.url}", flush=True)
        await done.wait()
    finally:
        await app.stop()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
