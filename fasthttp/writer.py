"""Response-head serialization (RFC 9112 §4, RFC 9110 §6.6).

Facade: the compiled twin (``fasthttp._speedups.writer``) unless it is missing or
``FASTHTTP_NO_EXTENSIONS`` is set, then the pure twin (``fasthttp._pure.writer``). Type checkers
read the pure twin's names (the executable specification); ``tests/test_typing.py`` checks that
the compiled twin's stub, ``_speedups/writer.pyi``, declares the same API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._compat import load

__all__ = (
    "status_line",
    "http_date",
    "write_fields",
    "write_head",
    "write_response",
    "FieldBlock",
)

if TYPE_CHECKING:
    from ._pure.writer import (
        FieldBlock,
        http_date,
        status_line,
        write_fields,
        write_head,
        write_response,
    )
else:
    _impl = load("writer")

    status_line = _impl.status_line
    http_date = _impl.http_date
    write_fields = _impl.write_fields
    write_head = _impl.write_head
    write_response = _impl.write_response
    FieldBlock = _impl.FieldBlock
