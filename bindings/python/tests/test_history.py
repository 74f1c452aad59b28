"""App.history: the host's read of a room's stored messages (history on)."""

from __future__ import annotations

from typing import Optional

import pytest

import rtcore

from conftest import async_test, recv_json, send_json
from support import ws


async def _expect_raises(exc: type, awaitable: object, match: Optional[str] = None) -> BaseException:
    with pytest.raises(exc, match=match) as info:
        await awaitable  # type: ignore[misc]
    return info.value


@async_test()
async def test_history_returns_the_stored_messages_oldest_first() -> None:
    app = rtcore.App(history_size=10)
    async with app:
        async with ws(app, "/ws/alice") as alice:
            await send_json(alice, {"type": "join_room", "room": "r", "id": 1})
            ack = await recv_json(alice)
            assert ack["type"] == "ack" and ack["id"] == 1
            assert isinstance(ack["epoch"], str) and ack["epoch"] and ack["offset"] == 0
            sent = []
            for i in range(3):
                await send_json(alice, {"type": "room_message", "room": "r", "content": f"m{i}", "id": 10 + i})
                frame = await recv_json(alice)  # a member gets its own message before the ack
                assert frame["type"] == "message" and frame["offset"] == i + 1
                assert (await recv_json(alice))["type"] == "ack"
                sent.append(frame)
            await app.broadcast_message("r", {"note": "from the host"}, sender="srv")
            host_frame = await recv_json(alice)
            assert host_frame["offset"] == 4 and host_frame["from"] == "srv"
            sent.append(host_frame)
            await app.broadcast("r", {"raw": True})  # a frame is no message: no offset
            assert "offset" not in await recv_json(alice)

            everything = await app.history("r")
            assert isinstance(everything, rtcore.History)
            assert everything.epoch == ack["epoch"] and everything.offset == 4
            assert everything.messages == sent
            first = everything.messages[0]
            assert (first["type"], first["room"], first["from"], first["content"]) == ("message", "r", "alice", "m0")
            assert first["timestamp"].endswith("Z")
            assert everything.messages[3]["content"] == {"note": "from the host"}

            epoch, offset, newest = await app.history("r", limit=2)
            assert (epoch, offset) == (ack["epoch"], 4)
            assert [m["offset"] for m in newest] == [3, 4]
            older = await app.history("r", limit=2, before=3)
            assert [m["offset"] for m in older.messages] == [1, 2] and older.offset == 4
            assert (await app.history("r", before=1)).messages == []
            empty = await app.history("nothing-here")
            assert empty.offset == 0 and empty.messages == [] and empty.epoch


@async_test()
async def test_history_is_bounded_by_history_size() -> None:
    app = rtcore.App(history_size=3)
    async with app:
        async with ws(app, "/ws/alice") as alice:
            await send_json(alice, {"type": "join_room", "room": "r", "id": 1})
            await recv_json(alice)
            for i in range(5):
                await app.broadcast_message("r", i)
                assert (await recv_json(alice))["offset"] == i + 1
            kept = await app.history("r", limit=1000)
            assert kept.offset == 5 and [m["content"] for m in kept.messages] == [2, 3, 4]


@async_test()
async def test_history_without_history_is_not_supported() -> None:
    app = rtcore.App()
    async with app:
        async with ws(app, "/ws/alice") as alice:
            await send_json(alice, {"type": "join_room", "room": "r", "id": 1})
            assert await recv_json(alice) == {"type": "ack", "id": 1}  # no epoch, no offset
        err = await _expect_raises(rtcore.NotSupportedError, app.history("r"), "history_size")
        assert err.name == "RTC_ENOTSUP"  # type: ignore[attr-defined]


@async_test()
async def test_history_refuses_bad_arguments_and_a_stopped_app() -> None:
    app = rtcore.App(history_size=5)
    await _expect_raises(rtcore.StateError, app.history("r"))  # not started
    async with app:
        for bad in (0, -1, 2**32, 1.5, True, "10"):
            await _expect_raises(ValueError, app.history("r", limit=bad), "limit")  # type: ignore[arg-type]
        for bad in (0, -5, 2**53 + 1, 2.0, False):
            await _expect_raises(ValueError, app.history("r", before=bad), "before")  # type: ignore[arg-type]
        await _expect_raises(rtcore.InvalidArgument, app.history(""))
        await _expect_raises(rtcore.InvalidArgument, app.history("x" * 1000))  # longer than a room id may be
        assert (await app.history("r", before=2**53)).messages == []
    await _expect_raises(rtcore.StateError, app.history("r"))
