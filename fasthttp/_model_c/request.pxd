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


# PERF (issue 17): Cython exposes `cdef public` fields as getset descriptors, which CPython's
# attribute cache cannot specialize (~31 ns per read from interpreted code, against ~9 ns for a
# __slots__ member). install_members (called by request.py when compiled) puts member
# descriptors (T_OBJECT_EX, the pure twin's __slots__ kind) over the fields no compiled code
# reads or writes after init_request: a `del` there leaves the slot empty (the next read raises
# AttributeError, as in the pure twin), which compiled code reading the struct would not
# survive. `head` and `connection` are set once, by init_request: read-only members. The
# fields the compiled core reads as struct members (body_reader, context, form_data,
# background, received_at) keep Cython's descriptors, whose `del` stores None.
cdef extern from *:
    """
    #include <stddef.h>
    #include "structmember.h"
    /* expanded where used, after Cython has defined the struct */
    #define FR_OFFSET(f) offsetof(struct __pyx_obj_8fasthttp_8_model_c_7request_RequestBase, f)
    static int fr_add_member(PyObject *type, const char *name, Py_ssize_t offset, int flags) {
        /* the PyMemberDef must outlive the descriptor: the type lives as long as the process */
        PyMemberDef *m = (PyMemberDef *)PyMem_Calloc(1, sizeof(PyMemberDef));
        PyObject *d;
        int r;
        if (m == NULL) { PyErr_NoMemory(); return -1; }
        m->name = name;
        m->type = T_OBJECT_EX;
        m->offset = offset;
        m->flags = flags;
        d = PyDescr_NewMember((PyTypeObject *)type, m);
        if (d == NULL) return -1;
        r = PyDict_SetItemString(((PyTypeObject *)type)->tp_dict, name, d);
        Py_DECREF(d);
        PyType_Modified((PyTypeObject *)type);
        return r;
    }
    """
    int fr_add_member(object type, const char* name, Py_ssize_t offset, int flags) except -1
    int READONLY
    Py_ssize_t FR_OFF_HEAD "FR_OFFSET(head)"
    Py_ssize_t FR_OFF_CONNECTION "FR_OFFSET(connection)"
    Py_ssize_t FR_OFF_PARAMS "FR_OFFSET(params)"
    Py_ssize_t FR_OFF_PUBLISHED "FR_OFFSET(published)"
    Py_ssize_t FR_OFF_MAX_BODY_SIZE "FR_OFFSET(_max_body_size)"
    Py_ssize_t FR_OFF_QUERY_PARAMS "FR_OFFSET(_query_params)"
    Py_ssize_t FR_OFF_COOKIES "FR_OFFSET(_cookies)"
    Py_ssize_t FR_OFF_MEDIA "FR_OFFSET(_media)"


cdef inline int install_members(type cls) except -1:
    fr_add_member(cls, b"head", FR_OFF_HEAD, READONLY)
    fr_add_member(cls, b"connection", FR_OFF_CONNECTION, READONLY)
    fr_add_member(cls, b"params", FR_OFF_PARAMS, 0)
    fr_add_member(cls, b"published", FR_OFF_PUBLISHED, 0)
    fr_add_member(cls, b"_max_body_size", FR_OFF_MAX_BODY_SIZE, 0)
    fr_add_member(cls, b"_query_params", FR_OFF_QUERY_PARAMS, 0)
    fr_add_member(cls, b"_cookies", FR_OFF_COOKIES, 0)
    fr_add_member(cls, b"_media", FR_OFF_MEDIA, 0)
    return 0


# Request(...) as C calls: the compiled core makes each request with new_request (PERF, issue 17).
cpdef int init_request(RequestBase req, object head, object connection, object max_body_size) except -1
cpdef RequestBase new_request(type cls, object head, object connection, object max_body_size)
