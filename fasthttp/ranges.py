"""Byte ranges (RFC 9110 §14): Range parsing, Content-Range and multipart/byteranges framing.

Facade: the compiled twin (``fasthttp._speedups.ranges``) unless it is missing or
``FASTHTTP_NO_EXTENSIONS`` is set, then the pure twin (``fasthttp._pure.ranges``). Type checkers
read the pure twin's names (the executable specification); ``tests/test_typing.py`` checks that
the compiled twin's stub, ``_speedups/ranges.pyi``, declares the same API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._compat import load

__all__ = (
    "parse_range",
    "content_range",
    "unsatisfied_range",
    "multipart_byteranges",
    "make_boundary",
    "byteranges_content_type",
)

if TYPE_CHECKING:
    from ._pure.ranges import (
        byteranges_content_type,
        content_range,
        make_boundary,
        multipart_byteranges,
        parse_range,
        unsatisfied_range,
    )
else:
    _impl = load("ranges")

    parse_range = _impl.parse_range
    content_range = _impl.content_range
    unsatisfied_range = _impl.unsatisfied_range
    multipart_byteranges = _impl.multipart_byteranges
    make_boundary = _impl.make_boundary
    byteranges_content_type = _impl.byteranges_content_type
