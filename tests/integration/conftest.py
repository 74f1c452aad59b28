"""Fixtures: a fresh rtcore-server per test (RTCORE_SERVER names the binary,
default /work/main/build/rtcore-server), always stopped at teardown."""

import pytest

from support import SERVER_PATH, Server, server_available


@pytest.fixture
def start_server():
    """start_server(*flags) -> Server; every server is stopped at teardown
    (SIGTERM, SIGKILL after 3 s) and its stderr tail printed, so that it
    shows up in the report of a failing test."""
    if not server_available():
        pytest.skip(f"rtcore-server not built: {SERVER_PATH} (set RTCORE_SERVER)")
    servers = []

    def start(*flags):
        server = Server(*flags)
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
