"""Keepalive (docs/protocol.md section 5): any frame from the client is a
sign of life; pings go only to connections silent for --ping-interval, and a
connection silent for --ping-interval + --ping-timeout is dropped. A raw
socket client here never answers pings, so only its own frames keep it."""

import json
import os
import socket
import struct
import time

from support import raw_upgrade


def masked_text(obj):
    """One masked client text frame carrying obj as JSON."""
    payload = json.dumps(obj).encode()
    key = os.urandom(4)
    assert len(payload) < 126
    return bytes([0x81, 0x80 | len(payload)]) + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def read_frames(sock, buf, until):
    """Server frames read until the deadline or EOF: ([(opcode, payload)], eof)."""
    frames = []
    while True:
        while len(buf) >= 2 and len(buf) >= 2 + (buf[1] & 0x7F) and (buf[1] & 0x7F) < 126:
            n = buf[1] & 0x7F
            frames.append((buf[0] & 0x0F, buf[2 : 2 + n]))
            buf = buf[2 + n :]
        if len(buf) >= 4 and (buf[1] & 0x7F) == 126:
            n = struct.unpack("!H", buf[2:4])[0]
            if len(buf) >= 4 + n:
                frames.append((buf[0] & 0x0F, buf[4 : 4 + n]))
                buf = buf[4 + n :]
                continue
        left = until - time.monotonic()
        if left <= 0:
            return frames, False, buf
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return frames, False, buf
        except ConnectionResetError:
            return frames, True, buf
        if not chunk:
            return frames, True, buf
        buf += chunk


def test_a_client_that_keeps_sending_is_not_dropped_for_ignoring_pings(start_server):
    server = start_server("--ping-interval", "1", "--ping-timeout", "1")
    sock, rest = raw_upgrade(server.port, "chatty")
    try:
        deadline = time.monotonic() + 4.5  # more than twice interval + timeout
        acks, buf, n = 0, rest, 0
        while time.monotonic() < deadline:
            n += 1
            sock.sendall(masked_text({"type": "join_room", "room": f"r{n % 3}", "id": f"j{n}"}))
            frames, eof, buf = read_frames(sock, buf, time.monotonic() + 0.5)
            assert not eof, f"dropped after {n} messages although it kept sending"
            assert not any(op == 0x8 for op, _ in frames), frames
            acks += sum(1 for op, p in frames if op == 0x1 and b'"ack"' in p)
        assert acks == n
    finally:
        sock.close()


def test_pings_carry_a_payload_and_go_only_to_silent_connections(start_server):
    server = start_server("--ping-interval", "1", "--ping-timeout", "2")
    sock, rest = raw_upgrade(server.port, "quiet")
    try:
        # Silent: a ping within interval + one sweep period, with a payload
        # (the pong echoes it; lws reports only pongs that carry one).
        frames, eof, buf = read_frames(sock, rest, time.monotonic() + 1.8)
        pings = [p for op, p in frames if op == 0x9]
        assert not eof and pings, frames
        assert all(len(p) > 0 for p in pings)
        # Answer with a pong echoing the payload: the connection is alive
        # again, and is not dropped at interval + timeout.
        key = os.urandom(4)
        p = pings[-1]
        sock.sendall(bytes([0x8A, 0x80 | len(p)]) + key + bytes(b ^ key[i % 4] for i, b in enumerate(p)))
        frames, eof, buf = read_frames(sock, buf, time.monotonic() + 2.2)
        assert not eof, "dropped although it answered the ping"
    finally:
        sock.close()
