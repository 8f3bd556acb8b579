"""A call in a ``contextvars`` context: the pure-Python twin, and the executable specification.

Strategy: the engine runs each request's handler in a copy of the current context, so context
variables the handler sets never leak into later requests (``fasthttp._core_py.connection``):
:func:`copy_context` makes that copy and :func:`run_in` calls ``fn(arg)`` inside it, exactly as
``contextvars.copy_context()`` and ``ctx.run(fn, arg)``. This twin *is* those two callables
(PERF: no Python frame of its own in the pure connection core); the compiled twin,
``fasthttp/_speedups/contextcall.pyx``, makes the same calls through CPython's C API
(``PyContext_CopyCurrent``, ``PyContext_Enter``, ``PyContext_Exit``), without the method
call's argument handling. Errors, in both twins: *ctx* already entered (by this thread or
another) raises ``RuntimeError``; what ``fn`` raises propagates, the context exited first.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

__all__ = ("copy_context", "run_in")

if TYPE_CHECKING:

    def copy_context() -> contextvars.Context:
        """A copy of the current context (``contextvars.copy_context()``)."""

    def run_in(ctx: contextvars.Context, fn: Callable[[Any], Any], arg: Any) -> Any:
        """``fn(arg)`` run in *ctx* (``ctx.run(fn, arg)``): what it returns or raises."""

else:
    copy_context = contextvars.copy_context
    run_in = contextvars.Context.run  # the method descriptor: run_in(ctx, fn, arg)
