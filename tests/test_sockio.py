"""Tests for fasthttp.sockio (both twins through ``impl``): socket I/O on a borrowed descriptor.

Every test runs on real sockets (socket pairs, loopback TCP), each bounded in time by a socket
timeout; none measures time.
"""

from __future__ import annotations

import errno
import inspect
import os
import select
import socket
import struct
import threading

import pytest


def test_twins_have_the_same_public_api(py_impl, c_impl):
    assert py_impl.sockio.__all__ == c_impl.sockio.__all__ == ("send_more", "send_now", "send_and_shutdown", "bound_backlog")
    for name in py_impl.sockio.__all__:
        py_sig = inspect.signature(getattr(py_impl.sockio, name))
        assert list(py_sig.parameters) == list(inspect.signature(getattr(c_impl.sockio, name)).parameters)


def test_the_facade_serves_the_twin_in_use():
    import fasthttp.sockio
    from fasthttp._compat import kernel_implementations

    twin = kernel_implementations()["sockio"]
    module = "fasthttp._speedups.sockio" if twin == "c" else "fasthttp._pure.sockio"
    assert fasthttp.sockio.send_more.__module__ == module


# --- send_and_shutdown: the closing response and the FIN on a borrowed descriptor ---------------------


def _stream_pair() -> tuple[socket.socket, socket.socket]:
    a, b = socket.socketpair()
    for s in (a, b):
        s.settimeout(10)  # bounded: a broken kernel fails the test instead of hanging it
    return a, b


def test_send_and_shutdown_sends_all_then_ends_the_output(impl):
    ours, peer = _stream_pair()
    try:
        assert impl.sockio.send_and_shutdown(ours.fileno(), b"HTTP/1.1 200 OK\r\n\r\n") == 19
        assert peer.recv(100) == b"HTTP/1.1 200 OK\r\n\r\n"
        assert peer.recv(100) == b""  # EOF: shut for writing
        assert ours.fileno() >= 0  # borrowed: still open
        peer.sendall(b"half-close")  # our side still reads
        assert ours.recv(100) == b"half-close"
    finally:
        ours.close()
        peer.close()


def test_send_and_shutdown_of_nothing_only_ends_the_output(impl):
    ours, peer = _stream_pair()
    try:
        assert impl.sockio.send_and_shutdown(ours.fileno(), b"") == 0
        assert peer.recv(100) == b""
    finally:
        ours.close()
        peer.close()


def test_send_and_shutdown_on_a_tcp_socket_sends_the_fin_after_the_bytes(impl):
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname(), timeout=10)
    ours, _ = listener.accept()
    try:
        ours.setblocking(False)
        assert impl.sockio.send_and_shutdown(ours.fileno(), b"x" * 5000) == 5000
        got = bytearray()
        while chunk := client.recv(65536):
            got += chunk
        assert bytes(got) == b"x" * 5000  # then EOF
    finally:
        for s in (ours, client, listener):
            s.close()


def test_send_and_shutdown_of_more_than_fits_returns_the_count_and_keeps_the_output_open(impl):
    ours, peer = _stream_pair()
    try:
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        ours.setblocking(False)
        data = bytes(range(256)) * 4096  # 1 MiB: more than both buffers hold
        n = impl.sockio.send_and_shutdown(ours.fileno(), data)
        assert 0 < n < len(data)
        # Full now: nothing more goes, and 0 (not an error) says so.
        assert impl.sockio.send_and_shutdown(ours.fileno(), data[n:]) == 0
        got = bytearray()
        while len(got) < n:
            got += peer.recv(65536)
        assert bytes(got) == data[:n]
        peer.setblocking(False)
        with pytest.raises(BlockingIOError):
            peer.recv(100)  # no EOF: the output was not shut
    finally:
        ours.close()
        peer.close()


# --- send_more: a send with MSG_MORE ------------------------------------------------------------------


def test_send_more_sends_the_bytes_and_returns_the_count(impl):
    ours, peer = _stream_pair()
    try:
        assert impl.sockio.send_more(ours.fileno(), b"HTTP/1.1 200 OK\r\n\r\n") == 19
        ours.sendall(b"body")  # what follows goes after it, in order
        got = bytearray()
        while len(got) < 23:
            got += peer.recv(100)
        assert bytes(got) == b"HTTP/1.1 200 OK\r\n\r\nbody"
        assert ours.fileno() >= 0  # borrowed: still open
    finally:
        ours.close()
        peer.close()


def test_send_more_on_tcp_then_sendfile_delivers_head_and_file_in_order(impl, tmp_path):
    # The file-response pattern (protocol._send_file_head): the head held by MSG_MORE, the body
    # by sendfile; the client reads both, in order.
    path = tmp_path / "body"
    body = bytes(range(256)) * 64
    path.write_bytes(body)
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname(), timeout=10)
    ours, _ = listener.accept()
    f = os.open(path, os.O_RDONLY)
    try:
        assert impl.sockio.send_more(ours.fileno(), b"head:") == 5
        assert os.sendfile(ours.fileno(), f, 0, len(body)) == len(body)
        ours.shutdown(socket.SHUT_WR)
        got = bytearray()
        while chunk := client.recv(65536):
            got += chunk
        assert bytes(got) == b"head:" + body
    finally:
        os.close(f)
        for s in (ours, client, listener):
            s.close()


# --- send_now: a whole response, now, without blocking ------------------------------------------------


def test_send_now_sends_the_bytes_and_returns_the_count(impl):
    ours, peer = _stream_pair()
    try:
        assert impl.sockio.send_now(ours.fileno(), b"HTTP/1.1 200 OK\r\n\r\n") == 19
        assert peer.recv(100) == b"HTTP/1.1 200 OK\r\n\r\n"
        assert ours.fileno() >= 0  # borrowed: still open
    finally:
        ours.close()
        peer.close()


def test_send_now_on_tcp_delivers_in_order_what_each_call_took(impl):
    # The core's use: send what the socket takes, the rest later; the client reads every byte
    # once, in order.
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname(), timeout=10)
    ours, _ = listener.accept()
    try:
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        ours.setblocking(False)
        data = bytes(range(256)) * 2048  # 512 KiB
        sent = impl.sockio.send_now(ours.fileno(), data)
        assert 0 < sent < len(data)  # the socket filled up before the client read anything
        got = bytearray()

        def read_all() -> None:
            while chunk := client.recv(65536):
                got.extend(chunk)

        reader = threading.Thread(target=read_all)
        reader.start()  # the client reads late: from now on
        while sent < len(data):
            n = impl.sockio.send_now(ours.fileno(), data[sent:])
            if not n:
                assert select.select([], [ours], [], 10)[1], "the socket never drained"
            sent += n
        ours.shutdown(socket.SHUT_WR)
        reader.join(10)
        assert bytes(got) == data
    finally:
        for s in (ours, client, listener):
            s.close()


def test_send_now_to_a_peer_that_reset_raises_oserror(impl):
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname(), timeout=10)
    ours, _ = listener.accept()
    try:
        # SO_LINGER 0: the client's close is a reset (RST), not a FIN.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        ours.settimeout(10)
        with pytest.raises(ConnectionResetError):
            ours.recv(100)  # the RST has arrived
        with pytest.raises(OSError) as info:
            impl.sockio.send_now(ours.fileno(), b"nobody reads this")
        assert info.value.errno in (errno.EPIPE, errno.ECONNRESET)
    finally:
        ours.close()
        listener.close()


# --- the senders: errors and types ------------------------------------------------------------------

_SENDERS = pytest.mark.parametrize("sender", ["send_and_shutdown", "send_more", "send_now"])


@pytest.mark.parametrize("sender", ["send_more", "send_now"])
def test_a_send_of_nothing_sends_nothing(impl, sender):
    ours, peer = _stream_pair()
    try:
        assert getattr(impl.sockio, sender)(ours.fileno(), b"") == 0
        peer.setblocking(False)
        with pytest.raises(BlockingIOError):
            peer.recv(100)
    finally:
        ours.close()
        peer.close()


@pytest.mark.parametrize("sender, blocking", [("send_more", False), ("send_now", False), ("send_now", True)])
def test_a_send_of_more_than_fits_returns_the_count_then_zero(impl, sender, blocking):
    # send_now never blocks (MSG_DONTWAIT), even on a blocking descriptor: a send without the
    # flag would wait there for the peer to read (and time out).
    send = getattr(impl.sockio, sender)
    ours, peer = _stream_pair()
    try:
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        ours.settimeout(None if blocking else 0)
        data = bytes(range(256)) * 4096  # 1 MiB: more than both buffers hold
        n = send(ours.fileno(), data)
        assert 0 < n < len(data)
        assert send(ours.fileno(), data[n:]) == 0  # full: 0, not an error
        got = bytearray()
        while len(got) < n:
            got += peer.recv(65536)
        assert bytes(got) == data[:n]  # what went is the start of the data, nothing twice
    finally:
        ours.close()
        peer.close()


@_SENDERS
def test_a_send_to_a_peer_that_is_gone_raises_oserror(impl, sender):
    ours, peer = _stream_pair()
    peer.close()
    try:
        with pytest.raises(OSError) as info:
            getattr(impl.sockio, sender)(ours.fileno(), b"nobody reads this")
        assert info.value.errno == errno.EPIPE
    finally:
        ours.close()


@_SENDERS
def test_a_send_on_a_bad_descriptor_raises_oserror(impl, sender):
    r, w = os.pipe()
    os.close(r)
    os.close(w)
    with pytest.raises(OSError):
        getattr(impl.sockio, sender)(w, b"data")


@_SENDERS
@pytest.mark.parametrize("data", ["text", bytearray(b"data"), memoryview(b"data"), None])
def test_a_send_takes_bytes_only(impl, sender, data):
    ours, peer = _stream_pair()
    try:
        with pytest.raises(TypeError):
            getattr(impl.sockio, sender)(ours.fileno(), data)
    finally:
        ours.close()
        peer.close()


# --- bound_backlog: TCP_NOTSENT_LOWAT ----------------------------------------------------------------


@pytest.mark.skipif(not hasattr(socket, "TCP_NOTSENT_LOWAT"), reason="TCP_NOTSENT_LOWAT is Linux/macOS")
def test_bound_backlog_sets_the_option_on_a_tcp_socket(impl):
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname(), timeout=10)
    ours, _ = listener.accept()
    try:
        assert impl.sockio.bound_backlog(ours.fileno(), 65536) is True
        assert ours.getsockopt(socket.IPPROTO_TCP, socket.TCP_NOTSENT_LOWAT) == 65536
        assert impl.sockio.bound_backlog(ours.fileno(), 16384) is True
        assert ours.getsockopt(socket.IPPROTO_TCP, socket.TCP_NOTSENT_LOWAT) == 16384
    finally:
        for s in (ours, client, listener):
            s.close()


def test_bound_backlog_on_an_af_unix_socket_changes_nothing(impl):
    ours, peer = _stream_pair()
    try:
        assert impl.sockio.bound_backlog(ours.fileno(), 65536) is False
        ours.sendall(b"still works")
        assert peer.recv(100) == b"still works"
    finally:
        ours.close()
        peer.close()


def test_bound_backlog_on_a_bad_descriptor_is_false(impl):
    r, w = os.pipe()
    os.close(r)
    os.close(w)
    assert impl.sockio.bound_backlog(w, 65536) is False
