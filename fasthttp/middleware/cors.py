"""``CORS``: cross-origin resource sharing (the Fetch standard's CORS protocol), as middleware.

Strategy
--------
The allowed origins are compiled once into one predicate: exact origins (a set look-up), ``"*"``
(any), ``"https://*.example.com"`` (that domain's subdomains), compiled regular expressions
(full match), or one callable ``(origin) -> bool``. Per request:

- no ``Origin`` field: not a CORS request; the response only gains ``Vary: Origin`` when the
  answer depends on the origin (Fetch §3.2.5: caches must not serve one origin's answer to
  another);
- a preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``, Fetch §3.2.2)
  is answered here, without reaching the route (so a route needs no ``OPTIONS`` method): 204
  with ``Access-Control-Allow-Origin``/``-Methods``/``-Headers``/``-Credentials``/``-Max-Age``
  when the origin, the method and every requested header are allowed; otherwise 403, and the
  reason goes to the server log (logger ``fasthttp.cors``) and to the body;
- an actual request from an allowed origin runs, and its response gains
  ``Access-Control-Allow-Origin`` (and ``-Credentials``, ``-Expose-Headers``); from another
  origin it runs without them, so the browser withholds the response from the page.

APPSEC: credentials are never combined with ``*`` (Fetch §3.2.5 forbids it, and reflecting any
origin with credentials would let every site read a user's data): ``allow_credentials=True``
with a wildcard origin is refused when the middleware is built. CORS relaxes the same-origin
policy for reading; it does not stop a cross-site request from being sent (that is CSRF's job,
``fasthttp.middleware.csrf``). Responses are copied, never changed in place (they may be
shared constants).

Route-level use (``middleware=[CORS(...)]``): the App answers a preflight to such a route's
path through the route's middleware (``fasthttp.app``, automatic ``OPTIONS``), so it is
answered here too.
"""

from __future__ import annotations

import logging
import re
import types
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .._grammar import TOKEN
from ..errors import HttpError
from ..responses import FieldMethods, Response, has_field, with_fields
from .stack import FULL, AppendFields, CallNext

if TYPE_CHECKING:
    from ..requests import Request

__all__ = ("CORS",)

log = logging.getLogger("fasthttp.cors")

_CORO = types.CoroutineType
# Fetch §2.2.1: the CORS-safelisted methods need no Access-Control-Allow-Methods.
_SAFELISTED_METHODS = frozenset({"GET", "HEAD", "POST"})
# Fetch §2.2.2: these request headers are CORS-safelisted (for simple values); a browser lists a
# header in Access-Control-Request-Headers only when it is not, but allowing them costs nothing.
_SAFELISTED_HEADERS = frozenset({"accept", "accept-language", "content-language"})
# RFC 6454 §6.1: scheme "://" host [":" port], or "null".
_ORIGIN_FORM = re.compile(r"[a-z][a-z0-9+.-]*://(?:[a-z0-9._-]+|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?")
_VARY_ORIGIN = ("Vary", "Origin")
_CACHED_ORIGINS = 256


def _origin_predicate(allow_origins: Any) -> tuple[Callable[[str], bool], bool]:
    """``(allowed(origin), any_origin)`` for the ``allow_origins`` option."""
    if callable(allow_origins) and not isinstance(allow_origins, (str, re.Pattern)):
        return allow_origins, False
    if isinstance(allow_origins, (str, re.Pattern)):
        allow_origins = [allow_origins]
    exact: set[str] = set()
    patterns: list[re.Pattern[str]] = []
    for item in allow_origins:
        if isinstance(item, re.Pattern):
            patterns.append(item)
            continue
        if not isinstance(item, str):
            raise TypeError(f"an allowed origin is a str, a compiled regex or a callable, not {item!r}")
        origin = item.strip().lower().rstrip("/")
        if origin == "*":
            return (lambda origin: True), True
        if origin == "null":
            exact.add(origin)
            continue
        scheme, sep, rest = origin.partition("://")
        if rest.startswith("*."):
            # A subdomain wildcard: any non-empty run of DNS labels before the given domain.
            check = f"{scheme}://x.{rest[2:]}"
            if not sep or not _ORIGIN_FORM.fullmatch(check):
                raise ValueError(f"invalid allowed origin {item!r}")
            patterns.append(re.compile(re.escape(f"{scheme}://") + r"(?:[a-z0-9-]+\.)+" + re.escape(rest[2:])))
            continue
        if not sep or not _ORIGIN_FORM.fullmatch(origin):
            raise ValueError(f"invalid allowed origin {item!r}: write scheme://host[:port] (RFC 6454 §6.1), no path")
        exact.add(origin)

    def allowed(origin: str) -> bool:
        if origin in exact:
            return True
        for pattern in patterns:
            if pattern.fullmatch(origin):
                return True
        return False

    return allowed, False


def _names(value: Iterable[str] | str, what: str, upper: bool) -> tuple[frozenset[str], bool, list[str]]:
    """``(set, wildcard, as written)`` for a list of methods or header names."""
    if isinstance(value, str):
        value = [v for v in value.split(",")]
    items = [v.strip() for v in value if v.strip()]
    if "*" in items:
        return frozenset(), True, ["*"]
    for item in items:
        if not TOKEN.fullmatch(item):
            raise ValueError(f"invalid {what} {item!r} (RFC 9110 §5.6.2: a token)")
    written = [i.upper() if upper else i for i in items]
    return frozenset(i.upper() if upper else i.lower() for i in items), False, written


class CORS:
    """Cross-origin resource sharing (see the module docstring).

    *allow_origins*: origins allowed to read responses: a list of ``"https://app.example.com"``,
    ``"https://*.example.com"`` and compiled regexes, ``"*"`` (any), or a callable
    ``(origin) -> bool``. *allow_methods*: methods a preflight may ask for (``"*"``: any;
    GET, HEAD and POST are always allowed). *allow_headers*: request headers a preflight may
    ask for (``"*"``: any). *allow_credentials*: let the browser send cookies and read the
    response (never with a wildcard origin). *expose_headers*: response headers the page may
    read. *max_age*: seconds a browser may cache a preflight (None: not said).
    """

    def __init__(
        self,
        allow_origins: Any = (),
        allow_methods: Iterable[str] | str = ("GET", "HEAD", "POST"),
        allow_headers: Iterable[str] | str = (),
        allow_credentials: bool = False,
        *,
        expose_headers: Iterable[str] | str = (),
        max_age: int | None = 600,
    ) -> None:
        self._allowed, self.any_origin = _origin_predicate(allow_origins)
        if allow_credentials and self.any_origin:
            raise ValueError(
                "allow_credentials=True with allow_origins='*' would let every site read "
                "users' responses (the Fetch standard forbids it): list the origins, or give a "
                "regex or a callable"
            )
        self.allow_credentials = bool(allow_credentials)
        self._methods, self._any_method, methods = _names(allow_methods, "method", upper=True)
        self._headers, self._any_header, _ = _names(allow_headers, "header name", upper=False)
        _, _, exposed = _names(expose_headers, "header name", upper=False)
        if max_age is not None and (not isinstance(max_age, int) or isinstance(max_age, bool) or max_age < 0):
            raise ValueError(f"max_age is a non-negative int of seconds or None, not {max_age!r}")
        self.max_age = max_age
        self._methods_value = ", ".join(methods)
        # Fields of every response to an allowed origin (Access-Control-Allow-Origin is added
        # per request when it is the origin itself).
        common: list[tuple[str, str]] = []
        if self.allow_credentials:
            common.append(("Access-Control-Allow-Credentials", "true"))
        self._common = common
        self._exposed = [("Access-Control-Expose-Headers", ", ".join(exposed))] if exposed else []
        # The answer depends on the origin unless every origin gets "*" (Fetch §3.2.5: Vary).
        self._vary = not self.any_origin
        # Allowed origin -> the fields of its responses (see __call__).
        self._allowed_fields: dict[str, list[tuple[str, str]]] = {}
        # PERF: what before() answers, built once (benchmarks/bench_middleware.py): for a
        # request from no origin or a refused one, and per allowed origin (bounded as above).
        self._plain_plan = AppendFields([_VARY_ORIGIN] if self._vary else [], ())
        self._origin_plans: dict[str, AppendFields] = {}

    def allows(self, origin: str) -> bool:
        """Whether *origin* (an ``Origin`` field value) may read responses."""
        if "," in origin or " " in origin:  # more than one value: not an origin
            return False
        return self._allowed(origin)

    def _origin_fields(self, origin: str) -> list[tuple[str, str]]:
        if self.any_origin:
            return [("Access-Control-Allow-Origin", "*"), *self._common]
        return [("Access-Control-Allow-Origin", origin), *self._common]

    # -- the middleware ---------------------------------------------------------------------------

    def __call__(self, request: Request, call_next: CallNext) -> Any:
        origins = request.headers.getall("origin")
        if not origins:
            if not self._vary:
                return call_next(request)
            return self._finish(call_next(request), ())
        # RFC 6454 §7.3: one Origin field; two match no origin (allows() says no to ",").
        origin = origins[0] if len(origins) == 1 else ","
        if request.method == "OPTIONS":
            wanted = request.headers.get("access-control-request-method")
            if wanted is not None:
                return self.preflight(request, origin, wanted)
        fields = self._allowed_fields.get(origin)
        if fields is None:
            if not self.allows(origin):
                log.debug("CORS: %s %s from origin %r, not allowed: answered without CORS fields", request.method, request.path, origin)
                return self._finish(call_next(request), ())
            fields = [*self._origin_fields(origin), *self._exposed]
            if len(self._allowed_fields) < _CACHED_ORIGINS:
                # PERF: the fields of an allowed origin are built once (bounded: a regex or a
                # callable may allow many origins; benchmarks/bench_middleware.py).
                self._allowed_fields[origin] = fields
        return self._finish(call_next(request), fields)

    #: The request field that makes a request a CORS one (Fetch §3.2.5); without it,
    #: :meth:`quiet` says what :meth:`before` would (the stack's quiet form).
    triggers = ("origin",)

    def quiet(self, secure: bool) -> AppendFields | None:
        """What :meth:`before` answers for a request without ``Origin`` (not a CORS request):
        ``Vary: Origin`` when the answer depends on the origin, else nothing. The stack asks
        once, at start-up (``fasthttp.middleware.stack``: PERF, such a request then costs
        one header look-up here)."""
        return self._plain_plan if self._vary else None

    def before(self, request: Request) -> Any:
        """The stack's split form (``fasthttp.middleware.stack``): the fields of the answer to a
        request that is not a preflight, appended by the stack (a preflight runs
        :meth:`__call__`, which answers it)."""
        head = request.head  # PERF: the kernel's head and index, not the Request's properties
        origins = head.headers.getall("origin")
        if not origins:
            return self._plain_plan if self._vary else None
        origin = origins[0] if len(origins) == 1 else ","
        plan = self._origin_plans.get(origin)
        if plan is not None and head.method != "OPTIONS":
            return plan
        if head.method == "OPTIONS" and head.headers.get("access-control-request-method") is not None:
            return FULL
        if not self.allows(origin):
            log.debug("CORS: %s %s from origin %r, not allowed: answered without CORS fields", request.method, request.path, origin)
            return self._plain_plan if self._vary else None
        fields = [*self._origin_fields(origin), *self._exposed]
        plan = AppendFields([*fields, _VARY_ORIGIN] if self._vary else fields, fields)
        if len(self._origin_plans) < _CACHED_ORIGINS:
            self._origin_plans[origin] = plan
        return plan

    def after(self, request: Request, response: Any, plan: AppendFields) -> Any:
        """The response, when it has a ``Vary`` (merged) or a CORS field of its own."""
        return self._finish(response, plan.detail)

    def _finish(self, result: Any, fields: list[tuple[str, str]] | tuple[()]) -> Any:
        if type(result) is _CORO:
            return self._finish_async(result, fields)
        if not self._vary:
            return with_fields(result, fields)
        if not isinstance(result, FieldMethods):
            return result  # an Upgrade
        if not has_field(result.fields, b"vary"):
            return with_fields(result, [*fields, _VARY_ORIGIN])
        response = with_fields(result, fields)
        response.add_vary("Origin")  # merged into the Vary the response has
        return response

    async def _finish_async(self, result: Any, fields: list[tuple[str, str]] | tuple[()]) -> Any:
        return self._finish(await result, fields)

    def preflight(self, request: Request, origin: str, method: str) -> Response:
        """The answer to a preflight from *origin* asking for *method* (and the headers of
        ``Access-Control-Request-Headers``): 204 with the CORS fields, or an ``HttpError(403)``
        saying why (logged)."""
        method = method.strip()
        reason = None
        requested: list[str] = []
        if not self.allows(origin):
            reason = f"origin {origin!r} is not allowed"
        elif not TOKEN.fullmatch(method):
            reason = f"Access-Control-Request-Method {method!r} is not a method"
        elif not (self._any_method or method in self._methods or method in _SAFELISTED_METHODS):
            reason = f"method {method} is not allowed"
        else:
            for value in request.headers.getall("access-control-request-headers"):
                requested += [h.strip().lower() for h in value.split(",") if h.strip()]
            for name in requested:
                if not TOKEN.fullmatch(name):
                    reason = f"Access-Control-Request-Headers names {name!r}, not a header"
                    break
                if not (self._any_header or name in self._headers or name in _SAFELISTED_HEADERS):
                    reason = f"header {name!r} is not allowed"
                    break
        vary = [_VARY_ORIGIN] if self._vary else []
        if reason is not None:
            log.info("CORS preflight refused: %s %s: %s", method, request.path, reason)
            raise HttpError(403, f"CORS preflight refused: {reason}", vary)
        fields = self._origin_fields(origin)
        fields.append(("Access-Control-Allow-Methods", method if self._any_method else self._methods_value))
        if requested:
            fields.append(("Access-Control-Allow-Headers", ", ".join(dict.fromkeys(requested))))
        if self.max_age is not None:
            fields.append(("Access-Control-Max-Age", str(self.max_age)))
        fields += vary
        return Response(b"", 204, fields)

    def __repr__(self) -> str:
        return f"<CORS any_origin={self.any_origin} credentials={self.allow_credentials}>"
