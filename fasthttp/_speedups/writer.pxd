# C-level interface of the response writer, for the compiled connection core
# (fasthttp/_core_c/connection.pxd cimports it): a response is serialized by a C call, with no
# argument tuple or keyword parsing (PERF, issue 17).

cpdef object write_response(status, fields, body, bint keep_alive=*, bint http_1_0=*,
                            bint head=*, bint date=*, server=*)
