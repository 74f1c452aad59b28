"""Host-defined message types: handlers, acks, unknown types, exceptions.
Built-in types never reach Python."""

from __future__ import annotations

import asyncio
import logging

import pytest
import rtcore

from conftest import async_test, expect_silence, recv_json, send_json
from support import ws


@async_test()
async def test_sync_and_async_handlers_receive_connection_and_message() -> None:
    app = rtcore.App()
    seen = []

    @app.on_message("typing")
    async def typing(conn: rtcore.Connection, msg: dict) -> None:
        seen.append((conn.user_id, msg))
        await app.broadcast(msg["room"], {"type": "typing", "from": conn.user_id})

    @app.on_message("echo")
    def echo(conn: rtcore.Connection, msg: dict) -> None:
        asyncio.get_running_loop().create_task(conn.send_message(msg["content"], sender="echo"))

    async with app:
        async with ws(app, "/ws/alice") as a, ws(app, "/ws/bob") as b:
            for client in (a, b):
                await send_json(client, {"type": "join_room", "room": "r", "id": 0})
                await recv_json(client)
            await send_json(a, {"type": "typing", "room": "r"})
            assert await recv_json(a) == {"type": "typing", "from": "alice"}
            assert await recv_json(b) == {"type": "typing", "from": "alice"}
            assert seen == [("alice", {"type": "typing", "room": "r"})]

            await send_json(b, {"type": "echo", "content": {"k": [1, "ü"]}})
            msg = await recv_json(b)
            assert msg["type"] == "direct_message" and msg["content"] == {"k": [1, "ü"]}
            assert msg["from"] == "echo"


@async_test()
async def test_a_message_with_an_id_is_acked_after_the_handler() -> None:
    app = rtcore.App()
    done = []

    @app.on_message("save")
    async def save(conn: rtcore.Connection, msg: dict) -> None:
        await asyncio.sleep(0.05)
        done.append(msg.get("id"))

    async with app:
        async with ws(app, "/ws/alice") as client:
            await send_json(client, {"type": "save", "id": "s1"})
            await send_json(client, {"type": "save", "id": 2})
            acks = [await recv_json(client), await recv_json(client)]
            assert sorted(map(str, (a["id"] for a in acks))) == ["2", "s1"]
            assert all(a["type"] == "ack" for a in acks)
            assert sorted(map(str, done[:2])) == ["2", "s1"]
            await send_json(client, {"type": "save"})  # no id: silent success
            await expect_silence(client)


@async_test()
async def test_unknown_type_gets_an_error_with_or_without_handlers() -> None:
    app = rtcore.App()
    app.on_message("known")(lambda conn, msg: None)
    async with app, rtcore.App() as bare:
        for server in (app, bare):
            async with ws(server, "/ws/alice") as client:
                await send_json(client, {"type": "mystery", "id": 5})
                err = await recv_json(client)
                assert (err["type"], err["code"], err["id"]) == ("error", "unknown_type", 5)
                await send_json(client, {"type": "mystery"})
                assert (await recv_json(client))["code"] == "unknown_type"


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@async_test()
async def test_handler_exceptions_are_logged_and_answered(is_async: bool,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    app = rtcore.App()

    def fail(conn: rtcore.Connection, msg: dict) -> None:
        if msg.get("why") == "denied":
            raise rtcore.MessageError("forbidden", "not your room")
        raise ZeroDivisionError("kaboom")

    async def afail(conn: rtcore.Connection, msg: dict) -> None:
        await asyncio.sleep(0)
        fail(conn, msg)

    app.on_message("fail")(afail if is_async else fail)
    app.on_message("ok")(lambda conn, msg: None)
    with caplog.at_level(logging.ERROR, logger="rtcore"):
        async with app:
            async with ws(app, "/ws/alice") as client:
                await send_json(client, {"type": "fail", "id": 1})
                err = await recv_json(client)
                assert (err["type"], err["code"], err["id"]) == ("error", "internal_error", 1)
                await send_json(client, {"type": "fail"})
                assert (await recv_json(client))["code"] == "internal_error"
                await send_json(client, {"type": "fail", "why": "denied", "id": "d"})
                assert await recv_json(client) == {"type": "error", "code": "forbidden",
                                                   "message": "not your room", "id": "d"}
                # The connection and the engine carry on.
                await send_json(client, {"type": "ok", "id": 2})
                assert await recv_json(client) == {"type": "ack", "id": 2}
    tracebacks = [r for r in caplog.records if r.exc_info and "kaboom" in str(r.exc_info[1])]
    assert len(tracebacks) == 2  # MessageError is an answer, not a failure


@async_test()
async def test_builtin_types_never_reach_python() -> None:
    app = rtcore.App()
    calls = []
    app.on_message("custom")(lambda conn, msg: calls.append(msg))
    async with app:
        async with ws(app, "/ws/alice") as a, ws(app, "/ws/bob") as b:
            await send_json(a, {"type": "join_room", "room": "r", "id": 1})
            await send_json(b, {"type": "join_room", "room": "r", "id": 1})
            await recv_json(a)
            await recv_json(b)
            await send_json(a, {"type": "room_message", "room": "r", "content": 1})
            await send_json(a, {"type": "direct_message", "to": "bob", "content": 2})
            await send_json(a, {"type": "leave_room", "room": "r", "id": 3})
            got = [await recv_json(b) for _ in range(2)]
            assert [m["type"] for m in got] == ["message", "direct_message"]
            assert await recv_json(a) == {"type": "message", "room": "r", "from": "alice",
                                          "content": 1, "timestamp": got[0]["timestamp"]}
            assert await recv_json(a) == {"type": "ack", "id": 3}
            await send_json(a, {"type": "custom"})
            for _ in range(100):
                if calls:
                    break
                await asyncio.sleep(0.01)
            assert calls == [{"type": "custom"}]


@async_test()
async def test_protocol_errors_are_answered_by_the_engine() -> None:
    app = rtcore.App()
    app.on_message("custom")(lambda conn, msg: None)
    async with app:
        async with ws(app, "/ws/alice") as client:
            await client.send("not json")
            assert (await recv_json(client))["code"] == "bad_json"
            await send_json(client, {"type": "room_message", "room": "r", "content": 1, "id": 4})
            err = await recv_json(client)
            assert (err["code"], err["id"]) == ("not_in_room", 4)
