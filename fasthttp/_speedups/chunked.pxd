# C-level interface of the chunked decoder, shared with parser.pyx.
from fasthttp._speedups.headers cimport Field


cdef class EndOfMessage:
    cdef readonly object trailers


cimport cython


cdef enum:
    MAX_SPANS = 64


cdef struct SpanBuf:
    # The chunk-data pieces one coalescing decode() found, by offset in its buffer: handed on
    # as one bytes (one allocation, one copy per piece) when the decode stops.
    Py_ssize_t n
    Py_ssize_t total
    Py_ssize_t start[MAX_SPANS]
    Py_ssize_t length[MAX_SPANS]


@cython.final
cdef class ChunkedDecoder:
    cdef public Py_ssize_t max_chunk_line
    cdef public Py_ssize_t max_trailer_size
    cdef public Py_ssize_t max_trailer_count
    cdef long long _max_body          # -1: no limit
    cdef int _state
    cdef unsigned long long _remaining
    cdef unsigned long long _total
    cdef bytearray _traw               # trailer field lines, copied (the caller's buffer moves)
    cdef list _tspans
    cdef Py_ssize_t _trailer_bytes
    cdef bytearray _buf                # standalone feed() only
    cdef public bytes unused
    cdef public bint coalesce          # one bytes per decode() rather than one per chunk

    cdef Py_ssize_t decode(self, const unsigned char* buf, Py_ssize_t pos, Py_ssize_t end,
                           list events) except -1
    cdef Py_ssize_t _run(self, const unsigned char* buf, Py_ssize_t pos, Py_ssize_t end,
                         list events, SpanBuf* spans) except -1
    cdef int _size_line(self, const unsigned char* buf, Py_ssize_t start, Py_ssize_t end) except -1
    cdef object _trailers(self)
    cdef Py_ssize_t _trailer(self, const unsigned char* buf, Py_ssize_t pos, Py_ssize_t end,
                             list events) except -1
