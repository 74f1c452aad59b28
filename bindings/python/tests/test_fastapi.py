"""The FastAPI integration example: uvicorn serves REST on its own port in
this process, rtcore is started in the app's lifespan, and POST
/notify/{user_id} reaches that user's WebSocket connections."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

import httpx
import uvicorn

from conftest import EXAMPLES, async_test, expect_silence, recv_json, send_json
from support import ws


def _load_example():
    path = Path(EXAMPLES) / "fastapi_notify.py"
    spec = importlib.util.spec_from_file_location("fastapi_notify", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@async_test(timeout=30)
async def test_rest_endpoint_pushes_to_websocket_connections() -> None:
    api = _load_example().create_app(ws_host="127.0.0.1", ws_port=0)
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not serving.done(), "uvicorn exited"
            await asyncio.sleep(0.01)
        http_port = server.servers[0].sockets[0].getsockname()[1]
        rt = api.state.rtcore
        assert rt.running and rt.port != http_port

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}") as http, \
                ws(rt, "/ws/alice") as a1, ws(rt, "/ws/alice") as a2, ws(rt, "/ws/bob") as b:
            for client in (a1, a2, b):  # every connection is registered
                await send_json(client, {"type": "join_room", "room": "r", "id": 1})
                await recv_json(client)
            assert (await http.get("/ws-url")).json() == {"url": rt.url}

            response = await http.post("/notify/alice", json={"text": "build finished"})
            assert response.status_code == 200
            assert response.json() == {"user_id": "alice", "online": True}
            for client in (a1, a2):
                msg = await recv_json(client)
                assert msg["type"] == "direct_message" and msg["from"] == "api"
                assert msg["content"] == {"text": "build finished"}
            await expect_silence(b)

            response = await http.post("/notify/carol", json=[1, 2])
            assert response.json() == {"user_id": "carol", "online": False}
            assert (await http.post("/notify/a%01b", json=1)).status_code == 422
            stats = (await http.get("/stats")).json()
            assert stats["connections"] == 3 and stats["users"] == 2
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 10)
    assert not api.state.rtcore.running  # the lifespan stopped the engine
