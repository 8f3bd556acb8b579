"""The incremental, strict HTTP/1.1 request parser (RFC 9112).

Facade: the compiled twin (``fasthttp._speedups.parser``) unless it is missing or
``FASTHTTP_NO_EXTENSIONS`` is set, then the pure twin (``fasthttp._pure.parser``). Type checkers
read the pure twin's names (the executable specification); ``tests/test_typing.py`` checks that
the compiled twin's stub, ``_speedups/parser.pyi``, declares the same API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._compat import load

__all__ = (
    "RequestParser",
    "RequestHead",
    "EndOfMessage",
)

if TYPE_CHECKING:
    from ._pure.parser import EndOfMessage, RequestHead, RequestParser
else:
    _impl = load("parser")

    RequestParser = _impl.RequestParser
    RequestHead = _impl.RequestHead
    EndOfMessage = _impl.EndOfMessage
