"""The error types of fasthttp: one root, :class:`HttpError`, carrying the status to answer with.

Every HTTP error a server sends comes from one of these, whoever raises it (STYLE.md, habit 10):

- the kernels (both twins, identically) raise the :class:`HttpProtocolError` subclasses for
  requests they must refuse; the engine answers ``status`` + ``Connection: close`` and closes,
  so that nothing after a bad request is ever parsed (RFC 9112 §9.6 and §11.2: after a framing
  error the connection cannot be trusted);
- the engine raises the deadline and expectation errors only it can judge (408, 411, 417);
- applications and the message model raise :class:`HttpError` itself (``HttpError(404)``) or a
  subclass; the framework renders it (``fasthttp.responses.render_error``) as the client's
  ``Accept`` prefers, and the connection goes on.

This module sits with the kernels (they raise its types), so it imports only ``_grammar``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Union

from ._grammar import reason_phrase

__all__ = (
    "HttpError",
    "HttpProtocolError",
    "BadRequest",
    "RequestTimeout",
    "LengthRequired",
    "ContentTooLarge",
    "UriTooLong",
    "HeaderFieldsTooLarge",
    "RangeNotSatisfiable",
    "ExpectationFailed",
    "TransferCodingNotImplemented",
    "HttpVersionNotSupported",
    "InvalidResponseHeader",
    "WebSocketProtocolError",
    "Unauthorized",
    "Forbidden",
    "ClientError",
    "ConnectError",
    "ClientTimeout",
    "ResponseProtocolError",
    "IncompleteResponseError",
    "ResponseTooLarge",
    "TooManyRedirects",
    "ResponseStatusError",
)

#: Header fields an error adds to its response: a mapping or ``(name, value)`` pairs.
ErrorHeaders = Union[Mapping[Any, Any], Iterable[tuple[Any, Any]], None]


class HttpError(Exception):
    """An HTTP error response, raised. Raise it from a handler to answer with *status*.

    *detail* is what the client is told: the reason phrase by default, or any JSON-serialisable
    value (validation errors, say). *headers* are added to the response. Unlike any other
    exception, it is not logged as a server error; its body follows the client's ``Accept``.
    """

    #: The status of a subclass that stands for one status (``BadRequest.status == 400``).
    status: int = 500

    def __init__(self, status: int | None = None, detail: Any = None, headers: ErrorHeaders = None) -> None:
        if status is not None:
            self.status = status
        if detail is None or detail == "":
            detail = reason_phrase(self.status)
        super().__init__(self.status, detail)
        self.detail: Any = detail
        self.headers: ErrorHeaders = headers

    @property
    def reason(self) -> str:
        """The reason phrase of :attr:`status` (``"Not Found"``)."""
        return reason_phrase(self.status)

    def __str__(self) -> str:
        return self.detail if isinstance(self.detail, str) else repr(self.detail)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.detail!r})"


class HttpProtocolError(HttpError):
    """A request the server must refuse at the protocol level; the connection then closes.

    Subclasses stand for one status each and take the detail only: ``BadRequest("bare CR")``.
    """

    status = 400

    def __init__(self, detail: Any = None, headers: ErrorHeaders = None) -> None:
        super().__init__(None, detail, headers)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.detail!r})"


class BadRequest(HttpProtocolError):
    """Malformed syntax or ambiguous framing (RFC 9110 §15.5.1)."""

    status = 400


class RequestTimeout(HttpProtocolError):
    """The request head or body did not arrive in time (RFC 9110 §15.5.9). Raised by the engine."""

    status = 408


class LengthRequired(HttpProtocolError):
    """A chunked body where the server requires Content-Length (RFC 9110 §15.5.12). Engine."""

    status = 411


class ContentTooLarge(HttpProtocolError):
    """The request content exceeds the configured limit (RFC 9110 §15.5.14)."""

    status = 413


class UriTooLong(HttpProtocolError):
    """The request line exceeds the configured limit (RFC 9110 §15.5.15, RFC 9112 §3)."""

    status = 414


class HeaderFieldsTooLarge(HttpProtocolError):
    """The header section, one field, or the field count exceeds its limit (RFC 6585 §5)."""

    status = 431


class RangeNotSatisfiable(HttpProtocolError):
    """No range in a ``Range`` header overlaps the representation (RFC 9110 §15.5.17)."""

    status = 416

    def __init__(self, detail: Any = None, length: int | None = None) -> None:
        super().__init__(detail)
        #: The representation length, for the ``Content-Range: bytes */length`` field.
        self.length = length


class ExpectationFailed(HttpProtocolError):
    """An ``Expect`` other than ``100-continue`` (RFC 9110 §10.1.1, §15.5.18). Engine."""

    status = 417


class TransferCodingNotImplemented(HttpProtocolError):
    """A transfer coding the server does not implement (RFC 9112 §6.1, RFC 9110 §15.6.2)."""

    status = 501


class HttpVersionNotSupported(HttpProtocolError):
    """A major protocol version other than HTTP/1 (RFC 9110 §15.6.6)."""

    status = 505


class Unauthorized(HttpError):
    """The request lacks valid authentication credentials (RFC 9110 §15.5.2): answered ``401``
    with one ``WWW-Authenticate`` field per *challenges* item (RFC 9110 §11.6.1: a 401 carries at
    least one challenge). Raised by the authentication and authorization middleware."""

    status = 401

    def __init__(self, detail: Any = None, challenges: Iterable[str] = (), headers: ErrorHeaders = None) -> None:
        fields: list[tuple[Any, Any]] = [("WWW-Authenticate", c) for c in challenges]
        if headers:
            fields.extend(headers.items() if isinstance(headers, Mapping) else headers)
        super().__init__(None, detail, fields or None)


class Forbidden(HttpError):
    """The server understood the request and refuses it (RFC 9110 §15.5.4): the client is
    authenticated, or authenticating would not help, and is not allowed."""

    status = 403

    def __init__(self, detail: Any = None, headers: ErrorHeaders = None) -> None:
        super().__init__(None, detail, headers)


class InvalidResponseHeader(ValueError):
    """A response header name or value the writer refuses to send.

    APPSEC: a CR or LF in a response field would let the application (or an attacker who controls
    a value it echoes) inject headers or a whole second response (response splitting, RFC 9110
    §5.5). This is an application error, not an HTTP error, so the engine answers it with a 500.
    """


class WebSocketProtocolError(Exception):
    """A websocket peer broke RFC 6455: the connection fails with close *code* (RFC 6455 §7.1.7).

    Raised identically by both twins of the frame reader (``fasthttp.wsframe``): ``1002``
    protocol error, ``1007`` text or a close reason that is not UTF-8, ``1009`` a frame or a
    message past its limit (§7.4.1). Not an :class:`HttpError`: after the upgrade there is no
    status to answer with, only a close code. ``events`` holds what the same ``feed()``
    completed before the bad bytes (they came first, so they are delivered first).
    """

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason
        self.events: list[Any] = []

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"

    def __repr__(self) -> str:
        return f"WebSocketProtocolError({self.code}, {self.reason!r})"


# -- the HTTP client's errors ------------------------------------------------------------------
# NOTE: a separate root, not HttpError: an HttpError is a response this server answers with (it
# carries the status to send); these say what went wrong talking to another server, and a caller
# acts on the type (retry on ConnectError, back off on ClientTimeout, give up on
# ResponseProtocolError). The response-parser kernel raises the protocol ones, so they live here.

#: How many of the offending bytes a ResponseProtocolError keeps (and shows).
ERROR_DATA_LIMIT = 256


class ClientError(Exception):
    """The root of every error ``fasthttp.client`` raises (never an :class:`HttpError`)."""


class ConnectError(ClientError):
    """The connection could not be made: DNS, refused, unreachable, TLS handshake, proxy CONNECT."""


class ClientTimeout(ClientError, TimeoutError):
    """A client deadline passed; *phase* says which: ``"connect"``, ``"pool"`` (waiting for a
    free connection), ``"write"``, ``"read"`` or ``"total"``. Also a builtin TimeoutError."""

    def __init__(self, phase: str, timeout: float | None = None) -> None:
        super().__init__(f"{phase} timeout" + (f" ({timeout:g}s)" if timeout is not None else ""))
        self.phase = phase
        self.timeout = timeout


class ResponseProtocolError(ClientError):
    """A server's response broke HTTP/1.1 (RFC 9112); the connection is closed, never reused.

    ``data`` holds the bytes where it broke (from the start of the element being parsed, at most
    :data:`ERROR_DATA_LIMIT` of them); ``events`` what the same ``feed()`` completed before.
    Raised identically by both twins of ``fasthttp.responseparser``.
    """

    def __init__(self, message: str, data: bytes = b"") -> None:
        super().__init__(message)
        self.message = message
        self.data = bytes(data[:ERROR_DATA_LIMIT])
        self.events: list[Any] = []

    def __str__(self) -> str:
        return f"{self.message}: {self.data!r}" if self.data else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, {self.data!r})"


class IncompleteResponseError(ResponseProtocolError):
    """The server closed the connection before the response ended. ``received`` is how many bytes
    of this response had arrived: 0 means none at all (a pooled connection the server had closed;
    the client retries an idempotent request once on that)."""

    def __init__(self, message: str, data: bytes = b"", received: int = 0) -> None:
        super().__init__(message, data)
        self.received = received


class ResponseTooLarge(ResponseProtocolError):
    """The response (its head, or its content) exceeds the client's configured limit."""


class TooManyRedirects(ClientError):
    """More redirects than the client's limit; ``history`` holds the responses followed."""

    def __init__(self, message: str, history: list[Any] | None = None) -> None:
        super().__init__(message)
        self.history: list[Any] = history or []


class ResponseStatusError(ClientError):
    """Raised by ``response.raise_for_status()`` for a 4xx or 5xx; ``response`` is the response."""

    def __init__(self, message: str, response: Any = None) -> None:
        super().__init__(message)
        self.response = response
        self.status: int = getattr(response, "status", 0)


def __getattr__(name: str) -> Any:
    # The old spelling of the root, kept one release for code written against 0.1.
    if name == "HTTPError":
        import warnings

        warnings.warn("fasthttp.HTTPError is now spelled HttpError", DeprecationWarning, stacklevel=2)
        return HttpError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
