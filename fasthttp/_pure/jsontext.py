"""Compact JSON for small simple values: the pure-Python twin, and the executable specification.

Strategy: the most common API answer is a small flat object of strings, integers, booleans and
nulls (``{"message": "Hello, World!"}``). orjson encodes it in a few dozen instructions but costs
~900 per call around them (its buffer, its options, the copy into ``bytes``: whole-process
callgrind of ``GET /json``, issue 17). :func:`encode_simple` encodes only what needs no decision
at all, and answers ``None`` for everything else, which the caller then gives to
``fasthttp.responses.json_dumps`` (orjson, or the standard library) as before:

* an exact ``dict`` with exact-``str`` keys, or an exact ``list``, at most :data:`MAX_ITEMS`
  items each, nested at most :data:`MAX_DEPTH` containers deep;
* leaves: exact ``str`` that is ASCII and needs no escape (no ``"``, ``\\``, nor control
  character U+0000..U+001F, RFC 8259 §7; U+007F needs none and both encoders write it as is),
  exact ``int`` in the signed 64-bit range, ``True``, ``False``, ``None``;
* the whole output at most :data:`MAX_BYTES` bytes (beyond that orjson's fixed cost is paid back
  by its speed).

Subclasses (``bool``-valued enums, ``OrderedDict``, ``str`` enums), floats, non-ASCII text, big
integers and every other type are refused, as is any tuple or other container: the output
would need a decision (a float's repr, an escape, a default) that orjson and the standard
library make, and where they make it the same way is theirs to say.

The output is byte-identical to ``json_dumps`` (orjson) and to ``stdlib_json_dumps`` (compact
separators, RFC 8259 §8.1 UTF-8, here plain ASCII) for every value accepted; dictionary order is
insertion order, as in both. ``tests/test_jsontext.py`` checks that with hypothesis on both twins.

This twin is the specification, not a speed-up: in Python it is ~11 times slower than orjson
(benchmarks/bench_jsontext.py, the benchmark's answer: ~980 ns against ~85 ns), so
:data:`FASTER_THAN_ORJSON` is False here and a hot path (the connection core) skips it; the
compiled twin, ``fasthttp/_speedups/jsontext.pyx``, says True.

A top-level ``str``, ``int``, boolean or ``None`` is encoded too (the same rules as a leaf); the
core only asks for a ``dict`` or a ``list``.
"""

from __future__ import annotations

import re

__all__ = ("MAX_ITEMS", "MAX_DEPTH", "MAX_BYTES", "FASTER_THAN_ORJSON", "encode_simple")

#: The most items of one dict or list accepted.
MAX_ITEMS: int = 16
#: The deepest nesting of containers accepted (the outermost one is depth 1).
MAX_DEPTH: int = 4
#: The longest output accepted, in bytes.
MAX_BYTES: int = 512
#: Whether this twin's :func:`encode_simple` is cheaper than orjson for what it accepts, so a hot
#: path calls it first (False for this twin, True for the compiled one).
FASTER_THAN_ORJSON: bool = False

_INT_MIN = -(1 << 63)
_INT_MAX = (1 << 63) - 1
# What a JSON string must escape (RFC 8259 §7): the quote, the backslash, U+0000..U+001F.
_NEEDS_ESCAPE = re.compile('["\\\\\x00-\x1f]')


def encode_simple(value: object) -> bytes | None:
    """*value* as compact JSON bytes if it is simple (see the module docstring), else None."""
    parts: list[str] = []
    if not _put(value, parts, 0):
        return None
    text = "".join(parts)
    if len(text) > MAX_BYTES:
        return None
    return text.encode("ascii")


def _put_str(s: str, parts: list[str]) -> bool:
    if not s.isascii() or _NEEDS_ESCAPE.search(s) is not None:
        return False
    parts.append(f'"{s}"')
    return True


def _put(value: object, parts: list[str], depth: int) -> bool:
    t = type(value)
    if t is str:
        return _put_str(value, parts)  # type: ignore[arg-type]
    if t is int:
        if not _INT_MIN <= value <= _INT_MAX:  # type: ignore[operator]
            return False
        parts.append(str(value))
        return True
    if value is True:
        parts.append("true")
        return True
    if value is False:
        parts.append("false")
        return True
    if value is None:
        parts.append("null")
        return True
    if depth == MAX_DEPTH:
        return False
    if t is dict:
        items = value.items()  # type: ignore[attr-defined]
        if len(items) > MAX_ITEMS:
            return False
        parts.append("{")
        first = True
        for key, item in items:
            if not first:
                parts.append(",")
            first = False
            if type(key) is not str or not _put_str(key, parts):
                return False
            parts.append(":")
            if not _put(item, parts, depth + 1):
                return False
        parts.append("}")
        return True
    if t is list:
        if len(value) > MAX_ITEMS:  # type: ignore[arg-type]
            return False
        parts.append("[")
        first = True
        for item in value:  # type: ignore[attr-defined]
            if not first:
                parts.append(",")
            first = False
            if not _put(item, parts, depth + 1):
                return False
        parts.append("]")
        return True
    return False
