# The compiled twin of connection.py as an extension type (Cython's pure-Python mode: this file
# augments the .py of the same name). Every attribute of ConnectionCore is declared here with
# its type; `public`, as the rest of the connection (fasthttp.protocol) reads and writes them.
# The per-request methods are cpdef: C calls between them, Python-callable from the protocol.
#
# PERF (issue 17): the compiled core runs on the compiled parser (one switch picks both,
# fasthttp._compat), so it cimports the parser's types: the parser's feed() is a C call and a
# head's fields are struct reads, not attribute look-ups (typed locals: @cython.locals below).

cimport cython

from fasthttp._speedups.parser cimport RequestHead as CRequestHead, RequestParser as CRequestParser
# The compiled Request's fields as struct members (fasthttp/_model_py/request.py): the core sets
# and reads them for every request (PERF, issue 17).
from fasthttp._model_c.request cimport RequestBase as CRequest, new_request
# The writer's write_response as a C call (a cpdef function, fasthttp/_speedups/writer.pxd):
# connection.py names it as its facade import (fasthttp.writer), and Cython binds it here.
from fasthttp._speedups.writer cimport write_response
# hot5: the context kernel's copy and call as C calls (fasthttp/_speedups/contextcall.pxd),
# bound to connection.py's facade import (fasthttp.contextcall) as write_response is.
from fasthttp._speedups.contextcall cimport copy_context, run_in
# The small-JSON encoder as a C call (fasthttp/_speedups/jsontext.pxd), the same way.
from fasthttp._speedups.jsontext cimport encode_simple
# The sockio kernel's send_now as a C call (a cpdef function, fasthttp/_speedups/sockio.pxd), bound
# the same way (ConnectionCore._write).
from fasthttp._speedups.sockio cimport send_now


# The module's constants as C numbers (connection.py publishes them as module attributes too).
cdef double _INF
cdef object _ctx_run
cdef str _GET, _V11
cdef int K_NONE, K_IDLE, K_HEAD, K_BODY, K_LINGER
cdef int P_BODY, P_WRITE, P_QUEUE, P_UPGRADE, P_STOP
cdef Py_ssize_t QUEUE_HIGH, DRAIN_LIMIT
# hot5: a C flag, so `if COMPILED:` on the per-request path is a C test (published as the
# module attribute by connection.py, as the constants above).
cdef bint COMPILED


cdef class ConnectionCore:
    cdef public object _manager
    cdef public object _cfg
    cdef public object _loop
    cdef public object _handler
    cdef public CRequestParser _parser
    cdef public object transport
    cdef public object _client
    cdef public object _session
    cdef public object _secure
    cdef public object _active
    cdef public object _queue
    cdef public object _reading
    cdef public object _body
    cdef public object _batch
    cdef public Py_ssize_t _batch_size
    cdef public int _pause_mask
    cdef public bint _write_paused
    cdef public object _drain_waiter
    cdef public long long _requests
    cdef public long long _max_requests
    cdef public bint _keep
    cdef public bint _stop
    cdef public bint _closed
    cdef public bint _upgraded
    cdef public int _kind
    cdef public double _deadline
    cdef public double _write_deadline
    cdef public double _rate_since
    cdef public long long _rate_bytes
    cdef public long long _body_buffered
    cdef public long long _read_high
    cdef public long long _read_low
    cdef public object _max_body
    cdef public object _server_header
    cdef public object _log
    cdef public object _task
    cdef public bint _in_queue
    cdef public object _pending_error
    cdef public object _upgrade_req
    cdef public bint _resume_at_eom
    cdef public bint _no_chunked
    cdef public object _async_mode
    cdef public object _lost_callbacks
    cdef public object _proxy_trust
    cdef public object _text_fields
    cdef public object _json_fields
    cdef public dict _fast_routes
    cdef public double _idle_at
    # hot5: ConnectionManager.deadlines (a list item read per response, not an attribute look-up)
    cdef public list _deadlines
    # send5: the descriptor for direct writes (-2 unknown, -1 not eligible) and the transport's
    # get_write_buffer_size and is_closing, bound once (ConnectionCore._write).
    cdef public int _fd
    cdef public object _tx_size
    cdef public object _tx_closing

    cpdef _close_after(self, req)
    cpdef body_buffered(self, n)
    cpdef body_consumed(self, n)
    cpdef data_received(self, data)
    cpdef _pause_reading(self, reason)
    cpdef _resume_reading(self, reason)
    @cython.locals(head=CRequestHead, i=Py_ssize_t, skip=Py_ssize_t, n=Py_ssize_t)
    cpdef _on_events(self, list events)
    cpdef _on_head_with_body(self, CRequestHead head, events, i)
    cpdef _on_body(self, data)
    cpdef _on_head(self, CRequestHead head)
    @cython.locals(req=CRequest)
    cpdef _open(self, CRequestHead head, whole=*)
    cpdef _schedule(self, req)
    cpdef _on_eom(self, eom)
    cpdef _to_idle(self)
    @cython.locals(n=Py_ssize_t)
    cdef inline bint _buffered(self)
    @cython.locals(head=CRequestHead, routes=dict, calls=dict)
    cpdef _dispatch(self, CRequest req)
    @cython.locals(head=CRequestHead)
    cpdef _keep_alive(self, CRequest req)
    @cython.locals(head=CRequestHead, keep=bint, is_head=bint, http_1_0=bint, idle=double, method=str)
    cpdef _respond(self, CRequest req, result)
    cpdef _finished(self, req, keep)
    cpdef _run_queue(self)
    cpdef _send(self, data)
    cpdef _flush(self)
    # cdef: called by the core only (PERF: no check for a Python override per call).
    @cython.locals(fd=int, n=Py_ssize_t, whole=bytes)
    cdef _write(self, data)
    cdef int _descriptor(self) except? -3
