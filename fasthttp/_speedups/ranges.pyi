"""Type stub of the compiled twin; ``fasthttp/_pure/ranges.py`` is the specification."""

from typing import Final

__all__ = (
    "parse_range",
    "content_range",
    "unsatisfied_range",
    "multipart_byteranges",
    "make_boundary",
    "byteranges_content_type",
)

MAX_LENGTH: Final[int]
MAX_DIGITS: Final[int]

def parse_range(
    value: str | bytes, length: int, *, max_ranges: int = 16
) -> list[tuple[int, int]] | None:
    """Parse a ``Range`` field value for a representation of ``length`` bytes (RFC 9110 §14.2).

    Returns inclusive ``(first, last)`` pairs, clamped to ``length - 1``, sorted, with
    overlapping and adjacent ranges coalesced; ``None`` when the header is to be ignored
    (invalid syntax, a unit other than ``bytes``, ``last < first``, a number of more than 18
    digits, or more than ``max_ranges`` range-specs). Raises ``RangeNotSatisfiable`` (with
    ``.length``) when the header is valid but no range is satisfiable.
    """

def content_range(first: int, last: int, length: int) -> str:
    """``Content-Range`` value for one part of a 206 response (RFC 9110 §14.4): ``bytes a-b/n``."""

def unsatisfied_range(length: int) -> str:
    """``Content-Range`` value for a 416 response (RFC 9110 §14.4, §15.5.17): ``bytes */n``."""

def multipart_byteranges(
    ranges: list[tuple[int, int]], length: int, content_type: str | None, boundary: str
) -> tuple[list[bytes], bytes]:
    """Framing of a ``multipart/byteranges`` body (RFC 9110 §14.6, RFC 2046 §5.1.1).

    Returns ``(heads, closing)``; the body is ``heads[0] + data0 + heads[1] + data1 + ... +
    closing``.
    """

def make_boundary() -> str:
    """A fresh random boundary, valid per RFC 2046 §5.1.1."""

def byteranges_content_type(boundary: str) -> str:
    """``multipart/byteranges; boundary=...`` (quoted when the boundary holds a non-tchar)."""
