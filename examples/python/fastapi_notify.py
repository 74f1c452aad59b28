"""A FastAPI app that hosts rtcore in its lifespan: REST on one port (under
uvicorn), WebSockets on another (the engine), one process, one event loop.

    pip install ./bindings/python fastapi uvicorn
    python examples/python/fastapi_notify.py            # REST :8000, WS :8001
    # a client:   websocat ws://127.0.0.1:8001/ws/alice
    curl -X POST localhost:8000/notify/alice -H 'content-type: application/json' -d '{"text":"hi"}'

alice's WebSocket connections receive
{"type":"direct_message","from":"api","content":{"text":"hi"},"timestamp":...}.
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any, AsyncIterator, Dict, Set

import rtcore
from fastapi import Body, FastAPI, HTTPException


def create_app(ws_host: str = "127.0.0.1", ws_port: int = 8001) -> FastAPI:
    rt = rtcore.App()
    online: Set[str] = set()

    @rt.on_presence
    def track(ev: rtcore.PresenceEvent) -> None:
        online.add(ev.user_id) if ev.online else online.discard(ev.user_id)

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        await rt.start(host=ws_host, port=ws_port)
        try:
            yield
        finally:
            await rt.stop()

    api = FastAPI(title="notifications", lifespan=lifespan)
    api.state.rtcore = rt

    @api.post("/notify/{user_id}")
    async def notify(user_id: str, payload: Any = Body(...)) -> Dict[str, Any]:
        """Pushes `payload` to every WebSocket connection of `user_id`."""
        try:
            # The envelope call: a direct_message from "api" (docs/hosts.md).
            await rt.send_message_to_user(user_id, payload, sender="api")
        except rtcore.InvalidArgument as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        return {"user_id": user_id, "online": user_id in online}

    @api.get("/stats")
    async def stats() -> Dict[str, int]:
        return asdict(rt.stats())

    @api.get("/ws-url")
    async def ws_url() -> Dict[str, str]:
        return {"url": rt.url}

    return api


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(create_app(ws_port=int(os.environ.get("WS_PORT", "8001"))), host="127.0.0.1",
                port=int(os.environ.get("PORT", "8000")))
