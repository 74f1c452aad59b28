"""The engine's protections configured from Python: JWT auth, origin
allowlist, rate limit, connection limits, idle timeout, /stats, TLS; their
counters; option validation; the secret kept out of reprs and logs.

Tokens are built here with hmac (no JWT library), as a token issuer would."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import shutil
import ssl
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any, Dict, Tuple

import pytest
import rtcore
from rtcore import _native
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from conftest import async_test, recv_json, send_json
from support import http_status_of, ws

SECRET = "correct horse battery staple"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(claims: Dict[str, Any], secret: str = SECRET, alg: str = "HS256") -> str:
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def token(sub: str, secret: str = SECRET, ttl: int = 60, **extra: Any) -> str:
    return make_jwt({"sub": sub, "exp": int(time.time()) + ttl, **extra}, secret)


async def acked(client: Any, request_id: int = 1) -> bool:
    await send_json(client, {"type": "join_room", "room": "r", "id": request_id})
    return await recv_json(client) == {"type": "ack", "id": request_id}


async def http_get(app: rtcore.App, path: str) -> Tuple[int, str]:
    reader, writer = await asyncio.open_connection(app.host, app.port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {app.host}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    head, _, body = raw.decode().partition("\r\n\r\n")
    return int(head.split()[1]), body


# ---- defaults and validation ------------------------------------------------


def test_defaults_are_the_c_librarys() -> None:
    c = _native.config_defaults()
    cfg = rtcore.App().config
    assert cfg.rate_limit_per_s == c["rate_limit_per_s"] and cfg.rate_limit_burst == c["rate_limit_burst"]
    assert cfg.max_connections == c["max_connections"]
    assert cfg.max_connections_per_user == c["max_connections_per_user"]
    assert cfg.handshake_timeout * 1000 == c["handshake_timeout_ms"]
    assert cfg.idle_timeout is None and c["idle_timeout_ms"] == 0
    assert cfg.jwt_leeway == c["jwt_leeway_s"] and cfg.expose_stats is (c["expose_stats"] is True)
    assert cfg.node_ttl * 1000 == c["node_ttl_ms"]
    assert cfg.redis_connect_timeout * 1000 == c["redis_connect_timeout_ms"]
    assert cfg.redis_buffer_bytes == c["redis_buffer_bytes"]
    assert cfg.join_timeout_ms == c["join_timeout_ms"] == 3000
    assert cfg.ping_interval * 1000 == c["ping_interval_ms"] and cfg.max_message_size == c["max_message_size"]
    assert cfg.auth == "none" and c["auth_mode"] == _native.AUTH_NONE
    assert cfg.tls_cert is None and cfg.allowed_origins == ()


@pytest.mark.parametrize(
    "kwargs, names",
    [
        ({"auth": "basic"}, "auth"),
        ({"auth": "jwt-hs256"}, "jwt_secret"),
        ({"auth": "jwt-hs256", "jwt_secret": ""}, "jwt_secret"),
        ({"jwt_secret": 42}, "jwt_secret"),
        ({"jwt_leeway": -1}, "jwt_leeway"),
        ({"jwt_audience": 5}, "jwt_audience"),
        ({"allowed_origins": ["https://a.example,https://b.example"]}, "allowed_origins"),
        ({"allowed_origins": [""]}, "allowed_origins"),
        ({"allowed_origins": 7}, "allowed_origins"),
        ({"rate_limit": (10,)}, "rate_limit"),
        ({"rate_limit": (-1, 5)}, "rate_limit"),
        ({"rate_limit": (10, 20), "rate_limit_per_s": 5}, "rate_limit"),
        ({"rate_limit_per_s": 10, "rate_limit_burst": 0}, "rate_limit_burst"),
        ({"max_connections": -1}, "max_connections"),
        ({"max_connections_per_user": 1.5}, "max_connections_per_user"),
        ({"max_connections": 2**32}, "max_connections"),
        ({"handshake_timeout": 0}, "handshake_timeout"),
        ({"idle_timeout": -2}, "idle_timeout"),
        ({"expose_stats": "yes"}, "expose_stats"),
        ({"tls_cert": "/tmp/cert.pem"}, "tls_cert and tls_key"),
        ({"tls_cert": 3, "tls_key": "k"}, "tls_cert"),
        ({"redis_prefix": ""}, "redis_prefix"),
        ({"node_ttl": 0}, "node_ttl"),
        ({"redis_connect_timeout": "2"}, "redis_connect_timeout"),
        ({"redis_buffer_bytes": 0}, "redis_buffer_bytes"),
        ({"join_timeout_ms": 0}, "join_timeout_ms"),
        ({"join_timeout_ms": 1.5}, "join_timeout_ms"),
    ],
)
def test_bad_options_raise_value_errors_naming_them(kwargs: Dict[str, Any], names: str) -> None:
    with pytest.raises(ValueError, match=names):
        rtcore.App(**kwargs)


def test_rate_limit_forms() -> None:
    assert (rtcore.App(rate_limit=(5, 7)).config.rate_limit_per_s, rtcore.App(rate_limit=(5, 7)).config.rate_limit_burst) == (5, 7)
    cfg = rtcore.App(rate_limit=50).config  # like rtcore-server --rate-limit 50: burst 100
    assert (cfg.rate_limit_per_s, cfg.rate_limit_burst) == (50, 100)
    for off in (0, False):
        cfg = rtcore.App(rate_limit=off).config
        assert (cfg.rate_limit_per_s, cfg.rate_limit_burst) == (0, 0)
    cfg = rtcore.App(rate_limit_per_s=20, rate_limit_burst=25).config
    assert (cfg.rate_limit_per_s, cfg.rate_limit_burst) == (20, 25)


def test_secret_is_never_shown() -> None:
    app = rtcore.App(auth="jwt-hs256", jwt_secret=SECRET)
    assert app.config.jwt_secret == SECRET.encode()  # kept, as bytes
    for text in (repr(app), str(app), repr(app.config), str(app.config)):
        assert SECRET not in text and "horse" not in text
    assert "jwt_secret=<hidden>" in repr(app.config)
    with pytest.raises(ValueError) as err:
        rtcore.App(auth="jwt-hs256", jwt_secret=SECRET, jwt_leeway=-1)
    assert "horse" not in str(err.value)
    with pytest.raises(ValueError) as err:
        rtcore.App(auth="jwt-hs256", jwt_secret=SECRET, allowed_origins=[SECRET + ",x"])
    assert "jwt_secret" not in str(err.value) and "horse" in str(err.value)  # only the bad origin is echoed


def test_missing_tls_files_are_named_at_start(tmp_path: Path) -> None:
    app = rtcore.App(tls_cert=tmp_path / "nope.pem", tls_key=tmp_path / "nope.key")

    async def start() -> None:
        await app.start()

    with pytest.raises(ValueError, match="tls_cert: cannot read"):
        asyncio.run(start())


# ---- JWT ------------------------------------------------------------------------


@async_test()
async def test_jwt_accepts_a_valid_token_and_refuses_forged_and_expired_with_401(
        capfd: pytest.CaptureFixture[str]) -> None:
    app = rtcore.App(auth="jwt-hs256", jwt_secret=SECRET, jwt_leeway=0, log_level="debug")
    online = []
    app.on_presence(lambda ev: online.append(ev.user_id))
    async with app:
        async with ws(app, f"/ws/alice?token={token('alice')}") as client:
            assert await acked(client)
        async with ws(app, "/ws/bob", additional_headers={"Authorization": f"Bearer {token('bob')}"}) as client:
            assert await acked(client)
        assert await http_status_of(app, f"/ws/mallory?token={token('mallory', secret='guessed')}") == 401
        expired = make_jwt({"sub": "carol", "exp": int(time.time()) - 120})
        assert await http_status_of(app, f"/ws/carol?token={expired}") == 401
        assert await http_status_of(app, "/ws/dave") == 401  # no token at all
        assert await http_status_of(app, f"/ws/erin?token={token('alice')}") == 401  # sub is not the path's user
        await asyncio.sleep(0.1)
        stats = app.stats()
        assert stats.auth_failures == 4 and stats.rejected_upgrades >= 4
        assert set(online) == {"alice", "bob"}  # refused users never went online
    out, err = capfd.readouterr()
    assert SECRET not in out + err  # not even at log level debug


@async_test()
async def test_jwt_audience_and_issuer_are_checked() -> None:
    async with rtcore.App(auth="jwt-hs256", jwt_secret=SECRET.encode(), jwt_audience="chat",
                          jwt_issuer="https://auth.example") as app:
        good = token("alice", aud="chat", iss="https://auth.example")
        async with ws(app, f"/ws/alice?token={good}") as client:
            assert await acked(client)
        wrong_aud = token("alice", aud="billing", iss="https://auth.example")
        assert await http_status_of(app, f"/ws/alice?token={wrong_aud}") == 401
        assert app.stats().auth_failures == 1


# ---- origins, limits, timeouts ------------------------------------------------------


@async_test()
async def test_origin_allowlist_refuses_other_sites_with_403() -> None:
    async with rtcore.App(allowed_origins=["https://app.example", "https://admin.example"]) as app:
        async with ws(app, "/ws/alice", origin="https://app.example") as client:
            assert await acked(client)
        async with ws(app, "/ws/bob") as client:  # no Origin: not a browser, allowed
            assert await acked(client)
        assert await http_status_of(app, "/ws/mallory", origin="https://evil.example") == 403
        stats = app.stats()
        assert stats.origin_refusals == 1 and stats.connections_total == 2


@async_test()
async def test_rate_limit_answers_rate_limited() -> None:
    async with rtcore.App(rate_limit=(1, 3)) as app:
        async with ws(app, "/ws/alice") as client:
            for i in range(6):
                await send_json(client, {"type": "join_room", "room": "r", "id": i})
            answers = [await recv_json(client) for _ in range(6)]
            assert [a["type"] for a in answers[:3]] == ["ack"] * 3
            limited = [a for a in answers if a["type"] == "error"]
            assert limited and all(a["code"] == "rate_limited" for a in limited)
            assert {a["id"] for a in limited} <= {3, 4, 5}
        stats = app.stats()
        assert stats.rate_limited == len(limited) and stats.rate_limit_closes == 0


@async_test()
async def test_connection_limits_answer_429_per_user_and_503_in_total() -> None:
    async with rtcore.App(max_connections_per_user=1, max_connections=2) as app:
        async with ws(app, "/ws/alice") as first:
            assert await acked(first)
            assert await http_status_of(app, "/ws/alice") == 429
            async with ws(app, "/ws/bob") as bob:
                assert await acked(bob)
                assert await http_status_of(app, "/ws/carol") == 503
        stats = app.stats()
        assert (stats.user_limit_refusals, stats.connection_limit_refusals) == (1, 1)


@async_test()
async def test_idle_connection_is_closed_and_counted() -> None:
    async with rtcore.App(idle_timeout=0.5) as app:
        async with ws(app, "/ws/alice") as client:
            assert await acked(client)
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(client.recv(), 5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
        assert app.stats().idle_closes == 1


@async_test()
async def test_stats_endpoint_only_when_exposed() -> None:
    async with rtcore.App() as app:
        assert (await http_get(app, "/stats"))[0] == 404
    async with rtcore.App(expose_stats=True, allowed_origins=["https://app.example"]) as app:
        assert await http_status_of(app, "/ws/x", origin="https://evil.example") == 403
        status, body = await http_get(app, "/stats")
        assert status == 200
        counters = json.loads(body)
        assert counters["origin_refusals"] == 1 and counters["origin_refusals"] == app.stats().origin_refusals


@async_test()
async def test_stats_carry_backplane_and_protection_counters() -> None:
    async with rtcore.App() as app:
        stats = app.stats()
        assert stats.backplane_connected == 1  # the in-process backplane is always up
        assert stats.backplane_published == stats.backplane_dropped == stats.backplane_invalid == 0
        assert (stats.auth_failures, stats.forbidden, stats.idle_closes) == (0, 0, 0)


# ---- TLS ----------------------------------------------------------------------------


@pytest.fixture
def certificate(tmp_path: Path) -> Tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl CLI."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60)
    return cert, key


def test_wss_with_a_generated_certificate(certificate: Tuple[Path, Path]) -> None:
    cert, key = certificate

    @async_test()
    async def body() -> None:
        context = ssl.create_default_context(cafile=str(cert))
        async with rtcore.App(tls_cert=cert, tls_key=str(key)) as app:
            assert app.url.startswith("wss://127.0.0.1:")
            async with ws(app, "/ws/alice", ssl=context) as alice, ws(app, "/ws/bob", ssl=context) as bob:
                assert await acked(alice) and await acked(bob, 2)
                version = alice.transport.get_extra_info("ssl_object").version()
                assert version in ("TLSv1.2", "TLSv1.3")
                await send_json(alice, {"type": "room_message", "room": "r", "content": {"n": 1}})
                for client in (alice, bob):
                    msg = await recv_json(client)
                    assert msg["type"] == "message" and msg["content"] == {"n": 1}
            # A TLS 1.1 client is refused by the server (SECLEVEL=0 lets this
            # client offer TLS 1.1 at all; the answer is the server's alert).
            old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            old.load_verify_locations(str(cert))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                try:
                    old.set_ciphers("DEFAULT:@SECLEVEL=0")
                    old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
                except (ValueError, ssl.SSLError):
                    old = None  # this Python's OpenSSL cannot offer TLS 1.1 at all
            if old is not None:
                with pytest.raises(ssl.SSLError, match="(?i)protocol.version"):
                    async with ws(app, "/ws/carol", ssl=old):
                        pass
            # Plain ws:// to the TLS port does not get a WebSocket.
            with pytest.raises(Exception):
                async with connect(app.url.replace("wss://", "ws://") + "/ws/dave", open_timeout=3):
                    pass

    body()


def test_jwt_over_wss(certificate: Tuple[Path, Path], caplog: pytest.LogCaptureFixture) -> None:
    cert, key = certificate

    @async_test()
    async def body() -> None:
        context = ssl.create_default_context(cafile=str(cert))
        with caplog.at_level(logging.DEBUG, logger="rtcore"):
            async with rtcore.App(tls_cert=cert, tls_key=key, auth="jwt-hs256", jwt_secret=SECRET) as app:
                async with ws(app, f"/ws/alice?token={token('alice')}", ssl=context) as client:
                    assert await acked(client)
                assert await http_status_of(app, f"/ws/alice?token={token('alice', 'x')}", ssl=context) == 401
        assert all(SECRET not in r.getMessage() for r in caplog.records)

    body()


def test_a_file_that_is_not_a_certificate_fails_to_listen_with_a_hint(tmp_path: Path,
                                                                       certificate: Tuple[Path, Path]) -> None:
    _, key = certificate
    bad = tmp_path / "not-a-cert.pem"
    bad.write_text("garbage\n")

    async def start() -> None:
        async with rtcore.App(tls_cert=bad, tls_key=key):
            pass

    with pytest.raises(rtcore.ListenError, match="is tls_cert a PEM certificate"):
        asyncio.run(start())
