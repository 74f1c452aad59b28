"""Operations (docs/protocol.md section 10): GET /readyz with and without
Redis, the internal listener (--internal-listen), and structured logs
(--log-format json) that never carry a token or a secret."""

import http.client
import json
import os
import re
import time

import pytest
from websockets.asyncio.client import connect as ws_connect

from support import Clients, handshake_status, join, run
from tokens import SECRET, make_token

READY_LEVELS = {"error", "warn", "info", "debug"}
INTERNAL_RE = re.compile(r" internal http://127\.0\.0\.1:(\d+)")


def get(port, path, timeout=5):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.getheader("content-type") or "", resp.read().decode()
    finally:
        conn.close()


def wait_readyz(port, want_status, timeout):
    """Polls /readyz every 50 ms; returns (seconds it took, body)."""
    start = time.monotonic()
    status, body = None, ""
    while time.monotonic() - start < timeout:
        status, _, body = get(port, "/readyz")
        if status == want_status:
            return time.monotonic() - start, body
        time.sleep(0.05)
    raise AssertionError(f"/readyz stayed {status} {body!r} for {timeout} s (wanted {want_status})")


def internal_port(server):
    m = INTERNAL_RE.search(server.ready_line)
    assert m, server.ready_line
    return int(m.group(1))


def all_stderr(server):
    server.stderr.seek(0)
    return server.stderr.read().decode("utf-8", "replace")


# ------------------------------------------------------------------ /readyz


def test_readyz_is_200_on_a_single_node(server):
    status, ctype, body = get(server.port, "/readyz")
    assert (status, body) == (200, "ready\n")
    assert ctype.startswith("text/plain")


def test_readyz_follows_redis_through_a_stall_and_back(start_node, redis_server):
    node = start_node("ops-a")
    took, _ = wait_readyz(node.port, 200, 10)
    assert took < 5
    redis_server.pause()  # sockets stay open, nothing is answered
    try:
        took, body = wait_readyz(node.port, 503, 10)
        # The probe's bound is 3 s; the heartbeat resets the links later.
        assert took < 6, took
        assert body.startswith("redis: "), body
        print(f"/readyz turned 503 {took:.2f} s after SIGSTOP: {body.strip()}")
    finally:
        redis_server.resume()
    took, _ = wait_readyz(node.port, 200, 15)
    print(f"/readyz back to 200 {took:.2f} s after SIGCONT")


def test_readyz_is_503_while_redis_is_gone(start_node, redis_server):
    node = start_node("ops-b")
    wait_readyz(node.port, 200, 10)
    # Each probe's round trip lands in the backplane round-trip histogram.
    metrics = get(node.port, "/metrics")[2]
    m = re.search(r"^rtcore_backplane_round_trip_seconds_count (\d+)", metrics, re.M)
    assert m and int(m.group(1)) >= 1, metrics[-1500:]
    redis_server.kill()
    took, body = wait_readyz(node.port, 503, 5)
    assert took < 3, took
    assert body == "redis: links down\n"
    print(f"/readyz turned 503 {took:.2f} s after SIGKILL")
    redis_server.start()  # same port
    took, _ = wait_readyz(node.port, 200, 15)
    print(f"/readyz back to 200 {took:.2f} s after Redis restarted")


def test_readyz_says_redis_links_down_before_redis_is_reached(start_server):
    # Nothing listens on port 1: the node serves, but cannot do its job.
    node = start_server("--redis", "redis://127.0.0.1:1")
    status, _, body = get(node.port, "/readyz")
    assert (status, body) == (503, "redis: links down\n")
    assert get(node.port, "/healthz")[0] == 200


# ------------------------------------------------------- internal listener


def test_internal_listener_takes_the_operational_endpoints(start_server):
    node = start_server("--internal-listen", "127.0.0.1:0", "--expose-stats")
    # The established part of the ready line comes first.
    assert node.ready_line.startswith(f"rtcore-server listening on ws://127.0.0.1:{node.port} (node ")
    internal = internal_port(node)
    assert internal not in (0, node.port)

    assert get(internal, "/readyz")[::2] == (200, "ready\n")
    assert get(internal, "/healthz")[::2] == (200, "ok\n")
    status, ctype, body = get(internal, "/stats")
    assert status == 200 and ctype.startswith("application/json")
    assert "connections" in json.loads(body)
    status, ctype, body = get(internal, "/metrics")
    assert status == 200 and ctype == "text/plain; version=0.0.4; charset=utf-8"
    assert "rtcore_connections" in body

    # The public port keeps only the liveness check, even with --expose-stats.
    for path in ("/metrics", "/readyz", "/stats"):
        assert get(node.port, path)[0] == 404, path
    assert get(node.port, "/healthz")[::2] == (200, "ok\n")


def test_internal_listener_refuses_websocket_upgrades(start_server):
    node = start_server("--internal-listen", "127.0.0.1:0")
    internal = internal_port(node)

    async def scenario():
        with pytest.raises(Exception) as exc:
            ws = await ws_connect_port(internal, "/ws/alice")
            await ws.close()
        assert handshake_status(exc.value) == 404
        # The public port still upgrades.
        async with Clients(node) as c:
            await c.open("alice")

    run(scenario())


def test_stats_on_the_public_port_still_needs_expose_stats(start_server):
    plain = start_server()
    assert get(plain.port, "/stats")[0] == 404
    exposed = start_server("--expose-stats")
    assert get(exposed.port, "/stats")[0] == 200


def test_a_bad_internal_listen_value_is_refused(start_server):
    import subprocess

    from support import SERVER_PATH

    for bad in ("127.0.0.1", "127.0.0.1:99999", ":9100", "127.0.0.1:x"):
        proc = subprocess.run([SERVER_PATH, "--port", "0", "--internal-listen", bad], capture_output=True,
                              timeout=10)
        assert proc.returncode == 2, (bad, proc.stderr)
        assert b"--internal-listen" in proc.stderr


# --------------------------------------------------------------------- logs


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "jwt.secret"
    path.write_text(SECRET + "\n")
    return str(path)


async def token_traffic(server, token):
    """A client with its token in the query, one with it in Authorization,
    one refused with a forged token; some messages, then every close."""
    a = await ws_connect_with(server, f"/ws/alice?token={token}")
    b = await ws_connect_with(server, "/ws/alice", additional_headers={"Authorization": f"Bearer {token}"})
    await join(a, "ops-room")
    await a.send(json.dumps({"type": "room_message", "room": "ops-room", "content": {"n": 1}}))
    with pytest.raises(Exception) as exc:
        await ws_connect_with(server, f"/ws/alice?token={token}x")
    assert handshake_status(exc.value) == 401
    await a.close()
    await b.close()


async def ws_connect_port(port, path, **kwargs):
    opts = dict(compression=None, ping_interval=None, open_timeout=5, close_timeout=2)
    opts.update(kwargs)
    return await ws_connect(f"ws://127.0.0.1:{port}{path}", **opts)


async def ws_connect_with(server, path, **kwargs):
    return await ws_connect_port(server.port, path, **kwargs)


def test_json_logs_parse_and_never_show_the_token_or_the_secret(start_server, secret_file):
    node = start_server("--auth", "jwt-hs256", "--jwt-secret-file", secret_file, "--log-level", "3",
                        "--log-format", "json", "--node-id", "ops-json")
    token = make_token({"sub": "alice"})
    run(token_traffic(node, token))
    node.stop()  # the shutdown lines too
    text = all_stderr(node)
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) > 5, text[-2000:]
    events = set()
    signature = token.rsplit(".", 1)[1]
    for line in lines:
        assert token not in line and signature not in line, line
        assert SECRET not in line, line
        assert "?token" not in line, line
        obj = json.loads(line)  # every line is one JSON object
        for key in ("time", "level", "event", "node", "msg"):
            assert key in obj, line
        assert obj["level"] in READY_LEVELS, line
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", obj["time"]), line
        assert re.fullmatch(r"[a-z][a-z0-9_]*", obj["event"]), line
        assert obj["node"] == "ops-json", line
        events.add(obj["event"])
    # The engine's own line for the forged token, and libwebsockets' lines.
    assert "upgrade_refused" in events, events
    assert "lws" in events, events
    refused = [json.loads(line) for line in lines if '"upgrade_refused"' in line]
    assert refused[0]["status"] == 401 and refused[0]["level"] == "info"


def test_text_logs_keep_their_format(start_server, secret_file):
    node = start_server("--auth", "jwt-hs256", "--jwt-secret-file", secret_file, "--log-level", "2")

    async def refused():
        with pytest.raises(Exception) as exc:
            await ws_connect_with(node, "/ws/alice?token=" + make_token({"sub": "alice"}, secret="wrong"))
        assert handshake_status(exc.value) == 401

    run(refused())
    node.stop()
    text = all_stderr(node)
    assert "rtcore: upgrade refused (401): bad signature\n" in text, text[-2000:]
    assert "rtcore-server: SIGTERM received, closing connections\n" in text
    assert not any(line.startswith("{") for line in text.splitlines())


def _proc_field(pid, name):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {name} in /proc/{pid}/status")


def _soft_nofile(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                soft = line.split()[3]
                return 1 << 30 if soft == "unlimited" else int(soft)
    raise AssertionError("no open-files limit")


def test_descriptor_table_is_reserved_before_the_first_connection(server):
    # The kernel would otherwise double it (and wait for an RCU grace period,
    # 10-15 ms with the loop blocked) at 256, 512, ... connections: the
    # server grows it once at start (core/loop/descriptor_table.hpp), to
    # --max-connections (default 100000) + 1024, at most the soft limit.
    pid = server.proc.pid
    want = min(_soft_nofile(pid), 100000 + 1024)
    assert _proc_field(pid, "FDSize") >= want

    # The slot it used is free again: connections still get low descriptors.
    async def main():
        async with Clients(server) as clients:
            for i in range(20):
                await clients.open(f"u{i}")
            return [int(n) for n in os.listdir(f"/proc/{pid}/fd")]

    fds = run(main())
    assert len(fds) >= 20
    assert max(fds) < 1024, sorted(fds)[-5:]


def test_the_reservation_follows_max_connections(start_server):
    small = start_server("--max-connections", "3000")
    soft = _soft_nofile(small.proc.pid)
    if soft < 3000 + 1024:
        pytest.skip(f"soft RLIMIT_NOFILE {soft} is below what the test reserves")
    size = _proc_field(small.proc.pid, "FDSize")
    assert size >= 3000 + 1024
    # Not the soft limit: the table is the next power of two (4,096 here).
    if soft >= 16384:
        assert size < 8192, size
    # Without a limit the engine reserves its default, 65,536 slots.
    unlimited = start_server("--max-connections", "0")
    assert _proc_field(unlimited.proc.pid, "FDSize") >= min(_soft_nofile(unlimited.proc.pid), 1 << 16)
