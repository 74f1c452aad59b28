"""Connecting (PROTOCOL.md section 1) and /healthz."""

import asyncio
import http.client

import pytest

from support import (
    Clients,
    assert_direct_message,
    assert_room_message,
    expect_silence,
    join,
    recv_json,
    run,
    send_json,
    upgrade_status,
)

BAD_PATHS = {
    "empty": "/ws/",
    "control char": "/ws/a%01b",
    "newline": "/ws/a%0Ab",
    "carriage return": "/ws/a%0Db",
    "DEL": "/ws/a%7Fb",
    "C1 control": "/ws/a%C2%85b",
    "tab": "/ws/a%09b",
    "invalid UTF-8": "/ws/%ff%fe",
    "truncated UTF-8": "/ws/abc%C3",
    "overlong UTF-8": "/ws/%C0%AF",
    "129 bytes": "/ws/" + "a" * 129,
    "129 bytes multi-byte": "/ws/" + "%C3%A9" * 64 + "a",
}


@pytest.mark.parametrize("path", BAD_PATHS.values(), ids=BAD_PATHS.keys())
def test_bad_user_id_is_refused_with_400(server, path):
    async def main():
        assert await upgrade_status(server, path) == 400
        # Nothing was registered, and the server still serves.
        async with Clients(server) as c:
            ws = await c.open("after")
            await join(ws, "r")

    run(main())


def test_slash_in_user_id_is_refused(server):
    async def main():
        status = await upgrade_status(server, "/ws/a%2Fb")
        assert 400 <= status < 500, f"/ws/a%2Fb answered {status}"

    run(main())


def test_user_id_of_128_bytes_is_accepted(server):
    async def main():
        user = "u" * 128
        async with Clients(server) as c:
            ws, other = await c.open(user), await c.open("other")
            await join(ws, "r")
            await join(other, "r")
            await send_json(ws, {"type": "room_message", "room": "r", "content": 1})
            for r in (ws, other):
                assert_room_message(await recv_json(r), "r", user, 1)
            await send_json(other, {"type": "direct_message", "to": user, "content": 2})
            assert_direct_message(await recv_json(ws), "other", 2)

    run(main())


def test_multibyte_user_id_is_decoded(server):
    async def main():
        async with Clients(server) as c:
            eleve = await c.open("%C3%A9l%C3%A8ve", encode=False)
            bob = await c.open("bob")
            await join(eleve, "r")
            await join(bob, "r")
            await send_json(eleve, {"type": "room_message", "room": "r", "content": "salut"})
            assert_room_message(await recv_json(bob), "r", "\u00e9l\u00e8ve", "salut")
            await send_json(eleve, {"type": "direct_message", "to": "bob", "content": 1})
            assert_direct_message(await recv_json(bob), "\u00e9l\u00e8ve", 1)
            await send_json(bob, {"type": "direct_message", "to": "\u00e9l\u00e8ve", "content": 2})
            assert_room_message(await recv_json(eleve), "r", "\u00e9l\u00e8ve", "salut")
            assert_direct_message(await recv_json(eleve), "bob", 2)
            # 4-byte UTF-8 and an encoded space are fine too.
            rocket = await c.open("rocket \U0001F680")
            await send_json(bob, {"type": "direct_message", "to": "rocket \U0001F680", "content": 3})
            assert_direct_message(await recv_json(rocket), "bob", 3)
            await expect_silence(eleve)

    run(main())


def test_healthz(server):
    def get():
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        try:
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            resp.read()
            return resp.status
        finally:
            conn.close()

    async def main():
        assert await asyncio.to_thread(get) == 200

    run(main())
