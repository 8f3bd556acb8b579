"""Types and docs for the compiled websocket frame reader; the behaviour is ``fasthttp/_pure/wsframe.py``."""

from typing import TypeAlias, Union

__all__ = (
    "CONTINUATION",
    "TEXT",
    "BINARY",
    "CLOSE",
    "PING",
    "PONG",
    "Control",
    "FrameReader",
    "unmask",
    "valid_close_code",
)

CONTINUATION: int
TEXT: int
BINARY: int
CLOSE: int
PING: int
PONG: int

def valid_close_code(code: int) -> bool: ...
def unmask(data: bytes | bytearray | memoryview, key: bytes) -> bytes: ...

class Control:
    """A control frame (RFC 6455 §5.5): opcode, data; for a close, code and reason."""

    opcode: int
    data: bytes
    code: int
    reason: str
    def __init__(self, opcode: int, data: bytes, code: int = 0, reason: str = "") -> None: ...

Event: TypeAlias = Union[str, bytes, Control]

class FrameReader:
    """Incremental reader of a client's frames on a connection without extensions (RFC 6455 §5)."""

    max_frame_size: int | None
    max_message_size: int | None
    def __init__(self, *, max_frame_size: int | None = None, max_message_size: int | None = None) -> None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def buffered(self) -> int: ...
    def feed(self, data: bytes | bytearray | memoryview) -> list[Event]: ...
