"""Room presence (docs/protocol.md section 9): presence and online queries,
user_joined / user_left events, on one node and across nodes sharing a real
Redis, node kills included."""

import asyncio
import signal
import time

import pytest

from support import (
    Clients,
    acked,
    assert_error,
    assert_timestamp,
    expect_silence,
    join,
    leave,
    recv_json,
    request,
    run,
    send_json,
)


async def presence(ws, room, req_id="p"):
    frame = await request(ws, {"type": "presence", "room": room, "id": req_id})
    assert frame["type"] == "presence", frame
    assert frame["id"] == req_id and frame["room"] == room, frame
    return frame


async def members(ws, room):
    frame = await presence(ws, room)
    assert "truncated" not in frame, frame
    users = frame["users"]
    assert len(users) == len(set(users)), frame
    return set(users)


async def online(ws, users, req_id="o"):
    frame = await request(ws, {"type": "online", "users": users, "id": req_id})
    assert frame["type"] == "online" and frame["id"] == req_id, frame
    return frame["users"]


async def watch(ws, room):
    await acked(ws, {"type": "join_room", "room": room, "presence": True})


async def eventually(check, timeout=5.0, interval=0.05):
    """Polls the async predicate until it holds."""
    deadline = time.monotonic() + timeout
    while True:
        last = await check()
        if last is True:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {timeout}s: {last}")
        await asyncio.sleep(interval)


def assert_event(frame, kind, room, user):
    assert frame["type"] == kind and frame["room"] == room and frame["user"] == user, frame
    assert set(frame) == {"type", "room", "user", "timestamp"}, frame
    assert_timestamp(frame["timestamp"])


# ------------------------------------------------------------------ one node


def test_presence_and_online_on_a_single_node(server):
    async def main():
        async with Clients(server) as c:
            alice = await c.open("alice")
            bob = await c.open("bob")
            bob2 = await c.open("bob")
            await join(alice, "r")
            await join(bob, "r")
            await join(bob2, "r")
            assert await members(alice, "r") == {"alice", "bob"}
            assert await online(alice, ["bob", "carol", "alice"]) == {"bob": True, "carol": False, "alice": True}
            await leave(bob, "r")
            assert await members(alice, "r") == {"alice", "bob"}  # bob's second tab stays
            await bob2.close()
            assert await members(alice, "r") == {"alice"}
            await eventually(lambda: _is(online(alice, ["bob"]), {"bob": True}))  # bob's first tab is still open
            await bob.close()
            await eventually(lambda: _is(online(alice, ["bob"]), {"bob": False}))
            # Without an id the answer still comes, with no id field.
            await send_json(alice, {"type": "presence", "room": "r"})
            assert await recv_json(alice) == {"type": "presence", "room": "r", "users": ["alice"]}
            await send_json(alice, {"type": "online", "users": ["alice"]})
            assert await recv_json(alice) == {"type": "online", "users": {"alice": True}}

    run(main())


async def _is(coro, expected):
    got = await coro
    return True if got == expected else got


def test_non_members_are_forbidden_and_bad_queries_refused(server):
    async def main():
        async with Clients(server) as c:
            alice = await c.open("alice")
            bob = await c.open("bob")
            await join(alice, "secret")
            assert_error(await request(bob, {"type": "presence", "room": "secret", "id": 1}), "forbidden", 1)
            assert_error(await request(bob, {"type": "presence", "id": 2}), "missing_field", 2)
            assert_error(await request(bob, {"type": "online", "id": 3}), "missing_field", 3)
            assert_error(await request(bob, {"type": "online", "users": [], "id": 4}), "invalid_field", 4)
            assert_error(await request(bob, {"type": "online", "users": ["a/b"], "id": 5}), "invalid_field", 5)
            many = [f"u{i}" for i in range(101)]
            assert_error(await request(bob, {"type": "online", "users": many, "id": 6}), "invalid_field", 6)
            assert len(await online(bob, many[:100])) == 100
            assert_error(
                await request(bob, {"type": "join_room", "room": "x", "presence": "yes", "id": 7}), "invalid_field", 7
            )

    run(main())


def test_join_leave_events_on_a_single_node(server):
    async def main():
        async with Clients(server) as c:
            watcher = await c.open("watcher")
            plain = await c.open("plain")
            await watch(watcher, "r")
            await join(plain, "r")  # not subscribed: gets no events
            assert_event(await recv_json(watcher), "user_joined", "r", "plain")
            bob = await c.open("bob")
            await join(bob, "r")
            assert_event(await recv_json(watcher), "user_joined", "r", "bob")
            bob2 = await c.open("bob")
            await join(bob2, "r")  # second tab: nothing
            await leave(bob2, "r")  # one tab left, one stays: nothing
            await expect_silence(watcher, 0.3)
            await bob.close()  # closing the last one: user_left
            assert_event(await recv_json(watcher), "user_left", "r", "bob")
            await leave(plain, "r")
            assert_event(await recv_json(watcher), "user_left", "r", "plain")
            await expect_silence(plain, 0.2)
            # presence: false ends the subscription, the membership stays.
            await acked(watcher, {"type": "join_room", "room": "r", "presence": False})
            await join(plain, "r")
            await expect_silence(watcher, 0.3)

    run(main())


def test_presence_limit_truncates_on_a_single_node(start_server):
    server = start_server("--presence-limit", "3")

    async def main():
        async with Clients(server) as c:
            conns = []
            for i in range(5):
                ws = await c.open(f"u{i}")
                await join(ws, "big")
                conns.append(ws)
            frame = await presence(conns[0], "big")
            assert frame["truncated"] is True and len(frame["users"]) == 3, frame
            assert set(frame["users"]) <= {f"u{i}" for i in range(5)}

    run(main())


# ------------------------------------------------------------- two nodes


def test_presence_and_online_across_nodes(start_node):
    a = start_node("a")
    b = start_node("b")

    async def main():
        async with Clients(a) as ca, Clients(b) as cb:
            alice = await ca.open("alice")
            bob = await cb.open("bob")
            bob2 = await ca.open("bob")
            await join(alice, "r")
            await join(bob, "r")
            await join(bob2, "r")
            assert await members(alice, "r") == {"alice", "bob"}
            assert await members(bob, "r") == {"alice", "bob"}
            assert await online(alice, ["bob", "carol"]) == {"bob": True, "carol": False}
            await leave(bob2, "r")  # bob is still in r on node b
            assert await members(alice, "r") == {"alice", "bob"}
            await leave(bob, "r")
            assert await members(alice, "r") == {"alice"}
            assert await online(alice, ["bob"]) == {"bob": True}  # still connected, twice
            await bob.close()
            await bob2.close()
            await eventually(lambda: _is(online(alice, ["bob"]), {"bob": False}))

    run(main())


def test_join_leave_events_once_per_cluster_transition(start_node):
    a = start_node("a")
    b = start_node("b")

    async def main():
        async with Clients(a) as ca, Clients(b) as cb:
            wa = await ca.open("wa")
            wb = await cb.open("wb")
            await watch(wa, "r")
            await watch(wb, "r")
            assert_event(await recv_json(wa), "user_joined", "r", "wb")
            bob = await cb.open("bob")
            await join(bob, "r")
            for w in (wa, wb):
                assert_event(await recv_json(w), "user_joined", "r", "bob")
            bob2 = await ca.open("bob")  # a second tab on the other node
            await join(bob2, "r")
            await leave(bob, "r")
            for w in (wa, wb):
                await expect_silence(w, 0.4)
            await bob2.close()
            for w in (wa, wb):
                assert_event(await recv_json(w), "user_left", "r", "bob")
                await expect_silence(w, 0.3)

    run(main())


def test_node_kill_takes_its_members_out_once(start_node):
    ttl = 2
    a = start_node("a", "--node-ttl", ttl)
    b = start_node("b", "--node-ttl", ttl)

    async def main():
        async with Clients(a) as ca:
            watcher = await ca.open("watcher")
            await watch(watcher, "r")
            both_a = await ca.open("gina")
            await join(both_a, "r")
            assert_event(await recv_json(watcher), "user_joined", "r", "gina")
            cb = Clients(b)
            frank = await cb.open("frank")
            await join(frank, "r")
            gina_b = await cb.open("gina")
            await join(gina_b, "r")
            assert_event(await recv_json(watcher), "user_joined", "r", "frank")
            await expect_silence(watcher, 0.3)
            assert await members(watcher, "r") == {"watcher", "gina", "frank"}
            b.proc.send_signal(signal.SIGKILL)
            b.proc.wait(5)
            started = time.monotonic()
            frame = await recv_json(watcher, timeout=ttl + 4)
            took = time.monotonic() - started
            assert_event(frame, "user_left", "r", "frank")
            await expect_silence(watcher, 1.0)  # gina is still on a: nothing for her
            assert await members(watcher, "r") == {"watcher", "gina"}
            assert await online(watcher, ["frank", "gina"]) == {"frank": False, "gina": True}
            assert took <= ttl + ttl / 3 + 1.5, f"user_left took {took:.2f}s"
            return took

    took = run(main(), timeout=30)
    print(f"user_left {took:.2f}s after kill -9 (ttl 2s)")


def test_ten_thousand_members_are_answered_truncated_and_fast(start_node, redis_server):
    a = start_node("a", "--presence-limit", "1000")
    r = redis_server.client()
    pipe = r.pipeline(transaction=False)
    users = [f"seed{i}" for i in range(10000)]
    for i in range(0, len(users), 1000):
        pipe.sadd("rtcore:room_users:huge", *users[i : i + 1000])
    pipe.execute()

    async def main():
        async with Clients(a) as c:
            me = await c.open("me")
            await join(me, "huge")
            assert r.scard("rtcore:room_users:huge") == 10001
            timings = []
            for i in range(5):
                started = time.perf_counter()
                frame = await presence(me, "huge", req_id=i)
                timings.append(time.perf_counter() - started)
                assert frame["truncated"] is True, frame
                assert len(frame["users"]) == 1000 and len(set(frame["users"])) == 1000
                assert set(frame["users"]) <= set(users) | {"me"}
            assert max(timings) < 1.0, timings
            return timings

    timings = run(main())
    print(f"10,001-member presence query: best {min(timings) * 1000:.1f} ms, worst {max(timings) * 1000:.1f} ms")


def test_malformed_room_presence_events_are_dropped_and_counted(start_node, redis_server):
    a = start_node("a", "--expose-stats")
    r = redis_server.client()

    async def main():
        async with Clients(a) as c:
            watcher = await c.open("watcher")
            await watch(watcher, "r")
            for bad in (
                "not json",
                '{"room":"other","user":"x","event":"joined","timestamp":"T"}',  # another room's channel
                '{"room":"r","user":"a/b","event":"joined","timestamp":"T"}',
                '{"room":"r","user":"x","event":"arrived","timestamp":"T"}',
                '{"room":"r","user":"x","event":"joined"}',
                '{"room":"r","user":"x","event":"joined","timestamp":"a\\"b"}',
            ):
                r.publish("rtcore:room_presence:r", bad)
            r.publish("rtcore:room_presence:r", '{"room":"r","user":"x","event":"left","timestamp":"T"}')
            frame = await recv_json(watcher)
            assert frame == {"type": "user_left", "room": "r", "user": "x", "timestamp": "T"}
            await expect_silence(watcher, 0.3)

    run(main())
    from support import stats

    assert stats(a)["backplane_invalid"] >= 6


def test_stalled_node_is_fenced_and_registers_its_members_again(start_node):
    """A node declared dead while it was only stopped (SIGSTOP) comes back:
    the cluster took its members out (user_left), reconcile puts them back
    (user_joined), once each."""
    ttl = 2
    a = start_node("a", "--node-ttl", ttl)
    b = start_node("b", "--node-ttl", ttl)

    async def main():
        async with Clients(a) as ca, Clients(b) as cb:
            watcher = await ca.open("watcher")
            await watch(watcher, "r")
            frank = await cb.open("frank")
            await join(frank, "r")
            assert_event(await recv_json(watcher), "user_joined", "r", "frank")
            b.signal(signal.SIGSTOP)
            try:
                assert_event(await recv_json(watcher, timeout=ttl + 4), "user_left", "r", "frank")
            finally:
                b.signal(signal.SIGCONT)
            assert_event(await recv_json(watcher, timeout=ttl + 4), "user_joined", "r", "frank")
            await expect_silence(watcher, 0.5)
            assert await members(watcher, "r") == {"watcher", "frank"}

    run(main(), timeout=30)


# ------------------------------------------------------------ Redis away

def test_queries_answer_unavailable_while_redis_is_away_and_work_again_after(start_node, redis_server):
    # A stalled Redis keeps its sockets open: the node notices on its
    # heartbeat (a third of the TTL) and answers what was waiting with
    # `unavailable`; a dead Redis is refused at once. Either way, no query
    # hangs, and the answers are right again once Redis is back.
    a = start_node("ua", "--node-ttl", "3")

    async def main():
        async with Clients(a) as ca:
            alice = await ca.open("alice")
            await join(alice, "r")
            assert await members(alice, "r") == {"alice"}
            redis_server.pause()
            try:
                started = time.monotonic()
                frame = await request(alice, {"type": "presence", "room": "r", "id": "stalled"}, timeout=10)
                assert_error(frame, "unavailable", "stalled")
                stalled_s = time.monotonic() - started
                frame = await request(alice, {"type": "online", "users": ["alice"], "id": "o1"}, timeout=10)
                assert frame["type"] in ("error", "online"), frame
                if frame["type"] == "error":
                    assert_error(frame, "unavailable", "o1")
            finally:
                redis_server.resume()
            print(f"FIGURE: presence_query_unavailable_after_redis_stall_s: {stalled_s:.2f}")
            assert stalled_s < 6, stalled_s
            await eventually(lambda: _is(members_or_none(alice, "r"), {"alice"}), timeout=10)
            assert await online(alice, ["alice", "zed"]) == {"alice": True, "zed": False}

    run(main())


async def members_or_none(ws, room):
    frame = await request(ws, {"type": "presence", "room": room, "id": "again"}, timeout=10)
    return set(frame["users"]) if frame["type"] == "presence" else None
