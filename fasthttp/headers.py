"""The header index: case-insensitive, multi-valued look-ups over the received bytes.

Facade: the compiled twin (``fasthttp._speedups.headers``) unless it is missing or
``FASTHTTP_NO_EXTENSIONS`` is set, then the pure twin (``fasthttp._pure.headers``). Type checkers
read the pure twin's names (the executable specification); ``tests/test_typing.py`` checks that
the compiled twin's stub, ``_speedups/headers.pyi``, declares the same API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._compat import load

__all__ = (
    "Headers",
    "WELL_KNOWN",
    "parse_field_line",
)

if TYPE_CHECKING:
    from ._pure.headers import WELL_KNOWN, Headers, parse_field_line
else:
    _impl = load("headers")

    Headers = _impl.Headers
    WELL_KNOWN = _impl.WELL_KNOWN
    parse_field_line = _impl.parse_field_line
