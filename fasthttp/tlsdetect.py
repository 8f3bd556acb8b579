"""TLS listeners that look before they handshake: a TLS ClientHello starts the handshake, plain HTTP
gets a plaintext 400 that says to use https (as nginx answers it), instead of a failed handshake.

Strategy
--------
A :class:`TlsListener` accepts connections itself (the event loop's reader on the listening
socket) and, before any transport owns a connection, peeks at its first bytes (``MSG_PEEK``:
nothing is consumed) within ``header_timeout``; :func:`fasthttp.listeners.sniff_tls` tells them
apart. Peeking before a transport exists is what makes this work on every loop: uvloop may read
a new connection's first bytes before its protocol could pause it.

- TLS: ``loop.connect_accepted_socket(factory, sock, ssl=context)`` makes the TLS transport and
  the HTTP protocol, exactly what ``loop.create_server(ssl=...)`` would have made (the handshake
  reads the peeked bytes itself; ``ssl_handshake_timeout = header_timeout``).
- Plain HTTP: :class:`PlainOnTlsPort` writes the 400, shuts its write side (half-close) and
  discards input until the client closes or ``linger_timeout`` passes, so the answer is not
  destroyed by a reset (RFC 9112 §9.6).

PERF: one peek and one reader registration per connection, beside a TLS handshake; plain
listeners never come here.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import ssl
from collections.abc import Callable
from typing import Any

from .connections import ConnectionManager
from .listeners import plain_http_on_tls_port, sniff_tls

__all__ = ("TlsListener", "PlainOnTlsPort")

log = logging.getLogger("fasthttp.server")
error_log = logging.getLogger("fasthttp.error")

_ACCEPTS = 64  # connections accepted per readable event


class PlainOnTlsPort(asyncio.Protocol):
    """The answer to plain HTTP on a TLS port (see the module docstring)."""

    def __init__(self, manager: ConnectionManager) -> None:
        self._manager = manager
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:  # an asyncio.Transport
        log.info("plain HTTP from %s on a TLS port: answered 400", transport.get_extra_info("peername"))
        transport.write(plain_http_on_tls_port(self._manager.config.server_header))
        if transport.can_write_eof():
            transport.write_eof()
        self._timer = self._manager.loop.call_later(self._manager.config.linger_timeout, transport.close)

    def data_received(self, data: bytes) -> None:
        pass  # discarded: the request is not served

    def eof_received(self) -> bool | None:
        return None  # close

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class TlsListener:
    """A listening socket whose connections are sniffed, then handed to *factory* over TLS
    (*context*), or answered by :class:`PlainOnTlsPort`. ``close()`` stops accepting."""

    def __init__(
        self,
        manager: ConnectionManager,
        sock: socket.socket,
        context: ssl.SSLContext,
        factory: Callable[[], asyncio.Protocol],
        backlog: int,
    ) -> None:
        self._manager = manager
        self._loop = manager.loop
        self._sock = sock
        self._context = context
        self._factory = factory
        self._pending: dict[socket.socket, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        sock.listen(backlog)
        sock.setblocking(False)
        self._loop.add_reader(sock.fileno(), self._accept)

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return (self._sock,)

    def close(self) -> None:
        """Stop accepting and close the listening socket (as an asyncio server does);
        connections still being sniffed are closed."""
        if self._closed:
            return
        self._closed = True
        if self._sock.fileno() >= 0:
            self._loop.remove_reader(self._sock.fileno())
            self._sock.close()
        for conn in list(self._pending):
            self._release(conn)
            conn.close()

    def _accept(self) -> None:
        for _ in range(_ACCEPTS):
            try:
                conn, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM, errno.ECONNABORTED):
                    error_log.error("cannot accept a connection: %s", exc)
                    return
                raise
            conn.setblocking(False)
            self._pending[conn] = self._loop.call_later(self._manager.config.header_timeout, self._expired, conn)
            self._loop.add_reader(conn.fileno(), self._peek, conn)

    def _peek(self, conn: socket.socket) -> None:
        try:
            first = conn.recv(8, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            first = b""
        if not first:  # closed (or reset) before a byte: nothing to answer
            self._release(conn)
            conn.close()
            return
        verdict = sniff_tls(first)
        self._release(conn)
        if verdict:
            coro = self._loop.connect_accepted_socket(
                self._factory, conn, ssl=self._context, ssl_handshake_timeout=self._manager.config.header_timeout
            )
        else:
            coro = self._loop.connect_accepted_socket(lambda: PlainOnTlsPort(self._manager), conn)
        task = self._loop.create_task(self._connect(coro, conn))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect(self, coro: Any, conn: socket.socket) -> None:
        try:
            await coro
        except Exception as exc:  # a failed or late handshake: the transport is closed
            log.debug("TLS handshake failed: %s", exc)
            conn.close()

    def _release(self, conn: socket.socket) -> None:
        timer = self._pending.pop(conn, None)
        if timer is not None:
            timer.cancel()
        if conn.fileno() >= 0:
            self._loop.remove_reader(conn.fileno())

    def _expired(self, conn: socket.socket) -> None:
        if conn in self._pending:
            log.info("no first bytes in time on a TLS connection: closed")
            self._release(conn)
            conn.close()
