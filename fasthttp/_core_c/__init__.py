"""The connection core's compiled twin: ``connection``, built by setup.py from
``fasthttp/_core_py/connection.py`` (absent from a pure install)."""
