"""A call in a ``contextvars`` context: a copy of the current context, and ``fn(arg)`` run in it
(what the engine does for each request's handler).

Facade: the compiled twin (``fasthttp._speedups.contextcall``) unless it is missing or
``FASTHTTP_NO_EXTENSIONS`` is set, then the pure twin (``fasthttp._pure.contextcall``). Type
checkers read the pure twin's names (the executable specification); ``tests/test_typing.py``
checks that the compiled twin's stub, ``_speedups/contextcall.pyi``, declares the same API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._compat import load

__all__ = ("copy_context", "run_in")

if TYPE_CHECKING:
    from ._pure.contextcall import copy_context, run_in
else:
    _impl = load("contextcall")

    copy_context = _impl.copy_context
    run_in = _impl.run_in
