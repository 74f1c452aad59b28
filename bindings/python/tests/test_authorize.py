"""on_authorize: the host allows or refuses join_room, room_message and
direct_message per connection. The engine defers every decision to Python
and holds the connection's later messages meanwhile, so order is kept; a
refusal is the error `forbidden` with the request's id and has no effect."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, List, Tuple

import pytest
import rtcore

from conftest import async_test, expect_silence, recv_json, send_json
from support import ws

Call = Tuple[str, str, str]  # (user_id, action, target)


def _policy_app(hook_is_async: bool) -> "tuple[rtcore.App, List[Call]]":
    """alice may do anything but join "secret"; mallory may join rooms but
    not post to them nor send direct messages."""
    app = rtcore.App()
    calls: List[Call] = []

    def decide(conn: rtcore.Connection, action: str, target: str) -> bool:
        assert isinstance(conn, rtcore.Connection) and conn.id > 0
        calls.append((conn.user_id, action, target))
        if action == "join_room":
            return target != "secret"
        return conn.user_id != "mallory"

    if hook_is_async:

        @app.on_authorize
        async def authorize(conn: rtcore.Connection, action: str, target: str) -> bool:
            await asyncio.sleep(0.005)  # e.g. a database look-up
            return decide(conn, action, target)

    else:
        app.on_authorize(decide)
    return app, calls


def _forbidden(rid: Any) -> dict:
    return {"type": "error", "code": "forbidden", "message": "not allowed", "id": rid}


@pytest.mark.parametrize("hook_is_async", [False, True], ids=["sync", "async"])
@async_test()
async def test_allowed_actions_take_effect_and_the_hook_sees_each(hook_is_async: bool) -> None:
    app, calls = _policy_app(hook_is_async)
    async with app:
        async with ws(app, "/ws/alice") as alice, ws(app, "/ws/bob") as bob:
            await send_json(alice, {"type": "join_room", "room": "r", "id": 1})
            assert await recv_json(alice) == {"type": "ack", "id": 1}
            await send_json(bob, {"type": "join_room", "room": "r", "id": 2})
            assert await recv_json(bob) == {"type": "ack", "id": 2}

            await send_json(alice, {"type": "room_message", "room": "r", "content": "hi", "id": 3})
            for client in (alice, bob):
                msg = await recv_json(client)
                assert (msg["type"], msg["room"], msg["from"], msg["content"]) == ("message", "r", "alice", "hi")
            assert await recv_json(alice) == {"type": "ack", "id": 3}

            await send_json(alice, {"type": "direct_message", "to": "bob", "content": 7, "id": "d"})
            msg = await recv_json(bob)
            assert (msg["type"], msg["from"], msg["content"]) == ("direct_message", "alice", 7)
            assert await recv_json(alice) == {"type": "ack", "id": "d"}

            # leave_room is never asked about.
            await send_json(alice, {"type": "leave_room", "room": "r", "id": 4})
            assert await recv_json(alice) == {"type": "ack", "id": 4}
    assert calls == [
        ("alice", "join_room", "r"),
        ("bob", "join_room", "r"),
        ("alice", "room_message", "r"),
        ("alice", "direct_message", "bob"),
    ]


@pytest.mark.parametrize("hook_is_async", [False, True], ids=["sync", "async"])
@async_test()
async def test_refused_actions_get_forbidden_with_their_id_and_have_no_effect(hook_is_async: bool) -> None:
    app, _ = _policy_app(hook_is_async)
    async with app:
        async with ws(app, "/ws/alice") as alice, ws(app, "/ws/bob") as bob, \
                ws(app, "/ws/mallory") as mallory:
            # join_room refused: alice is not a member of "secret".
            await send_json(alice, {"type": "join_room", "room": "secret", "id": 1})
            assert await recv_json(alice) == _forbidden(1)
            await send_json(alice, {"type": "room_message", "room": "secret", "content": "x", "id": 2})
            err = await recv_json(alice)
            assert (err["code"], err["id"]) == ("not_in_room", 2)
            assert app.stats().rooms == 0

            # room_message refused: reaches nobody, not even the sender.
            for client, rid in ((bob, 3), (mallory, 4)):
                await send_json(client, {"type": "join_room", "room": "r", "id": rid})
                assert await recv_json(client) == {"type": "ack", "id": rid}
            await send_json(mallory, {"type": "room_message", "room": "r", "content": "spam", "id": "m1"})
            assert await recv_json(mallory) == _forbidden("m1")

            # direct_message refused: the recipient gets nothing.
            await send_json(mallory, {"type": "direct_message", "to": "bob", "content": "psst", "id": 5})
            assert await recv_json(mallory) == _forbidden(5)

            # Without an id the refusal is still answered, without one.
            await send_json(mallory, {"type": "direct_message", "to": "alice", "content": "psst"})
            err = await recv_json(mallory)
            assert (err["type"], err["code"]) == ("error", "forbidden") and "id" not in err

            await expect_silence(bob, 0.3)
            await expect_silence(alice, 0.05)
            assert app.stats().forbidden == 4


@async_test()
async def test_a_slow_async_hook_keeps_the_connections_message_order() -> None:
    app = rtcore.App()
    calls: List[Call] = []

    @app.on_authorize
    async def slow(conn: rtcore.Connection, action: str, target: str) -> bool:
        calls.append((conn.user_id, action, target))
        if action == "join_room":
            await asyncio.sleep(0.1)
        return True

    async with app:
        async with ws(app, "/ws/alice") as alice:
            # Sent back to back: the room_message must wait for the join.
            await send_json(alice, {"type": "join_room", "room": "A", "id": 1})
            await send_json(alice, {"type": "room_message", "room": "A", "content": "first", "id": 2})
            await send_json(alice, {"type": "leave_room", "room": "A", "id": 3})
            assert await recv_json(alice) == {"type": "ack", "id": 1}
            msg = await recv_json(alice)
            assert (msg["type"], msg["room"], msg["content"]) == ("message", "A", "first")
            assert await recv_json(alice) == {"type": "ack", "id": 2}
            assert await recv_json(alice) == {"type": "ack", "id": 3}
    assert calls == [("alice", "join_room", "A"), ("alice", "room_message", "A")]


@async_test()
async def test_connections_wait_only_for_their_own_decisions() -> None:
    app = rtcore.App()
    release = asyncio.Event()

    @app.on_authorize
    async def gate(conn: rtcore.Connection, action: str, target: str) -> bool:
        if conn.user_id == "slow":
            await release.wait()
        return True

    async with app:
        async with ws(app, "/ws/slow") as slow, ws(app, "/ws/fast") as fast:
            await send_json(slow, {"type": "join_room", "room": "r", "id": 1})
            await send_json(fast, {"type": "join_room", "room": "r", "id": 2})
            assert await recv_json(fast) == {"type": "ack", "id": 2}
            await expect_silence(slow, 0.1)
            release.set()
            assert await recv_json(slow) == {"type": "ack", "id": 1}


@pytest.mark.parametrize("hook_is_async", [False, True], ids=["sync", "async"])
@async_test()
async def test_a_hook_that_raises_refuses_and_is_logged(hook_is_async: bool,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    app = rtcore.App()

    if hook_is_async:

        @app.on_authorize
        async def broken(conn: rtcore.Connection, action: str, target: str) -> bool:
            await asyncio.sleep(0)
            raise RuntimeError("policy store down")

    else:

        @app.on_authorize
        def broken(conn: rtcore.Connection, action: str, target: str) -> bool:
            raise RuntimeError("policy store down")

    with caplog.at_level(logging.ERROR, logger="rtcore"):
        async with app:
            async with ws(app, "/ws/alice") as alice:
                await send_json(alice, {"type": "join_room", "room": "r", "id": 1})
                assert await recv_json(alice) == _forbidden(1)
                assert app.stats().rooms == 0
                assert app.stats().forbidden == 1
    records = [r for r in caplog.records if "on_authorize" in r.getMessage()]
    assert records and records[0].exc_info is not None
    assert "policy store down" in str(records[0].exc_info[1])


@async_test()
async def test_anything_but_true_refuses(caplog: pytest.LogCaptureFixture) -> None:
    app = rtcore.App()
    answers = {"yes": True, "no": False, "none": None, "one": 1, "text": "yes"}
    app.on_authorize(lambda conn, action, target: answers[target])
    with caplog.at_level(logging.ERROR, logger="rtcore"):
        async with app:
            async with ws(app, "/ws/alice") as alice:
                for i, room in enumerate(answers):
                    await send_json(alice, {"type": "join_room", "room": room, "id": i})
                    reply = await recv_json(alice)
                    assert reply == ({"type": "ack", "id": i} if room == "yes" else _forbidden(i))
                assert app.stats().forbidden == 4
    logged = [r.getMessage() for r in caplog.records if "want True or False" in r.getMessage()]
    assert len(logged) == 3  # None, 1 and "yes"; a plain False is a decision, not an error


@async_test()
async def test_without_a_hook_nothing_is_asked_and_on_authorize_needs_registering_before_start() -> None:
    app = rtcore.App()
    assert not app._hooks.native_mask() & rtcore._native.HOOK_AUTHORIZE
    async with app:
        async with ws(app, "/ws/alice") as alice:
            await send_json(alice, {"type": "join_room", "room": "secret", "id": 1})
            assert await recv_json(alice) == {"type": "ack", "id": 1}
        with pytest.raises(rtcore.StateError):
            app.on_authorize(lambda conn, action, target: True)
        assert app.stats().forbidden == 0


@async_test()
async def test_the_hook_can_use_the_connection_and_custom_types_are_not_asked() -> None:
    app = rtcore.App()
    calls: List[Call] = []

    @app.on_authorize
    async def authorize(conn: rtcore.Connection, action: str, target: str) -> bool:
        calls.append((conn.user_id, action, target))
        if target == "vip":
            await conn.send({"type": "notice", "text": "members only"})
            return False
        return True

    @app.on_message("ping")
    def ping(conn: rtcore.Connection, msg: dict) -> None:
        pass

    async with app:
        async with ws(app, "/ws/alice") as alice:
            await send_json(alice, {"type": "join_room", "room": "vip", "id": 1})
            assert await recv_json(alice) == {"type": "notice", "text": "members only"}
            assert await recv_json(alice) == _forbidden(1)
            await send_json(alice, {"type": "ping", "id": 2})
            assert await recv_json(alice) == {"type": "ack", "id": 2}
    assert calls == [("alice", "join_room", "vip")]
