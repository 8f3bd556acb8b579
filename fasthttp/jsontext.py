"""Compact JSON for small simple values (flat objects of ASCII strings, integers, booleans and
nulls), without orjson's per-call cost; ``None`` for anything else, which the caller gives to
``fasthttp.responses.json_dumps``.

Facade: the compiled twin (``fasthttp._speedups.jsontext``) unless it is missing or
``FASTHTTP_NO_EXTENSIONS`` is set, then the pure twin (``fasthttp._pure.jsontext``). Type checkers
read the pure twin's names (the executable specification); ``tests/test_typing.py`` checks that
the compiled twin's stub, ``_speedups/jsontext.pyi``, declares the same API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._compat import load

__all__ = ("MAX_ITEMS", "MAX_DEPTH", "MAX_BYTES", "FASTER_THAN_ORJSON", "encode_simple")

if TYPE_CHECKING:
    from ._pure.jsontext import FASTER_THAN_ORJSON, MAX_BYTES, MAX_DEPTH, MAX_ITEMS, encode_simple
else:
    _impl = load("jsontext")

    MAX_ITEMS = _impl.MAX_ITEMS
    MAX_DEPTH = _impl.MAX_DEPTH
    MAX_BYTES = _impl.MAX_BYTES
    FASTER_THAN_ORJSON = _impl.FASTER_THAN_ORJSON
    encode_simple = _impl.encode_simple
