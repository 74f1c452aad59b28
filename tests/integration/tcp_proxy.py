"""A small real TCP proxy for fault tests: forwards 127.0.0.1:port to an
upstream address, and can turn every connection open at that moment into a
blackhole (nothing forwarded either way, nothing closed) while new
connections are forwarded normally."""

import socket
import threading

from redis_support import free_port


class _Pair:
    def __init__(self, client, upstream):
        self.client = client
        self.upstream = upstream
        self.silent = False  # once set, bytes read are dropped, sockets stay open

    def close(self):
        for s in (self.client, self.upstream):
            try:
                s.shutdown(socket.SHUT_RDWR)  # wakes a pump blocked in recv
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass


class TcpProxy:
    def __init__(self, upstream_port, upstream_host="127.0.0.1"):
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port), backlog=64)
        self._listener.settimeout(0.2)
        self._lock = threading.Lock()
        self._pairs = []
        self._stopped = False
        self.accepted = 0
        threading.Thread(target=self._accept_loop, name="tcp-proxy-accept", daemon=True).start()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def _accept_loop(self):
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=2)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            pair = _Pair(client, upstream)
            with self._lock:
                if self._stopped:
                    pair.close()
                    return
                self._pairs.append(pair)
                self.accepted += 1
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(pair, src, dst), name="tcp-proxy-pump",
                                 daemon=True).start()

    def _pump(self, pair, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if pair.silent:
                    continue  # a blackhole: swallowed, no FIN, no RST
                dst.sendall(data)
        except OSError:
            pass
        if not pair.silent:  # an honest close travels on; a silenced pair stays open
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def blackhole_existing(self):
        """Every connection open now stops forwarding in both directions
        without being closed. Returns how many were silenced."""
        with self._lock:
            live = [p for p in self._pairs if not p.silent]
            for p in live:
                p.silent = True
            return len(live)

    def connections(self):
        with self._lock:
            return len(self._pairs)

    def stop(self):
        with self._lock:
            self._stopped = True
            pairs, self._pairs = self._pairs, []
        try:
            self._listener.close()
        except OSError:
            pass
        for p in pairs:
            p.close()
