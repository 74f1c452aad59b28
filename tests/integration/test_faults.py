"""Fault injection on real processes (issue 10): garbage on every Redis
channel and key rtcore uses, a node paused past its TTL, Redis paused and
killed, a Redis link that goes silent without closing, a node killed with
SIGKILL under load, and a per-user connection limit under a storm of
deferred upgrades.

Everything is real: redis-server on free loopback ports, rtcore-server
nodes, WebSocket clients, signals, and a TCP proxy (tcp_proxy.py). Each
test prints what it measured as "FIGURE: <name>: <value>" (run with -s)."""

import asyncio
import json
import os
import random
import resource
import signal
import struct
import time

import pytest

from redis_support import PresenceWatcher
from support import (
    SERVER_PATH,
    Clients,
    ConnectionClosed,
    assert_direct_message,
    assert_room_message,
    connect,
    handshake_status,
    join,
    recv_json,
    run,
    send_json,
    stats,
)
from tcp_proxy import TcpProxy

SANITIZED = bool(os.environ.get("RTCORE_SANITIZED"))
# Generous bounds under ASan (the server is several times slower there).
SLACK = 2.0 if SANITIZED else 1.0
PREFIX = "rtcore:"


def figure(name, value):
    if isinstance(value, float):
        value = f"{value:.2f}"
    print(f"FIGURE: {name}: {value}")


def dead_nodes(*nodes):
    return [f"{n.args[n.args.index('--node-id') + 1] if '--node-id' in n.args else n.args[0]} "
            f"(rc={n.proc.returncode})\n{n.stderr_text(1500)}"
            for n in nodes if n.proc.poll() is not None]


def assert_alive(*nodes, after=""):
    dead = dead_nodes(*nodes)
    assert not dead, f"node process(es) died {after}: " + "\n".join(dead)


async def drain(ws, duration):
    """Discard what arrives on ws within duration seconds."""
    end = time.monotonic() + duration
    frames = []
    while (left := end - time.monotonic()) > 0:
        try:
            frames.append(await asyncio.wait_for(ws.recv(), left))
        except asyncio.TimeoutError:
            break
    return frames


async def recv_until(ws, pred, timeout):
    """The first frame (as JSON) for which pred holds, skipping others."""
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            raise asyncio.TimeoutError
        frame = await recv_json(ws, left)
        if pred(frame):
            return frame


async def probe_until_delivered(sender, receiver, room, tag, timeout, every=0.1):
    """sender posts "tag-N" to room every `every` s until receiver gets one
    of them. Returns the seconds it took. Pub/sub keeps nothing for a node
    that has not resubscribed yet, so probing is how resumption shows."""
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < timeout:
        await send_json(sender, {"type": "room_message", "room": room, "content": f"{tag}-{n}"})
        n += 1
        step_end = time.monotonic() + every
        while (left := step_end - time.monotonic()) > 0:
            try:
                frame = await recv_json(receiver, left)
            except asyncio.TimeoutError:
                break
            if isinstance(frame.get("content"), str) and frame["content"].startswith(tag + "-"):
                return time.monotonic() - start
    raise AssertionError(f"no {tag} probe reached the receiver within {timeout}s")


async def exchange(room, a_ws, a_user, b_ws, b_user, tag, timeout=5.0):
    """A room message each way and a direct message each way, all delivered."""
    for src, src_user, dst, dst_user in ((a_ws, a_user, b_ws, b_user), (b_ws, b_user, a_ws, a_user)):
        content = f"{tag}-room-{src_user}"
        await send_json(src, {"type": "room_message", "room": room, "content": content})
        frame = await recv_until(dst, lambda f: f.get("content") == content, timeout)
        assert_room_message(frame, room, src_user, content)
        content = f"{tag}-dm-{src_user}"
        await send_json(src, {"type": "direct_message", "to": dst_user, "content": content})
        frame = await recv_until(dst, lambda f: f.get("content") == content, timeout)
        assert_direct_message(frame, src_user, content)


def presence_set(r, user):
    return r.smembers(f"{PREFIX}presence:user:{user}")


def wait_until(pred, timeout, every=0.05):
    """Seconds until pred() was true, or None after timeout."""
    start = time.monotonic()
    while True:
        try:
            if pred():
                return time.monotonic() - start
        except Exception:  # noqa: BLE001 - e.g. Redis still coming back
            pass
        if time.monotonic() - start > timeout:
            return None
        time.sleep(every)


# --------------------------------------------------------------------------
# 1. Garbage on every channel and in every key
# --------------------------------------------------------------------------


def _mp(obj):
    """A tiny MessagePack encoder (no dependency): dict, list, str, bytes,
    int, None, bool."""
    if obj is None:
        return b"\xc0"
    if obj is True or obj is False:
        return b"\xc3" if obj else b"\xc2"
    if isinstance(obj, int):
        if 0 <= obj < 128:
            return bytes([obj])
        if -32 <= obj < 0:
            return struct.pack("b", obj)
        return b"\xd3" + struct.pack(">q", obj)
    if isinstance(obj, str):
        obj = obj.encode()
        return (bytes([0xA0 | len(obj)]) if len(obj) < 32 else b"\xdb" + struct.pack(">I", len(obj))) + obj
    if isinstance(obj, bytes):
        return b"\xc6" + struct.pack(">I", len(obj)) + obj
    if isinstance(obj, list):
        return b"\xdd" + struct.pack(">I", len(obj)) + b"".join(_mp(x) for x in obj)
    if isinstance(obj, dict):
        return b"\xdf" + struct.pack(">I", len(obj)) + b"".join(_mp(k) + _mp(v) for k, v in obj.items())
    raise TypeError(obj)


def _garbage_payloads(target):
    frame = json.dumps({"type": "message", "room": target, "from": "x", "content": 1,
                        "timestamp": "2024-01-01T00:00:00.000Z"})
    valid = _mp({"v": 1, "o": "intruder", "k": "room", "t": target, "f": frame})
    rnd = random.Random(10)
    return [
        ("empty", b""),
        ("1 byte", b"\x00"),
        ("abc", b"abc"),
        ("ready", b"ready"),
        ("ready+space", b"ready "),
        ("gone", b"gone"),
        ("gone+space", b"gone "),
        ("truncated msgpack", valid[: len(valid) // 2]),
        ("msgpack header only", b"\xdf\xff\xff\xff\xff"),
        ("msgpack wrong types", _mp({"v": "1", "o": 5, "k": ["room"], "t": {"a": 1}, "f": 7})),
        ("msgpack right types wrong version", _mp({"v": 99, "o": "x", "k": "room", "t": target, "f": frame})),
        ("msgpack unknown kind", _mp({"v": 1, "o": "x", "k": "bogus", "t": target, "f": frame})),
        ("msgpack missing frame", _mp({"v": 1, "o": "x", "k": "room", "t": target})),
        ("msgpack negative version", _mp({"v": -1, "o": "x", "k": "user", "t": target, "f": frame})),
        ("msgpack not a map", _mp(["v", 1, "o", "x"])),
        ("msgpack nested too deep", _mp({"v": {"v": {"v": {"v": 1}}}})),
        ("msgpack map of 17", _mp({f"k{i}": i for i in range(17)})),
        ("msgpack nil", b"\xc0"),
        ("json user_id int", b'{"user_id":5}'),
        ("json status without user", b'{"status":"online"}'),
        ("json status int", b'{"user_id":"alice","status":5}'),
        ("json user_id null", b'{"user_id":null,"status":"offline"}'),
        ("json array", b"[1,2,3]"),
        ("json unterminated", b'{"user_id":"alice","status":"onl'),
        ("json not utf-8", b'{"user_id":"\xff\xfe","status":"maybe"}'),
        ("1 MiB random", rnd.randbytes(1 << 20)),
    ]


def test_garbage_on_every_channel_and_key_is_counted_and_survived(start_node, redis_server):
    a = start_node("ga", "--expose-stats", "--node-ttl", "3")
    b = start_node("gb", "--expose-stats", "--node-ttl", "3")
    r = redis_server.client(decode_responses=False)

    async def barrier(alice, bob, what, seq):
        """Both nodes read their subscriptions in order on one link: once a
        message from the other node got through, every earlier publish was
        handled."""
        try:
            for src, dst, user in ((alice, bob, "alice"), (bob, alice, "bob")):
                content = f"barrier-{seq}-{user}"
                await send_json(src, {"type": "room_message", "room": "r", "content": content})
                await recv_until(dst, lambda f: f.get("content") == content, 5 * SLACK)
        except (ConnectionClosed, asyncio.TimeoutError, OSError) as exc:
            await asyncio.sleep(0.5)
            assert_alive(a, b, after=f"after {what}")
            raise AssertionError(f"delivery stopped after {what}: {exc!r}") from exc
        assert_alive(a, b, after=f"after {what}")

    async def main():
        async with Clients(a) as ca, Clients(b) as cb:
            alice, bob = await ca.open("alice"), await cb.open("bob")
            await join(alice, "r")
            await join(bob, "r")
            await exchange("r", alice, "alice", bob, "bob", "before")
            seq = 0
            channels = [f"{PREFIX}room:r", f"{PREFIX}user:alice", f"{PREFIX}user:bob", f"{PREFIX}presence"]
            published = 0
            for channel in channels:
                for name, payload in _garbage_payloads("r" if "room" in channel else channel.rsplit(":", 1)[1]):
                    await asyncio.to_thread(r.publish, channel, payload)
                    published += 1
                    seq += 1
                    await barrier(alice, bob, f"PUBLISH {channel} <{name}>", seq)

            # Wrong types in every key the presence scripts, the heartbeat and
            # the reaper touch; a fake dead node whose user list is a string.
            r.sadd(f"{PREFIX}nodes", "ghost", "")
            r.set(f"{PREFIX}node_users:ghost", "garbage")
            r.lpush(f"{PREFIX}node_users:", "x")
            await asyncio.sleep(1.5 * SLACK)  # the reapers run each second
            seq += 1
            await barrier(alice, bob, "a fake dead node with a string for its users", seq)
            for key, kind in ((f"{PREFIX}nodes", "set"), (f"{PREFIX}node_users:ga", "lpush"),
                              (f"{PREFIX}node_users:gb", "set"), (f"{PREFIX}presence:user:alice", "lpush"),
                              (f"{PREFIX}presence:user:bob", "set"), (f"{PREFIX}presence:user:carol", "hset"),
                              (f"{PREFIX}node:gb", "lpush"), (f"{PREFIX}node:ga", "hset"),
                              (f"{PREFIX}ready:gb", "lpush")):
                r.delete(key)
                if kind == "set":
                    r.set(key, b"\xff garbage")
                elif kind == "lpush":
                    r.lpush(key, b"x", b"\x00")
                else:
                    r.hset(key, "f", "v")
            # Presence scripts run on connect and disconnect: make them hit
            # the wrong types.
            carol = await ca.open("carol")
            dave = await cb.open("dave")
            await join(carol, "r")
            await join(dave, "r")
            await carol.close()
            await asyncio.sleep(2 * SLACK)  # heartbeats, peer refreshes, reapers
            seq += 1
            await barrier(alice, bob, "wrong types in rtcore's keys", seq)

            # Last, the control channel (announcements "ready NODE" / "gone NODE").
            for name, payload in _garbage_payloads("r"):
                await asyncio.to_thread(r.publish, f"{PREFIX}control", payload)
                published += 1
                seq += 1
                await barrier(alice, bob, f"PUBLISH {PREFIX}control <{name}>", seq)

            await asyncio.sleep(1.5 * SLACK)
            assert_alive(a, b, after="the garbage")
            await exchange("r", alice, "alice", bob, "bob", "after")
            return published

    published = run(main(), timeout=90 * SLACK)
    sa, sb = stats(a), stats(b)
    figure("garbage_publishes", published)
    figure("garbage_backplane_invalid_a", sa["backplane_invalid"])
    figure("garbage_backplane_invalid_b", sb["backplane_invalid"])
    figure("garbage_internal_errors_a", sa.get("internal_errors"))
    figure("garbage_internal_errors_b", sb.get("internal_errors"))
    assert sa["backplane_invalid"] > 0 and sb["backplane_invalid"] > 0, (sa, sb)


# --------------------------------------------------------------------------
# 2. A node paused (SIGSTOP) past its TTL, then resumed
# --------------------------------------------------------------------------


def test_node_paused_past_its_ttl_comes_back_online(start_node, redis_server):
    ttl = 2  # --node-ttl is in seconds
    a = start_node("pa", "--node-ttl", ttl, "--expose-stats")
    b = start_node("pb", "--node-ttl", ttl, "--expose-stats")
    r = redis_server.client()
    watcher = PresenceWatcher(redis_server)

    async def main():
        async with Clients(a) as ca, Clients(b) as cb:
            alice, bob = await ca.open("alice"), await cb.open("bob")
            await join(alice, "r")
            await join(bob, "r")
            await asyncio.to_thread(watcher.wait_for, "alice", "online")
            await asyncio.to_thread(watcher.wait_for, "bob", "online")
            await exchange("r", alice, "alice", bob, "bob", "before")

            a.signal(signal.SIGSTOP)
            stopped = time.monotonic()
            try:
                took = await asyncio.to_thread(watcher.wait_for, "alice", "offline", ttl + 3 * SLACK)
                figure("node_pause_offline_after_s", took)
                await asyncio.sleep(max(0.0, 3 * ttl - (time.monotonic() - stopped)))
            finally:
                a.signal(signal.SIGCONT)
            resumed = time.monotonic()
            offline_at = max(i for i, e in enumerate(watcher.events)
                             if e["user_id"] == "alice" and e["status"] == "offline")

            def back_online():
                watcher.collect(0.02)
                online = [e for e in watcher.events[offline_at + 1:]
                          if e["user_id"] == "alice" and e["status"] == "online"]
                return bool(online) and bool(presence_set(r, "alice"))

            bound = 2.0 * SLACK
            took = await asyncio.to_thread(wait_until, back_online, bound + 3, 0.0)
            figure("node_pause_presence_recovery_s", took if took is not None else f"none within {bound + 3}s")
            after = [e["status"] for e in watcher.events[offline_at + 1:] if e["user_id"] == "alice"]
            assert took is not None, (
                f"alice stayed offline after node pa was resumed: presence events since the offline "
                f"{after}, {PREFIX}presence:user:alice = {presence_set(r, 'alice')}")
            assert took <= bound, f"alice back online only {took:.2f}s after SIGCONT (bound {bound}s)"
            assert_alive(a, b, after="SIGCONT")

            # Delivery both ways (node pa's links may have been reset).
            t_ba = await probe_until_delivered(bob, alice, "r", "probe-ba", 10 * SLACK)
            t_ab = await probe_until_delivered(alice, bob, "r", "probe-ab", 10 * SLACK)
            figure("node_pause_delivery_probe_s", max(t_ab, t_ba))
            figure("node_pause_delivery_ok_after_resume_s", time.monotonic() - resumed)
            await exchange("r", alice, "alice", bob, "bob", "after")
            await asyncio.to_thread(watcher.collect, 0.5)
            after = [e["status"] for e in watcher.events[offline_at + 1:] if e["user_id"] == "alice"]
            assert after == ["online"], f"alice's presence after the resume: {after} (want one online)"
            assert presence_set(r, "alice") == {"pa"}, presence_set(r, "alice")
            assert presence_set(r, "bob") == {"pb"}, presence_set(r, "bob")

    try:
        run(main(), timeout=45 * SLACK)
    finally:
        watcher.close()


# --------------------------------------------------------------------------
# 3. Redis paused past the node TTL; Redis killed and restarted empty
# --------------------------------------------------------------------------


async def _recovered(r, alice, bob, tag, timeout):
    """After a Redis fault: seconds until a message got through each way,
    and until both users' presence sets were non-empty again."""
    start = time.monotonic()
    t_ba = await probe_until_delivered(bob, alice, "r", f"{tag}-ba", timeout)
    t_ab = await probe_until_delivered(alice, bob, "r", f"{tag}-ab", timeout)
    delivery = time.monotonic() - start
    left = max(0.5, timeout - delivery)
    both = await asyncio.to_thread(
        wait_until, lambda: presence_set(r, "alice") and presence_set(r, "bob"), left)
    assert both is not None, (
        f"presence not rebuilt {timeout}s after the fault: alice {presence_set(r, 'alice')}, "
        f"bob {presence_set(r, 'bob')}")
    return t_ba, t_ab, delivery, time.monotonic() - start


async def _still_together(a, b, r, alice, bob, ttl, tag):
    """Nobody reaps a live peer for good: for two TTLs after recovery the
    cluster keeps both nodes' users and delivers both ways."""
    end = time.monotonic() + 2 * ttl
    gaps = 0
    while time.monotonic() < end:
        if not (presence_set(r, "alice") and presence_set(r, "bob")):
            gaps += 1
        await asyncio.sleep(0.1)
    assert presence_set(r, "alice") == {a}, f"alice's presence set {presence_set(r, 'alice')}"
    assert presence_set(r, "bob") == {b}, f"bob's presence set {presence_set(r, 'bob')}"
    assert {a, b} <= set(r.smembers(f"{PREFIX}nodes")), r.smembers(f"{PREFIX}nodes")
    await exchange("r", alice, "alice", bob, "bob", tag)
    return gaps


def test_redis_paused_past_the_ttl_then_resumed(start_node, redis_server):
    ttl = 2
    a = start_node("sa", "--node-ttl", ttl, "--expose-stats")
    b = start_node("sb", "--node-ttl", ttl, "--expose-stats")
    r = redis_server.client()

    async def main():
        async with Clients(a) as ca, Clients(b) as cb:
            alice, bob = await ca.open("alice"), await cb.open("bob")
            await join(alice, "r")
            await join(bob, "r")
            await exchange("r", alice, "alice", bob, "bob", "before")
            assert presence_set(r, "alice") and presence_set(r, "bob")

            redis_server.pause()
            try:
                await asyncio.sleep(3 * ttl)
            finally:
                redis_server.resume()
            t_ba, t_ab, delivery, presence = await _recovered(r, alice, bob, "resumed", 15 * SLACK)
            figure("redis_pause_delivery_b_to_a_s", t_ba)
            figure("redis_pause_delivery_resumed_s", delivery)
            figure("redis_pause_presence_rebuilt_s", presence)
            assert delivery <= 10 * SLACK, f"delivery resumed only {delivery:.2f}s after Redis did"
            gaps = await _still_together("sa", "sb", r, alice, bob, ttl, "after")
            figure("redis_pause_presence_gaps_after_recovery", gaps)
            assert_alive(a, b, after="the Redis pause")

    run(main(), timeout=60 * SLACK)
    for name, node in (("a", a), ("b", b)):
        s = stats(node)
        figure(f"redis_pause_reconnects_{name}", s["backplane_reconnects"])
        figure(f"redis_pause_dropped_{name}", s["backplane_dropped"])


def test_redis_killed_and_restarted_empty(start_node, redis_server):
    ttl = 2
    a = start_node("ka", "--node-ttl", ttl, "--expose-stats")
    b = start_node("kb", "--node-ttl", ttl, "--expose-stats")
    r = redis_server.client()

    async def main():
        async with Clients(a) as ca, Clients(b) as cb:
            alice, bob = await ca.open("alice"), await cb.open("bob")
            await join(alice, "r")
            await join(bob, "r")
            await exchange("r", alice, "alice", bob, "bob", "before")

            redis_server.kill()
            await asyncio.sleep(1.0)
            await asyncio.to_thread(redis_server.start)  # same port, --save "" --appendonly no
            figure("redis_restart_keys_at_start", r.dbsize())
            t_ba, t_ab, delivery, presence = await _recovered(r, alice, bob, "restarted", 15 * SLACK)
            figure("redis_restart_delivery_b_to_a_s", t_ba)
            figure("redis_restart_delivery_resumed_s", delivery)
            figure("redis_restart_presence_rebuilt_s", presence)
            assert delivery <= 10 * SLACK, f"delivery resumed only {delivery:.2f}s after Redis restarted"
            gaps = await _still_together("ka", "kb", r, alice, bob, ttl, "after")
            figure("redis_restart_presence_gaps_after_recovery", gaps)
            assert_alive(a, b, after="the Redis restart")

    run(main(), timeout=60 * SLACK)
    for name, node in (("a", a), ("b", b)):
        s = stats(node)
        figure(f"redis_restart_reconnects_{name}", s["backplane_reconnects"])


# --------------------------------------------------------------------------
# 4. A Redis link that goes silent without closing (blackhole)
# --------------------------------------------------------------------------


def test_silent_redis_link_is_noticed_and_replaced(start_server, redis_server):
    ttl = 3  # heartbeat every second; a heartbeat unanswered for ttl/3 resets the links
    proxy = TcpProxy(redis_server.port)
    a = None
    try:
        a = start_server("--redis", proxy.url, "--node-id", "ba", "--node-ttl", ttl, "--expose-stats")
        b = start_server("--redis", redis_server.url, "--node-id", "bb", "--node-ttl", ttl, "--expose-stats")

        async def main():
            async with Clients(a) as ca, Clients(b) as cb:
                alice, bob = await ca.open("alice"), await cb.open("bob")
                await join(alice, "r")
                await join(bob, "r")
                await exchange("r", alice, "alice", bob, "bob", "before")
                before = proxy.accepted
                silenced = proxy.blackhole_existing()
                assert silenced >= 2, f"node ba had {silenced} links through the proxy"
                took = await probe_until_delivered(bob, alice, "r", "probe", 15 * SLACK)
                figure("blackhole_silenced_links", silenced)
                figure("blackhole_b_to_a_resumed_s", took)
                # Noticing: a heartbeat period (1 s) plus ttl/3; then the
                # reconnect (backoff 50..100 ms) and the resubscribe.
                bound = (1 + ttl / 3 + 2) * SLACK
                assert took <= bound, f"a message from bb reached ba's client only after {took:.2f}s (bound {bound}s)"
                # Both links were replaced; each reconnects on its own
                # backoff, so the second may come a moment after the
                # delivery, which needed only the subscriptions link.
                deadline = time.monotonic() + 5 * SLACK
                while proxy.accepted < before + 2 and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                assert proxy.accepted >= before + 2, "node ba did not open new links"
                await exchange("r", alice, "alice", bob, "bob", "after")
                assert_alive(a, b, after="the blackhole")

        run(main(), timeout=40 * SLACK)
        s = stats(a)
        figure("blackhole_reconnects_a", s["backplane_reconnects"])
        assert s["backplane_reconnects"] >= 1, s
    finally:
        if a is not None:
            a.stop()  # before its links close under it
        proxy.stop()


# --------------------------------------------------------------------------
# 5. A node killed (SIGKILL) while 1000 clients exchange messages
# --------------------------------------------------------------------------


def _raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def test_node_killed_under_load_survivors_lose_and_duplicate_nothing(start_node):
    n_clients = 500 if SANITIZED else 1000
    n_rooms, senders_per_room, per_sender, interval = 10, 2, 50, 0.04
    # One socket per client here; the nodes inherit the limit too.
    soft = _raise_nofile(2 * n_clients + 512)
    n_clients = min(n_clients, soft - 200)
    nodes = [start_node(f"l{x}", "--node-ttl", 2) for x in "abc"]
    victim = nodes[2]

    async def main():
        clients = []  # (index, node index, room, user, ws)

        async def open_one(i):
            node = i % 3
            user, room = f"u{i}", f"load-{i % n_rooms}"
            ws = await connect(nodes[node], user, open_timeout=10 * SLACK)
            await join(ws, room)
            clients.append((i, node, room, user, ws))

        started = time.monotonic()
        try:
            for batch in range(0, n_clients, 100):
                await asyncio.gather(*(open_one(i) for i in range(batch, min(batch + 100, n_clients))))
            figure("kill_under_load_clients", len(clients))
            figure("kill_under_load_connect_s", time.monotonic() - started)
            senders = []
            for k in range(n_rooms):
                room = f"load-{k}"
                senders += [c for c in sorted(clients) if c[2] == room and c[1] != 2][:senders_per_room]
            survivors = [c for c in clients if c[1] != 2]
            expected_per_room = senders_per_room * per_sender
            got = {c[3]: [] for c in clients}
            closed = {c[3]: False for c in clients}
            complete = {c[3]: asyncio.Event() for c in survivors}

            async def receive(c):
                _, node, _, user, ws = c
                try:
                    while True:
                        frame = json.loads(await ws.recv())
                        if frame.get("type") == "message":
                            got[user].append((frame["from"], frame["content"]))
                            if node != 2 and len(got[user]) >= expected_per_room:
                                complete[user].set()
                except ConnectionClosed:
                    closed[user] = True

            async def send(c):
                _, _, room, user, ws = c
                for seq in range(per_sender):
                    await send_json(ws, {"type": "room_message", "room": room, "content": f"{user}:{seq}"})
                    await asyncio.sleep(interval)

            readers = [asyncio.create_task(receive(c)) for c in clients]
            stream = time.monotonic()
            writers = [asyncio.create_task(send(c)) for c in senders]
            await asyncio.sleep(per_sender * interval / 3)
            victim.signal(signal.SIGKILL)
            killed_at = time.monotonic() - stream
            await asyncio.gather(*writers)
            sent_for = time.monotonic() - stream
            try:
                await asyncio.wait_for(asyncio.gather(*(e.wait() for e in complete.values())), 20 * SLACK)
            except asyncio.TimeoutError:
                pass
            await asyncio.sleep(0.5)  # room for duplicates to show up
            for t in readers:
                t.cancel()
            await asyncio.gather(*readers, return_exceptions=True)

            delivered = lost = duplicated = reordered = 0
            bad = []
            for _, node, room, user, _ in survivors:
                for sender in (s[3] for s in senders if s[2] == room):
                    seqs = [int(content.split(":")[1]) for frm, content in got[user]
                            if frm == sender and content.startswith(sender + ":")]
                    delivered += len(seqs)
                    lost += len(set(range(per_sender)) - set(seqs))
                    duplicated += len(seqs) - len(set(seqs))
                    if seqs != sorted(seqs):
                        reordered += 1
                    if seqs != list(range(per_sender)) and len(bad) < 5:
                        bad.append(f"{user}@l{'abc'[node]} from {sender}: {seqs}")
            figure("kill_under_load_killed_after_s", killed_at)
            figure("kill_under_load_stream_s", sent_for)
            figure("kill_under_load_expected", len(survivors) * expected_per_room)
            figure("kill_under_load_delivered", delivered)
            figure("kill_under_load_lost", lost)
            figure("kill_under_load_duplicated", duplicated)
            figure("kill_under_load_reordered_streams", reordered)
            figure("kill_under_load_victim_clients_closed",
                   f"{sum(closed[c[3]] for c in clients if c[1] == 2)}/{sum(1 for c in clients if c[1] == 2)}")
            assert (lost, duplicated, reordered) == (0, 0, 0), "\n".join(bad)
            assert_alive(nodes[0], nodes[1], after="node lc was killed")
        finally:
            await asyncio.gather(*(c[4].close() for c in clients), return_exceptions=True)

    run(main(), timeout=90 * SLACK)


# --------------------------------------------------------------------------
# 6. 1000 parallel upgrades of one user against a host that defers
# --------------------------------------------------------------------------

# Built by tests/CMakeLists.txt next to rtcore-server's build tree.
DEFERRING_HOST = os.environ.get(
    "RTCORE_DEFERRING_HOST", os.path.join(os.path.dirname(SERVER_PATH), "tests", "deferring_host"))


def test_parallel_deferred_upgrades_of_one_user_respect_the_per_user_limit(start_server):
    if not (os.path.isfile(DEFERRING_HOST) and os.access(DEFERRING_HOST, os.X_OK)):
        pytest.skip(f"deferring_host not built: {DEFERRING_HOST} (set RTCORE_DEFERRING_HOST)")
    limit, n, delay_ms = 10, 1000, 300
    _raise_nofile(2 * n + 512)
    host = start_server("--max-connections-per-user", limit, "--delay-ms", delay_ms, "--expose-stats",
                        binary=DEFERRING_HOST)

    async def main():
        async def attempt():
            try:
                return await connect(host, "mallory", open_timeout=20 * SLACK)
            except Exception as exc:  # noqa: BLE001 - classified below
                return f"http {handshake_status(exc)}" if handshake_status(exc) else type(exc).__name__

        started = time.monotonic()
        results = await asyncio.gather(*(attempt() for _ in range(n)))
        upgraded = [ws for ws in results if not isinstance(ws, str)]
        figure("deferred_upgrades_attempted", n)
        figure("deferred_upgrades_101", len(upgraded))
        figure("deferred_upgrades_s", time.monotonic() - started)
        try:
            # Every decision arrives delay_ms after its request; then the
            # refused ones are closed.
            await asyncio.sleep(delay_ms / 1000 + 1.5 * SLACK)
            gauges = stats(host)

            async def works(ws):
                try:
                    await join(ws, "r")
                    return True
                except (ConnectionClosed, asyncio.TimeoutError, AssertionError):
                    return False

            working = sum(await asyncio.gather(*(works(ws) for ws in upgraded if ws.close_code is None)))
            await asyncio.sleep(0.2)
            outcomes = {}
            for ws in results:
                key = ws if isinstance(ws, str) else (f"close {ws.close_code}" if ws.close_code else "open")
                outcomes[key] = outcomes.get(key, 0) + 1
            return gauges, working, outcomes
        finally:
            await asyncio.gather(*(ws.close() for ws in upgraded), return_exceptions=True)

    gauges, working, outcomes = run(main(), timeout=60 * SLACK)
    peaks = [int(line.split()[1]) for line in host.stderr_text(1 << 20).splitlines() if line.startswith("peak_open ")]
    peak = max(peaks, default=0)
    figure("deferred_upgrades_outcomes", json.dumps(outcomes, sort_keys=True))
    figure("deferred_upgrades_peak_registered", peak)
    figure("deferred_upgrades_connections_gauge", gauges["connections"])
    figure("deferred_upgrades_user_limit_refusals", gauges["user_limit_refusals"])
    figure("deferred_upgrades_working", working)
    assert peak <= limit, f"{peak} connections of one user were registered at once (limit {limit}); {outcomes}"
    assert gauges["connections"] <= limit, gauges
    assert 1 <= working <= limit, f"{working} connections of mallory work (limit {limit}); {outcomes}"
    refused = {k: v for k, v in outcomes.items() if k not in ("open", "http 429", "close 4429")}
    assert not refused, f"refusals other than HTTP 429 or close 4429: {outcomes}"
