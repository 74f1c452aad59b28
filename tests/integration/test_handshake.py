"""Connecting (docs/protocol.md section 1) and /healthz."""

import asyncio
import base64
import http.client
import json
import os
import socket
import time

import pytest

from support import (
    Clients,
    assert_direct_message,
    assert_room_message,
    expect_silence,
    handshake_status,
    join,
    recv_json,
    run,
    send_json,
    upgrade_status,
)


def raw_handshake(port, raw_path, extra_headers="", timeout=5.0):
    """Send an upgrade request for the raw (already encoded) path by hand and
    read until the server closes. Returns (status or None, body bytes); None
    when the server closed without a response."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(
            (
                f"GET {raw_path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"{extra_headers}\r\n"
            ).encode()
        )
        buf, deadline = b"", time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(4096)
            except ConnectionResetError:
                break
            if not chunk:
                break
            buf += chunk
            if buf.startswith(b"HTTP/1.1 101 "):
                break  # accepted: the socket stays open
    finally:
        sock.close()
    if not buf:
        return None, b""
    head, _, body = buf.partition(b"\r\n\r\n")
    return int(head.split(b"\r\n")[0].split()[1]), body


def stats(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("GET", "/stats")
        resp = conn.getresponse()
        assert resp.status == 200
        return json.loads(resp.read())
    finally:
        conn.close()


async def refusal(server, raw_path, **kwargs):
    """Upgrade with the websockets client; returns (status, body) of the
    refusal it must get."""
    from websockets.asyncio.client import connect as ws_connect

    try:
        ws = await ws_connect(f"ws://127.0.0.1:{server.port}{raw_path}", open_timeout=5, **kwargs)
    except Exception as exc:  # noqa: BLE001 - classified below
        status = handshake_status(exc)
        if status is None:
            raise
        return status, exc.response.body
    await ws.close()
    raise AssertionError(f"{raw_path} was accepted")

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
            # 4-byte UTF-8 is fine too (a space is not: see the '+' tests).
            rocket = await c.open("rocket\U0001F680")
            await send_json(bob, {"type": "direct_message", "to": "rocket\U0001F680", "content": 3})
            assert_direct_message(await recv_json(rocket), "bob", 3)
            await expect_silence(eleve)

    run(main())


# ------------------------------------------------ '+' in the path (issue 10.4)
# lws decodes a raw '+' in the path to a space and keeps no raw path, so a
# decoded space may have been '+' or %20: such an id is refused, never read
# as a different user. %2B is an unambiguous plus.


@pytest.mark.parametrize("raw_path", ["/ws/a+b", "/ws/a%20b", "/ws/john+test@example.com"])
def test_ambiguous_plus_or_space_in_user_id_is_refused_with_a_reason(start_server, raw_path):
    server = start_server("--expose-stats")

    async def main():
        status, body = await asyncio.to_thread(raw_handshake, server.port, raw_path)
        assert status == 400, (status, body)
        assert b"ambiguous" in body and b"%2B" in body, body
        status, body = await refusal(server, raw_path)  # a real client sees the same
        assert status == 400 and b"%2B" in body, (status, body)
        # Nothing was registered, under either reading of the id.
        s = stats(server)
        assert s["connections_total"] == 0 and s["users"] == 0, s
        assert s["rejected_upgrades"] == 2, s  # counted like every refusal
        async with Clients(server) as c:
            ws = await c.open("after")
            await join(ws, "r")

    run(main())


def test_percent_encoded_plus_is_a_plus_in_the_user_id(server):
    async def main():
        async with Clients(server) as c:
            plus = await c.open("john%2Btest@example.com", encode=False)
            other = await c.open("other")
            await send_json(other, {"type": "direct_message", "to": "john+test@example.com", "content": 1})
            assert_direct_message(await recv_json(plus), "other", 1)
            await send_json(plus, {"type": "direct_message", "to": "other", "content": 2})
            assert_direct_message(await recv_json(other), "john+test@example.com", 2)

    run(main())


def test_plus_right_after_a_slash_is_kept_as_a_plus(server):
    # lws converts '+' only inside a path segment; "/ws/+x" arrives as "+x".
    async def main():
        async with Clients(server) as c:
            plus = await c.open("+x", encode=False)
            other = await c.open("other")
            await send_json(other, {"type": "direct_message", "to": "+x", "content": 1})
            assert_direct_message(await recv_json(plus), "other", 1)
            await send_json(plus, {"type": "direct_message", "to": "other", "content": 2})
            assert_direct_message(await recv_json(other), "+x", 2)

    run(main())


# ---------------------------- Sec-WebSocket-Protocol lws cannot take (10.9)
# lws 4.1.6 closes the socket without any response when the header is over
# 126 bytes, when an entry it reads (those up to rtcore.v1) is over 62
# bytes, or when no entry is rtcore.v1; the server answers 400 first.

BAD_SUBPROTOCOLS = {
    "long bearer token alone": ("bearer." + "t" * 150, b"longer than 126 bytes"),
    "list over 126 bytes": ("rtcore.v1, bearer." + "t" * 109, b"longer than 126 bytes"),
    "entry over 62 bytes before rtcore.v1": ("bearer." + "t" * 56 + ", rtcore.v1", b"longer than 62 bytes"),
    "short bearer token alone": ("bearer.abc", b"does not list rtcore.v1"),
    "reserved msgpack only": ("rtcore.v1.msgpack", b"does not list rtcore.v1"),
    "malformed list": ("x y, rtcore.v1", b"malformed"),
}


@pytest.mark.parametrize("value,reason", BAD_SUBPROTOCOLS.values(), ids=BAD_SUBPROTOCOLS.keys())
def test_subprotocol_header_lws_would_drop_gets_400_with_a_reason(start_server, value, reason):
    server = start_server("--expose-stats")

    async def main():
        status, body = await asyncio.to_thread(
            raw_handshake, server.port, "/ws/alice", f"Sec-WebSocket-Protocol: {value}\r\n"
        )
        assert status == 400, f"no 400 for {value!r}: {status} {body!r}"
        assert reason in body, body
        if reason != b"malformed":
            assert b"?token=" in body and b"Authorization: Bearer" in body, body
        if reason != b"malformed":  # websockets would not even send that one
            # The websockets client sends the list comma-joined, and sees it too.
            status, body = await refusal(server, "/ws/alice", subprotocols=[p.strip() for p in value.split(",")])
            assert status == 400 and reason in body, (status, body)
        assert stats(server)["connections_total"] == 0
        async with Clients(server) as c:
            await join(await c.open("after"), "r")

    run(main())


ACCEPTED_SUBPROTOCOLS = {
    "126 bytes": "rtcore.v1, bearer." + "t" * 108,
    "62-byte entry before rtcore.v1": "bearer." + "t" * 55 + ", rtcore.v1",
    "long entry after rtcore.v1": "rtcore.v1, bearer." + "t" * 100,
    "rtcore.v1 alone": "rtcore.v1",
}


@pytest.mark.parametrize("value", ACCEPTED_SUBPROTOCOLS.values(), ids=ACCEPTED_SUBPROTOCOLS.keys())
def test_subprotocol_header_within_the_limits_is_accepted(server, value):
    async def main():
        assert len(value) <= 126
        status, body = await asyncio.to_thread(
            raw_handshake, server.port, "/ws/alice", f"Sec-WebSocket-Protocol: {value}\r\n"
        )
        assert status == 101, (status, body)

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
