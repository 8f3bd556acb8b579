"""Socket I/O on a borrowed descriptor: the compiled sockio kernel against its pure twin.

Each case runs once per twin (``impl`` = ``py`` / ``c``) in its own benchmark group. The cases
are the per-response calls of a zero-copy file response (``protocol._send_file_head``): the
head with ``MSG_MORE`` and the ``TCP_NOTSENT_LOWAT`` bound. Both twins make the same system call;
the difference is the pure twin's ``socket.socket`` wrapper (its ``getsockname`` validation and
``detach``). The peer drains what the benchmark sends, so the socket never fills.
Run: ``python -m pytest benchmarks/bench_sockio.py`` (timing), ``--benchmark-disable`` (CI).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1048576\r\n\r\n"


@pytest.fixture
def tcp_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname(), timeout=10)
    ours, _ = listener.accept()
    ours.setblocking(False)
    client.setblocking(False)
    try:
        yield ours, client
    finally:
        for s in (ours, client, listener):
            s.close()


def _drain(peer: socket.socket) -> None:
    try:
        while peer.recv(1 << 20):
            pass
    except BlockingIOError:
        pass


@pytest.mark.benchmark(group="sockio: send_more (a file head)")
def test_send_more(benchmark, impl, tcp_pair):
    ours, peer = tcp_pair
    fd = ours.fileno()
    send_more = impl.sockio.send_more

    def step() -> int:
        n = send_more(fd, HEAD)
        _drain(peer)
        return n

    assert benchmark(step) == len(HEAD)


@pytest.mark.benchmark(group="sockio: bound_backlog")
def test_bound_backlog(benchmark, impl, tcp_pair):
    ours, _ = tcp_pair
    if not hasattr(socket, "TCP_NOTSENT_LOWAT"):
        pytest.skip("TCP_NOTSENT_LOWAT is Linux/macOS")
    assert benchmark(impl.sockio.bound_backlog, ours.fileno(), 65536) is True
