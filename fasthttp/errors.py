"""Protocol error types, raised identically by the compiled kernels and their pure twins
(and, for the deadlines and expectations only the engine can judge, by the engine).

Each class carries the HTTP status code a server answers with (STYLE.md, habit 10). The engine
maps any :class:`HttpProtocolError` to ``status`` + ``Connection: close`` and then closes the
connection, so that nothing after a bad request is ever parsed (RFC 9112 §9.6 and §11.2: after a
framing error the connection cannot be trusted).
"""

from __future__ import annotations

__all__ = (
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
)


class HttpProtocolError(Exception):
    """A request the server must refuse. ``status`` is the response code to send."""

    status: int = 400
    reason: str = "Bad Request"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.reason)
        self.message = message or self.reason

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class BadRequest(HttpProtocolError):
    """Malformed syntax or ambiguous framing (RFC 9110 §15.5.1)."""

    status = 400
    reason = "Bad Request"


class RequestTimeout(HttpProtocolError):
    """The request head or body did not arrive in time (RFC 9110 §15.5.9). Raised by the engine."""

    status = 408
    reason = "Request Timeout"


class LengthRequired(HttpProtocolError):
    """A chunked body where the server requires Content-Length (RFC 9110 §15.5.12). Engine."""

    status = 411
    reason = "Length Required"


class ContentTooLarge(HttpProtocolError):
    """The request content exceeds the configured limit (RFC 9110 §15.5.14)."""

    status = 413
    reason = "Content Too Large"


class UriTooLong(HttpProtocolError):
    """The request line exceeds the configured limit (RFC 9110 §15.5.15, RFC 9112 §3)."""

    status = 414
    reason = "URI Too Long"


class HeaderFieldsTooLarge(HttpProtocolError):
    """The header section, one field, or the field count exceeds its limit (RFC 6585 §5)."""

    status = 431
    reason = "Request Header Fields Too Large"


class RangeNotSatisfiable(HttpProtocolError):
    """No range in a ``Range`` header overlaps the representation (RFC 9110 §15.5.17)."""

    status = 416
    reason = "Range Not Satisfiable"

    def __init__(self, message: str = "", length: int | None = None) -> None:
        super().__init__(message)
        #: The representation length, for the ``Content-Range: bytes */length`` field.
        self.length = length


class ExpectationFailed(HttpProtocolError):
    """An ``Expect`` other than ``100-continue`` (RFC 9110 §10.1.1, §15.5.18). Engine."""

    status = 417
    reason = "Expectation Failed"


class TransferCodingNotImplemented(HttpProtocolError):
    """A transfer coding the server does not implement (RFC 9112 §6.1, RFC 9110 §15.6.2)."""

    status = 501
    reason = "Not Implemented"


class HttpVersionNotSupported(HttpProtocolError):
    """A major protocol version other than HTTP/1 (RFC 9110 §15.6.6)."""

    status = 505
    reason = "HTTP Version Not Supported"


class InvalidResponseHeader(ValueError):
    """A response header name or value the writer refuses to send.

    APPSEC: a CR or LF in a response field would let the application (or an attacker who controls
    a value it echoes) inject headers or a whole second response (response splitting, RFC 9110
    §5.5). This is an application error, so the engine answers it with a 500.
    """
