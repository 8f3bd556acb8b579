"""Type stubs for the compiled context-call kernel (twin of ``fasthttp._pure.contextcall``)."""

import contextvars
from collections.abc import Callable
from typing import Any

__all__ = ("copy_context", "run_in")

def copy_context() -> contextvars.Context:
    """A copy of the current context (``contextvars.copy_context()``)."""

def run_in(ctx: contextvars.Context, fn: Callable[[Any], Any], arg: Any) -> Any:
    """``fn(arg)`` run in *ctx* (``ctx.run(fn, arg)``): what it returns or raises."""
