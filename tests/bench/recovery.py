#!/usr/bin/env python3
"""Recovery time: a client that missed N messages (100, 1000) reconnects and
joins with `since`; timed from sending the join_room to receiving its ack,
which follows the whole replay (docs/protocol.md section 8). One node with
the in-process history, and two nodes on Redis with the client reconnecting
to the other node. Real rtcore-server (Release build, build-release/) and
redis-server processes on loopback, a Python `websockets` client (its
parsing is part of the figure). Median of rounds; bounded.

  tests/bench/recovery.py [--rounds 5] [--missed 100,1000] [--size 64]
"""
import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time

from websockets.asyncio.client import connect

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
RTCORE = os.environ.get("RTCORE_SERVER", os.path.join(ROOT, "build-release", "rtcore-server"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port):
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.025)
    raise RuntimeError(f"nothing listens on {port}")


class Proc:
    def __init__(self, args, port):
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        self.port = port
        wait_port(port)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def node(port, redis_port, history):
    args = [RTCORE, "--host", "127.0.0.1", "--port", str(port), "--log-level", "0", "--rate-limit", "0",
            "--history-size", str(history), "--history-ttl", "300"]
    if redis_port:
        args += ["--redis", f"redis://127.0.0.1:{redis_port}"]
    return Proc(args, port)


async def recv_until(ws, pred):
    while True:
        f = json.loads(await ws.recv())
        if pred(f):
            return f


async def one_round(ports, missed, size):
    url = lambda p, u: f"ws://127.0.0.1:{p}/ws/{u}"  # noqa: E731
    opts = dict(compression=None, ping_interval=None, max_size=None)
    async with connect(url(ports[0], "sender"), **opts) as sender:
        await sender.send(json.dumps({"type": "join_room", "room": "r", "id": 1}))
        await recv_until(sender, lambda f: f.get("id") == 1)
        reader = await connect(url(ports[0], "reader"), **opts)
        await reader.send(json.dumps({"type": "join_room", "room": "r", "id": 1}))
        ack = await recv_until(reader, lambda f: f.get("id") == 1)
        await reader.close()
        pad = "x" * size
        for i in range(missed):
            await sender.send(json.dumps({"type": "room_message", "room": "r", "content": {"n": i, "p": pad},
                                          "id": f"m{i}"}))
        await recv_until(sender, lambda f: f.get("id") == f"m{missed - 1}")
        async with connect(url(ports[-1], "reader"), **opts) as again:
            t0 = time.perf_counter()
            await again.send(json.dumps({"type": "join_room", "room": "r", "id": 2,
                                         "since": {"epoch": ack["epoch"], "offset": ack["offset"]}}))
            got = 0
            while True:
                f = json.loads(await again.recv())
                if f.get("type") == "message":
                    got += 1
                elif f.get("id") == 2:
                    break
            dt = time.perf_counter() - t0
        if got != missed or not f.get("recovered"):
            raise RuntimeError(f"replayed {got} of {missed}, answer {f}")
        return dt


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--missed", default="100,1000")
    ap.add_argument("--size", type=int, default=64, help="padding bytes in each message's content")
    a = ap.parse_args()
    print(f"recovery time, join_room with since -> its ack after the replay ({a.rounds} rounds, median; "
          f"binary {os.path.relpath(RTCORE, ROOT)})")
    for setup in ("in-process (1 node)", "redis (2 nodes, other node)"):
        for missed in map(int, a.missed.split(",")):
            times = []
            for _ in range(a.rounds):
                procs = []
                try:
                    if setup.startswith("redis"):
                        rp = free_port()
                        procs.append(Proc(["redis-server", "--port", str(rp), "--bind", "127.0.0.1", "--save", "",
                                           "--appendonly", "no"], rp))
                        ports = [free_port(), free_port()]
                        procs += [node(p, rp, 2000) for p in ports]
                    else:
                        ports = [free_port()]
                        procs.append(node(ports[0], None, 2000))
                    times.append(asyncio.run(asyncio.wait_for(one_round(ports, missed, a.size), 60)))
                finally:
                    for p in reversed(procs):
                        p.stop()
            med = statistics.median(times)
            print(f"  {setup:<30} missed {missed:>5}: {med * 1000:8.2f} ms "
                  f"(min {min(times) * 1000:.2f}, max {max(times) * 1000:.2f}; {med * 1e6 / missed:.1f} µs/message)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
