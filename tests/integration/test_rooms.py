"""Rooms: join_room, leave_room, room_message (docs/protocol.md sections 2-3, 5)."""

import asyncio

from support import (
    Clients,
    acked,
    assert_ack,
    assert_room_message,
    expect_silence,
    join,
    leave,
    next_id,
    recv_json,
    request,
    run,
    send_json,
)

CONTENTS = [
    "hello",
    "",
    0,
    -17,
    123456789012345678901234567890,
    -98765432109876543210987654321,
    3.14159,
    -2.5e-10,
    1e300,
    True,
    False,
    None,
    [],
    {},
    [1, "two", 3.0, None, [True, {"k": []}]],
    {"a": 1, "b": {"c": [1, 2, {"d": None}]}, "e": "f"},
    {"k\u00e9y \U0001F680": "caf\u00e9 \u65e5\u672c\u8a9e \U0001F600 \"quoted\" back\\slash\n\t\r\b\f / \u0000 \u001f \u2028"},
    "\U0001F600 astral: a surrogate pair when escaped",
]
# Every content is sent twice: as raw UTF-8 and with \\u escapes only.
SENT = [(content, ascii_only) for content in CONTENTS for ascii_only in (False, True)]


def test_room_message_reaches_every_member_once(server):
    async def main():
        async with Clients(server) as c:
            alice, bob, bob2, dave, carol = [
                await c.open(u) for u in ("alice", "bob", "bob", "dave", "carol")
            ]
            for ws in (alice, bob, dave):
                await join(ws, "lobby")
            await join(carol, "elsewhere")  # member of another room only
            # bob2 is bob's second connection: membership is per connection.

            for content, ascii_only in SENT:
                msg = {"type": "room_message", "room": "lobby", "content": content}
                await send_json(alice, msg, ensure_ascii=ascii_only)
            members = (alice, bob, dave)
            stamps = {}
            for ws in members:
                for i, (content, _) in enumerate(SENT):
                    frame = await recv_json(ws)
                    assert_room_message(frame, "lobby", "alice", content)
                    stamps.setdefault(i, set()).add(frame["timestamp"])
            for i, seen in stamps.items():
                assert len(seen) == 1, f"message {i}: recipients saw different timestamps {seen}"
            # Exactly once: nothing more for members, nothing at all for the others.
            await asyncio.gather(*(expect_silence(ws) for ws in (*members, bob2, carol)))

            # After leave_room, dave gets nothing; the others still do.
            await leave(dave, "lobby")
            await send_json(alice, {"type": "room_message", "room": "lobby", "content": "after"})
            for ws in (alice, bob):
                assert_room_message(await recv_json(ws), "lobby", "alice", "after")
            await asyncio.gather(*(expect_silence(ws) for ws in (alice, bob, dave, bob2, carol)))

    run(main())


def test_sender_not_member_of_other_room_gets_only_its_rooms(server):
    async def main():
        async with Clients(server) as c:
            alice, bob = await c.open("alice"), await c.open("bob")
            await join(alice, "r1")
            await join(alice, "r2")
            await join(bob, "r2")
            await send_json(alice, {"type": "room_message", "room": "r1", "content": 1})
            await send_json(alice, {"type": "room_message", "room": "r2", "content": 2})
            assert_room_message(await recv_json(alice), "r1", "alice", 1)
            assert_room_message(await recv_json(alice), "r2", "alice", 2)
            assert_room_message(await recv_json(bob), "r2", "alice", 2)
            await asyncio.gather(expect_silence(alice), expect_silence(bob))

    run(main())


def test_fragmented_frame_is_reassembled(server):
    async def main():
        async with Clients(server) as c:
            alice = await c.open("alice")
            req_id = next_id()
            text = f'{{"type":"join_room","room":"frag","id":"{req_id}"}}'
            await alice.send([text[:5], text[5:17], text[17:]])
            assert_ack(await recv_json(alice), req_id)
            await send_json(alice, {"type": "room_message", "room": "frag", "content": "x"})
            assert_room_message(await recv_json(alice), "frag", "alice", "x")

    run(main())


def test_room_names_at_the_limits_are_accepted(server):
    async def main():
        async with Clients(server) as c:
            alice, bob = await c.open("alice"), await c.open("bob")
            # 128 bytes exactly, multi-byte UTF-8 (64 x 2 bytes), spaces and slashes.
            for room in ("r" * 128, "\u00e9" * 64, "a room/with slashes \U0001F680"):
                await join(alice, room)
                await join(bob, room)
                await send_json(alice, {"type": "room_message", "room": room, "content": room})
                for ws in (alice, bob):
                    assert_room_message(await recv_json(ws), room, "alice", room)

    run(main())


def test_thousand_messages_arrive_in_order(server):
    count = 1000

    async def main():
        async with Clients(server) as c:
            sender, receiver = await c.open("sender"), await c.open("receiver")
            await join(sender, "seq")
            await join(receiver, "seq")

            async def collect(ws):
                return [(await recv_json(ws, 10))["content"] for _ in range(count)]

            readers = [asyncio.create_task(collect(ws)) for ws in (receiver, sender)]
            for i in range(count):
                await send_json(sender, {"type": "room_message", "room": "seq", "content": i})
            got_receiver, got_sender = await asyncio.gather(*readers)
            assert got_receiver == list(range(count))
            assert got_sender == list(range(count))
            await expect_silence(receiver)

    run(main())


def test_closed_connection_is_removed_from_rooms(server):
    async def main():
        async with Clients(server) as c:
            alice, bob, carol = [await c.open(u) for u in ("alice", "bob", "carol")]
            for ws in (alice, bob, carol):
                await join(ws, "r")
            await bob.close()  # clean close
            carol_tcp = carol.transport
            dave = await c.open("dave")
            await join(dave, "r")
            carol_tcp.abort()  # abrupt TCP drop, no close frame
            await asyncio.sleep(0.3)

            req_id = next_id()
            await send_json(alice, {"type": "room_message", "room": "r", "content": "still here", "id": req_id})
            assert_room_message(await recv_json(alice), "r", "alice", "still here")
            assert_ack(await recv_json(alice), req_id)
            assert_room_message(await recv_json(dave), "r", "alice", "still here")

            # bob has no connection left: a DM to him is silent, and a new
            # connection of his is not a member of the old connection's rooms.
            await acked(alice, {"type": "direct_message", "to": "bob", "content": "?"})
            bob_again = await c.open("bob")
            await send_json(alice, {"type": "room_message", "room": "r", "content": 2})
            assert_room_message(await recv_json(dave), "r", "alice", 2)
            assert_room_message(await recv_json(alice), "r", "alice", 2)
            await asyncio.gather(expect_silence(bob_again), expect_silence(alice))
            frame = await request(alice, {"type": "leave_room", "room": "r", "id": 5})
            assert_ack(frame, 5)

    run(main())
