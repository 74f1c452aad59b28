"""Error codes of docs/protocol.md section 4 that a server without a host can
produce. After every error the connection stays open and works."""

import asyncio
import json

import pytest

from support import (
    Clients,
    assert_error,
    assert_room_message,
    expect_silence,
    join,
    leave,
    recv_json,
    run,
    send_json,
)

# (frame to send, expected code). str -> text frame; ("text", bytes) -> text
# frame with exactly these bytes; ("binary", bytes) -> binary frame.
BAD_JSON = [
    "not json",
    "",
    "{",
    '{"type":"join_room","room":"r"',
    '{"type":"join_room","room":"r"} trailing',
    "[1, 2]",
    '[{"type":"join_room","room":"r"}]',
    '"join_room"',
    "123",
    "null",
    "true",
    ("text", b'{"type":"join_room","room":"\xff\xfe"}'),
    ("text", b'{"type":"room_message","room":"r","content":"\xc3\x28"}'),
    ("text", b"\xed\xa0\x80"),  # an encoded surrogate is not UTF-8
    ("binary", b'{"type":"join_room","room":"r"}'),
    ("binary", b"\x00\x01\x02"),
]

# Sent by a connection that is a member of room "r".
MISSING_FIELD = [
    {"room": "r"},
    {"type": None, "room": "r"},
    {"type": 7, "room": "r"},
    {"type": "join_room"},
    {"type": "join_room", "room": 5},
    {"type": "join_room", "room": None},
    {"type": "join_room", "room": ["r"]},
    {"type": "leave_room"},
    {"type": "leave_room", "room": {"name": "r"}},
    {"type": "room_message", "room": "r"},
    {"type": "room_message", "content": "x"},
    {"type": "room_message", "room": 1, "content": "x"},
    {"type": "direct_message", "content": "x"},
    {"type": "direct_message", "to": "bob"},
    {"type": "direct_message", "to": 5, "content": "x"},
]

INVALID_FIELD = [
    {"type": "join_room", "room": ""},
    {"type": "join_room", "room": "r" * 129},
    {"type": "join_room", "room": "\u00e9" * 65},  # 130 bytes, 65 characters
    {"type": "join_room", "room": "a\u0001b"},
    {"type": "join_room", "room": "a\nb"},
    {"type": "join_room", "room": "a\rb"},
    {"type": "join_room", "room": "a\u007fb"},  # DEL and C1 are Unicode Cc too
    {"type": "join_room", "room": "a\u0085b"},
    {"type": "join_room", "room": "a\u0000b"},
    {"type": "join_room", "room": "\u001f"},
    {"type": "leave_room", "room": ""},
    {"type": "room_message", "room": "", "content": 1},
    {"type": "room_message", "room": "x" * 200, "content": 1},
    {"type": "direct_message", "to": "", "content": 1},
    {"type": "direct_message", "to": "a\u0001b", "content": 1},
    {"type": "direct_message", "to": "bob\t", "content": 1},
    {"type": "direct_message", "to": "a\rb", "content": 1},
    {"type": "direct_message", "to": "b" * 129, "content": 1},
    {"type": "direct_message", "to": "a/b", "content": 1},
]

UNKNOWN_TYPE = [
    {"type": "frobnicate"},
    {"type": "JOIN_ROOM", "room": "r"},
    {"type": "join_room ", "room": "r"},
    {"type": "", "room": "r"},
    {"type": "message", "room": "r", "content": 1},
]


def _label(item):
    text = item[1] if isinstance(item, tuple) else item
    return repr(text)[:40]


async def _send_raw(ws, frame):
    if isinstance(frame, tuple):
        kind, data = frame
        await ws.send(data, text=(kind == "text"))
    elif isinstance(frame, str):
        await ws.send(frame)
    else:
        await send_json(ws, frame)


async def _check_error_then_alive(server, frame, code):
    """alice (member of r) sends frame: she gets exactly one error `code`,
    bob (member of r) gets nothing, and alice's connection still works."""
    async with Clients(server) as c:
        alice, bob = await c.open("alice"), await c.open("bob")
        await join(alice, "r")
        await join(bob, "r")
        await _send_raw(alice, frame)
        assert_error(await recv_json(alice), code)
        await asyncio.gather(expect_silence(alice, 0.2), expect_silence(bob, 0.2))
        # Still open and working.
        await join(alice, "after-error")
        await send_json(alice, {"type": "room_message", "room": "r", "content": "ok"})
        for ws in (alice, bob):
            assert_room_message(await recv_json(ws), "r", "alice", "ok")


@pytest.mark.parametrize("frame", BAD_JSON, ids=_label)
def test_bad_json(server, frame):
    run(_check_error_then_alive(server, frame, "bad_json"))


@pytest.mark.parametrize("msg", MISSING_FIELD, ids=lambda m: json.dumps(m)[:50])
def test_missing_field(server, msg):
    run(_check_error_then_alive(server, msg, "missing_field"))


@pytest.mark.parametrize("msg", INVALID_FIELD, ids=lambda m: json.dumps(m)[:50])
def test_invalid_field(server, msg):
    run(_check_error_then_alive(server, msg, "invalid_field"))


@pytest.mark.parametrize("msg", UNKNOWN_TYPE, ids=lambda m: json.dumps(m)[:50])
def test_unknown_type(server, msg):
    run(_check_error_then_alive(server, msg, "unknown_type"))


def test_not_in_room(server):
    async def main():
        async with Clients(server) as c:
            alice, bob = await c.open("alice"), await c.open("bob")
            await join(bob, "r")
            await send_json(alice, {"type": "room_message", "room": "r", "content": 1})
            assert_error(await recv_json(alice), "not_in_room")
            await expect_silence(bob)
            # After leaving, posting is refused again.
            await join(alice, "r")
            await leave(alice, "r")
            await send_json(alice, {"type": "room_message", "room": "r", "content": 2, "id": 9})
            assert_error(await recv_json(alice), "not_in_room", 9)
            await asyncio.gather(expect_silence(alice), expect_silence(bob))
            await join(alice, "r")  # still works

    run(main())


def test_post_without_join_allowed_by_option(start_server):
    server = start_server("--allow-post-without-join")

    async def main():
        async with Clients(server) as c:
            alice, bob = await c.open("alice"), await c.open("bob")
            await join(bob, "r")
            await send_json(alice, {"type": "room_message", "room": "r", "content": 1})
            assert_room_message(await recv_json(bob), "r", "alice", 1)
            await expect_silence(alice)  # not a member: no copy for the sender

    run(main())


def test_too_many_rooms(start_server):
    server = start_server("--max-rooms", "2")

    async def main():
        async with Clients(server) as c:
            alice, bob = await c.open("alice"), await c.open("bob")
            await join(alice, "a")
            await join(alice, "b")
            await send_json(alice, {"type": "join_room", "room": "c", "id": "j3"})
            assert_error(await recv_json(alice), "too_many_rooms", "j3")
            await send_json(alice, {"type": "join_room", "room": "d"})
            assert_error(await recv_json(alice), "too_many_rooms")
            # The refused join did not make alice a member of c.
            await join(bob, "c")
            await send_json(alice, {"type": "room_message", "room": "c", "content": 1})
            assert_error(await recv_json(alice), "not_in_room")
            await expect_silence(bob)
            # The limit is per connection, and leaving frees a slot.
            alice2 = await c.open("alice")
            await join(alice2, "x")
            await join(alice2, "y")
            await leave(alice, "b")
            await join(alice, "c")
            await send_json(alice, {"type": "room_message", "room": "c", "content": 2})
            for ws in (alice, bob):
                assert_room_message(await recv_json(ws), "c", "alice", 2)

    run(main())
