"""The connections of one server on one event loop: admission, the coarse clock, the periodic
deadline sweep, and shutdown.

Strategy
--------
No timer is armed per request or per connection (PERF: the plaintext and pipelined runs of
``benchmarks/server``). Each connection keeps its deadlines as plain floats stamped from the
manager's coarse clock (:attr:`ConnectionManager.now` and the deadlines precomputed from it once
per sweep), and one periodic sweep per server, every quarter of the shortest configured deadline
(between 50 ms and 1 s), advances the clock and asks every connection to act on what has passed
(:meth:`ManagedConnection.check_deadlines`). The manager knows its connections only through that
small protocol; the HTTP connection itself is ``fasthttp.protocol.HttpProtocol``, made with
``HttpProtocol(manager)`` for each accepted transport.

The manager also holds what every connection of the server shares and would otherwise compute
per connection: the parser options, the ``503`` refusal bytes, the async-handler mode.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .config import async_mode
from .forwarded import ProxyTrust
from .parser import RequestParser
from .responses import JSON_FIELDS, TEXT_FIELDS, error_bytes

if TYPE_CHECKING:
    from .config import Config
    from .requests import Request

__all__ = ("ConnectionManager", "ManagedConnection", "error_bytes")

error_log = logging.getLogger("fasthttp.error")
_server_log = logging.getLogger("fasthttp.server")

#: ``(request, status, body_bytes, connection)``, called once per response (see ``fasthttp.accesslog``).
AccessLogger = Callable[[Any, int, int, Any], None]


@runtime_checkable
class ManagedConnection(Protocol):
    """What the manager needs from each of its connections.

    A protocol that takes a connection over (``fasthttp.responses.Upgrade``) and implements this
    stays one of the manager's connections (:meth:`ConnectionManager.hand_over`): it still
    counts against ``max_connections``, is swept and is shut down gracefully (the websocket
    connection of ``fasthttp.websocket`` does so).
    """

    def check_deadlines(self, now: float) -> None:
        """Act on every deadline that has passed at *now* (the sweep's clock)."""
        ...

    def start_shutdown(self) -> None:
        """Graceful shutdown: finish what is in flight, close when idle."""
        ...

    def abort(self) -> None:
        """Drop the connection now (its running handler or sender is cancelled)."""
        ...


class ConnectionManager:
    """The connections of one server on one event loop: limits, deadlines, shutdown.

    *handler* is called with each :class:`~fasthttp.requests.Request` and returns a response (see
    ``fasthttp.responses``) or a coroutine resolving to one. *config* is a
    :class:`fasthttp.config.Config`. *access_log* is None (off) or a callable
    ``(request, status, body_bytes, connection)``. *on_connect* is None or a callable
    ``(transport, session) -> bool`` run for each new connection; False refuses it.

    One periodic sweep (every quarter of the shortest deadline, between 50 ms and 1 s) updates
    the coarse clock ``now`` the connections stamp their deadlines with and acts on every
    deadline that has passed. PERF: no timer is created or cancelled per request.
    """

    # PERF: slots, so the connection core's reads of the manager per connection (admission,
    # the deadlines) are member reads, not instance-dict look-ups (about 1k instructions per
    # connection: benchmarks/bench_connection.py test_new_connection). A new attribute is
    # declared here too.
    __slots__ = ('_flushers', '_timer', 'access_log', 'answer_fields', 'async_mode', 'body_deadline', 'busy_response', 'closed', 'closing', 'config', 'connection_settings', 'connections', 'deadlines', 'fast_routes', 'handler', 'head_deadline', 'idle_deadline', 'interval', 'log_connections', 'loop', 'max_connections', 'new_parser', 'now', 'on_connect', 'parser_options', 'proxy_trust', 'sendfile', 'tls_upgrade', 'upgraded', 'uvloop', 'websockets', 'websockets_total')

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        handler: Callable[[Request], Any],
        config: Config,
        *,
        access_log: AccessLogger | None = None,
        on_connect: Callable[[asyncio.BaseTransport, dict[str, Any]], bool] | None = None,
    ) -> None:
        self.loop = loop
        self.handler = handler
        #: The fields the engine writes with a handler's ``str`` answer, and with its ``dict`` or
        #: ``list`` answer: the handler's ``answer_fields`` when it has them (the App's, when its
        #: middleware add constant fields to every such answer of the requests it answers
        #: directly: ``fasthttp.middleware.stack.QuietForm``), else the Content-Type alone.
        self.answer_fields: tuple[Any, Any] = getattr(handler, "answer_fields", None) or (TEXT_FIELDS, JSON_FIELDS)
        #: The handler's exact-route table (its ``fast_routes``, ``fasthttp.application``: path ->
        #: method -> callable), which the connection core looks up before calling the handler;
        #: None when the handler has none (or it is not a dict, as the core's C look-ups need).
        fast = getattr(handler, "fast_routes", None)
        self.fast_routes: dict[str, dict[str, Any]] | None = fast if type(fast) is dict else None
        self.config = config
        self.access_log = access_log
        self.on_connect = on_connect
        #: The live HTTP connections.
        self.connections: set[ManagedConnection] = set()
        #: Transports handed over to another protocol (websocket, CONNECT): aborted on close.
        self.upgraded: set[asyncio.BaseTransport] = set()
        #: Websocket connections open now, and opened since the start (counted by
        #: fasthttp.websocket.WebSocketProtocol; read by the metrics).
        self.websockets = 0
        self.websockets_total = 0
        self.max_connections = config.max_connections or 0
        #: ``closing``: a graceful shutdown has begun (the listeners are closed; what is in flight
        #: finishes). ``closed``: every connection was aborted (:meth:`close`).
        self.closing = False
        self.closed = False
        self.now = 0.0
        self.head_deadline = self.body_deadline = self.idle_deadline = 0.0
        #: ``[head_deadline, body_deadline, idle_deadline]``, one list updated in place by each
        #: sweep: the compiled connection core keeps it and reads the idle deadline every
        #: response as a list item, not an attribute look-up (PERF, issue 17: callgrind, ~130
        #: instructions per plaintext request).
        self.deadlines: list[float] = [0.0, 0.0, 0.0]
        #: Connections' opening and end are logged (``fasthttp.server`` at DEBUG): then they take
        #: the protocol's full path. PERF: the level is looked up once per sweep, not twice per
        #: connection (a Python call each: benchmarks/server "New connection per request"); a
        #: level changed at run time applies from the next sweep (within a second).
        self.log_connections = False
        self._tick(loop.time())
        self.parser_options: dict[str, Any] = dict(
            max_request_line=config.max_request_line,
            max_header_size=config.max_header_size,
            max_header_count=config.max_header_count,
            max_body_size=None,  # the body reader's (routes may change it): fasthttp.body
            max_chunk_line=config.max_chunk_line,
            max_trailer_size=config.max_trailer_size,
        )
        #: Makes the request parser of each new connection, with :attr:`parser_options`. PERF:
        #: with the default limits, the class itself: parsing six keywords cost the compiled
        #: parser more than the rest of its construction, per connection (benchmarks/server
        #: "New connection per request").
        self.new_parser: Callable[[], Any] = functools.partial(RequestParser, **self.parser_options)
        probe = RequestParser()
        if all(getattr(probe, name) == value for name, value in self.parser_options.items()):
            self.new_parser = RequestParser
        #: The answer to a connection past ``max_connections`` or during shutdown.
        self.busy_response = error_bytes(503, False, config.server_header)
        self.uvloop = type(loop).__module__.startswith("uvloop")
        self.sendfile = config.sendfile
        self.async_mode = async_mode(config.async_handlers)
        #: Whose forwarding fields are believed (None: nobody's, the default).
        self.proxy_trust = ProxyTrust(config.forwarded_allow_ips) if config.proxy_headers else None
        #: What each HTTP connection copies from this manager and its config when it is made, in
        #: the order the connection core's ``__init__`` unpacks it (fasthttp._core_py.connection).
        #: PERF: one attribute read per connection instead of eleven (benchmarks/server "New
        #: connection per request").
        self.connection_settings: tuple[Any, ...] = (
            config,
            loop,
            handler,
            config.max_requests_per_connection or 0,
            config.read_high_water,
            config.max_body_size,
            config.server_header,
            access_log,
            config.require_content_length,
            self.async_mode,
            self.proxy_trust,
            self.deadlines,
        )
        deadlines = [
            config.header_timeout,
            config.body_timeout,
            config.keep_alive_timeout,
            config.write_timeout,
            config.linger_timeout,
        ]
        if config.min_body_rate:
            deadlines.append(config.body_rate_window)
        # The websocket deadlines (fasthttp.websocket) are swept too.
        deadlines.append(config.ws_close_timeout)
        for ws_deadline in (config.ws_ping_interval, config.ws_ping_timeout, config.ws_idle_timeout):
            if ws_deadline:
                deadlines.append(ws_deadline)
        self.interval = min(1.0, max(0.05, min(deadlines) / 4))
        #: RFC 2817: the TLS context plain connections may upgrade to (set by the server).
        self.tls_upgrade: ssl.SSLContext | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._flushers: list[Callable[[], Any]] = []

    # -- admission -------------------------------------------------------------------------------

    def admit(self, conn: ManagedConnection) -> bool:
        """Count *conn* in, unless the server has closed or is full (then the caller refuses it
        with :attr:`busy_response`: RFC 9110 §15.6.4, 503 says the refusal is temporary).

        While a graceful shutdown drains (:attr:`closing`), a connection still comes in: one
        the loop accepted just before the listener closed, whose connection_made comes a few
        callbacks later. Its client has sent, or is sending, its first request: refusing it
        would close a socket with that request unread, which resets the connection (RFC 9112
        §9.6) and loses even the 503. It is served once instead, then closed (the caller
        starts its shutdown), within the shutdown deadline like the others."""
        if self.closed or (self.max_connections and len(self.connections) >= self.max_connections):
            return False
        self.connections.add(conn)
        return True

    def release(self, conn: ManagedConnection) -> None:
        """*conn* is closed (or handed over): it no longer counts. (The HTTP connection core
        inlines this and the common case of :meth:`admit`: ``connections`` is that set.)"""
        self.connections.discard(conn)

    def hand_over(
        self, conn: ManagedConnection, transport: asyncio.BaseTransport, successor: ManagedConnection | None = None
    ) -> None:
        """*conn* handed *transport* to another protocol. A *successor* that is a
        :class:`ManagedConnection` takes *conn*'s place (it still counts, is swept and shut down
        gracefully); otherwise the transport is kept only to be aborted on close."""
        self.connections.discard(conn)
        if successor is not None:
            self.connections.add(successor)
        else:
            self.upgraded.add(transport)

    # -- the coarse clock and the sweep ----------------------------------------------------------

    def _tick(self, now: float) -> None:
        # PERF: the deadlines connections stamp are precomputed once per sweep.
        cfg = self.config
        self.now = now
        self.log_connections = _server_log.isEnabledFor(logging.DEBUG)
        self.head_deadline = now + cfg.header_timeout
        self.body_deadline = now + cfg.body_timeout
        self.idle_deadline = now + cfg.keep_alive_timeout
        self.deadlines[:] = (self.head_deadline, self.body_deadline, self.idle_deadline)

    def start(self) -> None:
        """Start the periodic sweep."""
        if self._timer is None:
            self._tick(self.loop.time())
            self._timer = self.loop.call_later(self.interval, self._sweep)

    def add_periodic(self, callback: Callable[[], Any]) -> None:
        """Run *callback* on every sweep (the access log flushes its buffer this way)."""
        self._flushers.append(callback)

    def _sweep(self) -> None:
        now = self.loop.time()
        self._tick(now)
        for conn in tuple(self.connections):
            try:
                conn.check_deadlines(now)
            except Exception:  # pragma: no cover - a bug must not stop the sweep
                error_log.exception("error handling a connection deadline")
        if self.upgraded:
            self.upgraded = {t for t in self.upgraded if not t.is_closing()}
        self._flush()
        self._timer = self.loop.call_at(now + self.interval, self._sweep)

    def _flush(self) -> None:
        for flush in self._flushers:
            try:
                flush()
            except Exception:  # pragma: no cover
                error_log.exception("error in a periodic callback")

    # -- shutdown --------------------------------------------------------------------------------

    async def shutdown(self, timeout: float) -> None:
        """Close idle connections now; let in-flight requests finish within *timeout* seconds;
        then abort whatever is left."""
        self.closing = True
        for conn in tuple(self.connections):
            conn.start_shutdown()
        deadline = self.loop.time() + timeout
        while self.connections and self.loop.time() < deadline:
            await asyncio.sleep(0.02)
            for conn in tuple(self.connections):
                conn.start_shutdown()
        self.close()
        # Let the transports deliver connection_lost before the loop goes away.
        await asyncio.sleep(0)

    def close(self) -> None:
        """Abort every connection and stop the sweep."""
        self.closing = self.closed = True
        for conn in tuple(self.connections):
            conn.abort()
        for transport in tuple(self.upgraded):
            if not transport.is_closing():
                transport.abort()  # type: ignore[attr-defined]
        self.upgraded.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._flush()
