"""Types and docs for the compiled chunked codec; the behaviour is ``fasthttp/_pure/chunked.py``."""

from .headers import Headers
from .writer import _Fields

__all__ = ("ChunkedDecoder", "EndOfMessage", "encode_chunk", "encode_last_chunk")

class EndOfMessage:
    """The end of a request's content; ``trailers`` is a Headers or None."""

    trailers: Headers | None
    def __init__(self, trailers: Headers | None = None) -> None: ...

class ChunkedDecoder:
    """Incremental, bounded decoder for one chunked body (RFC 9112 §7.1)."""

    max_chunk_line: int
    max_trailer_size: int
    max_trailer_count: int
    max_body_size: int | None
    unused: bytes
    coalesce: bool
    def __init__(
        self,
        *,
        max_chunk_line: int = 4096,
        max_trailer_size: int = 8192,
        max_trailer_count: int = 32,
        max_body_size: int | None = None,
    ) -> None: ...
    @property
    def done(self) -> bool: ...
    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes | EndOfMessage]: ...
    def limit(self, max_body_size: int | None) -> None: ...

def encode_chunk(data: bytes | bytearray | memoryview) -> bytes: ...
def encode_last_chunk(trailers: _Fields | None = None) -> bytes: ...
