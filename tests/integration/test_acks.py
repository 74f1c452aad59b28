"""Acknowledgements (docs/protocol.md section 2, extension): exactly one
{"type":"ack","id":ID} per request carrying an id, same value and type;
errors carry the id too."""

import asyncio

import pytest

from support import (
    Clients,
    assert_ack,
    assert_direct_message,
    assert_error,
    assert_room_message,
    expect_silence,
    join,
    recv_json,
    request,
    run,
    send_json,
)

IDS = ["req-1", "\u00fcn\u00ef \U0001F680", "", 42, 0, -7, 9007199254740993]


@pytest.mark.parametrize("req_id", IDS, ids=repr)
def test_each_request_type_is_acked_once(server, req_id):
    async def main():
        async with Clients(server) as c:
            alice, bob = await c.open("alice"), await c.open("bob")

            frame = await request(alice, {"type": "join_room", "room": "r", "id": req_id})
            assert_ack(frame, req_id)
            await expect_silence(alice, 0.2)

            # room_message from a member: the message first, then the ack.
            await send_json(alice, {"type": "room_message", "room": "r", "content": "m", "id": req_id})
            assert_room_message(await recv_json(alice), "r", "alice", "m")
            assert_ack(await recv_json(alice), req_id)
            await expect_silence(alice, 0.2)

            await send_json(alice, {"type": "direct_message", "to": "bob", "content": "d", "id": req_id})
            assert_ack(await recv_json(alice), req_id)
            assert_direct_message(await recv_json(bob), "alice", "d")
            await asyncio.gather(expect_silence(alice, 0.2), expect_silence(bob, 0.2))

            frame = await request(alice, {"type": "leave_room", "room": "r", "id": req_id})
            assert_ack(frame, req_id)
            await expect_silence(alice, 0.2)

    run(main())


def test_ack_of_room_message_to_other_members(server):
    async def main():
        async with Clients(server) as c:
            alice, bob = await c.open("alice"), await c.open("bob")
            await join(alice, "r")
            await join(bob, "r")
            for i in range(5):
                await send_json(alice, {"type": "room_message", "room": "r", "content": i, "id": i})
            for i in range(5):
                assert_room_message(await recv_json(alice), "r", "alice", i)
                assert_ack(await recv_json(alice), i)
                assert_room_message(await recv_json(bob), "r", "alice", i)
            await asyncio.gather(expect_silence(alice), expect_silence(bob))

    run(main())


def test_without_id_success_is_silent(server):
    async def main():
        async with Clients(server) as c:
            alice = await c.open("alice")
            await send_json(alice, {"type": "join_room", "room": "r"})
            await expect_silence(alice)
            await send_json(alice, {"type": "leave_room", "room": "r"})
            await send_json(alice, {"type": "direct_message", "to": "x", "content": 0})
            await expect_silence(alice)

    run(main())


@pytest.mark.parametrize("req_id", ["e-1", 77], ids=repr)
def test_errors_carry_the_id(server, req_id):
    async def main():
        async with Clients(server) as c:
            alice = await c.open("alice")
            cases = [
                ({"type": "room_message", "room": "nope", "content": 1}, "not_in_room"),
                ({"type": "join_room"}, "missing_field"),
                ({"type": "join_room", "room": ""}, "invalid_field"),
                ({"type": "no_such_type"}, "unknown_type"),
            ]
            for msg, code in cases:
                frame = await request(alice, {**msg, "id": req_id})
                assert_error(frame, code, req_id)
                await expect_silence(alice, 0.2)

    run(main())
