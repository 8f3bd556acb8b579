# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, embedsignature=True
"""Byte ranges (RFC 9110 §14), compiled twin of ``fasthttp/_pure/ranges.py``.

Strategy: the ``Range`` value is read as bytes (a ``str`` is converted once, latin-1) and parsed
by one C loop that checks the unit, walks the ``#rule`` list (RFC 9110 §5.6.1) and resolves each
range-spec against the representation length straight into a C array of spans, so no Python
object is built until the answer: a syntax error returns ``None`` at once (RFC 9110 §14.2), and
only a fully valid header can raise :class:`~fasthttp.errors.RangeNotSatisfiable`. The spans are
then sorted (insertion sort for the usual handful, ``qsort`` past that) and coalesced in place.

The pure twin is the specification: same names, signatures, results and error types (the parity
test in tests/test_ranges.py feeds both). The argument checks and the multipart framing helpers
are written here as in the pure twin, with the same messages.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc, qsort

cdef extern from "Python.h":
    const Py_ssize_t PY_SSIZE_T_MAX

import secrets

from fasthttp.errors import InvalidResponseHeader, RangeNotSatisfiable

__all__ = (
    "parse_range",
    "content_range",
    "unsatisfied_range",
    "multipart_byteranges",
    "make_boundary",
    "byteranges_content_type",
)

#: Largest representation length accepted: lengths are file offsets (a C ``int64_t``/``off_t``).
MAX_LENGTH = 2**63 - 1
#: APPSEC: longer numbers are refused (header ignored), so every number fits an int64.
MAX_DIGITS = 18

cdef struct Span:
    int64_t first
    int64_t last

cdef enum:
    C_MAX_DIGITS = 18
    STACK_SPANS = 16      # PERF: the default max_ranges needs no malloc (bench_ranges.py)
    INSERTION_SORT_MAX = 32

# RFC 2046 §5.1.1 bcharsnospace, and RFC 9110 §5.6.2 tchar (see the pure twin).
cdef str _BCHARS_NOSPACE = (
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=?"
)
from fasthttp._grammar import TCHARS

cdef str _TCHARS = TCHARS


cdef int64_t _as_length(object length, str name) except -1:
    # Mirrors the pure twin's _check_length: TypeError for a non-int, ValueError outside
    # [0, 2**63-1]; returns the value as a C integer.
    cdef int64_t n
    if not isinstance(length, int):
        raise TypeError(f"{name} must be an int, not {type(length).__name__}")
    try:
        n = length
    except OverflowError:
        n = -1
    if n < 0:
        raise ValueError(f"{name} must be between 0 and 2**63-1, got {length}")
    return n


cdef inline bint _is_ows(unsigned char c) noexcept nogil:
    # RFC 9110 §5.6.3: OWS = *( SP / HTAB )
    return c == c' ' or c == c'\t'


cdef inline bint _is_digit(unsigned char c) noexcept nogil:
    return c'0' <= c <= c'9'


cdef Py_ssize_t _parse(const unsigned char* p, Py_ssize_t n, int64_t length, Py_ssize_t limit,
                       Span* spans, Py_ssize_t* nspans) noexcept nogil:
    """Parse a Range value; return -1 to ignore it, else the number of range-specs seen.

    The satisfiable specs, resolved against ``length``, are stored in ``spans`` (room for
    min(limit, n // 2 + 1) entries: every spec takes at least two bytes) and counted in
    ``nspans``.
    """
    cdef Py_ssize_t i = 0
    cdef Py_ssize_t end = n
    cdef Py_ssize_t start
    cdef Py_ssize_t count = 0
    cdef Py_ssize_t ns = 0
    cdef int64_t first, last
    cdef bint has_last
    cdef unsigned char c

    # RFC 9110 §5.5: no leading or trailing whitespace in a field value; tolerated, as in the
    # pure twin.
    while i < end and _is_ows(p[i]):
        i += 1
    while end > i and _is_ows(p[end - 1]):
        end -= 1
    # RFC 9110 §14.1.1: range-unit "=" range-set; units compare case-insensitively (§14.1) and
    # an origin server MUST ignore a unit it does not understand (§14.2). NOTE: c | 0x20 folds
    # exactly the upper-case letter onto the lower-case one and nothing else onto it.
    if (end - i < 6
            or p[i] | 0x20 != c'b' or p[i + 1] | 0x20 != c'y' or p[i + 2] | 0x20 != c't'
            or p[i + 3] | 0x20 != c'e' or p[i + 4] | 0x20 != c's' or p[i + 5] != c'='):
        return -1
    i += 6

    # RFC 9110 §5.6.1: range-set = 1#range-spec; OWS around commas, empty elements allowed.
    while True:
        while i < end and _is_ows(p[i]):
            i += 1
        if i == end:
            break
        c = p[i]
        if c == c',':
            i += 1
            continue
        if count == limit:
            # APPSEC: too many range-specs (CVE-2011-3192 amplification); RFC 9110 §14.2
            # lets us ignore the header.
            return -1
        count += 1
        if c == c'-':
            # suffix-range = "-" suffix-length
            i += 1
            start = i
            last = 0
            while i < end and _is_digit(p[i]):
                if i - start == C_MAX_DIGITS:
                    return -1
                last = last * 10 + (p[i] - c'0')
                i += 1
            if i == start:
                return -1
            first = -1
            has_last = True
        elif _is_digit(c):
            # int-range = first-pos "-" [ last-pos ]
            start = i
            first = 0
            while i < end and _is_digit(p[i]):
                if i - start == C_MAX_DIGITS:
                    return -1
                first = first * 10 + (p[i] - c'0')
                i += 1
            if i == end or p[i] != c'-':
                return -1
            i += 1
            has_last = i < end and _is_digit(p[i])
            last = 0
            if has_last:
                start = i
                while i < end and _is_digit(p[i]):
                    if i - start == C_MAX_DIGITS:
                        return -1
                    last = last * 10 + (p[i] - c'0')
                    i += 1
                if last < first:
                    # RFC 9110 §14.1.1: last-pos < first-pos makes the range-spec invalid.
                    return -1
        else:
            return -1
        # The element must end here: OWS, then "," or the end of the value.
        while i < end and _is_ows(p[i]):
            i += 1
        if i < end:
            if p[i] != c',':
                return -1
            i += 1

        # RFC 9110 §14.1.1: an int-range is satisfiable if first-pos < length, a suffix-range if
        # suffix-length > 0; length zero has none. Ends are clamped to the representation.
        if first < 0:
            if last == 0 or length == 0:
                continue
            spans[ns].first = length - last if last < length else 0
            spans[ns].last = length - 1
            ns += 1
        elif first < length:
            spans[ns].first = first
            spans[ns].last = last if has_last and last < length else length - 1
            ns += 1
    nspans[0] = ns
    return count


cdef int _span_cmp(const void* a, const void* b) noexcept nogil:
    cdef const Span* x = <const Span*>a
    cdef const Span* y = <const Span*>b
    if x.first != y.first:
        return -1 if x.first < y.first else 1
    if x.last != y.last:
        return -1 if x.last < y.last else 1
    return 0


cdef Py_ssize_t _sort_and_coalesce(Span* spans, Py_ssize_t ns) noexcept nogil:
    # RFC 9110 §14.6: a server may coalesce overlapping or close ranges; we merge overlapping
    # and adjacent ones (as the pure twin does), in start order. Returns the new count.
    cdef Py_ssize_t i, j, out
    cdef Span cur
    if ns <= INSERTION_SORT_MAX:
        # PERF: headers are short and usually in order already (bench_ranges.py).
        for i in range(1, ns):
            cur = spans[i]
            j = i - 1
            while j >= 0 and (spans[j].first > cur.first
                              or (spans[j].first == cur.first and spans[j].last > cur.last)):
                spans[j + 1] = spans[j]
                j -= 1
            spans[j + 1] = cur
    else:
        qsort(spans, <size_t>ns, sizeof(Span), _span_cmp)
    out = 0
    for i in range(1, ns):
        # spans[out].last <= length - 2**0 < 2**63 - 1, so + 1 cannot overflow.
        if spans[i].first <= spans[out].last + 1:
            if spans[i].last > spans[out].last:
                spans[out].last = spans[i].last
        else:
            out += 1
            spans[out] = spans[i]
    return out + 1


def parse_range(value, length, *, max_ranges=16):
    """Parse a ``Range`` value for a representation of ``length`` bytes (see the pure twin)."""
    cdef int64_t clen = _as_length(length, "length")
    cdef Py_ssize_t limit, n, cap, count
    cdef Py_ssize_t nspans = 0
    cdef const unsigned char* p
    cdef Span stack_spans[STACK_SPANS]
    cdef Span* spans = stack_spans
    cdef list result
    cdef Py_ssize_t i

    if not isinstance(max_ranges, int):
        raise TypeError(f"max_ranges must be an int, not {type(max_ranges).__name__}")
    try:
        limit = max_ranges
    except OverflowError:
        # Any limit above the number of specs a value can hold acts the same.
        limit = PY_SSIZE_T_MAX if max_ranges > 0 else 0
    if limit < 1:
        raise ValueError(f"max_ranges must be at least 1, got {max_ranges}")

    if isinstance(value, bytes):
        data = value
    elif isinstance(value, str):
        try:
            data = (<str>value).encode("latin-1")  # one conversion, as the pure twin does
        except UnicodeEncodeError:
            return None  # a character outside latin-1 is never valid range syntax
    else:
        raise TypeError(f"value must be str or bytes, not {type(value).__name__}")
    p = <const unsigned char*>PyBytes_AS_STRING(data)
    n = PyBytes_GET_SIZE(data)

    cap = n // 2 + 1
    if limit < cap:
        cap = limit
    if cap > STACK_SPANS:
        spans = <Span*>malloc(cap * sizeof(Span))
        if spans == NULL:
            raise MemoryError()
    try:
        count = _parse(p, n, clen, limit, spans, &nspans)
        if count <= 0:
            return None  # invalid, or no range-spec at all (range-set = 1#range-spec)
        if nspans == 0:
            # RFC 9110 §15.5.17: answer 416 with Content-Range: bytes */length (§14.4).
            raise RangeNotSatisfiable(
                f"no satisfiable range in a representation of {length} bytes", length=length
            )
        nspans = _sort_and_coalesce(spans, nspans)
        result = []
        for i in range(nspans):
            result.append((spans[i].first, spans[i].last))
        return result
    finally:
        if spans != stack_spans:
            free(spans)


cdef int _check_span(object first, object last, object length) except -1:
    # Mirrors the pure twin's _check_span.
    cdef int64_t f = _as_length(first, "first")
    cdef int64_t l = _as_length(last, "last")
    cdef int64_t n = _as_length(length, "length")
    if not f <= l < n:
        raise ValueError(f"invalid byte range {first}-{last} for length {length}")
    return 0


def content_range(first, last, length):
    """``Content-Range`` value for one part of a 206 response (RFC 9110 §14.4): ``bytes a-b/n``."""
    _check_span(first, last, length)
    return f"bytes {first}-{last}/{length}"


def unsatisfied_range(length):
    """``Content-Range`` value for a 416 response (RFC 9110 §14.4, §15.5.17): ``bytes */n``."""
    _as_length(length, "length")
    return f"bytes */{length}"


cdef int _check_boundary(object boundary) except -1:
    # RFC 2046 §5.1.1: boundary := 0*69<bchars> bcharsnospace (mirrors the pure twin).
    cdef Py_UCS4 c
    if not isinstance(boundary, str):
        raise TypeError(f"boundary must be a str, not {type(boundary).__name__}")
    cdef str b = <str>boundary
    if not 1 <= len(b) <= 70:
        raise ValueError(f"boundary must be 1 to 70 characters long, got {len(b)}")
    if b[len(b) - 1] == " ":
        raise ValueError(f"invalid multipart boundary {boundary!r} (RFC 2046 §5.1.1)")
    for c in b:
        if c != " " and c not in _BCHARS_NOSPACE:
            raise ValueError(f"invalid multipart boundary {boundary!r} (RFC 2046 §5.1.1)")
    return 0


cdef int _check_field_value(object content_type) except -1:
    # APPSEC: no CR/LF/CTL in the part's Content-Type (RFC 9110 §5.5); mirrors the pure twin.
    cdef Py_UCS4 c
    if not isinstance(content_type, str):
        raise TypeError(f"content_type must be a str or None, not {type(content_type).__name__}")
    cdef str s = <str>content_type
    cdef bint ok = len(s) > 0
    if ok:
        c = s[0]
        ok = c != " " and c != "\t"
        c = s[len(s) - 1]
        ok = ok and c != " " and c != "\t"
    if ok:
        for c in s:
            if not (c == "\t" or 0x20 <= c <= 0x7E or 0x80 <= c <= 0xFF):
                ok = False
                break
    if not ok:
        raise InvalidResponseHeader(f"invalid Content-Type value {content_type!r}")
    return 0


def multipart_byteranges(ranges, length, content_type, boundary):
    """Framing of a ``multipart/byteranges`` body (RFC 9110 §14.6, RFC 2046 §5.1.1): ``(heads,
    closing)``, the body being ``heads[0] + data0 + heads[1] + data1 + ... + closing``.
    """
    _as_length(length, "length")
    _check_boundary(boundary)
    cdef bytes ctype = b""
    if content_type is not None:
        _check_field_value(content_type)
        ctype = b"Content-Type: " + (<str>content_type).encode("latin-1") + b"\r\n"
    cdef bytes bnd = (<str>boundary).encode("ascii")
    cdef bytes delimiter = b"--" + bnd + b"\r\n"
    cdef bytes first_head = delimiter + ctype + b"Content-Range: bytes "
    cdef bytes next_head = b"\r\n" + first_head
    cdef bytes tail = b"/%d\r\n\r\n" % length
    cdef list heads = []
    for first, last in ranges:
        _check_span(first, last, length)
        heads.append((next_head if heads else first_head) + b"%d-%d" % (first, last) + tail)
    if not heads:
        # RFC 2046 §5.1.1: a multipart body has at least one body part.
        raise ValueError("multipart/byteranges needs at least one range")
    # RFC 2046 §5.1.1: close-delimiter = CRLF dash-boundary "--".
    return heads, b"\r\n--" + bnd + b"--\r\n"


def make_boundary():
    """A fresh random boundary, valid per RFC 2046 §5.1.1 (32 hex digits from ``secrets``)."""
    return secrets.token_hex(16)


def byteranges_content_type(boundary):
    """``Content-Type`` of a multipart/byteranges response (RFC 9110 §14.6), the boundary quoted
    when it holds a non-tchar.
    """
    cdef Py_UCS4 c
    _check_boundary(boundary)
    for c in <str>boundary:
        if c not in _TCHARS:
            return f'multipart/byteranges; boundary="{boundary}"'
    return f"multipart/byteranges; boundary={boundary}"
