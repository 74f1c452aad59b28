"""Room fan-out through the Python host vs the rtcore-server binary.

Scenario (the same for both): CLIENTS connections join one room; one more
connection, also a member, sends MESSAGES room_message frames of SIZE bytes
of content as fast as it can; a round ends when every member has received
every message. Reported per target: wall time of the round (first send to
last delivery), deliveries per second, and the server process's CPU time
during the round (all threads, from /proc).

The clients are minimal raw-socket WebSocket clients spread over WORKERS
processes, because a full client library would be the bottleneck by far.

    scripts/build.sh build && pip install ./bindings/python
    python bindings/python/bench/fanout.py --server build/rtcore-server
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional, Tuple

HERE = Path(__file__).resolve().parent
HANDSHAKE = ("GET /ws/{user} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


def client_frame(text: str) -> bytes:
    """A masked text frame with an all-zero mask (valid, and no XOR work)."""
    data = text.encode()
    n = len(data)
    head = bytes([0x81, 0x80 | n]) if n < 126 else bytes([0x81, 0x80 | 126]) + n.to_bytes(2, "big")
    return head + b"\0\0\0\0" + data


class Counter(asyncio.Protocol):
    """Counts text frames from the server after the upgrade."""

    def __init__(self, user: str, room: str) -> None:
        self.user, self.room = user, room
        self.buf = bytearray()
        self.upgraded = asyncio.get_running_loop().create_future()
        self.frames = 0
        self.target = 0
        self.reached: Optional[asyncio.Future] = None
        self.transport: Optional[asyncio.Transport] = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(HANDSHAKE.format(user=self.user).encode())

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.upgraded.done():
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buf.startswith(b"HTTP/1.1 101"):
                self.upgraded.set_exception(RuntimeError(bytes(self.buf[:end]).decode()))
                return
            del self.buf[: end + 4]
            self.upgraded.set_result(None)
        buf, pos, n = self.buf, 0, len(self.buf)
        while n - pos >= 2:
            length = buf[pos + 1] & 0x7F
            head = 2
            if length == 126:
                if n - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if n - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            if n - pos < head + length:
                break
            if buf[pos] & 0x0F == 1:
                self.frames += 1
            pos += head + length
        del buf[:pos]
        if self.reached is not None and not self.reached.done() and self.frames >= self.target:
            self.reached.set_result(time.monotonic())

    def arm(self, count: int) -> asyncio.Future:
        self.target = self.frames + count
        self.reached = asyncio.get_running_loop().create_future()
        if self.frames >= self.target:
            self.reached.set_result(time.monotonic())
        return self.reached


async def open_clients(port: int, users: List[str], room: str) -> List[Counter]:
    loop = asyncio.get_running_loop()
    sem = asyncio.Semaphore(100)

    async def one(user: str) -> Counter:
        async with sem:
            _, proto = await loop.create_connection(lambda: Counter(user, room), "127.0.0.1", port)
            await proto.upgraded
            joined = proto.arm(1)  # the join ack
            proto.transport.write(client_frame(json.dumps({"type": "join_room", "room": room, "id": 1})))
            await asyncio.wait_for(joined, 30)
            return proto

    return await asyncio.gather(*(one(u) for u in users))


def worker(port: int, users: List[str], room: str, conn) -> None:
    async def run() -> None:
        clients = await open_clients(port, users, room)
        conn.send("ready")
        loop = asyncio.get_running_loop()
        while True:
            cmd = await loop.run_in_executor(None, conn.recv)
            if cmd is None:
                break
            waits = [c.arm(cmd) for c in clients]
            conn.send("armed")
            conn.send(max(await asyncio.gather(*waits)))
        for c in clients:
            c.transport.close()

    asyncio.run(run())


def cpu_seconds(pid: int) -> float:
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            fields = Path(f"/proc/{pid}/task/{task}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def start_target(cmd: List[str]) -> Tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if "listening on ws://" not in line:
        proc.kill()
        raise RuntimeError(f"{cmd[0]} did not start: {line!r}")
    return proc, int(line.split("ws://", 1)[1].split()[0].rsplit(":", 1)[1])


async def run_rounds(port: int, pid: int, args: argparse.Namespace) -> List[Tuple[float, float]]:
    room = "bench"
    per = [list(range(i, args.clients, args.workers)) for i in range(args.workers)]
    pipes, procs = [], []
    for users in per:
        parent, child = mp.Pipe()
        p = mp.Process(target=worker, args=(port, [f"u{i}" for i in users], room, child))
        p.start()
        pipes.append(parent)
        procs.append(p)
    loop = asyncio.get_running_loop()
    for parent in pipes:
        assert await loop.run_in_executor(None, parent.recv) == "ready"
    (sender,) = await open_clients(port, ["sender"], room)
    content = "x" * args.size
    burst = b"".join(client_frame(json.dumps({"type": "room_message", "room": room, "content": content}))
                     for _ in range(args.messages))
    results = []
    for _ in range(args.rounds + 1):  # the first round warms up and is dropped
        for parent in pipes:
            parent.send(args.messages)
        for parent in pipes:
            assert await loop.run_in_executor(None, parent.recv) == "armed"
        own = sender.arm(args.messages)
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        sender.transport.write(burst)
        ends = [await loop.run_in_executor(None, parent.recv) for parent in pipes] + [await own]
        results.append((max(ends) - t0, cpu_seconds(pid) - cpu0))
    for parent in pipes:
        parent.send(None)
    for p in procs:
        p.join(30)
    sender.transport.close()
    return results[1:]


def measure(name: str, cmd: List[str], args: argparse.Namespace) -> dict:
    proc, port = start_target(cmd)
    try:
        rounds = asyncio.run(run_rounds(port, proc.pid, args))
    finally:
        proc.terminate()
        proc.wait(10)
    deliveries = (args.clients + 1) * args.messages
    wall = statistics.median(r[0] for r in rounds)
    cpu = statistics.median(r[1] for r in rounds)
    return {"target": name, "deliveries": deliveries, "wall_s": round(wall, 4),
            "deliveries_per_s": round(deliveries / wall), "server_cpu_s": round(cpu, 3),
            "server_us_per_delivery": round(cpu / deliveries * 1e6, 3), "rounds": rounds}


def main() -> int:
    parser = argparse.ArgumentParser(description="room fan-out: Python host vs rtcore-server")
    parser.add_argument("--server", default=str(HERE.parents[2] / "build" / "rtcore-server"))
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by the servers and workers

    targets = [("python-host", [sys.executable, str(HERE / "python_host.py")]),
               ("rtcore-server", [args.server, "--port", "0", "--rate-limit", "0"])]
    results = [measure(name, cmd, args) for name, cmd in targets]
    print(f"{args.clients} clients + 1 sender in one room, {args.messages} x {args.size}-byte messages, "
          f"median of {args.rounds} rounds")
    for r in results:
        print(f"  {r['target']:14} wall {r['wall_s'] * 1000:8.1f} ms  {r['deliveries_per_s']:>9} deliveries/s  "
              f"server CPU {r['server_cpu_s'] * 1000:7.1f} ms ({r['server_us_per_delivery']} us/delivery)")
    py, srv = results
    print(f"  python-host / rtcore-server: wall {py['wall_s'] / srv['wall_s']:.3f}, "
          f"server CPU {py['server_cpu_s'] / max(srv['server_cpu_s'], 1e-9):.3f}")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
