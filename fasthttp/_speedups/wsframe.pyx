# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""WebSocket frame reading (RFC 6455 §5), compiled twin of ``fasthttp/_pure/wsframe.py`` (the
specification).

Same rules in the same order, same events, same errors; here the header is read through a C
pointer and a payload is unmasked a machine word at a time straight into the ``bytes`` (or, for
a short text message, a stack buffer) it is delivered in, then UTF-8-decoded by CPython's C
decoder. A frame not complete yet waits in a ``bytearray``; complete frames in a read are parsed
from the caller's buffer without a copy.
"""

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.stdint cimport uint32_t, uint64_t
from libc.string cimport memcpy

cimport cython

import codecs

from fasthttp.errors import WebSocketProtocolError

__all__ = (
    "CONTINUATION",
    "TEXT",
    "BINARY",
    "CLOSE",
    "PING",
    "PONG",
    "Control",
    "FrameReader",
    "unmask",
    "valid_close_code",
)

CONTINUATION = 0x0
TEXT = 0x1
BINARY = 0x2
CLOSE = 0x8
PING = 0x9
PONG = 0xA

cdef enum:
    OP_CONT = 0
    OP_TEXT = 1
    OP_BINARY = 2
    OP_CLOSE = 8
    OP_PING = 9
    OP_PONG = 10
    MAX_CONTROL = 125           # RFC 6455 §5.5
    SMALL_TEXT = 512            # text this short is unmasked on the stack, then decoded
    ST_READING = 0
    ST_CLOSED = 1
    ST_FAILED = 2

_UTF8 = codecs.getincrementaldecoder("utf-8")


cdef void _unmask(const unsigned char* src, unsigned char* dst, Py_ssize_t n,
                  const unsigned char* key) noexcept nogil:
    """dst = src XOR key repeated (RFC 6455 §5.3), 8 bytes at a time, then the tail."""
    cdef uint32_t k4 = 0
    cdef uint64_t k8, w = 0
    cdef Py_ssize_t i = 0
    memcpy(&k4, key, 4)
    k8 = (<uint64_t>k4 << 32) | k4  # the key twice, in memory order on either endianness
    while i + 8 <= n:
        memcpy(&w, src + i, 8)
        w ^= k8
        memcpy(dst + i, &w, 8)
        i += 8
    while i < n:
        dst[i] = src[i] ^ key[i & 3]
        i += 1


cdef inline bint _valid_close_code(int code) noexcept nogil:
    # RFC 6455 §7.4.1, §7.4.2; the pure twin's valid_close_code() says which and why.
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def valid_close_code(code):
    """True for a close code an endpoint may send (RFC 6455 §7.4.1, §7.4.2); see the pure twin."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def unmask(data, bytes key):
    """*data* XOR the 4-byte masking *key* repeated (RFC 6455 §5.3); its own inverse."""
    cdef Py_buffer view
    cdef bytes out
    if len(key) != 4 and len(data) != 0:
        raise ValueError("a masking key is 4 bytes")
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        out = PyBytes_FromStringAndSize(NULL, view.len)
        if view.len:
            _unmask(<const unsigned char*>view.buf, <unsigned char*>PyBytes_AS_STRING(out), view.len,
                    <const unsigned char*>PyBytes_AS_STRING(key))
        return out
    finally:
        PyBuffer_Release(&view)


@cython.no_gc
@cython.final
cdef class Control:
    """A control frame (RFC 6455 §5.5): ``opcode``, ``data``; for a close ``code`` (1005 when
    absent, §7.1.5) and ``reason``."""

    cdef readonly int opcode
    cdef readonly bytes data
    cdef readonly int code
    cdef readonly str reason

    def __init__(self, int opcode, bytes data, int code=0, str reason=""):
        self.opcode = opcode
        self.data = data
        self.code = code
        self.reason = reason

    def __eq__(self, other):
        if type(other).__name__ != "Control":
            return NotImplemented
        return (self.opcode, self.data, self.code, self.reason) == (
            other.opcode, other.data, other.code, other.reason
        )

    __hash__ = None

    def __repr__(self):
        return f"Control(opcode={self.opcode}, data={self.data!r}, code={self.code}, reason={self.reason!r})"


cdef inline object _fail(int code, str reason):
    return WebSocketProtocolError(code, reason)


@cython.final
cdef class FrameReader:
    """Incremental reader of a client's frames on a connection without extensions (a server's
    side of RFC 6455 §5); limits close with 1009."""

    cdef object _max_frame              # the Python values, as given
    cdef object _max_message
    cdef long long _frame_limit         # -1: no limit
    cdef long long _message_limit
    cdef bytearray _buf
    cdef int _opcode
    cdef list _parts
    cdef long long _size
    cdef object _decoder
    cdef int _state
    cdef object _error

    def __init__(self, *, max_frame_size=None, max_message_size=None):
        self.max_frame_size = max_frame_size
        self.max_message_size = max_message_size
        self._buf = bytearray()
        self._opcode = 0
        self._parts = []
        self._size = 0
        self._decoder = None
        self._state = ST_READING
        self._error = None

    @property
    def max_frame_size(self):
        return self._max_frame

    @max_frame_size.setter
    def max_frame_size(self, value):
        self._frame_limit = -1 if value is None else min(<object>value, 1 << 62)
        self._max_frame = value

    @property
    def max_message_size(self):
        return self._max_message

    @max_message_size.setter
    def max_message_size(self, value):
        self._message_limit = -1 if value is None else min(<object>value, 1 << 62)
        self._max_message = value

    @property
    def closed(self):
        """True once a close frame has been read; later bytes are ignored."""
        return self._state == ST_CLOSED

    @property
    def buffered(self):
        """Bytes held for a frame not complete yet."""
        return len(self._buf)

    def feed(self, data):
        """The messages and control frames that *data* completes, in order."""
        cdef Py_buffer view
        cdef Py_ssize_t pos
        cdef list events
        cdef bytearray buf = self._buf
        cdef bint buffered = len(buf) > 0
        if self._state != ST_READING:
            if self._state == ST_FAILED:
                err = self._error
                err.events = []
                raise err
            return []
        if buffered:
            buf += data
            data = buf
        events = []
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        try:
            try:
                pos = self._run(<const unsigned char*>view.buf, view.len, events)
            finally:
                PyBuffer_Release(&view)
        except WebSocketProtocolError as exc:
            self._state = ST_FAILED
            self._error = exc
            self._parts = []
            self._buf = bytearray()
            exc.events = events
            raise
        if self._state != ST_READING:
            self._buf = bytearray()
        elif buffered:
            del buf[:pos]
        elif pos < len(data):
            self._buf = bytearray(data[pos:])
        return events

    cdef Py_ssize_t _run(self, const unsigned char* p, Py_ssize_t end, list events) except -1:
        cdef Py_ssize_t pos = 0, head, start
        cdef unsigned char b0, b1, plen
        cdef int opcode
        cdef bint fin
        cdef unsigned long long length
        cdef int i
        while end - pos >= 2:
            b0 = p[pos]
            b1 = p[pos + 1]
            if b0 & 0x70:
                raise _fail(1002, "reserved bits set without an extension")  # RFC 6455 §5.2
            opcode = b0 & 0x0F
            fin = (b0 & 0x80) != 0
            plen = b1 & 0x7F
            if opcode >= 8:
                if opcode > OP_PONG:
                    raise _fail(1002, "reserved control opcode")
                if not fin:
                    raise _fail(1002, "fragmented control frame")  # §5.5
                if plen > MAX_CONTROL:
                    raise _fail(1002, "control frame over 125 bytes")  # §5.5
            elif opcode > OP_BINARY:
                raise _fail(1002, "reserved data opcode")
            elif opcode == OP_CONT:
                if not self._opcode:
                    raise _fail(1002, "continuation frame without a message to continue")  # §5.4
            elif self._opcode:
                raise _fail(1002, "new data frame inside a fragmented message")  # §5.4
            if not b1 & 0x80:
                raise _fail(1002, "unmasked client frame")  # §5.1
            if plen == 126:
                head = 8
                if end - pos < 4:
                    break
                length = (<unsigned long long>p[pos + 2] << 8) | p[pos + 3]
                if length < 126:
                    raise _fail(1002, "payload length not minimally encoded")  # §5.2
            elif plen == 127:
                head = 14
                if end - pos < 10:
                    break
                length = 0
                for i in range(8):
                    length = (length << 8) | p[pos + 2 + i]
                if length >> 63:
                    raise _fail(1002, "payload length with the most significant bit set")  # §5.2
                if length < 65536:
                    raise _fail(1002, "payload length not minimally encoded")
            else:
                head = 6
                length = plen
            if opcode < 8:
                if self._frame_limit >= 0 and length > <unsigned long long>self._frame_limit:
                    raise _fail(1009, "frame too big")  # §7.4.1
                if self._message_limit >= 0 and (
                    <unsigned long long>self._size + length > <unsigned long long>self._message_limit
                ):
                    raise _fail(1009, "message too big")
            start = pos + head
            if end < start or <unsigned long long>(end - start) < length:
                break
            pos = start + <Py_ssize_t>length
            if opcode >= 8:
                events.append(self._control(opcode, p + start, <Py_ssize_t>length, p + start - 4))
                if opcode == OP_CLOSE:
                    self._state = ST_CLOSED
                    break
            else:
                self._data(opcode, fin, p + start, <Py_ssize_t>length, p + start - 4, events)
        return pos

    cdef int _data(self, int opcode, bint fin, const unsigned char* src, Py_ssize_t n,
                   const unsigned char* key, list events) except -1:
        cdef unsigned char small[SMALL_TEXT]
        cdef bytes payload
        if opcode != OP_CONT and fin:  # a whole message in one frame: the hot path
            if opcode == OP_TEXT:
                if n <= SMALL_TEXT:
                    _unmask(src, small, n, key)
                    try:
                        events.append(PyUnicode_DecodeUTF8(<char*>small, n, NULL))
                    except UnicodeDecodeError:
                        raise _fail(1007, "invalid UTF-8 in a text message") from None  # §8.1
                    return 0
                payload = PyBytes_FromStringAndSize(NULL, n)
                _unmask(src, <unsigned char*>PyBytes_AS_STRING(payload), n, key)
                try:
                    events.append(PyUnicode_DecodeUTF8(PyBytes_AS_STRING(payload), n, NULL))
                except UnicodeDecodeError:
                    raise _fail(1007, "invalid UTF-8 in a text message") from None
                return 0
            payload = PyBytes_FromStringAndSize(NULL, n)
            _unmask(src, <unsigned char*>PyBytes_AS_STRING(payload), n, key)
            events.append(payload)
            return 0
        if opcode == OP_CONT:
            opcode = self._opcode
        else:  # the first fragment
            self._opcode = opcode
            self._decoder = _UTF8() if opcode == OP_TEXT else None
        payload = PyBytes_FromStringAndSize(NULL, n)
        _unmask(src, <unsigned char*>PyBytes_AS_STRING(payload), n, key)
        self._size += n
        decoder = self._decoder
        if decoder is not None:
            try:
                self._parts.append(decoder.decode(payload, fin))
            except UnicodeDecodeError:
                raise _fail(1007, "invalid UTF-8 in a text message") from None
        else:
            self._parts.append(payload)
        if fin:
            parts = self._parts
            events.append("".join(parts) if decoder is not None else b"".join(parts))
            self._parts = []
            self._opcode = 0
            self._size = 0
            self._decoder = None
        return 0

    cdef object _control(self, int opcode, const unsigned char* src, Py_ssize_t n,
                         const unsigned char* key):
        cdef bytes payload = PyBytes_FromStringAndSize(NULL, n)
        cdef unsigned char* q = <unsigned char*>PyBytes_AS_STRING(payload)
        cdef int code
        if n:
            _unmask(src, q, n, key)
        if opcode != OP_CLOSE:
            return Control(opcode, payload)
        if n == 0:
            return Control(OP_CLOSE, payload, 1005)  # RFC 6455 §7.1.5: no status code
        if n == 1:
            raise _fail(1002, "close frame payload of one byte")  # §5.5.1
        code = q[0] << 8 | q[1]
        if not _valid_close_code(code):
            raise _fail(1002, "invalid close code")  # §7.4
        try:
            reason = PyUnicode_DecodeUTF8(<char*>q + 2, n - 2, NULL)
        except UnicodeDecodeError:
            raise _fail(1007, "close reason is not UTF-8") from None  # §5.5.1
        return Control(OP_CLOSE, payload, code, reason)
