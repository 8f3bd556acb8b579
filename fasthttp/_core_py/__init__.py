"""The connection core's pure twin: ``connection.py``, the source of both twins (see its
docstring); Cython compiles it into ``fasthttp._core_c.connection``."""
