"""Socket I/O on a borrowed descriptor: the pure-Python twin, and the executable specification.

Strategy: the engine's transports own their sockets; these few calls act on the descriptor itself
(``transport.get_extra_info("socket").fileno()``) where the transport has no call of its own: a
send with ``MSG_MORE`` (the kernel holds the bytes for the next ones to share their segment), a
send of a whole response now (the connection core's write, without the transport's layers), the
closing response with its FIN, and the bound on a socket's unsent backlog. The descriptor is
borrowed: never closed here. This twin wraps it in a ``_socket.socket`` for each call (used at
once and detached); the compiled twin, ``fasthttp/_speedups/sockio.pyx``, calls the kernel
directly (PERF: CPython validates a descriptor it wraps with one more system call, ``getsockname``,
and the wrapper and its ``detach`` cost microseconds per call).

Errors, in both twins: a full socket is not an error (the count sent says so); any other failure
of a send or a shutdown (the peer is gone, a bad descriptor) raises ``OSError``.
"""

from __future__ import annotations

import _socket
import socket

__all__ = ("send_more", "send_now", "send_and_shutdown", "bound_backlog")

_MSG_MORE: int = getattr(socket, "MSG_MORE", 0)
_MSG_DONTWAIT: int = getattr(socket, "MSG_DONTWAIT", 0)
_NOTSENT_LOWAT: int | None = getattr(socket, "TCP_NOTSENT_LOWAT", None)


def _borrow(fd: int) -> _socket.socket:
    # A wrapper of the descriptor, used at once and detached (never closes it); only send,
    # shutdown and setsockopt are called, so its family is not consulted (TCP or AF_UNIX alike).
    # PERF: the C type itself, not socket.socket (whose Python __init__ adds ~0.5 µs, a fifth
    # of a wrapped send: the pure core's send_now per response).
    return _socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0, fd)


def _send(fd: int, data: bytes, flags: int) -> int:
    # One send with *flags*: the count sent, 0 when the socket is full (not an error). Python's
    # send retries EINTR, and ignores SIGPIPE (a peer gone raises EPIPE: the compiled twin's
    # MSG_NOSIGNAL, for a host that does not).
    if type(data) is not bytes:
        raise TypeError(f"data must be bytes, not {type(data).__name__}")
    if not data:
        return 0
    out = _borrow(fd)
    try:
        return out.send(data, flags)
    except BlockingIOError:  # full
        return 0
    finally:
        out.detach()


def send_more(fd: int, data: bytes) -> int:
    """Send *data* on the non-blocking stream socket *fd* with ``MSG_MORE``: the kernel holds a
    short piece for the bytes that follow to share its segment (``protocol``'s file head before
    ``sendfile``). Returns how many bytes went: fewer than ``len(data)`` (0 when the socket's
    buffer is full) leaves the rest to the caller. Any other error raises ``OSError``."""
    return _send(fd, data, _MSG_MORE)


def send_now(fd: int, data: bytes) -> int:
    """Send *data* on the stream socket *fd* now: without blocking (``MSG_DONTWAIT``, whatever
    the descriptor's mode) and without ``MSG_MORE`` (nothing follows soon: the connection core's
    whole response). Returns how many bytes went: fewer than ``len(data)`` (0 when the socket's
    buffer is full) leaves the rest to the caller. Any other error (the peer is gone: ``EPIPE``,
    ``ECONNRESET``) raises ``OSError``. *fd* is borrowed: never closed."""
    return _send(fd, data, _MSG_DONTWAIT)


def send_and_shutdown(fd: int, data: bytes) -> int:
    """Send *data*, the last bytes of a connection, on the non-blocking stream socket *fd*
    with ``MSG_MORE``, and when all of it went, end the output (``shutdown(SHUT_WR)``): the
    FIN rides on the response's segment (RFC 9112 §9.6, ``listeners.send_and_shut``). Returns
    how many bytes went: ``len(data)`` when the FIN went too; fewer (0 when the socket's buffer
    is full) and no shutdown otherwise, the rest is the caller's to write. Any other error
    (the peer is gone) raises ``OSError``. *fd* is borrowed: never closed."""
    if type(data) is not bytes:
        raise TypeError(f"data must be bytes, not {type(data).__name__}")
    out = _borrow(fd)
    try:
        n = 0
        if data:
            try:
                n = out.send(data, _MSG_MORE)
            except BlockingIOError:  # full (rare: nothing is queued)
                return 0
            if n < len(data):
                return n
        out.shutdown(socket.SHUT_WR)
        return n
    finally:
        out.detach()


def bound_backlog(fd: int, lowat: int) -> bool:
    """Set ``TCP_NOTSENT_LOWAT`` to *lowat* bytes on the TCP socket *fd*: the kernel then takes
    no more once that much waits unsent, and reports the socket writable below it (the policy
    is ``protocol``'s, ``Config.sendfile_lowat``). Returns whether it was set: False where the
    option does not apply (an AF_UNIX socket, a kernel without it, a bad descriptor)."""
    if _NOTSENT_LOWAT is None:
        return False
    try:
        out = _borrow(fd)
    except OSError:  # not an open socket
        return False
    try:
        out.setsockopt(socket.IPPROTO_TCP, _NOTSENT_LOWAT, lowat)
    except OSError:
        return False
    finally:
        out.detach()
    return True
