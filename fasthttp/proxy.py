"""Tunnels and proxies: CONNECT tunnels for a forward proxy, and a reverse-proxy handler.

Strategy
--------
**Tunnels** (RFC 9110 §9.3.6). CONNECT is routed like any method (``app.route("/",
methods=["CONNECT"])``, by host like other routes; its authority-form target is
``request.target``). :func:`open_tunnel` connects to that authority first, so a refused or
unresolvable one is a 502 and a slow one a 504 before anything is promised; then it returns an
:class:`~fasthttp.responses.Upgrade` with status 200, and the engine hands the client's transport
to the tunnel with the bytes that already followed the request. A :class:`Tunnel` relays bytes
both ways with flow control (a side whose write buffer is full pauses reading on the other
side, so memory stays at two transport buffers), propagates half-closes (``write_eof``), and has
its own idle timeout, reset by any byte either way: the engine's keep-alive timeout never cuts a
tunnel while data flows. Graceful shutdown aborts it with the other upgraded connections.

**Reverse proxy** (degu's ``Proxy``). :class:`ReverseProxy` is a handler: each request goes to one
upstream HTTP/1.1 server through ``fasthttp.client`` (:meth:`Client.send
<fasthttp.client.Client.send>` over its :class:`~fasthttp.client.ConnectionPool`: one home for
talking to an upstream, framing included, on the response-parser kernel). The request body is
streamed to it as it arrives (with its Content-Length, or chunked when its length is unknown),
the response body streamed back as the upstream sends it, with backpressure both ways; a body
that arrived with the response head goes back in one write. Field names keep their case and
order both ways. Hop-by-hop fields (RFC 9110 §7.6.1: ``Connection`` and the fields it names,
``Keep-Alive``, ``TE``, ``Trailer``, ``Transfer-Encoding``, ``Upgrade``, ``Proxy-*``) are
removed in both directions (``Trailer`` stays on a chunked response, whose trailers are
relayed); ``Forwarded`` (RFC 7239) gets this hop appended and ``Via`` (RFC 9110 §7.6.3) names
it. A response keeps the upstream's framing semantics: none for HEAD (its Content-Length
announced), 204 and 304 (and no Content-Type invented for them). Upstream failures: refused,
reset or malformed is 502, no connection or no response head within the timeouts is 504 (RFC
9110 §15.6.3, §15.6.5), no free pooled connection in time 503; once the response has started,
a failure can only abort the client's connection. The client retries a request once on a
fresh connection when a pooled one turns out closed, for idempotent requests without a
streamed body only (RFC 9112 §9.3.1).

**Upgrades through the reverse proxy** (RFC 9110 §7.8, RFC 6455 §4). ``Upgrade`` is hop-by-hop,
so a proxy passes an upgrade on only by choice: a bodiless HTTP/1.1 request asking for one of
the proxy's *upgrades* (``websocket`` by default; never ``h2c``, whose upgrade would let the
client speak past the proxy's routing) gets a connection of its own to the upstream, not a
pooled one, carrying ``Connection: Upgrade`` and the ``Upgrade`` field. A 101 from the upstream
that names a protocol the client asked for is relayed (its end-to-end fields, such as
``Sec-WebSocket-Accept``, as they came), and both connections become a :class:`Tunnel`, the
bytes the upstream sent after its 101 included. Any other final answer is relayed as an
ordinary response (its content bounded by *max_upgrade_reply*) and the upstream connection
closed; a 101 naming a protocol nobody asked for is a 502.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from .client import Client, ConnectionPool, Limits, Prepared, Timeouts
from .client import Response as ClientResponse
from .errors import ClientError, ClientTimeout, HttpError, ResponseProtocolError
from .requests import Request
from .responseparser import EndOfMessage, ResponseHead, ResponseParser
from .responses import Response, StreamingResponse, Upgrade, error_response

__all__ = ("open_tunnel", "Tunnel", "ReverseProxy", "HOP_BY_HOP", "parse_authority")

log = logging.getLogger("fasthttp.server")

#: RFC 9110 §7.6.1: fields meaningful for one connection only, never forwarded.
HOP_BY_HOP = frozenset(
    ("connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "proxy-authenticate", "proxy-authorization")
)


def parse_authority(target: bytes | str) -> tuple[str, int]:
    """``(host, port)`` of an authority-form target (RFC 9112 §3.2.3: ``host:port``,
    ``[v6]:port``); a port is required. ValueError otherwise."""
    text = target.decode("latin-1") if isinstance(target, bytes) else target
    if text.startswith("["):
        end = text.find("]")
        host, rest = text[1:end], text[end + 1 :]
        if end < 0 or not rest.startswith(":"):
            raise ValueError(f"not an authority: {text!r}")
        port_text = rest[1:]
    else:
        host, _, port_text = text.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"not host:port: {text!r}")
    return host, int(port_text)


# -- tunnels ------------------------------------------------------------------------------------------


class _Side(asyncio.Protocol):
    """One end of a :class:`Tunnel`: what it reads is written to the other end."""

    def __init__(self, tunnel: Tunnel) -> None:
        self.tunnel = tunnel
        self.transport: Any = None
        self.peer: _Side | None = None
        self.eof = False
        self.pending: list[bytes] = []  # read before the other end existed

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.tunnel.side_ready(self)

    def data_received(self, data: bytes) -> None:
        tunnel = self.tunnel
        tunnel.last_activity = time.monotonic()
        tunnel.bytes_relayed += len(data)
        peer = self.peer
        if peer is None or peer.transport is None:
            self.pending.append(data)
            self.transport.pause_reading()
            return
        peer.transport.write(data)

    def eof_received(self) -> bool | None:
        self.eof = True
        peer = self.peer
        if peer is not None and peer.transport is not None and peer.transport.can_write_eof():
            peer.transport.write_eof()  # the half-close goes through
        if peer is not None and peer.eof:
            self.tunnel.close()
            return None
        return True  # keep our write side open until the other end is done too

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.tunnel.close()

    # Flow control: our write buffer is full, so stop reading from the other end.
    def pause_writing(self) -> None:
        peer = self.peer
        if peer is not None and peer.transport is not None:
            peer.transport.pause_reading()

    def resume_writing(self) -> None:
        peer = self.peer
        if peer is not None and peer.transport is not None:
            peer.transport.resume_reading()


class Tunnel:
    """A byte relay between a client and an upstream connection (see the module docstring).
    ``client`` and ``upstream`` are the two protocols; ``idle_timeout`` (seconds, None: none)
    closes a tunnel with no byte either way for that long."""

    def __init__(self, idle_timeout: float | None = 300.0, write_high_water: int = 64 * 1024) -> None:
        self.client = _Side(self)
        self.upstream = _Side(self)
        self.client.peer = self.upstream
        self.upstream.peer = self.client
        self.idle_timeout = idle_timeout
        self.write_high_water = write_high_water
        self.last_activity = time.monotonic()
        self.bytes_relayed = 0
        self.closed = False
        self._timer: asyncio.TimerHandle | None = None

    def side_ready(self, side: _Side) -> None:
        side.transport.set_write_buffer_limits(high=self.write_high_water)
        if self.idle_timeout and self._timer is None:
            # From the first side on: a side whose peer never comes is closed too.
            self._timer = asyncio.get_running_loop().call_later(self.idle_timeout, self._check_idle)
        peer = side.peer
        assert peer is not None
        if peer.transport is None:
            return
        # Both ends are connected: deliver what waited, start the idle watch.
        for s in (side, peer):
            if s.pending:
                data, s.pending = b"".join(s.pending), []
                s.peer.transport.write(data)  # type: ignore[union-attr]
                s.transport.resume_reading()

    def _check_idle(self) -> None:
        self._timer = None
        if self.closed or not self.idle_timeout:
            return
        idle = time.monotonic() - self.last_activity
        if idle >= self.idle_timeout:
            log.info("tunnel idle for %.0f s: closed", idle)
            self.close()
            return
        self._timer = asyncio.get_running_loop().call_later(self.idle_timeout - idle, self._check_idle)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for side in (self.client, self.upstream):
            if side.transport is not None and not side.transport.is_closing():
                side.transport.close()


async def open_tunnel(
    request: Request,
    *,
    connect_timeout: float = 10.0,
    idle_timeout: float | None = 300.0,
    allow: Any = None,
) -> Upgrade | Response:
    """Answer a CONNECT *request*: connect to its authority, then take the connection over as a
    :class:`Tunnel` (200), or answer 400 (no authority), 403 (*allow* ``(host, port) -> bool``
    said no), 502 (refused, unresolvable) or 504 (no connection within *connect_timeout*)."""
    if request.method != "CONNECT":
        return error_response(405, "only CONNECT opens a tunnel", [("Allow", "CONNECT")])
    try:
        host, port = parse_authority(request.target)
    except ValueError as exc:
        return error_response(400, str(exc))
    if allow is not None and not allow(host, port):
        return error_response(403, f"tunnels to {host}:{port} are not allowed")
    tunnel = Tunnel(idle_timeout)
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(loop.create_connection(lambda: tunnel.upstream, host, port), connect_timeout)
    except asyncio.TimeoutError:
        return error_response(504, f"no connection to {host}:{port} within {connect_timeout} s")
    except OSError as exc:
        return error_response(502, f"cannot connect to {host}:{port}: {exc.strerror or exc}")
    return Upgrade(lambda: tunnel.client, status=200)


# -- the reverse proxy ----------------------------------------------------------------------------------


def _hop_names(fields: list[tuple[bytes, bytes]]) -> set[bytes]:
    """The hop-by-hop names of a header section (lower-case bytes): the fixed ones and those
    ``Connection`` lists (RFC 9110 §7.6.1)."""
    names = set(_HOP_BYTES)
    for name, value in fields:
        if len(name) == 10 and name.lower() == b"connection":
            names.update(token.strip(b" \t").lower() for token in value.split(b",") if token.strip(b" \t"))
    return names


_HOP_BYTES = frozenset(name.encode() for name in HOP_BY_HOP)
# The engine frames and dates its own response (RFC 9112 §6, RFC 9110 §6.6.1).
_OWN_RESPONSE_FIELDS = frozenset((b"content-length", b"date"))
# The proxy writes these itself on the request: Host, the framing, this hop's Forwarded.
_OWN_REQUEST_FIELDS = frozenset((b"host", b"content-length", b"forwarded"))
# RFC 9110 §6.5.1: framing, routing and authentication never come from trailers.
_TRAILER_DENIED = _HOP_BYTES | {b"content-length", b"host", b"authorization", b"set-cookie", b"content-type"}


def _forwarded_node(client: Any) -> str:
    """RFC 7239 §6: an IPv6 address is quoted and bracketed; AF_UNIX peers are "unknown"."""
    if isinstance(client, tuple):
        host = str(client[0])
        return f'"[{host}]"' if ":" in host else host
    return "unknown"


class _Relay:
    """The response body given to the engine: the upstream response's pieces as they arrive.
    Closing it (the engine does when the client goes away, even before the first piece) gives
    the upstream connection back to the pool, closed unless the content was read to its end."""

    __slots__ = ("_upstream", "_pieces")

    def __init__(self, upstream: ClientResponse) -> None:
        self._upstream = upstream
        self._pieces = upstream.stream()

    def __aiter__(self) -> _Relay:
        return self

    async def __anext__(self) -> bytes:
        return await self._pieces.__anext__()

    async def aclose(self) -> None:
        await self._pieces.aclose()  # type: ignore[attr-defined]
        await self._upstream.aclose()

    def trailers(self) -> list[tuple[bytes, bytes]] | None:
        return _trailer_fields(self._upstream)


def _trailer_fields(upstream: ClientResponse) -> list[tuple[bytes, bytes]] | None:
    """The upstream's trailer fields to relay, once its content is read (RFC 9112 §7.1.2)."""
    trailers = upstream.trailers
    if not trailers:
        return None
    return [(n, v) for n, v in trailers.raw() if n.lower() not in _TRAILER_DENIED] or None


class ReverseProxy:
    """A handler that forwards every request to *upstream* (``http://host:port`` or
    ``unix:/path``) and streams the answer back (see the module docstring). *timeout* bounds
    each wait for the upstream (the response head, then each piece of its content: 504 before
    the head); *connect_timeout* the connection (504); at most *max_connections* are open (a
    request waits up to *timeout* for one, then 503) and *max_idle* kept between requests.
    ``await proxy.close()`` (or an app shutdown hook) drops the idle upstream connections.
    *upgrades* are the ``Upgrade`` protocols passed on to the upstream (case-insensitive; empty:
    none), each upgraded connection a :class:`Tunnel` closed after *upgrade_idle_timeout*
    seconds without a byte either way.

    ``app.route("/:path*", methods=[...])(ReverseProxy("http://127.0.0.1:8080"))``
    """

    def __init__(
        self,
        upstream: str,
        *,
        max_connections: int = 64,
        max_idle: int = 16,
        connect_timeout: float = 5.0,
        timeout: float = 30.0,
        via: str = "fasthttp",
        upgrades: tuple[str, ...] | list[str] = ("websocket",),
        upgrade_idle_timeout: float | None = 300.0,
        max_upgrade_reply: int = 1 << 20,
    ) -> None:
        if upstream.startswith("unix:"):
            unix: str | None = upstream[5:]
            host, port, self.authority = "localhost", 80, "localhost"
        else:
            parts = urlsplit(upstream)
            if parts.scheme != "http" or not parts.hostname:
                raise ValueError(f"upstream is http://HOST:PORT or unix:PATH, not {upstream!r}")
            unix, host, port = None, parts.hostname, parts.port or 80
            self.authority = parts.netloc
        self.origin = ("http", host, port)
        self.unix = unix
        self.url = f"http://{self.authority}"
        self.connect_timeout = connect_timeout
        self.upgrades = frozenset(token.lower() for token in upgrades)
        if "h2c" in self.upgrades:
            raise ValueError("h2c is not passed on: it would let a client speak past the proxy (RFC 9113 §3.1)")
        self.upgrade_idle_timeout = upgrade_idle_timeout
        self.max_upgrade_reply = max_upgrade_reply
        limits = Limits(max_connections=max_connections, max_per_host=max_connections, max_idle_per_host=max_idle)
        timeouts = Timeouts(connect=connect_timeout, read=timeout, write=timeout, pool=timeout)
        #: The client every request goes through; ``client.pool`` holds the upstream connections.
        self.client = Client(limits=limits, timeout=timeouts, unix_socket=unix, cookies=None, follow_redirects=False)
        self.timeout = timeout
        self.via = via
        self._via_request = (f"1.0 {via}", f"1.1 {via}")

    @property
    def pool(self) -> ConnectionPool:
        """The upstream connections (``stats()``: open and idle)."""
        return self.client.pool

    async def close(self) -> None:
        await self.client.aclose()

    async def __call__(self, request: Request) -> Response | StreamingResponse | Upgrade:
        if request.method == "CONNECT":
            # a tunnel is open_tunnel's; a 2xx to CONNECT would end HTTP on the upstream connection
            return error_response(405, "CONNECT is not forwarded by a reverse proxy")
        if self.upgrades and request.head.upgrade and request.body_reader is None:
            asked = self._asked(request)
            if asked:
                return await self._upgrade(request, asked)
        try:
            upstream = await self.client.send(self._prepare(request))
        except HttpError:
            raise  # the client's own body failed (413, 400): its status, not the upstream's
        except ClientTimeout as exc:
            return self._failed(request, 503 if exc.phase == "pool" else 504, f"no {exc.phase} from the upstream within {exc.timeout} s" if exc.phase != "pool" else "no upstream connection free in time")
        except (ClientError, ValueError) as exc:
            return self._failed(request, 502, f"bad response from the upstream: {exc}")
        head_fields = upstream.headers.raw()
        status = upstream.status
        if status == 101:
            # RFC 9110 §7.8: Upgrade is hop-by-hop and was not forwarded; a 101 cannot be relayed
            await upstream.aclose()
            return self._failed(request, 502, "the upstream switched protocols unasked")
        hop = _hop_names(head_fields)
        hop |= _OWN_RESPONSE_FIELDS
        chunked = upstream.chunked
        if chunked:
            hop.discard(b"trailer")  # its trailers are relayed (RFC 9110 §6.6.2)
        fields: list[tuple[Any, Any]] = [(n, v) for n, v in head_fields if n.lower() not in hop]
        fields.append((b"Via", b"1.0 " + self.via.encode() if upstream.version == "1.0" else b"1.1 " + self.via.encode()))
        length = upstream.content_length
        if status == 204 or status == 304:
            # no content (RFC 9110 §15.3.5, §15.4.5): the fields as they came, no Content-Type added
            upstream.read_ready()
            return _exact(Response(b"", status), fields)
        if request.method == "HEAD":
            # RFC 9110 §9.3.2: the length the GET would have had, announced, nothing sent
            upstream.read_ready()
            return _exact(StreamingResponse((), status, content_length=length), fields)
        data = upstream.read_ready()
        if data is not None:
            trailers = _trailer_fields(upstream)
            if trailers is None:
                # PERF: the whole body came with the head (small responses): one Response,
                # written with the head in one write, and no sender Task (the proxy figures,
                # issue 16).
                return _exact(Response(data, status), fields)
            return _exact(StreamingResponse((data,), status, trailers=trailers), fields)
        body = _Relay(upstream)
        return _exact(StreamingResponse(body, status, content_length=length, trailers=body.trailers if chunked else None), fields)

    def _failed(self, request: Request, status: int, detail: str) -> Response:
        log.info("upstream failed for %s %s: %s", request.method, request.target.decode("latin-1"), detail)
        return error_response(status, detail)

    def _asked(self, request: Request) -> frozenset[str]:
        """The protocols of the request's ``Upgrade`` field that this proxy passes on."""
        offered = ",".join(request.headers.getall("upgrade"))
        return frozenset(t.strip(" \t").lower() for t in offered.split(",")) & self.upgrades

    def _forwarding_fields(self, request: Request, hop: set[bytes]) -> list[tuple[str, str]]:
        """The client's fields for the upstream, less *hop*, plus this hop's ``Forwarded``
        (RFC 7239 §4) and ``Via`` (RFC 9110 §7.6.3)."""
        raw = request.headers.raw()
        fields = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in raw if n.lower() not in hop]
        host = request.headers.get("host")
        node = f"for={_forwarded_node(request.client)};proto={request.scheme}"
        if host:
            node += f';host="{host}"'
        earlier = request.headers.getall("forwarded")
        fields.append(("Forwarded", ", ".join([*earlier, node]) if earlier else node))
        fields.append(("Via", self._via_request[request.version == "1.1"]))
        return fields

    async def _upgrade(self, request: Request, asked: frozenset[str]) -> Upgrade | Response:
        """Pass an upgrade on (see the module docstring): its own upstream connection, then a
        :class:`Tunnel` after the upstream's 101, or the upstream's refusal relayed; *asked*
        are the request's protocols this proxy passes on."""
        hop = _hop_names(request.headers.raw()) | _OWN_REQUEST_FIELDS
        fields = self._forwarding_fields(request, hop)
        fields += [("Connection", "Upgrade"), ("Upgrade", ", ".join(request.headers.getall("upgrade")))]
        host = request.headers.get("host") or self.authority
        head = [f"GET {request.target.decode('latin-1')} HTTP/1.1", f"Host: {host}"]
        head += [f"{n}: {v}" for n, v in fields]
        tunnel = Tunnel(self.upgrade_idle_timeout)
        reply = _UpgradeReply(tunnel, request.method, self.max_upgrade_reply)
        loop = asyncio.get_running_loop()
        try:
            if self.unix is not None:
                connecting = loop.create_unix_connection(lambda: reply, self.unix)
            else:
                connecting = loop.create_connection(lambda: reply, self.origin[1], self.origin[2])
            await asyncio.wait_for(connecting, self.connect_timeout)
        except asyncio.TimeoutError:
            return self._failed(request, 504, f"no connection to the upstream within {self.connect_timeout} s")
        except OSError as exc:
            return self._failed(request, 502, f"cannot connect to the upstream: {exc.strerror or exc}")
        reply.transport.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        try:
            answer, content = await asyncio.wait_for(asyncio.shield(reply.done), self.timeout)
        except asyncio.TimeoutError:
            reply.transport.close()
            return self._failed(request, 504, f"no response head from the upstream within {self.timeout} s")
        except (ResponseProtocolError, ConnectionError) as exc:
            reply.transport.close()
            return self._failed(request, 502, f"bad response from the upstream: {exc}")
        upstream_fields = answer.headers.raw()
        dropped = _hop_names(upstream_fields) | _OWN_RESPONSE_FIELDS
        if answer.status != 101:
            # Refused (a 4xx for a bad handshake, say): relayed as it came, framed by the engine.
            reply.transport.close()
            out = [(n, v) for n, v in upstream_fields if n.lower() not in dropped]
            out.append((b"Via", b"1.1 " + self.via.encode()))
            return _exact(Response(content, answer.status), out)
        switched = {t.strip(b" \t").lower().decode("latin-1") for n, v in upstream_fields if n.lower() == b"upgrade" for t in v.split(b",")}
        if not switched or not switched <= asked:
            # RFC 9110 §15.2.2: a 101 names the protocol switched to, one the client asked for.
            reply.transport.close()
            return self._failed(request, 502, "the upstream switched to a protocol not asked for")
        out = [(n, v) for n, v in upstream_fields if n.lower() not in dropped]
        out += [(b"Connection", b"Upgrade"), (b"Upgrade", b", ".join(sorted(t.encode() for t in switched))), (b"Via", b"1.1 " + self.via.encode())]
        reply.hand_over()
        return Upgrade(lambda: tunnel.client, 101, out)

    def _prepare(self, request: Request) -> Prepared:
        """The request for the upstream: the client's fields in their case and order, less the
        hop-by-hop ones, with this hop in ``Forwarded`` (RFC 7239 §4) and ``Via`` (RFC 9110
        §7.6.3); the content streamed with the client's framing (its length, or chunked)."""
        fields = self._forwarding_fields(request, _hop_names(request.headers.raw()) | _OWN_REQUEST_FIELDS)
        host = request.headers.get("host")
        target = request.target.decode("latin-1")
        body: Any = None
        length = None
        if request.body_reader is not None:
            body = request.stream()
            length = request.content_length
        return Prepared(request.method, self.url + target, "http", self.origin[1], self.origin[2], target, fields, body, host_header=host or self.authority, content_length=length)


class _UpgradeReply(asyncio.Protocol):
    """The upstream connection of an upgrade until its answer is known: parses the response
    head (and a refusal's content, up to *limit* bytes); after a 101 it becomes the
    :class:`Tunnel`'s upstream side, the bytes that followed the 101 first (:meth:`hand_over`)."""

    def __init__(self, tunnel: Tunnel, method: str, limit: int) -> None:
        self.tunnel = tunnel
        self.transport: Any = None
        self.parser = ResponseParser(max_body_size=limit)
        self.parser.request(method)
        self.done: asyncio.Future[tuple[ResponseHead, bytes]] = asyncio.get_running_loop().create_future()
        self.head: ResponseHead | None = None
        self.content: list[bytes] = []

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.done.done():
            if self.parser.paused:
                self.parser.feed(data)  # after the 101: kept for the tunnel (hand_over)
            return
        try:
            self._on(self.parser.feed(data))
        except ResponseProtocolError as exc:
            self.done.set_exception(exc)

    def _on(self, events: list[Any]) -> None:
        for event in events:
            if isinstance(event, ResponseHead):
                if event.informational:
                    continue  # RFC 9110 §15.2: an interim answer; the final one follows
                self.head = event
                if event.status == 101:
                    self.transport.pause_reading()
                    self.done.set_result((event, b""))
                    return
            elif isinstance(event, EndOfMessage):
                assert self.head is not None
                self.done.set_result((self.head, b"".join(self.content)))
                return
            else:
                self.content.append(bytes(event))

    def eof_received(self) -> bool | None:
        if not self.done.done():
            try:
                self._on(self.parser.feed_eof())
            except ResponseProtocolError as exc:
                self.done.set_exception(exc)
        if not self.done.done():
            self.done.set_exception(ConnectionResetError("the upstream closed the connection before answering"))
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(ConnectionResetError("the upstream closed the connection before answering"))
        elif self.transport is not None and self.transport.get_protocol() is self:
            self.tunnel.close()

    def hand_over(self) -> None:
        """After a 101: the tunnel's upstream side takes the connection, with what followed."""
        side = self.tunnel.upstream
        rest = self.parser.take_unparsed()
        self.transport.set_protocol(side)
        side.connection_made(self.transport)
        if rest:
            side.data_received(rest)
        else:
            self.transport.resume_reading()


def _exact(response: Any, fields: list[tuple[Any, Any]]) -> Any:
    """*response* with exactly *fields* (the constructors add a Content-Type to a response
    without one; a proxy relays what the upstream said, RFC 9110 §8.3)."""
    response.fields = fields
    return response
