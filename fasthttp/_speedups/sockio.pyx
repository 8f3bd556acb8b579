# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, embedsignature=True
"""Socket I/O on a borrowed descriptor: the compiled twin of ``fasthttp/_pure/sockio.py``.

Strategy: each call is the system call itself on the descriptor (``send``, ``shutdown``,
``setsockopt``), with no ``socket.socket`` wrapper (PERF, issue 17: CPython validates a
descriptor it wraps with one more system call, ``getsockname``, and the wrapper and its
``detach`` cost ~4.7 µs per call). The pure twin is the specification: the same results and
the same error types.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.exc cimport PyErr_SetFromErrno
from libc.errno cimport EAGAIN, EINTR, errno

__all__ = ("send_more", "send_now", "send_and_shutdown", "bound_backlog")

cdef extern from "<sys/socket.h>" nogil:
    ssize_t c_send "send"(int fd, const void* buf, size_t n, int flags)
    int c_shutdown "shutdown"(int fd, int how)
    int c_setsockopt "setsockopt"(int fd, int level, int name, const void* value, unsigned int size)
    int SHUT_WR

cdef extern from *:
    """
    #include <netinet/in.h>
    #include <netinet/tcp.h>
    #ifdef MSG_MORE
    #define FASTHTTP_MSG_MORE MSG_MORE
    #else
    #define FASTHTTP_MSG_MORE 0
    #endif
    #ifdef MSG_NOSIGNAL
    #define FASTHTTP_MSG_NOSIGNAL MSG_NOSIGNAL
    #else
    #define FASTHTTP_MSG_NOSIGNAL 0
    #endif
    #ifdef MSG_DONTWAIT
    #define FASTHTTP_MSG_DONTWAIT MSG_DONTWAIT
    #else
    #define FASTHTTP_MSG_DONTWAIT 0
    #endif
    #ifdef TCP_NOTSENT_LOWAT
    #define FASTHTTP_NOTSENT_LOWAT TCP_NOTSENT_LOWAT
    #else
    #define FASTHTTP_NOTSENT_LOWAT (-1)
    #endif
    """
    int FASTHTTP_MSG_MORE
    int FASTHTTP_MSG_NOSIGNAL
    int FASTHTTP_MSG_DONTWAIT
    int FASTHTTP_NOTSENT_LOWAT
    int IPPROTO_TCP

cdef extern from "<errno.h>":
    int EWOULDBLOCK


cdef Py_ssize_t _send(int fd, bytes data, int flags) except -2:
    """``send`` with *flags* (and ``MSG_NOSIGNAL``): the count sent, 0 when the socket is full;
    raises on any other error. MSG_NOSIGNAL: a peer gone raises EPIPE here, never SIGPIPE
    (CPython ignores it anyway; a host embedding Python may not)."""
    cdef Py_ssize_t size = PyBytes_GET_SIZE(data)
    cdef const char* buf = PyBytes_AS_STRING(data)
    cdef ssize_t n
    while True:
        n = c_send(fd, buf, <size_t>size, flags | FASTHTTP_MSG_NOSIGNAL)
        if n >= 0:
            return n
        if errno == EINTR:
            continue
        if errno == EAGAIN or errno == EWOULDBLOCK:
            return 0
        PyErr_SetFromErrno(OSError)
        return -2


def send_more(int fd, bytes data not None):
    """The pure twin's ``send_more`` in C: one ``send`` with ``MSG_MORE``."""
    if not PyBytes_GET_SIZE(data):
        return 0
    return _send(fd, data, FASTHTTP_MSG_MORE)


cpdef Py_ssize_t send_now(int fd, bytes data) except -2:
    """The pure twin's ``send_now`` in C: one ``send`` with ``MSG_DONTWAIT``. cpdef (sockio.pxd):
    the compiled connection core calls it in C."""
    if data is None:
        raise TypeError("data must be bytes, not NoneType")
    if not PyBytes_GET_SIZE(data):
        return 0
    return _send(fd, data, FASTHTTP_MSG_DONTWAIT)


def send_and_shutdown(int fd, bytes data not None):
    """The pure twin's ``send_and_shutdown`` in C: ``send`` then ``shutdown`` on the borrowed
    descriptor."""
    cdef Py_ssize_t size = PyBytes_GET_SIZE(data)
    cdef Py_ssize_t n = 0
    if size:
        n = _send(fd, data, FASTHTTP_MSG_MORE)
        if n < size:
            return n
    if c_shutdown(fd, SHUT_WR) != 0:
        PyErr_SetFromErrno(OSError)
    return n


def bound_backlog(int fd, int lowat):
    """The pure twin's ``bound_backlog`` in C: one ``setsockopt(TCP_NOTSENT_LOWAT)``."""
    if FASTHTTP_NOTSENT_LOWAT < 0:
        return False
    return c_setsockopt(fd, IPPROTO_TCP, FASTHTTP_NOTSENT_LOWAT, &lowat, sizeof(lowat)) == 0
