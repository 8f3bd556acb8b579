"""WebSocket frame reading (RFC 6455 §5), pure-Python twin of ``fasthttp/_speedups/wsframe.pyx``.

A sans-IO, incremental reader of the frames a client sends to a server on a connection without
extensions. :meth:`FrameReader.feed` takes the bytes read from the socket and returns what they
complete, in order: whole messages (``str`` for text, ``bytes`` for binary; fragments joined,
§5.4) and :class:`Control` frames (ping, pong, close; between the fragments of a message too,
§5.5). Strategy:

- A frame's header is checked as soon as its bytes are in, in a fixed order, before a payload
  byte is buffered: from the first two bytes, RSV bits (no extension, §5.2), a known opcode
  (§5.2), control frames unfragmented and at most 125 bytes (§5.5), continuation only inside a
  fragmented message and no new data frame inside one (§5.4), the mask bit (a client masks
  every frame, §5.1); from the extended length, its most significant bit clear and the minimal
  encoding (§5.2), then the limits: the frame's length and the message's length so far (so a
  2^63 length or an oversize one fails at once, §10.4).
- A payload is taken once complete and unmasked whole (§5.3); here with Python's big integers,
  in the compiled twin a machine word at a time.
- Text is UTF-8-validated as it arrives (§8.1): a single-frame message is decoded at once; a
  fragmented one goes through an incremental decoder, so invalid bytes fail at the fragment that
  holds them, not at the end of the message. A close frame's payload is empty, or a code that
  may be sent (§7.4) and a UTF-8 reason (§5.5.1).
- Errors are :class:`~fasthttp.errors.WebSocketProtocolError` with the close code to send
  (1002, 1007, 1009; §7.4.1), carrying the events completed before them; the reader stays failed.
  After a close frame the reader is done: later bytes are ignored (§5.5.1).

Both twins enforce the same rules in the same order (``tests/test_wsframe.py`` feeds them the
same bytes, whole and split at every byte); ``fasthttp/websocket.py`` drives this reader.
"""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING, Union

from ..errors import WebSocketProtocolError

if TYPE_CHECKING:
    from typing import TypeAlias

__all__ = (
    "CONTINUATION",
    "TEXT",
    "BINARY",
    "CLOSE",
    "PING",
    "PONG",
    "Control",
    "FrameReader",
    "unmask",
    "valid_close_code",
)

# RFC 6455 §5.2 opcodes.
CONTINUATION: int = 0x0
TEXT: int = 0x1
BINARY: int = 0x2
CLOSE: int = 0x8
PING: int = 0x9
PONG: int = 0xA

_UTF8 = codecs.getincrementaldecoder("utf-8")

_MAX_CONTROL = 125  # RFC 6455 §5.5


def valid_close_code(code: int) -> bool:
    """True for a close code an endpoint may send (RFC 6455 §7.4.1, §7.4.2): the defined codes
    other than 1004 (reserved) and 1005, 1006, 1015 (never on the wire), 1012-1014 (IANA
    registry), and 3000-4999 (libraries, frameworks, applications)."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def unmask(data: bytes | bytearray | memoryview, key: bytes) -> bytes:
    """*data* XOR the 4-byte masking *key* repeated (RFC 6455 §5.3); its own inverse."""
    n = len(data)
    if n == 0:
        return b""
    if len(key) != 4:
        raise ValueError("a masking key is 4 bytes")
    # PERF: one big-integer XOR instead of a loop over the bytes (bench_wsframe.py, py rows).
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(k, "little")).to_bytes(n, "little")


class Control:
    """A control frame (RFC 6455 §5.5): ``opcode`` (:data:`CLOSE`, :data:`PING` or :data:`PONG`)
    and ``data``, its payload; for a close, ``code`` (1005 when the frame has none, §7.1.5) and
    ``reason``; 0 and ``""`` otherwise."""

    __slots__ = ("opcode", "data", "code", "reason")

    opcode: int
    data: bytes
    code: int
    reason: str

    def __init__(self, opcode: int, data: bytes, code: int = 0, reason: str = "") -> None:
        self.opcode = opcode
        self.data = data
        self.code = code
        self.reason = reason

    def __eq__(self, other: object) -> bool:
        if type(other).__name__ != "Control":
            return NotImplemented
        return (self.opcode, self.data, self.code, self.reason) == (
            other.opcode,  # type: ignore[attr-defined]
            other.data,  # type: ignore[attr-defined]
            other.code,  # type: ignore[attr-defined]
            other.reason,  # type: ignore[attr-defined]
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Control(opcode={self.opcode}, data={self.data!r}, code={self.code}, reason={self.reason!r})"


if TYPE_CHECKING:
    Event: TypeAlias = Union[str, bytes, Control]


def _fail(code: int, reason: str) -> WebSocketProtocolError:
    return WebSocketProtocolError(code, reason)


class FrameReader:
    """Incremental reader of a client's frames on a connection without extensions (a server's
    side of RFC 6455 §5). *max_frame_size* and *max_message_size* (bytes of payload; None: no
    limit) close the connection with 1009 when passed."""

    __slots__ = (
        "max_frame_size",
        "max_message_size",
        "_buf",
        "_opcode",
        "_parts",
        "_size",
        "_decoder",
        "_state",
        "_error",
    )

    max_frame_size: int | None
    max_message_size: int | None

    def __init__(self, *, max_frame_size: int | None = None, max_message_size: int | None = None) -> None:
        self.max_frame_size = max_frame_size
        self.max_message_size = max_message_size
        self._buf = bytearray()  # the start of a frame not yet complete
        self._opcode = 0  # TEXT or BINARY while a fragmented message is open, else 0
        self._parts: list[bytes] | list[str] = []
        self._size = 0  # payload bytes of the open message so far
        self._decoder: codecs.IncrementalDecoder | None = None
        self._state = 0  # 0 reading, 1 closed (a close frame came), 2 failed
        self._error: WebSocketProtocolError | None = None

    @property
    def closed(self) -> bool:
        """True once a close frame has been read; later bytes are ignored."""
        return self._state == 1

    @property
    def buffered(self) -> int:
        """Bytes held for a frame not complete yet."""
        return len(self._buf)

    def feed(self, data: bytes | bytearray | memoryview) -> list[Event]:
        """The messages and control frames that *data* completes, in order. Raises
        :class:`~fasthttp.errors.WebSocketProtocolError` (its ``events``: those before the error)."""
        if self._state:
            if self._state == 2:
                err = self._error
                err.events = []  # type: ignore[union-attr]
                raise err  # type: ignore[misc]
            return []
        buf = self._buf
        if buf:
            buf += data
            data = buf
        events: list[Event] = []
        try:
            pos = self._run(data, events)
        except WebSocketProtocolError as exc:
            self._state = 2
            self._error = exc
            self._buf = bytearray()
            self._parts = []
            exc.events = events
            raise
        if self._state:
            self._buf = bytearray()
        elif buf:
            del buf[:pos]
        elif pos < len(data):
            self._buf = bytearray(data[pos:])
        return events

    def _run(self, data: bytes | bytearray | memoryview, events: list[Event]) -> int:
        end = len(data)
        pos = 0
        while end - pos >= 2:
            b0 = data[pos]
            b1 = data[pos + 1]
            if b0 & 0x70:
                raise _fail(1002, "reserved bits set without an extension")  # RFC 6455 §5.2
            opcode = b0 & 0x0F
            fin = b0 & 0x80
            short = b1 & 0x7F
            if opcode >= 8:
                if opcode > PONG:
                    raise _fail(1002, "reserved control opcode")
                if not fin:
                    raise _fail(1002, "fragmented control frame")  # §5.5
                if short > _MAX_CONTROL:
                    raise _fail(1002, "control frame over 125 bytes")  # §5.5
            elif opcode > BINARY:
                raise _fail(1002, "reserved data opcode")
            elif opcode == CONTINUATION:
                if not self._opcode:
                    raise _fail(1002, "continuation frame without a message to continue")  # §5.4
            elif self._opcode:
                raise _fail(1002, "new data frame inside a fragmented message")  # §5.4
            if not b1 & 0x80:
                raise _fail(1002, "unmasked client frame")  # §5.1
            if short == 126:
                head = 8
                if end - pos < 4:
                    break
                length = data[pos + 2] << 8 | data[pos + 3]
                if length < 126:
                    raise _fail(1002, "payload length not minimally encoded")  # §5.2
            elif short == 127:
                head = 14
                if end - pos < 10:
                    break
                length = int.from_bytes(data[pos + 2 : pos + 10], "big")
                if length >> 63:
                    raise _fail(1002, "payload length with the most significant bit set")  # §5.2
                if length < 65536:
                    raise _fail(1002, "payload length not minimally encoded")
            else:
                head = 6
                length = short
            if opcode < 8:
                limit = self.max_frame_size
                if limit is not None and length > limit:
                    raise _fail(1009, "frame too big")  # §7.4.1
                limit = self.max_message_size
                if limit is not None and self._size + length > limit:
                    raise _fail(1009, "message too big")
            start = pos + head
            if end - start < length:
                break
            payload = unmask(data[start : start + length], bytes(data[start - 4 : start]))
            pos = start + length
            if opcode >= 8:
                events.append(self._control(opcode, payload))
                if opcode == CLOSE:
                    self._state = 1
                    break
            else:
                self._data(opcode, fin, payload, events)
        return pos

    def _data(self, opcode: int, fin: int, payload: bytes, events: list[Event]) -> None:
        if opcode == CONTINUATION:
            opcode = self._opcode
        elif fin:  # a whole message in one frame: the hot path
            if opcode == TEXT:
                try:
                    events.append(payload.decode())
                except UnicodeDecodeError:
                    raise _fail(1007, "invalid UTF-8 in a text message") from None  # §8.1
            else:
                events.append(payload)
            return
        else:  # the first fragment
            self._opcode = opcode
            self._decoder = _UTF8() if opcode == TEXT else None
        self._size += len(payload)
        decoder = self._decoder
        if decoder is not None:
            try:
                self._parts.append(decoder.decode(payload, bool(fin)))  # type: ignore[arg-type]
            except UnicodeDecodeError:
                raise _fail(1007, "invalid UTF-8 in a text message") from None
        else:
            self._parts.append(payload)  # type: ignore[arg-type]
        if fin:
            parts = self._parts
            events.append("".join(parts) if decoder is not None else b"".join(parts))  # type: ignore[arg-type]
            self._parts = []
            self._opcode = 0
            self._size = 0
            self._decoder = None

    def _control(self, opcode: int, payload: bytes) -> Control:
        if opcode != CLOSE:
            return Control(opcode, payload)
        n = len(payload)
        if n == 0:
            return Control(CLOSE, payload, 1005)  # RFC 6455 §7.1.5: no status code
        if n == 1:
            raise _fail(1002, "close frame payload of one byte")  # §5.5.1
        code = payload[0] << 8 | payload[1]
        if not valid_close_code(code):
            raise _fail(1002, "invalid close code")  # §7.4
        try:
            reason = payload[2:].decode()
        except UnicodeDecodeError:
            raise _fail(1007, "close reason is not UTF-8") from None  # §5.5.1
        return Control(CLOSE, payload, code, reason)
