"""Types and docs for the compiled response parser; the behaviour is ``fasthttp/_pure/responseparser.py``."""

from typing import TypeAlias

from .chunked import EndOfMessage
from .headers import Headers

__all__ = ("ResponseParser", "ResponseHead", "EndOfMessage")

class ResponseHead:
    """A response's status line and header section, with the framing the parser derived."""

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
    body: bytes | None
    def __init__(self) -> None: ...
    @property
    def informational(self) -> bool: ...
    @property
    def has_body(self) -> bool: ...

#: What :meth:`ResponseParser.feed` returns, in order, for each response.
Event: TypeAlias = ResponseHead | bytes | EndOfMessage

class ResponseParser:
    """Incremental, strict HTTP/1.1 response parser (RFC 9112)."""

    max_status_line: int
    max_header_size: int
    max_header_count: int
    max_body_size: int | None
    max_chunk_line: int
    max_trailer_size: int
    pause_after_head: bool
    wait_for_request: bool
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
    ) -> None: ...
    def request(self, method: str) -> None:
        """Record that a request with *method* was sent; its response is parsed in turn."""
    @property
    def pending(self) -> int: ...
    @property
    def paused(self) -> bool: ...
    @property
    def closed(self) -> bool: ...
    @property
    def idle(self) -> bool: ...
    @property
    def buffered(self) -> int: ...
    def feed(self, data: bytes | bytearray | memoryview, /) -> list[Event]:
        """Parse *data*; return the events it completes. Raises ResponseProtocolError, whose
        ``events`` attribute holds the events completed before the bad bytes."""
    def feed_eof(self) -> list[Event]: ...
    def resume(self) -> bytes: ...
    def take_unparsed(self) -> bytes: ...
