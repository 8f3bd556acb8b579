# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, embedsignature=True
"""Response-head serialization: the compiled twin of ``fasthttp/_pure/writer.py``.

Strategy: one pass over the arguments validates every piece and records a pointer and a length
for it (holding a strong reference to the object that owns the bytes); the exact output size is
then known, so the response is built in one allocation, ``PyBytes_FromStringAndSize(NULL, n)``,
filled with memcpy. No intermediate bytes objects, no join.

The pure twin is the specification: output is byte-identical and errors have the same types,
raised in the same order: the status; then ``content_length`` and the framing contradictions
(``write_head``) or the body (``write_response``); then ``server``; then each field in order,
name before value. The reason table and the date formatter are the pure twin's
own (``_spec.REASONS`` via ``_build_status_line``, ``_format_date``): they run once per status
code and once per second, so sharing them costs nothing and keeps the twins from drifting.
The framing rule (application fields may not contradict the server's framing, see the pure
twin's docstring) is the pure twin's ``_check_framing`` too, called only for a field whose name
a C check matched against the six framing names.

PERF: benchmarks/bench_writer.py (``write_response`` plaintext, JSON, chunked head, 10 fields,
``status_line``) compares this module with the pure twin.
"""

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_Check, PyBytes_CheckExact, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_CheckExact
from cpython.float cimport PyFloat_AS_DOUBLE, PyFloat_CheckExact
from cpython.list cimport PyList_CheckExact, PyList_GET_ITEM, PyList_GET_SIZE
from cpython.long cimport PyLong_AsLongAndOverflow, PyLong_AsLongLongAndOverflow, PyLong_Check
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.object cimport PyObject
from cpython.ref cimport Py_XDECREF, Py_XINCREF
from cpython.tuple cimport PyTuple_CheckExact, PyTuple_GET_ITEM, PyTuple_GET_SIZE
from cpython.unicode cimport (
    PyUnicode_1BYTE_KIND,
    PyUnicode_AsUTF8AndSize,
    PyUnicode_Check,
    PyUnicode_CheckExact,
    PyUnicode_DATA,
    PyUnicode_GET_LENGTH,
    PyUnicode_KIND,
)
from libc.string cimport memcpy
from posix.time cimport CLOCK_REALTIME, clock_gettime, timespec

import time
from collections.abc import Mapping

from fasthttp._pure import writer as _spec
from fasthttp.errors import InvalidResponseHeader

cdef extern from *:
    """
    /* PyUnicode_READY is a no-op (and deprecated) from 3.12, where every str is ready. */
    #if PY_VERSION_HEX >= 0x030C0000
    #define FH_UNICODE_READY(o) (0)
    #else
    #define FH_UNICODE_READY(o) PyUnicode_READY(o)
    #endif
    """
    int FH_UNICODE_READY(object) except -1
    object PyBytes_FromStringAndSize(const char *v, Py_ssize_t n)

__all__ = ("status_line", "http_date", "write_fields", "write_head", "write_response", "FieldBlock")

#: The clock behind ``http_date``. NOTE: a seam for tests, which patch ``writer._clock`` of
#: either twin; it is looked up as a module global on every use, so the patch takes effect.
_clock = time.time
# PERF: while the seam holds the real clock, the Date's second comes from
# clock_gettime(CLOCK_REALTIME) in C (a vDSO read; the clock time.time() reads, so the same
# second) instead of a call to time.time() through a module global and a float: about 200
# instructions per response (callgrind, benchmarks/bench_connection.py). A test's patched
# _clock is called as before.
cdef object _time_time = time.time


# --- character classes (RFC 9110 §5.6.2 tchar, §5.5 field-vchar / SP / HTAB) -------------------

cdef unsigned char _TCHAR[256]
cdef unsigned char _VALUE_OK[256]


cdef void _init_tables():
    cdef int c
    cdef bytes extra = b"!#$%&'*+-.^_`|~"
    for c in range(256):
        _TCHAR[c] = (48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122)
        # HTAB, SP, VCHAR (0x21-0x7E) and obs-text (0x80-0xFF); never CR, LF, NUL, CTL or DEL.
        _VALUE_OK[c] = c == 9 or (32 <= c <= 126) or c >= 128
    for c in extra:
        _TCHAR[c] = 1


_init_tables()


# --- status line --------------------------------------------------------------------------------

# Status lines by code - 100, filled on first use and kept for the life of the process.
cdef PyObject* _LINES[900]


cdef long _check_status(object status) except -1:
    # RFC 9112 §4: status-code = 3DIGIT, so 100..999. Any int (bool, IntEnum) is accepted by
    # value, as in the pure twin's ``isinstance(status, int)``.
    cdef int overflow = 0
    cdef long code
    if PyLong_Check(status):
        code = PyLong_AsLongAndOverflow(status, &overflow)
        if overflow == 0 and 100 <= code <= 999:
            return code
    raise ValueError(f"invalid HTTP status code: {status!r}")


cdef int _not_final(long code) except -1:
    # RFC 9110 §15.2: a 1xx response is interim, never the final answer to a request; written as
    # one, the client would take the connection's next response for this request's (a desync),
    # and a 101 would claim a protocol switch. write_head still writes 1xx heads (100 Continue,
    # 103 Early Hints, the 101 of an upgrade): those are sent before a final response.
    raise ValueError(f"a final response has a 2xx-9xx status, not the interim {code}")


cdef inline object _status_line(long code):
    cdef PyObject* line = _LINES[code - 100]
    if line is NULL:
        obj = _spec._build_status_line(code)
        if not PyBytes_CheckExact(obj):
            raise TypeError("status line must be bytes")
        Py_XINCREF(<PyObject*>obj)
        _LINES[code - 100] = <PyObject*>obj
        return obj
    return <object>line


def status_line(status):
    """``b"HTTP/1.1 200 OK\\r\\n"``: the status line for *status*, cached per code."""
    return _status_line(_check_status(status))


# --- Date (RFC 9110 §6.6.1, IMF-fixdate §5.6.7) ------------------------------------------------

cdef bint _date_set = False
cdef long long _date_second = 0
cdef object _date_value = b""
cdef object _date_line = b""


cdef object _date_field():
    """``b"Date: ...\\r\\n"``, recomputed when ``int(_clock())`` changes (as the pure twin)."""
    global _date_set, _date_second, _date_value, _date_line
    cdef long long second
    cdef timespec ts
    clock = _clock
    if clock is _time_time and clock_gettime(CLOCK_REALTIME, &ts) == 0:
        second = ts.tv_sec
    else:
        now = clock()
        # PERF: the usual float from time.time() is truncated in C, exactly as int() truncates.
        if PyFloat_CheckExact(now) and -1e15 < PyFloat_AS_DOUBLE(now) < 1e15:
            second = <long long>PyFloat_AS_DOUBLE(now)
        else:
            second = int(now)
    if not _date_set or second != _date_second:
        value = _spec._format_date(second)
        _date_line = b"Date: " + value + b"\r\n"
        _date_value = value
        _date_second = second
        _date_set = True
    return _date_line


def http_date():
    """The current time as an IMF-fixdate (RFC 9110 §5.6.7), recomputed at most once a second."""
    _date_field()
    return _date_value


# --- fields ---------------------------------------------------------------------------------------

cdef struct Piece:
    PyObject* name_ref   # strong references: they keep name/value alive while we point into them
    PyObject* value_ref
    const char* name
    Py_ssize_t name_len
    const char* value
    Py_ssize_t value_len


cdef struct Pieces:
    Piece* items
    Py_ssize_t count
    Py_ssize_t capacity
    Py_ssize_t size      # bytes of the "name: value\r\n" lines so far
    bint framing         # apply the framing rule to the fields (write_head, write_response)
    long long length     # the server's Content-Length for that rule; -1: it sends none
    PyObject* big_length # borrowed: the caller's content_length past 2**63 - 1, else NULL
    Piece small[12]      # PERF: no heap allocation for up to 12 fields


cdef inline void _pieces_init(Pieces* p) noexcept:
    p.items = p.small
    p.count = 0
    p.capacity = 12
    p.size = 0
    p.framing = False
    p.length = -1
    p.big_length = NULL


cdef void _pieces_release(Pieces* p) noexcept:
    cdef Py_ssize_t i
    for i in range(p.count):
        Py_XDECREF(p.items[i].name_ref)
        Py_XDECREF(p.items[i].value_ref)
    if p.items != p.small:
        PyMem_Free(p.items)
    p.items = p.small
    p.count = 0


cdef int _pieces_grow(Pieces* p) except -1:
    cdef Py_ssize_t capacity = p.capacity * 2
    cdef Piece* items
    if p.items == p.small:
        items = <Piece*>PyMem_Malloc(capacity * sizeof(Piece))
        if items is NULL:
            raise MemoryError()
        memcpy(items, p.small, p.count * sizeof(Piece))
    else:
        items = <Piece*>PyMem_Realloc(p.items, capacity * sizeof(Piece))
        if items is NULL:
            raise MemoryError()
    p.items = items
    p.capacity = capacity
    return 0


cdef int _text(object part, const char** ptr, Py_ssize_t* length, str what) except -1:
    """Point at the octets of a ``bytes`` or latin-1 ``str`` *part* (RFC 9110 §5.5)."""
    if PyBytes_Check(part):
        ptr[0] = PyBytes_AS_STRING(part)
        length[0] = PyBytes_GET_SIZE(part)
        return 0
    if PyUnicode_Check(part):
        FH_UNICODE_READY(part)
        # NOTE: a str is stored in its narrowest kind (PEP 393), so UCS1 is exactly "encodes as
        # latin-1", and its buffer *is* the latin-1 encoding.
        if PyUnicode_KIND(part) != PyUnicode_1BYTE_KIND:
            raise InvalidResponseHeader(f"header {what} is not latin-1: {part!r}")
        ptr[0] = <const char*>PyUnicode_DATA(part)
        length[0] = PyUnicode_GET_LENGTH(part)
        return 0
    raise TypeError(f"header {what} must be str or bytes, not {type(part).__name__}")


cdef inline bint _is_token(const unsigned char* s, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    if n == 0:
        return False
    for i in range(n):
        if not _TCHAR[s[i]]:
            return False
    return True


cdef inline bint _is_field_value(const unsigned char* s, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        if not _VALUE_OK[s[i]]:
            return False
    return True


cdef int _field_value(object value, const char** ptr, Py_ssize_t* length, str what) except -1:
    _text(value, ptr, length, what)
    # APPSEC: CR/LF would split the response; NUL, other CTLs and DEL are refused too.
    if not _is_field_value(<const unsigned char*>ptr[0], length[0]):
        raise InvalidResponseHeader(f"invalid header {what}: {value!r}")
    return 0


cdef inline bint _same_name(const unsigned char* s, const char* lower, Py_ssize_t n) noexcept nogil:
    # ASCII case-insensitive: the name is a validated token, and no tchar other than a letter
    # maps onto a letter or '-' under "| 0x20".
    cdef Py_ssize_t i
    for i in range(n):
        if (s[i] | 0x20) != <unsigned char>lower[i]:
            return False
    return True


cdef inline int _framing_kind(const unsigned char* s, Py_ssize_t n) noexcept nogil:
    """The pure twin's ``_FRAMING`` table: 1 Content-Length, 2 refused, 3 Connection, 0 none."""
    # PERF: one length switch; most fields differ in length from all six names.
    if n == 14:
        return 1 if _same_name(s, b"content-length", 14) else 0
    if n == 10:
        if _same_name(s, b"connection", 10):
            return 3
        return 2 if _same_name(s, b"keep-alive", 10) else 0
    if n == 17:
        return 2 if _same_name(s, b"transfer-encoding", 17) else 0
    if n == 16:
        return 2 if _same_name(s, b"proxy-connection", 16) else 0
    if n == 2:
        return 2 if _same_name(s, b"te", 2) else 0
    return 0


cdef int _add_field(Pieces* p, object name, object value) except -1:
    cdef const char* name_ptr
    cdef const char* value_ptr
    cdef Py_ssize_t name_len, value_len
    cdef Piece* piece
    _text(name, &name_ptr, &name_len, "name")
    # APPSEC: a non-token name could smuggle ':' , CR/LF or whitespace (RFC 9112 §5.1).
    if not _is_token(<const unsigned char*>name_ptr, name_len):
        raise InvalidResponseHeader(f"invalid header name: {name!r}")
    if PyLong_Check(value):
        # NOTE: the same "%d" the pure twin uses, so int subclasses format identically.
        value = b"%d" % value
        value_ptr = PyBytes_AS_STRING(value)
        value_len = PyBytes_GET_SIZE(value)
    else:
        _field_value(value, &value_ptr, &value_len, "value")
    if p.count == p.capacity:
        _pieces_grow(p)
    piece = &p.items[p.count]
    Py_XINCREF(<PyObject*>name)
    Py_XINCREF(<PyObject*>value)
    piece.name_ref = <PyObject*>name
    piece.value_ref = <PyObject*>value
    piece.name = name_ptr
    piece.name_len = name_len
    piece.value = value_ptr
    piece.value_len = value_len
    p.count += 1
    p.size += name_len + value_len + 4   # ": " and CRLF
    return 0


cdef int _drop_framing(Pieces* p) except -1:
    """The framing rule (the pure twin's ``_check_framing``, one home) for the field just added,
    which names a framing field: raise, or drop it (a Content-Length equal to the server's)."""
    cdef Piece* piece = &p.items[p.count - 1]
    if p.big_length is not NULL:
        length = <object>p.big_length
    else:
        length = p.length if p.length >= 0 else None
    if _spec._check_framing(_framing_kind(<const unsigned char*>piece.name, piece.name_len),
                            piece.name[:piece.name_len], piece.value[:piece.value_len], length):
        p.size -= piece.name_len + piece.value_len + 4
        p.count -= 1
        Py_XDECREF(piece.name_ref)
        Py_XDECREF(piece.value_ref)
    return 0


# PERF: constant tuples of fields (responses.TEXT_FIELDS, JSON_FIELDS, a route's fixed
# headers) are serialized once. A tuple of exact (name, value) tuples of exact str or bytes is
# immutable all the way down, so while we hold a reference to it, its validated lines are a
# pure function of its identity. A tuple seen twice in a row (the candidate, then again) is
# checked and encoded the usual way and its lines kept, unless one of its fields names a
# framing field (those depend on the response); later responses copy the lines as one piece,
# as a FieldBlock's. A tuple built per response never gets past the candidate slot.
# (callgrind: about 400 instructions per response with one Content-Type field.)
cdef enum:
    BLOCK_CACHE = 8
cdef PyObject* _block_keys[BLOCK_CACHE]    # strong references to the tuples
cdef PyObject* _block_lines[BLOCK_CACHE]   # strong references to their encoded lines (bytes)
cdef PyObject* _block_candidate = NULL     # strong reference: the last tuple that missed
cdef int _block_next = 0


cdef inline object _cached_block(object fields):
    """The encoded lines of the constant tuple *fields*, or None."""
    cdef int i
    cdef PyObject* key = <PyObject*>fields
    for i in range(BLOCK_CACHE):
        if _block_keys[i] == key:
            return <object>_block_lines[i]
    return None


cdef bint _immutable_pairs(tuple fields) noexcept:
    """Is every item an exact 2-tuple of exact str or bytes naming no framing field?"""
    cdef Py_ssize_t i
    cdef object pair, name
    cdef const char* ptr
    cdef Py_ssize_t n
    for i in range(PyTuple_GET_SIZE(fields)):
        pair = <object>PyTuple_GET_ITEM(fields, i)
        if not PyTuple_CheckExact(pair) or PyTuple_GET_SIZE(pair) != 2:
            return False
        name = <object>PyTuple_GET_ITEM(pair, 0)
        value = <object>PyTuple_GET_ITEM(pair, 1)
        if PyBytes_CheckExact(name):
            ptr = PyBytes_AS_STRING(name)
            n = PyBytes_GET_SIZE(name)
        elif PyUnicode_CheckExact(name) and PyUnicode_KIND(name) == PyUnicode_1BYTE_KIND:
            ptr = <const char*>PyUnicode_DATA(name)
            n = PyUnicode_GET_LENGTH(name)
        else:
            return False
        if not (PyBytes_CheckExact(value) or PyUnicode_CheckExact(value)):
            return False
        if _framing_kind(<const unsigned char*>ptr, n):
            return False
    return True


cdef int _remember_block(Pieces* p, Py_ssize_t first, tuple fields) except -1:
    """*fields* (its pieces are p.items[first:]) missed the cache: keep it, the second time."""
    global _block_candidate, _block_next
    cdef Pieces sub
    cdef PyObject* old
    cdef Py_ssize_t i
    if <PyObject*>fields != _block_candidate:
        Py_XINCREF(<PyObject*>fields)
        old = _block_candidate
        _block_candidate = <PyObject*>fields
        Py_XDECREF(old)
        return 0
    if not _immutable_pairs(fields):
        return 0
    sub.items = p.items + first
    sub.count = p.count - first
    sub.size = 0
    for i in range(sub.count):
        sub.size += sub.items[i].name_len + sub.items[i].value_len + 4
    lines = PyBytes_FromStringAndSize(NULL, sub.size)
    _put_fields(PyBytes_AS_STRING(lines), &sub)
    old = _block_keys[_block_next]
    Py_XINCREF(<PyObject*>fields)
    _block_keys[_block_next] = <PyObject*>fields
    Py_XDECREF(old)
    old = _block_lines[_block_next]
    Py_XINCREF(<PyObject*>lines)
    _block_lines[_block_next] = <PyObject*>lines
    Py_XDECREF(old)
    _block_next = (_block_next + 1) % BLOCK_CACHE
    return 0


# PERF (issue 17, benchmarks/bench_connection.py test_post_echo): a Response's usual fields are
# a new one-pair list each time, [(b"Content-Type", value)], whose name and value are the same
# objects from one response to the next (a constant, the handler's literal). The lines of such a
# pair are kept under the identity of its name and value (strong references: exact str or bytes,
# immutable, so equal identities serialize to equal bytes), with the tuple cache's candidate
# rule and checks; the list itself is read on every response, so a list the application changes
# is written as it is then. (The pure twin caches the same lists under the pair's value.)
cdef PyObject* _pair_names[BLOCK_CACHE]    # strong references
cdef PyObject* _pair_values[BLOCK_CACHE]   # strong references
cdef PyObject* _pair_lines[BLOCK_CACHE]    # strong references to their encoded lines (bytes)
cdef PyObject* _pair_candidate_name = NULL
cdef PyObject* _pair_candidate_value = NULL
cdef int _pair_next = 0


cdef inline object _cached_pair(tuple pair):
    """The encoded line of the one-pair list's *pair*, or None."""
    cdef int i
    cdef PyObject* name = PyTuple_GET_ITEM(pair, 0)
    cdef PyObject* value = PyTuple_GET_ITEM(pair, 1)
    for i in range(BLOCK_CACHE):
        if _pair_names[i] == name and _pair_values[i] == value:
            return <object>_pair_lines[i]
    return None


cdef int _remember_pair(Pieces* p, Py_ssize_t first, tuple pair) except -1:
    """*pair* (its piece is p.items[first]) missed the cache: keep its line, the second time."""
    global _pair_candidate_name, _pair_candidate_value, _pair_next
    cdef PyObject* name = PyTuple_GET_ITEM(pair, 0)
    cdef PyObject* value = PyTuple_GET_ITEM(pair, 1)
    cdef PyObject* old
    cdef Piece* piece
    cdef Pieces sub
    if p.count != first + 1:
        return 0
    if name != _pair_candidate_name or value != _pair_candidate_value:
        Py_XINCREF(name)
        Py_XINCREF(value)
        Py_XDECREF(_pair_candidate_name)
        Py_XDECREF(_pair_candidate_value)
        _pair_candidate_name = name
        _pair_candidate_value = value
        return 0
    if not _immutable_pairs((pair,)):
        return 0
    piece = &p.items[first]
    sub.items = piece
    sub.count = 1
    sub.size = piece.name_len + piece.value_len + 4
    lines = PyBytes_FromStringAndSize(NULL, sub.size)
    _put_fields(PyBytes_AS_STRING(lines), &sub)
    Py_XINCREF(name)
    Py_XINCREF(value)
    Py_XINCREF(<PyObject*>lines)
    old = _pair_names[_pair_next]
    _pair_names[_pair_next] = name
    Py_XDECREF(old)
    old = _pair_values[_pair_next]
    _pair_values[_pair_next] = value
    Py_XDECREF(old)
    old = _pair_lines[_pair_next]
    _pair_lines[_pair_next] = <PyObject*>lines
    Py_XDECREF(old)
    _pair_next = (_pair_next + 1) % BLOCK_CACHE
    return 0


cdef int _collect(Pieces* p, object fields) except -1:
    # Same dispatch as the pure twin: a FieldBlock is one piece (checked when it was made), a
    # list or tuple is iterated as pairs, any other Mapping through items(), anything else as
    # an iterable of pairs.
    cdef Piece* piece
    cdef Py_ssize_t first = p.count
    cdef bint constant = False
    cdef object single = None
    if type(fields) is FieldBlock:
        return _add_block(p, (<FieldBlock>fields).encoded)
    if PyTuple_CheckExact(fields):
        if PyTuple_GET_SIZE(fields) == 0:
            return 0
        lines = _cached_block(fields)
        if lines is not None:
            return _add_block(p, <bytes>lines)
        constant = True
    elif PyList_CheckExact(fields):
        if PyList_GET_SIZE(fields) == 1:
            single = <object>PyList_GET_ITEM(fields, 0)
            if PyTuple_CheckExact(single) and PyTuple_GET_SIZE(single) == 2:
                lines = _cached_pair(<tuple>single)
                if lines is not None:
                    return _add_block(p, <bytes>lines)
            else:
                single = None
    else:
        if PyDict_CheckExact(fields):
            fields = fields.items()
        elif not isinstance(fields, (list, tuple)) and isinstance(fields, Mapping):
            fields = fields.items()
    if not p.framing:
        for pair in fields:
            name, value = pair
            _add_field(p, name, value)
    else:
        for pair in fields:
            name, value = pair
            _add_field(p, name, value)
            # APPSEC: framing fields are the server's (the pure twin's module docstring).
            # PERF: a C check of the name's length and letters; Python runs only for the rare
            # application field that names a framing field.
            piece = &p.items[p.count - 1]
            if _framing_kind(<const unsigned char*>piece.name, piece.name_len):
                _drop_framing(p)
                constant = False   # not kept: what it writes depends on the response
                single = None
    if constant:
        _remember_block(p, first, <tuple>fields)
    elif single is not None:
        _remember_pair(p, first, <tuple>single)
    return 0


cdef int _add_block(Pieces* p, bytes encoded) except -1:
    """A FieldBlock's serialized lines as one piece: ``value_len`` -1 marks it (copied as is)."""
    cdef Piece* piece
    if p.count == p.capacity:
        _pieces_grow(p)
    piece = &p.items[p.count]
    Py_XINCREF(<PyObject*>encoded)
    piece.name_ref = <PyObject*>encoded
    piece.value_ref = NULL
    piece.name = PyBytes_AS_STRING(encoded)
    piece.name_len = PyBytes_GET_SIZE(encoded)
    piece.value = NULL
    piece.value_len = -1
    p.count += 1
    p.size += piece.name_len
    return 0


cdef class FieldBlock:
    """Header fields that do not change from one response to the next, checked and serialized
    once (the pure twin's ``FieldBlock`` is the specification: same bytes, same errors)."""

    cdef readonly tuple fields
    cdef readonly bytes encoded

    def __init__(self, fields):
        cdef Pieces p
        if not isinstance(fields, (list, tuple)) and isinstance(fields, Mapping):
            fields = fields.items()
        pairs = tuple([(name, value) for name, value in fields])
        _pieces_init(&p)
        p.framing = True   # no Content-Length to agree with: p.length stays -1
        try:
            _collect(&p, pairs)
            out = PyBytes_FromStringAndSize(NULL, p.size)
            _put_fields(PyBytes_AS_STRING(out), &p)
        finally:
            _pieces_release(&p)
        self.encoded = out
        self.fields = pairs

    def __iter__(self):
        return iter(self.fields)

    def __len__(self):
        return len(self.fields)

    def __getitem__(self, index):
        return self.fields[index]

    def __repr__(self):
        return f"FieldBlock({list(self.fields)!r})"


# --- assembly -------------------------------------------------------------------------------------

cdef inline char* _put(char* dst, const char* src, Py_ssize_t n) noexcept nogil:
    memcpy(dst, src, n)
    return dst + n


cdef inline char* _put_fields(char* dst, Pieces* p) noexcept nogil:
    cdef Py_ssize_t i
    cdef Piece* piece
    for i in range(p.count):
        piece = &p.items[i]
        if piece.value_len < 0:   # a FieldBlock's lines (_add_block)
            dst = _put(dst, piece.name, piece.name_len)
            continue
        dst = _put(dst, piece.name, piece.name_len)
        dst[0] = b':'
        dst[1] = b' '
        dst = _put(dst + 2, piece.value, piece.value_len)
        dst[0] = b'\r'
        dst[1] = b'\n'
        dst += 2
    return dst


cdef struct Head:
    long code
    bint date
    const char* server        # NULL: no Server field
    Py_ssize_t server_len
    const char* length        # decimal Content-Length digits, NULL: none
    Py_ssize_t length_len
    bint chunked              # Transfer-Encoding: chunked (already filtered by status)
    bint keep_alive
    bint http_1_0
    const char* body
    Py_ssize_t body_len


# Literal pieces and their lengths.
cdef const char* K_SERVER = b"Server: "                          # 8
cdef const char* K_LENGTH = b"Content-Length: "                  # 16
cdef const char* K_CHUNKED = b"Transfer-Encoding: chunked\r\n"   # 28
cdef const char* K_CLOSE = b"Connection: close\r\n"              # 19
cdef const char* K_KEEP_ALIVE = b"Connection: keep-alive\r\n"    # 24


cdef object _assemble(Head* h, Pieces* p):
    """One allocation of the exact size, then memcpy of every piece in wire order."""
    line = _status_line(h.code)
    date_line = _date_field() if h.date else None
    cdef Py_ssize_t n = PyBytes_GET_SIZE(line) + p.size + 2 + h.body_len
    if date_line is not None:
        n += PyBytes_GET_SIZE(date_line)
    if h.server is not NULL:
        n += 8 + h.server_len + 2
    if h.length is not NULL:
        n += 16 + h.length_len + 2
    elif h.chunked:
        n += 28
    if not h.keep_alive:
        n += 19
    elif h.http_1_0:
        n += 24
    out = PyBytes_FromStringAndSize(NULL, n)
    cdef char* dst = PyBytes_AS_STRING(out)
    dst = _put(dst, PyBytes_AS_STRING(line), PyBytes_GET_SIZE(line))
    if date_line is not None:
        dst = _put(dst, PyBytes_AS_STRING(date_line), PyBytes_GET_SIZE(date_line))
    if h.server is not NULL:
        dst = _put(dst, K_SERVER, 8)
        dst = _put(dst, h.server, h.server_len)
        dst = _put(dst, b"\r\n", 2)
    dst = _put_fields(dst, p)
    if h.length is not NULL:
        dst = _put(dst, K_LENGTH, 16)
        dst = _put(dst, h.length, h.length_len)
        dst = _put(dst, b"\r\n", 2)
    elif h.chunked:
        dst = _put(dst, K_CHUNKED, 28)
    if not h.keep_alive:
        dst = _put(dst, K_CLOSE, 19)
    elif h.http_1_0:
        # RFC 9112 §9.3: an HTTP/1.0 connection persists only when the response says keep-alive.
        dst = _put(dst, K_KEEP_ALIVE, 24)
    dst = _put(dst, b"\r\n", 2)
    if h.body_len:
        _put(dst, h.body, h.body_len)
    return out


cdef inline Py_ssize_t _digits(char* buf, unsigned long long value) noexcept nogil:
    """Write *value* in decimal at the end of ``buf[24]``; return the index of the first digit."""
    cdef Py_ssize_t i = 24
    while True:
        i -= 1
        buf[i] = <char>(48 + value % 10)
        value //= 10
        if value == 0:
            return i


cdef inline bint _bodiless(long code) noexcept nogil:
    # RFC 9110 §8.6 / RFC 9112 §6.1: 1xx and 204 never carry Content-Length or Transfer-Encoding.
    return code < 200 or code == 204


def write_fields(fields):
    """``name: value\\r\\n`` for each ``(name, value)`` pair, in order, validated."""
    cdef Pieces p
    _pieces_init(&p)
    try:
        _collect(&p, fields)
        out = PyBytes_FromStringAndSize(NULL, p.size)
        _put_fields(PyBytes_AS_STRING(out), &p)
        return out
    finally:
        _pieces_release(&p)


def write_head(status, fields=(), *, content_length=None, bint chunked=False,
               bint keep_alive=True, bint http_1_0=False, bint date=True, server=None):
    """The response head: status line, ``Date``, ``Server``, *fields*, framing, ``Connection``."""
    cdef Head h
    cdef Pieces p
    cdef char digits[24]
    cdef Py_ssize_t first
    cdef long long length = -1
    cdef int overflow = 0
    big_length = None
    h.code = _check_status(status)
    if content_length is not None:
        if not PyLong_Check(content_length):
            raise TypeError(
                f"content_length must be an int, not {type(content_length).__name__}")
        length = PyLong_AsLongLongAndOverflow(content_length, &overflow)
        if overflow < 0 or (overflow == 0 and length < 0):
            raise ValueError(f"negative content_length: {content_length!r}")
        if overflow > 0:
            big_length = b"%d" % content_length   # NOTE: absurd but valid; format as Python does
    if chunked and content_length is not None:
        # RFC 9112 §6.2: never Content-Length with Transfer-Encoding (a smuggling vector).
        raise ValueError("content_length and chunked are mutually exclusive")
    if chunked and http_1_0:
        # RFC 9112 §6.1: no Transfer-Encoding to an HTTP/1.0 client; the body is close-delimited.
        raise ValueError("an HTTP/1.0 response cannot use chunked transfer coding")
    h.date = date
    h.server = NULL
    h.server_len = 0
    h.length = NULL
    h.length_len = 0
    h.chunked = False
    h.keep_alive = keep_alive
    h.http_1_0 = http_1_0
    h.body = NULL
    h.body_len = 0
    if server is not None:
        _field_value(server, &h.server, &h.server_len, "server")
    if content_length is not None:
        if not _bodiless(h.code):
            if big_length is not None:
                h.length = PyBytes_AS_STRING(big_length)
                h.length_len = PyBytes_GET_SIZE(big_length)
            else:
                first = _digits(digits, <unsigned long long>length)
                h.length = digits + first
                h.length_len = 24 - first
    elif chunked:
        # RFC 9112 §6.1: never in a 1xx or 204; left out of a 304 as well (as the pure twin).
        h.chunked = not _bodiless(h.code) and h.code != 304
    _pieces_init(&p)
    p.framing = True
    if h.length is not NULL:
        # The server's Content-Length, for the framing rule (else none: -1, as initialised).
        p.length = length
        if big_length is not None:
            p.big_length = <PyObject*>content_length
    try:
        _collect(&p, fields)
        return _assemble(&h, &p)
    finally:
        _pieces_release(&p)


cpdef object write_response(status, fields, body, bint keep_alive=True, bint http_1_0=False,
                            bint head=False, bint date=True, server=None):
    """A whole response in one bytes object: the head with ``Content-Length`` and *body*.

    PERF: cpdef (writer.pxd), so the compiled connection core calls it as a C function, with no
    argument tuple or parsing (issue 17). A str *body* is copied as its UTF-8 straight into the
    response (PERF, issue 17: a text route's answer without a bytes object of its own; callgrind,
    plaintext: ~150 instructions per request): CPython's own UTF-8 of the str, which for an
    ASCII str is its data (a non-ASCII one keeps the UTF-8 it computes, as PyUnicode_AsUTF8
    does for any caller)."""
    cdef Head h
    cdef Pieces p
    cdef Py_buffer view
    cdef bint have_view = False
    cdef char digits[24]
    cdef Py_ssize_t first
    cdef long long length
    cdef Py_ssize_t size
    h.code = _check_status(status)
    if h.code < 200:
        _not_final(h.code)
    if PyBytes_CheckExact(body):
        h.body = PyBytes_AS_STRING(body)
        h.body_len = PyBytes_GET_SIZE(body)
    elif PyUnicode_Check(body):
        h.body = PyUnicode_AsUTF8AndSize(body, &size)  # UnicodeEncodeError for a lone surrogate
        h.body_len = size
    else:
        # Any C-contiguous buffer (bytearray, memoryview, ...); PyBUF_SIMPLE refuses the rest
        # with BufferError, as the pure twin does.
        PyObject_GetBuffer(body, &view, PyBUF_SIMPLE)
        have_view = True
        h.body = <const char*>view.buf
        h.body_len = view.len
    try:
        h.date = date
        h.server = NULL
        h.server_len = 0
        h.chunked = False
        h.keep_alive = keep_alive
        h.http_1_0 = http_1_0
        if server is not None:
            _field_value(server, &h.server, &h.server_len, "server")
        length = h.body_len   # the server's Content-Length, for the framing rule
        if _bodiless(h.code) or h.code == 304:
            # RFC 9110 §6.4.1: 1xx, 204 and 304 have no content, hence no Content-Length.
            h.length = NULL
            h.length_len = 0
            h.body_len = 0
            length = -1
        else:
            first = _digits(digits, <unsigned long long>h.body_len)
            h.length = digits + first
            h.length_len = 24 - first
            if head:
                # RFC 9110 §9.3.2: HEAD gets the GET's Content-Length and no content.
                h.body_len = 0
        _pieces_init(&p)
        p.framing = True
        p.length = length
        try:
            _collect(&p, fields)
            return _assemble(&h, &p)
        finally:
            _pieces_release(&p)
    finally:
        if have_view:
            PyBuffer_Release(&view)
