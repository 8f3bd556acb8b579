# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Chunked transfer coding, compiled twin of ``fasthttp/_pure/chunked.py`` (the specification).

Same state machine, same limits, same errors in the same order; here it walks a C pointer, so
the parser (parser.pyx) can run it over its own buffer without copying. Trailer lines are copied
into the decoder as they are validated, because the caller's buffer moves between feeds.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.string cimport memchr, memcpy

cimport cython

from fasthttp._speedups.headers cimport Field, Headers, fh_tchar, headers_new, parse_field

from fasthttp._grammar import FORBIDDEN_TRAILERS, sendable_trailers
from fasthttp.errors import BadRequest, ContentTooLarge, HeaderFieldsTooLarge

__all__ = ("ChunkedDecoder", "EndOfMessage", "encode_chunk", "encode_last_chunk")

cdef enum:
    S_SIZE = 0
    S_DATA = 1
    S_DATA_CRLF = 2
    S_TRAILER = 3
    S_DONE = 4
    MAX_SIZE_DIGITS = 16

cdef extern from *:
    """
    static inline int fc_hexval(unsigned char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }
    /* RFC 9110 §5.6.4 qdtext and quoted-pair second bytes */
    static inline int fc_qdtext(unsigned char c) {
        return c == 0x09 || c == 0x20 || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c != 0x7f);
    }
    static inline int fc_qpair(unsigned char c) { return c == 0x09 || (c >= 0x20 && c != 0x7f); }
    """
    int fc_hexval(unsigned char c) nogil
    bint fc_qdtext(unsigned char c) nogil
    bint fc_qpair(unsigned char c) nogil


@cython.no_gc  # holds only a Headers (itself acyclic)
cdef class EndOfMessage:
    """The end of a request's content; ``trailers`` is a :class:`Headers` or None."""

    def __init__(self, trailers=None):
        self.trailers = trailers

    def __eq__(self, other):
        if type(other).__name__ != "EndOfMessage":
            return NotImplemented
        return self.trailers == other.trailers

    __hash__ = None

    def __repr__(self):
        return f"EndOfMessage(trailers={self.trailers!r})"


cdef inline bint _ws(unsigned char c) noexcept nogil:
    return c == 32 or c == 9


cdef int _parse_extensions(const unsigned char* line, Py_ssize_t i, Py_ssize_t n) except -1:
    """Validate ``*( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )`` (RFC 9112 §7.1.1)."""
    cdef Py_ssize_t start
    cdef unsigned char c
    while i < n:
        while i < n and _ws(line[i]):
            i += 1
        if i == n or line[i] != 59:  # ";"
            raise BadRequest("invalid chunk extension")
        i += 1
        while i < n and _ws(line[i]):
            i += 1
        start = i
        while i < n and fh_tchar[line[i]]:
            i += 1
        if i == start:
            raise BadRequest("invalid chunk extension name")
        while i < n and _ws(line[i]):
            i += 1
        if i < n and line[i] == 61:  # "="
            i += 1
            while i < n and _ws(line[i]):
                i += 1
            if i < n and line[i] == 34:  # quoted-string
                i += 1
                while True:
                    if i == n:
                        raise BadRequest("unterminated quoted chunk extension value")
                    c = line[i]
                    if c == 34:
                        i += 1
                        break
                    if c == 92:  # "\"
                        if i + 1 == n or not fc_qpair(line[i + 1]):
                            raise BadRequest("invalid quoted-pair in chunk extension")
                        i += 2
                    elif fc_qdtext(c):
                        i += 1
                    else:
                        raise BadRequest("invalid character in chunk extension value")
            else:
                start = i
                while i < n and fh_tchar[line[i]]:
                    i += 1
                if i == start:
                    raise BadRequest("invalid chunk extension value")
    return 0


cdef inline Py_ssize_t _find_lf(const unsigned char* buf, Py_ssize_t pos, Py_ssize_t end) noexcept nogil:
    cdef const unsigned char* p = <const unsigned char*>memchr(buf + pos, 10, end - pos)
    return -1 if p == NULL else p - buf


cdef int _flush(const unsigned char* buf, SpanBuf* spans, list events) except -1:
    # Hand on the pieces recorded so far as one bytes, and start over.
    cdef Py_ssize_t i, at = 0
    cdef bytes out
    cdef char* p
    if spans.n == 0:
        return 0
    if spans.n == 1:
        out = PyBytes_FromStringAndSize(<const char*>buf + spans.start[0], spans.length[0])
    else:
        out = PyBytes_FromStringAndSize(NULL, spans.total)
        p = PyBytes_AS_STRING(out)
        for i in range(spans.n):
            memcpy(p + at, buf + spans.start[i], spans.length[i])
            at += spans.length[i]
    spans.n = 0
    spans.total = 0
    events.append(out)
    return 0


@cython.final
cdef class ChunkedDecoder:
    """Incremental decoder for one chunked message body."""

    def __init__(self, *, Py_ssize_t max_chunk_line=4096, Py_ssize_t max_trailer_size=8192,
                 Py_ssize_t max_trailer_count=32, max_body_size=None):
        self.max_chunk_line = max_chunk_line
        self.max_trailer_size = max_trailer_size
        self.max_trailer_count = max_trailer_count
        self.max_body_size = max_body_size
        self._state = S_SIZE
        self._remaining = 0
        self._total = 0
        self._traw = bytearray()
        self._tspans = []
        self._trailer_bytes = 0
        self._buf = bytearray()
        self.unused = b""
        self.coalesce = False

    @property
    def max_body_size(self):
        return None if self._max_body < 0 else self._max_body

    @max_body_size.setter
    def max_body_size(self, value):
        self._max_body = -1 if value is None else value

    def limit(self, max_body_size):
        """Apply a new body-size limit (a route's) from now on; raise ``ContentTooLarge`` at
        once if the chunk sizes announced so far pass it (as the pure twin)."""
        self.max_body_size = max_body_size
        if self._max_body >= 0 and self._total > <unsigned long long>self._max_body:
            raise ContentTooLarge("chunked body exceeds the limit")

    @property
    def done(self):
        return self._state == S_DONE

    def feed(self, data):
        """Decode *data*; return body ``bytes`` and, at the end, an :class:`EndOfMessage`."""
        cdef list events = []
        cdef Py_ssize_t pos
        cdef bytes view
        if self._state == S_DONE:
            self.unused += bytes(data)
            return events
        self._buf += data
        view = bytes(self._buf)
        pos = self.decode(<const unsigned char*>PyBytes_AS_STRING(view), 0, PyBytes_GET_SIZE(view), events)
        if self._state == S_DONE:
            self.unused = view[pos:]
            self._buf = bytearray()
        else:
            del self._buf[:pos]
        return events

    cdef Py_ssize_t decode(self, const unsigned char* buf, Py_ssize_t pos, Py_ssize_t end,
                           list events) except -1:
        cdef SpanBuf spans
        if not self.coalesce:
            return self._run(buf, pos, end, events, NULL)
        # PERF: the chunk data of this call becomes one bytes (bench_responseparser.py,
        # chunked_64k): one allocation and one copy per piece, where a bytes per chunk costs an
        # allocation each and the consumer's join a second copy. On an error the data decoded
        # before it is still handed on, as without coalescing (the pure twin's _Coalesced).
        spans.n = 0
        spans.total = 0
        try:
            pos = self._run(buf, pos, end, events, &spans)
        finally:
            _flush(buf, &spans, events)
        return pos

    cdef Py_ssize_t _run(self, const unsigned char* buf, Py_ssize_t pos, Py_ssize_t end,
                         list events, SpanBuf* spans) except -1:
        cdef Py_ssize_t take, lf, partial
        while pos < end:
            if self._state == S_DATA:
                take = end - pos
                if <unsigned long long>take > self._remaining:
                    take = <Py_ssize_t>self._remaining
                if spans == NULL:
                    events.append(PyBytes_FromStringAndSize(<const char*>buf + pos, take))
                else:
                    if spans.n == MAX_SPANS:
                        _flush(buf, spans, events)
                    spans.start[spans.n] = pos
                    spans.length[spans.n] = take
                    spans.n += 1
                    spans.total += take
                pos += take
                self._remaining -= take
                if self._remaining == 0:
                    self._state = S_DATA_CRLF
            elif self._state == S_DATA_CRLF:
                # RFC 9112 §7.1: chunk-data is followed by exactly CRLF.
                if buf[pos] != 13 or (end - pos > 1 and buf[pos + 1] != 10):
                    raise BadRequest("chunk data not followed by CRLF")
                if end - pos < 2:
                    return pos
                pos += 2
                self._state = S_SIZE
            elif self._state == S_SIZE:
                lf = _find_lf(buf, pos, end)
                if lf < 0:
                    partial = end - pos - (buf[end - 1] == 13)
                    if partial > self.max_chunk_line:
                        raise BadRequest("chunk size line too long")
                    return pos
                if lf - pos - 1 > self.max_chunk_line:
                    raise BadRequest("chunk size line too long")
                if lf == pos or buf[lf - 1] != 13:
                    raise BadRequest("bare LF in chunk size line")
                self._size_line(buf, pos, lf - 1)
                pos = lf + 1
                self._state = S_TRAILER if self._remaining == 0 else S_DATA
            elif self._state == S_TRAILER:
                if spans != NULL and spans.n:
                    _flush(buf, spans, events)  # the data precedes the EndOfMessage
                pos = self._trailer(buf, pos, end, events)
                if self._state != S_DONE:
                    return pos
            else:
                return pos
        return pos

    cdef int _size_line(self, const unsigned char* buf, Py_ssize_t start, Py_ssize_t end) except -1:
        # chunk = chunk-size [ chunk-ext ] CRLF ; chunk-size = 1*HEXDIG (RFC 9112 §7.1)
        cdef Py_ssize_t i = start
        cdef Py_ssize_t first
        cdef unsigned long long size = 0
        cdef int v
        # 1*HEXDIG allows leading zeros: the cap is on the significant digits (the value), as
        # in the pure twin; the line itself is bounded by max_chunk_line.
        while i < end and buf[i] == 48:
            i += 1
        first = i
        while i < end:
            v = fc_hexval(buf[i])
            if v < 0:
                break
            if i - first < MAX_SIZE_DIGITS:
                size = (size << 4) | <unsigned long long>v
            i += 1
        if i == start:
            raise BadRequest("invalid chunk size")
        if i - first > MAX_SIZE_DIGITS:
            raise BadRequest("chunk size too large")
        if i < end:
            _parse_extensions(buf + start, i - start, end - start)
        # Saturating: the announced total never wraps (the pure twin's int is unbounded).
        if self._total > <unsigned long long>0xFFFFFFFFFFFFFFFF - size:
            self._total = <unsigned long long>0xFFFFFFFFFFFFFFFF
        else:
            self._total += size
        if self._max_body >= 0 and (size > <unsigned long long>self._max_body
                                    or self._total > <unsigned long long>self._max_body):
            raise ContentTooLarge("chunked body exceeds the limit")
        self._remaining = size
        return 0

    cdef Py_ssize_t _trailer(self, const unsigned char* buf, Py_ssize_t pos, Py_ssize_t end,
                             list events) except -1:
        # trailer-section = *( field-line CRLF ) CRLF  (RFC 9112 §7.1.2)
        cdef Py_ssize_t lf, length, partial, base
        cdef Field f
        while True:
            lf = _find_lf(buf, pos, end)
            if lf < 0:
                partial = end - pos - (end > pos and buf[end - 1] == 13)
                if partial > 0 and self._trailer_bytes + partial + 2 > self.max_trailer_size:
                    raise HeaderFieldsTooLarge("trailer section too large")
                return pos
            length = lf - pos - 1
            if length > 0 and self._trailer_bytes + length + 2 > self.max_trailer_size:
                raise HeaderFieldsTooLarge("trailer section too large")
            if lf == pos or buf[lf - 1] != 13:
                raise BadRequest("bare LF in trailer section")
            if length == 0:
                events.append(EndOfMessage(self._trailers()))
                self._state = S_DONE
                return lf + 1
            self._trailer_bytes += length + 2
            if len(self._tspans) >= self.max_trailer_count:
                raise HeaderFieldsTooLarge("too many trailer fields")
            if _ws(buf[pos]):
                raise BadRequest("obsolete line folding in trailer section")
            parse_field(buf, pos, lf - 1, &f)
            pos = lf + 1
            # RFC 9110 §6.5.1: forbidden trailer fields are dropped (as the pure twin); trailers
            # are rare, so a Python set look-up costs nothing that matters.
            if (<const char*>buf)[f.name_start:f.name_start + f.name_len].lower() in FORBIDDEN_TRAILERS:
                continue
            base = len(self._traw)
            self._traw += (<const char*>buf)[f.name_start:f.name_start + f.name_len]
            self._traw += (<const char*>buf)[f.value_start:f.value_start + f.value_len]
            self._tspans.append((base, f.name_len, base + f.name_len, f.value_len, f.known))

    cdef object _trailers(self):
        cdef Py_ssize_t n = len(self._tspans), i
        cdef Field* fields
        if n == 0:
            return None
        fields = <Field*>PyMem_Malloc(n * sizeof(Field))
        if fields == NULL:
            raise MemoryError()
        try:
            for i in range(n):
                (fields[i].name_start, fields[i].name_len, fields[i].value_start,
                 fields[i].value_len, fields[i].known) = self._tspans[i]
            return headers_new(bytes(self._traw), fields, n, 0)
        finally:
            PyMem_Free(fields)


def encode_chunk(data):
    """One chunk: hex size, CRLF, data, CRLF. Empty data gives b"" (a 0 chunk ends the body)."""
    cdef Py_buffer view
    cdef Py_ssize_t n, digits, i
    cdef bytes out
    cdef char* p
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        n = view.len
        if n == 0:
            return b""
        digits = 0
        i = n
        while i:
            digits += 1
            i >>= 4
        # PERF: one allocation, sized exactly (benchmarks/bench_chunked.py::test_encode_chunk).
        out = PyBytes_FromStringAndSize(NULL, digits + 4 + n)
        p = PyBytes_AS_STRING(out)
        i = n
        for digits in range(digits - 1, -1, -1):
            p[digits] = b"0123456789abcdef"[i & 15]
            i >>= 4
        p = PyBytes_AS_STRING(out) + (PyBytes_GET_SIZE(out) - n - 4)
        p[0] = 13
        p[1] = 10
        memcpy(p + 2, view.buf, n)
        p[n + 2] = 13
        p[n + 3] = 10
        return out
    finally:
        PyBuffer_Release(&view)


def encode_last_chunk(trailers=None):
    """The last chunk and the trailer section (RFC 9112 §7.1.2), fields validated by the writer;
    a field that may not be a trailer is dropped (``fasthttp._grammar.sendable_trailers``)."""
    if trailers:
        # RFC 9110 §6.5.1: framing, routing, authentication... fields are never sent as trailers.
        trailers = sendable_trailers(trailers)
    if not trailers:
        return b"0\r\n\r\n"
    from fasthttp._speedups.writer import write_fields

    return b"0\r\n" + write_fields(trailers) + b"\r\n"
