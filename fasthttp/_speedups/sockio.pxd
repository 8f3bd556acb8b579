# C-level interface of the socket I/O kernel, for the compiled connection core
# (fasthttp/_core_c/connection.pxd cimports it): a response's direct send is a C call, with no
# argument parsing and no int object for the count (PERF, issue 17).

cpdef Py_ssize_t send_now(int fd, bytes data) except -2
