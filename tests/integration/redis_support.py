"""A real redis-server for the multi-node tests: started on a free loopback
port, killed and restarted on the same port, always stopped at teardown."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import redis

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="rtcore-redis-")
        self.proc = None
        self.start()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def start(self):
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return
            except redis.exceptions.ConnectionError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def kill(self):
        """SIGKILL: Redis vanishes without closing anything gracefully."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(5)

    def pause(self):
        """SIGSTOP: Redis keeps its sockets open and answers nothing."""
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # a paused server must see SIGTERM
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)

    def client(self, decode_responses=True):
        """decode_responses=False for a client that publishes raw bytes."""
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2,
                           decode_responses=decode_responses)


class PresenceWatcher:
    """Collects the presence JSON published on {prefix}presence, the way a
    consumer outside rtcore would see it."""

    def __init__(self, server, prefix="rtcore:"):
        self.pubsub = server.client().pubsub()
        self.pubsub.subscribe(prefix + "presence")
        self.events = []
        self._drain(1.0, stop_on_subscribe=True)

    def _drain(self, seconds, stop_on_subscribe=False):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            msg = self.pubsub.get_message(timeout=0.05)
            if msg is None:
                continue
            if msg["type"] == "subscribe" and stop_on_subscribe:
                return
            if msg["type"] == "message":
                import json
                self.events.append(json.loads(msg["data"]))

    def wait_for(self, user, status, timeout=5.0):
        """Seconds until (user, status) was seen, or raise."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if any(e["user_id"] == user and e["status"] == status for e in self.events):
                return time.monotonic() - start
            self._drain(0.05)
        raise AssertionError(f"no {status} for {user} within {timeout}s; saw {self.events}")

    def collect(self, seconds):
        self._drain(seconds)
        return list(self.events)

    def close(self):
        self.pubsub.close()
