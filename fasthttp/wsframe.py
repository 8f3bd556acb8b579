"""WebSocket frame reading (RFC 6455 §5): a strict, incremental reader of a client's frames.

Facade: the compiled twin (``fasthttp._speedups.wsframe``) unless it is missing or
``FASTHTTP_NO_EXTENSIONS`` is set, then the pure twin (``fasthttp._pure.wsframe``). Type checkers
read the pure twin's names (the executable specification); ``tests/test_typing.py`` checks that
the compiled twin's stub, ``_speedups/wsframe.pyi``, declares the same API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._compat import load

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

if TYPE_CHECKING:
    from ._pure.wsframe import (
        BINARY,
        CLOSE,
        CONTINUATION,
        PING,
        PONG,
        TEXT,
        Control,
        FrameReader,
        unmask,
        valid_close_code,
    )
else:
    _impl = load("wsframe")

    CONTINUATION = _impl.CONTINUATION
    TEXT = _impl.TEXT
    BINARY = _impl.BINARY
    CLOSE = _impl.CLOSE
    PING = _impl.PING
    PONG = _impl.PONG
    Control = _impl.Control
    FrameReader = _impl.FrameReader
    unmask = _impl.unmask
    valid_close_code = _impl.valid_close_code
