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
from .auth import BasicAuth, BearerAuth, DigestAuth, Identity, passwords_match

__all__ += ("BasicAuth", "DigestAuth", "BearerAuth", "Identity", "passwords_match")  # type: ignore[assignment]
from .authz import Authorize, Condition, all_of, any_of, from_network, in_group, is_authenticated, is_https, is_user, none_of

__all__ += ("Authorize", "Condition", "all_of", "any_of", "none_of", "is_user", "in_group", "from_network", "is_https", "is_authenticated")  # type: ignore[assignment]
from .saml import SamlServiceProvider

__all__ += ("SamlServiceProvider",)  # type: ignore[assignment]
from .compression import Compression

__all__ += ("Compression",)  # type: ignore[assignment]
from .conditional import ConditionalRequests

__all__ += ("ConditionalRequests",)  # type: ignore[assignment]
from .i18n import Languages

__all__ += ("Languages",)  # type: ignore[assignment]
from .cors import CORS
from .csrf import CSRF, csrf_token
from .ratelimit import RateLimit
from .security import SecurityHeaders
from .sessions import Sessions, SessionTooLarge
from .stores import MemoryStore, RedisStore, StoreUnavailable

__all__ += ("CORS", "CSRF", "csrf_token", "RateLimit", "SecurityHeaders", "Sessions", "SessionTooLarge")  # type: ignore[assignment]
__all__ += ("MemoryStore", "RedisStore", "StoreUnavailable")  # type: ignore[assignment]
