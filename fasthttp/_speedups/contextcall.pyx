# cython: language_level=3, embedsignature=True
"""A call in a ``contextvars`` context: the compiled twin of ``fasthttp/_pure/contextcall.py``.

Strategy: CPython's context C API (public since 3.7), which ``contextvars.copy_context`` and
``Context.run`` themselves call: ``PyContext_CopyCurrent``, then ``PyContext_Enter``, the call,
``PyContext_Exit``. PERF (issue 17): the compiled connection core cimports both functions
(``contextcall.pxd``), so each request's copy and handler call are C calls, without a Python
call of ``copy_context`` and of the ``run`` method descriptor and its argument checks (callgrind,
plaintext: ~180 instructions per request). The pure twin is the specification: the same
results and the same errors.
"""

from cpython.contextvars cimport PyContext_CopyCurrent, PyContext_Enter, PyContext_Exit

__all__ = ("copy_context", "run_in")


cpdef object copy_context():
    """A copy of the current context (``contextvars.copy_context()``)."""
    return PyContext_CopyCurrent()


cpdef object run_in(object ctx, object fn, object arg):
    """``fn(arg)`` run in *ctx* (``ctx.run(fn, arg)``): what it returns or raises."""
    PyContext_Enter(ctx)  # TypeError for a non-Context, RuntimeError if already entered
    try:
        return fn(arg)
    finally:
        PyContext_Exit(ctx)
