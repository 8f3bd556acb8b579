"""The incremental, strict HTTP/1.1 response parser (RFC 9112), the client's kernel.

Facade: the compiled twin (``fasthttp._speedups.responseparser``) unless it is missing or
``FASTHTTP_NO_EXTENSIONS`` is set, then the pure twin (``fasthttp._pure.responseparser``). Type
checkers read the pure twin's names (the executable specification); ``tests/test_typing.py``
checks that the compiled twin's stub, ``_speedups/responseparser.pyi``, declares the same API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._compat import load

__all__ = (
    "ResponseParser",
    "ResponseHead",
    "EndOfMessage",
)

if TYPE_CHECKING:
    from ._pure.responseparser import EndOfMessage, ResponseHead, ResponseParser
else:
    _impl = load("responseparser")

    ResponseParser = _impl.ResponseParser
    ResponseHead = _impl.ResponseHead
    EndOfMessage = _impl.EndOfMessage
