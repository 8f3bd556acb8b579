"""The server: an HTTP server on the running event loop, its listeners, and graceful shutdown.

:class:`Server` binds its listeners (``fasthttp.listeners``), makes one
:class:`~fasthttp.connections.ConnectionManager` for its connections (one
:class:`~fasthttp.protocol.HttpProtocol` each), and serves the application
through the engine's contract (``fasthttp.application``). Graceful shutdown (SIGTERM/SIGINT or
:meth:`Server.shutdown`): stop accepting, close idle keep-alive connections, let in-flight
requests finish within ``shutdown_timeout`` (their responses say ``Connection: close``), abort
the rest. :func:`serve` and :func:`serve_with_signals` run one in the current loop; the other
ways to run it are in ``fasthttp.runners``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import gc
import logging
import os
import random
import signal
import socket
import ssl
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any, Literal

from ._compat import kernel_report
from .accesslog import AccessLog, LogTarget
from .application import Application, Handler, OnConnect, as_application
from .config import Config
from .listeners import DEFAULT_BIND, AcceptBackstop, Address, BindSpec, accept_listeners, defer_accept, format_address, make_listeners, make_ssl_context
from .connections import AccessLogger, ConnectionManager
from .metrics import MetricsStore
from .preface import ProxyPrefaceProtocol
from .protocol import HttpProtocol, TracingHttpProtocol, finish_background_tasks
from .tlsdetect import TlsListener
from .requests import Request
from .responses import Response, error_response

__all__ = ("Server", "serve", "serve_with_signals", "announce_listening")

log = logging.getLogger("fasthttp.server")


class Server:
    """An HTTP server on the running event loop.

    *app* is an :class:`~fasthttp.application.Application` (a :class:`fasthttp.App`, an adapter)
    or any callable ``handler(request) -> response`` (or a coroutine resolving to one). *bind* is one bind spec or a list of them (default
    ``127.0.0.1:8000``). TLS comes from *ssl* (an ``SSLContext``, used as given) or from
    *certfile*/*keyfile* (plus *ca_certs* and *client_cert*, see :func:`make_ssl_context`).
    A TLS listener answers plain HTTP with a plaintext 400 that says to use https. *tls_upgrade*
    (an ``SSLContext``) lets plain connections switch to TLS in place (RFC 2817).
    *on_connect* ``(transport, session) -> bool`` may refuse a connection; it defaults to
    ``app.on_connect`` when the app has one. *access_log* (see :class:`AccessLog`) is off by
    default. Every other keyword is a :class:`Config` field.

    ``await start()`` listens and fills :attr:`addresses`; ``await shutdown()`` drains;
    ``await serve_forever()`` does both around waiting for :meth:`request_shutdown`.
    """

    def __init__(
        self,
        app: Application | Handler,
        bind: BindSpec | list[BindSpec] | None = None,
        *,
        ssl: ssl.SSLContext | None = None,
        certfile: str | None = None,
        keyfile: str | None = None,
        password: str | bytes | None = None,
        ca_certs: str | None = None,
        client_cert: str | None = None,
        on_connect: OnConnect | None = None,
        access_log: AccessLog | LogTarget | Literal[False] | None = None,
        log_format: str = "combined",
        config: Config | None = None,
        sockets: Iterable[socket.socket] | None = None,
        reuse_port: bool = False,
        metrics: BindSpec | None = None,
        metrics_store: MetricsStore | None = None,
        tls_upgrade: ssl.SSLContext | None = None,
        shared_listeners: bool = False,
        **options: Any,
    ) -> None:
        self.app: Application = as_application(app)
        self.handler: Handler = self.app.engine_handler()
        self.config = config if config is not None else Config(**options)
        if config is not None and options:
            self.config = dataclasses.replace(config, **options)
        binds: list[BindSpec]
        if bind is None:
            binds = [] if sockets is not None else [DEFAULT_BIND]
        elif isinstance(bind, list):
            binds = list(bind)
        else:
            binds = [bind]
        self.binds = binds
        self._given_sockets = list(sockets) if sockets is not None else []
        self.reuse_port = reuse_port
        if ssl is None and certfile:
            ssl = make_ssl_context(certfile, keyfile, password=password, ca_certs=ca_certs, client_cert=client_cert)
        self.ssl = ssl
        self.on_connect = on_connect if on_connect is not None else self.app.on_connect
        self.access_log: AccessLog | None
        if access_log is None or access_log is False:
            self.access_log = None
        elif isinstance(access_log, AccessLog):
            self.access_log = access_log
        else:
            self.access_log = AccessLog(access_log, log_format)
        self.addresses: list[Address] = []
        self.sockets: list[socket.socket] = []
        self.manager: ConnectionManager | None = None
        self._servers: list[asyncio.AbstractServer | TlsListener] = []
        self._unix_paths: list[str] = []
        self._stopped = asyncio.Event()  # bound to a loop at its first use (Python 3.10+)
        self._shutdown_task: asyncio.Task[None] | None = None
        self.started = False
        #: Where Prometheus metrics are served (``fasthttp.metrics``), and their store (shared
        #: by the workers when the master made it; else this process's own).
        self.metrics = metrics
        self.metrics_store = metrics_store if metrics_store is not None or metrics is None else MetricsStore(rows=4)
        self._metrics_server: Server | None = None
        #: Called instead of a shutdown when the request limit is reached, if set: a worker's
        #: master starts the replacement first, then drains this one (fasthttp.workers).
        self.on_recycle: Callable[[], None] | None = None
        self._protocol_factory: Callable[[], asyncio.Protocol] | None = None
        self._backstop: AcceptBackstop | None = None  # uvloop's plain listeners (start)
        #: RFC 2817: plain connections that ask (``Upgrade: TLS/1.x``) switch to TLS with this
        #: context, then get their answer over TLS (``fasthttp.protocol``). None: not offered.
        self.tls_upgrade = tls_upgrade
        #: The given *sockets* are held open by a supervisor that gives them to this worker's
        #: successor (fasthttp.workers): shutdown lets go of them and leaves what the kernel
        #: queued to the successor, rather than accepting connections only to close them.
        self.shared_listeners = shared_listeners

    @property
    def accept_backstop(self) -> AcceptBackstop | None:
        """What accepts the connections a burst leaves queued on uvloop's plain listeners
        (:class:`fasthttp.listeners.AcceptBackstop`); None on other loops, over TLS, off Linux,
        or before :meth:`start`."""
        return self._backstop

    @property
    def urls(self) -> list[str]:
        """The bound addresses as URLs (``http://127.0.0.1:8000``) or ``unix:`` names."""
        return [format_address(a, self.ssl is not None) for a in self.addresses]

    async def start(self) -> list[Address]:
        """Run the app's startup hooks, listen on every bind; return the bound addresses."""
        if self.started:
            return self.addresses
        # An App's life-cycle hooks run on the serving loop, whichever way it is served (run,
        # serve, a thread, the CLI, each worker); a plain handler has none.
        await self.app.startup()
        loop = asyncio.get_running_loop()
        hook: AccessLogger | None = self.access_log
        store = self.metrics_store
        if store is not None:
            hook = store.record if hook is None else _both(hook, store.record)
        if self.config.max_requests:
            counter = self._recycler(self.config.max_requests, self.config.max_requests_jitter)
            hook = counter if hook is None else _both(hook, counter)
        self.manager = manager = ConnectionManager(
            loop, self.handler, self.config, access_log=hook, on_connect=self.on_connect
        )
        if self.config.max_rss:
            manager.add_periodic(self._rss_watch(self.config.max_rss))
        if self.access_log is not None:
            manager.add_periodic(self.access_log.flush)
        if store is not None and self.metrics is not None:
            await self._start_metrics(store, manager)
        socks = list(self._given_sockets)
        # One address per bind (what start() returns and urls shows), though a TCP bind may
        # listen on several sockets (accept_listeners).
        primary = list(socks)
        # A TLS listener (fasthttp.tlsdetect) accepts every queued connection per readiness:
        # one socket each.
        tls_listener = self.ssl is not None and not self.config.proxy_protocol
        listeners = 1 if tls_listener else accept_listeners(self.config.accept_listeners, manager.uvloop)
        try:
            for spec in self.binds:
                group = make_listeners(spec, listeners, reuse_port=self.reuse_port)
                socks.extend(group)
                primary.append(group[0])
                sock = group[0]
                if sock.family == socket.AF_UNIX:
                    name = sock.getsockname()
                    if isinstance(name, str) and name:
                        self._unix_paths.append(name)
            http_protocol = TracingHttpProtocol if self.config.debug else HttpProtocol
            self._protocol_factory = factory = functools.partial(ProxyPrefaceProtocol if self.config.proxy_protocol else http_protocol, manager)
            manager.tls_upgrade = self.tls_upgrade
            if manager.uvloop and self.ssl is None and sys.platform.startswith("linux"):
                # uvloop accepts one connection per socket per loop iteration: what a burst
                # leaves queued is accepted by the backstop (fasthttp.listeners.AcceptBackstop;
                # it reads the queues' lengths from Linux's TCP_INFO).
                self._backstop = AcceptBackstop(loop, socks, factory)
            for sock in socks:
                defer_accept(sock, self.config.defer_accept)  # a connection comes with its first bytes
                if tls_listener and self.ssl is not None:
                    # A TLS listener peeks before the handshake: plain HTTP gets a plaintext
                    # 400 saying to use https (fasthttp.tlsdetect), not a failed handshake.
                    self._servers.append(TlsListener(manager, sock, self.ssl, factory, self.config.backlog))
                    continue
                listener = await loop.create_server(
                    factory if self._backstop is None else self._backstop.factory_for(sock),
                    sock=sock,
                    ssl=self.ssl,
                    backlog=self.config.backlog,
                    ssl_handshake_timeout=self.config.header_timeout if self.ssl is not None else None,
                )
                self._servers.append(listener)
        except BaseException:
            if self._metrics_server is not None:
                await self._metrics_server.shutdown(0.1)
            for srv in self._servers:
                srv.close()
            if self._backstop is not None:
                self._backstop.close()
            for sock in socks:
                sock.close()
            await self.app.shutdown()
            raise
        self.sockets = socks
        self.addresses = [sock.getsockname() for sock in primary]
        manager.start()
        self.started = True
        return self.addresses

    def _recycler(self, limit: int, jitter: int) -> AccessLogger:
        """A response hook that starts a graceful shutdown after *limit* (+ 0..*jitter*, so the
        workers of one master do not all stop together) responses."""
        left = [limit + (random.randint(0, jitter) if jitter > 0 else 0)]

        def count(req: Any, status: int, nbytes: int, conn: Any) -> None:
            left[0] -= 1
            if left[0] == 0:
                logging.getLogger("fasthttp.server").info("served %d requests: recycling (pid %d)", limit, os.getpid())
                self._recycle()

        return count

    def _rss_watch(self, limit_mib: int) -> Callable[[], None]:
        """A periodic check that recycles this process once its resident set exceeds
        *limit_mib* MiB."""
        fired = [False]

        def check() -> None:
            rss = resident_bytes()
            if not fired[0] and rss > limit_mib * 1024 * 1024:
                fired[0] = True
                logging.getLogger("fasthttp.server").info(
                    "RSS %.1f MiB above --limit-max-rss %d: recycling (pid %d)", rss / 1048576, limit_mib, os.getpid()
                )
                self._recycle()

        return check

    def _recycle(self) -> None:
        """A limit was reached: the master replaces this worker first if there is one
        (:attr:`on_recycle`), else the server drains and stops."""
        if self.on_recycle is not None:
            self.on_recycle()
        else:
            self.request_shutdown()

    async def _start_metrics(self, store: MetricsStore, manager: ConnectionManager) -> None:
        """Count this process in *store* and serve the aggregate on :attr:`metrics` (with
        SO_REUSEPORT: every worker listens, any answers)."""
        store.claim()
        manager.add_periodic(lambda: store.set_open_connections(len(manager.connections) - manager.websockets))
        seen = [0]

        def websockets() -> None:
            total = manager.websockets_total
            store.set_websockets(manager.websockets, total - seen[0])
            seen[0] = total

        manager.add_periodic(websockets)
        fields = [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")]

        def metrics(request: Request) -> Response:
            if request.path != "/metrics":
                return error_response(404)
            return Response(store.render(), 200, fields)

        # One socket: a scrape now and then gains nothing from accept batching (accept_listeners).
        server = Server(metrics, self.metrics, reuse_port=True, access_log=False, accept_listeners=1)
        await server.start()
        self._metrics_server = server

    async def _close_listeners(self) -> None:
        """Stop accepting without resetting what the kernel already queued for us.

        An SO_REUSEPORT listener closed with connections in its accept queue resets them (unless
        net.ipv4.tcp_migrate_req is on), though its group's other sockets would have served them.
        So a duplicate keeps each such socket in the group while the loop lets go of it, its
        queue is accepted into the connection manager, and only then is it closed: the window
        for a reset shrinks to the gap between two system calls.
        """
        kept = [
            sock.dup()
            for sock in self.sockets
            if not self.shared_listeners
            and sock.family != socket.AF_UNIX
            and sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)
        ]
        for srv in self._servers:
            srv.close()
        if self._backstop is not None:
            self._backstop.close()
        loop = asyncio.get_running_loop()
        factory = self._protocol_factory
        pending = []
        for sock in kept:
            try:
                sock.setblocking(False)
                while factory is not None:
                    try:
                        conn, _ = sock.accept()
                    except OSError:  # BlockingIOError: the queue is empty
                        break
                    pending.append(loop.connect_accepted_socket(factory, conn, ssl=self.ssl))
            finally:
                sock.close()
        if pending:  # admitted before the manager starts closing
            await asyncio.gather(*pending, return_exceptions=True)
        # Connections the loop accepted just before the close get their connection_made a few
        # callbacks later (asyncio: a task; uvloop: call_soon): let them in before the manager
        # starts refusing, or they would get a 503 for a request they already sent.
        for _ in range(3):
            await asyncio.sleep(0)

    def request_shutdown(self) -> None:
        """Start a graceful shutdown (safe to call from a signal handler on the loop)."""
        if self._shutdown_task is None and self.started:
            self._shutdown_task = asyncio.get_running_loop().create_task(self.shutdown())

    async def shutdown(self, timeout: float | None = None) -> None:
        """Stop accepting; close idle connections; give in-flight requests *timeout* seconds
        (default ``config.shutdown_timeout``); abort the rest. Background tasks of answered requests
        (``Request.add_background_task``) get what is left of *timeout*, then are cancelled."""
        manager = self.manager
        if not self.started or manager is None or self._stopped.is_set():
            return
        await self._close_listeners()
        if self._metrics_server is not None:
            await self._metrics_server.shutdown(0.5)
        if timeout is None:
            timeout = self.config.shutdown_timeout
        deadline = asyncio.get_running_loop().time() + timeout
        try:
            await manager.shutdown(timeout)
            # the background tasks of answered requests get what is left of the deadline
            await finish_background_tasks(deadline - asyncio.get_running_loop().time())
        finally:
            for path in self._unix_paths:
                try:
                    os.unlink(path)
                except OSError:
                    pass
            if self.access_log is not None:
                self.access_log.close()
            try:
                # before _stopped: run() and ServerThread close the loop once wait_closed returns
                await self.app.shutdown()
            finally:
                self._stopped.set()

    async def wait_closed(self) -> None:
        """Return once a shutdown has finished (the app's shutdown hooks included)."""
        await self._stopped.wait()

    async def serve_forever(self) -> None:
        """Listen (if not yet) and serve until :meth:`request_shutdown`/:meth:`shutdown`; when
        cancelled, shut down gracefully first."""
        await self.start()
        try:
            await self._stopped.wait()
        except asyncio.CancelledError:
            await asyncio.shield(self.shutdown())
            raise

    async def __aenter__(self) -> Server:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.shutdown()


async def serve(
    app: Application | Handler,
    bind: BindSpec | list[BindSpec] | None = None,
    *,
    ready: Callable[[Server], object] | None = None,
    **options: Any,
) -> None:
    """Serve *app* on the running loop until cancelled (then drain gracefully). *ready* is
    called with the server once it listens; *options* are :class:`Server` keywords."""
    server = Server(app, bind, **options)
    await server.start()
    if ready is not None:
        ready(server)
    await server.serve_forever()


def announce_listening(server_or_urls: Server | Iterable[str]) -> None:
    """Print ``fasthttp: listening on URL`` on stderr for each address (what the CLI and the
    process-based tests wait for)."""
    urls = server_or_urls.urls if isinstance(server_or_urls, Server) else server_or_urls
    degraded, kernels = kernel_report()  # once per server start: the pure fallback is visible
    log.log(logging.WARNING if degraded else logging.INFO, "%s", kernels)
    for url in urls:
        print(f"fasthttp: listening on {url}", file=sys.stderr, flush=True)


async def serve_with_signals(
    app: Application | Handler,
    bind: BindSpec | list[BindSpec] | None,
    announce: bool,
    options: dict[str, Any],
    on_ready: Callable[[Server], object] | None = None,
) -> None:
    """Serve *app* on the running loop until SIGTERM or SIGINT (handled on the main thread
    only), then drain: the body of :func:`fasthttp.run`, of each worker and of
    :func:`fasthttp.start_server`'s process."""
    server = Server(app, bind, **options)
    await server.start()
    # PERF: what the app made while loading and starting (modules, routes, its startup hooks'
    # objects) lives as long as this process: frozen out of the collector's generations, a full
    # collection no longer walks it. In process, one full collection under Starlette went from
    # 25-31 ms to 0.15 ms, about 2 µs per request spread over the requests between them.
    gc.collect()
    gc.freeze()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, server.request_shutdown)
            installed.append(sig)
    try:
        if announce:
            announce_listening(server)
        if on_ready is not None:
            on_ready(server)
        await server.wait_closed()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def resident_bytes() -> int:
    """This process's resident set size (Linux: /proc/self/statm; elsewhere the peak, from
    getrusage, which only grows: a limit on it still recycles)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


def _both(first: Callable[[Any, int, int, Any], None], second: Callable[[Any, int, int, Any], None]) -> Callable[[Any, int, int, Any], None]:
    """One response hook calling two (the access log and the metrics)."""

    def hook(req: Any, status: int, nbytes: int, conn: Any) -> None:
        first(req, status, nbytes, conn)
        second(req, status, nbytes, conn)

    return hook
