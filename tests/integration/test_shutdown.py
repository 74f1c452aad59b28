"""Graceful stop: SIGTERM/SIGINT close every connection with 1001 and the
server exits 0 within 2 s."""

import asyncio
import resource
import signal
import time

import pytest

from support import Clients, join, run

EXIT_DEADLINE = 2.0
SLACK = 0.25  # measurement overhead of this (busy) test process


def _raise_fd_limit(wanted):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft != resource.RLIM_INFINITY and soft < wanted:
        pytest.skip(f"RLIMIT_NOFILE is {soft}, need {wanted}")


async def _stop_and_check(server, clients, sig):
    """Send sig; assert exit code 0 within the deadline and close 1001 at
    every client."""
    started = time.monotonic()
    server.signal(sig)
    while server.proc.poll() is None and time.monotonic() - started < EXIT_DEADLINE + 1:
        await asyncio.sleep(0.01)  # keep the clients' event loop running
    elapsed = time.monotonic() - started
    rc = server.proc.poll()
    assert rc is not None, f"server still running {elapsed:.2f}s after {sig.name}"
    assert rc == 0, f"server exited with {rc} after {sig.name}"
    assert elapsed <= EXIT_DEADLINE + SLACK, f"server took {elapsed:.2f}s to exit"

    await asyncio.gather(*(asyncio.wait_for(ws.wait_closed(), 5) for ws in clients))
    codes = {}
    for ws in clients:
        rcvd = ws.protocol.close_rcvd
        code = rcvd.code if rcvd else None
        codes[code] = codes.get(code, 0) + 1
    assert codes == {1001: len(clients)}, f"close codes seen by the clients: {codes}"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_closes_clients_with_1001(server, sig):
    async def main():
        async with Clients(server) as c:
            clients = [await c.open(f"user{i}") for i in range(3)]
            await join(clients[0], "r")
            await _stop_and_check(server, clients, sig)

    run(main())


def test_sigterm_with_1000_clients(server):
    total, batch = 1000, 100
    _raise_fd_limit(4 * total)

    async def main():
        async with Clients(server) as c:
            for start in range(0, total, batch):
                await asyncio.gather(*(c.open(f"user{i % 300}") for i in range(start, start + batch)))
            await asyncio.gather(*(join(ws, f"room{i % 10}") for i, ws in enumerate(c.open_ws[:100])))
            await _stop_and_check(server, c.open_ws, signal.SIGTERM)

    run(main(), timeout=40)
