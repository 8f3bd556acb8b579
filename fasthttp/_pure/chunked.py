"""Chunked transfer coding, pure-Python twin of ``fasthttp/_speedups/chunked.pyx``.

Decoding (RFC 9112 §7.1): a state machine over the bytes it is given -- chunk-size line, chunk
data, the CRLF after it, and after the last chunk the trailer section -- that emits body data as
``bytes`` and finally an :class:`EndOfMessage` carrying the trailers. Every line is bounded:
the chunk-size line (size digits plus extensions) by ``max_chunk_line``, the trailer section by
``max_trailer_size`` and ``max_trailer_count``; the decoded total by ``max_body_size``.
Extensions are parsed to the grammar and then ignored (RFC 9112 §7.1.1 lets a recipient ignore
them) so that a malformed one is an error, not a smuggling gap.

Lines end at LF; an LF not preceded by CR is an error (bare LF, RFC 9112 §2.2), and so is any CR
inside a line, so the framing never depends on which line-ending convention a peer believes in.

The parser drives :meth:`ChunkedDecoder._decode` on its own buffer; :meth:`ChunkedDecoder.feed`
is the standalone interface.

Encoding: :func:`encode_chunk` frames one piece of data; :func:`encode_last_chunk` ends the body
with optional trailer fields (validated by the writer, RFC 9110 §6.5).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._grammar import FORBIDDEN_TRAILERS, TCHAR, sendable_trailers  # RFC 9110 §6.5.1, §5.6.2
from ..errors import BadRequest, ContentTooLarge, HeaderFieldsTooLarge
from .headers import Headers, parse_field_line

if TYPE_CHECKING:
    from typing import Protocol

    from .writer import _Fields

    class _EventSink(Protocol):
        """Where :meth:`ChunkedDecoder._decode` appends: its own list, or the parser's."""

        def append(self, event: bytes | EndOfMessage, /) -> None: ...

__all__ = ("ChunkedDecoder", "EndOfMessage", "encode_chunk", "encode_last_chunk")

_SIZE, _DATA, _DATA_CRLF, _TRAILER, _DONE = range(5)
_HEX = frozenset(b"0123456789abcdefABCDEF")
_WS = (0x20, 0x09)
# RFC 9110 §5.6.4 qdtext: HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
_QDTEXT = frozenset({0x09, 0x20, 0x21} | set(range(0x23, 0x5C)) | set(range(0x5D, 0x7F)) | set(range(0x80, 0x100)))
# quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
_QPAIR = frozenset({0x09, 0x20} | set(range(0x21, 0x7F)) | set(range(0x80, 0x100)))
_MAX_SPANS = 64  # pieces joined at most, as the compiled twin's SpanBuf holds
_MAX_SIZE_DIGITS = 16  # 2**64 - 1 at most; ContentTooLarge comes first under any sane body limit


class EndOfMessage:
    """The end of a request's content; ``trailers`` is a :class:`Headers` or None."""

    __slots__ = ("trailers",)

    trailers: Headers | None

    def __init__(self, trailers: Headers | None = None) -> None:
        self.trailers = trailers

    def __eq__(self, other: object) -> bool:
        if type(other).__name__ != "EndOfMessage":
            return NotImplemented
        return self.trailers == other.trailers  # type: ignore[attr-defined, no-any-return]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"EndOfMessage(trailers={self.trailers!r})"


def _parse_extensions(line: bytes, i: int) -> None:
    """Validate ``*( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )`` (RFC 9112 §7.1.1).

    BWS only ever precedes ";" or "=", so whitespace at the end of the line is refused, after a
    size as after an extension.
    """
    n = len(line)
    while i < n:
        while i < n and line[i] in _WS:
            i += 1
        if i == n or line[i] != 0x3B:  # ";"
            raise BadRequest("invalid chunk extension")
        i += 1
        while i < n and line[i] in _WS:
            i += 1
        start = i
        while i < n and line[i] in TCHAR:
            i += 1
        if i == start:
            raise BadRequest("invalid chunk extension name")
        while i < n and line[i] in _WS:
            i += 1
        if i < n and line[i] == 0x3D:  # "="
            i += 1
            while i < n and line[i] in _WS:
                i += 1
            if i < n and line[i] == 0x22:  # quoted-string
                i += 1
                while True:
                    if i == n:
                        raise BadRequest("unterminated quoted chunk extension value")
                    c = line[i]
                    if c == 0x22:
                        i += 1
                        break
                    if c == 0x5C:  # "\"
                        if i + 1 == n or line[i + 1] not in _QPAIR:
                            raise BadRequest("invalid quoted-pair in chunk extension")
                        i += 2
                    elif c in _QDTEXT:
                        i += 1
                    else:
                        raise BadRequest("invalid character in chunk extension value")
            else:
                start = i
                while i < n and line[i] in TCHAR:
                    i += 1
                if i == start:
                    raise BadRequest("invalid chunk extension value")


class _Coalesced:
    """An event sink that joins the body pieces it is given until :meth:`flush` (or an
    EndOfMessage) hands them on as one ``bytes``: the compiled twin's SpanBuf."""

    __slots__ = ("events", "pieces")

    def __init__(self, events: _EventSink) -> None:
        self.events = events
        self.pieces: list[bytes] = []

    def append(self, event: bytes | EndOfMessage, /) -> None:
        if type(event) is bytes:
            if len(self.pieces) == _MAX_SPANS:
                self.flush()
            self.pieces.append(event)
        else:
            self.flush()
            self.events.append(event)

    def flush(self) -> None:
        if self.pieces:
            self.events.append(b"".join(self.pieces))
            self.pieces = []


class ChunkedDecoder:
    """Incremental decoder for one chunked message body."""

    __slots__ = (
        "max_chunk_line",
        "max_trailer_size",
        "max_trailer_count",
        "max_body_size",
        "_state",
        "_remaining",
        "_total",
        "_trailers",
        "_trailer_bytes",
        "_buf",
        "unused",
        "coalesce",
    )

    max_chunk_line: int
    max_trailer_size: int
    max_trailer_count: int
    max_body_size: int | None
    #: Bytes received after the end of the body (the next pipelined message).
    unused: bytes
    #: Hand on the chunk data of one :meth:`_decode` call as one ``bytes`` rather than one per
    #: chunk (the response parser sets it; the request parser's events stay per chunk).
    coalesce: bool

    def __init__(
        self,
        *,
        max_chunk_line: int = 4096,
        max_trailer_size: int = 8192,
        max_trailer_count: int = 32,
        max_body_size: int | None = None,
    ) -> None:
        self.max_chunk_line = max_chunk_line
        self.max_trailer_size = max_trailer_size
        self.max_trailer_count = max_trailer_count
        self.max_body_size = max_body_size
        self._state = _SIZE
        self._remaining = 0
        self._total = 0
        self._trailers: list[tuple[bytes, bytes]] = []
        self._trailer_bytes = 0
        self._buf = bytearray()
        self.unused = b""
        self.coalesce = False

    @property
    def done(self) -> bool:
        return self._state == _DONE

    def limit(self, max_body_size: int | None) -> None:
        """Apply a new body-size limit (a route's) from now on, and raise
        :class:`~fasthttp.errors.ContentTooLarge` at once if the chunk sizes announced so far
        pass it: a chunk announced past the limit is refused before its data, not after it
        (RFC 9110 §15.5.14)."""
        self.max_body_size = max_body_size
        if max_body_size is not None and self._total > max_body_size:
            raise ContentTooLarge("chunked body exceeds the limit")

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes | EndOfMessage]:
        """Decode *data*; return body ``bytes`` and, at the end, an :class:`EndOfMessage`.

        Raises :class:`~fasthttp.errors.HttpProtocolError` subclasses on malformed input.
        After the end, further data accumulates in :attr:`unused`.
        """
        if self._state == _DONE:
            self.unused += bytes(data)
            return []
        self._buf += data
        events: list[bytes | EndOfMessage] = []
        pos = self._decode(self._buf, 0, len(self._buf), events)
        if self._state == _DONE:
            self.unused = bytes(self._buf[pos:])
            self._buf = bytearray()
        else:
            del self._buf[:pos]
        return events

    def _decode(self, buf: bytearray, pos: int, end: int, events: _EventSink) -> int:
        """Consume ``buf[pos:end]`` as far as possible; append events; return the new position.

        Stops early, leaving a partial line unconsumed, when it needs more bytes. With
        :attr:`coalesce`, the data of this call is one ``bytes`` (before the EndOfMessage),
        handed on even when an error stops the call.
        """
        if not self.coalesce:
            return self._run(buf, pos, end, events)
        sink = _Coalesced(events)
        try:
            return self._run(buf, pos, end, sink)
        finally:
            sink.flush()

    def _run(self, buf: bytearray, pos: int, end: int, events: _EventSink) -> int:
        while pos < end:
            state = self._state
            if state == _DATA:
                take = min(self._remaining, end - pos)
                events.append(bytes(buf[pos : pos + take]))
                pos += take
                self._remaining -= take
                if self._remaining == 0:
                    self._state = _DATA_CRLF
            elif state == _DATA_CRLF:
                # RFC 9112 §7.1: chunk-data is followed by exactly CRLF.
                if buf[pos] != 0x0D or (end - pos > 1 and buf[pos + 1] != 0x0A):
                    raise BadRequest("chunk data not followed by CRLF")
                if end - pos < 2:
                    return pos
                pos += 2
                self._state = _SIZE
            elif state == _SIZE:
                lf = buf.find(b"\n", pos, end)
                limit = self.max_chunk_line
                if lf < 0:
                    partial = end - pos - (buf[end - 1] == 0x0D)
                    if partial > limit:
                        raise BadRequest("chunk size line too long")
                    return pos
                if lf - pos - 1 > limit:
                    raise BadRequest("chunk size line too long")
                if lf == pos or buf[lf - 1] != 0x0D:
                    raise BadRequest("bare LF in chunk size line")
                self._size_line(bytes(buf[pos : lf - 1]))
                pos = lf + 1
                if self._remaining == 0:
                    self._state = _TRAILER
                else:
                    self._state = _DATA
            elif state == _TRAILER:
                pos = self._trailer(buf, pos, end, events)
                if self._state != _DONE:
                    return pos
            else:  # _DONE
                return pos
        return pos

    def _size_line(self, line: bytes) -> None:
        # chunk = chunk-size [ chunk-ext ] CRLF ; chunk-size = 1*HEXDIG (RFC 9112 §7.1)
        i, n = 0, len(line)
        while i < n and line[i] == 0x30:
            i += 1
        zeros = i
        while i < n and line[i] in _HEX:
            i += 1
        if i == 0:
            raise BadRequest("invalid chunk size")
        # 1*HEXDIG allows leading zeros: the cap is on the significant digits (the value), not
        # on the spelling; the line itself is bounded by max_chunk_line.
        if i - zeros > _MAX_SIZE_DIGITS:
            raise BadRequest("chunk size too large")
        size = int(line[zeros:i] or b"0", 16)
        if i < n:
            _parse_extensions(line, i)
        self._total += size
        if self.max_body_size is not None and self._total > self.max_body_size:
            raise ContentTooLarge("chunked body exceeds the limit")
        self._remaining = size

    def _trailer(self, buf: bytearray, pos: int, end: int, events: _EventSink) -> int:
        # trailer-section = *( field-line CRLF ) CRLF  (RFC 9112 §7.1.2)
        while True:
            lf = buf.find(b"\n", pos, end)
            if lf < 0:
                partial = end - pos - (end > pos and buf[end - 1] == 0x0D)
                if partial > 0 and self._trailer_bytes + partial + 2 > self.max_trailer_size:
                    raise HeaderFieldsTooLarge("trailer section too large")
                return pos
            length = lf - pos - 1  # without CRLF (or -1 for a bare LF at pos)
            if length > 0 and self._trailer_bytes + length + 2 > self.max_trailer_size:
                raise HeaderFieldsTooLarge("trailer section too large")
            if lf == pos or buf[lf - 1] != 0x0D:
                raise BadRequest("bare LF in trailer section")
            if length == 0:
                trailers = Headers._from_raw(self._trailers) if self._trailers else None
                events.append(EndOfMessage(trailers))
                self._state = _DONE
                return lf + 1
            self._trailer_bytes += length + 2
            if len(self._trailers) >= self.max_trailer_count:
                raise HeaderFieldsTooLarge("too many trailer fields")
            line = bytes(buf[pos : lf - 1])
            if line[0] in _WS:
                raise BadRequest("obsolete line folding in trailer section")
            field = parse_field_line(line)
            # RFC 9110 §6.5.1: a framing, routing, authentication... field sent as a trailer
            # is dropped, never seen in request.trailers (the compiled twin drops the same).
            if field[0].lower() not in FORBIDDEN_TRAILERS:
                self._trailers.append(field)
            pos = lf + 1


def encode_chunk(data: bytes | bytearray | memoryview) -> bytes:
    """One chunk: hex size, CRLF, data, CRLF. Empty data gives b"" (a 0 chunk ends the body)."""
    n = len(data)
    if n == 0:
        return b""
    return b"%x\r\n%s\r\n" % (n, bytes(data))


def encode_last_chunk(trailers: _Fields | None = None) -> bytes:
    """The last chunk and the trailer section (RFC 9112 §7.1.2), fields validated by the writer;
    a field that may not be a trailer is dropped (``fasthttp._grammar.sendable_trailers``)."""
    if trailers:
        # RFC 9110 §6.5.1: framing, routing, authentication... fields are never sent as trailers.
        trailers = sendable_trailers(trailers)
    if not trailers:
        return b"0\r\n\r\n"
    from .writer import write_fields

    return b"0\r\n" + write_fields(trailers) + b"\r\n"
