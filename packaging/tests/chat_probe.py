"""Talks to an rtcore server the way a chat client does, with real
WebSocket connections: alice and bob join a room (each join acknowledged),
alice posts, bob must receive it, then bob sends alice a direct message.
Retries the first connection until the server listens (at most --wait
seconds). Exit status 0 when every step worked.

    python3 chat_probe.py PORT [--host 127.0.0.1] [--wait 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

import websockets


async def recv_type(ws, kind: str, sender: str | None = None, timeout: float = 5.0) -> dict:
    """The next frame of type kind (from sender, if given); frames a host
    sends on its own (a greeting, say) are skipped."""
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic())))
        if frame.get("type") == kind and (sender is None or frame.get("from") == sender):
            return frame


async def probe(host: str, port: int, wait: float) -> None:
    base = f"ws://{host}:{port}/ws"
    deadline = time.monotonic() + wait
    while True:
        try:
            alice = await websockets.connect(f"{base}/alice", open_timeout=2)
            break
        except (OSError, asyncio.TimeoutError, websockets.exceptions.InvalidHandshake):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
    async with alice, websockets.connect(f"{base}/bob", open_timeout=5) as bob:
        for n, ws in enumerate((alice, bob)):
            await ws.send(json.dumps({"type": "join_room", "room": "lobby", "id": n}))
            ack = await recv_type(ws, "ack")
            assert ack["id"] == n, ack
        await alice.send(json.dumps({"type": "room_message", "room": "lobby", "content": "hi from alice"}))
        msg = await recv_type(bob, "message", "alice")
        assert msg["from"] == "alice" and msg["content"] == "hi from alice", msg
        await bob.send(json.dumps({"type": "direct_message", "to": "alice", "content": "psst"}))
        dm = await recv_type(alice, "direct_message", "bob")
        assert dm["from"] == "bob" and dm["content"] == "psst", dm
    print(f"chat_probe: {host}:{port} served join, room message and direct message")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--wait", type=float, default=20.0)
    args = ap.parse_args()
    try:
        asyncio.run(probe(args.host, args.port, args.wait))
    except Exception as exc:  # report and fail: the caller prints the server's log
        print(f"chat_probe: {args.host}:{args.port} failed: {exc!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
