# The header-section grammar shared by the compiled request and response parsers (parser.pyx,
# responseparser.pyx); compiled twin of fasthttp/_pure/_http1.py.
#
# Strategy: `cdef inline` functions and C structs only, so each parser compiles them into its own
# hot loop (no call through a module, no runtime import of this file). A function here decides
# *which* rule a line breaks and returns a LINE_* code; each parser raises its own error for it
# (a request gets a 4xx, a response a ResponseProtocolError).

from cpython.mem cimport PyMem_Realloc
from libc.string cimport memchr, memcpy

from fasthttp._speedups.headers cimport Field, fh_tchar_caseeq, parse_field

cdef enum:
    # what field_line found, when not a field line (negative: never a size)
    LINE_END = -1         # the empty line that ends the section (RFC 9112 §2.1)
    LINE_TOO_LARGE = -2   # the section passes max_header_size
    LINE_BARE_LF = -3     # a line ended by LF alone (RFC 9112 §2.2)
    LINE_TOO_MANY = -4    # more than max_header_count fields
    LINE_OBS_FOLD = -5    # a line starting with whitespace: obs-fold (RFC 9112 §5.2)


cdef struct FieldIndex:
    # The field lines of the head being parsed, indexed by offset (headers.pxd Field) relative
    # to the start of the head, and the section's size so far (for max_header_size).
    Field* fields
    Py_ssize_t count
    Py_ssize_t cap
    Py_ssize_t size


cdef inline Py_ssize_t find_byte(const unsigned char* buf, Py_ssize_t pos, Py_ssize_t end, int c) noexcept nogil:
    cdef const unsigned char* p
    if pos >= end:
        return -1
    p = <const unsigned char*>memchr(buf + pos, c, end - pos)
    return -1 if p == NULL else p - buf


cdef inline bint is_ws(unsigned char c) noexcept nogil:
    return c == 32 or c == 9


cdef inline int buffer_append(unsigned char** buf, Py_ssize_t* length, Py_ssize_t* cap,
                              const unsigned char* p, Py_ssize_t n) except -1:
    # Append p[0:n] to a parser's own buffer (the unparsed tail of the stream), growing it
    # geometrically from 1 KiB.
    cdef Py_ssize_t c
    cdef unsigned char* nb
    if length[0] + n > cap[0]:
        c = max(cap[0] * 2, length[0] + n, 1024)
        nb = <unsigned char*>PyMem_Realloc(buf[0], c)
        if nb == NULL:
            raise MemoryError()
        buf[0] = nb
        cap[0] = c
    memcpy(buf[0] + length[0], p, n)
    length[0] += n
    return 0


cdef inline bint section_overflows(Py_ssize_t size, Py_ssize_t length, Py_ssize_t max_size) noexcept nogil:
    # Would a field line of `length` bytes (without CRLF) take the section past max_size?
    return length > 0 and size + length + 2 > max_size


cdef inline Py_ssize_t partial_length(const unsigned char* buf, Py_ssize_t start, Py_ssize_t end) noexcept nogil:
    # An incomplete line's length without a trailing CR: an over-long line is refused before it
    # completes, as its complete form would be.
    return end - start - (end > start and buf[end - 1] == 13)


cdef inline int field_line(FieldIndex* ix, const unsigned char* buf, Py_ssize_t start, Py_ssize_t lf,
                           Py_ssize_t base, Py_ssize_t max_size, Py_ssize_t max_count) except -9:
    # Take the header-section line buf[start:lf+1] (ending in the LF at lf): a field line
    # (RFC 9112 §5) is validated and indexed (offsets made relative to base), returning 0;
    # otherwise a LINE_* code, the rules checked in the pure twin's order.
    # the line's length without its line end, CRLF or a bare LF (refused below, but only after
    # the size check, as an incomplete line is measured: the same error at every split)
    cdef Py_ssize_t length = lf - start - (1 if lf > start and buf[lf - 1] == 13 else 0)
    cdef Py_ssize_t cap
    cdef Field* f
    if length > 0 and ix.size + length + 2 > max_size:
        return LINE_TOO_LARGE
    if lf == start or buf[lf - 1] != 13:
        return LINE_BARE_LF
    if length == 0:
        return LINE_END
    ix.size += length + 2
    if ix.count >= max_count:
        return LINE_TOO_MANY
    if is_ws(buf[start]):
        return LINE_OBS_FOLD
    if ix.count == ix.cap:
        cap = ix.cap * 2 if ix.cap else 32
        f = <Field*>PyMem_Realloc(ix.fields, cap * sizeof(Field))
        if f == NULL:
            raise MemoryError()
        ix.fields = f
        ix.cap = cap
    f = &ix.fields[ix.count]
    parse_field(buf, start, lf - 1, f)
    f.name_start -= base
    f.value_start -= base
    ix.count += 1
    return 0


cdef inline bint is_token(const unsigned char* p, Py_ssize_t n, const char* lower_word, Py_ssize_t wn) noexcept nogil:
    # Field-value bytes are validated (no CTL but HTAB), so the OR-0x20 fold of
    # fh_tchar_caseeq is exact against words made of [a-z0-9-].
    return n == wn and fh_tchar_caseeq(p, <const unsigned char*>lower_word, n)


cdef struct ListScan:
    # Comma-list elements (RFC 9110 §5.6.1) of one field value: trimmed, empties skipped.
    # PERF: a C struct on the stack, not an object per parser.
    const unsigned char* p
    Py_ssize_t pos
    Py_ssize_t end
    Py_ssize_t start
    Py_ssize_t n
    bint empty          # an empty element was skipped (a response's Content-Length refuses those)


cdef inline void scan_reset(ListScan* sc, const unsigned char* p, Py_ssize_t start, Py_ssize_t n) noexcept nogil:
    sc.p = p
    sc.pos = start
    sc.end = start + n
    sc.empty = False


cdef inline bint scan_next(ListScan* sc) noexcept nogil:
    cdef Py_ssize_t s, e, comma
    while sc.pos <= sc.end:
        comma = find_byte(sc.p, sc.pos, sc.end, 44)
        if comma < 0:
            comma = sc.end
        s = sc.pos
        e = comma
        sc.pos = comma + 1
        while s < e and is_ws(sc.p[s]):
            s += 1
        while e > s and is_ws(sc.p[e - 1]):
            e -= 1
        if e > s:
            sc.start = s
            sc.n = e - s
            return True
        sc.empty = True
    return False
