"""The package surface: version, errors, settings, lifecycle and every
server-side call, checked from a real WebSocket client."""

from __future__ import annotations

import asyncio

import pytest
import rtcore
from rtcore import _native

from conftest import async_test, expect_silence, recv_json, send_json
from support import Recorder, ws


def test_version_is_the_c_library_version() -> None:
    assert rtcore.__version__ == _native.version()
    major, minor, patch = (int(p) for p in rtcore.__version__.split("."))
    assert _native.version_number() == (major << 16) | (minor << 8) | patch


def test_error_carries_code_and_name() -> None:
    err = rtcore.InvalidArgument(_native.RTC_EINVAL, "join")
    assert isinstance(err, ValueError) and isinstance(err, rtcore.Error)
    assert err.code == -1 and err.name == "RTC_EINVAL"
    assert "invalid argument" in str(err)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ping_interval": 0},
        {"ping_timeout": -1},
        {"max_message_size": 0},
        {"max_send_queue_bytes": True},
        {"max_rooms_per_connection": -1},
        {"log_level": "loud"},
        {"redis_url": 5},
    ],
)
def test_bad_settings_raise_value_error(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        rtcore.App(**kwargs)


def test_builtin_types_cannot_get_a_handler() -> None:
    app = rtcore.App()
    for t in ("join_room", "leave_room", "room_message", "direct_message"):
        with pytest.raises(ValueError):
            app.on_message(t)


def test_calls_before_start_raise_state_error() -> None:
    app = rtcore.App()
    assert not app.running and app.port == 0
    with pytest.raises(rtcore.StateError):
        app.stats()
    with pytest.raises(rtcore.StateError):
        asyncio.run(app.broadcast_message("r", 1))


@async_test()
async def test_start_stop_and_context_manager() -> None:
    app = rtcore.App(node_id="node-a")
    await app.start()
    try:
        assert app.running and app.port > 0 and app.node_id == "node-a"
        assert app.url == f"ws://127.0.0.1:{app.port}"
        with pytest.raises(rtcore.StateError):
            await app.start()
    finally:
        await app.stop()
    await app.stop()  # idempotent
    assert not app.running
    async with app:  # an app can be started again
        async with ws(app, "/ws/alice") as client:
            await send_json(client, {"type": "join_room", "room": "r", "id": 1})
            assert await recv_json(client) == {"type": "ack", "id": 1}


@async_test()
async def test_port_in_use_raises_listen_error() -> None:
    async with rtcore.App() as first:
        second = rtcore.App()
        with pytest.raises(rtcore.ListenError):
            await second.start(port=first.port)
        assert not second.running


@async_test()
async def test_redis_url_without_backplane_is_a_clear_error() -> None:
    app = rtcore.App(redis_url="redis://127.0.0.1:6379")
    try:
        await app.start()
    except rtcore.NotSupportedError as exc:
        assert "Redis" in str(exc)
    else:  # a build with the backplane: it must then work
        await app.stop()


@async_test()
async def test_send_to_user_reaches_every_connection_of_the_user() -> None:
    async with rtcore.App() as app:
        async with ws(app, "/ws/alice") as a1, ws(app, "/ws/alice") as a2, ws(app, "/ws/bob") as b:
            await _wait_connections(app, 3)
            await app.send_message_to_user("alice", {"n": 1}, sender="server")
            for client in (a1, a2):
                msg = await recv_json(client)
                assert msg["type"] == "direct_message" and msg["from"] == "server"
                assert msg["content"] == {"n": 1} and msg["timestamp"].endswith("Z")
            await app.send_to_user("alice", {"type": "custom", "x": [1, 2]})
            assert await recv_json(a1) == {"type": "custom", "x": [1, 2]}
            await expect_silence(b)
            await app.send_message_to_user("nobody", "x")  # an unknown user is not an error
            with pytest.raises(rtcore.InvalidArgument):
                await app.send_message_to_user("a/b", "x")
            with pytest.raises(ValueError):
                await app.send_message_to_user("alice", float("nan"))


@async_test()
async def test_send_to_connection_join_leave_and_broadcast() -> None:
    app = rtcore.App()
    opened = Recorder()
    app.on_open(opened)
    async with app:
        async with ws(app, "/ws/alice") as a, ws(app, "/ws/bob") as b:
            conns = {c.user_id: c for c in await opened.wait_for(2)}
            alice, bob = conns["alice"], conns["bob"]
            assert isinstance(alice.id, int) and alice.id != bob.id

            await app.send_message_to_connection(alice, "hi")
            msg = await recv_json(a)
            assert msg["type"] == "direct_message" and msg["content"] == "hi" and msg["from"] == ""
            await alice.send_message({"via": "conn"}, sender="srv")
            assert (await recv_json(a))["content"] == {"via": "conn"}

            await app.join(alice, "lobby")
            await bob.join("lobby")
            await app.broadcast_message("lobby", {"hello": True}, sender="system")
            for client in (a, b):
                msg = await recv_json(client)
                assert msg["type"] == "message" and msg["room"] == "lobby"
                assert msg["from"] == "system" and msg["content"] == {"hello": True}
            assert app.stats().rooms == 1

            await app.leave(bob.id, "lobby")
            await app.broadcast("lobby", {"type": "note"})
            assert await recv_json(a) == {"type": "note"}
            await expect_silence(b)

            with pytest.raises(rtcore.InvalidArgument):
                await app.join(alice, "")
            with pytest.raises(ValueError):
                await app.join(0, "lobby")
            with pytest.raises(TypeError):
                await app.broadcast("lobby", [1])


@async_test()
async def test_send_error_frame() -> None:
    app = rtcore.App()
    opened = Recorder()
    app.on_open(opened)
    async with app:
        async with ws(app, "/ws/alice") as a:
            (conn,) = await opened.wait_for(1)
            await app.send_error(conn, "forbidden", "no", request_id="r1")
            assert await recv_json(a) == {"type": "error", "code": "forbidden", "message": "no", "id": "r1"}
            await app.send_error(conn, "custom")
            assert await recv_json(a) == {"type": "error", "code": "custom", "message": "custom"}


@async_test()
async def test_disconnect_a_connection_or_a_user() -> None:
    app = rtcore.App()
    opened, closed = Recorder(), Recorder()
    app.on_open(opened)
    app.on_disconnect(closed)
    async with app:
        async with ws(app, "/ws/alice") as a1, ws(app, "/ws/alice") as a2, ws(app, "/ws/bob") as b:
            conns = await opened.wait_for(3)
            bob = next(c for c in conns if c.user_id == "bob")
            await app.disconnect(bob, 4001)
            await b.wait_closed()
            assert b.close_code == 4001
            await app.disconnect("alice", 4002)
            await a1.wait_closed()
            await a2.wait_closed()
            assert a1.close_code == a2.close_code == 4002
            calls = await closed.wait_for(3)
            assert sorted(code for _, code in calls) == [4001, 4002, 4002]
            with pytest.raises(rtcore.InvalidArgument):
                await app.disconnect("alice", 1001)  # not a code a host may send
            await bob.close()  # stale id: ignored


@async_test()
async def test_stats_dataclass() -> None:
    async with rtcore.App() as app:
        async with ws(app, "/ws/alice") as a, ws(app, "/ws/bob"):
            await _wait_connections(app, 2)
            await send_json(a, {"type": "join_room", "room": "r", "id": 1})
            await recv_json(a)
            stats = app.stats()
            assert isinstance(stats, rtcore.Stats)
            assert (stats.connections, stats.users, stats.rooms) == (2, 2, 1)
            assert stats.messages_in >= 1 and stats.connections_total == 2
            # The dataclass names exactly the library's counters (its table).
            raw = app._require_engine().stats()
            raw.pop("rc")
            assert set(raw) == set(rtcore.Stats.__dataclass_fields__)
            text = app.metrics()
            assert "# TYPE rtcore_connections gauge\nrtcore_connections 2\n" in text
            assert 'rtcore_client_messages_total{type="join_room"} 1' in text
            assert rtcore.METRICS_CONTENT_TYPE.startswith("text/plain; version=0.0.4")


async def _wait_connections(app: rtcore.App, n: int) -> None:
    for _ in range(500):
        if app.stats().connections >= n:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{app.stats().connections} connections, want {n}")
