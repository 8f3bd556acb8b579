"""Resources: classes whose methods are routes.

Strategy: the decorators (:func:`get`, :func:`post`, :func:`put`, :func:`patch`,
:func:`delete`, :func:`route`, :func:`websocket`) only *mark* a function, storing what to
register on it; nothing is registered until ``app.add(resource_instance, prefix=...)``, which
reads the marks of the instance's class (:func:`resource_routes`), binds each method to the
instance and registers it like ``@app.get`` would, with the same per-route options
(``max_body_size``, ``consumes``, ``produces``, ``expect``, ``blocking``, ``middleware``). So one
class can be instantiated several times (each instance with its own state) and mounted under
several prefixes. A ``middleware`` attribute of the resource wraps every one of its routes.

Paths: a method's path is relative to the resource's ``path`` class attribute (default ``""``):
``path = "/users"`` and ``@get("/:id")`` give ``/users/:id``; ``@get()`` is the base path itself
(``"/"`` when both are empty). ``app.add(..., prefix="/api")`` puts the whole resource under a
prefix (the prefix's own ``"/"`` rule is ``App.mount``'s). A class attribute ``host`` binds every
route of the resource to a host (circuits.http's *Domain*). Patterns are those of
``fasthttp.routing`` (``/user/:username``, ``:name?``, ``:name+``, ``:name*``, converters); among
patterns, the methods register in definition order (base classes first), which is the order in
which they are tried.

Handlers are ``def method(self, request)`` or ``async def``; stacking two decorators registers
the method twice. ``@websocket`` methods are websocket endpoints (``App.websocket``), either
``async def handler(self, ws)`` or the message callback ``handler(self, request, opcode, payload)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, TypeVar

__all__ = ("Resource", "RouteSpec", "route", "get", "post", "put", "patch", "delete", "websocket", "resource_routes")

#: A decorated function, returned unchanged by the decorators.
F = TypeVar("F", bound=Callable[..., Any])

_MARK = "_fasthttp_routes"
_OPTIONS = frozenset(("name", "max_body_size", "consumes", "produces", "expect", "blocking", "middleware"))
# HTTP semantics (issue 14): byte ranges and preconditions per route, as App.route takes them.
_OPTIONS = _OPTIONS | {"ranges", "preconditions", "require_preconditions"}


class RouteSpec(NamedTuple):
    """One route of a resource, as :func:`resource_routes` reports it."""

    kind: str  # "http" or "websocket"
    methods: tuple[str, ...]
    path: str  # the resource's path joined with the method's
    handler: Callable[..., Any]  # the method, bound to the instance
    host: str | None
    options: dict[str, Any]  # keyword arguments of App.route (name and the per-route options)


def _mark(func: F, kind: str, methods: tuple[str, ...], path: str, options: dict[str, Any]) -> F:
    if not callable(func):
        raise TypeError(f"a route decorator applies to a function, not {func!r}")
    unknown = set(options) - _OPTIONS
    if unknown:
        raise TypeError(f"unknown route option(s): {', '.join(sorted(unknown))}")
    if not isinstance(path, str) or path and not path.startswith("/"):
        raise ValueError(f"a resource method's path is empty or starts with '/': {path!r}")
    marks = func.__dict__.setdefault(_MARK, [])
    marks.append((kind, methods, path, options))
    return func


def route(path: str = "", methods: str | Iterable[str] = ("GET",), **options: Any) -> Callable[[F], F]:
    """Mark a method as the handler of *methods* on *path* (relative to the resource's path).

    *options*: ``name``, ``max_body_size``, ``consumes``, ``produces``, ``expect``,
    ``blocking``, ``middleware``, as for :meth:`fasthttp.App.route`.
    """
    wanted = (methods,) if isinstance(methods, str) else tuple(methods)

    def decorate(func: F) -> F:
        return _mark(func, "http", wanted, path, options)

    return decorate


def _verb(method: str) -> Callable[..., Any]:
    def verb(path: str | Callable[..., Any] = "", **options: Any) -> Any:
        if callable(path):  # used bare: @get
            return _mark(path, "http", (method,), "", options)
        return route(path, (method,), **options)

    verb.__name__ = verb.__qualname__ = method.lower()
    verb.__doc__ = (
        f"Mark a resource method as the ``{method}`` handler of *path* (relative to the resource's "
        "``path``; default: the resource's path itself), with the per-route *options* of "
        "``App.route``. Usable bare (``@" + method.lower() + "``)."
    )
    return verb


get = _verb("GET")
post = _verb("POST")
put = _verb("PUT")
patch = _verb("PATCH")
delete = _verb("DELETE")


def websocket(path: str | Callable[..., Any] = "", **options: Any) -> Any:
    """Mark a method as the websocket endpoint of *path* (as ``App.websocket`` registers it):
    ``async def handler(self, ws)`` gets a :class:`fasthttp.websocket.WebSocket`; a message
    callback ``def handler(self, request, opcode, payload)`` is called with
    ``WebSocketOpCode.OPEN`` once the socket is open, with ``TEXT``/``BINARY`` and each message
    (what it returns is sent back), and with ``CLOSE`` at the end (the payload of ``OPEN`` and
    ``CLOSE`` is ``""``). The only option is ``name``. Usable bare (``@websocket``).
    """
    if set(options) - {"name"}:
        raise TypeError(f"a websocket route takes only the name option, not {', '.join(sorted(set(options) - {'name'}))}")
    if callable(path):
        return _mark(path, "websocket", ("GET",), "", options)

    def decorate(func: F) -> F:
        return _mark(func, "websocket", ("GET",), path, options)

    return decorate


def _join(base: str, path: str) -> str:
    if not base:
        return path or "/"
    if not base.startswith("/"):
        raise ValueError(f"a resource's path starts with '/': {base!r}")
    if not path:
        return base
    return base.rstrip("/") + path


def resource_routes(resource: object) -> list[RouteSpec]:
    """The routes an instance's class marks, bound to the instance, in definition order (base
    classes first; a method overridden in a subclass keeps its place and takes the new marks)."""
    if isinstance(resource, type):
        raise TypeError(f"add an instance of {resource.__name__}, not the class")
    cls = type(resource)
    base = getattr(resource, "path", "") or ""
    host = getattr(resource, "host", None)
    # The resource's own middleware (a class or instance attribute) wraps each of its methods'.
    outer = tuple(getattr(resource, "middleware", None) or ())
    order: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            order[name] = value  # dict keeps the first insertion's position
    specs = []
    for name in order:
        func = getattr(cls, name, None)
        marks = getattr(func, _MARK, None)
        if not marks or not isinstance(marks, list):
            continue
        bound = getattr(resource, name)
        for kind, methods, path, options in marks:
            options = dict(options)
            if outer:
                options["middleware"] = (*outer, *options.get("middleware", ()))
            specs.append(RouteSpec(kind, methods, _join(base, path), bound, host, options))
    return specs


class Resource:
    """A base class for resources (optional: ``app.add`` takes any object with marked methods).

    Class attributes: ``path`` (the base path of every method's path), ``host`` (bind every
    route to a host) and ``middleware`` (around every route of the resource, outside each
    method's own ``middleware`` option: an authorization rule, say). :meth:`routes` lists
    ``(method, pattern, handler)`` triples.

    >>> class Users(Resource):
    ...     @get("/user/:username")
    ...     def get_user(self, request):
    ...         return {"user": request.params["username"]}
    >>> app.add(Users())
    """

    path: str = ""
    host: str | None = None
    middleware: tuple[Callable[..., Any], ...] = ()

    def routes(self) -> list[tuple[str, str, Callable[..., Any]]]:
        """``[(method, pattern, handler)]``: one triple per method of each marked route."""
        return [(m, spec.path, spec.handler) for spec in resource_routes(self) for m in spec.methods]
