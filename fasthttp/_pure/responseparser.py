"""The HTTP/1.1 response parser, pure-Python twin of ``fasthttp/_speedups/responseparser.pyx``.

Strategy: sans-IO and incremental, the mirror of the request parser (``parser.py``): a separate
kernel rather than a mode of it, so the server's hot path carries no client branch.
:meth:`ResponseParser.request` records the method of each request sent on the connection (a
response's framing depends on it, RFC 9112 §6.3 (1)-(2)); :meth:`ResponseParser.feed` appends
bytes to one buffer and returns the events they complete, in order: a :class:`ResponseHead`,
body data as ``bytes``, then an :class:`~fasthttp.chunked.EndOfMessage`. An interim (1xx)
response is a head alone; the final response to the same request follows it.
:meth:`ResponseParser.feed_eof` says the server closed: it ends a body read until close, and is
an :class:`~fasthttp.errors.IncompleteResponseError` anywhere else inside a response.

Framing, in the precedence order of RFC 9112 §6.3:
1. a response to HEAD, a 1xx, 204 or 304 has no content (§6.3 (1)); a 2xx to CONNECT has none
   either and turns the connection into a tunnel (§6.3 (2)), as a 101 switches protocols
   (RFC 9110 §15.2.2): the parser then pauses (:attr:`ResponseParser.paused`) and
   :meth:`ResponseParser.take_unparsed` hands over the rest of the stream;
2. ``Transfer-Encoding: chunked`` delimits the content, trailers included (§7.1);
3. ``Content-Length`` counts it;
4. otherwise the content runs until the server closes the connection (§6.3 (8)).

Strictness, chosen so that no response can leave a pooled connection desynchronised (a byte of
one response read as the start of the next):
- status-line = HTTP-version SP 3DIGIT SP reason-phrase (§4), lines end with CRLF (§2.2); the
  status is 100-599 (RFC 9110 §15); HTTP/1.0 and 1.1 (a higher 1.x minor reads as 1.1), any
  other major is refused; the SP before an empty reason may be missing;
- field lines as in requests (no obs-fold, no whitespace before the colon, no control bytes);
- Transfer-Encoding with Content-Length is refused (§6.3 (3), the sign of response splitting),
  and so is Transfer-Encoding in HTTP/1.0 (§6.1) or any coding but one ``chunked`` (we decode
  no other); Content-Length values must agree when repeated (RFC 9110 §8.6) and be digits;
- a 1xx or 204 with Transfer-Encoding or a non-zero Content-Length is refused (RFC 9110 §8.6,
  §6.4.1: a server must not send content there, and one that does would desync the next
  response); HEAD and 304 may announce the length they did not send;
- bytes when no request is outstanding are refused (an unsolicited response); with
  ``wait_for_request`` they wait, unparsed, for the next :meth:`ResponseParser.request` (a reader
  told of each request only when it asks for its response, as the test tools' reader is:
  ``fasthttp/_wire.py``), and are refused only if the server closes with them unclaimed.

The body on the head: with ``body_on_head`` set, a final response whose content is complete in
the feed that completes its head (a Content-Length one, or one without content) is one event:
its head, with :attr:`ResponseHead.body` the content (``b""`` when there is none), and no body
event or EndOfMessage after it. Otherwise ``body`` is None and the events follow as above (a
chunked content always does, coalesced: one bytes per feed). PERF: a client's common response,
whole in one read, costs its consumer one event (bench_responseparser.py, client view).

Pausing after a head: with ``pause_after_head`` set, the parser stops after each final head
(interim ones do not pause it): it emits the head alone, no content and no EndOfMessage, and
keeps what follows unparsed; :meth:`ResponseParser.resume` hands those bytes over and goes on
with the next response, for a caller that reads the content (or a stream it cannot frame) itself.

Limits: ``max_status_line``, ``max_header_size`` and ``max_header_count``
(:class:`~fasthttp.errors.ResponseProtocolError`), ``max_body_size``
(:class:`~fasthttp.errors.ResponseTooLarge`, on the head for Content-Length, while decoding
otherwise), and the chunk-size line and trailers as in the chunked decoder.

On an error, :meth:`ResponseParser.feed` raises a ResponseProtocolError whose ``data`` holds the
bytes from the start of the element being parsed (truncated) and whose ``events`` holds the
events completed before them; the parser then stays failed. The compiled twin raises the same
types with the same messages (tests/test_responseparser.py feeds both every split).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._grammar import TCHAR  # RFC 9110 §5.6.2
from ..errors import (
    ContentTooLarge,
    HttpProtocolError,
    IncompleteResponseError,
    ResponseProtocolError,
    ResponseTooLarge,
)
from .chunked import ChunkedDecoder, EndOfMessage
from ._http1 import (
    LINE_BARE_LF,
    LINE_END,
    LINE_OBS_FOLD,
    LINE_TOO_LARGE,
    LINE_TOO_MANY,
    field_line,
    partial_length,
    section_overflows,
    tokens,
)
from .headers import Headers

if TYPE_CHECKING:
    from typing import TypeAlias

    #: What :meth:`ResponseParser.feed` returns, in order, for each response.
    Event: TypeAlias = "ResponseHead | bytes | EndOfMessage"

__all__ = ("ResponseParser", "ResponseHead", "EndOfMessage")

# Parser states.
_HEAD, _BODY, _CHUNKED, _UNTIL_CLOSE, _PAUSED, _CLOSED, _FAILED, _HEAD_PAUSED = range(8)

_MAX_CL_DIGITS = 18  # fits a signed 64-bit integer
# How this parser reports each header-section rule a line breaks (_http1.field_line).
_LINE_ERRORS: dict[int, tuple[type[ResponseProtocolError], str]] = {
    LINE_TOO_LARGE: (ResponseTooLarge, "response header section too large"),
    LINE_BARE_LF: (ResponseProtocolError, "bare LF in header section"),
    LINE_TOO_MANY: (ResponseTooLarge, "too many response header fields"),
    LINE_OBS_FOLD: (ResponseProtocolError, "obsolete line folding"),
}
# RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
_REASON_BAD = frozenset(set(range(0x00, 0x20)) - {0x09} | {0x7F})
_END_OF_MESSAGE = EndOfMessage()
_DIGITS = frozenset(b"0123456789")


class ResponseHead:
    """A response's status line and header section, with the framing the parser derived.

    ``status`` (int), ``reason`` (str), ``version`` ("1.0" or "1.1"), ``headers``
    (:class:`~fasthttp.headers.Headers`), ``method`` (of the request it answers),
    ``keep_alive`` (the connection may carry another request after this response),
    ``content_length`` (int or None), ``chunked``, ``until_close`` (the content ends when the
    server closes) and ``upgrade`` (a 101, or a 2xx to CONNECT: the connection is no longer HTTP).
    """

    __slots__ = (
        "status",
        "reason",
        "version",
        "headers",
        "method",
        "keep_alive",
        "content_length",
        "chunked",
        "until_close",
        "upgrade",
        "body",
    )

    status: int
    reason: str
    version: str
    headers: Headers
    method: str
    keep_alive: bool
    content_length: int | None
    chunked: bool
    until_close: bool
    upgrade: bool
    #: The whole content, when ``body_on_head`` found it with the head; else None.
    body: bytes | None

    def __init__(self) -> None:
        self.body = None

    @property
    def informational(self) -> bool:
        """A 1xx other than 101: an interim response; the final one follows (RFC 9110 §15.2)."""
        return self.status < 200 and self.status != 101

    @property
    def has_body(self) -> bool:
        return self.chunked or self.until_close or bool(self.content_length)

    def __repr__(self) -> str:
        return (
            f"<ResponseHead {self.status} {self.reason!r} HTTP/{self.version} "
            f"keep_alive={self.keep_alive} content_length={self.content_length} chunked={self.chunked}>"
        )


class ResponseParser:
    """Incremental, strict HTTP/1.1 response parser. See the module docstring."""

    max_status_line: int
    max_header_size: int
    max_header_count: int
    max_body_size: int | None
    max_chunk_line: int
    max_trailer_size: int
    #: Stop after each final head; :meth:`resume` goes on (see the module docstring).
    pause_after_head: bool
    #: Keep bytes that arrive before their request is recorded, rather than refuse them.
    wait_for_request: bool
    #: A response complete with its head is one event, its content on the head.
    body_on_head: bool

    def __init__(
        self,
        *,
        max_status_line: int = 8190,
        max_header_size: int = 65536,
        max_header_count: int = 128,
        max_body_size: int | None = None,
        max_chunk_line: int = 4096,
        max_trailer_size: int = 8192,
        pause_after_head: bool = False,
        wait_for_request: bool = False,
        body_on_head: bool = False,
    ) -> None:
        self.body_on_head = body_on_head
        self.pause_after_head = pause_after_head
        self.wait_for_request = wait_for_request
        self._reopen = False  # after resume(): another response may follow
        self.max_status_line = max_status_line
        self.max_header_size = max_header_size
        self.max_header_count = max_header_count
        self.max_body_size = max_body_size
        self.max_chunk_line = max_chunk_line
        self.max_trailer_size = max_trailer_size
        self._buf = bytearray()
        self._state = _HEAD
        self._error: ResponseProtocolError | None = None
        self._methods: list[str] = []
        self._received = 0  # bytes of the current response consumed so far
        self._reset_head()

    def _reset_head(self) -> None:
        self._line_start = 0
        self._head: ResponseHead | None = None
        self._fields: list[tuple[bytes, bytes]] = []
        self._header_bytes = 0
        self._remaining = 0
        self._total = 0
        self._chunked: ChunkedDecoder | None = None

    # -- public interface ------------------------------------------------------------------

    def request(self, method: str) -> None:
        """Record that a request with *method* was sent; its response is parsed in turn."""
        if type(method) is not str:  # as the compiled twin's typed argument
            raise TypeError(f"method must be str, not {type(method).__name__}")
        self._methods.append(method)

    @property
    def pending(self) -> int:
        """Requests recorded whose final response has not started yet."""
        return len(self._methods)

    @property
    def paused(self) -> bool:
        """True after a 101 or a 2xx to CONNECT; the rest is :meth:`take_unparsed`'s."""
        return self._state == _PAUSED

    @property
    def closed(self) -> bool:
        """True once a response ended the connection (no keep-alive, or read until close)."""
        return self._state == _CLOSED

    @property
    def idle(self) -> bool:
        """Between responses, with nothing buffered and no request outstanding: reusable."""
        return self._state == _HEAD and not self._methods and not self._buf and self._head is None

    @property
    def buffered(self) -> int:
        """Bytes received but not yet turned into events."""
        return len(self._buf)

    def feed(self, data: bytes | bytearray | memoryview, /) -> list[Event]:
        state = self._state
        if state == _FAILED:
            err = self._error
            err.events = []  # type: ignore[union-attr]
            raise err  # type: ignore[misc]
        if state == _CLOSED:
            return []
        self._buf += data
        if state == _PAUSED or state == _HEAD_PAUSED:
            return []
        return self._run()

    def feed_eof(self) -> list[Event]:
        """The server closed the connection: end a body read until close; anything else
        unfinished is an :class:`~fasthttp.errors.IncompleteResponseError`."""
        state = self._state
        if state == _FAILED:
            err = self._error
            err.events = []  # type: ignore[union-attr]
            raise err  # type: ignore[misc]
        if state == _UNTIL_CLOSE:
            self._state = _CLOSED
            self._reset_head()
            return [_END_OF_MESSAGE]
        if state == _CLOSED or state == _PAUSED or state == _HEAD_PAUSED:
            self._state = _CLOSED
            return []
        if state == _HEAD and not self._methods and self._head is None:
            if self._buf:  # bytes held for a request never recorded (wait_for_request)
                exc = ResponseProtocolError("response without a request", bytes(self._buf))
                self._fail(exc, [])
                raise exc
            self._state = _CLOSED
            return []
        received = self._received + len(self._buf)
        exc = IncompleteResponseError("connection closed before the response ended", bytes(self._buf), received)
        self._fail(exc, [])
        raise exc

    def resume(self) -> bytes:
        """After a head that ``pause_after_head`` paused on: hand over the bytes received after it
        (the caller reads the content itself) and go on with the next response, or close if the
        head ended the connection."""
        if self._state != _HEAD_PAUSED:
            raise RuntimeError("resume() follows a head paused by pause_after_head")
        data = bytes(self._buf)
        self._buf = bytearray()
        self._state = _HEAD if self._reopen else _CLOSED
        return data

    def take_unparsed(self) -> bytes:
        """Hand over every byte after a 101 or a CONNECT's 2xx and stop parsing for good."""
        data = bytes(self._buf)
        self._buf = bytearray()
        self._state = _CLOSED
        return data

    # -- the state machine ---------------------------------------------------------------------

    def _fail(self, exc: ResponseProtocolError, events: list[Event]) -> None:
        self._state = _FAILED
        self._error = exc
        self._buf = bytearray()
        exc.events = events

    def _run(self) -> list[Event]:
        events: list[Event] = []
        buf = self._buf
        pos = 0
        try:
            while True:
                state = self._state
                if state == _HEAD:
                    if pos >= len(buf):
                        break  # nothing to parse (the compiled twin's PERF note)
                    n = len(events)
                    pos = self._parse_head(buf, pos, events)
                    if len(events) == n:  # the head is not complete yet
                        break
                    if self._state == _BODY and self.body_on_head and len(buf) - pos >= self._remaining:
                        take = self._remaining  # the whole content came with the head
                        self._head.body = bytes(buf[pos : pos + take])  # type: ignore[union-attr]
                        pos += take
                        self._remaining = 0
                        self._end_message()
                elif state == _BODY:
                    end = len(buf)
                    if pos >= end:
                        break
                    take = min(self._remaining, end - pos)
                    events.append(bytes(buf[pos : pos + take]))
                    pos += take
                    self._received += take
                    self._remaining -= take
                    if self._remaining == 0:
                        events.append(_END_OF_MESSAGE)
                        self._end_message()
                elif state == _CHUNKED:
                    # the decoder appends the EndOfMessage (with the trailers) itself
                    dec = self._chunked
                    start = pos
                    pos = dec._decode(buf, pos, len(buf), events)  # type: ignore[union-attr]
                    self._received += pos - start
                    if not dec.done:  # type: ignore[union-attr]
                        break
                    self._end_message()
                elif state == _UNTIL_CLOSE:
                    end = len(buf)
                    if pos >= end:
                        break
                    self._total += end - pos
                    if self.max_body_size is not None and self._total > self.max_body_size:
                        raise ResponseTooLarge("response content exceeds the limit")
                    events.append(bytes(buf[pos:end]))
                    self._received += end - pos
                    pos = end
                else:  # paused or closed
                    break
        except ResponseProtocolError as exc:
            if not exc.data:
                exc.data = bytes(buf[pos : pos + 256])
            self._fail(exc, events)
            raise
        except HttpProtocolError as exc:  # from the chunked decoder or the field-line check
            cls = ResponseTooLarge if isinstance(exc, ContentTooLarge) else ResponseProtocolError
            err = cls(str(exc), bytes(buf[pos : pos + 256]))
            self._fail(err, events)
            raise err from None
        if self._state == _CLOSED:
            self._buf = bytearray()
        else:
            del buf[:pos]
            self._line_start -= pos
        return events

    def _end_message(self) -> None:
        head = self._head
        self._reset_head()
        self._received = 0
        if head.upgrade:  # type: ignore[union-attr]
            self._state = _PAUSED
        elif not head.keep_alive:  # type: ignore[union-attr]
            self._state = _CLOSED
        else:
            self._state = _HEAD

    def _parse_head(self, buf: bytearray, pos: int, events: list[Event]) -> int:
        """Process complete lines from ``_line_start``; return the consumed position."""
        end = len(buf)
        if pos < end and not self._methods:
            if self.wait_for_request:
                return pos  # held until request() and the next feed()
            raise ResponseProtocolError("response without a request")
        start = max(self._line_start, pos)
        while True:
            lf = buf.find(b"\n", start, end)
            if lf < 0:
                self._check_partial(buf, start, end)
                self._line_start = start
                return pos
            length = lf - start - 1  # line length without its CRLF
            if self._head is None:
                if length > self.max_status_line:
                    raise ResponseProtocolError("status line too long")
                if lf == start or buf[lf - 1] != 0x0D:
                    raise ResponseProtocolError("bare LF in status line")
                self._status_line(bytes(buf[start : lf - 1]))
            else:
                size = field_line(buf, start, lf, self._fields, self._header_bytes, self.max_header_size, self.max_header_count)
                if size < 0:
                    if size == LINE_END:
                        self._line_start = lf + 1
                        self._received += lf + 1 - pos
                        self._end_of_head(events)
                        return lf + 1
                    cls, message = _LINE_ERRORS[size]
                    raise cls(message)
                self._header_bytes = size
            start = lf + 1

    def _check_partial(self, buf: bytearray, start: int, end: int) -> None:
        # Refuse an over-long line before it completes, as its complete form would be refused.
        partial = partial_length(buf, start, end)
        if self._head is None:
            if partial > self.max_status_line:
                raise ResponseProtocolError("status line too long")
        elif section_overflows(self._header_bytes, partial, self.max_header_size):
            cls, message = _LINE_ERRORS[LINE_TOO_LARGE]
            raise cls(message)

    def _status_line(self, line: bytes) -> None:
        # status-line = HTTP-version SP status-code SP [ reason-phrase ]  (RFC 9112 §4)
        n = len(line)
        if (
            n < 12
            or line[:5] != b"HTTP/"
            or line[6] != 0x2E
            or line[5] not in _DIGITS
            or line[7] not in _DIGITS
            or line[8] != 0x20
        ):
            raise ResponseProtocolError("malformed status line")
        if line[5] != 0x31:
            raise ResponseProtocolError("not an HTTP/1.x response")
        code = line[9:12]
        if code[0] not in b"12345" or code[1] not in _DIGITS or code[2] not in _DIGITS:
            raise ResponseProtocolError("invalid status code")
        if n > 12 and line[12] != 0x20:
            raise ResponseProtocolError("malformed status line")
        reason = line[13:]
        for c in reason:
            if c in _REASON_BAD:
                raise ResponseProtocolError("invalid character in reason phrase")
        head = ResponseHead()
        head.status = int(code)
        head.reason = reason.decode("latin-1")
        head.version = "1.0" if line[7] == 0x30 else "1.1"
        head.method = self._methods[0]
        self._head = head

    def _end_of_head(self, events: list[Event]) -> None:
        head = self._head
        status = head.status  # type: ignore[union-attr]
        http11 = head.version == "1.1"  # type: ignore[union-attr]
        raw = self._fields
        headers = Headers._from_raw(raw)
        keys = headers._keys
        cl_values = [raw[i][1] for i, k in enumerate(keys) if k == b"content-length"]
        te_values = [raw[i][1] for i, k in enumerate(keys) if k == b"transfer-encoding"]
        connection = tokens([raw[i][1] for i, k in enumerate(keys) if k == b"connection"])

        content_length = None
        chunked = False
        if te_values:
            # RFC 9112 §6.1: a Transfer-Encoding in an HTTP/1.0 message means faulty framing.
            if not http11:
                raise ResponseProtocolError("Transfer-Encoding in an HTTP/1.0 response")
            # RFC 9112 §6.3 (3): both is the sign of response splitting; refuse, do not guess.
            if cl_values:
                raise ResponseProtocolError("both Transfer-Encoding and Content-Length")
            codings = tokens(te_values)
            for coding in codings:
                for c in coding:
                    if c not in TCHAR:
                        raise ResponseProtocolError("invalid transfer coding")
            # RFC 9112 §6.3 (4)/(7): we decode chunked alone; a coding we cannot remove (or a
            # body read until close under a coding) is refused rather than passed on.
            if codings != [b"chunked"]:
                raise ResponseProtocolError("unsupported transfer coding")
            chunked = True
        elif cl_values:
            # RFC 9110 §8.6: a list or repeated field must hold one value, repeated identically.
            value = None
            for item in b",".join(cl_values).split(b","):
                item = item.strip(b" \t")
                if not item or not item.isdigit() or not item.isascii():
                    raise ResponseProtocolError("invalid Content-Length")
                significant = item.lstrip(b"0") or b"0"
                if value is None:
                    value = significant
                elif significant != value:
                    raise ResponseProtocolError("conflicting Content-Length values")
            if len(value) > _MAX_CL_DIGITS:  # type: ignore[arg-type]
                raise ResponseTooLarge("Content-Length too large")
            content_length = int(value)  # type: ignore[arg-type]

        # RFC 9110 §8.6, §6.4.1: no content in a 1xx or 204; one announced would desync.
        if (status < 200 or status == 204) and (chunked or content_length):
            raise ResponseProtocolError("content framing in a response that has none")

        # RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive".
        if http11:
            keep_alive = b"close" not in connection
        else:
            keep_alive = b"keep-alive" in connection and b"close" not in connection

        method = head.method  # type: ignore[union-attr]
        upgrade = status == 101 or (method == "CONNECT" and 200 <= status < 300)
        no_content = status < 200 or status in (204, 304) or method == "HEAD" or upgrade
        until_close = not no_content and not chunked and content_length is None
        if until_close:
            keep_alive = False  # RFC 9112 §6.3 (8): the close is the end of the content
        if not no_content and content_length is not None:
            if self.max_body_size is not None and content_length > self.max_body_size:
                raise ResponseTooLarge("Content-Length exceeds the limit")

        head.headers = headers  # type: ignore[union-attr]
        head.keep_alive = keep_alive  # type: ignore[union-attr]
        head.content_length = content_length  # type: ignore[union-attr]
        head.chunked = chunked and not no_content  # type: ignore[union-attr]
        head.until_close = until_close  # type: ignore[union-attr]
        head.upgrade = upgrade  # type: ignore[union-attr]
        events.append(head)  # type: ignore[arg-type]
        if status < 200 and status != 101:
            # RFC 9110 §15.2: an interim response; the final one to the same request follows.
            self._reset_head()
            return
        del self._methods[0]
        if self.pause_after_head and not upgrade:
            # the caller reads the content itself; resume() goes on (module docstring)
            self._reopen = keep_alive
            self._reset_head()
            self._received = 0
            self._state = _HEAD_PAUSED
            return
        if no_content:
            self._no_content(head, events)  # type: ignore[arg-type]
        elif chunked:
            self._chunked = ChunkedDecoder(
                max_chunk_line=self.max_chunk_line,
                max_trailer_size=self.max_trailer_size,
                max_trailer_count=self.max_header_count,
                max_body_size=self.max_body_size,
            )
            self._chunked.coalesce = True  # one body event per feed, not one per chunk
            self._state = _CHUNKED
        elif until_close:
            self._state = _UNTIL_CLOSE
        elif content_length:
            self._remaining = content_length
            self._state = _BODY
        else:
            self._no_content(head, events)  # type: ignore[arg-type]

    def _no_content(self, head: ResponseHead, events: list[Event]) -> None:
        # the response ends with its head
        if self.body_on_head:
            head.body = b""
        else:
            events.append(_END_OF_MESSAGE)
        self._end_message()
