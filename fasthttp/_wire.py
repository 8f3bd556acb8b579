"""A strict, sans-IO reader of HTTP/1.1 responses, and the response it yields (RFC 9112 §4-§7).

Strategy: bytes in, responses out, no I/O (as h11 does). ``feed`` takes what arrived,
``feed_eof`` says the peer closed, ``next_response`` returns the next complete final response
or None until more bytes come. It is the one home of response framing for every test tool:
:class:`fasthttp.testing.TestClient` reads the in-memory engine with it; the socket tests' raw
client (``tests/helpers_server.py``) and the benchmark harness's checks
(``benchmarks/server/httpcheck.py``) read sockets with it. Users import it from
:mod:`fasthttp.testing`.

It is strict on purpose: what it reads comes from a server under test, so framing a conforming
server must not send is a ``ValueError``, never a guess. The framing rules, in the precedence
order of RFC 9112 §6.3:

1. a response to HEAD, a 1xx, 204 or 304 has no content (§6.3 (1)); neither has a 2xx to
   CONNECT (§6.3 (2)): the connection becomes a tunnel. 101 ends HTTP/1.1 on the connection too
   (RFC 9110 §15.2.2); after either, the reader reads nothing more (:attr:`switched`);
2. ``Transfer-Encoding: chunked`` (the only coding a server sends us) delimits the content, with
   a trailer section (§7.1); with ``Content-Length`` as well it is an error (§6.3 (3): the sign
   of response splitting);
3. ``Content-Length`` (one value, repeated identically at most: RFC 9110 §8.6) counts it;
4. otherwise the content runs until the server closes the connection (§6.3 (8)).

Interim 1xx responses (RFC 9110 §15.2) are collected on the final response that follows
(``interim``) and in :attr:`ResponseReader.interim_seen`, for a client waiting for
``100 Continue``.
"""

from __future__ import annotations

import collections
import json as _json
import re
from typing import Any

from ._grammar import TOKEN_BYTES
from .headers import Headers

__all__ = ("TestResponse", "ResponseReader", "IncompleteResponse")

Fields = list[tuple[str, str]]

# RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ], the reason being
# HTAB / SP / VCHAR / obs-text. Status codes run from 100 to 599 (RFC 9110 §15).
_STATUS_LINE = re.compile(rb"HTTP/(1\.[01]) ([1-5][0-9][0-9]) ([\t \x21-\x7e\x80-\xff]*)")
# RFC 9110 §5.5: a field value is VCHAR / obs-text with SP or HTAB inside (the OWS around it is
# stripped first), never CR, LF, NUL or another control.
_FIELD_VALUE = re.compile(rb"[\t \x21-\x7e\x80-\xff]*")
# RFC 9112 §7.1: chunk-size = 1*HEXDIG, then chunk extensions after BWS ";" (not interpreted).
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]+)(?:[ \t]*;[\t \x21-\x7e\x80-\xff]*)?")
_DIGITS = re.compile(r"[0-9]+")

# What the reader is reading (one state at a time, so a response fed a byte at a time is parsed
# once, not once per byte).
_HEAD, _LENGTH, _CHUNK_SIZE_LINE, _CHUNK_DATA, _CHUNK_END, _TRAILERS, _UNTIL_EOF = range(7)


class IncompleteResponse(Exception):
    """The server closed the connection (or the client timed out) before a full response."""


class TestResponse:
    """A response as the client received it.

    ``status``, ``reason``, ``version`` (``"1.1"``), ``headers`` (case-insensitive,
    multi-valued: :class:`fasthttp.headers.Headers`), ``body`` (bytes), ``text``, ``json()``,
    ``trailers`` (Headers, for a chunked body; else empty), ``interim`` (the 1xx statuses received
    before it).
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        version: str,
        status: int,
        reason: str,
        fields: Fields,
        body: bytes = b"",
        trailers: Fields | None = None,
        interim: list[int] | None = None,
    ) -> None:
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = Headers(fields)
        self.body = body
        self.trailers = Headers(trailers or [])
        self.interim: list[int] = interim or []

    @property
    def content(self) -> bytes:
        return self.body

    @property
    def text(self) -> str:
        """The body decoded with the charset of ``Content-Type`` (UTF-8 by default)."""
        charset = "utf-8"
        ctype = self.headers.get("content-type") or ""
        for part in ctype.split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.lower() == "charset" and value:
                charset = value.strip('"')
        return self.body.decode(charset, errors="replace")

    def json(self) -> Any:
        return _json.loads(self.body)

    def __repr__(self) -> str:
        return f"<TestResponse {self.status} {len(self.body)} bytes>"


def _field_line(line: bytes) -> tuple[str, str]:
    """RFC 9112 §5: field-name ":" OWS field-value OWS; no whitespace before the colon (§5.1),
    no obs-fold (§5.2): both are refused."""
    name, colon, value = line.partition(b":")
    value = value.strip(b" \t")
    if not colon or TOKEN_BYTES.fullmatch(name) is None or _FIELD_VALUE.fullmatch(value) is None:
        raise ValueError(f"malformed field line {line!r}")
    return name.decode("latin-1"), value.decode("latin-1")


class ResponseReader:
    """Incremental, strict reader of HTTP/1.1 responses (RFC 9112 §4-§7).

    ``feed(data)`` and ``feed_eof()`` take the bytes; :meth:`next_response` returns the next
    final response once complete, or None. Call ``expect(method)`` per request, in order, so a
    response to HEAD is read without content (RFC 9110 §9.3.2) and one to CONNECT opens a
    tunnel; without it a response is read as one to GET. Malformed framing is a ``ValueError``;
    the connection closing in the middle of a response, or before the response to an expected
    request, is :class:`IncompleteResponse`.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._eof = False
        self._switched = False
        self._methods: collections.deque[str] = collections.deque()
        self._interim: list[int] = []  # 1xx statuses before the final response being read
        self._state = _HEAD
        self._response: TestResponse | None = None  # the final response whose content is read
        self._remaining = 0  # bytes left of the content (_LENGTH) or of the chunk (_CHUNK_DATA)
        self._body = bytearray()
        self._trailers: Fields = []
        #: Every 1xx status received, for a client waiting for ``100 Continue``.
        self.interim_seen: list[int] = []

    def expect(self, method: str) -> None:
        """Announce the method of the next request sent (responses come back in order)."""
        self._methods.append(method)

    def feed(self, data: bytes) -> None:
        self._buf += data

    def feed_eof(self) -> None:
        """The server closed the connection: no more bytes will come."""
        self._eof = True

    @property
    def eof(self) -> bool:
        return self._eof

    @property
    def buffered(self) -> int:
        """How many bytes were fed that no response has consumed yet."""
        return len(self._buf)

    @property
    def switched(self) -> bool:
        """True after a 101 or a 2xx to CONNECT: what follows is no longer HTTP/1.1."""
        return self._switched

    def take_buffered(self) -> bytes:
        """Remove and return the bytes fed that no response consumed: after a 101 (or a 2xx to
        CONNECT), the first bytes of the protocol the connection switched to."""
        data = bytes(self._buf)
        self._buf.clear()
        return data

    # -- heads ------------------------------------------------------------------------------------

    def _read_head(self) -> tuple[str, int, str, Fields] | None:
        """One response head off the buffer: (version, status, reason, fields), or None."""
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            if self._eof and (self._buf or self._methods):
                raise IncompleteResponse("the connection closed before a complete response head")
            return None
        lines = bytes(self._buf[:end]).split(b"\r\n")
        del self._buf[: end + 4]
        match = _STATUS_LINE.fullmatch(lines[0])
        if match is None:
            raise ValueError(f"malformed status line {lines[0]!r}")
        version, code, reason = match.groups()
        fields = [_field_line(line) for line in lines[1:]]
        return version.decode(), int(code), reason.decode("latin-1"), fields

    def _interim_status(self, status: int) -> bool:
        # RFC 9110 §15.2: 1xx responses are interim and have no content; a final one follows.
        # 101 is the last response of HTTP/1.1 on the connection (RFC 9110 §15.2.2).
        if 100 <= status < 200 and status != 101:
            self._interim.append(status)
            self.interim_seen.append(status)
            return True
        return False

    def _final(self, version: str, status: int, reason: str, fields: Fields) -> TestResponse:
        interim, self._interim = self._interim, []
        return TestResponse(version, status, reason, fields, interim=interim)

    def next_head(self) -> TestResponse | None:
        """The next response head alone, interim or final, or None until it is complete.

        No content is read: the caller reads what follows the head itself (the content, or the
        bytes of the protocol a 101 switched to), so this is for a client that takes the
        connection over. Only between responses.
        """
        if self._state != _HEAD or self._switched:
            raise RuntimeError("next_head() is only valid between responses")
        head = self._read_head()
        if head is None:
            return None
        version, status, reason, fields = head
        if self._interim_status(status):
            return TestResponse(version, status, reason, fields)
        if self._methods:
            self._methods.popleft()
        return self._final(version, status, reason, fields)

    # -- responses --------------------------------------------------------------------------------

    def next_response(self) -> TestResponse | None:
        """The next complete final response, or None until its last byte has arrived."""
        if self._switched:
            return None
        if self._state == _HEAD:
            while True:
                head = self._read_head()
                if head is None:
                    return None
                if not self._interim_status(head[1]):
                    break
            self._start(self._final(*head))
        return self._read_content()

    def _start(self, response: TestResponse) -> None:
        """Choose the framing of *response*'s content (RFC 9112 §6.3, in order)."""
        self._response = response
        method = self._methods[0] if self._methods else "GET"
        status = response.status
        tunnel = method == "CONNECT" and 200 <= status < 300
        if method == "HEAD" or status in (204, 304) or status == 101 or tunnel:
            self._switched = status == 101 or tunnel
            self._state, self._remaining = _LENGTH, 0
            return
        te = response.headers.getall("transfer-encoding")
        cl = response.headers.getall("content-length")
        if te:
            if cl:
                raise ValueError("Content-Length with Transfer-Encoding in a response (RFC 9112 §6.3)")
            if [c.strip().lower() for c in ",".join(te).split(",")] != ["chunked"]:
                raise ValueError(f"unexpected transfer coding {te!r}")
            self._state = _CHUNK_SIZE_LINE
        elif cl:
            if len(set(cl)) != 1 or _DIGITS.fullmatch(cl[0]) is None:
                raise ValueError(f"invalid Content-Length {cl!r}")
            self._state, self._remaining = _LENGTH, int(cl[0])
        else:
            self._state = _UNTIL_EOF

    def _line(self) -> bytes | None:
        end = self._buf.find(b"\r\n")
        if end < 0:
            return None
        line = bytes(self._buf[:end])
        del self._buf[: end + 2]
        return line

    def _take(self) -> None:
        n = min(self._remaining, len(self._buf))
        self._body += self._buf[:n]
        del self._buf[:n]
        self._remaining -= n

    def _read_content(self) -> TestResponse | None:
        """Advance through the content of the current response; the response once complete."""
        while True:
            state = self._state
            if state == _LENGTH or state == _CHUNK_DATA:
                self._take()
                if self._remaining:
                    self._need_more()
                    return None
                if state == _LENGTH:
                    return self._done()
                self._state = _CHUNK_END
            elif state == _CHUNK_END:
                if len(self._buf) < 2:
                    self._need_more()
                    return None
                if self._buf[:2] != b"\r\n":
                    raise ValueError("chunk data not followed by CRLF (RFC 9112 §7.1)")
                del self._buf[:2]
                self._state = _CHUNK_SIZE_LINE
            elif state == _CHUNK_SIZE_LINE:
                line = self._line()
                if line is None:
                    self._need_more()
                    return None
                match = _CHUNK_SIZE.fullmatch(line)
                if match is None:
                    raise ValueError(f"invalid chunk size line {line!r}")
                self._remaining = int(match.group(1), 16)
                # RFC 9112 §7.1: the last chunk (size 0) is followed by the trailer section.
                self._state = _CHUNK_DATA if self._remaining else _TRAILERS
            elif state == _TRAILERS:
                line = self._line()
                if line is None:
                    self._need_more()
                    return None
                if not line:
                    return self._done()
                self._trailers.append(_field_line(line))  # RFC 9112 §7.1.2
            else:  # _UNTIL_EOF: RFC 9112 §6.3 (8)
                self._body += self._buf
                self._buf.clear()
                return self._done() if self._eof else None

    def _need_more(self) -> None:
        """More bytes are needed: an error if none will come."""
        if self._eof:
            raise IncompleteResponse("the connection closed in the middle of a response")

    def _done(self) -> TestResponse:
        response = self._response
        assert response is not None
        response.body = bytes(self._body)
        response.trailers = Headers(self._trailers)
        self._response, self._state, self._body, self._trailers = None, _HEAD, bytearray(), []
        if self._methods:
            self._methods.popleft()
        return response
