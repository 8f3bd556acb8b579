"""Listening sockets and TLS: bind specs, socket options, addresses as URLs, SSL contexts.

Bind specs: ``"HOST:PORT"``, ``"[V6]:PORT"`` (``"[fe80::1%eth0]:PORT"`` for a scope id),
``"unix:PATH"``, ``"unix:@NAME"`` (a Linux abstract name), or degu-style tuples (``(host, port)``
for IPv4, ``(host, port, flowinfo, scope_id)`` for IPv6, ``bytes`` for an abstract name). Port 0
asks the kernel for one; the server reports what was bound. ``[::]`` is dual-stack (IPV6_V6ONLY
off), and so is an IPv4-mapped address (``[::ffff:127.0.0.1]``); any other IPv6 address is IPv6
only.

TLS (:func:`make_ssl_context`): TLS 1.2 minimum, no compression (CRIME), no renegotiation,
forward-secret AEAD ciphers only, optional or required client certificates.
"""

from __future__ import annotations

import errno
import os
import socket
import ssl
import stat
import struct
import sys
from typing import Any, Union, cast

from .requests import PeerCredentials
from .responses import TEXT_FIELDS
from .sockio import send_and_shutdown
from .writer import write_response

__all__ = ("DEFAULT_BIND", "ListenError", "check_port_free", "compose_bind", "Address", "BindSpec", "parse_bind", "make_socket", "make_listeners", "accept_listeners", "ACCEPT_LISTENERS", "format_address", "make_ssl_context", "sniff_tls", "TLS_RECORD_START", "PLAIN_ON_TLS", "TLS_ON_PLAIN", "plain_http_on_tls_port", "tls_on_plain_port", "wants_tls_upgrade", "TLS_UPGRADE_FIELDS", "peer_credentials", "send_and_shut", "defer_accept", "accept_queue_length", "AcceptBackstop", "BACKSTOP_INTERVAL", "BACKSTOP_WAIT", "BACKSTOP_QUEUE")

DEFAULT_BIND = "127.0.0.1:8000"

#: An address as ``socket.getsockname()`` reports it: ``(host, port)`` (IPv4), ``(host, port,
#: flowinfo, scope_id)`` (IPv6), a path (AF_UNIX) or a ``bytes`` name (Linux abstract, or unnamed).
Address = Union[tuple[str, int], tuple[str, int, int, int], str, bytes]
#: What to listen on: a spec string, an :data:`Address`, or a socket already bound.
BindSpec = Union[str, bytes, bytearray, tuple[str, int], tuple[str, int, int, int], socket.socket]


def parse_bind(spec: BindSpec) -> tuple[socket.AddressFamily, Address | socket.socket]:
    """``(family, address)`` for a bind spec (see the module docstring); a socket is returned
    as its own address."""
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
    scheme, sep, rest = spec.partition("://")
    if sep and scheme.isalpha():
        raise ValueError(f"a bind has no scheme: write {rest.rstrip('/')!r}, not {spec!r}")
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


def compose_bind(host: str | None, port: int | str | None) -> str:
    """The bind spec of a *host* and a *port* (uvicorn's ``--host``/``--port``, ``app.run(host=,
    port=)``): IPv6 hosts in brackets; a missing part is :data:`DEFAULT_BIND`'s."""
    default_host, _, default_port = DEFAULT_BIND.rpartition(":")
    host = default_host if host is None else host.strip()
    port_text = default_port if port is None else str(port).strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    spec = f"[{host}]:{port_text}" if ":" in host else f"{host}:{port_text}"
    if not port_text.isdigit() or int(port_text) > 65535:
        raise ValueError(f"a port is a number from 0 to 65535, not {port!r}")
    return spec


def _port(text: str, spec: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise ValueError(f"invalid port in {spec!r}")
    return int(text)


def _inet6(host: str, port: int) -> tuple[str, int, int, int]:
    # getaddrinfo resolves a "%scope" suffix (an interface name or number) to the scope id of
    # the 4-tuple, which link-local addresses need.
    infos = socket.getaddrinfo(host, port, socket.AF_INET6, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    return cast("tuple[str, int, int, int]", infos[0][4])  # AF_INET6: always the 4-tuple


class ListenError(OSError):
    """A bind that failed, said with the address and what to do (``str()`` is the sentence;
    ``errno`` stays the system's)."""

    @classmethod
    def of(cls, exc: OSError, address: Address) -> ListenError:
        where = format_address(address).removeprefix("http://")
        advice = {
            errno.EADDRINUSE: f"address in use: {where} is already served by another process "
            "(stop it, or choose another port with --port or --bind)",
            errno.EACCES: f"permission denied to listen on {where} (ports below 1024 need "
            "privileges; choose a port above 1023, or check the directory's permissions)",
            errno.EADDRNOTAVAIL: f"address not available: {where} is not an address of this "
            "machine (use 127.0.0.1, 0.0.0.0 or one of its addresses)",
            errno.ENOENT: f"no such directory for the socket {where}",
        }.get(exc.errno or 0, f"cannot listen on {where}: {exc.strerror or exc}")
        return cls(exc.errno, advice)

    def __str__(self) -> str:
        return str(self.strerror)


def check_port_free(spec: BindSpec) -> None:
    """Raise :class:`ListenError` ("address in use") if a TCP *spec* with a fixed port is served
    already, even by sockets with SO_REUSEPORT (another worker group): the probe binds *without*
    SO_REUSEPORT, which Linux refuses while any socket listens there (socket(7)), then lets go.
    The master of a worker group calls it before its own SO_REUSEPORT binds, so its workers
    still share the port while a second group fails at start. Port 0 and AF_UNIX need none."""
    family, address = parse_bind(spec)
    if isinstance(address, tuple) and address[1] != 0:
        make_socket(spec).close()


def make_socket(spec: BindSpec, *, reuse_port: bool = False, backlog: int | None = None) -> socket.socket:
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
        elif isinstance(address, tuple):
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
        try:
            sock.bind(address)
        except OSError as exc:
            raise ListenError.of(exc, address) from None
        if backlog is not None:
            sock.listen(backlog)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


#: Listening sockets per TCP address when uvloop serves on Linux (:func:`accept_listeners`).
ACCEPT_LISTENERS = 8


def accept_listeners(configured: int | None, uvloop: bool) -> int:
    """How many listening sockets serve one TCP address: *configured* (``Config.accept_listeners``),
    or by default :data:`ACCEPT_LISTENERS` on uvloop on Linux, else 1.

    PERF (issue 17, benchmarks/server "New connection per request"): libuv accepts one
    connection per listening socket per loop iteration (``uv__server_io``), so under a stream
    of new connections every connection paid a loop iteration of its own (an ``epoll_wait``, an
    ``io_uring_enter`` for its registration, the loop's callbacks: strace). Several sockets on
    the address (SO_REUSEPORT: the kernel spreads connections over them by address hash) are
    ready together, so one iteration accepts several connections and shares those system calls.
    Measured (one worker, ``wrk -c64`` with ``Connection: close``, server CPU per connection,
    same run): one socket 55-57 µs, two 48-50, four 45-46, eight 41-45, sixteen 41-42. The
    asyncio loop accepts up to the backlog per readiness already (``_accept_connection``), and
    SO_REUSEPORT spreads connections over a group only on Linux: one socket elsewhere."""
    if configured is not None:
        return configured
    return ACCEPT_LISTENERS if uvloop and sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT") else 1


def make_listeners(
    spec: BindSpec, count: int = 1, *, reuse_port: bool = False, backlog: int | None = None
) -> list[socket.socket]:
    """The listening sockets of one bind spec: :func:`make_socket`'s one, or *count* sockets
    bound to the same TCP address with SO_REUSEPORT (port 0 is resolved by the first; see
    :func:`accept_listeners` for why). An AF_UNIX spec, or a socket given as the spec, stays
    one socket.

    Unless *reuse_port* asks to share the address with other processes, the address is probed
    first (:func:`check_port_free`): a second server on a served port fails with "address in
    use" rather than joining the group and taking a share of its connections."""
    family, address = parse_bind(spec)
    if count <= 1 or family == socket.AF_UNIX or not isinstance(address, tuple):
        return [make_socket(spec, reuse_port=reuse_port, backlog=backlog)]
    if not reuse_port:
        check_port_free(spec)
    first = make_socket(spec, reuse_port=True, backlog=backlog)
    socks = [first]
    try:
        for _ in range(count - 1):
            socks.append(make_socket(first.getsockname(), reuse_port=True, backlog=backlog))
    except BaseException:
        for sock in socks:
            sock.close()
        raise
    return socks


def format_address(address: Address, tls: bool = False) -> str:
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


# --- the wrong protocol on a port ------------------------------------------------------------------

#: The body of the answer to plain HTTP on a TLS port (nginx answers the same case with "The plain
#: HTTP request was sent to HTTPS port").
PLAIN_ON_TLS = b"This port speaks HTTPS: the plain HTTP request was sent to an HTTPS port. Use an https:// URL.\n"
#: The body of the answer to a TLS handshake on a plain port.
TLS_ON_PLAIN = b"This port speaks plain HTTP: a TLS handshake was sent to it. Use an http:// URL.\n"


#: A connection's first read starts a TLS handshake record when its first byte is this one
#: (RFC 8446 §5.1: content type 22): ``data[:1] == TLS_RECORD_START``. The first byte decides
#: alone: byte 22 cannot begin an HTTP request (a method is a token, and only CR/LF may precede
#: it, RFC 9112 §2.2, §3), and a read may bring a single byte, so waiting for the record version
#: would make the answer depend on how the client's bytes were split.
TLS_RECORD_START = b"\x16"


def sniff_tls(first: bytes) -> bool | None:
    """Is a connection's first data meant for TLS? False for what reads as an HTTP request line
    (a method starts with a letter, RFC 9110 §9.1; empty lines may precede it, RFC 9112 §2.2),
    True for anything else (a TLS record starts with byte 22, RFC 8446 §5.1; other bytes are
    left to the handshake to refuse), None for no bytes yet."""
    if not first:
        return None
    b0 = first[0]
    return not (0x41 <= b0 <= 0x5A or 0x61 <= b0 <= 0x7A or b0 in (0x0D, 0x0A))


def plain_http_on_tls_port(server: str | bytes | None = None) -> bytes:
    """The plaintext 400 for an HTTP request on a TLS listener (RFC 9110 §15.5.1), which closes
    the connection: a client that sent plain HTTP reads it, and learns to use https."""
    return write_response(400, TEXT_FIELDS, PLAIN_ON_TLS, keep_alive=False, server=server)


def tls_on_plain_port(server: str | bytes | None = None) -> bytes:
    """The 400 for a TLS ClientHello on a plain listener. A TLS client cannot parse it (it
    reports a wrong record version), but whoever looks at the bytes (``curl -v``, ``openssl
    s_client``) reads what to do; a bare close would say nothing."""
    return write_response(400, TEXT_FIELDS, TLS_ON_PLAIN, keep_alive=False, server=server)


# --- RFC 2817: upgrading a plain connection to TLS -----------------------------------------------

#: The fields of the 101 that starts TLS on a plain connection (RFC 2817 §3.3: the upgrade
#: protocols, TLS first, and Connection: Upgrade, RFC 9110 §7.8).
TLS_UPGRADE_FIELDS = (("Upgrade", "TLS/1.2, HTTP/1.1"), ("Connection", "Upgrade"))


def wants_tls_upgrade(upgrade: str | None) -> bool:
    """Does an ``Upgrade`` field value offer TLS (RFC 2817 §3.1: ``TLS/1.0``; any ``TLS/1.x``
    is taken, RFC 9110 §7.8 protocol names are case-insensitive)?"""
    if not upgrade:
        return False
    return any(token.strip().upper().startswith("TLS/1.") for token in upgrade.split(","))


# --- who is on the other end of an AF_UNIX connection ----------------------------------------------

_UCRED = struct.Struct("3i")  # struct ucred: pid_t pid; uid_t uid; gid_t gid (unix(7))


def peer_credentials(conn: Any) -> PeerCredentials | None:
    """``(pid, uid, gid)`` of the process at the other end of an AF_UNIX connection (*conn* is
    a socket or an asyncio transport), from ``SO_PEERCRED`` (Linux); None for other sockets,
    or where the system has no such option."""
    sock = conn if isinstance(conn, socket.socket) else conn.get_extra_info("socket")
    option = getattr(socket, "SO_PEERCRED", None)
    if sock is None or option is None or sock.family != socket.AF_UNIX:
        return None
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, option, _UCRED.size)
    except OSError:
        return None
    return PeerCredentials(*_UCRED.unpack(raw))


def send_and_shut(transport: Any, data: bytes) -> bool:
    """Write *data*, the last bytes of a plain (not TLS) connection, and end its output (FIN) at
    once; True when the FIN went, False when the transport's own close must end it (*data* is
    then handed to the transport, unless the peer is already gone).

    RFC 9112 §9.6: the server that sends ``Connection: close`` ends its side after that response.
    Why here, not by ``transport.close()`` alone: the transport closes in a later loop turn, so
    the response reaches the client first; a client that closes once it has a complete response
    (wrk, browsers for ``close``) then sends its FIN while ours is still pending, and the two
    cross: a simultaneous close, two more segments, and a TIME_WAIT on the client's side (its
    next ``connect`` must step over it). Here the response goes with ``MSG_MORE`` and the
    ``shutdown(SHUT_WR)`` that follows puts the FIN on its segment: the client reads the response
    and the end together, and the server's side closes first (the TIME_WAIT is its own), as
    nginx's and uWebSockets' do.

    Only when nothing waits in the transport's buffer (bytes keep their order) and the transport
    has a socket. The caller still closes the transport (it owns the descriptor).
    """
    sock = None if transport.get_write_buffer_size() else transport.get_extra_info("socket")
    if sock is None:
        if data:
            transport.write(data)
        return False
    # PERF (issue 17, the close scenario): the sockio kernel's send_and_shutdown, on the
    # descriptor itself (no socket object: its construction validates the descriptor with one
    # more system call). The socket object is the loop's: uvloop's costs one getsockname on its
    # first use (no cheaper public way to the descriptor), the stdlib loop's none.
    try:
        n = send_and_shutdown(sock.fileno(), data)
    except OSError:  # the peer is gone: the transport's close meets the same error
        return False
    if n < len(data):  # full (rare: nothing is queued): the transport sends the rest
        transport.write(data[n:])
        return False
    return True


_DEFER_ACCEPT: int | None = getattr(socket, "TCP_DEFER_ACCEPT", None)


def defer_accept(sock: socket.socket, seconds: int) -> bool:
    """Set ``TCP_DEFER_ACCEPT`` on a TCP listening socket (``Config.defer_accept``): the kernel
    completes the handshake but queues the connection for ``accept`` only when its first bytes
    arrive (a silent one after about *seconds*). True when set; AF_UNIX sockets, platforms
    without the option (it is Linux's) and *seconds* 0 leave the socket as it is.

    Why (issue 17, a new connection per request): without it the connection is accepted on the
    client's ACK and its request arrives a moment later, so the server wakes twice per connection
    (accept, then read), and each wake-up of a sleeping server is paid in the client's own system
    call on loopback. Deferred, the request is already there when the connection is accepted.
    """
    if not seconds or _DEFER_ACCEPT is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return False
    try:
        sock.setsockopt(socket.IPPROTO_TCP, _DEFER_ACCEPT, seconds)
    except OSError:  # not a TCP socket after all (a given socket of another kind)
        return False
    return True


_TCP_INFO: int | None = getattr(socket, "TCP_INFO", None) if sys.platform.startswith("linux") else None
# struct tcp_info (linux/tcp.h): eight one-byte fields, then rto, ato, snd_mss, rcv_mss and
# tcpi_unacked, which on a listening socket is the accept queue's length (sk_ack_backlog).
_TCPI_UNACKED = struct.Struct("=8xIIIII")


def accept_queue_length(sock: socket.socket) -> int | None:
    """How many connections wait in a TCP listening socket's accept queue (Linux: ``TCP_INFO``'s
    ``tcpi_unacked``, which ``ss -lnt`` shows as Recv-Q); None where that cannot be read (other
    systems, AF_UNIX, a closed socket)."""
    if _TCP_INFO is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return None
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, _TCP_INFO, _TCPI_UNACKED.size)
    except OSError:
        return None
    if len(info) < _TCPI_UNACKED.size:
        return None
    return cast(int, _TCPI_UNACKED.unpack_from(info)[4])


#: Seconds between two looks at the accept queues while connections arrive (AcceptBackstop).
BACKSTOP_INTERVAL = 0.005
#: A queue whose connections would wait longer than this for uvloop's accepts is drained at once,
BACKSTOP_WAIT = 0.010
#: if it holds at least this many: one connection is the loop's next accept, as soon as the
#: backstop's own would be served; from two on, the last of them waits one loop iteration or more.
BACKSTOP_QUEUE = 2


class AcceptBackstop:
    """Accepts the connections uvloop's listeners would leave waiting in their queues under a
    burst, while the loop serves the connections it already has.

    Why (issue 17, 1,000 connections): libuv accepts ONE connection per listening socket per
    loop iteration (since libuv 1.45, "unix: don't accept() connections in a loop"), while the
    same iteration serves every connection that has a request ready. A burst of new connections
    that arrives while the server is busy (1,000 keep-alive clients opening together, each
    sending its next request the moment it has an answer) then waits in the accept queue for
    about burst / listeners iterations, each longer than the last: measured with
    ``TCP_DEFER_ACCEPT`` (a connection is queued only once its request is there, so always
    while the earlier ones are being served), the last of 1,000 connections got its first
    answer 1.3 s after sending its request (tcpdump: the kernel ACKed the request at once; no
    drop, no retransmission), p99 0.2-1.8 s against 18-90 ms without the option (where the
    queue fills during the client's connect phase, before any request, and drains at idle
    speed). The kernel counters showed nothing because nothing was dropped: it was a queue.

    How: while connections arrive (each listener's protocol factory, :meth:`factory_for`,
    counts its accepts and arms a timer), every :data:`BACKSTOP_INTERVAL` each socket's accept
    queue is read (:func:`accept_queue_length`: one ``getsockopt``). The loop accepts one per
    socket per iteration, and the accepts counted since the last look say how many iterations
    that was, so a queue of *q* waits about *q* x (time since the last look / accepts); one
    that would wait longer than :data:`BACKSTOP_WAIT` is accepted here at once and its
    connections handed to the loop (``connect_accepted_socket``), however short it is (from
    :data:`BACKSTOP_QUEUE`, two: a burst's last connections were left one per long iteration).
    That path costs more per connection than uvloop's own accept (about 20 µs in a burst of
    1,000: the accept, the transport, a coroutine), so a queue the loop drains in time is left to it: a
    stream of new connections (each served and closed in a few iterations) never reaches the
    threshold. An idle server has no timer.
    """

    def __init__(
        self,
        loop: Any,
        socks: list[socket.socket],
        factory: Any,
        interval: float = BACKSTOP_INTERVAL,
        wait: float = BACKSTOP_WAIT,
        queue: int = BACKSTOP_QUEUE,
    ) -> None:
        self._loop = loop
        self._factory = factory
        self._interval = interval
        self._wait = wait
        self._queue = max(2, queue)
        self._gates = [_Gate(self, s) for s in socks if s.family in (socket.AF_INET, socket.AF_INET6)]
        self._timer: Any = None
        self._last = loop.time()  # loop time of the last look (or of the arming)
        self._turn = -1  # the socket read at the last look (check)
        self._closed = False
        self.drained = 0  # connections accepted here (for tests and curiosity)

    def factory_for(self, sock: socket.socket) -> Any:
        """The protocol factory to give *sock*'s listener: *factory*'s protocol, counted; the
        plain *factory* for a socket the backstop does not watch (AF_UNIX)."""
        for gate in self._gates:
            if gate.sock is sock:
                return gate.protocol
        return self._factory

    @property
    def armed(self) -> bool:
        """Is a look at the queues due (connections arrived lately)? An idle server has no timer."""
        return self._timer is not None

    def arm(self) -> None:
        """Look at the queues in :data:`BACKSTOP_INTERVAL` (a connection arrived)."""
        if self._timer is None and not self._closed:
            self._last = self._loop.time()
            self._timer = self._loop.call_later(self._interval, self.check)

    def close(self) -> None:
        """Stop looking (the server stops accepting)."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def check(self) -> None:
        """Accept at once every queue that would wait too long; look again later while
        connections keep arriving.

        PERF: a ``getsockopt`` costs about as much as a connection's accept, so while the loop
        turns fast (a stream of new connections, each served in a few iterations) one socket is
        read per look, in turn, and all of them only when it is long: SO_REUSEPORT spreads a
        burst evenly over the sockets (by address hash), so their queues grow together. While
        its iterations are long (at most one accept per socket per iteration: *elapsed* over
        the most accepts on a socket bounds an iteration's length) even a short queue waits
        too long, and every socket is read: the tail of a burst (issue 17, 1,000 connections,
        ``TCP_DEFER_ACCEPT``) is a few connections left on one or two of the sockets, which the
        loop accepted one per 13-50 ms iteration (first requests answered up to 0.7 s late)
        while a look read the other sockets, or saw each queue under the old 16."""
        self._timer = None
        if self._closed or not self._gates:
            return
        now = self._loop.time()
        elapsed = now - self._last
        gates = self._gates
        self._turn = turn = (self._turn + 1) % len(gates)
        counts = [gate.accepted for gate in gates]
        for gate in gates:
            gate.accepted = 0
        slow = elapsed * self._queue >= self._wait * max(max(counts), 1)
        if slow or self._overdue(gates[turn].sock, counts[turn], elapsed):
            for gate, accepted in zip(gates, counts):
                waiting = self._overdue(gate.sock, accepted, elapsed)
                if waiting:
                    self._drain(gate.sock, waiting)
        if any(counts):
            self._last = now
            self._timer = self._loop.call_later(self._interval, self.check)

    def _overdue(self, sock: socket.socket, accepted: int, elapsed: float) -> int:
        """*sock*'s queue length if it would wait too long for the loop's accepts (one per
        iteration: *accepted* of them in *elapsed* seconds), else 0."""
        waiting = accept_queue_length(sock)
        if waiting is not None and waiting >= self._queue and waiting * elapsed >= self._wait * max(accepted, 1):
            return waiting
        return 0

    def _drain(self, sock: socket.socket, count: int) -> None:
        for _ in range(count):
            try:
                conn, _ = sock.accept()
            except (BlockingIOError, InterruptedError):
                return  # the loop's own accept took the rest
            except OSError as exc:
                if exc.errno == errno.ECONNABORTED:
                    continue
                return  # EMFILE and kin: the loop's listener meets them too, and reports them
            self.drained += 1
            _Handover(self._loop, self._loop.connect_accepted_socket(self._factory, conn)).step()


class _Handover:
    """Hands an accepted connection to the loop at once: runs ``connect_accepted_socket`` here as
    far as it goes (the protocol and transport made, ``connection_made`` due on the loop's ready
    queue) and the rest when the future it waits for is done, as a Task would, but without a
    Task's first step waiting on the ready queue.

    PERF (issue 17, 1,000 connections): under a burst each loop iteration serves hundreds of
    requests (13-50 ms), and a Task (``create_task``) made in the backstop's timer callback
    starts in that iteration's ready queue, so ``connection_made`` (queued by the transport)
    ran one iteration later and the request was read the iteration after: driven here, it runs
    in this iteration's ready queue and the request is read in its poll, one iteration sooner
    for every connection the backstop accepts. It also saves the Tasks: 1,000 queued
    connections to their ``connection_made`` in 20-21 ms of CPU, against 20-30 ms with Tasks."""

    __slots__ = ("coro", "loop")

    def __init__(self, loop: Any, coro: Any) -> None:
        self.loop = loop
        self.coro = coro

    def step(self, _done: Any = None) -> None:
        try:
            future = self.coro.send(None)
        except StopIteration:
            return
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:
            # A connection reset (or the server closed) before its transport was made: the loop
            # closed the transport; nothing to serve.
            return
        if future is None:  # a bare yield: resume on the next turn, as a Task does
            self.loop.call_soon(self.step)
        else:
            future.add_done_callback(self.step)


class _Gate:
    """One listening socket of an :class:`AcceptBackstop`: its accepts since the last look."""

    __slots__ = ("accepted", "backstop", "sock")

    def __init__(self, backstop: AcceptBackstop, sock: socket.socket) -> None:
        self.backstop = backstop
        self.sock = sock
        self.accepted = 0

    def protocol(self) -> Any:
        # PERF: called by uvloop for each connection it accepts on this socket: a count, a
        # check, and the factory's call.
        self.accepted += 1
        backstop = self.backstop
        if backstop._timer is None:
            backstop.arm()
        return backstop._factory()

