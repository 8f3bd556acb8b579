# C-level interface of the small-JSON encoder, for the compiled connection core
# (fasthttp/_core_c/connection.pxd cimports it): the core's JSON answers call it as a C
# function, with no argument parsing (PERF, issue 17).

cpdef bytes encode_simple(value)
