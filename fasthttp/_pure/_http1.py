"""The header-section grammar shared by the HTTP/1.1 request and response parsers (pure twin).

Strategy: one home for the rules both directions of HTTP/1.1 apply to a message head, as plain
functions over the parser's buffer and counters (``parser.py`` and ``responseparser.py`` call
them; the compiled twins share ``fasthttp/_speedups/_http1.pxd`` the same way). A function here
decides *which* rule a line breaks and returns a ``LINE_*`` code; each parser turns that code
into its own error (a request gets a 4xx, a response a ResponseProtocolError), so the grammar
lives once and the error policy stays with the parser that owns it.
"""

from __future__ import annotations

from .headers import parse_field_line

__all__ = (
    "LINE_END",
    "LINE_TOO_LARGE",
    "LINE_BARE_LF",
    "LINE_TOO_MANY",
    "LINE_OBS_FOLD",
    "field_line",
    "partial_length",
    "section_overflows",
    "tokens",
)

# What field_line found, when not a field line (negative, so a size is never mistaken for one).
LINE_END = -1  # the empty line that ends the section (RFC 9112 §2.1)
LINE_TOO_LARGE = -2  # the section passes max_header_size
LINE_BARE_LF = -3  # a line ended by LF alone (RFC 9112 §2.2)
LINE_TOO_MANY = -4  # more than max_header_count fields
LINE_OBS_FOLD = -5  # a line starting with whitespace: obs-fold (RFC 9112 §5.2)

_WS = (0x20, 0x09)


def section_overflows(size: int, length: int, max_size: int) -> bool:
    """Would a field line of *length* bytes (without CRLF) take a section of *size* bytes past
    *max_size*? (An empty line ends the section and never counts.)"""
    return length > 0 and size + length + 2 > max_size


def partial_length(buf: bytearray, start: int, end: int) -> int:
    """The length of the incomplete line ``buf[start:end]`` without a trailing CR, so that an
    over-long line is refused before it completes, as its complete form would be."""
    return end - start - (end > start and buf[end - 1] == 0x0D)


def field_line(
    buf: bytearray,
    start: int,
    lf: int,
    fields: list[tuple[bytes, bytes]],
    size: int,
    max_size: int,
    max_count: int,
) -> int:
    """Take the header-section line ``buf[start:lf+1]`` (ending in the LF at *lf*).

    A field line (RFC 9112 §5: no obs-fold, no whitespace before the colon, field-value bytes
    only) is appended to *fields* as ``(name, value)`` and the section's new size returned;
    otherwise a ``LINE_*`` code: the end of the section, or the rule the line breaks, checked in
    this order (the twins and every split of the input agree on the first error).
    """
    # The line's length without its line end, CRLF or a bare LF (refused below, but only after
    # the size check, as an incomplete line is measured: the same error at every split).
    length = lf - start - (lf > start and buf[lf - 1] == 0x0D)
    if length > 0 and size + length + 2 > max_size:
        return LINE_TOO_LARGE
    if lf == start or buf[lf - 1] != 0x0D:
        return LINE_BARE_LF
    if length == 0:
        return LINE_END
    if len(fields) >= max_count:
        return LINE_TOO_MANY
    line = bytes(buf[start : lf - 1])
    if line[0] in _WS:
        return LINE_OBS_FOLD
    fields.append(parse_field_line(line))
    return size + length + 2


def tokens(values: list[bytes]) -> list[bytes]:
    """Split comma-separated list fields (RFC 9110 §5.6.1) into lower-cased, trimmed elements."""
    out = []
    for v in values:
        for item in v.split(b","):
            item = item.strip(b" \t")
            if item:
                out.append(item.lower())
    return out
