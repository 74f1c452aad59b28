"""on_connect: accept, reject and choose the user, with sync and async
hooks. A hook decides after the upgrade (the engine thread never waits for
Python), so a refusal is the close code 4000 + status."""

from __future__ import annotations

import asyncio
import logging

import pytest
import rtcore

from conftest import async_test, recv_json, send_json
from support import Recorder, close_code_of, http_status_of, ws


@async_test()
async def test_without_hook_the_engine_accepts_valid_paths_itself() -> None:
    async with rtcore.App() as app:
        async with ws(app, "/ws/alice") as client:
            await send_json(client, {"type": "join_room", "room": "r", "id": 1})
            assert await recv_json(client) == {"type": "ack", "id": 1}
        assert await http_status_of(app, "/ws/a%01b") == 400  # still a real HTTP refusal


def _token_app(hook_is_async: bool) -> "tuple[rtcore.App, Recorder]":
    app = rtcore.App()
    seen = Recorder()
    tokens = {"t-alice": "alice", "t-bob": "bob"}

    def decide(req: rtcore.ConnectRequest) -> str:
        seen(req)
        token = req.query_params.get("token") or req.headers.get("authorization", "").removeprefix("Bearer ")
        user = tokens.get(token)
        if user is None:
            raise rtcore.Reject(401)
        if user != req.path_params["user_id"]:
            raise rtcore.Reject(403)
        return user

    if hook_is_async:

        @app.on_connect
        async def authenticate(req: rtcore.ConnectRequest) -> str:
            await asyncio.sleep(0.01)  # e.g. a database look-up
            return decide(req)

    else:
        app.on_connect(decide)
    return app, seen


@pytest.mark.parametrize("hook_is_async", [False, True], ids=["sync", "async"])
@async_test()
async def test_hook_accepts_and_rejects(hook_is_async: bool) -> None:
    app, seen = _token_app(hook_is_async)
    presence = Recorder()
    app.on_presence(presence)
    async with app:
        async with ws(app, "/ws/alice?token=t-alice") as client:
            await send_json(client, {"type": "join_room", "room": "r", "id": 7})
            assert await recv_json(client) == {"type": "ack", "id": 7}
        req = seen.calls[0]
        assert req.path == "/ws/alice" and req.path_params == {"user_id": "alice"}
        assert req.query_params == {"token": "t-alice"} and req.query_string == "token=t-alice"
        assert req.headers["host"].startswith("127.0.0.1:")
        async with ws(app, "/ws/bob", additional_headers={"Authorization": "Bearer t-bob"}) as client:
            await send_json(client, {"type": "join_room", "room": "r", "id": 8})
            assert await recv_json(client) == {"type": "ack", "id": 8}

        assert await close_code_of(app, "/ws/mallory?token=forged") == 4401
        assert await close_code_of(app, "/ws/bob?token=t-alice") == 4403
        assert await close_code_of(app, "/ws/alice") == 4401
        await asyncio.sleep(0.1)
        users = {ev.user_id for ev in presence.calls}
        assert users == {"alice", "bob"}  # refused connections never went online
        assert app.stats().rejected_upgrades == 3


@async_test()
async def test_query_string_keeps_every_parameter() -> None:
    app = rtcore.App()
    seen = Recorder()
    app.on_connect(seen)
    async with app:
        async with ws(app, "/ws/alice?token=t-alice&x=1&y=a%20b%26c%3Dd"):
            (req,) = await seen.wait_for(1)
    # Decoded by the HTTP layer, re-encoded by the engine: '&' and '=' inside
    # a value stay inside it.
    assert req.query_string == "token=t-alice&x=1&y=a%20b%26c%3Dd"
    assert req.query_params == {"token": "t-alice", "x": "1", "y": "a b&c=d"}


@async_test()
async def test_hook_can_choose_the_user_id() -> None:
    app = rtcore.App()

    @app.on_connect
    async def by_cookie(req: rtcore.ConnectRequest) -> str:
        return "carol" if req.headers.get("cookie") == "sid=42" else req.path_params["user_id"]

    async with app:
        async with ws(app, "/ws/anyone", additional_headers={"Cookie": "sid=42"}) as carol, \
                ws(app, "/ws/dave") as dave:
            await send_json(dave, {"type": "join_room", "room": "r", "id": 1})
            await recv_json(dave)
            await send_json(carol, {"type": "direct_message", "to": "dave", "content": "hi", "id": 2})
            assert await recv_json(carol) == {"type": "ack", "id": 2}
            msg = await recv_json(dave)
            assert msg["from"] == "carol" and msg["content"] == "hi"


@async_test()
async def test_true_none_and_false_results() -> None:
    app = rtcore.App()
    answers = {"yes": True, "none": None, "no": False}
    app.on_connect(lambda req: answers[req.path_params["user_id"]])
    async with app:
        for user in ("yes", "none"):
            async with ws(app, f"/ws/{user}") as client:
                await send_json(client, {"type": "join_room", "room": "r", "id": 1})
                assert await recv_json(client) == {"type": "ack", "id": 1}
        assert await close_code_of(app, "/ws/no") == 4403


@async_test()
async def test_a_failing_or_invalid_hook_refuses_with_500_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    app = rtcore.App()

    @app.on_connect
    async def broken(req: rtcore.ConnectRequest) -> str:
        if req.path_params["user_id"] == "boom":
            raise KeyError("database down")
        return "bad/id"  # a user id the protocol forbids

    with caplog.at_level(logging.ERROR, logger="rtcore"):
        async with app:
            assert await close_code_of(app, "/ws/boom") == 4500
            assert await close_code_of(app, "/ws/other") == 4500
    assert any("database down" in (r.exc_text or "") for r in caplog.records)
    assert any("invalid user id" in r.getMessage() for r in caplog.records)


@async_test()
async def test_messages_sent_before_the_decision_are_kept() -> None:
    app = rtcore.App()

    @app.on_connect
    async def slow(req: rtcore.ConnectRequest) -> None:
        await asyncio.sleep(0.2)

    async with app:
        async with ws(app, "/ws/alice") as client:
            await send_json(client, {"type": "join_room", "room": "r", "id": 1})
            await send_json(client, {"type": "room_message", "room": "r", "content": "x", "id": 2})
            assert await recv_json(client) == {"type": "ack", "id": 1}
            frames = [await recv_json(client), await recv_json(client)]
            assert {"type": "ack", "id": 2} in frames
            assert any(f["type"] == "message" and f["content"] == "x" for f in frames)
