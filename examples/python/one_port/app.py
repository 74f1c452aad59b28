"""One port, one origin: a FastAPI app under uvicorn and rtcore, both on
loopback, behind nginx (nginx.conf beside this file; docs/one-port.md).

    pip install ./bindings/python fastapi uvicorn
    RTCORE_PORT=8001 uvicorn --factory app:create_app --port 8000   # in this directory
    # then nginx with nginx.conf (LISTEN=127.0.0.1:8080 APP=127.0.0.1:8000 RTCORE=127.0.0.1:8001)
    curl localhost:8080/api/hello
    # a client:   websocat ws://localhost:8080/ws/alice

The engine runs in the app's lifespan, on the same event loop as FastAPI.
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import AsyncIterator, Dict, List, Optional

import rtcore
from fastapi import FastAPI


def create_app(rtcore_port: Optional[int] = None, allowed_origins: Optional[List[str]] = None) -> FastAPI:
    """rtcore_port: the engine's loopback port (default $RTCORE_PORT or
    8001; 0 picks a free one). allowed_origins: the public origin(s), e.g.
    ["https://chat.example.com"]; default $RTCORE_ALLOWED_ORIGIN or any."""
    if rtcore_port is None:
        rtcore_port = int(os.environ.get("RTCORE_PORT", "8001"))
    if allowed_origins is None and os.environ.get("RTCORE_ALLOWED_ORIGIN"):
        allowed_origins = [os.environ["RTCORE_ALLOWED_ORIGIN"]]
    # Loopback only: nginx is the one way in.
    rt = rtcore.App(host="127.0.0.1", port=rtcore_port, allowed_origins=allowed_origins)
    # The last client address of each user, as nginx saw it.
    client_address: Dict[str, str] = {}

    @rt.on_connect
    def remember_address(req: rtcore.ConnectRequest) -> None:
        forwarded = req.headers.get("x-forwarded-for", "")
        # nginx appends the address it saw: the last entry is the one it
        # vouches for (earlier ones are whatever the client claimed).
        client_address[req.path_params["user_id"]] = forwarded.split(",")[-1].strip()

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        await rt.start()
        try:
            yield
        finally:
            await rt.stop()

    api = FastAPI(title="one port", lifespan=lifespan)
    api.state.rtcore = rt

    @api.get("/api/hello")
    async def hello() -> Dict[str, str]:
        return {"hello": "world"}

    @api.get("/api/stats")
    async def stats() -> Dict[str, int]:
        return asdict(rt.stats())

    @api.get("/api/address/{user_id}")
    async def address(user_id: str) -> Dict[str, Optional[str]]:
        return {"user_id": user_id, "address": client_address.get(user_id)}

    return api
