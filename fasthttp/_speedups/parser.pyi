"""Types and docs for the compiled request parser; the behaviour is ``fasthttp/_pure/parser.py``."""

from typing import TypeAlias

from .chunked import EndOfMessage
from .headers import Headers

__all__ = ("RequestParser", "RequestHead", "EndOfMessage")

class RequestHead:
    """A request's line and header section, with the framing the parser derived from them."""

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
    @property
    def path(self) -> str: ...
    @property
    def query(self) -> str: ...
    @property
    def has_body(self) -> bool: ...

#: What :meth:`RequestParser.feed` returns, in order, for each request.
Event: TypeAlias = RequestHead | bytes | EndOfMessage

class RequestParser:
    """Incremental, strict HTTP/1.1 request parser (RFC 9112)."""

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
    ) -> None: ...
    @property
    def paused(self) -> bool: ...
    @property
    def closed(self) -> bool: ...
    @property
    def buffered(self) -> int: ...
    def feed(self, data: bytes | bytearray | memoryview) -> list[Event]:
        """Parse *data*; return the events it completes. Raises HttpProtocolError, whose
        ``events`` attribute holds the events completed before the bad bytes."""
    def resume(self) -> list[Event]: ...
    def limit_body(self, max_body_size: int | None) -> None: ...
    def take_unparsed(self) -> bytes: ...
