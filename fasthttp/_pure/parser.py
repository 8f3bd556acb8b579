"""The HTTP/1.1 request parser, pure-Python twin of ``fasthttp/_speedups/parser.pyx``.

Strategy: sans-IO and incremental. :meth:`RequestParser.feed` appends bytes to one buffer and
returns the events they complete, in order: a :class:`RequestHead`, then body data as ``bytes``,
then an :class:`~fasthttp.chunked.EndOfMessage`; pipelined requests follow one another in the
same list. The head is processed line by line as each LF arrives, so a malformed line is refused
as soon as it is complete and the work done per byte is the same however the input is split
(a parity test feeds every split point to both twins and requires equal events and errors).

Strictness (RFC 9112), chosen so that no two parsers on a request's path can disagree about
where it ends (request smuggling):
- lines end with CRLF; a bare LF or a CR inside a line is refused (§2.2);
- request-line = method SP request-target SP HTTP-version, single spaces (§3); the method is a
  token; the target has no whitespace or control bytes and matches its form (§3.2);
- HTTP/1.0 and HTTP/1.1; a higher 1.x minor is served as 1.1 (RFC 9110 §2.5); any other major
  is a 505;
- no whitespace between field name and colon (§5.1), no obs-fold (§5.2), field values free of
  control bytes (RFC 9110 §5.5);
- Transfer-Encoding must end in a single ``chunked`` (§6.1, §6.3); codings we do not implement
  are a 501; Transfer-Encoding with Content-Length, or in an HTTP/1.0 request, is refused;
- Content-Length must be one decimal number, sent once (§6.3, RFC 9110 §8.6);
- an HTTP/1.1 request needs exactly one Host field (§3.2).

Limits: ``max_request_line`` (414), ``max_header_size`` and ``max_header_count`` (431),
``max_body_size`` (413, checked on the head for Content-Length and while decoding chunked).

After a request that asks to switch protocols (Upgrade with ``Connection: upgrade``, or
CONNECT) the parser pauses at the end of that message: :meth:`RequestParser.take_unparsed`
hands the rest of the stream to the new protocol, :meth:`RequestParser.resume` continues with
HTTP if the upgrade is declined. After a request that ends the connection (``Connection: close``,
or HTTP/1.0 without keep-alive) the parser ignores everything else (RFC 9112 §9.6).

On an error, :meth:`RequestParser.feed` raises an :class:`~fasthttp.errors.HttpProtocolError`
whose ``events`` attribute holds the events completed before the bad bytes (earlier pipelined
requests still get their responses); the parser then stays failed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import (
    BadRequest,
    ContentTooLarge,
    HeaderFieldsTooLarge,
    HttpProtocolError,
    HttpVersionNotSupported,
    TransferCodingNotImplemented,
    UriTooLong,
)
from .._grammar import TCHAR, TCHARS  # RFC 9110 §5.6.2
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

    #: What :meth:`RequestParser.feed` returns, in order, for each request.
    Event: TypeAlias = "RequestHead | bytes | EndOfMessage"

__all__ = ("RequestParser", "RequestHead", "EndOfMessage")

# Parser states.
_HEAD, _BODY, _CHUNKED, _PAUSED, _CLOSED, _FAILED = range(6)

_MAX_LEADING_CRLF = 16  # RFC 9112 §2.2: ignore at least one empty line before a request-line
_MAX_CL_DIGITS = 18  # fits a signed 64-bit integer
# How this parser reports each header-section rule a line breaks (_http1.field_line): a 4xx.
_LINE_ERRORS: dict[int, tuple[type[HttpProtocolError], str]] = {
    LINE_TOO_LARGE: (HeaderFieldsTooLarge, "header section too large"),
    LINE_BARE_LF: (BadRequest, "bare LF in header section"),
    LINE_TOO_MANY: (HeaderFieldsTooLarge, "too many header fields"),
    LINE_OBS_FOLD: (BadRequest, "obsolete line folding"),
}
# Request-target bytes: visible ASCII and obs-text; never SP, CTL or DEL (RFC 9112 §3.2).
# "#" is refused too: a fragment is not part of any request-target form (RFC 9112 §3.2).
_TARGET_OK = frozenset(set(range(0x21, 0x7F)) - {0x23} | set(range(0x80, 0x100)))
# RFC 3986 §3.2.2: reg-name = *( unreserved / pct-encoded / sub-delims ); inside an IP-literal's
# brackets we accept the same set plus ":" (a superset of IPv6address and IPvFuture).
_REG_NAME = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=")
_IP_LITERAL = _REG_NAME | {0x3A}
_HEXDIG = frozenset(b"0123456789abcdefABCDEF")
# PERF: the validity checks of the pure twin run at C speed through ``bytes.translate(None,
# allowed)``, which deletes the allowed bytes: anything left is invalid, and only then does the
# byte-by-byte loop run, to name the error. The rules are the sets above, unchanged.
_TCHAR_BYTES = TCHARS.encode("ascii")
_TARGET_OK_BYTES = bytes(sorted(_TARGET_OK))
# Field values: VCHAR, obs-text, SP and HTAB (RFC 9110 §5.5).
# A field line, RFC 9112 §5: field-name ":" OWS field-value OWS CRLF (no obs-fold: a line
# never starts with whitespace, as a token cannot).
_FIELD_LINE_PATTERN = rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):([\t\x20-\x7e\x80-\xff]*)\r\n"
_FIELD_LINE = re.compile(_FIELD_LINE_PATTERN)
_FIELD_SECTION = re.compile(b"(?:" + _FIELD_LINE_PATTERN + b")*")
# PERF (issue 17, the pure path): a whole plain head in one match, for :meth:`RequestParser.feed`'s
# fast path. request-line = method SP origin-form SP "HTTP/1." DIGIT CRLF (RFC 9112 §3, §2.3;
# the origin-form's bytes are _TARGET_OK's), then field lines as _FIELD_SECTION, then the empty
# line. Everything it accepts, the line-by-line path accepts too, with the same result; what it
# does not accept goes to that path, which names the error.
# PERF: the field lines' quantifiers are possessive (no backtracking state is kept: ~1.3k fewer
# instructions a head). They accept the same lines, as a token and a value hold no ":" and no CR
# respectively, and a field line never starts with the CR of the empty line.
_PLAIN_HEAD = re.compile(
    rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (/[\x21\x22\x24-\x7e\x80-\xff]*) HTTP/1\.([0-9])"
    rb"(\r\n(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]++:[\t\x20-\x7e\x80-\xff]*+\r\n)*+)\r\n"
)
# The fields of such a section (lower-cased) whose names the framing rules read (RFC 9112 §3.2,
# §6, §9.3; RFC 9110 §7.8, §10.1.1), each once per field line: after a CRLF, as a value holds
# none. One findall gives, per such line, (host, its value, content-length, its value,
# keep-alive, name): the first two when it is a Host of the plainest form, an empty one or
# reg-name [":" port] (a subset of what _authority_ok accepts: RFC 3986 §3.2.2); the next two when
# it is a Content-Length of at most _MAX_CL_DIGITS digits; the fifth when it is "Connection:
# keep-alive", which changes nothing in HTTP/1.1 (RFC 9112 §9.3); else only the name. Each value
# between optional OWS (RFC 9112 §5). The plainest heads name a plain Host, at most one plain
# Content-Length, and any number of such Connection fields.
_framing_fields = re.compile(
    rb"\r\n(?:(host):[ \t]*+((?:[a-z0-9\-._~!$&'()*+,;=]++(?::[0-9]*+)?)?)[ \t]*+(?=\r)"
    rb"|(content-length):[ \t]*+([0-9]{1,%d})[ \t]*+(?=\r)"
    rb"|connection:[ \t]*+(keep-alive)[ \t]*+(?=\r)"
    rb"|(host|content-length|transfer-encoding|connection|expect|upgrade):)" % _MAX_CL_DIGITS
).findall
# A field line of a section _PLAIN_HEAD accepted, its leading OWS left out of the value (the
# trailing OWS is stripped only when the section has some: RFC 9112 §5).
_FIELD_LINE_LSTRIP = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([\t\x20-\x7e\x80-\xff]*)\r\n")
# A Host value in its plainest form, reg-name [":" port]: a subset of what _authority_ok accepts.
_PLAIN_HOST = re.compile(rb"[A-Za-z0-9\-._~!$&'()*+,;=]+(?::[0-9]*)?")
_FRAMING_KEYS = frozenset((b"content-length", b"transfer-encoding", b"connection", b"expect", b"upgrade"))
_METHODS = {m: m.decode() for m in (b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"OPTIONS", b"PATCH", b"CONNECT", b"TRACE")}
_END_OF_MESSAGE = EndOfMessage()


class RequestHead:
    """A request's line and header section, with the framing the parser derived from them.

    ``method`` (str), ``target`` (the raw request-target, bytes), ``path`` and ``query`` (str,
    not percent-decoded; ``query`` without the "?"), ``version`` ("1.0" or "1.1"), ``headers``
    (:class:`~fasthttp.headers.Headers`), ``keep_alive``, ``content_length`` (int or None),
    ``chunked``, ``expect_continue``, ``has_expect`` (an Expect field is present, whatever its
    value: the engine's 417 rule, RFC 9110 §10.1.1, reads it instead of looking the field up)
    and ``upgrade``.
    """

    __slots__ = (
        "method",
        "target",
        "version",
        "headers",
        "keep_alive",
        "content_length",
        "chunked",
        "expect_continue",
        "has_expect",
        "upgrade",
        "_path",
        "_path_end",
    )

    method: str
    target: bytes
    version: str
    headers: Headers
    keep_alive: bool
    content_length: int | None
    chunked: bool
    expect_continue: bool
    has_expect: bool
    upgrade: bool
    _path: str
    _path_end: int

    @property
    def path(self) -> str:
        # Decoded as ISO-8859-1 by the parser with the target (PERF, issue 17: the core reads it
        # for every request).
        return self._path

    @property
    def query(self) -> str:
        q = self._path_end + 1
        return self.target[q:].decode("latin-1") if q <= len(self.target) else ""

    @property
    def has_body(self) -> bool:
        return self.chunked or bool(self.content_length)

    def __repr__(self) -> str:
        return (
            f"<RequestHead {self.method} {self.target!r} HTTP/{self.version} "
            f"keep_alive={self.keep_alive} content_length={self.content_length} chunked={self.chunked}>"
        )


def _authority_ok(value: bytes, need_port: bool) -> bool:
    """Is *value* ``uri-host [ ":" port ]`` with a non-empty host (RFC 9110 §4.2, §7.2)?

    Used for Host, the authority of an absolute-form target and CONNECT's authority-form (which
    needs the port, RFC 9112 §3.2.3). Userinfo ("@") is refused (RFC 9110 §4.2.4).
    """
    n = len(value)
    if n and value[0] == 0x5B:  # "[" IP-literal "]"
        end = value.find(b"]")
        if end < 2:
            return False
        for c in value[1:end]:
            if c not in _IP_LITERAL:
                return False
        i = end + 1
    else:
        i = 0
        while i < n and value[i] != 0x3A:  # ":"
            c = value[i]
            if c == 0x25:  # pct-encoded = "%" HEXDIG HEXDIG
                if i + 2 >= n or value[i + 1] not in _HEXDIG or value[i + 2] not in _HEXDIG:
                    return False
                i += 3
                continue
            if c not in _REG_NAME:
                return False
            i += 1
        if i == 0:
            return False
    if i == n:
        return not need_port
    if value[i] != 0x3A:
        return False
    port = value[i + 1 :]
    if need_port and not port:
        return False
    return all(0x30 <= c <= 0x39 for c in port)


class RequestParser:
    """Incremental, strict HTTP/1.1 request parser. See the module docstring."""

    max_request_line: int
    max_header_size: int
    max_header_count: int
    max_body_size: int | None
    max_chunk_line: int
    max_trailer_size: int

    def __init__(
        self,
        *,
        max_request_line: int = 8190,
        max_header_size: int = 32768,
        max_header_count: int = 100,
        max_body_size: int | None = None,
        max_chunk_line: int = 4096,
        max_trailer_size: int = 8192,
    ) -> None:
        self.max_request_line = max_request_line
        self.max_header_size = max_header_size
        self.max_header_count = max_header_count
        self.max_body_size = max_body_size
        self.max_chunk_line = max_chunk_line
        self.max_trailer_size = max_trailer_size
        self._buf = bytearray()
        self._state = _HEAD
        self._error: HttpProtocolError | None = None
        # The last field section _feed_plain found plainest, lower-cased, and its Content-Length.
        self._plain_section: bytes | None = None
        self._plain_low = b""
        self._plain_length: int | None = None
        self._reset_head()

    def _reset_head(self) -> None:
        self._line_start = 0  # where the current (incomplete) line starts in _buf
        self._head: RequestHead | None = None  # set once the request-line is parsed
        self._fields: list[tuple[bytes, bytes]] = []
        self._header_bytes = 0
        self._leading = 0
        self._remaining = 0
        self._chunked: ChunkedDecoder | None = None
        self._current: RequestHead | None = None

    # -- public interface ------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        """True after an upgrade or CONNECT request, until :meth:`resume` or :meth:`take_unparsed`."""
        return self._state == _PAUSED

    @property
    def closed(self) -> bool:
        """True once a request ended the connection; later bytes are ignored."""
        return self._state == _CLOSED

    @property
    def buffered(self) -> int:
        """Bytes received but not yet turned into events: a partial head, chunk-size line or
        trailer, or (while paused) the stream after an upgrade. The engine uses it to tell an
        idle connection from one whose next request is arriving (408, RFC 9110 §15.5.9)."""
        return len(self._buf)

    def feed(self, data: bytes | bytearray | memoryview) -> list[Event]:
        state = self._state
        if state == _FAILED:
            err = self._error
            err.events = []  # type: ignore[union-attr]
            raise err  # type: ignore[misc]
        if state == _CLOSED:
            return []
        if type(data) is bytes and not self._buf:
            if state == _HEAD:
                return self._feed_plain(data)
            if state == _BODY:
                return self._feed_body(data)
        self._buf += data
        if state == _PAUSED:
            return []
        return self._run()

    def _feed_plain(self, data: bytes) -> list[Event]:
        """PERF (issue 17, the pure path): a read that starts at a request's first byte, the
        common case. Each whole head at the front of *data* that :data:`_PLAIN_HEAD` accepts
        within the limits is taken in one regex match, and its Content-Length body as a slice
        of *data*, without copying through the buffer; at the first thing it does not take (a
        partial or unusual head, a chunked body, a pause), the rest goes to the buffer and the
        general path, which finds the same events and errors there as it would have: the
        events do not depend on how the input is split (tests/test_parity.py)."""
        events: list[Event] = []
        pos = 0
        n = len(data)
        match = _PLAIN_HEAD.match
        try:
            while True:
                m = match(data, pos)
                if m is None:
                    break
                # section: CRLF, then each field line with its CRLF (_PLAIN_HEAD's group 4).
                method, target, minor, section = m.groups()
                if (
                    m.start(4) - pos > self.max_request_line
                    or len(section) - 2 > self.max_header_size
                    # one CRLF a field line, of at least 4 bytes ("x:" CRLF): PERF, the count is
                    # needed only for a section long enough to hold more lines than the limit
                    or (
                        len(section) - 2 > 4 * self.max_header_count
                        and section.count(b"\r\n") - 1 > self.max_header_count
                    )
                ):
                    break
                method = _METHODS.get(method) or method.decode("ascii")
                if method == "CONNECT":
                    break  # authority-form only (RFC 9112 §3.2.3): the general path refuses it
                head = RequestHead()
                head.method = method
                head.target = target
                q = target.find(b"?")
                if q < 0:
                    head._path = target.decode("latin-1")
                    head._path_end = len(target)
                else:
                    head._path = target[:q].decode("latin-1")
                    head._path_end = q
                pos = m.end()
                if minor != b"0":
                    head.version = "1.1"
                    # The plainest HTTP/1.1 head: one Host of the plainest form, no framing field
                    # but at most one Content-Length of at most 18 digits within the limit. Its
                    # framing is what _end_of_head would find (keep-alive, no chunked, no Expect,
                    # no Upgrade), taken here without it; any other head goes there. PERF: the
                    # checks run on the lower-cased section in one findall (_framing_fields); the
                    # next head on the connection with the same field section, the common case,
                    # takes their result as it is a function of those bytes (_plain_section); the
                    # header index is built only if a caller needs it (Headers._from_section).
                    if section == self._plain_section:
                        low = self._plain_low
                        length = self._plain_length
                        plain = True
                    else:
                        low = section.lower()
                        found = _framing_fields(low)
                        length = None
                        plain = False
                        if len(found) == 1:
                            plain = found[0][0] == b"host"
                        else:
                            hosts = lengths = 0
                            for host, _, cl, value, keep, name in found:
                                if name:
                                    break
                                if host:
                                    hosts += 1
                                elif cl:
                                    lengths += 1
                                    length = int(value)
                            else:
                                plain = hosts == 1 and lengths <= 1
                        if plain:
                            self._plain_section = section
                            self._plain_low = low
                            self._plain_length = length
                    if plain and length and self.max_body_size is not None:
                        plain = length <= self.max_body_size
                    if plain:
                        if self._leading:
                            self._leading = 0  # as the end of this message would (_reset_head)
                        head.headers = Headers._from_section(section, low)
                        head.keep_alive = True
                        head.content_length = length
                        head.chunked = head.expect_continue = head.has_expect = head.upgrade = False
                        events.append(head)
                        if not length:
                            events.append(_END_OF_MESSAGE)
                        elif n - pos >= length:
                            events.append(data[pos : pos + length])
                            events.append(_END_OF_MESSAGE)
                            pos += length
                        else:
                            if pos < n:
                                events.append(data[pos:])
                                length -= n - pos
                            self._current = head
                            self._remaining = length
                            self._state = _BODY
                            return events
                        if pos == n:
                            break
                        continue
                else:
                    head.version = "1.0"
                fields = _FIELD_LINE_LSTRIP.findall(section)
                if section.find(b" \r") >= 0 or section.find(b"\t\r") >= 0:
                    fields = [(name, value.rstrip(b" \t")) for name, value in fields]
                self._head = head
                self._fields = fields
                self._end_of_head(events)
                state = self._state
                if state == _BODY:
                    remaining = self._remaining
                    if n - pos < remaining:
                        if pos < n:
                            events.append(data[pos:])
                            self._remaining = remaining - (n - pos)
                        return events
                    events.append(data[pos : pos + remaining])
                    pos += remaining
                    events.append(_END_OF_MESSAGE)
                    self._end_message()
                    state = self._state
                if state != _HEAD or pos == n:
                    break
        except HttpProtocolError as exc:
            self._state = _FAILED
            self._error = exc
            exc.events = events  # type: ignore[attr-defined]
            raise
        if pos == n or self._state == _CLOSED:
            return events
        self._buf += data[pos:] if pos else data
        if self._state == _PAUSED:
            return events
        try:
            more = self._run()
        except HttpProtocolError as exc:
            exc.events = events + exc.events  # type: ignore[attr-defined]
            raise
        if more:
            events += more
        return events

    def _feed_body(self, data: bytes) -> list[Event]:
        """PERF (issue 17, the pure path): a read inside a Content-Length body with nothing
        buffered, as when a body comes in several reads: its part of the body is *data* itself
        or a slice of it, without copying through the buffer; what follows the body goes on as
        a read at a request's first byte. The same events as the general path (one piece of
        body a read, then the end of the message)."""
        remaining = self._remaining
        n = len(data)
        if n < remaining:
            self._remaining = remaining - n
            return [data] if n else []
        events: list[Event] = [data if n == remaining else data[:remaining], _END_OF_MESSAGE]
        self._remaining = 0
        self._end_message()
        state = self._state
        if n == remaining or state == _CLOSED:
            return events
        if state == _PAUSED:
            self._buf += data[remaining:]
            return events
        try:
            more = self._feed_plain(data[remaining:])
        except HttpProtocolError as exc:
            exc.events = events + exc.events  # type: ignore[attr-defined]
            raise
        events += more
        return events

    def resume(self) -> list[Event]:
        """Continue parsing HTTP after a declined upgrade; return the events already buffered."""
        if self._state != _PAUSED:
            return []
        self._state = _HEAD
        return self._run()

    def limit_body(self, max_body_size: int | None) -> None:
        """Apply *max_body_size* (a route's limit) to the chunked body being read, from its next
        chunk on; raise :class:`~fasthttp.errors.ContentTooLarge` at once if the chunk sizes
        announced so far pass it. No effect outside a chunked body (a Content-Length is checked
        against a route's limit by the body reader, ``fasthttp.requests.check_body_size``)."""
        if self._chunked is not None:
            self._chunked.limit(max_body_size)

    def take_unparsed(self) -> bytes:
        """Hand over every byte after the upgrade request and stop parsing for good."""
        data = bytes(self._buf)
        self._buf = bytearray()
        self._state = _CLOSED
        return data

    # -- the state machine ---------------------------------------------------------------------

    def _run(self) -> list[Event]:
        events: list[Event] = []
        buf = self._buf
        pos = 0
        try:
            while True:
                state = self._state
                if state == _HEAD:
                    n = len(events)
                    pos = self._parse_head(buf, pos, events)
                    if len(events) == n:  # the head is not complete yet
                        break
                elif state == _BODY:
                    end = len(buf)
                    if pos >= end:
                        break
                    take = min(self._remaining, end - pos)
                    events.append(bytes(buf[pos : pos + take]))
                    pos += take
                    self._remaining -= take
                    if self._remaining == 0:
                        events.append(_END_OF_MESSAGE)
                        self._end_message()
                elif state == _CHUNKED:
                    # the decoder appends the EndOfMessage (with the trailers) itself
                    dec = self._chunked
                    pos = dec._decode(buf, pos, len(buf), events)  # type: ignore[union-attr]
                    if not dec.done:  # type: ignore[union-attr]
                        break
                    self._end_message()
                else:  # paused or closed
                    break
        except HttpProtocolError as exc:
            self._state = _FAILED
            self._error = exc
            self._buf = bytearray()
            exc.events = events  # type: ignore[attr-defined]
            raise
        if self._state == _CLOSED:
            self._buf = bytearray()
        else:
            del buf[:pos]
            self._line_start -= pos
        return events

    def _end_message(self) -> None:
        head = self._current
        self._reset_head()
        if head.upgrade:  # type: ignore[union-attr]
            self._state = _PAUSED
        elif not head.keep_alive:  # type: ignore[union-attr]
            self._state = _CLOSED
        else:
            self._state = _HEAD

    def _parse_head(self, buf: bytearray, pos: int, events: list[Event]) -> int:
        """Process complete lines from ``_line_start``; return the consumed position."""
        end = len(buf)
        start = max(self._line_start, pos)
        if start >= end:
            self._line_start = start
            return pos
        if start == pos and self._head is None:
            done = self._whole_head(buf, pos, events)
            if done:
                return done
        while True:
            lf = buf.find(b"\n", start, end)
            if lf < 0:
                self._check_partial(buf, start, end)
                self._line_start = start
                return pos
            # The line's length without its line end: CRLF, or a bare LF (refused below, but only
            # after the length, as an incomplete line is measured: the same error at every split).
            length = lf - start - (lf > start and buf[lf - 1] == 0x0D)
            if self._head is None:
                if length == 0 and buf[start] == 0x0D:  # an empty line before the request-line
                    self._leading += 1
                    if self._leading > _MAX_LEADING_CRLF:
                        raise BadRequest("too many empty lines before the request-line")
                    start = pos = lf + 1
                    continue
                if length > self.max_request_line:
                    raise UriTooLong("request line too long")
                if lf == start or buf[lf - 1] != 0x0D:
                    raise BadRequest("bare LF in request line")
                self._request_line(bytes(buf[start : lf - 1]))
            else:
                size = field_line(buf, start, lf, self._fields, self._header_bytes, self.max_header_size, self.max_header_count)
                if size < 0:
                    if size == LINE_END:
                        self._line_start = lf + 1
                        self._end_of_head(events)
                        return lf + 1
                    cls, message = _LINE_ERRORS[size]
                    raise cls(message)
                self._header_bytes = size
            start = lf + 1

    def _whole_head(self, buf: bytearray, pos: int, events: list[Event]) -> int:
        """PERF: the common case at C speed. When a whole head is in the buffer and every line
        of it is plainly valid (CRLF line ends only, within the limits, each field line a token,
        a colon and bytes a field value may hold), take it in one piece and return the position
        after it. Otherwise return 0 and nothing has changed: the line-by-line path then finds
        the first error exactly as it would have (the same events and errors at every split)."""
        stop = buf.find(b"\r\n\r\n", pos)
        if stop < 0:
            return 0
        eol = buf.find(b"\r\n", pos)
        line = bytes(buf[pos:eol])
        if not line or len(line) > self.max_request_line or line.find(b"\r") >= 0 or line.find(b"\n") >= 0:
            return 0
        section = bytes(buf[eol + 2 : stop + 2])  # the field lines, each with its CRLF
        if len(section) > self.max_header_size or _FIELD_SECTION.fullmatch(section) is None:
            return 0
        fields = [(name, value.strip(b" \t")) for name, value in _FIELD_LINE.findall(section)]
        if len(fields) > self.max_header_count:
            return 0
        # The request line is checked as the line-by-line path checks it (its errors come first
        # there too, as it is the first line).
        self._request_line(line)
        self._fields = fields
        self._header_bytes = len(section)
        self._line_start = stop + 4
        self._end_of_head(events)
        return stop + 4

    def _check_partial(self, buf: bytearray, start: int, end: int) -> None:
        # Refuse an over-long line before it completes, as its complete form would be refused.
        partial = partial_length(buf, start, end)
        if self._head is None:
            if partial > self.max_request_line:
                raise UriTooLong("request line too long")
        elif section_overflows(self._header_bytes, partial, self.max_header_size):
            cls, message = _LINE_ERRORS[LINE_TOO_LARGE]
            raise cls(message)

    def _request_line(self, line: bytes) -> None:
        sp1 = line.find(b" ")
        sp2 = line.find(b" ", sp1 + 1) if sp1 > 0 else -1
        if sp1 <= 0 or sp2 < 0:
            raise BadRequest("malformed request line")
        method = line[:sp1]
        if method.translate(None, _TCHAR_BYTES):
            raise BadRequest("invalid character in method")
        target = line[sp1 + 1 : sp2]
        if not target:
            raise BadRequest("empty request target")
        if target.translate(None, _TARGET_OK_BYTES):
            raise BadRequest("invalid character in request target")
        version = line[sp2 + 1 :]
        # HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3)
        if (
            len(version) != 8
            or version[:5] != b"HTTP/"
            or version[6] != 0x2E
            or not (0x30 <= version[5] <= 0x39)
            or not (0x30 <= version[7] <= 0x39)
        ):
            raise BadRequest("malformed HTTP version")
        if version[5] != 0x31:
            raise HttpVersionNotSupported("only HTTP/1.x is supported")
        head = RequestHead()
        head.method = _METHODS.get(method) or method.decode("ascii")
        head.target = target
        head.version = "1.0" if version[7] == 0x30 else "1.1"
        self._split_target(head, target)
        self._head = head

    @staticmethod
    def _split_target(head: RequestHead, target: bytes) -> None:
        # RFC 9112 §3.2: origin-form, absolute-form, authority-form (CONNECT), asterisk-form.
        method = head.method
        if method == "CONNECT":
            # authority-form = uri-host ":" port (RFC 9112 §3.2.3)
            if not _authority_ok(target, True):
                raise BadRequest("CONNECT needs an authority-form target")
            head._path_end = len(target)
            head._path = ""  # only CONNECT's authority-form has no path at all
            return
        if target[0] == 0x2F:  # "/"
            start = 0
        elif target == b"*":
            if method != "OPTIONS":
                raise BadRequest("asterisk-form is only for OPTIONS")
            head._path_end = 1
            head._path = "*"
            return
        else:
            # absolute-form: scheme "://" authority path-abempty [ "?" query ]
            sep = target.find(b"://")
            scheme = target[:sep].lower() if sep > 0 else b""
            if scheme not in (b"http", b"https"):
                raise BadRequest("invalid request target")
            start = sep + 3
            while start < len(target) and target[start] not in b"/?":
                start += 1
            # RFC 9110 §4.2.1: an http(s) URI with an empty host is invalid.
            if not _authority_ok(target[sep + 3 : start], False):
                raise BadRequest("invalid authority in request target")
        q = target.find(b"?", start)
        end = q if q >= 0 else len(target)
        head._path_end = end
        # An absolute-form target with an empty path means "/" (RFC 9110 §4.2.3).
        head._path = target[start:end].decode("latin-1") if end > start else "/"

    def _end_of_head(self, events: list[Event]) -> None:
        head = self._head
        http11 = head.version == "1.1"  # type: ignore[union-attr]
        raw = self._fields
        headers = Headers._from_raw(raw)
        keys = headers._keys
        cl_values: Sequence[bytes] = ()
        te_values: Sequence[bytes] = ()
        connection: Sequence[bytes] = ()
        expect: bytes | None = None
        has_upgrade = False
        # PERF: most heads have no framing field but Host; the others are gathered by name, each
        # with a C-speed scan of the keys, rather than by a loop over every field.
        if not _FRAMING_KEYS.isdisjoint(keys):
            for k in _FRAMING_KEYS.intersection(keys):
                if keys.count(k) == 1:
                    values = [raw[keys.index(k)][1]]
                else:
                    values = [raw[i][1] for i, key in enumerate(keys) if key == k]
                if k == b"content-length":
                    cl_values = values
                elif k == b"connection":
                    connection = tokens(values)
                elif k == b"transfer-encoding":
                    te_values = values
                elif k == b"expect":
                    expect = values[0]
                else:
                    has_upgrade = True

        # RFC 9112 §3.2: exactly one Host in HTTP/1.1; at most one, well-formed, in any version.
        hosts = keys.count(b"host")
        if hosts > 1:
            raise BadRequest("more than one Host field")
        if not hosts and http11:
            raise BadRequest("HTTP/1.1 request without Host")
        # An empty Host is allowed (RFC 9112 §3.2); anything else must be uri-host [":" port].
        if hosts:
            host = raw[keys.index(b"host")][1]
            if host and _PLAIN_HOST.fullmatch(host) is None and not _authority_ok(host, False):
                raise BadRequest("invalid Host field value")

        content_length = None
        chunked = False
        if te_values:
            # RFC 9112 §6.1: a Transfer-Encoding in an HTTP/1.0 message means faulty framing.
            if not http11:
                raise BadRequest("Transfer-Encoding in an HTTP/1.0 request")
            # RFC 9112 §6.3 (3): TE with CL is a smuggling attempt; refuse rather than guess.
            if cl_values:
                raise BadRequest("both Transfer-Encoding and Content-Length")
            codings = tokens(list(te_values))
            for coding in codings:
                for c in coding:
                    if c not in TCHAR:
                        raise BadRequest("invalid transfer coding")
            # RFC 9112 §6.3 (4): chunked must be the final coding, and applied once (§7).
            if not codings or codings[-1] != b"chunked" or codings.count(b"chunked") > 1:
                raise BadRequest("Transfer-Encoding must end with a single chunked")
            if len(codings) > 1:
                raise TransferCodingNotImplemented("unsupported transfer coding")
            chunked = True
        elif cl_values:
            # RFC 9112 §6.3 (5): Content-Length = 1*DIGIT; a repeated field is refused even if
            # the values agree, so no intermediary can pick a different one.
            if len(cl_values) > 1:
                raise BadRequest("more than one Content-Length field")
            value = cl_values[0]
            if not value.isdigit() or not value.isascii():
                raise BadRequest("invalid Content-Length")
            # 1*DIGIT allows leading zeros: the cap is on the value (its significant digits),
            # not on the spelling (the compiled twin skips the zeros the same way).
            significant = value.lstrip(b"0")
            if len(significant) > _MAX_CL_DIGITS:
                raise ContentTooLarge("Content-Length too large")
            content_length = int(significant or b"0")
            if self.max_body_size is not None and content_length > self.max_body_size:
                raise ContentTooLarge("Content-Length exceeds the limit")

        # RFC 9110 §9.3.6: a CONNECT request has no content; a body here would be read as tunnel
        # data by a proxy and as a request body by us.
        if head.method == "CONNECT" and (chunked or content_length):  # type: ignore[union-attr]
            raise BadRequest("CONNECT request with content")

        # RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive".
        if http11:
            keep_alive = b"close" not in connection
        else:
            keep_alive = b"keep-alive" in connection and b"close" not in connection

        head.headers = headers  # type: ignore[union-attr]
        head.keep_alive = keep_alive  # type: ignore[union-attr]
        head.content_length = content_length  # type: ignore[union-attr]
        head.chunked = chunked  # type: ignore[union-attr]
        # RFC 9110 §10.1.1: ignore 100-continue in an HTTP/1.0 request.
        head.expect_continue = http11 and expect is not None and expect.lower() == b"100-continue"  # type: ignore[union-attr]
        head.has_expect = expect is not None  # type: ignore[union-attr]
        # RFC 9110 §7.8: Upgrade in an HTTP/1.0 request is ignored.
        head.upgrade = head.method == "CONNECT" or (  # type: ignore[union-attr]
            http11 and b"upgrade" in connection and has_upgrade
        )
        events.append(head)  # type: ignore[arg-type]
        self._current = head
        if chunked:
            self._chunked = ChunkedDecoder(
                max_chunk_line=self.max_chunk_line,
                max_trailer_size=self.max_trailer_size,
                max_trailer_count=self.max_header_count,
                max_body_size=self.max_body_size,
            )
            self._state = _CHUNKED
        elif content_length:
            self._remaining = content_length
            self._state = _BODY
        else:
            events.append(_END_OF_MESSAGE)
            self._end_message()
