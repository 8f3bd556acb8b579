# The compiled twin of fasthttp/_model_py/request.py as an extension type (Cython's pure-Python
# mode: this file augments the .py of the same name). Every field of RequestBase is declared
# here; `public`, as fasthttp.requests.Request (a Python subclass) and the application read and
# write them. The compiled connection core cimports this type (fasthttp/_core_c/connection.pxd)
# and reaches the fields as struct members (PERF, issue 17).

cimport cython


@cython.auto_pickle(False)
cdef class RequestBase:
    cdef public object head
    cdef public object connection
    cdef public object body_reader
    cdef public object _max_body_size
    cdef public object _query_params
    cdef public object received_at
    cdef public object context
    cdef public object params
    cdef public object _cookies
    cdef public object _media
    cdef public object form_data
    cdef public object published
    cdef public object background


# Request(...) as C calls: the compiled core makes each request with new_request (PERF, issue 17).
cpdef int init_request(RequestBase req, object head, object connection, object max_body_size) except -1
cpdef RequestBase new_request(type cls, object head, object connection, object max_body_size)
