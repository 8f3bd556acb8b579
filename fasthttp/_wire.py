"""The test tools' response reader: responses as :class:`TestResponse` objects, read by the
response-parser kernel (``fasthttp.responseparser``).

Strategy: sans-IO, bytes in, responses out, as h11 does: ``feed`` takes what arrived,
``feed_eof`` says the peer closed, ``expect(method)`` announces each request, and
``next_response`` returns the next complete final response (or None until it is complete). It is
the test tools' one reader: :class:`fasthttp.testing.TestClient` reads the in-memory engine with
it; the socket tests' raw client (``tests/helpers_server.py``) and the benchmark harness's checks
(``benchmarks/server/httpcheck.py``) read sockets with it. Users import it from
:mod:`fasthttp.testing`. The grammar and the framing (RFC 9112 §4-§7, §6.3 in order) are the
kernel's, the client's own (``fasthttp/_pure/responseparser.py`` states them): one strict
reader of one grammar, so what the tests accept is what the client accepts. This module only
collects the kernel's events into responses:

- a response is parsed when its request has been announced (``expect``): bytes that arrive
  first wait (the kernel's ``wait_for_request``), and bytes no request claims are an error when
  the server closes -- never read as the answer to a GET nobody sent;
- errors are the kernel's: :class:`~fasthttp.errors.ResponseProtocolError` (malformed framing,
  with the bytes where it broke) and its subclass
  :class:`~fasthttp.errors.IncompleteResponseError` (closed in the middle of a response, or
  before the response to an announced request), exported here as :data:`IncompleteResponse`;
- :meth:`ResponseReader.next_head` reads a head alone (the kernel's ``pause_after_head``) for a
  client that takes the connection over after it;
- interim 1xx responses (RFC 9110 §15.2) are collected, in order, on the final response that
  follows (``interim``) and in :attr:`ResponseReader.interim_seen`, for a client waiting for
  ``100 Continue``; a 101 is final (it ends HTTP/1.1 on the connection).
"""

from __future__ import annotations

import collections
import json as _json
from typing import Any

from .errors import IncompleteResponseError, ResponseProtocolError
from .headers import Headers
from .responseparser import EndOfMessage, ResponseHead, ResponseParser

__all__ = ("TestResponse", "ResponseReader", "IncompleteResponse", "ResponseProtocolError")

Fields = list[tuple[str, str]]

#: The server closed the connection (or the client gave up) before a full response.
IncompleteResponse = IncompleteResponseError



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


def _fields(headers: Headers) -> Fields:
    # the fields as the server spelled them (Headers.items() lower-cases the names)
    return [(n.decode("latin-1"), v.decode("latin-1")) for n, v in headers.raw()]


def _response(head: ResponseHead, interim: list[int] | None = None) -> TestResponse:
    return TestResponse(head.version, head.status, head.reason, _fields(head.headers), interim=interim)


class ResponseReader:
    """Incremental, strict reader of HTTP/1.1 responses (the module docstring).

    ``expect(method)`` per request, in order (a response to HEAD has no content, one to CONNECT
    opens a tunnel); ``feed(data)`` and ``feed_eof()`` take the bytes; :meth:`next_response`
    returns the next final response once complete, or None.
    """

    def __init__(self) -> None:
        # A reader of a server under test has no reason to cap what it reads below the server's
        # own limits: generous bounds, still bounds.
        self._parser = ResponseParser(
            max_header_size=1 << 20,
            max_header_count=10_000,
            max_trailer_size=1 << 20,
            max_chunk_line=1 << 16,
            wait_for_request=True,
        )
        self._unfed = bytearray()  # fed, not yet parsed: parsed when a response is asked for
        self._eof = False
        self._eof_fed = False
        self._error: ResponseProtocolError | None = None
        self._events: collections.deque[Any] = collections.deque()
        self._interim: list[int] = []  # 1xx statuses before the final response being read
        self._response: TestResponse | None = None  # the final response whose content is read
        self._body: list[bytes] = []
        self._switched = False
        #: Every 1xx status received, for a client waiting for ``100 Continue``.
        self.interim_seen: list[int] = []

    def expect(self, method: str) -> None:
        """Announce the method of the next request sent (responses come back in order)."""
        self._parser.request(method)

    @property
    def pending(self) -> int:
        """Requests announced whose final response has not started yet."""
        return self._parser.pending

    def feed(self, data: bytes) -> None:
        self._unfed += data

    def feed_eof(self) -> None:
        """The server closed the connection: no more bytes will come."""
        self._eof = True

    @property
    def eof(self) -> bool:
        return self._eof

    @property
    def buffered(self) -> int:
        """How many bytes were fed that no response has consumed yet."""
        return len(self._unfed) + self._parser.buffered

    @property
    def switched(self) -> bool:
        """True after a 101 or a 2xx to CONNECT: what follows is no longer HTTP/1.1."""
        return self._switched

    def take_buffered(self) -> bytes:
        """After a 101 or a 2xx to CONNECT (or a head read by :meth:`next_head`): remove and
        return the bytes fed that no response consumed, the first bytes of what follows."""
        data = bytes(self._unfed)
        self._unfed.clear()
        if self._parser.paused:
            data = self._parser.take_unparsed() + data
        return data

    def _pump(self, *, pause: bool) -> None:
        """Hand the parser what was fed (and the close, once fed whole); queue its events, and
        keep its error for when they run out."""
        if self._error is not None:
            return
        parser = self._parser
        parser.pause_after_head = pause
        try:
            if self._unfed and not parser.paused:
                data, self._unfed = bytes(self._unfed), bytearray()
                self._events.extend(parser.feed(data))
            elif parser.buffered and not parser.paused:
                self._events.extend(parser.feed(b""))  # bytes held for a request just announced
            if self._eof and not self._eof_fed and not self._unfed:
                self._eof_fed = True
                self._events.extend(parser.feed_eof())
        except ResponseProtocolError as exc:
            self._events.extend(exc.events)
            self._error = exc

    # -- heads ------------------------------------------------------------------------------------

    def next_head(self) -> TestResponse | None:
        """The next response head alone, interim or final, or None until it is complete.

        No content is read: the caller reads what follows the head itself (the content, or the
        bytes of the protocol a 101 switched to), so this is for a client that takes the
        connection over; bytes fed after the head stay buffered (:meth:`take_buffered`). Only
        between responses.
        """
        if self._response is not None or self._switched:
            raise RuntimeError("next_head() is only valid between responses")
        self._pump(pause=True)
        if not self._events:
            if self._error is not None:
                raise self._error
            return None
        head = self._events.popleft()
        assert type(head) is ResponseHead, head
        if head.informational:
            self._interim.append(head.status)
            self.interim_seen.append(head.status)
            return _response(head)
        interim, self._interim = self._interim, []
        if head.upgrade:
            self._switched = True
            self._events.clear()  # its EndOfMessage: the rest is take_buffered()'s
        elif self._events:
            raise RuntimeError("next_head() after next_response() read past this head")
        else:
            self._unfed[:0] = self._parser.resume()  # what follows the head: the caller's
        return _response(head, interim)

    # -- responses --------------------------------------------------------------------------------

    def next_response(self) -> TestResponse | None:
        """The next complete final response, or None until its last byte has arrived."""
        if self._switched and not self._events:
            return None
        self._pump(pause=False)
        events = self._events
        while events:
            event = events.popleft()
            if type(event) is ResponseHead:
                if event.informational:
                    # RFC 9110 §15.2: interim, no content; the final response follows.
                    self._interim.append(event.status)
                    self.interim_seen.append(event.status)
                    continue
                interim, self._interim = self._interim, []
                self._response = _response(event, interim)
                self._switched = event.upgrade
            elif type(event) is bytes:
                self._body.append(event)
            else:
                assert isinstance(event, EndOfMessage)
                response = self._response
                assert response is not None
                response.body = b"".join(self._body)
                if event.trailers is not None:
                    response.trailers = Headers(_fields(event.trailers))
                self._response, self._body = None, []
                return response
        if self._error is not None:
            raise self._error
        return None
