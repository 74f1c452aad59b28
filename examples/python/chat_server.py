"""The reference FastAPI chat server (networking-fundamentals.md, "WebSocket
Implementation"), on rtcore. Same URL and messages, so its clients work
unchanged:

    ws://HOST:PORT/ws/{user_id}
    -> {"type":"join_room","room":R}            {"type":"leave_room","room":R}
    -> {"type":"room_message","room":R,"content":C}
    -> {"type":"direct_message","to":U,"content":C}
    <- {"type":"message","room":R,"from":U,"content":C,"timestamp":T}
    <- {"type":"direct_message","from":U,"content":C,"timestamp":T}

The connection manager, the rooms and the fan-out are the engine's: none
of those messages touches Python. What is left for the host is what every
example chat server (examples/README.md: C, C++, Python, Node) adds in the
same way, so that one parity test can drive all four:

- an auth hook that refuses the user "mallory" (the client sees close code
  4403 after the upgrade);
- a server-side push: every new connection gets a ``direct_message`` from
  the server (``"from": ""``) whose content is ``{"welcome": USER}``;
- one host-defined message type: ``{"type":"whoami"}`` is answered with the
  frame ``{"type":"whoami","user":USER}``, then its ack;
- presence logged, as the reference announced it. Run:

    python examples/python/chat_server.py --port 8000
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import List, Optional

import rtcore

log = logging.getLogger("chat")


def build_app(redis_url: Optional[str] = None, node_id: Optional[str] = None) -> rtcore.App:
    app = rtcore.App(redis_url=redis_url, node_id=node_id, ping_interval=30)

    @app.on_connect
    def authenticate(req: rtcore.ConnectRequest) -> None:
        if req.path_params["user_id"] == "mallory":
            raise rtcore.Reject(403)

    @app.on_open
    async def welcome(conn: rtcore.Connection) -> None:
        # The envelope call: a direct_message from the server ("from": "").
        await conn.send_message({"welcome": conn.user_id})

    @app.on_message("whoami")
    async def whoami(conn: rtcore.Connection, msg: dict) -> None:
        # The frame call: this dict is the frame. Returning acks msg's id.
        await conn.send({"type": "whoami", "user": conn.user_id})

    @app.on_presence
    def presence(ev: rtcore.PresenceEvent) -> None:
        # The reference published {"user_id","status"} to Redis; rtcore does
        # that itself on a cluster (channel "rtcore:presence"). Log it here.
        log.info("presence %s", json.dumps({"user_id": ev.user_id, "status": ev.status,
                                            "timestamp": ev.timestamp}))

    return app


def parse_args(argv: Optional[List[str]], redis_required: bool = False) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--redis", required=redis_required, help="redis://host:port for a multi-node cluster")
    parser.add_argument("--node-id", help="this node's id (default: random)")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None, redis_required: bool = False) -> int:
    args = parse_args(argv, redis_required)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stdout)
    app = build_app(args.redis, args.node_id)
    try:
        app.run(host=args.host, port=args.port)
    except rtcore.NotSupportedError as exc:
        print(f"chat_server: {exc}. Run without --redis for a single node.", file=sys.stderr)
        return 2
    except rtcore.ListenError as exc:
        print(f"chat_server: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
