"""Fixtures: a fresh rtcore-server per test (RTCORE_SERVER names the binary,
default /work/main/build/rtcore-server), always stopped at teardown."""

import os
import sys

import pytest

# This directory first, so that `support` is always this suite's helper module.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import SERVER_PATH, Server, server_available  # noqa: E402


@pytest.fixture
def start_server():
    """start_server(*flags, binary=None) -> Server (binary: another host
    program taking --host/--port); every server is stopped at teardown
    (SIGTERM, SIGKILL after 3 s) and its stderr tail printed, so that it
    shows up in the report of a failing test."""
    if not server_available():
        pytest.skip(f"rtcore-server not built: {SERVER_PATH} (set RTCORE_SERVER)")
    servers = []

    def start(*flags, binary=None):
        server = Server(*flags, binary=binary)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
        tail = server.stderr_text()
        if tail:
            print(f"--- stderr of {' '.join(server.args)} ---\n{tail}")


@pytest.fixture
def server(start_server):
    """A server with the default settings."""
    return start_server()


@pytest.fixture
def redis_server():
    """A real redis-server on a free loopback port, stopped at teardown."""
    from redis_support import RedisServer

    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
def start_node(redis_server, start_server):
    """start_node(node_id, *flags) -> an rtcore-server on the test's Redis."""

    def start(node_id, *flags):
        return start_server("--redis", redis_server.url, "--node-id", node_id, *flags)

    return start
