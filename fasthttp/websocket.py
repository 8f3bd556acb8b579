"""WebSocket connections (RFC 6455): the opening handshake, the connection protocol the engine
hands the transport to, and the :class:`WebSocket` a handler talks through.

Strategy
--------
The connection's state machine is wsproto's, and so are the frames of a connection with
permessage-deflate (its parser, UTF-8 validation and compression); a connection without an
extension reads its frames with the ``fasthttp.wsframe`` kernel (the same RFC 6455 rules, compiled)
and writes them itself (PERF). This module adds what wsproto leaves to its user: the handshake,
limits, flow control, timers and the close handshake, on the engine's existing take-over
(``fasthttp.responses.Upgrade``).

1. **Decision.** :func:`run_websocket` is what a route runs for the upgrade request (the App
   registers it for ``@app.websocket`` routes; an ASGI adapter can call it the same way). It
   validates the handshake (:func:`handshake_error`: 400, or 426 with ``Sec-WebSocket-Version:
   13``), then starts the handler in a Task with a :class:`WebSocket` and waits for its
   decision: ``await ws.accept()`` answers ``101`` (an ``Upgrade`` whose protocol is a
   :class:`WebSocketProtocol`); returning or raising an HTTP response before that (``403``,
   ``401``, ...) answers it instead, and so do :meth:`WebSocket.deny` and closing before accept
   (``403``, as ASGI does). ``accept()`` returns once the engine has handed the transport over.
2. **Connection.** :class:`WebSocketProtocol` is an ``asyncio.Protocol`` and one of the
   manager's connections (``fasthttp.connections.ManagedConnection``): it counts against
   ``max_connections``, its deadlines are swept with the others (no timer per connection: ping
   interval, pong timeout, idle timeout, close timeout, write timeout), and graceful shutdown
   sends it close ``1001``. The access log gets one line when it ends: the ``101``, the bytes
   sent, and the duration of the whole connection.
3. **Receiving.** Bytes go to the frame reader: the ``fasthttp.wsframe`` kernel's for a connection
   without an extension, wsproto's otherwise (the seam is ``data_received``, one branch). Whole
   messages (fragments joined, RFC 6455 §5.4) go to a queue the handler reads with
   :meth:`WebSocket.receive`. Pings are answered at once (§5.5.2),
   between the fragments of a message too. A message or a frame past its limit is close 1009
   (§7.4.1); a protocol error (unmasked client frame, reserved bits, unknown opcode, control
   frame over 125 bytes or fragmented, bad close payload, a 2^63 length) is 1002; text that is
   not UTF-8, even split across fragments, is 1007 (§8.1). A full queue (``ws_max_queue``
   messages, or ``read_high_water`` bytes) pauses reading from the socket until the handler
   catches up: a connection holds at most the message being received, the queue and one read.
4. **Sending.** :meth:`WebSocket.send` frames the message and writes it; above the transport's
   high-water mark it waits for the peer to read (``write_timeout`` drops a peer that never
   does), so a client that stops reading cannot grow server memory.
5. **Closing.** The close handshake of §7.1: a close from the peer is echoed and the server
   closes the TCP connection first (§7.1.1); a close from the handler waits for the peer's
   (``ws_close_timeout``, then the connection is dropped); a protocol failure sends its code
   and closes at once (§7.1.7). A handler that ends leaves with 1000, one that raises with 1011.

The interface an adapter drives is :class:`WebSocket` alone: the protocol object stays behind
it. An ASGI adapter maps its events one to one: its route runs ``run_websocket(request,
session)`` and ``session(ws)`` runs the ASGI app, whose ``websocket.connect`` is the session's
start; ``websocket.accept`` is ``await ws.accept(subprotocol, headers)``; ``websocket.close``
before accept is ``await ws.close()`` (403) and a denial response (the
``websocket.http.response`` extension) is ``ws.deny(response)``; ``websocket.receive`` is
``await ws.receive()`` (``str`` for ``text``, ``bytes`` for ``bytes``); ``websocket.disconnect``
is the :class:`WebSocketDisconnect` it raises (``code``, ``reason``); ``websocket.send`` is
``await ws.send(...)`` and ``websocket.close`` after accept ``await ws.close(code, reason)``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import enum
import functools
import inspect
import logging
import os
import re
import struct
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, Pong, TextMessage
from wsproto.extensions import Extension, PerMessageDeflate
from wsproto.frame_protocol import CloseReason, Frame, FrameDecoder, FrameProtocol, Opcode, ParseFailed, RsvBits
from wsproto.utilities import LocalProtocolError, generate_accept_token

from ._grammar import TOKEN_PATTERN
from .config import Config
from .connections import ConnectionManager
from .errors import WebSocketProtocolError
from .responses import HeadersLike, Response, Upgrade, error_response, field_list, field_text, json_dumps, json_loads, lower_name
from .wsframe import CLOSE as _CLOSE_FRAME
from .wsframe import PING as _PING_FRAME
from .wsframe import Control, FrameReader, valid_close_code

if TYPE_CHECKING:
    from .requests import Request

__all__ = (
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketOpCode",
    "WebSocketProtocol",
    "run_websocket",
    "websocket_endpoint",
    "handshake_error",
    "accept_key",
    "negotiate_deflate",
    "parse_extensions",
)

error_log = logging.getLogger("fasthttp.error")

_INF = float("inf")
_OPEN = ConnectionState.OPEN
_LOCAL_CLOSING = ConnectionState.LOCAL_CLOSING
_REMOTE_CLOSING = ConnectionState.REMOTE_CLOSING
_CLOSED = ConnectionState.CLOSED

# The session's life, as the handler sees it.
S_CONNECTING = 0  # the handshake is in; the handler has not decided
S_ACCEPTING = 1  # accept() answered 101; the engine is handing the transport over
S_OPEN = 2
S_CLOSED = 3  # closed (or refused)

# Why reading is paused (a bit mask).
R_QUEUE = 1  # ws_max_queue messages, or read_high_water bytes, wait for the handler
R_WRITE = 2  # the transport's buffer is above its high-water mark (the peer is not reading)

# A server frame's header with a 16-bit or 64-bit payload length (RFC 6455 §5.2).
_HEAD16 = struct.Struct("!BBH")
_HEAD64 = struct.Struct("!BBQ")

#: APPSEC: compressed input is fed to the inflater this many bytes at a time, so one read of a
#: decompression bomb expands to at most ~1032 times this before the size limit is checked
#: (RFC 7692 §8.1).
_INFLATE_SLICE = 8 * 1024

#: A client's close frame with no payload (masked, with a zero key): how wsproto's state machine
#: learns that the peer closed when the frame was read by the wsframe kernel (``_read_events``).
_EMPTY_CLOSE = b"\x88\x80\x00\x00\x00\x00"


class WebSocketOpCode(enum.IntEnum):
    """What a message-callback handler is called for (the HTTP/TCP module's opcodes):
    the RFC 6455 §5.2 opcodes of the data and control frames, and ``OPEN`` (not a frame)."""

    TEXT = 1
    BINARY = 2
    CLOSE = 8
    PING = 9
    PONG = 10
    OPEN = 255


class WebSocketDisconnect(Exception):
    """The websocket is closed: raised by ``receive()`` once the messages received before the
    close are read, and by ``send()`` on a closed connection. *code* is the close code (RFC 6455
    §7.1.5; 1006 when the connection dropped without a close frame), *reason* its text.

    A handler that lets it escape ends normally (no 1011, nothing logged).
    """

    def __init__(self, code: int = 1000, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason

    def __str__(self) -> str:
        return f"websocket closed with {self.code}" + (f": {self.reason}" if self.reason else "")

    def __repr__(self) -> str:
        return f"WebSocketDisconnect(code={self.code}, reason={self.reason!r})"


# -- the opening handshake (RFC 6455 §4.2) ----------------------------------------------------------

_GUID_CHECK = re.compile(rb"[A-Za-z0-9+/]{22}==")


def accept_key(key: str | bytes) -> str:
    """``Sec-WebSocket-Accept`` for a ``Sec-WebSocket-Key`` (RFC 6455 §4.2.2 (5.4)): the base64
    of the SHA-1 of the key and the protocol's GUID."""
    raw = key.encode("ascii") if isinstance(key, str) else key
    return generate_accept_token(raw).decode("ascii")


def _tokens(values: list[str]) -> list[str]:
    """The elements of a ``#token`` list (RFC 9110 §5.6.1), lower-cased, empty ones dropped."""
    return [t for t in (item.strip(" \t").lower() for value in values for item in value.split(",")) if t]


def _upgrade_required(detail: str) -> Response:
    # RFC 9110 §15.5.22: a 426 names the protocol to upgrade to in Upgrade; RFC 6455 §4.4: a
    # server that does not speak the client's version lists those it speaks.
    return error_response(
        426,
        detail,
        [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Version", "13")],
    )


def handshake_error(request: Request) -> Response | None:
    """The error response for a request that is not a valid opening handshake (RFC 6455 §4.2.1),
    or None for a valid one.

    ``400`` unless the method is ``GET`` on HTTP/1.1 with no content and exactly one
    ``Sec-WebSocket-Key`` that is 16 bytes in base64; ``426 Upgrade Required`` (with
    ``Upgrade: websocket`` and ``Sec-WebSocket-Version: 13``) when the request does not ask for
    the websocket upgrade (``Upgrade: websocket`` with ``Connection: upgrade``) or asks for a
    version other than 13 (RFC 6455 §4.4).
    """
    head = request.head
    if head.method != "GET":
        return error_response(400, "a websocket handshake is a GET request")
    if head.version != "1.1":
        return error_response(400, "a websocket handshake needs HTTP/1.1")
    headers = head.headers
    if (
        not head.upgrade
        or "websocket" not in _tokens(headers.getall("upgrade"))
        or "upgrade" not in _tokens(headers.getall("connection"))
    ):
        return _upgrade_required("this resource speaks only the websocket protocol")
    if head.content_length or head.chunked:
        return error_response(400, "a websocket handshake has no content")
    if headers.getall("sec-websocket-version") != ["13"]:
        return _upgrade_required("websocket version 13 is required")
    keys = headers.getall("sec-websocket-key")
    if len(keys) != 1 or not _valid_key(keys[0]):
        return error_response(400, "invalid Sec-WebSocket-Key")
    return None


def _valid_key(key: str) -> bool:
    # RFC 6455 §4.1 (7): a randomly selected 16-byte value, base64-encoded (24 characters).
    raw = key.strip(" \t").encode("ascii", "replace")
    if _GUID_CHECK.fullmatch(raw) is None:
        return False
    try:
        return len(base64.b64decode(raw, validate=True)) == 16
    except binascii.Error:  # pragma: no cover - the pattern admits only valid base64
        return False


# -- extensions: Sec-WebSocket-Extensions and permessage-deflate (RFC 6455 §9.1, RFC 7692) ------------

_LIST_GAP = re.compile(r"[ \t,]*")
_EXT_NAME = re.compile(rf"({TOKEN_PATTERN})[ \t]*")
_EXT_PARAM = re.compile(rf'[ \t]*({TOKEN_PATTERN})[ \t]*(?:=[ \t]*(?:({TOKEN_PATTERN})|"((?:[^"\\]|\\.)*)")[ \t]*)?')
_QUOTED_PAIR = re.compile(r"\\(.)")
#: RFC 7692 §7.1.2.1: a window size is a decimal 8 to 15 without leading zeros.
_WINDOW_BITS = re.compile(r"[89]|1[0-5]")

ExtensionOffer = tuple[str, list[tuple[str, "str | None"]]]


def parse_extensions(values: list[str]) -> list[ExtensionOffer] | None:
    """The offers of ``Sec-WebSocket-Extensions`` field values, in order: ``(name, [(param,
    value or None)])`` with names lower-cased and quoted values unescaped (RFC 6455 §9.1:
    ``extension = token *( ";" token [ "=" ( token / quoted-string ) ] )``); None when malformed.
    """
    text = ", ".join(values)
    offers: list[ExtensionOffer] = []
    pos, end = 0, len(text)
    while True:
        pos = _LIST_GAP.match(text, pos).end()  # type: ignore[union-attr]  # always matches
        if pos >= end:
            return offers
        m = _EXT_NAME.match(text, pos)
        if m is None:
            return None
        name = m.group(1).lower()
        pos = m.end()
        params: list[tuple[str, str | None]] = []
        while pos < end and text[pos] == ";":
            p = _EXT_PARAM.match(text, pos + 1)
            if p is None:
                return None
            token, quoted = p.group(2), p.group(3)
            value = token if token is not None else None if quoted is None else _QUOTED_PAIR.sub(r"\1", quoted)
            params.append((p.group(1).lower(), value))
            pos = p.end()
        if pos < end and text[pos] != ",":
            return None
        offers.append((name, params))


class _FrameProtocol(FrameProtocol):
    """wsproto's frame reader, accepting every close code :func:`~fasthttp.wsframe.valid_close_code`
    accepts, so both read paths agree.

    NOTE: wsproto (1.2, 1.3) refuses a close code of 1000-2999 that its ``CloseReason`` does not
    list, and it lacks 1014 (Bad Gateway, in the IANA registry RFC 6455 §7.4.2 defers to): a
    client closing with 1014 on a connection with permessage-deflate got 1002, on one without
    an echo of its 1014 (issue 17 audit).
    """

    def _process_close(self, frame: Frame) -> Frame:
        data = frame.payload
        if isinstance(data, (bytes, bytearray)) and len(data) >= 2:
            code = struct.unpack("!H", data[:2])[0]
            if valid_close_code(code) and code not in _WSPROTO_CODES:
                try:
                    reason = bytes(data[2:]).decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise ParseFailed(f"Error decoding CLOSE reason: {exc}", CloseReason.INVALID_FRAME_PAYLOAD_DATA) from None
                return Frame(frame.opcode, (code, reason), frame.frame_finished, frame.message_finished)
        return super()._process_close(frame)


_WSPROTO_CODES = frozenset(int(reason) for reason in CloseReason)


class _Deflate(PerMessageDeflate):
    """wsproto's permessage-deflate, with control frames kept out of the message state.

    NOTE: wsproto (1.2, 1.3) clears its "this message is compressed" flag when any frame with
    FIN ends, a control frame included, so a ping between the fragments of a compressed message
    (RFC 6455 §5.4 allows it) would make the rest of the message be read as uncompressed.
    Control frames are never compressed (RFC 7692 §6.1): here they bypass the extension, and a
    control frame with RSV1 set is a protocol error.
    """

    _control = False
    #: Send every message uncompressed (RFC 7692 §6: a sender may; used when the client asks
    #: for a window zlib cannot deflate with).
    send_uncompressed = False

    def frame_inbound_header(
        self, proto: FrameDecoder | FrameProtocol, opcode: Opcode, rsv: RsvBits, payload_length: int
    ) -> CloseReason | RsvBits:
        if opcode.iscontrol():
            self._control = True
            return CloseReason.PROTOCOL_ERROR if rsv.rsv1 else RsvBits(False, False, False)
        self._control = False
        return super().frame_inbound_header(proto, opcode, rsv, payload_length)

    def frame_inbound_payload_data(self, proto: FrameDecoder | FrameProtocol, data: bytes) -> bytes | CloseReason:
        if self._control:
            return data
        return super().frame_inbound_payload_data(proto, data)

    def frame_inbound_complete(self, proto: FrameDecoder | FrameProtocol, fin: bool) -> bytes | CloseReason | None:
        if self._control:
            return None
        return super().frame_inbound_complete(proto, fin)

    def frame_outbound(
        self, proto: FrameDecoder | FrameProtocol, opcode: Opcode, rsv: RsvBits, data: bytes, fin: bool
    ) -> tuple[RsvBits, bytes]:
        if self.send_uncompressed:
            return rsv, data
        return super().frame_outbound(proto, opcode, rsv, data, fin)


def _deflate_offer(params: list[tuple[str, str | None]]) -> tuple[str, PerMessageDeflate] | None:
    """The response to one permessage-deflate offer and the extension configured for it, or
    None to decline the offer (RFC 7692 §7: an unknown, repeated or invalid parameter)."""
    seen: set[str] = set()
    server_nct = client_nct = False
    server_bits: int | None = None
    client_bits: int | None = None  # 0: offered without a value
    for key, value in params:
        if key in seen:
            return None  # RFC 7692 §7: each parameter at most once
        seen.add(key)
        if key in ("server_no_context_takeover", "client_no_context_takeover"):
            if value is not None:
                return None  # §7.1.1.1, §7.1.1.2: no value
            if key[0] == "s":
                server_nct = True
            else:
                client_nct = True
        elif key == "server_max_window_bits":
            if value is None or _WINDOW_BITS.fullmatch(value) is None:
                return None  # §7.1.2.1: a value is required
            server_bits = int(value)
        elif key == "client_max_window_bits":
            if value is None:
                client_bits = 0  # §7.1.2.2: the client supports the parameter
            elif _WINDOW_BITS.fullmatch(value) is None:
                return None
            else:
                client_bits = int(value)
        else:
            return None  # §7.1: an unknown parameter declines the offer
    response = ["permessage-deflate"]
    setup = ["permessage-deflate"]
    if server_nct:
        response.append("server_no_context_takeover")
        setup.append("server_no_context_takeover")
    if client_nct:
        response.append("client_no_context_takeover")
        setup.append("client_no_context_takeover")
    if server_bits is not None:
        response.append(f"server_max_window_bits={server_bits}")
        # zlib cannot deflate with a 256-byte window (madler/zlib#171): with 8, messages are
        # sent uncompressed (RFC 7692 §6 lets a sender choose per message), so the setup
        # value only has to be valid.
        setup.append(f"server_max_window_bits={max(9, server_bits)}")
    if client_bits:
        response.append(f"client_max_window_bits={client_bits}")
        # Inflating with a larger window than the client deflates with is always safe; zlib's
        # raw inflate takes 9 to 15 here.
        setup.append(f"client_max_window_bits={max(9, client_bits)}")
    extension = _Deflate()
    extension.finalize("; ".join(setup))
    extension.send_uncompressed = server_bits == 8
    return "; ".join(response), extension


def negotiate_deflate(values: list[str]) -> tuple[str, PerMessageDeflate] | None:
    """The ``Sec-WebSocket-Extensions`` response value and the configured extension for the
    first acceptable permessage-deflate offer among the field *values* (RFC 7692 §5, §7), or
    None (no offer, none acceptable, or a malformed field: the connection goes uncompressed)."""
    offers = parse_extensions(values)
    if not offers:
        return None
    for name, params in offers:
        if name == "permessage-deflate":
            agreed = _deflate_offer(params)
            if agreed is not None:
                return agreed
    return None


# -- the handler's side -------------------------------------------------------------------------------


#: The fields of a 101 the handshake writes itself (RFC 6455 §4.2.2) and a 1xx never has
#: (RFC 9110 §8.6, RFC 9112 §6.1): dropped from a handler's extra headers, so the client never
#: gets two ``Sec-WebSocket-Accept`` (which fails the handshake) or an extension not agreed.
_HANDSHAKE_FIELDS = frozenset(
    (b"upgrade", b"connection", b"sec-websocket-accept", b"sec-websocket-extensions", b"content-length", b"transfer-encoding")
)


def _extra_101_fields(headers: HeadersLike) -> tuple[list[tuple[Any, Any]], str | None]:
    """A handler's extra fields for the 101 without the handshake's own, and the value of a
    ``Sec-WebSocket-Protocol`` among them (the subprotocol, given as a field)."""
    extra = []
    offered = None
    for name, value in field_list(headers):
        key = lower_name(name)
        if key == b"sec-websocket-protocol":
            offered = field_text(value).strip(" \t")
        elif key not in _HANDSHAKE_FIELDS:
            extra.append((name, value))
    return extra, offered


class _Handover:
    """The ``Upgrade``'s protocol factory. If the engine drops the Upgrade without calling it
    (the client left, a middleware replaced the response), the waiting ``accept()`` fails
    instead of waiting for ever."""

    __slots__ = ("conn", "taken")

    def __init__(self, conn: WebSocketProtocol) -> None:
        self.conn = conn
        self.taken = False

    def __call__(self) -> WebSocketProtocol:
        self.taken = True
        return self.conn

    def __del__(self) -> None:
        if not self.taken:
            self.conn.abandon()


class WebSocket:
    """One websocket session, as its handler sees it (``async def handler(ws)``).

    Before the decision: ``ws.request`` (the upgrade :class:`~fasthttp.requests.Request`: path
    ``params``, ``headers``, ``cookies``, ``query_params``, ``session``, ``client``),
    ``ws.subprotocols`` (offered, in the client's order), then ``await ws.accept(subprotocol,
    headers)``, or refuse: return or raise an HTTP response, :meth:`deny`, or :meth:`close`
    (403).

    After: ``await ws.receive()`` (``str`` for a text message, ``bytes`` for a binary one),
    ``receive_text()``, ``receive_bytes()``, ``receive_json()``, ``async for message in ws``
    (ends at the close), ``await ws.send(str | bytes)``, ``send_json(value)``, ``await
    ws.close(code, reason)``. Once closed, ``receive``/``send`` raise
    :class:`WebSocketDisconnect` and ``close_code``/``close_reason`` tell why.
    """

    __slots__ = (
        "request",
        "subprotocols",
        "subprotocol",
        "extensions",
        "state",
        "_config",
        "_manager",
        "_conn",
        "_decision",
        "task",
    )

    def __init__(self, request: Request, config: Config | None = None, manager: ConnectionManager | None = None) -> None:
        #: The upgrade request.
        self.request = request
        #: The subprotocols the client offered (``Sec-WebSocket-Protocol``), in its order.
        self.subprotocols: list[str] = [
            t for t in (p.strip(" \t") for v in request.headers.getall("sec-websocket-protocol") for p in v.split(",")) if t
        ]
        #: The subprotocol accepted, or None.
        self.subprotocol: str | None = None
        #: The ``Sec-WebSocket-Extensions`` answer (``"permessage-deflate; ..."``), or None.
        self.extensions: str | None = None
        #: ``S_CONNECTING``, ``S_ACCEPTING``, ``S_OPEN`` or ``S_CLOSED``.
        self.state = S_CONNECTING
        self._manager = manager
        self._config = config if config is not None else manager.config if manager is not None else Config()
        self._conn: WebSocketProtocol | None = None
        self._decision: asyncio.Future[Any] | None = None
        #: The Task running the handler (from ``run_websocket``).
        self.task: asyncio.Task[None] | None = None

    # -- the decision ----------------------------------------------------------------------------

    def _decide(self, outcome: Any) -> None:
        decision = self._decision
        if decision is not None and not decision.done():
            decision.set_result(outcome)

    async def accept(self, subprotocol: str | None = None, headers: HeadersLike = None) -> None:
        """Answer ``101 Switching Protocols`` and return once the connection is a websocket.

        *subprotocol* must be one the client offered (RFC 6455 §4.2.2); *headers* are added to
        the 101 (``Set-Cookie``, ...). permessage-deflate is agreed when the client offers it and
        ``Config.ws_compression`` is on.
        """
        if self.state != S_CONNECTING:
            raise RuntimeError("accept() is called once, before the websocket is closed")
        extra, offered = _extra_101_fields(headers)
        if subprotocol is None and offered is not None:
            subprotocol = offered  # the subprotocol given as a field (as some ASGI applications do)
        if subprotocol is not None and subprotocol not in self.subprotocols:
            raise ValueError(f"subprotocol {subprotocol!r} was not offered by the client ({self.subprotocols})")
        fields: list[tuple[Any, Any]] = [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", accept_key(self.request.headers.get("sec-websocket-key") or "")),
        ]
        if subprotocol is not None:
            fields.append(("Sec-WebSocket-Protocol", subprotocol))
        extensions: list[Extension] = []
        if self._config.ws_compression:
            agreed = negotiate_deflate(self.request.headers.getall("sec-websocket-extensions"))
            if agreed is not None:
                self.extensions, extension = agreed
                extensions.append(extension)
                fields.append(("Sec-WebSocket-Extensions", self.extensions))
        fields.extend(extra)
        self.subprotocol = subprotocol
        conn = self._conn = WebSocketProtocol(self, self._config, self._manager, extensions)
        self.state = S_ACCEPTING
        self._decide(Upgrade(_Handover(conn), 101, fields))
        await conn.attached
        self.state = S_OPEN

    def deny(self, response: Any) -> None:
        """Refuse the upgrade with *response* (any handler result: a ``Response``, ``str``, ...)
        while the handler goes on (an adapter streaming a refusal uses this)."""
        if self.state != S_CONNECTING:
            raise RuntimeError("deny() is only possible before accept()")
        self.state = S_CLOSED
        self._decide(response)

    # -- messages --------------------------------------------------------------------------------

    def _open_conn(self) -> WebSocketProtocol:
        conn = self._conn
        if conn is None or self.state == S_ACCEPTING:
            raise RuntimeError("the websocket is not accepted yet: await ws.accept() first")
        return conn

    async def receive(self) -> str | bytes:
        """The next message: ``str`` (text) or ``bytes`` (binary). Raises
        :class:`WebSocketDisconnect` once the connection is closed and every message received
        before the close has been read."""
        return await self._open_conn().receive()

    async def receive_text(self) -> str:
        """The next message, which must be text (a binary one closes with 1003, RFC 6455 §7.4.1)."""
        message = await self.receive()
        if type(message) is not str:
            await self._refuse(1003, "expected a text message")
        return message  # type: ignore[return-value]

    async def receive_bytes(self) -> bytes:
        """The next message, which must be binary (a text one closes with 1003)."""
        message = await self.receive()
        if type(message) is not bytes:
            await self._refuse(1003, "expected a binary message")
        return message  # type: ignore[return-value]

    async def receive_json(self) -> Any:
        """The next message (text or binary) decoded as JSON; one that does not decode closes
        the connection with 1007 (RFC 6455 §7.4.1: data inconsistent with the message type)."""
        message = await self.receive()
        try:
            return json_loads(message)
        except ValueError:
            await self._refuse(1007, "the message is not JSON")

    async def _refuse(self, code: int, reason: str) -> Any:
        await self.close(code, reason)
        raise WebSocketDisconnect(code, reason)

    def __aiter__(self) -> WebSocket:
        return self

    async def __anext__(self) -> str | bytes:
        try:
            return await self.receive()
        except WebSocketDisconnect:
            raise StopAsyncIteration from None

    async def send(self, data: str | bytes | bytearray | memoryview) -> None:
        """Send *data* as one message: ``str`` as text, bytes as binary. Waits while the peer is
        not reading (the transport's buffer is above ``write_high_water``); raises
        :class:`WebSocketDisconnect` if the connection is closed."""
        await self._open_conn().send(data)

    async def send_text(self, data: str) -> None:
        if type(data) is not str:
            raise TypeError(f"send_text() takes str, not {type(data).__name__}")
        await self._open_conn().send(data)

    async def send_bytes(self, data: bytes | bytearray | memoryview) -> None:
        if isinstance(data, str):
            raise TypeError("send_bytes() takes bytes, not str")
        await self._open_conn().send(data)

    async def send_json(self, value: Any, binary: bool = False) -> None:
        """Send *value* as JSON, in a text message (a binary one with *binary*)."""
        data = json_dumps(value)
        await self._open_conn().send(data if binary else data.decode())

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the close handshake with *code* and *reason* (RFC 6455 §7.1.2) and wait for
        the peer's close (at most ``ws_close_timeout``). Before accept, refuse with 403."""
        if not valid_close_code(code):
            raise ValueError(f"close code {code} may not be sent (RFC 6455 §7.4)")
        if len(reason.encode()) > 123:
            raise ValueError("a close reason is at most 123 bytes of UTF-8 (RFC 6455 §5.5)")
        if self.state == S_CONNECTING:
            self.state = S_CLOSED
            self._decide(error_response(403))
            return
        await self._open_conn().close(code, reason)

    @property
    def close_code(self) -> int | None:
        """The close code once closed (RFC 6455 §7.1.5: the peer's, else the one sent, 1006 if
        the connection dropped), else None."""
        conn = self._conn
        return None if conn is None else conn.close_code

    @property
    def close_reason(self) -> str:
        conn = self._conn
        return "" if conn is None else conn.close_reason

    def __repr__(self) -> str:
        return f"<WebSocket {self.request.method} {self.request.path!r} state={self.state}>"

    # -- the handler's Task ----------------------------------------------------------------------------

    async def _run(self, handler: Callable[[WebSocket], Awaitable[Any]]) -> None:
        try:
            result = await handler(self)
        except WebSocketDisconnect:
            result = None
        except asyncio.CancelledError:
            decision = self._decision
            if decision is not None and not decision.done():
                decision.cancel()
            raise
        except Exception as exc:
            decision = self._decision
            if self.state in (S_CONNECTING, S_ACCEPTING) and decision is not None and not decision.done():
                self.state = S_CLOSED
                decision.set_exception(exc)  # the route's error handling answers it (500, 401, ...)
                return
            # APPSEC: the peer gets close 1011; the traceback goes to the server log only.
            error_log.error("error in websocket handler for %s", self.request.target.decode("latin-1"), exc_info=exc)
            conn = self._conn
            if conn is not None:
                conn.fail(1011, "internal error")
            return
        if self.state == S_CONNECTING:
            # Returned before accept(): the result is the HTTP answer; nothing (None) is 403.
            self.state = S_CLOSED
            self._decide(error_response(403) if result is None else result)
            return
        conn = self._conn
        if conn is not None:
            conn.end_of_handler()


async def run_websocket(request: Request, handler: Callable[[WebSocket], Awaitable[Any]]) -> Any:
    """Serve *request* as a websocket handshake with ``await handler(ws)``: the route-level entry
    point (the App's ``@app.websocket`` routes call it; so can an adapter).

    Returns what the engine answers the request with: the handshake's error response, the
    ``Upgrade`` that ``ws.accept()`` made, or the handler's refusal (a response it returned or
    passed to ``deny``, 403 for ``close()`` or ``None``). A refusal it raises propagates, for the
    application's error handling.
    """
    refusal = handshake_error(request)
    if refusal is not None:
        return refusal
    manager = getattr(request.connection, "manager", None)
    ws = WebSocket(request, manager=manager if isinstance(manager, ConnectionManager) else None)
    loop = asyncio.get_running_loop()
    decision = ws._decision = loop.create_future()
    ws.task = loop.create_task(ws._run(handler))
    try:
        return await decision
    except asyncio.CancelledError:
        ws.task.cancel()
        raise
    finally:
        # The Upgrade lives only in the engine from here: if the engine drops it unused, the
        # handover notices (see _Handover).
        ws._decision = None
        del decision


def _is_message_callback(handler: Callable[..., Any]) -> bool:
    """True for a ``handler(request, opcode, payload)`` callback, False for ``handler(ws)``."""
    try:
        params = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):  # pragma: no cover - a builtin without a signature
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) == 3


async def _call(func: Callable[..., Any], *args: Any) -> Any:
    result = func(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


def _callback_session(callback: Callable[..., Any]) -> Callable[[WebSocket], Awaitable[None]]:
    """A ``handler(ws)`` around a message callback ``callback(request, opcode, payload)`` (the
    HTTP/TCP module's ``@websocket`` methods): called with ``OPEN`` and ``""`` once accepted,
    with ``TEXT``/``BINARY`` and each message, and with ``CLOSE`` and ``""`` at the end. What it
    returns (``str``, ``bytes``, a ``dict``/``list`` as JSON text, or None) is sent back."""

    async def session(ws: WebSocket) -> None:
        await ws.accept()
        request = ws.request
        try:
            await _reply(ws, await _call(callback, request, WebSocketOpCode.OPEN, ""))
            async for message in ws:
                opcode = WebSocketOpCode.TEXT if type(message) is str else WebSocketOpCode.BINARY
                await _reply(ws, await _call(callback, request, opcode, message))
        finally:
            await _call(callback, request, WebSocketOpCode.CLOSE, "")

    return session


async def _reply(ws: WebSocket, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, (dict, list)):
        await ws.send_json(value)
    else:
        await ws.send(value)


def websocket_endpoint(handler: Callable[..., Any]) -> Callable[[Request], Awaitable[Any]]:
    """The route endpoint for a websocket *handler*: ``async def handler(ws)``, or a message
    callback ``handler(request, opcode, payload)`` (``def`` or ``async def``; see
    :class:`WebSocketOpCode`). The endpoint runs :func:`run_websocket` for each request."""
    if not callable(handler):
        raise TypeError(f"a websocket handler must be callable, not {handler!r}")
    session = _callback_session(handler) if _is_message_callback(handler) else handler

    @functools.wraps(handler)
    def endpoint(request: Request) -> Awaitable[Any]:
        return run_websocket(request, session)

    # The endpoint keeps the handler's name for the route table, but not its signature: the App
    # checks that a route's endpoint takes the request alone, which this one does.
    del endpoint.__wrapped__
    return endpoint


# -- the connection ---------------------------------------------------------------------------------------


class WebSocketProtocol(asyncio.Protocol):
    """The websocket connection the engine hands the transport to (see the module docstring).

    Made by :meth:`WebSocket.accept`; the handler reaches it through its :class:`WebSocket`.
    It is a :class:`~fasthttp.connections.ManagedConnection` of the server's manager (when it has
    one) from the take-over on.
    """

    def __init__(self, ws: WebSocket, config: Config, manager: ConnectionManager | None, extensions: list[Extension]) -> None:
        self.ws = ws
        self.request = ws.request
        self._cfg = config
        self._manager = manager
        self._loop = asyncio.get_running_loop() if manager is None else manager.loop
        conn = self._conn = Connection(ConnectionType.SERVER, extensions)
        if extensions:
            # The frames of a connection with an extension are read by wsproto: its reader,
            # with every valid close code accepted (_FrameProtocol). NOTE: wsproto has no
            # public seam for this; its Connection keeps the reader in ``_proto``.
            conn._proto = _FrameProtocol(False, extensions)
        self._slice = _INFLATE_SLICE if extensions else 0
        self._plain = not extensions  # data frames are written here, not by wsproto (PERF)
        #: The seam between the two read paths: without an extension, frames are read by the
        #: wsframe kernel (PERF, see data_received); with one, by wsproto.
        self._reader: FrameReader | None = (
            None
            if extensions
            else FrameReader(max_frame_size=config.ws_max_frame_size or None, max_message_size=config.ws_max_message_size or None)
        )
        self.transport: Any = None
        #: Set when the engine has handed the transport over (``accept()`` waits for it).
        self.attached: asyncio.Future[None] = self._loop.create_future()
        self.closed = False  # the transport is closed or lost
        self.close_code: int | None = None
        self.close_reason = ""
        self._sent_code: tuple[int, str] | None = None
        self._queue: collections.deque[str | bytes] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        self._close_waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._parts: list[Any] = []  # the fragments of the message being received
        self._size = 0  # its bytes so far
        self._frame = 0  # the bytes of the frame being received
        self._max_message = config.ws_max_message_size or _INF
        self._max_frame = config.ws_max_frame_size or _INF
        self._max_queue = config.ws_max_queue
        self._max_queued = config.read_high_water
        self._queued = 0  # bytes (characters of text) in the queue
        self._pause = 0
        self._write_paused = False
        self._discard = False  # input is no longer parsed (closing or failed)
        self._sent = 0  # bytes written, for the access log
        self._next_ping = _INF
        self._pong_deadline = _INF
        self._close_deadline = _INF
        self._write_deadline = _INF
        self._active = 0.0  # when a message last went either way (idle timeout)
        self._ping_payload = b""

    # -- what the access log and the manager see --------------------------------------------------

    @property
    def client(self) -> Any:
        """The peer address, as the upgrade request saw it."""
        return self.request.client

    def check_deadlines(self, now: float) -> None:
        """The manager's sweep: pings, pong, idle, close and write deadlines."""
        if self.closed:
            return
        if now >= self._write_deadline or now >= self._close_deadline:
            # A peer that does not read our output, or does not answer our close: drop it.
            self.transport.abort()
            return
        if now >= self._pong_deadline:
            self._pong_deadline = _INF
            self.fail(1011, "keepalive ping timeout")
            return
        if self._conn.state is not _OPEN:
            return
        cfg = self._cfg
        idle = cfg.ws_idle_timeout
        if idle and now - self._active >= idle:
            self._start_close(1001, "idle timeout")
            return
        if now >= self._next_ping:
            interval = cfg.ws_ping_interval
            self._next_ping = now + interval if interval else _INF
            self._ping_payload = os.urandom(4)
            self._write(self._conn.send(Ping(self._ping_payload)))
            if cfg.ws_ping_timeout and self._pong_deadline == _INF:
                self._pong_deadline = now + cfg.ws_ping_timeout

    def start_shutdown(self) -> None:
        """Graceful shutdown: close 1001 ("going away", RFC 6455 §7.4.1), once."""
        if not self.closed and self._conn.state is _OPEN:
            self._start_close(1001, "server shutting down")

    def abort(self) -> None:
        """Drop the connection now and cancel the handler."""
        task = self.ws.task
        if task is not None and not task.done():
            task.cancel()
        if self.transport is not None and not self.closed:
            self.transport.abort()

    def abandon(self) -> None:
        """The engine never took the connection over: ``accept()`` fails with 1006."""
        if self.transport is None and not self.attached.done() and not self._loop.is_closed():
            self.closed = True
            self.close_code = 1006
            self.attached.set_exception(WebSocketDisconnect(1006, "the upgrade did not complete"))

    # -- asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:  # an asyncio.Transport
        self.transport = transport
        cfg = self._cfg
        manager = self._manager
        if manager is not None:
            manager.websockets += 1
            manager.websockets_total += 1
        now = manager.now if manager is not None else self._loop.time()
        self._active = now
        if cfg.ws_ping_interval:
            self._next_ping = now + cfg.ws_ping_interval
        if transport.get_write_buffer_size() > cfg.write_high_water:
            self.pause_writing()  # still above the mark the HTTP connection was paused at
        if not self.attached.done():
            self.attached.set_result(None)

    def data_received(self, data: bytes) -> None:
        if self._discard:
            return
        reader = self._reader
        if reader is not None:
            # PERF: a connection without an extension reads its frames with the wsframe kernel
            # (RFC 6455 §5: limits, masks, UTF-8 and the close payload checked there, a payload
            # unmasked a word at a time): wsproto's frame reading was ~60% of the server's time
            # per message. benchmarks/bench_wsframe.py: 16 small text frames read in 2.2 µs
            # instead of wsproto's 340; benchmarks/server/wsbench.py ws-text (two 5 s runs on a
            # shared machine): 15.1 and 13.3 µs of server CPU per message instead of 36.7 and
            # 26.0. wsproto still holds the connection's state.
            try:
                events = reader.feed(data)
            except WebSocketProtocolError as exc:
                self._read_events(exc.events)
                self.fail(exc.code, exc.reason)  # RFC 6455 §7.1.7 (no-op if already closing)
                return
            self._read_events(events)
            return
        step = self._slice
        if step and len(data) > step:
            for i in range(0, len(data), step):
                self._conn.receive_data(data[i : i + step])
                self._process()
                if self._discard:
                    return
            return
        self._conn.receive_data(data)
        self._process()

    def eof_received(self) -> bool | None:
        return None  # close: a websocket has nothing to say to a half-closed peer

    def connection_lost(self, exc: Exception | None) -> None:
        if self.closed and self.transport is None:
            return
        self.closed = True
        self._discard = True
        self._write_deadline = self._close_deadline = self._pong_deadline = self._next_ping = _INF
        if self.close_code is None:
            # RFC 6455 §7.1.5: closed without a close frame received: 1006 (or the code sent).
            code, reason = self._sent_code if self._sent_code is not None else (1006, "")
            self.close_code, self.close_reason = code, reason
        self.ws.state = S_CLOSED
        manager = self._manager
        if manager is not None:
            if self.transport is not None:  # counted in connection_made
                manager.websockets -= 1
            manager.release(self)
            log = manager.access_log
            if log is not None:
                log(self.request, 101, self._sent, self)
        self._wake()
        lost = WebSocketDisconnect(self.close_code, self.close_reason)
        for waiter in (self._drain_waiter, self._close_waiter):
            if waiter is not None and not waiter.done():
                if waiter is self._close_waiter:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(lost)
        self._drain_waiter = self._close_waiter = None

    def pause_writing(self) -> None:
        self._write_paused = True
        manager = self._manager
        if manager is not None:
            self._write_deadline = manager.now + self._cfg.write_timeout
        self._pause_reading(R_WRITE)

    def resume_writing(self) -> None:
        self._write_paused = False
        self._write_deadline = _INF
        waiter = self._drain_waiter
        if waiter is not None:
            self._drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)
        self._resume_reading(R_WRITE)

    # -- reading ---------------------------------------------------------------------------------

    def _pause_reading(self, why: int) -> None:
        if not self._pause and not self.closed:
            self.transport.pause_reading()
        self._pause |= why

    def _resume_reading(self, why: int) -> None:
        if not self._pause & why:
            return
        self._pause &= ~why
        if not self._pause and not self.closed:
            self.transport.resume_reading()

    def _process(self) -> None:
        conn = self._conn
        for event in conn.events():
            t = type(event)
            if t is TextMessage or t is BytesMessage:
                data = event.data  # type: ignore[attr-defined]
                if conn.state is not _OPEN:
                    continue  # RFC 6455 §7.1.2: after our close, data is read and dropped
                # PERF: str.isascii() is O(1) in CPython; only non-ASCII text is measured in UTF-8.
                n = len(data) if t is BytesMessage or data.isascii() else len(data.encode())
                size = self._size = self._size + n
                if size > self._max_message:
                    self.fail(1009, "message too big")
                    return
                frame = self._frame + n
                if frame > self._max_frame:
                    self.fail(1009, "frame too big")
                    return
                self._frame = 0 if event.frame_finished else frame  # type: ignore[attr-defined]
                if event.message_finished:  # type: ignore[attr-defined]
                    parts = self._parts
                    if parts:
                        parts.append(data)
                        data = ("" if t is TextMessage else b"").join(parts)
                        self._parts = []
                    self._size = 0
                    self._deliver(data)
                else:
                    self._parts.append(data)
            elif t is Ping:
                if conn.state is _OPEN:
                    # RFC 6455 §5.5.2, §5.5.3: a pong with the ping's application data, at once.
                    self._write(conn.send(event.response()))  # type: ignore[attr-defined]
            elif t is Pong:
                self._pong_deadline = _INF
            elif t is CloseConnection:
                self._on_close(event)  # type: ignore[arg-type]
                return

    def _read_events(self, events: list[str | bytes | Control]) -> None:
        """What the wsframe kernel read: whole messages (its limits are ours) and control frames."""
        conn = self._conn
        for event in events:
            t = type(event)
            if t is str or t is bytes:
                if conn.state is _OPEN:  # RFC 6455 §7.1.2: after our close, data is dropped
                    self._deliver(event)  # type: ignore[arg-type]
                continue
            control = cast(Control, event)
            opcode = control.opcode
            if opcode == _PING_FRAME:
                if conn.state is _OPEN:
                    # RFC 6455 §5.5.2, §5.5.3: a pong with the ping's application data, at once.
                    self._write(conn.send(Pong(control.data)))
            elif opcode == _CLOSE_FRAME:
                # The kernel checked the close frame; wsproto's state machine is told of it with
                # an empty close frame (its public input), then the peer's code is used.
                conn.receive_data(_EMPTY_CLOSE)
                for _ in conn.events():
                    pass
                self._peer_closed(control.code, control.reason)
                return
            else:
                self._pong_deadline = _INF

    def _deliver(self, message: str | bytes) -> None:
        queue = self._queue
        queue.append(message)
        self._queued += len(message)
        manager = self._manager
        if manager is not None:
            self._active = manager.now
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)
        if (len(queue) >= self._max_queue or self._queued > self._max_queued) and not self._pause & R_QUEUE:
            self._pause_reading(R_QUEUE)

    def _on_close(self, event: CloseConnection) -> None:
        conn = self._conn
        state = conn.state
        if state is _OPEN or state is _LOCAL_CLOSING:
            # wsproto reports a frame it cannot parse as a close it "received", without a state
            # change: fail the connection with its code (1002, 1007, RFC 6455 §7.1.7).
            self.fail(event.code, event.reason or "")
            return
        self._peer_closed(int(event.code), event.reason or "")

    def _peer_closed(self, code: int, reason: str) -> None:
        """A close frame from the peer (RFC 6455 §5.5.1), seen by wsproto's state machine."""
        conn = self._conn
        self.close_code, self.close_reason = code, reason
        if conn.state is _REMOTE_CLOSING:
            # Echo its code (1005, no code, is echoed as an empty close: wsproto writes none for
            # its enum member only).
            echo = CloseReason.NO_STATUS_RCVD if code == 1005 else code
            self._write(conn.send(CloseConnection(echo, reason)))
        self._discard = True
        self._wake()
        # RFC 6455 §7.1.1: the server closes the TCP connection first.
        self._close_transport()

    # -- the handler's calls -------------------------------------------------------------------

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def receive(self) -> str | bytes:
        queue = self._queue
        while not queue:
            if self._discard or self.closed:
                code = self.close_code
                if code is None:
                    code, reason = self._sent_code if self._sent_code is not None else (1006, "")
                else:
                    reason = self.close_reason
                raise WebSocketDisconnect(code, reason)
            waiter = self._waiter
            if waiter is None or waiter.done():
                # NOTE: shared by every task awaiting receive(); each takes a message in turn.
                waiter = self._waiter = self._loop.create_future()
            await waiter
        message = queue.popleft()
        queued = self._queued = self._queued - len(message)
        if self._pause & R_QUEUE and len(queue) <= self._max_queue // 2 and queued <= self._max_queued // 2:
            self._resume_reading(R_QUEUE)
        return message

    async def send(self, data: str | bytes | bytearray | memoryview) -> None:
        conn = self._conn
        if conn.state is not _OPEN or self.closed:
            code = self.close_code or (self._sent_code[0] if self._sent_code else 1006)
            raise WebSocketDisconnect(code, self.close_reason)
        if self._plain:
            # PERF: without an extension a server frame is a header and the payload as it is
            # (RFC 6455 §5.2; servers never mask, §5.1): written here a small message costs
            # 0.2 µs instead of wsproto's 5.7 µs (timeit, wsproto 1.3), a quarter of the
            # server's CPU per message of benchmarks/server/wsbench.py ws-text. Whole messages
            # only, so wsproto's fragmentation state is never involved.
            if type(data) is str:
                payload = data.encode()
                first = 0x81  # FIN, text
            elif isinstance(data, (bytes, bytearray, memoryview)):
                payload = bytes(data)
                first = 0x82  # FIN, binary
            else:
                raise TypeError(f"a websocket message is str or bytes, not {type(data).__name__}")
            n = len(payload)
            if n < 126:
                frame = bytes((first, n)) + payload
            elif n < 65536:
                frame = _HEAD16.pack(first, 126, n) + payload
            else:
                frame = _HEAD64.pack(first, 127, n) + payload
        elif type(data) is str:
            frame = conn.send(TextMessage(data))
        elif isinstance(data, (bytes, bytearray, memoryview)):
            frame = conn.send(BytesMessage(bytes(data)))
        else:
            raise TypeError(f"a websocket message is str or bytes, not {type(data).__name__}")
        self._write(frame)
        manager = self._manager
        if manager is not None:
            self._active = manager.now
        if self._write_paused:
            await self._drain()

    async def _drain(self) -> None:
        if self.closed:
            raise WebSocketDisconnect(self.close_code or 1006, self.close_reason)
        waiter = self._drain_waiter
        if waiter is None:
            waiter = self._drain_waiter = self._loop.create_future()
        await waiter

    async def close(self, code: int, reason: str) -> None:
        if self._conn.state is _OPEN and not self.closed:
            self._start_close(code, reason)
        if self.closed:
            return
        waiter = self._close_waiter
        if waiter is None:
            waiter = self._close_waiter = self._loop.create_future()
        await asyncio.shield(waiter)

    def end_of_handler(self) -> None:
        """The handler returned: close normally if it did not (RFC 6455 §7.4.1, 1000)."""
        if not self.closed and self._conn.state is _OPEN:
            self._start_close(1000, "")

    # -- writing and closing -----------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        if not self.closed:
            self.transport.write(data)
            self._sent += len(data)

    def _start_close(self, code: int, reason: str) -> None:
        """Send our close frame and wait (``ws_close_timeout``) for the peer's."""
        self._sent_code = (code, reason)
        try:
            self._write(self._conn.send(CloseConnection(code, reason)))
        except LocalProtocolError:  # pragma: no cover - the state was checked by the callers
            pass
        manager = self._manager
        if manager is not None:
            self._close_deadline = manager.now + self._cfg.ws_close_timeout
        # Our close may be waiting behind a full buffer: keep reading for the peer's close.
        self._resume_reading(R_QUEUE)

    def fail(self, code: int, reason: str) -> None:
        """Fail the connection (RFC 6455 §7.1.7): send close *code* if still possible, then close
        the TCP connection without waiting for the peer's close."""
        if self.closed:
            return
        if self._conn.state is _OPEN:
            self._sent_code = (code, reason)
            self._write(self._conn.send(CloseConnection(code, reason)))
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        self._discard = True
        self._parts = []
        self._wake()
        self._close_transport()

    def _close_transport(self) -> None:
        """Close after what is written is delivered; a peer that does not read it is dropped
        after ``ws_close_timeout``."""
        if self.closed:
            return
        manager = self._manager
        if manager is not None:
            self._close_deadline = manager.now + self._cfg.ws_close_timeout
        self._pause = 0
        self.transport.close()
