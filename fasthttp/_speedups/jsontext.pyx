# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, embedsignature=True
"""Compact JSON for small simple values: the compiled twin of ``fasthttp/_pure/jsontext.py``.

Strategy: the output is bounded (``MAX_BYTES``), so it is written into a buffer on the C stack
by one recursive pass over the value, and copied once into the ``bytes`` answered; any value the
pure twin refuses makes the pass stop and answer None. The value is read without calling any
Python code (exact types only: ``PyDict_Next``, list items, the ASCII data of a ``str``, the C
value of an ``int``), so it cannot change under the pass. A ``str`` qualifies by the
``PyUnicode_IS_ASCII`` flag and one scan of its bytes for the quote, the backslash and the
control characters (RFC 8259 §7), checked and copied a word at a time.

PERF: callgrind, instructions per call (10,000 calls, the function alone; orjson.dumps in
brackets): the benchmark's ``{"message": "Hello, World!"}`` 469 (832), a flat object of ten
mixed keys 2,442 (2,728), sixteen int values 4,493 (4,777), sixteen str values 4,042 (6,498).
Whole-process ``GET /json`` (tools/cg_server.sh): 10,349 -> 9,548 instructions per request. benchmarks/bench_jsontext.py compares the twins and orjson in time.
"""

from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.dict cimport PyDict_Next
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.object cimport PyObject
from libc.string cimport memcpy

cdef extern from *:
    """
    #include <string.h>

    /* Whether any of the eight ASCII bytes of x must be escaped in a JSON string (RFC 8259 §7):
       a control character (< 0x20), '"' or '\\'. The classic "has a byte less than n" and "has a
       zero byte" tests (exact for bytes < 0x80, as ASCII is: a borrow only follows a match). */
    static inline int fh_json_unsafe8(uint64_t x) {
        const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
        uint64_t q = x ^ (ones * 0x22), b = x ^ (ones * 0x5c);
        return ((((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs) != 0;
    }

    /* Write the k ASCII bytes s as a JSON string at buf + n ("..."), or answer -1 if one needs
       an escape; the caller checked that n + k + 2 fits. Eight bytes at a time, and the tail as
       the last eight (overlapping what was checked); under eight, the first and last four as
       one word; under four, byte by byte. No call: the fixed-size memcpy are plain moves. */
    static inline Py_ssize_t fh_json_put_ascii(char *buf, Py_ssize_t n, const unsigned char *s, Py_ssize_t k) {
        char *out = buf + n + 1;
        Py_ssize_t i;
        uint64_t w;
        uint32_t lo, hi;
        buf[n] = '"';
        if (k >= 8) {
            for (i = 0; i + 8 <= k; i += 8) {
                memcpy(&w, s + i, 8);
                if (fh_json_unsafe8(w)) return -1;
                memcpy(out + i, &w, 8);
            }
            if (i < k) {
                memcpy(&w, s + k - 8, 8);
                if (fh_json_unsafe8(w)) return -1;
                memcpy(out + k - 8, &w, 8);
            }
        } else if (k >= 4) {
            memcpy(&lo, s, 4);
            memcpy(&hi, s + k - 4, 4);
            if (fh_json_unsafe8(((uint64_t)hi << 32) | lo)) return -1;
            memcpy(out, &lo, 4);
            memcpy(out + k - 4, &hi, 4);
        } else {
            for (i = 0; i < k; i++) {
                if (s[i] < 0x20 || s[i] == 0x22 || s[i] == 0x5c) return -1;
                out[i] = (char)s[i];
            }
        }
        out[k] = '"';
        return n + k + 2;
    }

    /* Write the signed 64-bit x in decimal at buf + n, or answer -1 if it does not fit below
       max: the digits are counted first, then written from the last, two at a time. */
    static const char fh_json_digits2[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";
    static inline Py_ssize_t fh_json_put_int(char *buf, Py_ssize_t n, long long x, Py_ssize_t max) {
        unsigned long long u = x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
        unsigned long long p = 10;
        Py_ssize_t k = 1, end;
        char *out;
        while (k < 19 && u >= p) {  /* 10**19 still fits: no overflow */
            p *= 10;
            k++;
        }
        end = n + (x < 0) + k;
        if (end > max) return -1;
        if (x < 0) buf[n] = '-';
        out = buf + end;
        while (u >= 100) {
            unsigned long long r = u % 100;
            u /= 100;
            out -= 2;
            memcpy(out, fh_json_digits2 + 2 * r, 2);
        }
        if (u >= 10) {
            out -= 2;
            memcpy(out, fh_json_digits2 + 2 * u, 2);
        } else {
            *--out = (char)('0' + u);
        }
        return end;
    }
    """
    Py_ssize_t fh_json_put_ascii(char* buf, Py_ssize_t n, const unsigned char* s, Py_ssize_t k) noexcept nogil
    Py_ssize_t fh_json_put_int(char* buf, Py_ssize_t n, long long x, Py_ssize_t max) noexcept nogil

cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object o)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    unsigned char* PyUnicode_1BYTE_DATA(object o)
    Py_ssize_t PyDict_GET_SIZE(object o)

__all__ = ("MAX_ITEMS", "MAX_DEPTH", "MAX_BYTES", "FASTER_THAN_ORJSON", "encode_simple")

cdef enum:
    C_MAX_ITEMS = 16
    C_MAX_DEPTH = 4
    C_MAX_BYTES = 512

MAX_ITEMS = C_MAX_ITEMS
MAX_DEPTH = C_MAX_DEPTH
MAX_BYTES = C_MAX_BYTES
FASTER_THAN_ORJSON = True


cpdef bytes encode_simple(value):
    """*value* as compact JSON bytes if it is simple (see the pure twin), else None."""
    cdef char buf[C_MAX_BYTES]
    cdef Py_ssize_t n = _put(buf, 0, value, 0)
    if n < 0:
        return None
    return PyBytes_FromStringAndSize(buf, n)


# Each writer below takes the buffer and the bytes written so far, and returns the new count,
# or -1 for a refusal (a value not simple, or an output longer than C_MAX_BYTES).

cdef inline Py_ssize_t _put_raw(char* buf, Py_ssize_t n, const char* s, Py_ssize_t k) noexcept:
    if n + k > C_MAX_BYTES:
        return -1
    memcpy(buf + n, s, k)
    return n + k


cdef inline Py_ssize_t _put_str(char* buf, Py_ssize_t n, str s) noexcept:
    cdef Py_ssize_t k
    if not PyUnicode_IS_ASCII(s):
        return -1
    k = PyUnicode_GET_LENGTH(s)
    if n + k + 2 > C_MAX_BYTES:
        return -1
    # PERF: a word at a time, with no call (fh_json_put_ascii): a byte loop cost ~12
    # instructions a character, most of the encoder's cost for the benchmark's answer.
    return fh_json_put_ascii(buf, n, PyUnicode_1BYTE_DATA(s), k)


cdef inline Py_ssize_t _put_int(char* buf, Py_ssize_t n, object v) noexcept:
    cdef int overflow = 0
    cdef long long x = PyLong_AsLongLongAndOverflow(v, &overflow)
    if overflow:
        return -1  # beyond the signed 64-bit range: orjson takes some, the stdlib all
    # PERF: in C, two digits at a time, no call: sixteen int values 5,167 -> 4,493 instructions.
    return fh_json_put_int(buf, n, x, C_MAX_BYTES)


cdef Py_ssize_t _put(char* buf, Py_ssize_t n, object v, int depth) noexcept:
    cdef type t = type(v)
    cdef Py_ssize_t pos = 0, size, i
    cdef PyObject* key
    cdef PyObject* item
    if t is str:
        return _put_str(buf, n, <str>v)
    if t is int:
        return _put_int(buf, n, v)
    if v is True:
        return _put_raw(buf, n, b"true", 4)
    if v is False:
        return _put_raw(buf, n, b"false", 5)
    if v is None:
        return _put_raw(buf, n, b"null", 4)
    if depth == C_MAX_DEPTH:
        return -1
    if t is dict:
        size = PyDict_GET_SIZE(v)
        if size > C_MAX_ITEMS or n + 2 > C_MAX_BYTES:  # room for the braces at least
            return -1
        buf[n] = b'{'
        n += 1
        while PyDict_Next(v, &pos, &key, &item):
            if type(<object>key) is not str:
                return -1
            n = _put_str(buf, n, <str>key)
            if n < 0 or n >= C_MAX_BYTES:
                return -1
            buf[n] = b':'
            n = _put(buf, n + 1, <object>item, depth + 1)
            if n < 0 or n >= C_MAX_BYTES:
                return -1
            buf[n] = b','  # checked room: a closing brace would need this byte anyway
            n += 1
        if size:
            n -= 1  # the last comma becomes the closing brace
        buf[n] = b'}'
        return n + 1
    if t is list:
        size = PyList_GET_SIZE(v)
        if size > C_MAX_ITEMS or n + 2 > C_MAX_BYTES:
            return -1
        buf[n] = b'['
        n += 1
        for i in range(size):
            n = _put(buf, n, <object>PyList_GET_ITEM(v, i), depth + 1)
            if n < 0 or n >= C_MAX_BYTES:
                return -1
            buf[n] = b','
            n += 1
        if size:
            n -= 1
        buf[n] = b']'
        return n + 1
    return -1
