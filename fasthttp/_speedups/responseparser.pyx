# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, binding=False
"""The HTTP/1.1 response parser, compiled twin of ``fasthttp/_pure/responseparser.py``.

The pure twin is the specification: its module docstring states the framing and strictness
rules (RFC 9112 §4-§7) and the event model, and this file follows it rule for rule and in the
same order, so both raise the same error, with the same message, for the same bytes
(tests/test_responseparser.py feeds both every split of its inputs).

What differs is how the bytes are walked, as in the request parser (parser.pyx):
- PERF: when nothing is buffered, :meth:`ResponseParser.feed` parses straight from the caller's
  ``bytes`` and copies only an incomplete tail; a whole small response in one read is never
  copied before its head is indexed (benchmarks/bench_responseparser.py).
- Lines are found with ``memchr``; fields are validated in place by ``headers.parse_field`` and
  indexed by offset; the chunked decoder runs over the same buffer through its C interface.
- PERF: before that general path, ``_index_plain_lines`` takes the plainly valid field lines in
  one pass each (no ``memchr``, the value checked eight bytes at a time up to its CR) and hands
  any other line, and so every error, to the general path; a lone digits-only Content-Length is
  read without the list scan.
- PERF: :class:`ResponseHead`'s attributes are Python objects behind member descriptors, which
  CPython specialises at the caller (its note).
"""

cimport cython
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.mem cimport PyMem_Free
from cpython.unicode cimport PyUnicode_DecodeLatin1
from libc.string cimport memcmp, memcpy, memmove

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
    H_TRANSFER_ENCODING,
    Field,
    Headers,
    fh_haseq,
    fh_hasless,
    fh_tchar,
    headers_new,
    known_id,
    uint64_t,
)

from fasthttp.errors import (
    ContentTooLarge,
    HttpProtocolError,
    IncompleteResponseError,
    ResponseProtocolError,
    ResponseTooLarge,
)

__all__ = ("ResponseParser", "ResponseHead", "EndOfMessage")
# NOTE: a cimported type is not a module attribute; re-export it as the pure twin does.
globals()["EndOfMessage"] = EndOfMessage

cdef enum:
    ST_HEAD = 0
    ST_BODY = 1
    ST_CHUNKED = 2
    ST_UNTIL_CLOSE = 3
    ST_PAUSED = 4
    ST_CLOSED = 5
    ST_FAILED = 6
    ST_HEAD_PAUSED = 7   # pause_after_head: a final head emitted, its content the caller's
    MAX_CL_DIGITS = 18
    CHUNK_DONE = 4  # chunked.pyx S_DONE
    DATA_LIMIT = 256  # errors.ERROR_DATA_LIMIT
    # heads index into the caller's bytes only for reads at most this large (see parser.pyx)
    SHARE_LIMIT = 16384
    FIELDS_CAP = 32  # _http1.field_line's first allocation

cdef EndOfMessage _EOM = EndOfMessage()
# one field array set aside by a parser's __dealloc__ for the next parser (_http1.field_line
# allocates FIELDS_CAP fields first)
cdef Field* _spare_fields = NULL
cdef str V10 = "1.0"
cdef str V11 = "1.1"
cdef str M_HEAD = "HEAD"
cdef str M_CONNECT = "CONNECT"
cdef str R_OK = "OK"


@cython.no_gc        # holds str, int, bool and an (acyclic) Headers: never part of a cycle
@cython.freelist(16)
cdef class ResponseHead:
    """A response's status line and header section, with the framing the parser derived.

    ``status`` (int), ``reason`` (str), ``version`` ("1.0" or "1.1"), ``headers``
    (:class:`~fasthttp.headers.Headers`), ``method`` (of the request it answers),
    ``keep_alive``, ``content_length`` (int or None), ``chunked``, ``until_close`` and
    ``upgrade`` (see the pure twin).
    """

    # PERF: every attribute is a Python object read through a member descriptor installed by
    # _install_members() below, not a Cython property: CPython specialises a read of one in
    # the caller's bytecode (LOAD_ATTR_SLOT) where a property costs a generic look-up and a
    # call per read (bench_responseparser.py, client view: a client reads five per response).
    cdef readonly object status          # int
    cdef readonly str reason
    cdef readonly str version
    cdef readonly Headers headers
    cdef readonly str method
    cdef readonly object keep_alive      # bool
    cdef readonly object content_length  # int or None
    cdef readonly object chunked         # bool
    cdef readonly object until_close     # bool
    cdef readonly object upgrade         # bool
    cdef readonly object body     # the whole content when body_on_head found it; else None
    cdef int _code                # status, for the parser

    @property
    def informational(self):
        """A 1xx other than 101: an interim response; the final one follows (RFC 9110 §15.2)."""
        return self._code < 200 and self._code != 101

    @property
    def has_body(self):
        return self.chunked or self.until_close or bool(self.content_length)

    def __repr__(self):
        return (
            f"<ResponseHead {self.status} {self.reason!r} HTTP/{self.version} "
            f"keep_alive={self.keep_alive} content_length={self.content_length} chunked={self.chunked}>"
        )


cdef extern from *:
    """
    #include <stddef.h>
    #include <structmember.h>
    /* Put a read-only member descriptor over the object slot at `offset` in `type`'s dict, in
       place of Cython's property (see ResponseHead's PERF note); `def` must outlive the type. */
    static int fh_member(PyObject *type, PyMemberDef *def, const char *name, Py_ssize_t offset) {
        PyObject *descr;
        int r;
        def->name = name;
        def->type = T_OBJECT_EX;
        def->offset = offset;
        def->flags = READONLY;
        def->doc = NULL;
        descr = PyDescr_NewMember((PyTypeObject *)type, def);
        if (descr == NULL) return -1;
        r = PyDict_SetItemString(((PyTypeObject *)type)->tp_dict, name, descr);
        Py_DECREF(descr);
        PyType_Modified((PyTypeObject *)type);
        return r;
    }
    /* Cython's name for ResponseHead's object struct (a rename fails the build here). */
    #define FH_HEAD_SLOT(f) ((Py_ssize_t)offsetof(struct __pyx_obj_8fasthttp_9_speedups_14responseparser_ResponseHead, f))
    """
    ctypedef struct PyMemberDef:
        pass
    int fh_member(object type, PyMemberDef* d, const char* name, Py_ssize_t offset) except -1
    const Py_ssize_t SLOT_STATUS "FH_HEAD_SLOT(status)"
    const Py_ssize_t SLOT_REASON "FH_HEAD_SLOT(reason)"
    const Py_ssize_t SLOT_VERSION "FH_HEAD_SLOT(version)"
    const Py_ssize_t SLOT_HEADERS "FH_HEAD_SLOT(headers)"
    const Py_ssize_t SLOT_METHOD "FH_HEAD_SLOT(method)"
    const Py_ssize_t SLOT_KEEP_ALIVE "FH_HEAD_SLOT(keep_alive)"
    const Py_ssize_t SLOT_CONTENT_LENGTH "FH_HEAD_SLOT(content_length)"
    const Py_ssize_t SLOT_CHUNKED "FH_HEAD_SLOT(chunked)"
    const Py_ssize_t SLOT_UNTIL_CLOSE "FH_HEAD_SLOT(until_close)"
    const Py_ssize_t SLOT_UPGRADE "FH_HEAD_SLOT(upgrade)"
    const Py_ssize_t SLOT_BODY "FH_HEAD_SLOT(body)"


cdef PyMemberDef _head_members[11]


cdef int _install_members() except -1:
    cdef Py_ssize_t offsets[11]
    cdef const char* names[11]
    cdef int i
    offsets[:] = [SLOT_STATUS, SLOT_REASON, SLOT_VERSION, SLOT_HEADERS, SLOT_METHOD, SLOT_KEEP_ALIVE,
                  SLOT_CONTENT_LENGTH, SLOT_CHUNKED, SLOT_UNTIL_CLOSE, SLOT_UPGRADE, SLOT_BODY]
    names[:] = [b"status", b"reason", b"version", b"headers", b"method", b"keep_alive",
                b"content_length", b"chunked", b"until_close", b"upgrade", b"body"]
    for i in range(11):
        fh_member(ResponseHead, &_head_members[i], names[i], offsets[i])
    return 0


_install_members()


cdef inline bint _is_method(str m, str word):
    # PERF: Cython's str == calls PyUnicode_Compare; an identity or length test settles the
    # usual case ("GET" is neither word) before any comparison (bench_responseparser.py).
    return m is word or (len(m) == len(word) and m == word)


cdef inline bint _digit(unsigned char c) noexcept nogil:
    return 48 <= c <= 57


cdef inline Py_ssize_t _index_plain_lines(FieldIndex* ix, const unsigned char* buf, Py_ssize_t start,
                                          Py_ssize_t end, Py_ssize_t base, Py_ssize_t max_size,
                                          Py_ssize_t max_count, bint* ended) noexcept nogil:
    # PERF: index the header section's field lines from buf[start] while each is plainly valid
    # and complete: `tchar+ ":" OWS` then field-value bytes other than HTAB, up to a CRLF
    # (RFC 9112 §5, RFC 9110 §5.5), within the limits. Each line is walked once: the value's
    # bytes are checked eight at a time up to its CR, where the general path finds the LF with
    # memchr and validates the value again (_http1.field_line, headers.parse_field). Returns the
    # start of the first line not taken, which the general path then takes: any rule a line
    # breaks, any limit, an incomplete or HTAB-bearing line is the general path's, with its
    # errors, so the two agree at every split. Sets *ended at the empty line ending the
    # section, returning the position after it. Offsets are relative to base, the head's start.
    cdef Py_ssize_t s, i, colon, vs, ve, length
    cdef uint64_t x
    cdef Field* f
    while start < end:
        s = start
        if buf[s] == 13:
            if s + 1 < end and buf[s + 1] == 10:
                ended[0] = True
                return s + 2
            return s
        i = s
        while i < end and fh_tchar[buf[i]]:
            i += 1
        if i == s or i >= end or buf[i] != 58:  # ":"
            return s
        colon = i
        i += 1
        while i < end and (buf[i] == 32 or buf[i] == 9):
            i += 1
        vs = i
        while i + 8 <= end:
            memcpy(&x, buf + i, 8)
            if fh_hasless(x, 0x20) | fh_haseq(x, 0x7f):
                break
            i += 8
        while i < end and buf[i] >= 32 and buf[i] != 127:
            i += 1
        if i + 1 >= end or buf[i] != 13 or buf[i + 1] != 10:
            return s
        ve = i
        while ve > vs and (buf[ve - 1] == 32 or buf[ve - 1] == 9):
            ve -= 1
        length = i - s
        if ix.size + length + 2 > max_size or ix.count >= max_count or ix.count == ix.cap:
            return s
        ix.size += length + 2
        f = &ix.fields[ix.count]
        f.name_start = <unsigned int>(s - base)
        f.name_len = <unsigned int>(colon - s)
        f.value_start = <unsigned int>(vs - base)
        f.value_len = <unsigned int>(ve - vs)
        f.known = known_id(buf + s, colon - s)
        ix.count += 1
        start = i + 2
    return start


cdef inline bint _plain_length(const unsigned char* r, const Field* f, unsigned long long* out) noexcept nogil:
    # A Content-Length value of 1 to MAX_CL_DIGITS digits and nothing else (its OWS is already
    # trimmed): the common case, read without the list scan; False for anything else.
    cdef Py_ssize_t j
    cdef unsigned long long v = 0
    if f.value_len == 0 or f.value_len > MAX_CL_DIGITS:
        return False
    for j in range(f.value_start, f.value_start + f.value_len):
        if not _digit(r[j]):
            return False
        v = v * 10 + (r[j] - 48)
    out[0] = v
    return True


cdef int _raise_line_error(int r) except -1:
    # how this parser reports each header-section rule a line breaks (_http1.field_line)
    if r == LINE_TOO_LARGE:
        raise ResponseTooLarge("response header section too large")
    if r == LINE_BARE_LF:
        raise ResponseProtocolError("bare LF in header section")
    if r == LINE_TOO_MANY:
        raise ResponseTooLarge("too many response header fields")
    raise ResponseProtocolError("obsolete line folding")


@cython.final
@cython.freelist(8)  # PERF: a parser per connection; a pool's churn reuses them
cdef class ResponseParser:
    """Incremental, strict HTTP/1.1 response parser. See ``fasthttp/_pure/responseparser.py``."""

    cdef public Py_ssize_t max_status_line
    cdef public Py_ssize_t max_header_size
    cdef public Py_ssize_t max_header_count
    cdef public Py_ssize_t max_chunk_line
    cdef public Py_ssize_t max_trailer_size
    cdef long long _max_body
    cdef unsigned char* _buf
    cdef Py_ssize_t _len
    cdef Py_ssize_t _cap
    cdef int _state
    cdef object _error
    # the methods of the requests whose final response has not started: the oldest in a slot,
    # the rest (pipelining) in a list made on demand. PERF: no list per parser or response.
    cdef str _method
    cdef list _more
    cdef Py_ssize_t _received
    cdef Py_ssize_t _mark          # start of the element being parsed (an error's data)
    # the head being parsed; offsets are relative to the start of the head
    cdef Py_ssize_t _line_start
    cdef ResponseHead _head
    cdef FieldIndex _index       # the field lines so far (_http1.pxd)
    cdef unsigned long long _remaining
    cdef unsigned long long _total
    cdef ChunkedDecoder _chunked
    cdef bytes _src
    cdef public bint pause_after_head
    cdef public bint wait_for_request
    cdef public bint body_on_head
    cdef bint _reopen

    def __init__(self, *, Py_ssize_t max_status_line=8190, Py_ssize_t max_header_size=65536,
                 Py_ssize_t max_header_count=128, max_body_size=None,
                 Py_ssize_t max_chunk_line=4096, Py_ssize_t max_trailer_size=8192,
                 bint pause_after_head=False, bint wait_for_request=False, bint body_on_head=False):
        self.body_on_head = body_on_head
        self.pause_after_head = pause_after_head
        self.wait_for_request = wait_for_request
        self._reopen = False
        self.max_status_line = max_status_line
        self.max_header_size = max_header_size
        self.max_header_count = max_header_count
        self._max_body = -1 if max_body_size is None else max_body_size
        self.max_chunk_line = max_chunk_line
        self.max_trailer_size = max_trailer_size
        self._state = ST_HEAD
        self._error = None
        self._method = None
        self._more = None
        self._received = 0
        self._reset_head()
        global _spare_fields
        if _spare_fields != NULL and self._index.fields == NULL:
            self._index.fields = _spare_fields
            self._index.cap = FIELDS_CAP
            _spare_fields = NULL

    def __dealloc__(self):
        global _spare_fields
        PyMem_Free(self._buf)
        if _spare_fields == NULL and self._index.cap == FIELDS_CAP:
            # PERF: kept for the next parser (one per connection or per benchmark round): no
            # malloc/free pair per parser (bench_responseparser.py, small)
            _spare_fields = self._index.fields
        else:
            PyMem_Free(self._index.fields)

    @property
    def max_body_size(self):
        return None if self._max_body < 0 else self._max_body

    @max_body_size.setter
    def max_body_size(self, value):
        self._max_body = -1 if value is None else value

    cdef void _reset_head(self):
        self._line_start = 0
        self._head = None
        self._index.count = 0
        self._index.size = 0
        self._remaining = 0
        self._total = 0
        self._chunked = None

    # -- public interface ------------------------------------------------------------------

    @cython.always_allow_keywords(False)
    def request(self, str method not None):
        """Record that a request with *method* was sent; its response is parsed in turn."""
        if self._method is None:
            self._method = method
        else:
            if self._more is None:
                self._more = []
            self._more.append(method)

    @property
    def pending(self):
        """Requests recorded whose final response has not started yet."""
        if self._method is None:
            return 0
        return 1 + (len(self._more) if self._more is not None else 0)

    @property
    def paused(self):
        """True after a 101 or a 2xx to CONNECT; the rest is :meth:`take_unparsed`'s."""
        return self._state == ST_PAUSED

    @property
    def closed(self):
        """True once a response ended the connection (no keep-alive, or read until close)."""
        return self._state == ST_CLOSED

    @property
    def idle(self):
        """Between responses, with nothing buffered and no request outstanding: reusable."""
        return self._state == ST_HEAD and self._method is None and self._len == 0 and self._head is None

    @property
    def buffered(self):
        """Bytes received but not yet turned into events."""
        return self._len

    @cython.always_allow_keywords(False)  # PERF: METH_O, no argument parsing per read
    def feed(self, data):
        cdef Py_buffer view
        cdef list events = []
        cdef Py_ssize_t pos
        if self._state == ST_FAILED:
            self._error.events = []
            raise self._error
        if self._state == ST_CLOSED:
            return events
        if type(data) is bytes and self._state != ST_PAUSED and self._state != ST_HEAD_PAUSED:
            # PERF: a read from a transport is bytes: no buffer protocol round trip.
            return self._feed_bytes(<bytes>data, events)
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        try:
            if self._state == ST_PAUSED or self._state == ST_HEAD_PAUSED:
                self._append(<const unsigned char*>view.buf, view.len)
                return events
            if self._len == 0:
                # PERF: parse in place from the caller's buffer; keep only the incomplete tail.
                if type(data) is bytes and view.len <= SHARE_LIMIT:
                    self._src = <bytes>data
                pos = self._guarded_run(<const unsigned char*>view.buf, view.len, events)
                self._src = None  # (and _fail() on an error)
                if self._state != ST_CLOSED and pos < view.len:
                    self._append(<const unsigned char*>view.buf + pos, view.len - pos)
                return events
            self._append(<const unsigned char*>view.buf, view.len)
        finally:
            PyBuffer_Release(&view)
        self._run_buffered(events)
        return events

    cdef list _feed_bytes(self, bytes data, list events):
        # feed() for bytes, the same steps without a Py_buffer
        cdef const unsigned char* p = <const unsigned char*>PyBytes_AS_STRING(data)
        cdef Py_ssize_t n = PyBytes_GET_SIZE(data), pos
        if self._len == 0:
            if n <= SHARE_LIMIT:
                self._src = data
            # PERF: no try/finally (an exception-state save per feed): _fail() drops _src
            pos = self._guarded_run(p, n, events)
            self._src = None
            if self._state != ST_CLOSED and pos < n:
                self._append(p + pos, n - pos)
            return events
        self._append(p, n)
        self._run_buffered(events)
        return events

    def feed_eof(self):
        """The server closed the connection: end a body read until close; anything else
        unfinished is an IncompleteResponseError (pure twin)."""
        cdef Py_ssize_t received
        if self._state == ST_FAILED:
            self._error.events = []
            raise self._error
        if self._state == ST_UNTIL_CLOSE:
            self._state = ST_CLOSED
            self._reset_head()
            return [_EOM]
        if self._state == ST_CLOSED or self._state == ST_PAUSED or self._state == ST_HEAD_PAUSED:
            self._state = ST_CLOSED
            return []
        if self._state == ST_HEAD and self._method is None and self._head is None:
            if self._len:  # bytes held for a request never recorded (wait_for_request)
                exc = ResponseProtocolError("response without a request",
                                            PyBytes_FromStringAndSize(<const char*>self._buf, self._len))
                self._state = ST_FAILED
                self._error = exc
                self._len = 0
                exc.events = []
                raise exc
            self._state = ST_CLOSED
            return []
        received = self._received + self._len
        exc = IncompleteResponseError("connection closed before the response ended",
                                      PyBytes_FromStringAndSize(<const char*>self._buf, self._len), received)
        self._state = ST_FAILED
        self._error = exc
        self._len = 0
        exc.events = []
        raise exc

    def resume(self):
        """After a head that ``pause_after_head`` paused on: hand over the bytes received after
        it and go on with the next response, or close if the head ended the connection."""
        if self._state != ST_HEAD_PAUSED:
            raise RuntimeError("resume() follows a head paused by pause_after_head")
        cdef bytes data = PyBytes_FromStringAndSize(<const char*>self._buf, self._len)
        self._len = 0
        self._state = ST_HEAD if self._reopen else ST_CLOSED
        return data

    def take_unparsed(self):
        """Hand over every byte after a 101 or a CONNECT's 2xx and stop parsing for good."""
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
        cdef Py_ssize_t n
        self._mark = 0
        try:
            return self._run(buf, end, events)
        except ResponseProtocolError as exc:
            n = min(end - self._mark, <Py_ssize_t>DATA_LIMIT)
            if not exc.data:
                exc.data = PyBytes_FromStringAndSize(<const char*>buf + self._mark, n)
            self._fail(exc, events)
            raise
        except HttpProtocolError as exc:  # from the chunked decoder or the field-line check
            n = min(end - self._mark, <Py_ssize_t>DATA_LIMIT)
            cls = ResponseTooLarge if isinstance(exc, ContentTooLarge) else ResponseProtocolError
            err = cls(str(exc), PyBytes_FromStringAndSize(<const char*>buf + self._mark, n))
            self._fail(err, events)
            raise err from None

    cdef void _fail(self, exc, list events):
        self._src = None
        self._state = ST_FAILED
        self._error = exc
        self._len = 0
        exc.events = events

    # -- the state machine ---------------------------------------------------------------------

    cdef Py_ssize_t _run(self, const unsigned char* buf, Py_ssize_t end, list events) except -1:
        cdef Py_ssize_t pos = 0, take, start
        cdef bint done
        while True:
            self._mark = pos
            if self._state == ST_HEAD:
                if pos >= end:
                    break  # PERF: nothing to parse (a whole response was just read)
                done = False
                pos = self._parse_head(buf, pos, end, events, &done)
                if not done:
                    break
                if (self._state == ST_BODY and self.body_on_head
                        and <unsigned long long>(end - pos) >= self._remaining):
                    # the whole content came with the head: on the head, one event (pure twin)
                    take = <Py_ssize_t>self._remaining
                    self._head.body = PyBytes_FromStringAndSize(<const char*>buf + pos, take)
                    pos += take
                    self._remaining = 0
                    self._end_message()
            elif self._state == ST_BODY:
                if pos >= end:
                    break
                take = end - pos
                if <unsigned long long>take > self._remaining:
                    take = <Py_ssize_t>self._remaining
                events.append(PyBytes_FromStringAndSize(<const char*>buf + pos, take))
                pos += take
                self._received += take
                self._remaining -= take
                if self._remaining == 0:
                    events.append(_EOM)
                    self._end_message()
            elif self._state == ST_CHUNKED:
                # the decoder appends the EndOfMessage (with the trailers) itself
                start = pos
                pos = self._chunked.decode(buf, pos, end, events)
                self._received += pos - start
                if self._chunked._state != CHUNK_DONE:
                    break
                self._end_message()
            elif self._state == ST_UNTIL_CLOSE:
                if pos >= end:
                    break
                self._total += end - pos
                if self._max_body >= 0 and self._total > <unsigned long long>self._max_body:
                    raise ResponseTooLarge("response content exceeds the limit")
                events.append(PyBytes_FromStringAndSize(<const char*>buf + pos, end - pos))
                self._received += end - pos
                pos = end
            else:
                break
        return pos

    cdef void _end_message(self):
        cdef ResponseHead head = self._head
        self._reset_head()
        self._received = 0
        if head.upgrade:
            self._state = ST_PAUSED
        elif not head.keep_alive:
            self._state = ST_CLOSED
        else:
            self._state = ST_HEAD

    cdef Py_ssize_t _parse_head(self, const unsigned char* buf, Py_ssize_t pos, Py_ssize_t end,
                                list events, bint* done) except -1:
        cdef Py_ssize_t start = pos + self._line_start, lf, length
        cdef int r
        if pos < end and self._method is None:
            if self.wait_for_request:
                return pos  # held until request() and the next feed()
            raise ResponseProtocolError("response without a request")
        cdef bint ended
        while True:
            if self._head is not None:
                # PERF: the plainly valid field lines in one pass each (_index_plain_lines); the
                # loop below takes any other line, and so raises every error
                ended = False
                start = _index_plain_lines(&self._index, buf, start, end, pos, self.max_header_size,
                                           self.max_header_count, &ended)
                if ended:
                    self._line_start = 0
                    self._received += start - pos
                    self._end_of_head(buf, pos, start, events)
                    done[0] = True
                    return start
            lf = find_byte(buf, start, end, 10)
            if lf < 0:
                self._check_partial(buf, start, end)
                self._line_start = start - pos
                return pos
            length = lf - start - 1
            if self._head is None:
                if length > self.max_status_line:
                    raise ResponseProtocolError("status line too long")
                if lf == start or buf[lf - 1] != 13:
                    raise ResponseProtocolError("bare LF in status line")
                self._status_line(buf + start, lf - 1 - start)
            else:
                r = field_line(&self._index, buf, start, lf, pos, self.max_header_size, self.max_header_count)
                if r:
                    if r == LINE_END:
                        self._line_start = 0
                        self._received += lf + 1 - pos
                        self._end_of_head(buf, pos, lf + 1, events)
                        done[0] = True
                        return lf + 1
                    _raise_line_error(r)
            start = lf + 1

    cdef int _check_partial(self, const unsigned char* buf, Py_ssize_t start, Py_ssize_t end) except -1:
        # Refuse an over-long line before it completes, as its complete form would be refused.
        cdef Py_ssize_t partial = partial_length(buf, start, end)
        if self._head is None:
            if partial > self.max_status_line:
                raise ResponseProtocolError("status line too long")
        elif section_overflows(self._index.size, partial, self.max_header_size):
            _raise_line_error(LINE_TOO_LARGE)
        return 0

    cdef int _status_line(self, const unsigned char* line, Py_ssize_t n) except -1:
        # status-line = HTTP-version SP status-code SP [ reason-phrase ]  (RFC 9112 §4)
        cdef Py_ssize_t i
        cdef unsigned char c
        cdef ResponseHead head
        if (n < 12 or memcmp(line, b"HTTP/", 5) != 0 or line[6] != 46 or not _digit(line[5])
                or not _digit(line[7]) or line[8] != 32):
            raise ResponseProtocolError("malformed status line")
        if line[5] != 49:
            raise ResponseProtocolError("not an HTTP/1.x response")
        if not (49 <= line[9] <= 53) or not _digit(line[10]) or not _digit(line[11]):
            raise ResponseProtocolError("invalid status code")
        if n > 12 and line[12] != 32:
            raise ResponseProtocolError("malformed status line")
        for i in range(13, n):
            c = line[i]
            if (c < 32 and c != 9) or c == 127:
                raise ResponseProtocolError("invalid character in reason phrase")
        head = ResponseHead.__new__(ResponseHead)
        head._code = (line[9] - 48) * 100 + (line[10] - 48) * 10 + (line[11] - 48)
        head.status = head._code
        # PERF: the common reason is a shared str, not decoded per response.
        if n == 15 and line[13] == 79 and line[14] == 75:
            head.reason = R_OK
        elif n > 13:
            head.reason = PyUnicode_DecodeLatin1(<const char*>line + 13, n - 13, NULL)
        else:
            head.reason = ""
        head.version = V10 if line[7] == 48 else V11
        head.method = self._method
        self._head = head
        return 0

    cdef int _end_of_head(self, const unsigned char* buf, Py_ssize_t head_start, Py_ssize_t head_end,
                          list events) except -1:
        cdef ResponseHead head = self._head
        cdef int status = head._code
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
        cdef Py_ssize_t i, j, k, n_cl = 0, n_te = 0, n_codings = 0, vs = -1, vn = 0, zs
        cdef bint only_chunked = True
        cdef bint conn_close = False, conn_keep_alive = False
        cdef bint chunked = False, upgrade, no_content, until_close, keep_alive
        cdef unsigned long long cl = 0
        cdef ListScan scan
        cdef Py_ssize_t cl_at = 0
        for i in range(self._index.count):
            f = &self._index.fields[i]
            if f.known == H_CONTENT_LENGTH:
                n_cl += 1
                cl_at = i
            elif f.known == H_TRANSFER_ENCODING:
                n_te += 1
            elif f.known == H_CONNECTION:
                scan_reset(&scan, r, f.value_start, f.value_len)
                while scan_next(&scan):
                    if is_token(r + scan.start, scan.n, "close", 5):
                        conn_close = True
                    elif is_token(r + scan.start, scan.n, "keep-alive", 10):
                        conn_keep_alive = True

        content_length = None
        if n_te:
            # RFC 9112 §6.1: a Transfer-Encoding in an HTTP/1.0 message means faulty framing.
            if not http11:
                raise ResponseProtocolError("Transfer-Encoding in an HTTP/1.0 response")
            # RFC 9112 §6.3 (3): both is the sign of response splitting; refuse, do not guess.
            if n_cl:
                raise ResponseProtocolError("both Transfer-Encoding and Content-Length")
            for i in range(self._index.count):
                f = &self._index.fields[i]
                if f.known != H_TRANSFER_ENCODING:
                    continue
                scan_reset(&scan, r, f.value_start, f.value_len)
                while scan_next(&scan):
                    for j in range(scan.start, scan.start + scan.n):
                        if not fh_tchar[r[j]]:
                            raise ResponseProtocolError("invalid transfer coding")
                    n_codings += 1
                    if not is_token(r + scan.start, scan.n, "chunked", 7):
                        only_chunked = False
            # RFC 9112 §6.3 (4)/(7): we decode chunked alone (pure twin).
            if n_codings != 1 or not only_chunked:
                raise ResponseProtocolError("unsupported transfer coding")
            chunked = True
        elif n_cl == 1 and _plain_length(r, &self._index.fields[cl_at], &cl):
            content_length = cl  # PERF: one field, digits alone (the rules below agree)
        elif n_cl:
            # RFC 9110 §8.6: a list or repeated field must hold one value, repeated identically.
            for i in range(self._index.count):
                f = &self._index.fields[i]
                if f.known != H_CONTENT_LENGTH:
                    continue
                scan_reset(&scan, r, f.value_start, f.value_len)
                while True:
                    if not scan_next(&scan):
                        # an empty element (or an empty value) is not 1*DIGIT
                        if scan.empty:
                            raise ResponseProtocolError("invalid Content-Length")
                        break
                    if scan.empty:
                        raise ResponseProtocolError("invalid Content-Length")
                    for j in range(scan.start, scan.start + scan.n):
                        if not _digit(r[j]):
                            raise ResponseProtocolError("invalid Content-Length")
                    zs = scan.start
                    while zs < scan.start + scan.n - 1 and r[zs] == 48:
                        zs += 1
                    k = scan.start + scan.n - zs
                    if vs < 0:
                        vs = zs
                        vn = k
                    elif k != vn or memcmp(r + zs, r + vs, k) != 0:
                        raise ResponseProtocolError("conflicting Content-Length values")
            if vn > MAX_CL_DIGITS:
                raise ResponseTooLarge("Content-Length too large")
            for j in range(vs, vs + vn):
                cl = cl * 10 + (r[j] - 48)
            content_length = cl

        # RFC 9110 §8.6, §6.4.1: no content in a 1xx or 204; one announced would desync.
        if (status < 200 or status == 204) and (chunked or cl):
            raise ResponseProtocolError("content framing in a response that has none")

        # RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive".
        if http11:
            keep_alive = not conn_close
        else:
            keep_alive = conn_keep_alive and not conn_close

        upgrade = status == 101 or (200 <= status < 300 and _is_method(head.method, M_CONNECT))
        no_content = status < 200 or status == 204 or status == 304 or upgrade or _is_method(head.method, M_HEAD)
        until_close = not no_content and not chunked and content_length is None
        if until_close:
            keep_alive = False  # RFC 9112 §6.3 (8): the close is the end of the content
        if not no_content and content_length is not None:
            if self._max_body >= 0 and cl > <unsigned long long>self._max_body:
                raise ResponseTooLarge("Content-Length exceeds the limit")

        head.headers = headers
        head.keep_alive = keep_alive
        head.content_length = content_length
        head.chunked = chunked and not no_content
        head.until_close = until_close
        head.upgrade = upgrade
        events.append(head)
        if status < 200 and status != 101:
            # RFC 9110 §15.2: an interim response; the final one to the same request follows.
            self._reset_head()
            return 0
        if self._more:
            self._method = self._more.pop(0)
        else:
            self._method = None
        if self.pause_after_head and not upgrade:
            # the caller reads the content itself; resume() goes on (pure twin)
            self._reopen = keep_alive
            self._reset_head()
            self._received = 0
            self._state = ST_HEAD_PAUSED
            return 0
        if no_content:
            self._no_content(head, events)
        elif chunked:
            self._chunked = ChunkedDecoder(
                max_chunk_line=self.max_chunk_line,
                max_trailer_size=self.max_trailer_size,
                max_trailer_count=self.max_header_count,
                max_body_size=self.max_body_size,
            )
            self._chunked.coalesce = True  # one body event per feed, not one per chunk
            self._state = ST_CHUNKED
        elif until_close:
            self._state = ST_UNTIL_CLOSE
        elif cl:
            self._remaining = cl
            self._state = ST_BODY
        else:
            self._no_content(head, events)
        return 0

    cdef int _no_content(self, ResponseHead head, list events) except -1:
        # the response ends with its head
        if self.body_on_head:
            head.body = b""
        else:
            events.append(_EOM)
        self._end_message()
        return 0
