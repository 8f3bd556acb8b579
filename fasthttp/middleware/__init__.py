"""``fasthttp.middleware``: the middleware stack and the middleware classes, one public namespace.

A middleware is ``middleware(request, call_next)`` (``fasthttp.middleware.stack`` states the
contract and composes the chain). The classes here are instances with that ``__call__``, added
app-wide with ``app.add_middleware(Instance)`` or on one route with the ``middleware=[...]``
route option; each lives in its own module of this package (one concern per module) and is
re-exported here, so ``from fasthttp.middleware import X`` is the one spelling users need.

Strategy: every module of this package imports what it needs from ``.stack`` (never from this
``__init__``), so the package has no import cycle; optional third-party libraries (brotli, zstd,
redis, SAML) are imported lazily, when a class that needs them is constructed.
"""

from __future__ import annotations

from .stack import CallNext, Middleware, MiddlewareStack, is_async_callable

__all__ = ("CallNext", "Middleware", "MiddlewareStack", "is_async_callable")
from .validator import ResponseValidationError, Validator  # noqa: E402

__all__ += ("Validator", "ResponseValidationError")  # type: ignore[assignment]  # NOTE: the merge may widen __all__'s type once
from .trace import Trace  # noqa: E402

__all__ += ("Trace",)  # type: ignore[assignment]
