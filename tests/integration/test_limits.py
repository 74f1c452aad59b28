"""Abuse handling (docs/protocol.md sections 4-5): oversize frames (1009), slow
consumers (1008), clients that never answer pings."""

import asyncio
import json
import socket
import time

from support import (
    Clients,
    ConnectionClosed,
    assert_room_message,
    connect,
    expect_silence,
    join,
    raw_upgrade,
    read_until_eof,
    recv_json,
    run,
    send_json,
)


async def _send_expecting_close(ws, text, timeout=10.0):
    """Send text, then wait for the server to close ws; return the close code
    the server sent (None if no close frame arrived)."""
    try:
        await ws.send(text)
        await asyncio.wait_for(ws.recv(), timeout)
    except ConnectionClosed:
        pass
    else:
        raise AssertionError("server answered instead of closing the connection")
    await asyncio.wait_for(ws.wait_closed(), timeout)
    return ws.protocol.close_rcvd.code if ws.protocol.close_rcvd else None


def _room_message_of_size(size):
    head, tail = '{"type":"room_message","room":"r","content":"', '"}'
    return head + "a" * (size - len(head) - len(tail)) + tail


def test_16mib_frame_closes_only_that_connection_with_1009(server):
    async def main():
        async with Clients(server) as c:
            bad, bob, carol = [await c.open(u) for u in ("mallory", "bob", "carol")]
            for ws in (bad, bob, carol):
                await join(ws, "r")
            code = await _send_expecting_close(bad, _room_message_of_size(16 * 1024 * 1024))
            assert code == 1009, f"expected close 1009, server sent {code}"
            await asyncio.gather(expect_silence(bob), expect_silence(carol))
            await send_json(carol, {"type": "room_message", "room": "r", "content": "after"})
            for ws in (bob, carol):
                assert_room_message(await recv_json(ws), "r", "carol", "after")

    run(main())


def test_max_message_size_option(start_server):
    server = start_server("--max-message-size", "4096")

    async def main():
        async with Clients(server) as c:
            alice, bob = await c.open("alice"), await c.open("bob")
            await join(alice, "r")
            await join(bob, "r")
            ok = _room_message_of_size(4000)
            await alice.send(ok)
            for ws in (alice, bob):
                frame = await recv_json(ws)
                assert_room_message(frame, "r", "alice", json.loads(ok)["content"])
            code = await _send_expecting_close(alice, _room_message_of_size(5000))
            assert code == 1009, f"expected close 1009, server sent {code}"
            # A fragmented message counts after reassembly.
            alice2 = await c.open("alice")
            await join(alice2, "r")
            big = _room_message_of_size(6000)
            try:
                await alice2.send([big[:3000], big[3000:]])
            except ConnectionClosed:
                pass
            code = await _send_expecting_close(alice2, "{}")
            assert code == 1009, f"fragmented oversize: expected close 1009, server sent {code}"
            await expect_silence(bob)

    run(main())


def test_slow_consumer_is_closed_with_1008_and_others_get_everything(start_server):
    server = start_server("--max-queue-bytes", "262144")
    count, payload = 2000, "x" * 8192  # 16 MiB per recipient, far above every buffer
    WINDOW = 16

    async def main():
        async with Clients(server) as c:
            # The slow consumer: a tiny kernel receive buffer, and websockets
            # stops reading as soon as 1 frame is queued (we never call recv).
            raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            raw.connect(("127.0.0.1", server.port))
            slow = await connect(server, "slow", sock=raw, max_queue=1)
            c.open_ws.append(slow)
            bob, sender = await c.open("bob"), await c.open("sender")
            for ws in (slow, bob, sender):
                await join(ws, "r")

            # bob and the sender read everything; the sender keeps at most
            # WINDOW messages (~128 KiB) ahead of them, so that neither of
            # them can ever look like a slow consumer.
            got = {bob: [], sender: []}
            progress = asyncio.Condition()

            async def collect(ws):
                while len(got[ws]) < count:
                    frame = await recv_json(ws, 10)
                    assert frame["type"] == "message", frame
                    async with progress:
                        got[ws].append(frame["content"]["seq"])
                        progress.notify_all()

            readers = [asyncio.create_task(collect(ws)) for ws in (bob, sender)]
            for i in range(count):
                async with progress:
                    await progress.wait_for(lambda: i - min(map(len, got.values())) < WINDOW)
                msg = {"type": "room_message", "room": "r", "content": {"seq": i, "pad": payload}}
                await send_json(sender, msg)
            await asyncio.gather(*readers)
            assert got[bob] == list(range(count)), "bob missed or reordered messages"
            assert got[sender] == list(range(count)), "the sender missed or reordered messages"

            # Now drain the slow consumer: a prefix of the messages, then the end.
            seen, closed = [], False
            try:
                while True:
                    frame = json.loads(await asyncio.wait_for(slow.recv(), 10))
                    seen.append(frame["content"]["seq"])
            except ConnectionClosed:
                closed = True
            except asyncio.TimeoutError:
                pass
            assert closed, f"the server did not close the slow consumer ({len(seen)} messages read)"
            assert seen == list(range(len(seen))), "the slow consumer got a non-prefix"
            assert len(seen) < count, "the slow consumer was never cut off"
            rcvd = slow.protocol.close_rcvd
            assert rcvd is not None, (
                f"slow consumer: connection dropped without a close frame after {len(seen)} "
                "messages (expected close 1008)"
            )
            assert rcvd.code == 1008, f"slow consumer closed with {rcvd.code}, expected 1008"
            await send_json(bob, {"type": "room_message", "room": "r", "content": "end"})
            assert_room_message(await recv_json(bob), "r", "bob", "end")

    run(main(), timeout=40)


def test_client_that_never_answers_pings_is_closed(start_server):
    server = start_server("--ping-interval", "1", "--ping-timeout", "1")

    async def silent_peer():
        sock, rest = await asyncio.to_thread(raw_upgrade, server.port, "mute")
        started = time.monotonic()
        try:
            result = await asyncio.to_thread(read_until_eof, sock, rest, started + 6)
        finally:
            sock.close()
        return result, time.monotonic() - started

    async def polite_peer():
        async with Clients(server) as c:
            ws = await c.open("polite")  # websockets answers pings by itself
            await join(ws, "r")
            await asyncio.sleep(5)
            await join(ws, "r2")  # still connected and working
            await expect_silence(ws, 0.1)

    async def main():
        ((opcodes, close_code, eof), elapsed), _ = await asyncio.gather(silent_peer(), polite_peer())
        assert eof, f"server kept the non-answering client open for 6 s (frames seen: {opcodes})"
        assert elapsed < 5, f"closed only after {elapsed:.1f}s"
        assert 0x9 in opcodes, f"no ping frame seen before the close (opcodes {opcodes})"

    run(main())
