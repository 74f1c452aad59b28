"""Several rtcore-server nodes sharing one real Redis act as one
(docs/protocol.md sections 2, 3, 6 and 7)."""

import asyncio
import os
import signal
import time

import pytest

from redis_support import PresenceWatcher
from support import (
    Clients,
    acked,
    assert_direct_message,
    assert_room_message,
    expect_silence,
    join,
    recv_json,
    run,
    send_json,
)


@pytest.mark.parametrize("node_count", [2, 3])
def test_room_message_reaches_every_member_on_every_node_exactly_once(start_node, node_count):
    nodes = [start_node(f"n{i}") for i in range(node_count)]

    async def main():
        clients = [Clients(n) for n in nodes]
        try:
            members = []
            for i, c in enumerate(clients):
                for j in range(2):  # two members per node, sender's node included
                    ws = await c.open(f"u{i}-{j}")
                    await join(ws, "lobby")
                    members.append(ws)
            outsider = await clients[-1].open("outsider")
            sender = members[0]
            await send_json(sender, {"type": "room_message", "room": "lobby", "content": {"n": 1}, "id": 1})
            # The sender gets the message before its ack; everyone else once.
            frames = [await recv_json(sender)]
            assert await recv_json(sender) == {"type": "ack", "id": 1}
            for ws in members[1:]:
                frame = await recv_json(ws)
                assert_room_message(frame, "lobby", "u0-0", {"n": 1})
                frames.append(frame)
            assert len({f["timestamp"] for f in frames}) == 1
            assert len(frames) == len(members)
            for ws in members:
                await expect_silence(ws, 0.3)
            await expect_silence(outsider, 0.01)
        finally:
            for c in clients:
                await c.__aexit__(None, None, None)

    run(main())


def test_sender_sees_its_own_message_once_then_the_ack(start_node):
    a, b = start_node("a"), start_node("b")

    async def main():
        async with Clients(a) as ca, Clients(b) as cb:
            alice, bob = await ca.open("alice"), await cb.open("bob")
            await join(alice, "r")
            await join(bob, "r")
            await send_json(alice, {"type": "room_message", "room": "r", "content": "x", "id": 9})
            assert_room_message(await recv_json(alice), "r", "alice", "x")
            assert await recv_json(alice) == {"type": "ack", "id": 9}
            assert_room_message(await recv_json(bob), "r", "alice", "x")
            await expect_silence(alice, 0.3)
            await expect_silence(bob, 0.01)

    run(main())


def test_thousand_messages_arrive_in_order_on_every_node(start_node):
    nodes = [start_node("a"), start_node("b")]

    async def main():
        async with Clients(nodes[0]) as ca, Clients(nodes[1]) as cb:
            sender = await ca.open("sender")
            readers = [await ca.open("local-reader"), await cb.open("remote-reader"), await cb.open("remote-2")]
            for ws in [sender, *readers]:
                await join(ws, "seq")
            for i in range(1000):
                await send_json(sender, {"type": "room_message", "room": "seq", "content": i})
            for ws in readers:
                got = [(await recv_json(ws, timeout=10))["content"] for _ in range(1000)]
                assert got == list(range(1000))
                await expect_silence(ws, 0.2)

    run(main(), timeout=40)


def test_direct_message_reaches_the_user_on_every_node_exactly_once(start_node):
    nodes = [start_node("a"), start_node("b"), start_node("c")]

    async def main():
        async with Clients(nodes[0]) as ca, Clients(nodes[1]) as cb, Clients(nodes[2]) as cc:
            carol = [await ca.open("carol"), await cb.open("carol"), await cb.open("carol"), await cc.open("carol")]
            dave = await cc.open("dave")
            # The user channels are subscribed when the connections open; a
            # join with an ack on each node proves they are live.
            for ws in carol:
                await join(ws, "sync")
            await acked(dave, {"type": "direct_message", "to": "carol", "content": [1, "two"]})
            for ws in carol:
                assert_direct_message(await recv_json(ws), "dave", [1, "two"])
                await expect_silence(ws, 0.3)
            await expect_silence(dave, 0.01)

    run(main())


def test_presence_is_per_cluster_not_per_node(start_node, redis_server):
    a, b = start_node("a"), start_node("b")
    watcher = PresenceWatcher(redis_server)

    async def main():
        ws_a = await Clients(a).open("erin")
        watcher.wait_for("erin", "online")
        ws_b = await Clients(b).open("erin")
        await join(ws_b, "r")
        await ws_a.close()
        events = await asyncio.to_thread(watcher.collect, 1.0)
        erin = [e for e in events if e["user_id"] == "erin"]
        # Online once; closing one of two connections is not offline.
        assert [e["status"] for e in erin] == ["online"], erin
        await ws_b.close()
        await asyncio.to_thread(watcher.wait_for, "erin", "offline")
        erin = [e for e in watcher.events if e["user_id"] == "erin"]
        assert [e["status"] for e in erin] == ["online", "offline"], erin
        for e in erin:
            assert set(e) == {"user_id", "status", "timestamp"}

    try:
        run(main())
    finally:
        watcher.close()


def test_killed_node_users_go_offline_within_the_ttl(start_node, redis_server):
    ttl = 2
    a = start_node("a", "--node-ttl", ttl)
    b = start_node("b", "--node-ttl", ttl)
    watcher = PresenceWatcher(redis_server)

    async def main():
        only_on_a = await Clients(a).open("frank")
        both_a = await Clients(a).open("gina")
        both_b = await Clients(b).open("gina")
        survivor = await Clients(b).open("hank")
        await asyncio.to_thread(watcher.wait_for, "frank", "online")
        await asyncio.to_thread(watcher.wait_for, "hank", "online")
        await asyncio.to_thread(watcher.wait_for, "gina", "online")
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait(5)
        took = await asyncio.to_thread(watcher.wait_for, "frank", "offline", ttl + ttl / 3 + 3)
        assert took <= ttl + ttl / 3 + 1.5, f"repair took {took:.2f}s"
        events = await asyncio.to_thread(watcher.collect, 0.5)
        offline = {e["user_id"] for e in events if e["status"] == "offline"}
        assert offline == {"frank"}, events  # gina is still on b, hank never left
        await join(survivor, "still-works")
        for ws in (only_on_a, both_a, both_b, survivor):
            await ws.close()
        return took

    try:
        took = run(main(), timeout=20)
        print(f"presence repaired {took:.2f}s after kill -9 (ttl {ttl}s)")
    finally:
        watcher.close()
