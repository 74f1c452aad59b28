"""on_presence, on_open and on_disconnect."""

from __future__ import annotations

import rtcore

from conftest import async_test, recv_json, send_json
from support import Recorder, ws


@async_test()
async def test_online_once_offline_when_the_last_connection_goes() -> None:
    app = rtcore.App()
    presence = Recorder()

    @app.on_presence
    async def on_presence(ev: rtcore.PresenceEvent) -> None:
        presence(ev)

    async with app:
        async with ws(app, "/ws/alice"):
            (online,) = await presence.wait_for(1)
            assert (online.user_id, online.status, online.online) == ("alice", "online", True)
            assert online.timestamp.endswith("Z") and "T" in online.timestamp
            async with ws(app, "/ws/alice") as second:
                await send_json(second, {"type": "join_room", "room": "r", "id": 1})
                await recv_json(second)
            assert len(presence.calls) == 1  # still online: one connection left
        calls = await presence.wait_for(2)
        assert (calls[1].user_id, calls[1].status, calls[1].online) == ("alice", "offline", False)
        assert calls[1].timestamp >= online.timestamp


@async_test()
async def test_open_and_disconnect_carry_connection_and_close_code() -> None:
    app = rtcore.App()
    opened, closed = Recorder(), Recorder()
    app.on_open(opened)

    @app.on_disconnect
    async def gone(conn: rtcore.Connection, code: int) -> None:
        closed(conn, code)

    async with app:
        async with ws(app, "/ws/alice") as client:
            (conn,) = await opened.wait_for(1)
            assert conn.user_id == "alice" and conn.id > 0
            await client.close(code=4321)
        ((gone_conn, code),) = await closed.wait_for(1)
        assert gone_conn == conn and code == 4321


@async_test()
async def test_handler_exceptions_in_event_hooks_are_contained() -> None:
    app = rtcore.App()
    app.on_open(lambda conn: 1 / 0)
    app.on_presence(lambda ev: 1 / 0)
    async with app:
        async with ws(app, "/ws/alice") as client:
            await send_json(client, {"type": "join_room", "room": "r", "id": 1})
            assert await recv_json(client) == {"type": "ack", "id": 1}


@async_test()
async def test_room_members_and_is_online() -> None:
    app = rtcore.App(presence_limit=2)
    async with app:
        async with ws(app, "/ws/alice") as a, ws(app, "/ws/bob") as b, ws(app, "/ws/carol") as c:
            for i, conn in enumerate((a, b)):
                await send_json(conn, {"type": "join_room", "room": "r", "id": i})
                assert (await recv_json(conn))["type"] == "ack"
            members = await app.room_members("r")
            assert isinstance(members, rtcore.RoomMembers)
            assert sorted(members.users) == ["alice", "bob"] and members.truncated is False
            users, truncated = await app.room_members("r", limit=1)
            assert len(users) == 1 and truncated is True
            assert await app.room_members("nobody-here") == rtcore.RoomMembers([], False)
            await send_json(c, {"type": "join_room", "room": "r", "id": 9})
            await recv_json(c)
            over = await app.room_members("r")  # the presence_limit setting
            assert len(over.users) == 2 and over.truncated is True
            assert await app.is_online(["bob", "zed", "bob"]) == {"bob": True, "zed": False}
            try:
                await app.room_members("")
            except rtcore.InvalidArgument:
                pass
            else:
                raise AssertionError("an empty room must be refused")
            try:
                await app.is_online([])
            except rtcore.InvalidArgument:
                pass
            else:
                raise AssertionError("no users must be refused")
    try:
        await app.room_members("r")
    except rtcore.StateError:
        pass
    else:
        raise AssertionError("a stopped app must refuse")
