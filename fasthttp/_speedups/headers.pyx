# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The header index, compiled twin of ``fasthttp/_pure/headers.py`` (the specification).

Strategy: a :class:`Headers` holds one ``bytes`` object (the received header section) and a C
array of :c:type:`Field` offsets into it, filled by the parser as it validates each line with
:func:`parse_field`. Look-ups compare in place; only the values a caller asks for become ``str``
(ISO-8859-1, RFC 9110 §5.5). Names in the fixed table ``WELL_KNOWN`` carry a small integer id,
computed once per line, so looking one of them up compares integers, not bytes.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.unicode cimport PyUnicode_DecodeLatin1
from libc.string cimport memchr, memcmp, memcpy
from cpython.list cimport PyList_New, PyList_SET_ITEM
from cpython.ref cimport Py_INCREF

cimport cython

from collections.abc import Mapping

from fasthttp.errors import BadRequest

__all__ = ("Headers", "WELL_KNOWN", "parse_field_line")

# The fixed table is the pure twin's, so the two can never drift; its first seven entries are
# the H_* ids in headers.pxd (tests/test_headers.py checks them).
from fasthttp._pure.headers import WELL_KNOWN

cdef enum:
    HASH_SLOTS = 128   # a power of two, well above 2 x len(WELL_KNOWN)
    KEY_CACHE_MAX = 1024

cdef bytes _known_blob = "".join(WELL_KNOWN).encode("ascii")
cdef const unsigned char* _known_ptr = <const unsigned char*>PyBytes_AS_STRING(_known_blob)
cdef Py_ssize_t _offset[64]
cdef Py_ssize_t _length[64]
# PERF: an open-addressing table keyed on (length, first byte, last byte) of the lower-cased
# name: a well-known name is found with one hash and, nearly always, one comparison
# (benchmarks/bench_parser.py). Empty slots hold 0.
cdef int _slots[HASH_SLOTS]


cdef inline unsigned int _hash(const unsigned char* name, Py_ssize_t n) noexcept nogil:
    # "| 0x20" folds case for letters; for the other tchar bytes it only has to be consistent.
    return (<unsigned int>n * 31u + (name[0] | 0x20) * 7u + (name[n - 1] | 0x20)) & (HASH_SLOTS - 1)


cdef void _build_table():
    cdef Py_ssize_t off = 0, i, n
    cdef unsigned int h
    for i in range(HASH_SLOTS):
        _slots[i] = 0
    for i in range(len(WELL_KNOWN)):
        n = len(WELL_KNOWN[i])
        _offset[i + 1] = off
        _length[i + 1] = n
        h = _hash(_known_ptr + off, n)
        while _slots[h]:
            h = (h + 1) & (HASH_SLOTS - 1)
        _slots[h] = <int>(i + 1)
        off += n


_build_table()

# Query-name cache: str/bytes -> (id, lower-cased bytes). Bounded: names come from code, but a
# handler could pass attacker-chosen strings.
cdef dict _key_cache = {}


cdef int known_id(const unsigned char* name, Py_ssize_t n) noexcept nogil:
    """The well-known id of the field name *name* (tchar bytes, any case), or 0."""
    cdef unsigned int h
    cdef int kid
    if n <= 0:
        return 0
    h = _hash(name, n)
    while True:
        kid = _slots[h]
        if kid == 0:
            return 0
        if _length[kid] == n and fh_tchar_caseeq(name, _known_ptr + _offset[kid], n):
            return kid
        h = (h + 1) & (HASH_SLOTS - 1)


cdef int _refuse_name(const unsigned char* buf, Py_ssize_t start, Py_ssize_t bad) except -1:
    # buf[bad] is the first byte before the colon that is not a tchar
    if buf[bad] == 32 or buf[bad] == 9:
        raise BadRequest("whitespace in or after a field name")
    raise BadRequest("invalid character in field name")


cdef int parse_field(const unsigned char* buf, Py_ssize_t start, Py_ssize_t end, Field* out) except -1:
    """Validate the field line ``buf[start:end]`` (no CRLF) and record its offsets in *out*.

    RFC 9112 §5: ``field-name ":" OWS field-value OWS``; the same rules, in the same order, as
    ``parse_field_line`` in the pure twin (which is the specification).
    """
    cdef Py_ssize_t i = start, colon, vs, ve
    cdef unsigned char c
    # PERF: the name is scanned once, up to the first non-tchar; it must be the colon.
    while i < end and fh_tchar[buf[i]]:
        i += 1
    if i == end or buf[i] != 58:  # ":"
        # Same error, in the same order of checks, as the pure twin's parse_field_line.
        if memchr(buf + i, 58, end - i) == NULL:
            raise BadRequest("field line without a colon")
        _refuse_name(buf, start, i)
    colon = i
    # the value, trimmed of OWS
    vs = colon + 1
    ve = end
    while vs < ve and (buf[vs] == 32 or buf[vs] == 9):
        vs += 1
    while ve > vs and (buf[ve - 1] == 32 or buf[ve - 1] == 9):
        ve -= 1
    if colon == start:
        raise BadRequest("empty field name")
    if not fh_values_ok(buf + vs, ve - vs):
        raise BadRequest("invalid character in field value")
    out.name_start = start
    out.name_len = colon - start
    out.value_start = vs
    out.value_len = ve - vs
    out.known = known_id(buf + start, colon - start)
    return 0


cdef int _alloc_fields(Headers h, Py_ssize_t count) except -1:
    # PERF: up to INLINE_FIELDS fields live inside the object: no second allocation per request.
    if h._fields != NULL and h._fields != h._inline:  # __init__ called again
        PyMem_Free(h._fields)
    h._fields = NULL
    h._count = count
    if count <= INLINE_FIELDS:
        h._fields = h._inline
    else:
        h._fields = <Field*>PyMem_Malloc(count * sizeof(Field))
        if h._fields == NULL:
            h._count = 0
            raise MemoryError()
    return 0


cdef Headers headers_new(bytes raw, const Field* fields, Py_ssize_t count, Py_ssize_t base):
    """A Headers over *raw*; *fields* offsets are rebased by adding *base*."""
    cdef Headers h = Headers.__new__(Headers)
    cdef Py_ssize_t i
    h._raw = raw
    _alloc_fields(h, count)
    memcpy(h._fields, fields, count * sizeof(Field))
    if base:
        for i in range(count):
            h._fields[i].name_start += base
            h._fields[i].value_start += base
    return h


cdef tuple _lookup_key(object name):
    cdef tuple entry = _key_cache.get(name)
    cdef bytes low
    if entry is not None:
        return entry
    if isinstance(name, str):
        try:
            low = (<str>name).encode("latin-1").lower()
        except UnicodeEncodeError:
            return (0, b"\xff\xff")  # matches no valid field name (tchar is ASCII)
    elif isinstance(name, (bytes, bytearray, memoryview)):
        low = bytes(name).lower()
    else:
        raise TypeError(f"header names are str or bytes, not {type(name).__name__}")
    entry = (known_id(<const unsigned char*>PyBytes_AS_STRING(low), PyBytes_GET_SIZE(low)), low)
    if len(_key_cache) < KEY_CACHE_MAX:
        _key_cache[name] = entry
    return entry


cdef inline str _decode(bytes raw, Py_ssize_t start, Py_ssize_t n):
    return PyUnicode_DecodeLatin1(PyBytes_AS_STRING(raw) + start, n, NULL)


cdef inline bytes _slice(bytes raw, Py_ssize_t start, Py_ssize_t n):
    return PyBytes_FromStringAndSize(PyBytes_AS_STRING(raw) + start, n)


# PERF: names of well-known fields come out as shared objects: keys()/items() use the canonical
# lower-case str, raw() reuses the last bytes object seen in the same case (browsers send the
# same spelling every time), instead of decoding or allocating per field
# (benchmarks/bench_parser.py, the "collect all headers" rows).
cdef tuple _canonical = (None,) + WELL_KNOWN
cdef list _seen_names = [None] * (len(WELL_KNOWN) + 1)


# PERF: the lower-case bytes of each well-known name, shared (raw_lower()).
cdef tuple _canonical_bytes = (None,) + tuple(name.encode("ascii") for name in WELL_KNOWN)


cdef inline bytes _name_lower(bytes raw, const Field* f):
    if f.known:
        return <bytes>_canonical_bytes[f.known]
    return _slice(raw, f.name_start, f.name_len).lower()


cdef inline str _name_str(bytes raw, const Field* f):
    if f.known:
        return <str>_canonical[f.known]
    return _decode(raw, f.name_start, f.name_len).lower()


cdef inline bytes _name_bytes(bytes raw, const Field* f):
    cdef object cached
    cdef bytes b
    if f.known:
        cached = _seen_names[f.known]
        if (cached is not None and PyBytes_GET_SIZE(cached) == f.name_len
                and memcmp(PyBytes_AS_STRING(cached), PyBytes_AS_STRING(raw) + f.name_start, f.name_len) == 0):
            return <bytes>cached
        b = _slice(raw, f.name_start, f.name_len)
        _seen_names[f.known] = b
        return b
    return _slice(raw, f.name_start, f.name_len)


# PERF: the same for short values of well-known fields: a keep-alive client sends the same
# Host, Accept, User-Agent, Connection... on every request, so the last value seen for each
# well-known field (as bytes, and as str once decoded) is reused when the bytes match.
cdef enum:
    VALUE_CACHE_MAX = 128   # longer values (cookies, tokens) are never cached
cdef list _seen_values = [None] * (len(WELL_KNOWN) + 1)
cdef list _seen_strs = [None] * (len(WELL_KNOWN) + 1)


cdef inline bint _value_cached(bytes raw, const Field* f) noexcept:
    """Does the cached value of f's well-known field equal f's value?"""
    cdef object cached = _seen_values[f.known]
    return (cached is not None and PyBytes_GET_SIZE(cached) == f.value_len
            and memcmp(PyBytes_AS_STRING(cached), PyBytes_AS_STRING(raw) + f.value_start, f.value_len) == 0)


cdef inline bytes _value_bytes(bytes raw, const Field* f):
    cdef bytes b
    if f.known and f.value_len <= VALUE_CACHE_MAX:
        if _value_cached(raw, f):
            return <bytes>_seen_values[f.known]
        b = _slice(raw, f.value_start, f.value_len)
        _seen_values[f.known] = b
        _seen_strs[f.known] = None
        return b
    return _slice(raw, f.value_start, f.value_len)


cdef inline str _value_str(bytes raw, const Field* f):
    cdef object s
    if f.known and f.value_len <= VALUE_CACHE_MAX:
        if not _value_cached(raw, f):
            _seen_values[f.known] = _slice(raw, f.value_start, f.value_len)
            _seen_strs[f.known] = None
        s = _seen_strs[f.known]
        if s is None:
            s = _seen_strs[f.known] = _decode(raw, f.value_start, f.value_len)
        return <str>s
    return _decode(raw, f.value_start, f.value_len)


def parse_field_line(line):
    """Validate one field line (without its CRLF); return ``(name, value)`` as bytes."""
    cdef bytes b = bytes(line)
    cdef Field f
    parse_field(<const unsigned char*>PyBytes_AS_STRING(b), 0, PyBytes_GET_SIZE(b), &f)
    return (_slice(b, f.name_start, f.name_len), _slice(b, f.value_start, f.value_len))


@cython.no_gc       # holds only bytes: it can never be part of a reference cycle
@cython.freelist(16)
cdef class Headers:
    """A read-only, case-insensitive, multi-valued view of a header (or trailer) section.

    ``get``/``[]`` return the first value, ``getall`` every value in received order; values are
    ``str`` decoded as ISO-8859-1. Iteration yields lower-cased names in received order, one per
    field line; ``raw()`` gives the ``(name, value)`` bytes exactly as received.
    """

    def __init__(self, fields=()):
        if isinstance(fields, Mapping):
            fields = fields.items()
        cdef bytearray buf = bytearray()
        cdef list spans = []
        cdef bytes bname, bvalue, raw
        cdef const unsigned char* p
        cdef Py_ssize_t i, n, start
        for name, value in fields:
            bname = name.encode("latin-1") if isinstance(name, str) else bytes(name)
            bvalue = value.encode("latin-1") if isinstance(value, str) else bytes(value)
            bvalue = bvalue.strip(b" \t")
            # same checks as the pure twin's _check_name/_check_value
            p = <const unsigned char*>PyBytes_AS_STRING(bname)
            n = PyBytes_GET_SIZE(bname)
            if n == 0:
                raise BadRequest("empty field name")
            for i in range(n):
                if not fh_tchar[p[i]]:
                    if p[i] == 32 or p[i] == 9:
                        raise BadRequest("whitespace in or after a field name")
                    raise BadRequest("invalid character in field name")
            p = <const unsigned char*>PyBytes_AS_STRING(bvalue)
            for i in range(PyBytes_GET_SIZE(bvalue)):
                if not fh_value_ok(p[i]):
                    raise BadRequest("invalid character in field value")
            start = len(buf)
            buf += bname
            buf += bvalue
            spans.append((start, n, start + n, PyBytes_GET_SIZE(bvalue)))
        raw = bytes(buf)
        self._raw = raw
        _alloc_fields(self, len(spans))
        if self._count:
            p = <const unsigned char*>PyBytes_AS_STRING(raw)
            for i in range(self._count):
                self._fields[i].name_start, self._fields[i].name_len, self._fields[i].value_start, self._fields[i].value_len = spans[i]
                self._fields[i].known = known_id(p + self._fields[i].name_start, self._fields[i].name_len)

    def __dealloc__(self):
        if self._fields != NULL and self._fields != self._inline:
            PyMem_Free(self._fields)
        self._fields = NULL

    cdef Py_ssize_t _find(self, object name, Py_ssize_t start) except -2:
        """Index of the first field named *name* at or after *start*, or -1."""
        cdef tuple key = _lookup_key(name)
        cdef int kid = key[0]
        cdef bytes low = key[1]
        cdef const unsigned char* lp
        cdef const unsigned char* raw
        cdef Py_ssize_t n, i
        cdef Field* f
        if kid:
            for i in range(start, self._count):
                if self._fields[i].known == kid:
                    return i
            return -1
        lp = <const unsigned char*>PyBytes_AS_STRING(low)
        n = PyBytes_GET_SIZE(low)
        raw = <const unsigned char*>PyBytes_AS_STRING(self._raw)
        for i in range(start, self._count):
            f = &self._fields[i]
            if f.name_len == n and f.known == 0 and fh_casecmp(raw + f.name_start, lp, n) == 0:
                return i
        return -1

    def get(self, name, default=None):
        cdef Py_ssize_t i = self._find(name, 0)
        if i < 0:
            return default
        return _value_str(self._raw, &self._fields[i])

    def get_bytes(self, name, default=None):
        """The first value as the bytes received, or *default*."""
        cdef Py_ssize_t i = self._find(name, 0)
        if i < 0:
            return default
        return _value_bytes(self._raw, &self._fields[i])

    def getall(self, name):
        cdef list out = []
        cdef Py_ssize_t i = self._find(name, 0)
        while i >= 0:
            out.append(_value_str(self._raw, &self._fields[i]))
            i = self._find(name, i + 1)
        return out

    def __getitem__(self, name):
        cdef Py_ssize_t i = self._find(name, 0)
        if i < 0:
            raise KeyError(name)
        return _value_str(self._raw, &self._fields[i])

    def __contains__(self, name):
        if not isinstance(name, (str, bytes)):
            return False
        return self._find(name, 0) >= 0

    def __len__(self):
        return self._count

    def __iter__(self):
        return iter(self.keys())

    def keys(self):
        cdef Py_ssize_t i
        return [_name_str(self._raw, &self._fields[i]) for i in range(self._count)]

    def values(self):
        cdef Py_ssize_t i
        return [_value_str(self._raw, &self._fields[i]) for i in range(self._count)]

    def items(self):
        cdef Py_ssize_t i
        return [(_name_str(self._raw, &self._fields[i]), _value_str(self._raw, &self._fields[i]))
                for i in range(self._count)]

    def raw(self):
        """``(name, value)`` byte pairs in received order, names in their received case."""
        cdef Py_ssize_t i
        cdef list out = PyList_New(self._count)
        cdef tuple pair
        cdef Field* f
        for i in range(self._count):
            f = &self._fields[i]
            pair = (_name_bytes(self._raw, f), _value_bytes(self._raw, f))
            Py_INCREF(pair)
            PyList_SET_ITEM(out, i, pair)
        return out

    def raw_lower(self):
        """``(name, value)`` byte pairs in received order, names lower-cased (ASGI's
        ``headers``: one list built by the index, no per-field work in the caller)."""
        cdef Py_ssize_t i
        cdef list out = PyList_New(self._count)
        cdef tuple pair
        cdef Field* f
        for i in range(self._count):
            f = &self._fields[i]
            pair = (_name_lower(self._raw, f), _value_bytes(self._raw, f))
            Py_INCREF(pair)
            PyList_SET_ITEM(out, i, pair)
        return out

    def __eq__(self, other):
        if isinstance(other, Headers) or type(other).__name__ == "Headers":
            return self.items() == other.items()
        return NotImplemented

    __hash__ = None

    def __repr__(self):
        return f"Headers({self.items()!r})"
