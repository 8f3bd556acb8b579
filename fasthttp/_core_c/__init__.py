"""The connection core's compiled twin: ``connection``, built by setup.py from
``fasthttp/_core_py/connection.py`` with the declarations of ``connection.pxd`` (an extension
type); absent from a pure install, where ``fasthttp.protocol`` uses the pure twin."""
