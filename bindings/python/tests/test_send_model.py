"""The send model (docs/hosts.md): frame sends send the dict (or JSON text)
as is; the *_message calls build the protocol envelope with from and
timestamp (and an offset when history is on); the old keywords still work,
with a DeprecationWarning."""

from __future__ import annotations

import warnings

import pytest
import rtcore

from conftest import async_test, expect_silence, recv_json, send_json
from support import Recorder, ws


def _is_timestamp(value: object) -> bool:
    return isinstance(value, str) and value.endswith("Z") and "T" in value


@async_test()
async def test_frame_sends_send_the_object_as_is() -> None:
    app = rtcore.App()
    opened = Recorder()
    app.on_open(opened)
    async with app:
        async with ws(app, "/ws/alice") as a, ws(app, "/ws/bob") as b:
            conns = {c.user_id: c for c in await opened.wait_for(2)}
            alice, bob = conns["alice"], conns["bob"]
            await app.join(alice, "r")
            await app.join(bob, "r")
            typing = {"type": "typing", "from": "alice"}  # the shape the reference servers send
            await app.broadcast("r", typing)
            assert await recv_json(a) == typing and await recv_json(b) == typing
            await app.broadcast("r", '{"type":"note","n":1}')  # JSON text, as is
            assert await recv_json(a) == {"type": "note", "n": 1}
            assert await recv_json(b) == {"type": "note", "n": 1}
            await app.send_to_user("bob", {"type": "ping_user", "x": [1, "ü"]})
            assert await recv_json(b) == {"type": "ping_user", "x": [1, "ü"]}
            await app.send_to_connection(alice, {"type": "to_conn"})
            assert await recv_json(a) == {"type": "to_conn"}
            await alice.send({"type": "via_conn"})
            assert await recv_json(a) == {"type": "via_conn"}
            await expect_silence(b)
            for bad in (1, [1], None):
                with pytest.raises(TypeError):
                    await app.broadcast("r", bad)  # type: ignore[arg-type]
            with pytest.raises(rtcore.InvalidArgument):
                await app.send_to_user("bob", "not json")


@async_test()
async def test_envelope_sends_build_message_and_direct_message() -> None:
    app = rtcore.App()
    opened = Recorder()
    app.on_open(opened)
    async with app:
        async with ws(app, "/ws/alice") as a, ws(app, "/ws/bob") as b:
            conns = {c.user_id: c for c in await opened.wait_for(2)}
            alice, bob = conns["alice"], conns["bob"]
            await app.join(alice, "r")
            await app.join(bob, "r")
            await app.broadcast_message("r", {"text": "hi"}, sender="host")
            for client in (a, b):
                m = await recv_json(client)
                assert set(m) == {"type", "room", "from", "content", "timestamp"}
                assert (m["type"], m["room"], m["from"], m["content"]) == ("message", "r", "host", {"text": "hi"})
                assert _is_timestamp(m["timestamp"])
            await app.broadcast_message("r", "plain")  # from defaults to "" (a server message)
            for client in (a, b):
                m = await recv_json(client)
                assert (m["from"], m["content"]) == ("", "plain")
            await app.send_message_to_user("bob", [1, 2], sender="alice")
            m = await recv_json(b)
            assert set(m) == {"type", "from", "content", "timestamp"}
            assert (m["type"], m["from"], m["content"]) == ("direct_message", "alice", [1, 2])
            await app.send_message_to_connection(alice, 3)
            m = await recv_json(a)
            assert (m["type"], m["from"], m["content"]) == ("direct_message", "", 3)
            await alice.send_message({"k": True}, sender="srv")
            m = await recv_json(a)
            assert (m["type"], m["from"], m["content"]) == ("direct_message", "srv", {"k": True})
            assert _is_timestamp(m["timestamp"])
            await expect_silence(b)


@async_test()
async def test_envelope_sends_carry_offsets_with_history() -> None:
    app = rtcore.App(history_size=10)
    async with app:
        async with ws(app, "/ws/alice") as a:
            await send_json(a, {"type": "join_room", "room": "r", "id": 1})
            ack = await recv_json(a)
            await app.broadcast_message("r", "one", sender="host")
            m = await recv_json(a)
            assert m["offset"] == ack["offset"] + 1 and m["from"] == "host"
            await app.broadcast("r", {"type": "typing"})  # a frame is not a stored message
            assert await recv_json(a) == {"type": "typing"}
            await app.broadcast_message("r", "two")
            assert (await recv_json(a))["offset"] == ack["offset"] + 2
            await app.send_message_to_user("alice", "dm")
            dm = await recv_json(a)
            assert dm["type"] == "direct_message" and isinstance(dm.get("offset"), int)
            stored = await app.history("r")
            assert [x["content"] for x in stored.messages] == ["one", "two"]


@async_test()
async def test_deprecated_keywords_warn_and_keep_their_meaning() -> None:
    app = rtcore.App()
    opened = Recorder()
    app.on_open(opened)
    async with app:
        async with ws(app, "/ws/alice") as a:
            (alice,) = await opened.wait_for(1)
            with pytest.warns(DeprecationWarning, match="send_message_to_user"):
                await app.send_to_user("alice", {"n": 1}, sender="old")
            m = await recv_json(a)
            assert (m["type"], m["from"], m["content"]) == ("direct_message", "old", {"n": 1})
            with pytest.warns(DeprecationWarning, match="broadcast_message"):
                await app.join(alice, "r")
                await app.broadcast("r", {"n": 2}, sender="old")
            m = await recv_json(a)
            assert (m["type"], m["room"], m["from"], m["content"]) == ("message", "r", "old", {"n": 2})
            with pytest.warns(DeprecationWarning, match="raw"):
                await app.send_to_connection(alice, {"type": "t"}, raw=True)  # a no-op: frame already
            assert await recv_json(a) == {"type": "t"}
            with pytest.warns(DeprecationWarning):
                await alice.send({"n": 3}, sender="old")
            assert (await recv_json(a))["type"] == "direct_message"
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # the new calls do not warn
                await app.send_to_connection(alice, {"type": "quiet"})
                await app.send_message_to_connection(alice, "quiet")
            assert await recv_json(a) == {"type": "quiet"}
            assert (await recv_json(a))["content"] == "quiet"
            with pytest.raises(TypeError):
                await app.broadcast("r", {"n": 1}, unknown=True)
