"""Byte ranges (RFC 9110 §14), pure-Python twin: the executable specification.

Strategy: a ``Range`` value is split once on ``=`` (unit / range-set) and then on ``,`` (the
``#rule`` list, RFC 9110 §5.6.1); each element is stripped of OWS and matched against the two
byte-range forms, ``first-[last]`` and ``-suffix``. Any syntax error makes the whole header
ignorable (``None``, RFC 9110 §14.2), which is checked before satisfiability, so an invalid header
is ignored even when it would also have been unsatisfiable. Satisfiable specs are resolved
against the representation length, clamped, sorted and coalesced; if none is satisfiable the
caller must answer 416 (:class:`~fasthttp.errors.RangeNotSatisfiable`).

The compiled twin, ``fasthttp/_speedups/ranges.pyx``, implements the same rules as one C loop over
the bytes; where a rule is enforced in both, the comments carry the same RFC reference. The
multipart framing helpers are written identically in both twins.
"""

from __future__ import annotations

import secrets
from typing import Final

from .._grammar import TCHARS
from ..errors import InvalidResponseHeader, RangeNotSatisfiable

__all__ = (
    "parse_range",
    "content_range",
    "unsatisfied_range",
    "multipart_byteranges",
    "make_boundary",
    "byteranges_content_type",
)

#: Largest representation length accepted: lengths are file offsets (a C ``int64_t``/``off_t``).
MAX_LENGTH: Final[int] = 2**63 - 1
#: APPSEC: first-pos, last-pos and suffix-length longer than this are refused (header ignored),
#: so every number fits an int64 and no header can make us build a huge integer.
MAX_DIGITS: Final[int] = 18

_OWS = b" \t"  # RFC 9110 §5.6.3: OWS = *( SP / HTAB )
_DIGITS = frozenset(b"0123456789")

# RFC 2046 §5.1.1: bcharsnospace := DIGIT / ALPHA / "'" / "(" / ")" / "+" / "_" / "," / "-" /
# "." / "/" / ":" / "=" / "?";  bchars := bcharsnospace / " ".
_BCHARS_NOSPACE = frozenset(
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=?"
)


def _check_length(length: object, name: str = "length") -> None:
    # Shared argument check, mirrored by the compiled twin (same types, same messages).
    if not isinstance(length, int):
        raise TypeError(f"{name} must be an int, not {type(length).__name__}")
    if length < 0 or length > MAX_LENGTH:
        raise ValueError(f"{name} must be between 0 and 2**63-1, got {length}")


def _parse_number(digits: bytes) -> int | None:
    # RFC 9110 §14.1.1: first-pos / last-pos / suffix-length = 1*DIGIT. NOTE: bytes.isdigit() is
    # ASCII-only, and int() alone would also take "+1", " 1" or "1_0".
    if not digits or len(digits) > MAX_DIGITS or not digits.isdigit():
        return None
    return int(digits)


def parse_range(
    value: str | bytes, length: int, *, max_ranges: int = 16
) -> list[tuple[int, int]] | None:
    """Parse a ``Range`` field value for a representation of ``length`` bytes.

    Returns inclusive ``(first, last)`` pairs, clamped to ``length - 1``, sorted, with
    overlapping and adjacent ranges coalesced; ``None`` when the header is to be ignored
    (invalid syntax, a unit other than ``bytes``, ``last < first``, a number of more than 18
    digits, or more than ``max_ranges`` range-specs). Raises
    :class:`~fasthttp.errors.RangeNotSatisfiable` (with ``.length``) when the header is valid but
    no range is satisfiable.
    """
    _check_length(length)
    if not isinstance(max_ranges, int):
        raise TypeError(f"max_ranges must be an int, not {type(max_ranges).__name__}")
    if max_ranges < 1:
        raise ValueError(f"max_ranges must be at least 1, got {max_ranges}")
    if isinstance(value, str):
        try:
            value = value.encode("latin-1")
        except UnicodeEncodeError:
            return None  # a character outside latin-1 is never valid range syntax
    elif not isinstance(value, bytes):
        raise TypeError(f"value must be str or bytes, not {type(value).__name__}")

    # RFC 9110 §5.5: a field value carries no leading or trailing whitespace; tolerate it anyway.
    # RFC 9110 §14.1.1: ranges-specifier = range-unit "=" range-set, no whitespace around "=";
    # range units compare case-insensitively (§14.1). An origin server MUST ignore a Range with a
    # unit it does not understand (§14.2).
    unit, eq, range_set = value.strip(_OWS).partition(b"=")
    if not eq or unit.lower() != b"bytes":
        return None

    # Each spec as (first, last), last None for "first-", first None for "-suffix".
    specs: list[tuple[int | None, int | None]] = []
    # RFC 9110 §5.6.1: range-set = 1#range-spec, elements separated by OWS "," OWS; empty
    # elements are allowed and do not count, at least one range-spec is required.
    for element in range_set.split(b","):
        element = element.strip(_OWS)
        if not element:
            continue
        if len(specs) == max_ranges:
            # APPSEC: many small (or overlapping) ranges amplify a small request into a huge,
            # costly response (CVE-2011-3192); RFC 9110 §14.2 lets us ignore such a header.
            return None
        head, dash, tail = element.partition(b"-")
        if not dash:
            return None
        if not head:
            # suffix-range = "-" suffix-length
            suffix = _parse_number(tail)
            if suffix is None:
                return None
            specs.append((None, suffix))
            continue
        # int-range = first-pos "-" [ last-pos ]
        first = _parse_number(head)
        if first is None:
            return None
        if not tail:
            specs.append((first, None))
            continue
        last = _parse_number(tail)
        if last is None or last < first:
            # RFC 9110 §14.1.1: a range-spec with last-pos < first-pos is invalid.
            return None
        specs.append((first, last))
    if not specs:
        return None

    # RFC 9110 §14.1.1: an int-range is satisfiable if first-pos < length, a suffix-range if
    # suffix-length > 0; a representation of length zero has no satisfiable range. last-pos (and
    # a suffix longer than the representation) is clamped to the representation.
    spans: list[tuple[int, int]] = []
    for first, last in specs:
        if first is None:
            if last == 0 or length == 0:
                continue
            # (None, suffix-length): a suffix-range always carries its length
            spans.append((max(length - last, 0), length - 1))  # type: ignore[operator]
        elif first < length:
            spans.append((first, length - 1 if last is None or last >= length else last))
    if not spans:
        # RFC 9110 §15.5.17: answer 416 with Content-Range: bytes */length (§14.4).
        raise RangeNotSatisfiable(
            f"no satisfiable range in a representation of {length} bytes", length=length
        )

    # RFC 9110 §14.6 lets a server coalesce ranges that overlap or are close; we merge the
    # overlapping and the adjacent ones, so the parts we send are disjoint and in order.
    spans.sort()
    merged = [spans[0]]
    for first, last in spans[1:]:
        prev_first, prev_last = merged[-1]
        if first <= prev_last + 1:
            if last > prev_last:
                merged[-1] = (prev_first, last)
        else:
            merged.append((first, last))
    return merged


def _check_span(first: int, last: int, length: int) -> None:
    # Shared by content_range and multipart_byteranges, mirrored by the compiled twin.
    _check_length(first, "first")
    _check_length(last, "last")
    _check_length(length)
    if not first <= last < length:
        raise ValueError(f"invalid byte range {first}-{last} for length {length}")


def content_range(first: int, last: int, length: int) -> str:
    """``Content-Range`` value for one part of a 206 response (RFC 9110 §14.4): ``bytes a-b/n``."""
    _check_span(first, last, length)
    return f"bytes {first}-{last}/{length}"


def unsatisfied_range(length: int) -> str:
    """``Content-Range`` value for a 416 response (RFC 9110 §14.4, §15.5.17): ``bytes */n``."""
    _check_length(length)
    return f"bytes */{length}"


def _check_boundary(boundary: object) -> None:
    # RFC 2046 §5.1.1: boundary := 0*69<bchars> bcharsnospace, so 1 to 70 characters, the last
    # not a space.
    if not isinstance(boundary, str):
        raise TypeError(f"boundary must be a str, not {type(boundary).__name__}")
    if not 1 <= len(boundary) <= 70:
        raise ValueError(f"boundary must be 1 to 70 characters long, got {len(boundary)}")
    if boundary[-1] == " " or not all(c in _BCHARS_NOSPACE or c == " " for c in boundary):
        raise ValueError(f"invalid multipart boundary {boundary!r} (RFC 2046 §5.1.1)")


def _check_field_value(content_type: object) -> None:
    # APPSEC: the content type is written into each part's head; a CR or LF would let it inject
    # fields or forge a part (RFC 9110 §5.5: field-value = VCHAR / obs-text / SP / HTAB, no
    # leading or trailing whitespace).
    if not isinstance(content_type, str):
        raise TypeError(f"content_type must be a str or None, not {type(content_type).__name__}")
    if (
        not content_type
        or content_type[0] in " \t"
        or content_type[-1] in " \t"
        or not all(c == "\t" or " " <= c <= "~" or "\x80" <= c <= "\xff" for c in content_type)
    ):
        raise InvalidResponseHeader(f"invalid Content-Type value {content_type!r}")


def multipart_byteranges(
    ranges: list[tuple[int, int]], length: int, content_type: str | None, boundary: str
) -> tuple[list[bytes], bytes]:
    """Framing of a ``multipart/byteranges`` body (RFC 9110 §14.6, RFC 2046 §5.1.1).

    Returns ``(heads, closing)``: the body is ``heads[0] + data0 + heads[1] + data1 + ... +
    closing``, where ``data_i`` is bytes ``ranges[i]`` of the representation, so its length is
    known without reading the data. Each head holds the delimiter line, ``Content-Type`` (when
    given), ``Content-Range`` and the blank line; every head after the first starts with the CRLF
    that belongs to the next delimiter and so ends the previous part's data.
    """
    _check_length(length)
    _check_boundary(boundary)
    ctype = b""
    if content_type is not None:
        _check_field_value(content_type)
        ctype = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n"
    delimiter = b"--" + boundary.encode("ascii") + b"\r\n"
    heads: list[bytes] = []
    for first, last in ranges:
        _check_span(first, last, length)
        heads.append(
            (b"\r\n" if heads else b"")
            + delimiter
            + ctype
            + b"Content-Range: bytes %d-%d/%d\r\n\r\n" % (first, last, length)
        )
    if not heads:
        # RFC 2046 §5.1.1: a multipart body has at least one body part.
        raise ValueError("multipart/byteranges needs at least one range")
    # RFC 2046 §5.1.1: close-delimiter = delimiter "--", with delimiter = CRLF dash-boundary.
    return heads, b"\r\n--" + boundary.encode("ascii") + b"--\r\n"


def make_boundary() -> str:
    """A fresh random boundary, valid per RFC 2046 §5.1.1 (32 hex digits from ``secrets``).

    NOTE: RFC 2046 requires that the boundary not occur in the parts; with 128 random bits a
    collision with file data is negligible, so the data is never scanned for it.
    """
    return secrets.token_hex(16)


def byteranges_content_type(boundary: str) -> str:
    """``Content-Type`` of a multipart/byteranges response (RFC 9110 §14.6).

    The boundary is quoted when it holds a character that is not a tchar (RFC 2046 §5.1.1 asks
    for quoting then; bchars contain no ``"`` or ``\\``, so no escaping is needed).
    """
    _check_boundary(boundary)
    # RFC 9110 §5.6.6: the boundary goes unquoted in the Content-Type parameter only if every
    # character is a tchar (§5.6.2); of the bchars, space ( ) , / : = ? are not.
    if all(c in TCHARS for c in boundary):
        return f"multipart/byteranges; boundary={boundary}"
    return f'multipart/byteranges; boundary="{boundary}"'
