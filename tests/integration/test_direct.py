"""direct_message (docs/protocol.md sections 2-3)."""

import asyncio

from support import (
    Clients,
    acked,
    assert_ack,
    assert_direct_message,
    expect_silence,
    join,
    next_id,
    recv_json,
    request,
    run,
    send_json,
)


def test_dm_reaches_every_connection_of_the_user_once(server):
    async def main():
        async with Clients(server) as c:
            alice = await c.open("alice")
            bobs = [await c.open("bob") for _ in range(3)]
            carol = await c.open("carol")
            content = {"text": "hi bob \U0001F44B", "n": 123456789012345678901234567890, "list": [1.5, None]}
            await send_json(alice, {"type": "direct_message", "to": "bob", "content": content})
            frames = [await recv_json(ws) for ws in bobs]
            for frame in frames:
                assert_direct_message(frame, "alice", content)
            assert len({f["timestamp"] for f in frames}) == 1, frames
            await asyncio.gather(*(expect_silence(ws) for ws in (*bobs, alice, carol)))

    run(main())


def test_dm_to_self_reaches_all_own_connections(server):
    async def main():
        async with Clients(server) as c:
            a1, a2 = await c.open("alice"), await c.open("alice")
            await send_json(a1, {"type": "direct_message", "to": "alice", "content": "note"})
            for ws in (a1, a2):
                assert_direct_message(await recv_json(ws), "alice", "note")
            await asyncio.gather(expect_silence(a1), expect_silence(a2))

    run(main())


def test_dm_to_offline_user_is_silent_or_acked(server):
    async def main():
        async with Clients(server) as c:
            alice = await c.open("alice")
            await send_json(alice, {"type": "direct_message", "to": "nobody", "content": 1})
            await expect_silence(alice)
            # Everything the server had to say about the DM comes before this ack.
            await acked(alice, {"type": "join_room", "room": "sync"})
            req_id = next_id()
            frame = await request(alice, {"type": "direct_message", "to": "nobody", "content": 2, "id": req_id})
            assert_ack(frame, req_id)
            await expect_silence(alice)

    run(main())


def test_dm_does_not_depend_on_rooms(server):
    async def main():
        async with Clients(server) as c:
            alice, bob = await c.open("alice"), await c.open("bob")
            await join(alice, "r")  # bob is in no room at all
            for i in range(20):
                await send_json(alice, {"type": "direct_message", "to": "bob", "content": i})
            for i in range(20):
                assert_direct_message(await recv_json(bob), "alice", i)
            await expect_silence(bob)

    run(main())
