"""--lws-transport (README, settings): every connection served by
libwebsockets instead of the own accept and upgrade path. The protocol is the
same on both; the one documented difference (docs/design/transport.md) shows
which path served a connection: the own path closes an unmasked client frame
with 1002, libwebsockets 4.1 takes it."""

import json
import time

import pytest

from support import (
    Clients,
    assert_direct_message,
    assert_room_message,
    join,
    raw_upgrade,
    read_until_eof,
    recv_json,
    request,
    run,
    send_json,
)


def unmasked_text(obj):
    """A client text frame without the mask RFC 6455 requires."""
    payload = json.dumps(obj).encode()
    assert len(payload) < 126
    return bytes([0x81, len(payload)]) + payload


def reply_to_unmasked_join(server):
    """Close code after an unmasked join_room, or the first text frame's JSON."""
    sock, rest = raw_upgrade(server.port, "raw")
    try:
        sock.sendall(unmasked_text({"type": "join_room", "room": "r", "id": "u1"}))
        buf, deadline = rest, time.monotonic() + 3
        while time.monotonic() < deadline:
            if len(buf) >= 2 and (buf[0] & 0x0F) == 0x1 and len(buf) >= 2 + (buf[1] & 0x7F):
                return json.loads(buf[2 : 2 + (buf[1] & 0x7F)])
            if len(buf) >= 2 and (buf[0] & 0x0F) == 0x8:
                _, code, _ = read_until_eof(sock, buf, deadline)
                return code
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = sock.recv(4096)
            if not chunk:
                return None
            buf += chunk
        raise AssertionError(f"no answer to the unmasked frame: {buf!r}")
    finally:
        sock.close()


def test_the_default_path_closes_an_unmasked_frame_with_1002(server):
    assert reply_to_unmasked_join(server) == 1002


@pytest.mark.parametrize("how", ["flag", "env"])
def test_lws_transport_serves_every_connection_through_libwebsockets(start_server, monkeypatch, how):
    if how == "env":
        monkeypatch.setenv("RTCORE_LWS_TRANSPORT", "1")
        server = start_server()
    else:
        server = start_server("--lws-transport")
    answer = reply_to_unmasked_join(server)
    assert isinstance(answer, dict) and answer.get("type") == "ack" and answer.get("id") == "u1", answer


def test_lws_transport_speaks_the_same_protocol(start_server):
    server = start_server("--lws-transport", "--history-size", "10")

    async def main():
        async with Clients(server) as c:
            alice, bob = await c.open("alice"), await c.open("bob")
            await join(alice, "lobby")
            await join(bob, "lobby")
            await send_json(alice, {"type": "room_message", "room": "lobby", "content": "hi"})
            for ws in (alice, bob):
                assert_room_message(await recv_json(ws), "lobby", "alice", "hi")
            await send_json(bob, {"type": "direct_message", "to": "alice", "content": "psst"})
            assert_direct_message(await recv_json(alice), "bob", "psst")
            members = await request(bob, {"type": "presence", "room": "lobby", "id": "p1"})
            assert sorted(members["users"]) == ["alice", "bob"], members
            hist = await request(bob, {"type": "history", "room": "lobby", "id": "h1"})
            assert [m["content"] for m in hist["messages"]] == ["hi"], hist
            # A message bigger than one read (lws reads 512 bytes per turn).
            big = "x" * 5000
            await send_json(alice, {"type": "room_message", "room": "lobby", "content": big})
            assert_room_message(await recv_json(bob), "lobby", "alice", big)

    run(main())
