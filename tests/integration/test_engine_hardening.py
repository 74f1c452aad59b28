"""Engine hardening (issue 10): a join_room ack does not wait without bound
while Redis is unresponsive."""

import asyncio
import os
import signal
import time

from support import Clients, assert_error, join, recv_json, run, send_json

JOIN_TIMEOUT_MS = 1000


def test_join_while_redis_is_paused_answers_unavailable_and_still_takes_effect(start_node, redis_server):
    a = start_node("node-a", "--join-timeout", str(JOIN_TIMEOUT_MS))
    b = start_node("node-b")

    async def main():
        async with Clients(a) as ca, Clients(b) as cb:
            alice = await ca.open("alice")
            bob = await cb.open("bob")
            await join(bob, "lobby")  # node b is subscribed before the pause

            # SIGSTOP: Redis keeps its sockets open but answers nothing, so
            # node a's SUBSCRIBE for lobby is never confirmed meanwhile.
            os.kill(redis_server.proc.pid, signal.SIGSTOP)
            try:
                sent = time.monotonic()
                await send_json(alice, {"type": "join_room", "room": "lobby", "id": "j1"})
                frame = await recv_json(alice, timeout=JOIN_TIMEOUT_MS / 1000 + 1)
                waited = time.monotonic() - sent
                assert_error(frame, "unavailable", "j1")
                assert waited >= JOIN_TIMEOUT_MS / 1000 - 0.05, f"answered after {waited:.2f}s"
            finally:
                os.kill(redis_server.proc.pid, signal.SIGCONT)

            # The membership was kept: once Redis answers again, bob's
            # messages from node b reach alice, and the late confirmation of
            # the subscription does not also ack j1 (one answer per id).
            resumed = time.monotonic()
            got = None
            for probe in range(150):
                await send_json(bob, {"type": "room_message", "room": "lobby", "content": f"probe-{probe}"})
                try:
                    frame = await recv_json(alice, timeout=0.1)
                except asyncio.TimeoutError:
                    continue
                assert frame.get("type") == "message", f"unexpected frame after the timeout: {frame}"
                got = frame
                break
            assert got is not None, "bob's messages never reached alice after Redis resumed"
            assert got["room"] == "lobby" and got["from"] == "bob"
            delivered = time.monotonic() - resumed
            # Nothing else for j1 arrives later either.
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                try:
                    frame = await recv_json(alice, timeout=deadline - time.monotonic())
                except asyncio.TimeoutError:
                    break
                assert frame.get("type") == "message", f"unexpected frame: {frame}"
            return waited, delivered

    waited, delivered = run(main(), timeout=40)
    print(f"unavailable after {waited:.2f}s (timeout {JOIN_TIMEOUT_MS} ms); "
          f"delivery {delivered:.2f}s after Redis resumed")
