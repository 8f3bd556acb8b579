"""Memory: the worker's RSS idle, and its growth per idle keep-alive connection.

Method: after the server has answered a few requests (its lazy imports and caches are paid),
read every process's VmRSS; open N connections in batches, send one GET /plaintext on each and
read the answer, so every connection has been through a request and holds whatever per-connection
state the server keeps; wait ``SETTLE_S`` and read VmRSS again. The worker is the process that
then holds the most sockets (``procstat.busiest``), never a supervisor. Per connection =
(RSS with connections - RSS idle) / connections still open at the second reading: each socket is
probed with a non-blocking peek, so a server that closed idle connections early is not credited
for memory it freed by dropping them.

Bounded: the whole measurement stops at its deadline; every socket is closed before returning.
"""

from __future__ import annotations

import selectors
import socket
import time
from dataclasses import asdict, dataclass

from . import procstat
from .httpcheck import ResponseReader

__all__ = ("MemoryResult", "measure")

SETTLE_S = 1.0
BATCH = 200


@dataclass
class MemoryResult:
    connections: int = 0  # requested
    open_connections: int = 0  # still open at the second reading
    worker_pid: int | None = None
    processes: int = 0
    idle_rss_kib: int | None = None
    loaded_rss_kib: int | None = None
    per_connection_kib: float | None = None
    tree_idle_rss_kib: int | None = None
    failure: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _request(host: str, port: int) -> bytes:
    return f"GET /plaintext HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()


def _open_batch(host: str, port: int, count: int, deadline: float) -> tuple[list[socket.socket], str | None]:
    """Open *count* connections, one request each, and wait for every answer."""
    payload = _request(host, port)
    sel = selectors.DefaultSelector()
    socks: list[socket.socket] = []
    readers: dict[socket.socket, ResponseReader] = {}
    try:
        for _ in range(count):
            sock = socket.create_connection((host, port), timeout=max(0.1, deadline - time.monotonic()))
            sock.setblocking(False)
            socks.append(sock)
            sock.send(payload)
            readers[sock] = ResponseReader()
            readers[sock].expect()
            sel.register(sock, selectors.EVENT_READ)
        waiting = set(socks)
        while waiting:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return socks, f"{len(waiting)} connections got no answer before the deadline"
            for key, _ in sel.select(timeout=min(remaining, 1.0)):
                sock = key.fileobj
                data = sock.recv(65536)
                if not data:
                    sel.unregister(sock)
                    waiting.discard(sock)
                    continue
                reader = readers[sock]
                reader.feed(data)
                if reader.responses:
                    sel.unregister(sock)
                    waiting.discard(sock)
                    if reader.responses[0].status != 200:
                        return socks, f"idle-connection request answered {reader.responses[0].status}"
        return socks, None
    except OSError as exc:
        return socks, f"opening connection {len(socks) + 1}: {exc}"
    finally:
        sel.close()


def _still_open(sock: socket.socket) -> bool:
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def measure(server, host: str, connections: int, timeout: float = 60.0) -> MemoryResult:
    """Measure *server* (a ``servers.ServerProcess``) with *connections* idle keep-alive connections."""
    result = MemoryResult(connections=connections)
    deadline = time.monotonic() + timeout
    pids = server.remember_tree()
    result.processes = len(pids)
    time.sleep(SETTLE_S)
    idle = {pid: procstat.rss_kib(pid) for pid in pids}
    result.tree_idle_rss_kib = sum(v for v in idle.values() if v)
    socks: list[socket.socket] = []
    try:
        while len(socks) < connections:
            batch, problem = _open_batch(host, server.port, min(BATCH, connections - len(socks)), deadline)
            socks += batch
            if problem:
                result.failure = problem
                break
        time.sleep(SETTLE_S)
        pids = server.remember_tree()
        worker = procstat.busiest(pids)
        result.worker_pid = worker
        result.open_connections = sum(_still_open(s) for s in socks)
        if worker is None:
            result.failure = result.failure or "server has no process left"
            return result
        result.idle_rss_kib = idle.get(worker)
        result.loaded_rss_kib = procstat.rss_kib(worker)
        if result.idle_rss_kib is None:
            # The worker was born after the idle reading: no idle figure for it.
            result.failure = result.failure or "worker process appeared after the idle reading"
        elif result.loaded_rss_kib is not None and result.open_connections:
            result.per_connection_kib = (result.loaded_rss_kib - result.idle_rss_kib) / result.open_connections
        if result.open_connections < 0.9 * connections and not result.failure:
            result.failure = f"only {result.open_connections}/{connections} connections stayed open"
        return result
    finally:
        for sock in socks:
            sock.close()
