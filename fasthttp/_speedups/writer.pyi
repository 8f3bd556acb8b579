"""Type stubs for the compiled response-head writer (twin of ``fasthttp._pure.writer``)."""

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from typing import TypeAlias

__all__ = ("status_line", "http_date", "write_fields", "write_head", "write_response", "FieldBlock")

_Text: TypeAlias = bytes | str
_Fields: TypeAlias = (
    Iterable[tuple[_Text, _Text | int]] | Mapping[str, _Text | int] | Mapping[bytes, _Text | int]
)

#: The clock behind ``http_date`` (a test seam; ``time.time`` in production).
_clock: Callable[[], float]

def status_line(status: int) -> bytes:
    """``b"HTTP/1.1 200 OK\\r\\n"``: the status line for *status*, cached per code.

    Raises ValueError unless *status* is an int in 100..999.
    """

def http_date() -> bytes:
    """The current time as an IMF-fixdate (RFC 9110 §5.6.7), recomputed at most once a second."""

class FieldBlock:
    """Header fields that do not change from one response to the next, checked and serialized
    once: the writer copies :attr:`encoded` as one block where a response's fields is one.
    Reads as the tuple of its pairs. Raises as :func:`write_head` does for a bad field, and for
    any framing field (there is no Content-Length for it to agree with)."""

    encoded: bytes
    fields: tuple[tuple[Any, Any], ...]
    def __init__(self, fields: _Fields) -> None: ...
    def __iter__(self) -> Iterator[tuple[Any, Any]]: ...
    def __len__(self) -> int: ...
    def __getitem__(self, index: int) -> tuple[Any, Any]: ...

def write_fields(fields: _Fields) -> bytes:
    """``name: value\\r\\n`` for each ``(name, value)`` pair, in order, validated.

    Raises ``InvalidResponseHeader`` for a name that is not a token or a value with CR, LF, NUL
    or another control character, or a str that is not latin-1; TypeError for other types.
    """

def write_head(
    status: int,
    fields: _Fields = (),
    *,
    content_length: int | None = None,
    chunked: bool = False,
    keep_alive: bool = True,
    http_1_0: bool = False,
    date: bool = True,
    server: bytes | str | None = None,
) -> bytes:
    """The response head: status line, ``Date``, ``Server``, *fields*, framing, ``Connection``."""

def write_response(
    status: int,
    fields: _Fields,
    body: bytes | bytearray | memoryview | str,
    keep_alive: bool = True,
    http_1_0: bool = False,
    head: bool = False,
    date: bool = True,
    server: bytes | str | None = None,
) -> bytes:
    """A whole response in one bytes object: the head with ``Content-Length`` and *body*."""
