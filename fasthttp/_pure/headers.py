"""The header index, pure-Python twin of ``fasthttp/_speedups/headers.pyx``.

Strategy ("header indexing"): the parser validates each field line once, in
:func:`parse_field_line`, and keeps the name and value as raw bytes. :class:`Headers` answers
case-insensitive, multi-valued look-ups over those bytes and decodes (ISO-8859-1, RFC 9110 §5.5)
only the values a caller asks for. Well-known names get a small integer id from the fixed table
:data:`WELL_KNOWN`; the compiled twin compares ids instead of bytes for them. The pure twin keeps
a section its parser took whole (the common case) as one bytes object and builds the per-field
index only when a caller needs more than ``get``, ``get_bytes`` or ``in``, which search the
lower-cased section (PERF, issue 17: the pure path).

The twins share this module's public names, signatures and errors; a parity test feeds both the
same bytes (tests/test_parity.py).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from .._grammar import TCHAR, TCHARS  # RFC 9110 §5.6.2
from ..errors import BadRequest

if TYPE_CHECKING:
    from typing import TypeAlias

    # What Headers() takes: (name, value) pairs or a mapping; names and values str or bytes.
    # (A Mapping's key type is invariant: a dict[str, str] is a Mapping[str, ...] only.)
    _Fields: TypeAlias = (
        "Iterable[tuple[str | bytes, str | bytes]] | Mapping[str, str | bytes] | Mapping[bytes, str | bytes]"
    )

__all__ = ("Headers", "WELL_KNOWN", "parse_field_line")

# Field names the server and common handlers look up; their position + 1 is their id. The compiled
# twin imports this table; the parser's ids for the first seven are fixed in headers.pxd (H_*).
WELL_KNOWN: tuple[str, ...] = (
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "content-type",
    "expect",
    "upgrade",
    "user-agent",
    "accept",
    "accept-encoding",
    "accept-language",
    "cookie",
    "authorization",
    "cache-control",
    "origin",
    "referer",
    "if-none-match",
    "if-modified-since",
    "range",
    "if-range",
    "te",
    "trailer",
    "x-forwarded-for",
    "forwarded",
    "sec-websocket-key",
    "sec-websocket-version",
    "keep-alive",
    "pragma",
)

# RFC 9110 §5.5: field-value characters are VCHAR, obs-text, SP and HTAB.
_VALUE_BAD = frozenset(set(range(0x00, 0x20)) - {0x09} | {0x7F})
_LOWER = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")


def parse_field_line(line: bytes) -> tuple[bytes, bytes]:
    """Validate one field line (without its CRLF); return ``(name, value)`` as bytes.

    RFC 9112 §5: ``field-name ":" OWS field-value OWS``. No whitespace is allowed between the
    name and the colon (§5.1, a smuggling vector), a line starting with whitespace is obs-fold
    (§5.2, rejected), and the value may hold only VCHAR, obs-text, SP and HTAB (RFC 9110 §5.5).
    The compiled twin (headers.pyx ``_parse_field``) enforces the same rules.
    """
    colon = line.find(b":")
    if colon < 0:
        raise BadRequest("field line without a colon")
    name = line[:colon]
    value = line[colon + 1 :].strip(b" \t")
    _check_name(name)
    _check_value(value)
    return name, value


def _check_name(name: bytes) -> None:
    if not name:
        raise BadRequest("empty field name")
    for c in name:
        if c not in TCHAR:
            if c == 0x20 or c == 0x09:
                raise BadRequest("whitespace in or after a field name")
            raise BadRequest("invalid character in field name")


def _check_value(value: bytes) -> None:
    for c in value:
        if c in _VALUE_BAD:
            raise BadRequest("invalid character in field value")


# PERF (issue 17, the pure path): the look-up keys of the well-known names, as str and as bytes
# in their usual spellings, so a look-up by such a name is one dict hit.
_KNOWN_KEYS: dict[str | bytes, bytes] = {}
for _name in WELL_KNOWN:
    for _spelling in (_name, "-".join(part.capitalize() for part in _name.split("-"))):
        _KNOWN_KEYS[_spelling] = _KNOWN_KEYS[_spelling.encode("ascii")] = _name.encode("ascii")
del _name, _spelling
_first = operator.itemgetter(0)
_lower = bytes.lower
# PERF (issue 17, the pure path): what a look-up searches for in a header section the parser
# validated and kept whole (Headers._from_section): CRLF, the lower-cased name and the colon. A
# field line never starts elsewhere than after a CRLF (a value holds no CR or LF, RFC 9110 §5.5).
_NEEDLES: dict[str | bytes, bytes] = {spelling: b"\r\n" + key + b":" for spelling, key in _KNOWN_KEYS.items()}
_TCHAR_BYTES = TCHARS.encode("ascii")
# A field line of such a section: name, colon, the value without its leading OWS (RFC 9112 §5).
_SECTION_FIELD = re.compile(rb"\r\n([^:]+):[ \t]*([^\r]*)")


def _needle(name: str | bytes) -> bytes:
    """What :meth:`Headers._find` searches for *name*; b"" for a name no field can have."""
    if type(name) is str or type(name) is bytes:
        needle = _NEEDLES.get(name)
        if needle is not None:
            return needle
    key = _key(name)
    if not key or key.translate(None, _TCHAR_BYTES):
        return b""  # not a token (RFC 9110 §5.1): no field has that name
    return b"\r\n" + key + b":"


def _key(name: str | bytes) -> bytes:
    if type(name) is str or type(name) is bytes:
        known = _KNOWN_KEYS.get(name)
        if known is not None:
            return known
    if isinstance(name, str):
        try:
            return name.encode("latin-1").translate(_LOWER)
        except UnicodeEncodeError:
            return b"\xff\xff"  # matches no valid field name (tchar is ASCII)
    if isinstance(name, (bytes, bytearray, memoryview)):
        return bytes(name).translate(_LOWER)
    raise TypeError(f"header names are str or bytes, not {type(name).__name__}")


class Headers:
    """A read-only, case-insensitive, multi-valued view of a header (or trailer) section.

    ``get``/``[]`` return the first value, ``getall`` every value in received order; values are
    ``str`` decoded as ISO-8859-1. Iteration yields lower-cased names in received order, one per
    field line; ``raw()`` gives the ``(name, value)`` bytes exactly as received.
    """

    # A section from the parser's fast path (_from_section) stays whole until a caller needs the
    # index: ``_low`` is then its lower-cased bytes (else None), ``_raw`` the bytes as received.
    __slots__ = ("_keys", "_fields", "_raw", "_low")

    _keys: list[bytes]
    _fields: list[tuple[bytes, bytes]]
    _raw: bytes
    _low: bytes | None

    def __init__(self, fields: _Fields = ()) -> None:
        if isinstance(fields, Mapping):
            fields = fields.items()
        raw = []
        for name, value in fields:
            if isinstance(name, str):
                name = name.encode("latin-1")
            if isinstance(value, str):
                value = value.encode("latin-1")
            name, value = bytes(name), bytes(value).strip(b" \t")
            _check_name(name)
            _check_value(value)
            raw.append((name, value))
        self._set(raw)

    def _set(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._fields = raw
        # PERF: bytes.lower is translate(_LOWER) for a token (ASCII), and map runs at C speed.
        self._keys = list(map(_lower, map(_first, raw)))
        self._low = None

    @classmethod
    def _from_raw(cls, raw: list[tuple[bytes, bytes]]) -> Headers:
        """Wrap field lines already validated by :func:`parse_field_line` (parser use)."""
        self = cls.__new__(cls)
        self._set(raw)
        return self

    @classmethod
    def _from_section(cls, section: bytes, low: bytes) -> Headers:
        """Wrap a header section the parser validated whole (parser use): *section* is
        ``*( CRLF field-line )`` followed by CRLF, *low* the same bytes lower-cased.

        PERF (issue 17, the pure path): no index is built here. ``get``, ``get_bytes`` and
        ``in`` search *low* for the name's line (``_find``); anything else builds the index once
        (``_index``), the same (name, value) pairs :func:`parse_field_line` would have given."""
        self = cls.__new__(cls)
        self._raw = section
        self._low = low  # _fields and _keys are unset until _index: each reader checks _low first
        return self

    def _index(self) -> None:
        """Build the index of a section kept whole (``_from_section``)."""
        section = self._raw
        fields = _SECTION_FIELD.findall(section)
        if section.find(b" \r") >= 0 or section.find(b"\t\r") >= 0:  # trailing OWS (RFC 9112 §5)
            fields = [(name, value.rstrip(b" \t")) for name, value in fields]
        self._set(fields)

    def _find(self, name: str | bytes) -> bytes | None:
        """The first value of *name* in a section kept whole (``_low`` is set), or None."""
        needle = _needle(name)
        i = self._low.find(needle) if needle else -1  # type: ignore[union-attr]  # set: the caller's check
        if i < 0:
            return None
        i += len(needle)
        raw = self._raw
        return raw[i : raw.find(b"\r", i)].strip(b" \t")

    def get(self, name: str | bytes, default: str | None = None) -> str | None:
        if self._low is not None:
            value = self._find(name)
            return default if value is None else value.decode("latin-1")
        key = _key(name)
        keys = self._keys
        if key in keys:
            return self._fields[keys.index(key)][1].decode("latin-1")
        return default

    def get_bytes(self, name: str | bytes, default: bytes | None = None) -> bytes | None:
        """The first value as the bytes received, or *default*."""
        if self._low is not None:
            value = self._find(name)
            return default if value is None else value
        key = _key(name)
        keys = self._keys
        if key in keys:
            return self._fields[keys.index(key)][1]
        return default

    def getall(self, name: str | bytes) -> list[str]:
        if self._low is not None:
            self._index()
        key = _key(name)
        return [self._fields[i][1].decode("latin-1") for i, k in enumerate(self._keys) if k == key]

    def __getitem__(self, name: str | bytes) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, (str, bytes)):
            return False
        if self._low is not None:
            needle = _needle(name)
            return bool(needle) and self._low.find(needle) >= 0
        return _key(name) in self._keys

    def __len__(self) -> int:
        if self._low is not None:
            self._index()
        return len(self._fields)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def keys(self) -> list[str]:
        if self._low is not None:
            self._index()
        return [k.decode("latin-1") for k in self._keys]

    def values(self) -> list[str]:
        if self._low is not None:
            self._index()
        return [v.decode("latin-1") for _, v in self._fields]

    def items(self) -> list[tuple[str, str]]:
        if self._low is not None:
            self._index()
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, (_, v) in zip(self._keys, self._fields)]

    def raw(self) -> list[tuple[bytes, bytes]]:
        """``(name, value)`` byte pairs in received order, names in their received case."""
        if self._low is not None:
            self._index()
        return list(self._fields)

    def raw_lower(self) -> list[tuple[bytes, bytes]]:
        """``(name, value)`` byte pairs in received order, names lower-cased (ASGI's
        ``headers``: one list built by the index, no per-field work in the caller)."""
        if self._low is not None:
            self._index()
        return [(key, value) for key, (_, value) in zip(self._keys, self._fields)]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers) or type(other).__name__ == "Headers":
            return self.items() == other.items()  # type: ignore[attr-defined, no-any-return]
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Headers({self.items()!r})"
