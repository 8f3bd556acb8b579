# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The HTTP/1.1 request parser, compiled twin of ``fasthttp/_pure/parser.py``.

The pure twin is the specification: its module docstring states the strictness rules (RFC 9112)
and the event model, and this file follows it rule for rule and in the same order, so both raise
the same error for the same bytes (tests/test_parity.py feeds both every split of a corpus).

What differs is how the bytes are walked:
- PERF: when nothing is buffered, :meth:`RequestParser.feed` parses straight from the caller's
  ``bytes`` and copies only an incomplete tail into its own buffer; a whole request (or 16
  pipelined ones) in one read is never copied (benchmarks/bench_parser.py).
- Lines are found with ``memchr`` and validated with 256-entry tables.
- Header fields are validated in place by ``headers.parse_field`` and indexed by offset; the head
  is copied once into the bytes object the :class:`~fasthttp.headers.Headers` view indexes.
- The chunked decoder (chunked.pyx) runs over the same buffer through its C interface.
"""

cimport cython
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.unicode cimport PyUnicode_DATA, PyUnicode_InternFromString, PyUnicode_DecodeASCII, PyUnicode_DecodeLatin1, PyUnicode_GET_LENGTH
from libc.string cimport memchr, memcmp, memcpy, memmove

from fasthttp._speedups._http1 cimport (
    LINE_BARE_LF,
    LINE_END,
    LINE_OBS_FOLD,
    LINE_TOO_LARGE,
    LINE_TOO_MANY,
    FieldIndex,
    buffer_append,
    ListScan,
    field_line,
    find_byte,
    is_token,
    partial_length,
    scan_next,
    scan_reset,
    section_overflows,
)
from fasthttp._speedups.chunked cimport ChunkedDecoder, EndOfMessage
from fasthttp._speedups.headers cimport (
    H_CONNECTION,
    H_CONTENT_LENGTH,
    H_EXPECT,
    H_HOST,
    H_TRANSFER_ENCODING,
    H_UPGRADE,
    Field,
    Headers,
    fh_tchar,
    headers_new,
)

from fasthttp.errors import (
    BadRequest,
    ContentTooLarge,
    HeaderFieldsTooLarge,
    HttpProtocolError,
    HttpVersionNotSupported,
    TransferCodingNotImplemented,
    UriTooLong,
)

__all__ = ("RequestParser", "RequestHead", "EndOfMessage")
# NOTE: a cimported type is not a module attribute; re-export it as the pure twin does.
globals()["EndOfMessage"] = EndOfMessage

cdef enum:
    ST_HEAD = 0
    ST_BODY = 1
    ST_CHUNKED = 2
    ST_PAUSED = 3
    ST_CLOSED = 4
    ST_FAILED = 5
    MAX_LEADING_CRLF = 16
    MAX_CL_DIGITS = 18
    CHUNK_DONE = 4  # chunked.pyx S_DONE
    # A head indexes into the caller's bytes only when that read is at most this large, so a
    # request cannot pin a big read (say, head + body) for its lifetime; larger reads are copied.
    SHARE_LIMIT = 16384
    HEAD_CACHE_MAX = 2048   # longest head kept by the head cache (_cache_head)

cdef extern from *:
    """
    /* Request-target bytes: visible ASCII except '#', and obs-text (RFC 9112 §3.2). */
    static inline int fp_target_ok(unsigned char c) { return c > 0x20 && c != 0x7f && c != '#'; }
    static inline int fp_target_all_ok(const unsigned char *p, Py_ssize_t n) {
        Py_ssize_t i = 0, k; uint64_t x;
        for (; i + 8 <= n; i += 8) {   /* SWAR pre-check, as fh_values_ok in headers.pxd */
            memcpy(&x, p + i, 8);
            if (fh_hasless(x, 0x21) | fh_haseq(x, 0x7f) | fh_haseq(x, '#'))
                for (k = 0; k < 8; k++) if (!fp_target_ok(p[i + k])) return 0;
        }
        if (i < n) {   /* the tail as one overlapping or gathered word (headers.pxd fh_gather) */
            if (n >= 8) memcpy(&x, p + n - 8, 8);
            else x = fh_gather(p, n, 0x4141414141414141ULL);
            if (fh_hasless(x, 0x21) | fh_haseq(x, 0x7f) | fh_haseq(x, '#'))
                for (k = i; k < n; k++) if (!fp_target_ok(p[k])) return 0;
        }
        return 1;
    }
    /* RFC 3986 §3.2.2 reg-name bytes: unreserved / sub-delims ("%" is handled apart). */
    static const unsigned char fp_reg_name_table[256] = {
        ['-']=1, ['.']=1, ['_']=1, ['~']=1, ['!']=1, ['$']=1, ['&']=1, ['\\'']=1, ['(']=1, [')']=1,
        ['*']=1, ['+']=1, [',']=1, [';']=1, ['=']=1,
        ['0']=1,['1']=1,['2']=1,['3']=1,['4']=1,['5']=1,['6']=1,['7']=1,['8']=1,['9']=1,
        ['A']=1,['B']=1,['C']=1,['D']=1,['E']=1,['F']=1,['G']=1,['H']=1,['I']=1,['J']=1,['K']=1,
        ['L']=1,['M']=1,['N']=1,['O']=1,['P']=1,['Q']=1,['R']=1,['S']=1,['T']=1,['U']=1,['V']=1,
        ['W']=1,['X']=1,['Y']=1,['Z']=1,
        ['a']=1,['b']=1,['c']=1,['d']=1,['e']=1,['f']=1,['g']=1,['h']=1,['i']=1,['j']=1,['k']=1,
        ['l']=1,['m']=1,['n']=1,['o']=1,['p']=1,['q']=1,['r']=1,['s']=1,['t']=1,['u']=1,['v']=1,
        ['w']=1,['x']=1,['y']=1,['z']=1,
    };
    static inline int fp_reg_name(unsigned char c) { return fp_reg_name_table[c]; }
    static inline int fp_hexdig(unsigned char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }
    """
    bint fp_target_ok(unsigned char c) nogil
    bint fp_target_all_ok(const unsigned char* p, Py_ssize_t n) nogil
    bint fp_reg_name(unsigned char c) nogil
    bint fp_hexdig(unsigned char c) nogil

cdef extern from *:
    """
    #include <stddef.h>
    #include "structmember.h"
    /* expanded where used (after Cython has defined the struct) */
    #define FP_HEAD_OFFSET(f) offsetof(struct __pyx_obj_8fasthttp_9_speedups_6parser_RequestHead, f)
    static int fp_install_member(PyObject *type, PyMemberDef *m) {
        PyObject *d = PyDescr_NewMember((PyTypeObject *)type, m);
        int r;
        if (d == NULL) return -1;
        r = PyDict_SetItemString(((PyTypeObject *)type)->tp_dict, m->name, d);
        Py_DECREF(d);
        PyType_Modified((PyTypeObject *)type);
        return r;
    }
    """
    ctypedef struct PyMemberDef:
        const char* name
        int type
        Py_ssize_t offset
        int flags
        const char* doc
    int T_OBJECT_EX
    int READONLY
    int fp_install_member(object type, PyMemberDef* m) except -1
    Py_ssize_t OFF_METHOD "FP_HEAD_OFFSET(method)"
    Py_ssize_t OFF_VERSION "FP_HEAD_OFFSET(version)"
    Py_ssize_t OFF_HEADERS "FP_HEAD_OFFSET(headers)"
    Py_ssize_t OFF_KEEP_ALIVE "FP_HEAD_OFFSET(keep_alive)"
    Py_ssize_t OFF_CONTENT_LENGTH "FP_HEAD_OFFSET(content_length)"
    Py_ssize_t OFF_CHUNKED "FP_HEAD_OFFSET(chunked)"
    Py_ssize_t OFF_EXPECT_CONTINUE "FP_HEAD_OFFSET(expect_continue)"
    Py_ssize_t OFF_HAS_EXPECT "FP_HEAD_OFFSET(has_expect)"
    Py_ssize_t OFF_UPGRADE "FP_HEAD_OFFSET(upgrade)"
    Py_ssize_t OFF_PATH "FP_HEAD_OFFSET(path)"

cdef EndOfMessage _EOM = EndOfMessage()
cdef str M_GET = "GET"
cdef str M_HEAD = "HEAD"
cdef str M_POST = "POST"
cdef str M_PUT = "PUT"
cdef str M_DELETE = "DELETE"
cdef str M_OPTIONS = "OPTIONS"
cdef str M_PATCH = "PATCH"
cdef str M_CONNECT = "CONNECT"
cdef str M_TRACE = "TRACE"
# Interned: the connection core tests a head's version against its own interned "1.1" by
# identity (fasthttp/_core_py/connection.py, _V11; PERF, issue 17). "GET" is interned already
# (an identifier-like literal), so every module's "GET" is M_GET.
cdef str V10 = PyUnicode_InternFromString(b"1.0")
cdef str V11 = PyUnicode_InternFromString(b"1.1")


@cython.no_gc        # holds str, bytes, int and an (acyclic) Headers: never part of a cycle
@cython.freelist(16)
cdef class RequestHead:
    """A request's line and header section, with the framing the parser derived from them.

    ``method`` (str), ``target`` (the raw request-target, bytes), ``path`` and ``query`` (str,
    not percent-decoded; ``query`` without the "?"), ``version`` ("1.0" or "1.1"), ``headers``
    (:class:`~fasthttp.headers.Headers`), ``keep_alive``, ``content_length`` (int or None),
    ``chunked``, ``expect_continue`` and ``upgrade``.
    """

    # The fields (parser.pxd). NOTE: method ... upgrade and path become read-only slot
    # (member) descriptors at import, see _install_members; the flags are stored as the
    # objects True/False for that reason. _target_start/_target_len: the target's offsets into
    # the head's bytes (headers._raw), from which target, path and query are made.

    @property
    def query(self):
        cdef Py_ssize_t q = self._path_end + 1
        if q > self._target_len:
            return ""
        return PyUnicode_DecodeLatin1(_target_ptr(self) + q, self._target_len - q, NULL)

    @property
    def target(self):
        # PERF: made on first use (the router reads the path, not the raw target): no bytes
        # object per request for a field most requests never read (callgrind, issue 17).
        if self._target is None:
            self._target = PyBytes_FromStringAndSize(_target_ptr(self), self._target_len)
        return self._target

    @property
    def has_body(self):
        return self.chunked or bool(self.content_length)

    def __repr__(self):
        return (
            f"<RequestHead {self.method} {self.target!r} HTTP/{self.version} "
            f"keep_alive={self.keep_alive} content_length={self.content_length} chunked={self.chunked}>"
        )


cdef inline const char* _target_ptr(RequestHead head):
    return PyBytes_AS_STRING(head.headers._raw) + head._target_start


cdef inline str _head_path(RequestHead head):
    # An absolute-form target with an empty path means "/" (RFC 9110 §4.2.3); only
    # CONNECT's authority-form has no path at all.
    if head._path_start == head._path_end and head.method is not M_CONNECT:
        return "/"
    return _path_str(_target_ptr(head) + head._path_start, head._path_end - head._path_start)


# PERF: a client asks for the same few paths again and again, and the router hashes the path it
# gets: the str of a recently decoded path is reused when the bytes match (a small direct-mapped
# table), so a repeated path costs one memcmp instead of a decode, a hash and a free
# (callgrind, benchmarks/bench_connection.py: about 350 instructions per request). A str is
# immutable: sharing it is invisible. Long paths are decoded each time.
cdef enum:
    PATH_SLOTS = 64         # a power of two
    PATH_CACHE_MAX = 128    # longest path kept
cdef list _paths = [None] * PATH_SLOTS


cdef inline str _path_str(const char* p, Py_ssize_t n):
    cdef unsigned int h
    cdef object cached
    cdef str s
    if n > PATH_CACHE_MAX:
        return PyUnicode_DecodeLatin1(p, n, NULL)
    h = (<unsigned int>n * 31u + (<unsigned char>p[n - 1]) * 7u + (<unsigned char>p[n >> 1])) & (PATH_SLOTS - 1)
    cached = _paths[h]
    # A str decoded from ISO-8859-1 stores one byte per character, those very bytes.
    if (cached is not None and PyUnicode_GET_LENGTH(cached) == n
            and memcmp(PyUnicode_DATA(cached), p, n) == 0):
        return <str>cached
    s = PyUnicode_DecodeLatin1(p, n, NULL)
    _paths[h] = s
    return s


# PERF: Cython exposes cdef attributes as getset properties, which CPython's attribute cache
# cannot specialize; read-only member descriptors over the same fields get LOAD_ATTR_SLOT, so
# head.method, head.headers, ... cost what a __slots__ attribute costs (bench_parser.py, the
# engine's hot path). The PyMemberDef array must outlive the descriptors: it is static.
cdef PyMemberDef _head_members[10]


cdef int _install_members() except -1:
    cdef const char* names[10]
    cdef Py_ssize_t offsets[10]
    cdef int i
    names[:] = [b"method", b"version", b"headers", b"keep_alive", b"content_length", b"chunked",
                b"expect_continue", b"has_expect", b"upgrade", b"path"]
    offsets[:] = [OFF_METHOD, OFF_VERSION, OFF_HEADERS, OFF_KEEP_ALIVE, OFF_CONTENT_LENGTH,
                  OFF_CHUNKED, OFF_EXPECT_CONTINUE, OFF_HAS_EXPECT, OFF_UPGRADE, OFF_PATH]
    for i in range(10):
        _head_members[i].name = names[i]
        _head_members[i].type = T_OBJECT_EX
        _head_members[i].offset = offsets[i]
        _head_members[i].flags = READONLY
        _head_members[i].doc = NULL
        fp_install_member(RequestHead, &_head_members[i])
    return 0


_install_members()


cdef int _raise_line_error(int r) except -1:
    # how this parser reports each header-section rule a line breaks (_http1.field_line): a 4xx
    if r == LINE_TOO_LARGE:
        raise HeaderFieldsTooLarge("header section too large")
    if r == LINE_BARE_LF:
        raise BadRequest("bare LF in header section")
    if r == LINE_TOO_MANY:
        raise HeaderFieldsTooLarge("too many header fields")
    raise BadRequest("obsolete line folding")


@cython.final  # PERF: direct calls to the cdef methods, no vtable (benchmarks/bench_parser.py)
cdef class RequestParser:
    """Incremental, strict HTTP/1.1 request parser. See ``fasthttp/_pure/parser.py``."""

    # The fields are declared in parser.pxd. PERF: while feed() parses in place from a
    # caller's immutable bytes (of at most SHARE_LIMIT), heads index into that object (_src)
    # instead of a copy (None otherwise): 16 pipelined heads share one buffer and no head is
    # copied (benchmarks/bench_parser.py).

    def __init__(self, *, Py_ssize_t max_request_line=8190, Py_ssize_t max_header_size=32768,
                 Py_ssize_t max_header_count=100, max_body_size=None,
                 Py_ssize_t max_chunk_line=4096, Py_ssize_t max_trailer_size=8192):
        self.max_request_line = max_request_line
        self.max_header_size = max_header_size
        self.max_header_count = max_header_count
        self._max_body = -1 if max_body_size is None else max_body_size
        self.max_chunk_line = max_chunk_line
        self.max_trailer_size = max_trailer_size
        self._state = ST_HEAD
        self._error = None
        self._reset_head()

    def __dealloc__(self):
        PyMem_Free(self._buf)
        PyMem_Free(self._index.fields)
        PyMem_Free(self._hc)
        PyMem_Free(self._hc_fields)

    @property
    def max_body_size(self):
        return None if self._max_body < 0 else self._max_body

    @max_body_size.setter
    def max_body_size(self, value):
        self._max_body = -1 if value is None else value

    cdef void _reset_head(self) noexcept:
        self._line_start = 0
        self._head = None
        self._index.count = 0
        self._index.size = 0
        self._leading = 0
        self._remaining = 0
        self._chunked = None
        self._current = None

    # -- public interface ------------------------------------------------------------------

    @property
    def paused(self):
        """True after an upgrade or CONNECT request, until :meth:`resume` or :meth:`take_unparsed`."""
        return self._state == ST_PAUSED

    @property
    def closed(self):
        """True once a request ended the connection; later bytes are ignored."""
        return self._state == ST_CLOSED

    @property
    def buffered(self):
        """Bytes received but not yet turned into events (see the pure twin)."""
        return self._len

    cpdef list feed(self, data):
        cdef Py_buffer view
        cdef list events = []
        cdef Py_ssize_t pos
        if self._state == ST_FAILED:
            self._error.events = []
            raise self._error
        if self._state == ST_CLOSED:
            return events
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        try:
            if self._state == ST_PAUSED:
                self._append(<const unsigned char*>view.buf, view.len)
                return events
            if self._len == 0:
                # PERF: parse in place from the caller's buffer; keep only the incomplete tail.
                if type(data) is bytes and view.len <= SHARE_LIMIT:
                    self._src = <bytes>data
                try:
                    pos = self._guarded_run(<const unsigned char*>view.buf, view.len, events)
                finally:
                    self._src = None
                if self._state != ST_CLOSED and pos < view.len:
                    self._append(<const unsigned char*>view.buf + pos, view.len - pos)
                return events
            self._append(<const unsigned char*>view.buf, view.len)
        finally:
            PyBuffer_Release(&view)
        self._run_buffered(events)
        return events

    def resume(self):
        """Continue parsing HTTP after a declined upgrade; return the events already buffered."""
        cdef list events = []
        if self._state != ST_PAUSED:
            return events
        self._state = ST_HEAD
        self._run_buffered(events)
        return events

    def limit_body(self, max_body_size):
        """Apply *max_body_size* (a route's limit) to the chunked body being read; raise
        ``ContentTooLarge`` at once if the chunk sizes announced so far pass it (pure twin)."""
        if self._chunked is not None:
            self._chunked.limit(max_body_size)

    def take_unparsed(self):
        """Hand over every byte after the upgrade request and stop parsing for good."""
        cdef bytes data = PyBytes_FromStringAndSize(<const char*>self._buf, self._len)
        self._len = 0
        self._state = ST_CLOSED
        return data

    # -- buffer ---------------------------------------------------------------------------------

    cdef int _append(self, const unsigned char* p, Py_ssize_t n) except -1:
        return buffer_append(&self._buf, &self._len, &self._cap, p, n)

    cdef int _run_buffered(self, list events) except -1:
        cdef Py_ssize_t pos = self._guarded_run(self._buf, self._len, events)
        if self._state == ST_CLOSED or self._state == ST_FAILED:
            self._len = 0
        elif pos:
            memmove(self._buf, self._buf + pos, self._len - pos)
            self._len -= pos
        return 0

    cdef Py_ssize_t _guarded_run(self, const unsigned char* buf, Py_ssize_t end, list events) except -1:
        try:
            return self._run(buf, end, events)
        except HttpProtocolError as exc:
            self._state = ST_FAILED
            self._error = exc
            self._len = 0
            exc.events = events
            raise

    # -- the state machine ---------------------------------------------------------------------

    cdef Py_ssize_t _run(self, const unsigned char* buf, Py_ssize_t end, list events) except -1:
        cdef Py_ssize_t pos = 0, take
        cdef bint done
        while True:
            if self._state == ST_HEAD:
                # PERF: nothing left after a message (the common end of a read): _parse_head
                # would find no line and change nothing (~60 instructions per read, callgrind).
                if pos >= end:
                    break
                done = False
                pos = self._parse_head(buf, pos, end, events, &done)
                if not done:
                    break
            elif self._state == ST_BODY:
                if pos >= end:
                    break
                take = end - pos
                if <unsigned long long>take > self._remaining:
                    take = <Py_ssize_t>self._remaining
                events.append(PyBytes_FromStringAndSize(<const char*>buf + pos, take))
                pos += take
                self._remaining -= take
                if self._remaining == 0:
                    events.append(_EOM)
                    self._end_message()
            elif self._state == ST_CHUNKED:
                # the decoder appends the EndOfMessage (with the trailers) itself
                pos = self._chunked.decode(buf, pos, end, events)
                if self._chunked._state != CHUNK_DONE:
                    break
                self._end_message()
            else:
                break
        return pos

    cdef Py_ssize_t _parse_head(self, const unsigned char* buf, Py_ssize_t pos, Py_ssize_t end,
                                list events, bint* done) except -1:
        cdef Py_ssize_t start = pos + self._line_start, lf, length
        cdef int r
        while True:
            # PERF: the head cache (_cache_head): a keep-alive client's head repeats the last
            # one byte for byte, so all of it is compared at once before any line is scanned.
            if (self._head is None and self._hc_len and end - start >= self._hc_len
                    and memcmp(buf + start, self._hc, self._hc_len) == 0 and self._hc_usable()):
                done[0] = True
                return self._take_cached(buf, start, start + self._hc_rl, None, events)
            lf = find_byte(buf, start, end, 10)
            if lf < 0:
                self._check_partial(buf, start, end)
                self._line_start = start - pos
                return pos
            # Without its line end, CRLF or a bare LF (refused below, after the length, as an
            # incomplete line is measured: the same error at every split).
            length = lf - start - (1 if lf > start and buf[lf - 1] == 13 else 0)
            if self._head is None:
                if length == 0 and buf[start] == 13:  # an empty line before the request-line
                    self._leading += 1
                    if self._leading > MAX_LEADING_CRLF:
                        raise BadRequest("too many empty lines before the request-line")
                    start = pos = lf + 1
                    continue
                if length > self.max_request_line:
                    raise UriTooLong("request line too long")
                if lf == start or buf[lf - 1] != 13:
                    raise BadRequest("bare LF in request line")
                self._request_line(buf, start, lf - 1)
                self._rl_len = lf + 1 - pos
                # PERF: a new request-line before the last head's field section (another path,
                # same client): the section is compared at once, as in the pure twin.
                if (self._hc_len and end - lf - 1 >= self._hc_len - self._hc_rl
                        and self._head.method is not M_CONNECT
                        and self._head.version is self._hc_head.version
                        and memcmp(buf + lf + 1, self._hc + self._hc_rl, self._hc_len - self._hc_rl) == 0
                        and self._hc_usable()):
                    done[0] = True
                    return self._take_cached(buf, pos, lf + 1, self._head, events)
            else:
                r = field_line(&self._index, buf, start, lf, pos, self.max_header_size, self.max_header_count)
                if r:
                    if r == LINE_END:
                        self._line_start = 0
                        self._end_of_head(buf, pos, lf + 1, events)
                        done[0] = True
                        return lf + 1
                    _raise_line_error(r)
            start = lf + 1

    cdef int _check_partial(self, const unsigned char* buf, Py_ssize_t start, Py_ssize_t end) except -1:
        # Refuse an over-long line before it completes, as its complete form would be refused.
        cdef Py_ssize_t partial = partial_length(buf, start, end)
        if self._head is None:
            if partial > self.max_request_line:
                raise UriTooLong("request line too long")
        elif section_overflows(self._index.size, partial, self.max_header_size):
            _raise_line_error(LINE_TOO_LARGE)
        return 0

    cdef int _request_line(self, const unsigned char* buf, Py_ssize_t s, Py_ssize_t e) except -1:
        cdef Py_ssize_t sp1 = find_byte(buf, s, e, 32), sp2 = -1, i, n
        cdef const unsigned char* v
        cdef RequestHead head
        if sp1 > s:
            sp2 = find_byte(buf, sp1 + 1, e, 32)
        if sp1 <= s or sp2 < 0:
            raise BadRequest("malformed request line")
        for i in range(s, sp1):
            if not fh_tchar[buf[i]]:
                raise BadRequest("invalid character in method")
        if sp2 == sp1 + 1:
            raise BadRequest("empty request target")
        if not fp_target_all_ok(buf + sp1 + 1, sp2 - sp1 - 1):
            raise BadRequest("invalid character in request target")
        # HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3)
        v = buf + sp2 + 1
        if (e - sp2 - 1 != 8 or memcmp(v, b"HTTP/", 5) != 0 or v[6] != 46
                or not (48 <= v[5] <= 57) or not (48 <= v[7] <= 57)):
            raise BadRequest("malformed HTTP version")
        if v[5] != 49:
            raise HttpVersionNotSupported("only HTTP/1.x is supported")
        head = RequestHead.__new__(RequestHead)
        head.method = _method(buf + s, sp1 - s)
        head._target_start = sp1 + 1 - s  # the head's bytes start at the request-line
        head._target_len = sp2 - sp1 - 1
        head.version = V10 if v[7] == 48 else V11
        _split_target(head, buf + sp1 + 1)
        self._head = head
        return 0

    cdef int _end_of_head(self, const unsigned char* buf, Py_ssize_t head_start, Py_ssize_t head_end,
                          list events) except -1:
        cdef RequestHead head = self._head
        cdef bint http11 = head.version is V11
        cdef bytes raw
        cdef Py_ssize_t base = 0
        if self._src is not None:
            raw = self._src  # buf is this object's own storage: index it, copy nothing
            base = head_start
        else:
            raw = PyBytes_FromStringAndSize(<const char*>buf + head_start, head_end - head_start)
        cdef const unsigned char* r = <const unsigned char*>PyBytes_AS_STRING(raw) + base
        cdef Headers headers = headers_new(raw, self._index.fields, self._index.count, base)
        cdef Field* f
        cdef Py_ssize_t i, j, n_host = 0, n_cl = 0, n_te = 0, host_i = -1, cl_i = -1, expect_i = -1
        cdef Py_ssize_t n_codings = 0, n_chunked = 0
        cdef bint last_chunked = False, has_upgrade = False
        cdef bint conn_close = False, conn_keep_alive = False, conn_upgrade = False
        cdef unsigned long long cl = 0
        cdef ListScan scan
        for i in range(self._index.count):
            f = &self._index.fields[i]
            if f.known == H_HOST:
                n_host += 1
                host_i = i
            elif f.known == H_CONTENT_LENGTH:
                n_cl += 1
                cl_i = i
            elif f.known == H_TRANSFER_ENCODING:
                n_te += 1
            elif f.known == H_CONNECTION:
                scan_reset(&scan, r, f.value_start, f.value_len)
                while scan_next(&scan):
                    if is_token(r + scan.start, scan.n, "close", 5):
                        conn_close = True
                    elif is_token(r + scan.start, scan.n, "keep-alive", 10):
                        conn_keep_alive = True
                    elif is_token(r + scan.start, scan.n, "upgrade", 7):
                        conn_upgrade = True
            elif f.known == H_EXPECT:
                if expect_i < 0:
                    expect_i = i
            elif f.known == H_UPGRADE:
                has_upgrade = True

        # RFC 9112 §3.2: exactly one Host in HTTP/1.1; at most one, well-formed, in any version.
        if n_host > 1:
            raise BadRequest("more than one Host field")
        if n_host == 0 and http11:
            raise BadRequest("HTTP/1.1 request without Host")
        # An empty Host is allowed (RFC 9112 §3.2); anything else must be uri-host [":" port].
        if n_host:
            f = &self._index.fields[host_i]
            if f.value_len and not _host_ok(r + f.value_start, f.value_len):
                raise BadRequest("invalid Host field value")

        content_length = None
        if n_te:
            # RFC 9112 §6.1: a Transfer-Encoding in an HTTP/1.0 message means faulty framing.
            if not http11:
                raise BadRequest("Transfer-Encoding in an HTTP/1.0 request")
            # RFC 9112 §6.3 (3): TE with CL is a smuggling attempt; refuse rather than guess.
            if n_cl:
                raise BadRequest("both Transfer-Encoding and Content-Length")
            for i in range(self._index.count):
                f = &self._index.fields[i]
                if f.known != H_TRANSFER_ENCODING:
                    continue
                scan_reset(&scan, r, f.value_start, f.value_len)
                while scan_next(&scan):
                    for j in range(scan.start, scan.start + scan.n):
                        if not fh_tchar[r[j]]:
                            raise BadRequest("invalid transfer coding")
                    n_codings += 1
                    last_chunked = is_token(r + scan.start, scan.n, "chunked", 7)
                    n_chunked += last_chunked
            # RFC 9112 §6.3 (4): chunked must be the final coding, and applied once (§7).
            if n_codings == 0 or not last_chunked or n_chunked > 1:
                raise BadRequest("Transfer-Encoding must end with a single chunked")
            if n_codings > 1:
                raise TransferCodingNotImplemented("unsupported transfer coding")
        elif n_cl:
            # RFC 9112 §6.3 (5): one Content-Length of 1*DIGIT, even if repeated values agree.
            if n_cl > 1:
                raise BadRequest("more than one Content-Length field")
            f = &self._index.fields[cl_i]
            if f.value_len == 0:
                raise BadRequest("invalid Content-Length")
            for j in range(f.value_start, f.value_start + f.value_len):
                if not (48 <= r[j] <= 57):
                    raise BadRequest("invalid Content-Length")
            # 1*DIGIT allows leading zeros: cap the significant digits, not the spelling (as
            # the pure twin's lstrip).
            j = f.value_start
            while j < f.value_start + f.value_len and r[j] == 48:
                j += 1
            if f.value_start + f.value_len - j > MAX_CL_DIGITS:
                raise ContentTooLarge("Content-Length too large")
            for j in range(j, f.value_start + f.value_len):
                cl = cl * 10 + (r[j] - 48)
            if self._max_body >= 0 and cl > <unsigned long long>self._max_body:
                raise ContentTooLarge("Content-Length exceeds the limit")
            content_length = cl

        # RFC 9110 §9.3.6: a CONNECT request has no content; a body here would be read as tunnel
        # data by a proxy and as a request body by us.
        if head.method is M_CONNECT and (n_te or cl):
            raise BadRequest("CONNECT request with content")

        # RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive".
        head._target_start += base   # origin-form's target: made on first use (RequestHead.target)
        head.keep_alive = bool((not conn_close) if http11 else (conn_keep_alive and not conn_close))
        head.headers = headers
        # PERF: the path is a field, made here (a cached str, _path_str), not a property: every
        # router reads it, the compiled core as a struct member and interpreted code through a
        # member descriptor, ~100 instructions less per look-up (callgrind, issue 17).
        head.path = _head_path(head)
        head.content_length = content_length
        head.chunked = n_te > 0
        head.expect_continue = False
        head.has_expect = expect_i >= 0
        # RFC 9110 §10.1.1: ignore 100-continue in an HTTP/1.0 request.
        if http11 and expect_i >= 0:
            f = &self._index.fields[expect_i]
            head.expect_continue = bool(is_token(r + f.value_start, f.value_len, "100-continue", 12))
        # RFC 9110 §7.8: Upgrade in an HTTP/1.0 request is ignored.
        head.upgrade = bool(head.method is M_CONNECT or (http11 and conn_upgrade and has_upgrade))
        # (a head after which the connection closes or leaves HTTP has no next head to match)
        if (not n_te and head.method is not M_CONNECT and head_end - head_start <= HEAD_CACHE_MAX
                and head.keep_alive is True and head.upgrade is False):
            self._cache_head(buf, head_start, head_end, head, cl)
        events.append(head)
        self._current = head
        if n_te:
            self._chunked = ChunkedDecoder(
                max_chunk_line=self.max_chunk_line,
                max_trailer_size=self.max_trailer_size,
                max_trailer_count=self.max_header_count,
                max_body_size=self.max_body_size,
            )
            self._state = ST_CHUNKED
        elif cl:
            self._remaining = cl
            self._state = ST_BODY
        else:
            events.append(_EOM)
            self._end_message()
        return 0

    # -- the head cache ------------------------------------------------------------------------
    #
    # PERF (issue 17): the events a head gives are a function of its bytes, the parser's limits
    # and, for the framing, of the request-line's version and method: the last head that got
    # neither a chunked body nor CONNECT's tunnel is kept (bytes, field index, a template head
    # holding no Headers, so no read buffer is pinned), and a head equal to it, or a request-line
    # followed by its very field section under the same version, is not validated again: its
    # events are made from the cache, fresh RequestHead and Headers objects over the new bytes,
    # as the full parse would have made them. Callgrind, instructions per feed() of a repeated
    # head (with _run's end-of-bytes stop): wrk's GET 1,953 -> 1,076, a GET with 3 fields
    # 2,579 -> 1,099, a POST with a small Content-Length body 2,906 -> 1,267, bench_parser.py's
    # browser GET 6,886 -> 1,261; a connection's first head pays ~600 more (the copy), a
    # browser-sized one ~1,250. A head that would be refused is never cached, so an equal head
    # cannot be refused either.

    cdef bint _hc_usable(self) noexcept:
        # the limits a cached head was accepted under are still the parser's
        return (self._hc_max_line == self.max_request_line and self._hc_max_size == self.max_header_size
                and self._hc_max_count == self.max_header_count and self._hc_max_body == self._max_body)

    cdef int _cache_head(self, const unsigned char* buf, Py_ssize_t head_start, Py_ssize_t head_end,
                         RequestHead head, unsigned long long cl) except -1:
        cdef Py_ssize_t n = head_end - head_start, i, c, rl = self._rl_len, count = self._index.count
        cdef unsigned char* nb
        cdef Field* nf
        cdef RequestHead t
        # PERF: sizes within CPython's small-object allocator (at most 512 bytes) for the
        # common head, once per connection: a 2 KiB buffer from malloc cost ~700 instructions
        # more on a connection's first request (callgrind).
        if n > self._hc_cap:
            c = 512 if n <= 512 else HEAD_CACHE_MAX
            nb = <unsigned char*>PyMem_Realloc(self._hc, c)
            if nb == NULL:
                raise MemoryError()
            self._hc = nb
            self._hc_cap = c
        if count > self._hc_fcap:
            c = (count + 7) & ~7
            nf = <Field*>PyMem_Realloc(self._hc_fields, c * sizeof(Field))
            if nf == NULL:
                raise MemoryError()
            self._hc_fields = nf
            self._hc_fcap = c
        memcpy(self._hc, buf + head_start, n)
        memcpy(self._hc_fields, self._index.fields, count * sizeof(Field))
        for i in range(count):   # relative to the field section, not to the request-line
            self._hc_fields[i].name_start -= rl
            self._hc_fields[i].value_start -= rl
        t = self._hc_head
        if t is None:
            t = self._hc_head = RequestHead.__new__(RequestHead)
        _copy_line(t, head)
        # relative to the head, as before _end_of_head shifted it into _src
        t._target_start -= head_start if self._src is not None else 0
        _copy_framing(t, head)
        self._hc_len = n
        self._hc_rl = rl
        self._hc_count = count
        self._hc_cl = cl
        self._hc_max_line = self.max_request_line
        self._hc_max_size = self.max_header_size
        self._hc_max_count = self.max_header_count
        self._hc_max_body = self._max_body
        return 0

    cdef Py_ssize_t _take_cached(self, const unsigned char* buf, Py_ssize_t head_start, Py_ssize_t sec_start,
                                 RequestHead head, list events) except -1:
        # The cached head's events over buf[head_start:...]; *head* is the request-line's head
        # when only the field section matched, None when the whole head did.
        cdef RequestHead t = self._hc_head
        cdef Py_ssize_t head_end = sec_start + self._hc_len - self._hc_rl
        cdef bytes raw
        cdef Py_ssize_t base = 0
        if self._src is not None:
            raw = self._src
            base = head_start
        else:
            raw = PyBytes_FromStringAndSize(<const char*>buf + head_start, head_end - head_start)
        if head is None:
            head = RequestHead.__new__(RequestHead)
            _copy_line(head, t)
            head._target_start += base
            head.headers = headers_new(raw, self._hc_fields, self._hc_count, base + sec_start - head_start)
            self._head = head
        else:
            head._target_start += base
            head.headers = headers_new(raw, self._hc_fields, self._hc_count, base + sec_start - head_start)
            head.path = _head_path(head)
        _copy_framing(head, t)
        self._line_start = 0
        events.append(head)
        self._current = head
        if self._hc_cl:
            self._remaining = self._hc_cl
            self._state = ST_BODY
        else:
            events.append(_EOM)
            self._end_message()
        return head_end

    cdef void _end_message(self) noexcept:
        cdef RequestHead head = self._current
        self._reset_head()
        if head.upgrade is True:
            self._state = ST_PAUSED
        elif head.keep_alive is False:
            self._state = ST_CLOSED
        else:
            self._state = ST_HEAD


cdef inline void _copy_line(RequestHead dst, RequestHead src) noexcept:
    # what a head takes from its request-line (the head cache's template, and back)
    dst.method = src.method
    dst.version = src.version
    dst._target_start = src._target_start
    dst._target_len = src._target_len
    dst._path_start = src._path_start
    dst._path_end = src._path_end
    dst.path = src.path


cdef inline void _copy_framing(RequestHead dst, RequestHead src) noexcept:
    # what a head's field section decides (the head cache's template, and back)
    dst.keep_alive = src.keep_alive
    dst.content_length = src.content_length
    dst.chunked = src.chunked
    dst.expect_continue = src.expect_continue
    dst.has_expect = src.has_expect
    dst.upgrade = src.upgrade


cdef str _method(const unsigned char* p, Py_ssize_t n):
    # PERF: the common methods are shared str objects, not decoded per request.
    if n == 3:
        if memcmp(p, b"GET", 3) == 0:
            return M_GET
        if memcmp(p, b"PUT", 3) == 0:
            return M_PUT
    elif n == 4:
        if memcmp(p, b"POST", 4) == 0:
            return M_POST
        if memcmp(p, b"HEAD", 4) == 0:
            return M_HEAD
    elif n == 6 and memcmp(p, b"DELETE", 6) == 0:
        return M_DELETE
    elif n == 7:
        if memcmp(p, b"OPTIONS", 7) == 0:
            return M_OPTIONS
        if memcmp(p, b"CONNECT", 7) == 0:
            return M_CONNECT
    elif n == 5:
        if memcmp(p, b"PATCH", 5) == 0:
            return M_PATCH
        if memcmp(p, b"TRACE", 5) == 0:
            return M_TRACE
    return PyUnicode_DecodeASCII(<const char*>p, n, NULL)


cdef bint _authority_ok(const unsigned char* v, Py_ssize_t n, bint need_port) noexcept nogil:
    """Is ``v[:n]`` ``uri-host [ ":" port ]`` with a non-empty host? As in the pure twin."""
    cdef Py_ssize_t i = 0, end
    cdef const unsigned char* close
    if n and v[0] == 91:  # "[" IP-literal "]"
        close = <const unsigned char*>memchr(v, 93, n)
        if close == NULL or close - v < 2:
            return False
        end = close - v
        for i in range(1, end):
            if not (fp_reg_name(v[i]) or v[i] == 58):
                return False
        i = end + 1
    else:
        while i < n and v[i] != 58:  # ":"
            if v[i] == 37:  # pct-encoded = "%" HEXDIG HEXDIG
                if i + 2 >= n or not fp_hexdig(v[i + 1]) or not fp_hexdig(v[i + 2]):
                    return False
                i += 3
                continue
            if not fp_reg_name(v[i]):
                return False
            i += 1
        if i == 0:
            return False
    if i == n:
        return not need_port
    if v[i] != 58:
        return False
    if need_port and i + 1 == n:
        return False
    for i in range(i + 1, n):
        if not (48 <= v[i] <= 57):
            return False
    return True


# PERF: a keep-alive client sends the same Host on every request: the last well-formed value
# is kept, and a request repeating it skips the byte-by-byte grammar check (a memcmp instead).
cdef enum:
    HOST_CACHE_MAX = 128
cdef unsigned char _last_host[HOST_CACHE_MAX]
cdef Py_ssize_t _last_host_len = -1


cdef bint _host_ok(const unsigned char* v, Py_ssize_t n) noexcept:
    """Is the Host value ``v[:n]`` ``uri-host [ ":" port ]`` (RFC 9112 §3.2)?"""
    global _last_host_len
    if n == _last_host_len and memcmp(v, _last_host, n) == 0:
        return True
    if not _authority_ok(v, n, False):
        return False
    if n <= HOST_CACHE_MAX:
        memcpy(_last_host, v, n)
        _last_host_len = n
    return True


cdef int _split_target(RequestHead head, const unsigned char* t) except -1:
    # RFC 9112 §3.2: origin-form, absolute-form, authority-form (CONNECT), asterisk-form.
    cdef Py_ssize_t n = head._target_len, start, q, colon, sep, slash, qmark
    cdef bytes target
    if t[0] == 47 and head.method is not M_CONNECT:  # origin-form, the hot path
        q = find_byte(t, 0, n, 63)
        head._path_start = 0
        head._path_end = q if q >= 0 else n
        return 0
    # the rarer forms work on a bytes copy, kept as the head's target
    target = PyBytes_FromStringAndSize(<const char*>t, n)
    head._target = target
    if head.method is M_CONNECT:
        # authority-form = uri-host ":" port (RFC 9112 §3.2.3)
        if not _authority_ok(t, n, True):
            raise BadRequest("CONNECT needs an authority-form target")
        head._path_start = head._path_end = n
        return 0
    if t[0] == 47:  # "/"
        start = 0
    elif n == 1 and t[0] == 42:  # "*"
        if head.method is not M_OPTIONS:
            raise BadRequest("asterisk-form is only for OPTIONS")
        head._path_start = 0
        head._path_end = 1
        return 0
    else:
        # absolute-form: scheme "://" authority path-abempty [ "?" query ]
        sep = target.find(b"://")
        scheme = target[:sep].lower() if sep > 0 else b""
        if scheme != b"http" and scheme != b"https":
            raise BadRequest("invalid request target")
        start = sep + 3
        while start < n and t[start] != 47 and t[start] != 63:
            start += 1
        # RFC 9110 §4.2.1: an http(s) URI with an empty host is invalid.
        if not _authority_ok(t + sep + 3, start - sep - 3, False):
            raise BadRequest("invalid authority in request target")
    q = find_byte(t, start, n, 63)
    head._path_start = start
    head._path_end = q if q >= 0 else n
    return 0
