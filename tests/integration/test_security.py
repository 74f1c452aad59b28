"""Attack tests and protections (docs/protocol.md sections 1 and 4; SECURITY.md):
real clients against rtcore-server with each protection switched on."""

import asyncio
import http.client
import json
import os
import random
import socket
import ssl
import subprocess
import time

import pytest

from redis_support import RedisServer
from support import (
    Clients,
    assert_error,
    close_quietly,
    connect,
    join,
    raw_upgrade,
    recv_json,
    run,
    send_json,
    upgrade_status,
)
from tokens import SECRET, make_token


def stats(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", "/stats")
    resp = conn.getresponse()
    assert resp.status == 200
    return json.loads(resp.read())


def healthy(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", "/healthz")
    return conn.getresponse().status == 200


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "jwt.secret"
    path.write_text(SECRET + "\n")
    return str(path)


@pytest.fixture
def jwt_server(start_server, secret_file):
    return start_server("--auth", "jwt-hs256", "--jwt-secret-file", secret_file, "--expose-stats")


# ------------------------------------------------------------ authentication


def raw_upgrade_response(port, raw_path, extra_headers):
    """(status line, body) of an upgrade request sent by hand; (b"", b"")
    when the server closed without answering."""
    import base64

    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(
            (
                f"GET {raw_path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra_headers}\r\n"
            ).encode()
        )
        buf = b""
        while not buf.startswith(b"HTTP/1.1 101 "):
            try:
                chunk = sock.recv(4096)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            buf += chunk
    finally:
        sock.close()
    head, _, body = buf.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], body


def test_full_jwt_as_subprotocol_gets_400_naming_the_other_token_forms(jwt_server):
    # A JWT does not fit lws's subprotocol limits (126 bytes in all, 62 per
    # entry read): lws would close the socket without a response.
    async def main():
        tok = make_token({"sub": "alice"})
        assert len(tok) > 108
        from websockets.asyncio.client import connect as ws_connect
        from support import handshake_status

        for protocols in ([f"bearer.{tok}"], ["rtcore.v1", f"bearer.{tok}"]):
            header = f"Sec-WebSocket-Protocol: {', '.join(protocols)}\r\n"
            line, body = await asyncio.to_thread(raw_upgrade_response, jwt_server.port, "/ws/alice", header)
            assert line == b"HTTP/1.1 400 Bad Request", (protocols, line, body)
            assert b"?token=" in body and b"Authorization: Bearer" in body, body
            try:
                ws = await ws_connect(
                    f"ws://127.0.0.1:{jwt_server.port}/ws/alice", subprotocols=protocols, open_timeout=5
                )
            except Exception as exc:  # noqa: BLE001 - checked below
                assert handshake_status(exc) == 400, exc
                assert b"?token=" in exc.response.body, exc.response.body
            else:
                await close_quietly(ws)
                raise AssertionError("a list lws cannot take was accepted")
        # The same token in a form that fits is accepted.
        ws = await ws_connect(
            f"ws://127.0.0.1:{jwt_server.port}/ws/alice",
            additional_headers={"Authorization": f"Bearer {tok}"},
            open_timeout=5,
        )
        await join(ws, "r")
        await close_quietly(ws)
        assert stats(jwt_server)["auth_failures"] == 0

    run(main())

def test_valid_token_in_each_place_is_accepted(jwt_server):
    async def main():
        tok = make_token({"sub": "alice"})
        url = f"ws://127.0.0.1:{jwt_server.port}"
        opts = dict(compression=None, open_timeout=5)
        from websockets.asyncio.client import connect as ws_connect
        by_query = await ws_connect(f"{url}/ws/alice?token={tok}", **opts)
        by_header = await ws_connect(f"{url}/ws/alice", additional_headers={"Authorization": f"Bearer {tok}"}, **opts)
        # lws 4.1 takes a Sec-WebSocket-Protocol list of at most 126 bytes, so
        # the subprotocol form only carries compact tokens (SECURITY.md).
        short = make_token({"sub": "alice"}, header={"alg": "HS256"})
        assert len(f"rtcore.v1, bearer.{short}") <= 126
        by_protocol = await ws_connect(f"{url}/ws/alice", subprotocols=["rtcore.v1", f"bearer.{short}"], **opts)
        assert by_protocol.subprotocol == "rtcore.v1"
        # No user id in the path: the token's sub is the user.
        pathless = await ws_connect(f"{url}/ws?token={tok}", **opts)
        await join(pathless, "r")
        await join(by_query, "r")
        await send_json(pathless, {"type": "room_message", "room": "r", "content": 1})
        assert (await recv_json(by_query))["from"] == "alice"
        for ws in (by_query, by_header, by_protocol, pathless):
            await close_quietly(ws)

    run(main())


BAD_TOKENS = {
    "forged": lambda: make_token(secret="not-the-secret"),
    "expired": lambda: make_token({"exp": int(time.time()) - 3600}),
    "not yet valid": lambda: make_token({"nbf": int(time.time()) + 3600}),
    "wrong alg": lambda: make_token(header={"alg": "HS512", "typ": "JWT"}),
    "alg none": lambda: make_token(header={"alg": "none", "typ": "JWT"}, sign=False),
    "alg none signed": lambda: make_token(header={"alg": "none"}),
    "sub mismatch": lambda: make_token({"sub": "mallory"}),
    "garbage": lambda: "not.a.token",
}


@pytest.mark.parametrize("make", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_bad_tokens_are_refused_with_401_and_nothing_registered(jwt_server, make):
    async def main():
        assert await upgrade_status(jwt_server, f"/ws/alice?token={make()}") == 401
        assert await upgrade_status(jwt_server, "/ws/alice") == 401  # no token at all
        s = stats(jwt_server)
        assert s["connections"] == 0 and s["users"] == 0
        assert s["auth_failures"] >= 2

    run(main())


def test_secret_never_appears_in_help_or_logs(jwt_server):
    async def main():
        for _ in range(3):
            await upgrade_status(jwt_server, f"/ws/alice?token={make_token(secret='x')}")

    run(main())
    out = subprocess.run([jwt_server.args[0], "--help"], capture_output=True, text=True, timeout=10)
    assert SECRET not in out.stdout + out.stderr
    env = dict(os.environ, RTCORE_JWT_SECRET=SECRET, RTCORE_PORT="notaport")
    bad = subprocess.run([jwt_server.args[0], "--auth", "jwt-hs256"], capture_output=True, text=True,
                         timeout=10, env=env)
    assert bad.returncode != 0 and SECRET not in bad.stdout + bad.stderr
    jwt_server.stop()
    assert SECRET not in jwt_server.stderr_text(100000)


# ------------------------------------------------------------------ origins

def test_origin_allowlist_refuses_other_sites_with_403(start_server):
    server = start_server("--allowed-origins", "https://chat.example, https://app.example")

    async def main():
        from websockets.asyncio.client import connect as ws_connect
        url = server.url("alice")
        ok = await ws_connect(url, origin="https://app.example", open_timeout=5)
        await close_quietly(ok)
        no_origin = await ws_connect(url, open_timeout=5)  # not a browser
        await close_quietly(no_origin)
        try:
            await ws_connect(url, origin="https://evil.example", open_timeout=5)
            raise AssertionError("evil origin accepted")
        except Exception as exc:  # noqa: BLE001
            from support import handshake_status
            assert handshake_status(exc) == 403, exc

    run(main())


# ------------------------------------------------------------------- limits

def test_flood_over_the_rate_limit_gets_errors_then_1008(start_server):
    server = start_server("--rate-limit", "20:20", "--expose-stats")

    async def main():
        async with Clients(server) as c:
            flooder, victim = await c.open("flooder"), await c.open("victim")
            await join(victim, "r")
            for i in range(30):
                await send_json(flooder, {"type": "join_room", "room": f"r{i}", "id": i})
            frames = [await recv_json(flooder) for _ in range(30)]
            limited = [f for f in frames if f["type"] == "error"]
            assert limited, "no rate_limited error after 30 messages in a burst of 20"
            for f in limited:
                assert_error(f, "rate_limited", f["id"])
            # Keep flooding (and reading the errors): persistent abuse closes
            # the connection.
            async def read_until_closed():
                try:
                    while True:
                        await flooder.recv()
                except Exception:  # noqa: BLE001 - ConnectionClosed ends it
                    pass

            reader = asyncio.create_task(read_until_closed())
            try:
                for i in range(1000):
                    await send_json(flooder, {"type": "leave_room", "room": "x"})
            except Exception:  # noqa: BLE001 - sending on a closed socket is fine
                pass
            await asyncio.wait_for(reader, 5)
            assert flooder.close_code == 1008
            await join(victim, "still-served")
        s = stats(server)
        assert s["rate_limited"] >= 100 and s["rate_limit_closes"] == 1

    run(main())


def test_connection_limits_answer_503_and_429(start_server):
    server = start_server("--max-connections", "3", "--max-connections-per-user", "2", "--expose-stats")

    async def main():
        async with Clients(server) as c:
            await c.open("u1")
            await c.open("u1")
            assert await upgrade_status(server, "/ws/u1") == 429
            await c.open("u2")
            assert await upgrade_status(server, "/ws/u3") == 503
        s = stats(server)
        assert s["user_limit_refusals"] == 1 and s["connection_limit_refusals"] == 1

    run(main())


def test_idle_connection_is_closed(start_server):
    server = start_server("--idle-timeout", "1")

    async def main():
        ws = await connect(server, "sleepy")
        await asyncio.wait_for(ws.wait_closed(), 5)
        assert ws.close_code == 1000

    run(main())


def test_silent_socket_is_dropped_after_the_handshake_timeout(start_server):
    server = start_server("--handshake-timeout", "1")
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=6)
    start = time.monotonic()
    assert sock.recv(100) == b""  # closed by the server, nothing sent
    assert time.monotonic() - start < 5
    sock.close()


def test_malformed_requests_and_random_bytes_leave_the_server_up(server):
    rng = random.Random(7)
    garbage = [
        b"GET /ws/alice HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",  # no key, no version
        b"GET /ws/alice HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 99\r\n\r\n",
        b"GET /ws/" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
        b"POST /ws/alice HTTP/1.1\r\nContent-Length: 99999999\r\n\r\nabc",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64),  # a TLS hello on a plain port
        b"GET / HTTP/1.1\r\n" + b"X-Header: v\r\n" * 2000 + b"\r\n",
    ] + [bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 4000))) for _ in range(40)]
    for blob in garbage:
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=2) as s:
                s.sendall(blob)
                s.settimeout(0.5)
                try:
                    s.recv(4096)
                except (socket.timeout, ConnectionError):
                    pass
        except ConnectionError:
            pass
    assert server.proc.poll() is None
    assert healthy(server)

    async def main():
        async with Clients(server) as c:
            await join(await c.open("after"), "r")

    run(main())


def test_500_stopped_readers_do_not_starve_50_readers_or_grow_memory(start_server):
    server = start_server("--max-queue-bytes", "65536", "--expose-stats", "--max-connections-per-user", "0")
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))

    def rss_kib():
        with open(f"/proc/{server.proc.pid}/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))

    async def main():
        stalled = []
        for i in range(500):
            sock, _ = await asyncio.to_thread(raw_upgrade, server.port, f"stalled-{i}")
            # Join with a hand-masked frame, then never read again.
            payload = json.dumps({"type": "join_room", "room": "big"}).encode()
            mask = os.urandom(4)
            sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[j % 4] for j, b in enumerate(payload)))
            stalled.append(sock)
        async with Clients(server) as c:
            readers = [await c.open(f"reader-{i}") for i in range(50)]
            for ws in readers:
                await join(ws, "big")
            sender = await c.open("sender")
            await join(sender, "big")
            before = rss_kib()
            body = "x" * 2000
            count = 1500  # 3 MB to every member: far beyond the stalled ones' buffers

            async def drain(ws):
                got = [(await recv_json(ws, timeout=20))["content"]["i"] for _ in range(count)]
                assert got == list(range(count))

            # Readers (and the sender, a member too) read while it is sent.
            draining = [asyncio.create_task(drain(ws)) for ws in [*readers, sender]]
            for i in range(count):
                await send_json(sender, {"type": "room_message", "room": "big", "content": {"i": i, "b": body}})
                if i % 50 == 0:
                    await asyncio.sleep(0)  # let the readers run
            await asyncio.gather(*draining)
            after = rss_kib()
            s = stats(server)
            assert s["slow_consumer_closes"] >= 450, s
            # 500 stalled clients x 64 KiB queue = 32 MiB at most, whatever was sent.
            assert after - before < 96 * 1024, f"RSS {before} -> {after} KiB"
        for sock in stalled:
            sock.close()
        return before, after

    before, after = run(main(), timeout=120)
    print(f"server RSS {before} -> {after} KiB with 500 stalled clients")


# ------------------------------------------------------------------ backplane

def test_garbage_on_the_backplane_is_dropped_and_counted(start_server, redis_server):
    node = start_server("--redis", redis_server.url, "--node-id", "a", "--expose-stats")

    async def main():
        async with Clients(node) as c:
            alice = await c.open("alice")
            await join(alice, "r")
            client = redis_server.client()
            for blob in [b"garbage", b"\x80\x81\x82", b"\x85\xa1v\x01", os.urandom(300)]:
                client.publish("rtcore:room:r", blob)
            client.publish("rtcore:presence", b"{not json")
            await asyncio.sleep(0.5)
            assert stats(node)["backplane_invalid"] >= 5
            await join(alice, "still-fine")
            try:
                frame = await recv_json(alice, timeout=0.3)
                raise AssertionError(f"garbage reached a client: {frame}")
            except asyncio.TimeoutError:
                pass

    run(main())


# ----------------------------------------------------------------------- TLS

@pytest.fixture
def certificate(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True, timeout=60,
    )
    return str(cert), str(key)


def test_wss_with_tls_12_or_newer(start_server, certificate):
    cert, key = certificate
    server = start_server("--tls-cert", cert, "--tls-key", key)
    assert server.ready_line.split()[3].startswith("wss://")

    async def main():
        from websockets.asyncio.client import connect as ws_connect
        ctx = ssl.create_default_context(cafile=cert)
        ws = await ws_connect(f"wss://127.0.0.1:{server.port}/ws/alice", ssl=ctx, open_timeout=5)
        await join(ws, "secure")
        await send_json(ws, {"type": "room_message", "room": "secure", "content": "over tls"})
        assert (await recv_json(ws))["content"] == "over tls"
        await close_quietly(ws)
        # TLS 1.1 and older are refused.
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.load_verify_locations(cert)
        old.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        old.maximum_version = ssl.TLSVersion.TLSv1_1
        try:
            old.set_ciphers("ALL:@SECLEVEL=0")
        except ssl.SSLError:
            pass
        with pytest.raises((ssl.SSLError, OSError)):
            await ws_connect(f"wss://127.0.0.1:{server.port}/ws/bob", ssl=old, open_timeout=5)
        # Plain ws:// to the TLS port does not get through.
        with pytest.raises(Exception):
            await ws_connect(f"ws://127.0.0.1:{server.port}/ws/carol", open_timeout=3)

    run(main())


def test_bad_certificate_is_reported_as_such(start_server, tmp_path):
    bad = tmp_path / "not-a-cert.pem"
    bad.write_text("hello")
    import subprocess as sp
    from support import SERVER_PATH
    out = sp.run([SERVER_PATH, "--port", "0", "--tls-cert", str(bad), "--tls-key", str(bad)],
                 capture_output=True, text=True, timeout=10)
    assert out.returncode != 0
    assert "TLS certificate" in out.stderr


def test_malformed_frames_count_against_the_rate_limit(start_server):
    server = start_server("--rate-limit", "5:5")

    async def main():
        ws = await connect(server, "spammer")
        for _ in range(20):
            await ws.send("not json")
        codes = [(await recv_json(ws))["code"] for _ in range(20)]
        assert codes.count("bad_json") == 5 and codes.count("rate_limited") == 15, codes
        await close_quietly(ws)

    run(main())
