# C-level interface of the context-call kernel, for the compiled connection core
# (fasthttp/_core_c/connection.pxd cimports it): a request's context copy and its handler call
# are C calls (PERF, issue 17).

cpdef object copy_context()
cpdef object run_in(object ctx, object fn, object arg)
