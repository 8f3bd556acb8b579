"""The message model's compiled twins: ``request``, built by setup.py from
``fasthttp/_model_py/request.py`` with the declarations of ``request.pxd`` (an extension type);
absent from a pure install, where ``fasthttp.requests`` uses the pure twin."""
