"""Chunked transfer coding (RFC 9112 §7.1): a bounded decoder and an encoder with trailers.

Facade: the compiled twin (``fasthttp._speedups.chunked``) unless it is missing or
``FASTHTTP_NO_EXTENSIONS`` is set, then the pure twin (``fasthttp._pure.chunked``). Type checkers
read the pure twin's names (the executable specification); ``tests/test_typing.py`` checks that
the compiled twin's stub, ``_speedups/chunked.pyi``, declares the same API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._compat import load

__all__ = (
    "ChunkedDecoder",
    "EndOfMessage",
    "encode_chunk",
    "encode_last_chunk",
)

if TYPE_CHECKING:
    from ._pure.chunked import (
        ChunkedDecoder,
        EndOfMessage,
        encode_chunk,
        encode_last_chunk,
    )
else:
    _impl = load("chunked")

    ChunkedDecoder = _impl.ChunkedDecoder
    EndOfMessage = _impl.EndOfMessage
    encode_chunk = _impl.encode_chunk
    encode_last_chunk = _impl.encode_last_chunk
