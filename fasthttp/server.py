"""The server: listeners, TLS, worker processes, signals, graceful shutdown, the access log,
and the ways to run it (blocking, inside a running loop, in a thread, in its own process).

Strategy
--------
- :class:`Config` holds every limit and deadline with a safe default; the connection engine
  (``fasthttp.protocol``) reads it.
- Listening sockets are made here (:func:`make_socket`) from bind specs -- ``"HOST:PORT"``,
  ``"[V6]:PORT"`` (``"[fe80::1%eth0]:PORT"`` for a scope id), ``"unix:PATH"``, ``"unix:@NAME"``
  (a Linux abstract name) -- or from degu-style tuples (``(host, port)`` for IPv4, ``(host, port,
  flowinfo, scope_id)`` for IPv6, ``bytes`` for an abstract name). Port 0 asks the kernel for
  one; :attr:`Server.addresses` reports what was bound. ``[::]`` is dual-stack (IPV6_V6ONLY off),
  and so is an IPv4-mapped address (``[::ffff:127.0.0.1]``); any other IPv6 address is IPv6 only.
- TLS (:func:`make_ssl_context`): TLS 1.2 minimum, no compression (CRIME), no renegotiation,
  forward-secret AEAD ciphers only, optional or required client certificates.
- Workers: the master binds each TCP address once with SO_REUSEPORT (resolving port 0 and
  holding the port), forks N workers, and each worker binds its own SO_REUSEPORT socket to the
  same address, so the kernel spreads connections across workers. AF_UNIX listeners are shared
  by inheritance. A worker that dies is replaced; SIGTERM/SIGINT are forwarded and the master
  exits 0 once every worker has drained.
- Graceful shutdown (SIGTERM/SIGINT or :meth:`Server.shutdown`): stop accepting, close idle
  keep-alive connections, let in-flight requests finish within ``shutdown_timeout`` (their
  responses say ``Connection: close``), abort the rest.
- The access log (:class:`AccessLog`) formats Apache/gunicorn-style fields or JSON lines into a
  buffer flushed once per sweep; when it is off the engine does not even read the clock.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import signal
import socket
import ssl
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from .protocol import ConnectionManager, HttpProtocol

__all__ = (
    "Config",
    "Server",
    "AccessLog",
    "ServerThread",
    "make_socket",
    "make_ssl_context",
    "parse_bind",
    "format_address",
    "new_event_loop",
    "run",
    "serve",
    "start_in_thread",
    "start_server",
    "load_app",
)

log = logging.getLogger("fasthttp.server")

DEFAULT_BIND = "127.0.0.1:8000"


@dataclasses.dataclass
class Config:
    """Every limit and deadline of the engine (sizes in bytes, times in seconds).

    ``None`` or ``0`` turns a count limit off; a rate of ``0`` disables the minimum body rate.
    """

    # Request limits (RFC 9112 §2.3, §3, §5; RFC 6585 §5)
    max_request_line: int = 8190  # 414 past this
    max_header_size: int = 32768  # 431 past this (whole header section)
    max_header_count: int = 100  # 431 past this
    max_body_size: int | None = 1 << 20  # 413 past this; a route may override
    max_chunk_line: int = 4096  # chunk-size line with extensions
    max_trailer_size: int = 8192
    require_content_length: bool = False  # 411 for chunked request bodies when True
    # Deadlines
    header_timeout: float = 10.0  # from the first byte of a request to the end of its head (408)
    body_timeout: float = 20.0  # longest silence while a body is arriving (408)
    min_body_rate: float = 500.0  # bytes/s a body must average over each window (408)
    body_rate_window: float = 10.0
    keep_alive_timeout: float = 5.0  # idle time between requests before a silent close
    write_timeout: float = 30.0  # longest time the peer may leave our output unread (abort)
    linger_timeout: float = 2.0  # input discarded this long after an error response
    shutdown_timeout: float = 10.0  # graceful shutdown: in-flight requests get this long
    # Counts
    max_requests_per_connection: int | None = 1000
    max_connections: int | None = 10000  # per server (per worker); 503 past this
    backlog: int = 1024
    # Buffers (flow control)
    read_high_water: int = 64 * 1024  # unconsumed request body held before reading pauses
    write_high_water: int = 64 * 1024  # transport buffer above which producing pauses
    # Behaviour
    server_header: str | None = None  # a Server field value, or None to send none
    sendfile: bool = True  # zero-copy file responses on plain TCP
    # How async handlers run: "inline" drives the first step with coro.send(None) and makes a
    # Task only if the handler suspends (fastest; but asyncio.current_task() is None until then,
    # so asyncio.timeout() must come after an await); "eager" uses an eager-start Task (3.12+:
    # the same inline first step with real task semantics, ~0.5 us more); "task" always
    # schedules a Task; "auto" is "eager" on 3.12+ (where wait_for needs a task) else "inline".
    async_handlers: str = "auto"

    def __post_init__(self) -> None:
        for name in ("header_timeout", "body_timeout", "keep_alive_timeout", "write_timeout", "linger_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        if self.min_body_rate and not self.body_rate_window > 0:
            raise ValueError("body_rate_window must be positive")
        for name in ("max_request_line", "max_header_size", "max_header_count", "read_high_water", "write_high_water"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        from .protocol import async_mode

        async_mode(self.async_handlers)  # validates


_CONFIG_FIELDS = frozenset(f.name for f in dataclasses.fields(Config))


def _split_options(options: dict) -> tuple[dict, dict]:
    config = {k: v for k, v in options.items() if k in _CONFIG_FIELDS}
    rest = {k: v for k, v in options.items() if k not in _CONFIG_FIELDS}
    return config, rest


# --- event loops ---------------------------------------------------------------------------------


def _uvloop_wanted() -> bool:
    return os.environ.get("FASTHTTP_NO_UVLOOP", "").strip().lower() in ("", "0", "false", "no", "off")


def new_event_loop(use_uvloop: bool | None = None) -> asyncio.AbstractEventLoop:
    """A new loop: uvloop when it is installed, unless *use_uvloop* is False or the environment
    sets ``FASTHTTP_NO_UVLOOP=1``; the stdlib loop otherwise."""
    if use_uvloop is None:
        use_uvloop = _uvloop_wanted()
    if use_uvloop:
        try:
            import uvloop
        except ImportError:  # pragma: no cover - uvloop is a dependency on CPython/POSIX
            pass
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


# --- addresses and sockets -----------------------------------------------------------------------


def parse_bind(spec: Any) -> tuple[int, Any]:
    """``(family, address)`` for a bind spec (see the module docstring)."""
    if isinstance(spec, socket.socket):
        return spec.family, spec
    if isinstance(spec, (bytes, bytearray)):
        name = bytes(spec)
        return socket.AF_UNIX, name if name.startswith(b"\0") or not name else b"\0" + name
    if isinstance(spec, tuple):
        if len(spec) == 2:
            return socket.AF_INET, (spec[0], int(spec[1]))
        if len(spec) == 4:
            return socket.AF_INET6, (spec[0], int(spec[1]), int(spec[2]), int(spec[3]))
        raise ValueError(f"a bind tuple has 2 (IPv4) or 4 (IPv6) items: {spec!r}")
    if not isinstance(spec, str):
        raise TypeError(f"cannot bind to {spec!r}")
    if spec.startswith("unix:"):
        path = spec[5:]
        if not path:
            raise ValueError("unix: needs a path or @name")
        if path.startswith("@"):
            return socket.AF_UNIX, b"\0" + path[1:].encode()
        return socket.AF_UNIX, path
    if spec.startswith("["):
        end = spec.find("]")
        if end < 0 or spec[end + 1 : end + 2] != ":":
            raise ValueError(f"IPv6 binds are written [ADDRESS]:PORT, not {spec!r}")
        host, port = spec[1:end], spec[end + 2 :]
        return socket.AF_INET6, _inet6(host, _port(port, spec))
    if spec.isdigit():
        return socket.AF_INET, ("127.0.0.1", int(spec))
    host, sep, port = spec.rpartition(":")
    if not sep:
        raise ValueError(f"a bind is HOST:PORT, [V6]:PORT or unix:PATH, not {spec!r}")
    if ":" in host:
        raise ValueError(f"write IPv6 addresses in brackets: [{host}]:{port}")
    return socket.AF_INET, (host or "0.0.0.0", _port(port, spec))


def _port(text: str, spec: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise ValueError(f"invalid port in {spec!r}")
    return int(text)


def _inet6(host: str, port: int) -> tuple:
    # getaddrinfo resolves a "%scope" suffix (an interface name or number) to the scope id of
    # the 4-tuple, which link-local addresses need.
    infos = socket.getaddrinfo(host, port, socket.AF_INET6, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    return infos[0][4]


def make_socket(spec: Any, *, reuse_port: bool = False, backlog: int | None = None) -> socket.socket:
    """A bound (and, with *backlog*, listening) non-blocking socket for a bind spec."""
    family, address = parse_bind(spec)
    if isinstance(address, socket.socket):
        address.setblocking(False)
        return address
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if family == socket.AF_UNIX:
            if isinstance(address, str):
                try:
                    if stat.S_ISSOCK(os.stat(address).st_mode):
                        os.unlink(address)  # a stale socket left by an earlier run
                except FileNotFoundError:
                    pass
        else:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:
                # "::" serves IPv4 too (dual stack), as does an IPv4-mapped address
                # ("::ffff:127.0.0.1" accepts IPv4 clients of 127.0.0.1); any other IPv6
                # address serves only itself.
                host = address[0].lower()
                dual = host == "::" or host.startswith("::ffff:")
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0 if dual else 1)
        sock.bind(address)
        if backlog is not None:
            sock.listen(backlog)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def format_address(address: Any, tls: bool = False) -> str:
    """A bound address as a URL (``http://127.0.0.1:8000``, ``https://[::1]:8443``) or as
    ``unix:PATH`` / ``unix:@NAME``."""
    if isinstance(address, (bytes, bytearray)):
        name = bytes(address)
        return "unix:@" + name[1:].decode("utf-8", "backslashreplace") if name.startswith(b"\0") else "unix:" + name.decode()
    if isinstance(address, str):
        return "unix:" + (address if address else "?")
    scheme = "https" if tls else "http"
    host, port = address[0], address[1]
    if ":" in host:
        return f"{scheme}://[{host}]:{port}"
    return f"{scheme}://{host}:{port}"


# --- TLS -----------------------------------------------------------------------------------------

# Forward secrecy and AEAD only, for TLS 1.2 (TLS 1.3 suites are all of that kind already).
_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL:!eNULL:!MD5:!DSS:!RSA"


def make_ssl_context(
    certfile: str,
    keyfile: str | None = None,
    *,
    password: str | bytes | None = None,
    ca_certs: str | None = None,
    client_cert: str | None = None,
    ciphers: str | None = None,
) -> ssl.SSLContext:
    """A server ``SSLContext`` with secure defaults.

    TLS 1.2 minimum; compression off (CRIME); renegotiation off; only forward-secret AEAD
    ciphers; ALPN ``http/1.1``. *client_cert* is ``"none"``, ``"optional"`` or ``"required"``
    (default: ``"required"`` when *ca_certs* is given, else ``"none"``); verifying clients needs
    *ca_certs*, so an anonymous client is never let in by a forgotten option.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_SINGLE_ECDH_USE
    ctx.options |= getattr(ssl, "OP_NO_RENEGOTIATION", 0)
    ctx.set_ciphers(ciphers or _CIPHERS)
    ctx.load_cert_chain(certfile, keyfile, password)
    if client_cert is None:
        client_cert = "required" if ca_certs else "none"
    modes = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}
    if client_cert not in modes:
        raise ValueError(f"client_cert is none, optional or required, not {client_cert!r}")
    if client_cert != "none":
        if not ca_certs:
            raise ValueError("verifying client certificates needs ca_certs")
        ctx.load_verify_locations(ca_certs)
    ctx.verify_mode = modes[client_cert]
    try:
        ctx.set_alpn_protocols(["http/1.1"])
    except NotImplementedError:  # pragma: no cover
        pass
    return ctx


# --- access log ----------------------------------------------------------------------------------

FORMATS = {
    "combined": '%h %l %u %t "%r" %s %b "%{Referer}i" "%{User-Agent}i"',
    "common": '%h %l %u %t "%r" %s %b',
}

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class AccessLog:
    """One line per response, formatted with Apache ``LogFormat`` fields or as JSON lines.

    *target*: ``"-"`` (stdout), a path (appended to), a ``logging.Logger`` (INFO records), or a
    writable text file. *fmt*: ``"combined"`` (default), ``"common"``, ``"json"``, or a format
    string with these fields:

    ``%h`` client address, ``%l`` and ``%u`` ("-"), ``%t`` time (``[10/Oct/2000:13:55:36
    +0000]``), ``%r`` request line, ``%m`` method, ``%U`` path, ``%q`` query (with "?"), ``%H``
    protocol, ``%s`` status, ``%b`` body bytes ("-" for none), ``%B`` body bytes, ``%D``
    duration in microseconds, ``%T`` duration in seconds, ``%{Name}i`` a request header,
    ``%%`` a percent sign.

    JSON lines carry ``time`` (ISO 8601, UTC), ``client``, ``method``, ``path``, ``query``,
    ``version``, ``status``, ``bytes``, ``duration_ms``, ``referer`` and ``user_agent``.

    Lines are buffered and written once per engine sweep (at most a second later) and on close.
    """

    def __init__(self, target: Any = "-", fmt: str = "combined") -> None:
        self._owned = None
        self._logger = None
        if isinstance(target, logging.Logger):
            self._logger = target
            self._file = None
        elif isinstance(target, (str, os.PathLike)):
            if os.fspath(target) == "-":
                self._file = sys.stdout
            else:
                self._file = self._owned = open(target, "a", encoding="utf-8")
        else:
            self._file = target
        self._buffer: list[str] = []
        fmt = FORMATS.get(fmt, fmt)
        self.json = fmt == "json"
        self._parts = None if self.json else _compile_format(fmt)
        self._stamp_second = -1
        self._stamp = ""

    def _clf_time(self) -> str:
        now = time.time()
        second = int(now)
        if second != self._stamp_second:
            t = time.gmtime(second)
            self._stamp = "[%02d/%s/%04d:%02d:%02d:%02d +0000]" % (
                t.tm_mday, _MONTHS[t.tm_mon - 1], t.tm_year, t.tm_hour, t.tm_min, t.tm_sec
            )
            self._stamp_second = second
        return self._stamp

    def __call__(self, req: Any, status: int, nbytes: int, conn: HttpProtocol) -> None:
        duration = conn._loop.time() - req.received_at if req is not None else 0.0
        if self.json:
            line = self._json_line(req, status, nbytes, conn, duration)
        else:
            line = "".join(
                part if type(part) is str else part(self, req, status, nbytes, conn, duration)
                for part in self._parts
            )
        self._buffer.append(line)

    def _json_line(self, req, status, nbytes, conn, duration) -> str:
        record = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "client": _client_host(conn),
            "method": req.method if req is not None else None,
            "path": req.path if req is not None else None,
            "query": req.query if req is not None else None,
            "version": req.version if req is not None else None,
            "status": status,
            "bytes": nbytes,
            "duration_ms": round(duration * 1000, 3),
            "referer": req.headers.get("referer") if req is not None else None,
            "user_agent": req.headers.get("user-agent") if req is not None else None,
        }
        return json.dumps(record, separators=(",", ":"))

    def flush(self) -> None:
        buffer = self._buffer
        if not buffer:
            return
        self._buffer = []
        if self._logger is not None:
            for line in buffer:
                self._logger.info(line)
            return
        try:
            self._file.write("\n".join(buffer) + "\n")
            self._file.flush()
        except (OSError, ValueError):  # pragma: no cover - a closed or broken log target
            pass

    def close(self) -> None:
        self.flush()
        if self._owned is not None:
            self._owned.close()
            self._owned = None


def _client_host(conn: HttpProtocol) -> str:
    client = conn.client
    if isinstance(client, tuple):
        return str(client[0])
    if isinstance(client, bytes):
        return "unix:@" + client[1:].decode("utf-8", "backslashreplace") if client else "unix"
    return "unix:" + client if client else "unix"


def _request_line(req) -> str:
    if req is None:
        return "-"
    return f"{req.method} {req.target.decode('latin-1')} HTTP/{req.version}"


def _header_field(name: str) -> Callable:
    def get(log, req, status, nbytes, conn, duration):
        if req is None:
            return "-"
        value = req.headers.get(name)
        return "-" if value is None else value.replace("\\", "\\\\").replace('"', '\\"')

    return get


_FIELDS: dict[str, Callable] = {
    "h": lambda log, req, status, nbytes, conn, d: _client_host(conn),
    "l": lambda *a: "-",
    "u": lambda *a: "-",
    "t": lambda log, *a: log._clf_time(),
    "r": lambda log, req, *a: _request_line(req),
    "m": lambda log, req, *a: req.method if req is not None else "-",
    "U": lambda log, req, *a: req.path if req is not None else "-",
    "q": lambda log, req, *a: ("?" + req.query) if req is not None and req.query else "",
    "H": lambda log, req, *a: f"HTTP/{req.version}" if req is not None else "-",
    "s": lambda log, req, status, *a: str(status),
    "b": lambda log, req, status, nbytes, *a: str(nbytes) if nbytes else "-",
    "B": lambda log, req, status, nbytes, *a: str(nbytes),
    "D": lambda log, req, status, nbytes, conn, d: str(int(d * 1e6)),
    "T": lambda log, req, status, nbytes, conn, d: f"{d:.6f}",
}


def _compile_format(fmt: str) -> list:
    parts: list = []
    text: list[str] = []
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%":
            text.append(c)
            i += 1
            continue
        if fmt[i + 1 : i + 2] == "%":
            text.append("%")
            i += 2
            continue
        if fmt[i + 1 : i + 2] == "{":
            end = fmt.find("}", i)
            if end < 0 or fmt[end + 1 : end + 2] != "i":
                raise ValueError(f"unsupported log field at {fmt[i:]!r} (only %{{Name}}i)")
            getter = _header_field(fmt[i + 2 : end])
            i = end + 2
        else:
            key = fmt[i + 1 : i + 2]
            if key not in _FIELDS:
                raise ValueError(f"unknown log field %{key}")
            getter = _FIELDS[key]
            i += 2
        if text:
            parts.append("".join(text))
            text = []
        parts.append(getter)
    if text:
        parts.append("".join(text))
    return parts


# --- the server ----------------------------------------------------------------------------------


def _engine_handler(app: Any) -> Callable:
    get = getattr(app, "_fasthttp_handler", None)
    if get is not None:
        return get()
    if callable(app):
        return app
    raise TypeError(f"{app!r} is neither a fasthttp.App nor a handler callable")


class Server:
    """An HTTP server on the running event loop.

    *app* is a :class:`fasthttp.App` or any callable ``handler(request) -> response`` (or a
    coroutine resolving to one). *bind* is one bind spec or a list of them (default
    ``127.0.0.1:8000``). TLS comes from *ssl* (an ``SSLContext``, used as given) or from
    *certfile*/*keyfile* (plus *ca_certs* and *client_cert*, see :func:`make_ssl_context`).
    *on_connect* ``(transport, session) -> bool`` may refuse a connection; it defaults to
    ``app.on_connect`` when the app has one. *access_log* (see :class:`AccessLog`) is off by
    default. Every other keyword is a :class:`Config` field.

    ``await start()`` listens and fills :attr:`addresses`; ``await shutdown()`` drains;
    ``await serve_forever()`` does both around waiting for :meth:`request_shutdown`.
    """

    def __init__(
        self,
        app: Any,
        bind: Any = None,
        *,
        ssl: ssl.SSLContext | None = None,
        certfile: str | None = None,
        keyfile: str | None = None,
        password: str | None = None,
        ca_certs: str | None = None,
        client_cert: str | None = None,
        on_connect: Callable | None = None,
        access_log: Any = None,
        log_format: str = "combined",
        config: Config | None = None,
        sockets: Iterable[socket.socket] | None = None,
        reuse_port: bool = False,
        **options: Any,
    ) -> None:
        self.app = app
        self.handler = _engine_handler(app)
        self.config = config if config is not None else Config(**options)
        if config is not None and options:
            self.config = dataclasses.replace(config, **options)
        if bind is None:
            binds: list = [] if sockets is not None else [DEFAULT_BIND]
        elif isinstance(bind, (list,)):
            binds = list(bind)
        else:
            binds = [bind]
        self.binds = binds
        self._given_sockets = list(sockets) if sockets is not None else []
        self.reuse_port = reuse_port
        if ssl is None and certfile:
            ssl = make_ssl_context(certfile, keyfile, password=password, ca_certs=ca_certs, client_cert=client_cert)
        self.ssl = ssl
        if on_connect is None:
            on_connect = getattr(app, "on_connect", None)
            if on_connect is not None and not callable(on_connect):
                on_connect = None
        self.on_connect = on_connect
        if access_log is None or access_log is False:
            self.access_log = None
        elif isinstance(access_log, AccessLog):
            self.access_log = access_log
        else:
            self.access_log = AccessLog(access_log, log_format)
        self.addresses: list = []
        self.sockets: list[socket.socket] = []
        self.manager: ConnectionManager | None = None
        self._servers: list = []
        self._unix_paths: list[str] = []
        self._stopped: asyncio.Event | None = None
        self._shutdown_task: asyncio.Task | None = None
        self.started = False

    @property
    def urls(self) -> list[str]:
        return [format_address(a, self.ssl is not None) for a in self.addresses]

    async def start(self) -> list:
        """Run the app's startup hooks, listen on every bind; return the bound addresses."""
        if self.started:
            return self.addresses
        # An App's life-cycle hooks run on the serving loop, whichever way it is served (run,
        # serve, a thread, the CLI, each worker); a plain handler has none.
        startup = getattr(self.app, "_fasthttp_startup", None)
        if startup is not None:
            await startup()
        loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        self.manager = manager = ConnectionManager(
            loop, self.handler, self.config, access_log=self.access_log, on_connect=self.on_connect
        )
        if self.access_log is not None:
            manager.add_periodic(self.access_log.flush)
        socks = list(self._given_sockets)
        try:
            for spec in self.binds:
                sock = make_socket(spec, reuse_port=self.reuse_port)
                socks.append(sock)
                if sock.family == socket.AF_UNIX:
                    name = sock.getsockname()
                    if isinstance(name, str) and name:
                        self._unix_paths.append(name)
            for sock in socks:
                srv = await loop.create_server(
                    manager.protocol_factory,
                    sock=sock,
                    ssl=self.ssl,
                    backlog=self.config.backlog,
                    ssl_handshake_timeout=self.config.header_timeout if self.ssl is not None else None,
                )
                self._servers.append(srv)
        except BaseException:
            for srv in self._servers:
                srv.close()
            for sock in socks:
                sock.close()
            await self._run_shutdown_hooks()
            raise
        self.sockets = socks
        self.addresses = [sock.getsockname() for sock in socks]
        manager.start()
        self.started = True
        return self.addresses

    def request_shutdown(self) -> None:
        """Start a graceful shutdown (safe to call from a signal handler on the loop)."""
        if self._shutdown_task is None and self.started:
            self._shutdown_task = asyncio.get_running_loop().create_task(self.shutdown())

    async def shutdown(self, timeout: float | None = None) -> None:
        """Stop accepting; close idle connections; give in-flight requests *timeout* seconds
        (default ``config.shutdown_timeout``); abort the rest."""
        if not self.started:
            return
        if self._stopped.is_set():
            return
        for srv in self._servers:
            srv.close()
        if timeout is None:
            timeout = self.config.shutdown_timeout
        try:
            await self.manager.shutdown(timeout)
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
                await self._run_shutdown_hooks()
            finally:
                self._stopped.set()

    async def _run_shutdown_hooks(self) -> None:
        shutdown = getattr(self.app, "_fasthttp_shutdown", None)
        if shutdown is not None:
            await shutdown()

    async def wait_closed(self) -> None:
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

    async def __aexit__(self, *exc: Any) -> None:
        await self.shutdown()


# --- running: blocking, in a loop, in a thread, in a process -------------------------------------


async def serve(app: Any, bind: Any = None, *, ready: Callable[[Server], Any] | None = None, **options: Any) -> None:
    """Serve *app* on the running loop until cancelled (then drain gracefully)."""
    server = Server(app, bind, **options)
    await server.start()
    if ready is not None:
        ready(server)
    await server.serve_forever()


def _announce(server_or_urls: Any) -> None:
    urls = server_or_urls.urls if isinstance(server_or_urls, Server) else server_or_urls
    for url in urls:
        print(f"fasthttp: listening on {url}", file=sys.stderr, flush=True)


def run(
    app: Any,
    bind: Any = None,
    *,
    workers: int = 1,
    use_uvloop: bool | None = None,
    announce: bool = True,
    **options: Any,
) -> None:
    """Serve *app* until SIGTERM or SIGINT, then drain and return (blocking).

    With *workers* > 1 the calling process becomes the master of that many forked workers (see
    the module docstring) and must be the main thread of a process without a running loop.
    """
    if workers and workers > 1:
        _Supervisor(app, bind, workers, use_uvloop, announce, options).run()
        return
    loop = new_event_loop(use_uvloop)
    try:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(_serve_with_signals(app, bind, announce, options))
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


async def _serve_with_signals(app: Any, bind: Any, announce: bool, options: dict, on_ready=None) -> None:
    server = Server(app, bind, **options)
    await server.start()
    loop = asyncio.get_running_loop()
    installed = []
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, server.request_shutdown)
            installed.append(sig)
    try:
        if announce:
            _announce(server)
        if on_ready is not None:
            on_ready(server)
        await server.wait_closed()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


class ServerThread:
    """A server running on its own event loop in a background thread.

    ``addresses``/``urls`` are known once the constructor returns (it waits until listening);
    ``stop()`` drains gracefully and joins the thread. Usable as a context manager.
    """

    def __init__(self, app: Any, bind: Any = None, *, use_uvloop: bool | None = None, timeout: float = 10.0, **options: Any) -> None:
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.server: Server | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._main, args=(app, bind, use_uvloop, options), name="fasthttp-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the server did not start in time")
        if self._error is not None:
            self._thread.join(timeout)
            raise self._error

    def _main(self, app: Any, bind: Any, use_uvloop: bool | None, options: dict) -> None:
        loop = self.loop = new_event_loop(use_uvloop)
        asyncio.set_event_loop(loop)
        try:
            server = self.server = Server(app, bind, **options)
            try:
                loop.run_until_complete(server.start())
            except BaseException as exc:
                self._error = exc
                self._ready.set()
                return
            self._ready.set()
            loop.run_until_complete(server.wait_closed())
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    @property
    def addresses(self) -> list:
        return self.server.addresses

    @property
    def urls(self) -> list[str]:
        return self.server.urls

    def stop(self, timeout: float | None = None) -> None:
        """Shut the server down gracefully and join the thread."""
        if self._thread.is_alive() and self.loop is not None and not self.loop.is_closed():
            fut = asyncio.run_coroutine_threadsafe(self.server.shutdown(timeout), self.loop)
            try:
                fut.result((timeout or self.server.config.shutdown_timeout) + 5)
            except Exception:  # pragma: no cover - the loop went away meanwhile
                pass
        self._thread.join(10)

    def __enter__(self) -> ServerThread:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_in_thread(app: Any, bind: Any = None, **options: Any) -> ServerThread:
    """Start *app* in a background thread; return once it is listening."""
    return ServerThread(app, bind, **options)


def load_app(spec: str) -> Any:
    """Import ``"module:attribute"`` (the attribute may be dotted); ``"module"`` means
    ``module:app``."""
    import importlib

    module_name, _, attr = spec.partition(":")
    if not module_name:
        raise ValueError(f"an app is written MODULE:ATTRIBUTE, not {spec!r}")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    obj: Any = importlib.import_module(module_name)
    for part in (attr or "app").split("."):
        obj = getattr(obj, part)
    return obj


def _process_main(app: Any, bind: Any, options: dict, conn: Any) -> None:
    # The child of start_server: serve, report the addresses (or the error) through the pipe.
    if isinstance(app, str):
        app = load_app(app)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    use_uvloop = options.pop("use_uvloop", None)
    loop = new_event_loop(use_uvloop)
    asyncio.set_event_loop(loop)

    def ready(server: Server) -> None:
        conn.send(("ok", server.addresses))
        conn.close()

    try:
        loop.run_until_complete(_serve_with_signals(app, bind, False, options, on_ready=ready))
    except BaseException as exc:
        try:
            conn.send(("error", repr(exc)))
        except Exception:
            pass
        raise
    finally:
        loop.close()


def start_server(app: Any, bind: Any = None, *, timeout: float = 10.0, start_method: str | None = None, **options: Any) -> tuple:
    """Run the server in its own process; return ``(process, addresses)`` once it listens.

    *app* is a ``"module:attribute"`` string (the child imports it; works with every start
    method) or an app object (needs the ``fork`` start method, the default then). The process
    drains and exits 0 on ``process.terminate()`` (SIGTERM).
    """
    import multiprocessing

    if start_method is None:
        start_method = "spawn" if isinstance(app, str) else "fork"
    ctx = multiprocessing.get_context(start_method)
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_process_main, args=(app, bind, options, child), daemon=True)
    process.start()
    child.close()
    try:
        if not parent.poll(timeout):
            process.terminate()
            raise TimeoutError("the server process did not start in time")
        kind, value = parent.recv()
    except EOFError:
        process.join(1)
        raise RuntimeError(f"the server process exited with code {process.exitcode}") from None
    finally:
        parent.close()
    if kind != "ok":
        process.join(1)
        raise RuntimeError(f"the server process failed: {value}")
    return process, value


# --- workers ----------------------------------------------------------------------------------


class _Supervisor:
    """The master of N forked workers (see the module docstring)."""

    def __init__(self, app: Any, bind: Any, workers: int, use_uvloop: bool | None, announce: bool, options: dict) -> None:
        self.app = app
        binds = bind if isinstance(bind, list) else [bind if bind is not None else DEFAULT_BIND]
        self.binds = binds
        self.workers = workers
        self.use_uvloop = use_uvloop
        self.announce = announce
        self.options = options
        self.config = Config(**_split_options(options)[0])
        self.children: dict[int, float] = {}
        self.stopping = False

    def run(self) -> None:
        # Bind once here: resolves port 0, fails early on a taken port, and holds the address.
        held: list[socket.socket] = []
        self.worker_binds: list = []
        self.shared: list[socket.socket] = []
        try:
            for spec in self.binds:
                family, _ = parse_bind(spec)
                if family == socket.AF_UNIX:
                    sock = make_socket(spec, backlog=self.config.backlog)
                    self.shared.append(sock)
                else:
                    sock = make_socket(spec, reuse_port=True)
                    self.worker_binds.append(sock.getsockname())
                held.append(sock)
            tls = bool(self.options.get("ssl") or self.options.get("certfile"))
            if self.announce:
                _announce([format_address(s.getsockname(), tls) for s in held])
            previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
            try:
                for _ in range(self.workers):
                    self._spawn()
                self._supervise()
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
        finally:
            for sock in held:
                name = sock.getsockname() if sock.family == socket.AF_UNIX else None
                sock.close()
                if isinstance(name, str) and name:
                    try:
                        os.unlink(name)
                    except OSError:
                        pass

    def _on_signal(self, signum: int, frame: Any) -> None:
        if not self.stopping:
            self.stopping = True
            self.stop_deadline = time.monotonic() + self.config.shutdown_timeout + 5
            for pid in list(self.children):
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass

    def _spawn(self) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, signal.SIG_DFL)
                sockets = list(self.shared)
                for address in self.worker_binds:
                    sockets.append(make_socket(address, reuse_port=True))
                loop = new_event_loop(self.use_uvloop)
                asyncio.set_event_loop(loop)
                loop.run_until_complete(_serve_with_signals(self.app, None, False, dict(self.options, sockets=sockets)))
                code = 0
            except BaseException:
                log.exception("worker %d failed", os.getpid())
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.children[pid] = time.monotonic()

    def _supervise(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                if self.stopping and time.monotonic() > self.stop_deadline:
                    for child in list(self.children):
                        try:
                            os.kill(child, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                time.sleep(0.05)
                continue
            started = self.children.pop(pid, None)
            if self.stopping or started is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            log.warning("worker %d exited with %d; starting a new one", pid, code)
            if time.monotonic() - started < 1.0:
                time.sleep(1.0)  # a crash loop: do not spin
            if not self.stopping:
                self._spawn()
