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

from .auth import BasicAuth, BearerAuth, DigestAuth, Identity, passwords_match
from .authz import (
    Authorize,
    Condition,
    all_of,
    any_of,
    from_network,
    in_group,
    is_authenticated,
    is_https,
    is_user,
    none_of,
)
from .compression import Compression
from .conditional import ConditionalRequests
from .cors import CORS
from .csrf import CSRF, csrf_token
from .i18n import Languages
from .ratelimit import RateLimit
from .saml import SamlServiceProvider
from .security import SecurityHeaders
from .sessions import Sessions, SessionTooLarge
from .stack import CallNext, Middleware, MiddlewareStack, is_async_callable
from .stores import MemoryStore, RedisStore, StoreUnavailable
from .trace import Trace
from .validator import ResponseValidationError, Validator

__all__ = (
    # the stack (stack.py)
    "CallNext",
    "Middleware",
    "MiddlewareStack",
    "is_async_callable",
    # HTTP semantics (issue 14)
    "Compression",
    "ConditionalRequests",
    "Languages",
    # who may do what (issue 18)
    "CORS",
    "Sessions",
    "SessionTooLarge",
    "CSRF",
    "csrf_token",
    "RateLimit",
    "SecurityHeaders",
    "MemoryStore",
    "RedisStore",
    "StoreUnavailable",
    "BasicAuth",
    "DigestAuth",
    "BearerAuth",
    "Identity",
    "passwords_match",
    "Authorize",
    "Condition",
    "all_of",
    "any_of",
    "none_of",
    "is_user",
    "in_group",
    "from_network",
    "is_https",
    "is_authenticated",
    "SamlServiceProvider",
    # debugging aids (issue 16)
    "Validator",
    "ResponseValidationError",
    "Trace",
)
