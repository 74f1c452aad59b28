"""The ack rule (docs/hosts.md, docs/protocol.md section 2): exactly one ack
or one error per host-defined message carrying an id. "Exactly one" is
checked by sending a ping-like known message afterwards and asserting that
its answer is the very next frame."""

from __future__ import annotations

import asyncio
from typing import Any, Dict

import rtcore

from conftest import async_test, expect_silence, recv_json, send_json
from support import ws


def _app() -> rtcore.App:
    app = rtcore.App()

    @app.on_message("ok")
    async def ok(conn: rtcore.Connection, msg: rtcore.Message) -> None:
        await asyncio.sleep(0.01)

    @app.on_message("ok_sync")
    def ok_sync(conn: rtcore.Connection, msg: rtcore.Message) -> None:
        pass

    @app.on_message("boom")
    async def boom(conn: rtcore.Connection, msg: rtcore.Message) -> None:
        raise RuntimeError("secret detail that must not reach the client")

    @app.on_message("refuse")
    def refuse(conn: rtcore.Connection, msg: rtcore.Message) -> None:
        raise rtcore.MessageError("invalid_field", "no such thing")

    @app.on_message("answer_self")
    async def answer_self(conn: rtcore.Connection, msg: rtcore.Message) -> None:
        await app.send_error(conn, "not_allowed", "the handler answered", msg.id)

    @app.on_message("answer_self_then_raise")
    async def answer_self_then_raise(conn: rtcore.Connection, msg: rtcore.Message) -> None:
        await app.send_error(conn, "not_allowed", "the handler answered", msg.id)
        raise RuntimeError("after answering")

    @app.on_message("marker")
    def marker(conn: rtcore.Connection, msg: rtcore.Message) -> None:
        pass

    return app


async def _then_only_marker(client: Any, n: int) -> None:
    """The next frame is the marker's ack: nothing else came in between."""
    await send_json(client, {"type": "marker", "id": f"m{n}"})
    assert await recv_json(client) == {"type": "ack", "id": f"m{n}"}


@async_test()
async def test_exactly_one_answer_per_message_with_an_id() -> None:
    app = _app()
    async with app:
        async with ws(app, "/ws/alice") as c:
            cases: Dict[str, Any] = {
                "ok": {"type": "ack", "id": 1},
                "ok_sync": {"type": "ack", "id": 2},
            }
            await send_json(c, {"type": "ok", "id": 1})
            assert await recv_json(c) == cases["ok"]
            await _then_only_marker(c, 1)
            await send_json(c, {"type": "ok_sync", "id": 2})
            assert await recv_json(c) == cases["ok_sync"]
            await _then_only_marker(c, 2)

            await send_json(c, {"type": "boom", "id": "b"})
            err = await recv_json(c)
            assert (err["type"], err["code"], err["id"]) == ("error", "internal_error", "b")
            assert "secret" not in err["message"] and "Traceback" not in err["message"]
            await _then_only_marker(c, 3)

            await send_json(c, {"type": "refuse", "id": 4})
            assert await recv_json(c) == {"type": "error", "code": "invalid_field", "message": "no such thing", "id": 4}
            await _then_only_marker(c, 4)

            for t in ("answer_self", "answer_self_then_raise"):
                await send_json(c, {"type": t, "id": "s"})
                assert await recv_json(c) == {"type": "error", "code": "not_allowed",
                                              "message": "the handler answered", "id": "s"}
                await _then_only_marker(c, 5)

            await send_json(c, {"type": "nobody_handles_this", "id": 9})
            err = await recv_json(c)
            assert (err["type"], err["code"], err["id"]) == ("error", "unknown_type", 9)
            await _then_only_marker(c, 6)

            # Without an id a handled message is answered with nothing.
            await send_json(c, {"type": "ok"})
            await send_json(c, {"type": "ok_sync"})
            await expect_silence(c, 0.3)
            await _then_only_marker(c, 7)


@async_test()
async def test_the_handler_gets_the_request_id() -> None:
    app = rtcore.App()
    seen = []

    @app.on_message("t")
    def t(conn: rtcore.Connection, msg: rtcore.Message) -> None:
        seen.append((msg.id, msg.id_json, msg.type, dict(msg)))

    async with app:
        async with ws(app, "/ws/alice") as c:
            await send_json(c, {"type": "t", "id": "x1", "n": 1})
            assert await recv_json(c) == {"type": "ack", "id": "x1"}
            await send_json(c, {"type": "t", "id": 7})
            assert await recv_json(c) == {"type": "ack", "id": 7}
            await c.send('{"type":"t","id":"\\u00e9"}')  # an escaped id is echoed as the client wrote it
            ack = await c.recv()
            assert ack == '{"type":"ack","id":"\\u00e9"}'
            await send_json(c, {"type": "t"})
            await _then_only_marker_any(c, app)
    assert seen[0] == ("x1", '"x1"', "t", {"type": "t", "id": "x1", "n": 1})
    assert seen[1][:2] == (7, "7")
    assert seen[2][:2] == ("é", '"\\u00e9"')
    assert seen[3][:2] == (None, "")


async def _then_only_marker_any(client: Any, app: rtcore.App) -> None:
    # "t" acks any id: use it as the marker here.
    await send_json(client, {"type": "t", "id": "end"})
    assert await recv_json(client) == {"type": "ack", "id": "end"}
