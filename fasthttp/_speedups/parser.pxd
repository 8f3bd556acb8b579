# C-level interface of the request parser, for the compiled connection core
# (fasthttp/_core_c/connection.pxd cimports it): the core reads a head's fields as struct
# members and calls feed() as a C function, not through attribute look-ups (PERF, issue 17).

cimport cython

from fasthttp._speedups._http1 cimport FieldIndex
from fasthttp._speedups.chunked cimport ChunkedDecoder
from fasthttp._speedups.headers cimport Field, Headers


cdef class RequestHead:
    cdef readonly str method
    cdef readonly str version
    cdef readonly Headers headers
    cdef readonly object keep_alive
    cdef readonly object content_length
    cdef readonly object chunked
    cdef readonly object expect_continue
    cdef readonly object has_expect
    cdef readonly object upgrade
    cdef readonly str path        # made by the parser at the end of the head (parser.pyx)
    cdef bytes _target            # None until RequestHead.target makes it (origin-form)
    cdef Py_ssize_t _target_start
    cdef Py_ssize_t _target_len
    cdef Py_ssize_t _path_start   # relative to the target
    cdef Py_ssize_t _path_end


@cython.final
cdef class RequestParser:
    cdef public Py_ssize_t max_request_line
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
    cdef Py_ssize_t _line_start
    cdef RequestHead _head
    cdef FieldIndex _index
    cdef int _leading
    cdef unsigned long long _remaining
    cdef ChunkedDecoder _chunked
    cdef RequestHead _current
    cdef bytes _src
    # The last head's cache (parser.pyx, _cache_head): its bytes, its field index (offsets
    # relative to the field section), a template head without headers, the limits it was
    # parsed under, and its Content-Length.
    cdef unsigned char* _hc
    cdef Py_ssize_t _hc_cap
    cdef Py_ssize_t _hc_len
    cdef Py_ssize_t _hc_rl
    cdef Field* _hc_fields
    cdef Py_ssize_t _hc_fcap
    cdef Py_ssize_t _hc_count
    cdef RequestHead _hc_head
    cdef unsigned long long _hc_cl
    cdef Py_ssize_t _hc_max_line
    cdef Py_ssize_t _hc_max_size
    cdef Py_ssize_t _hc_max_count
    cdef long long _hc_max_body
    cdef Py_ssize_t _rl_len

    cpdef list feed(self, data)
    cdef void _reset_head(self) noexcept
    cdef int _append(self, const unsigned char* p, Py_ssize_t n) except -1
    cdef int _run_buffered(self, list events) except -1
    cdef Py_ssize_t _guarded_run(self, const unsigned char* buf, Py_ssize_t end, list events) except -1
    cdef Py_ssize_t _run(self, const unsigned char* buf, Py_ssize_t end, list events) except -1
    cdef Py_ssize_t _parse_head(self, const unsigned char* buf, Py_ssize_t pos, Py_ssize_t end,
                                list events, bint* done) except -1
    cdef int _check_partial(self, const unsigned char* buf, Py_ssize_t start, Py_ssize_t end) except -1
    cdef int _request_line(self, const unsigned char* buf, Py_ssize_t s, Py_ssize_t e) except -1
    cdef int _end_of_head(self, const unsigned char* buf, Py_ssize_t head_start, Py_ssize_t head_end,
                          list events) except -1
    cdef void _end_message(self) noexcept
    cdef bint _hc_usable(self) noexcept
    cdef Py_ssize_t _take_cached(self, const unsigned char* buf, Py_ssize_t head_start, Py_ssize_t sec_start,
                                 RequestHead head, list events) except -1
    cdef int _cache_head(self, const unsigned char* buf, Py_ssize_t head_start, Py_ssize_t head_end,
                         RequestHead head, unsigned long long cl) except -1
