"""``fasthttp.App``: exact-path routes on the connection engine.

Strategy: the route table is a dict from path to a dict from method to :class:`Route`, so the
dispatch of a request is two dictionary hits (PERF: the plaintext benchmark's path). A ``GET``
route answers ``HEAD`` too (the engine drops the body, RFC 9110 §9.3.2). A path with no route is
``404``; a path whose routes do not take the method is ``405`` with ``Allow`` (RFC 9110
§15.5.6). The body-size limit of a route replaces the server's before any body byte is read, and
a request whose ``Content-Length`` exceeds it is refused with ``413`` without running the
handler (RFC 9110 §10.1.1: no ``100 Continue`` is sent for it).

Handlers are ``def`` (run inline, as soon as the request head is in) or ``async def``; they take
the :class:`~fasthttp.requests.Request` and return ``str``, ``bytes``, ``dict``/``list``
(JSON), ``None`` (204) or a response object (``fasthttp.responses``). A ``def`` handler runs
before the body arrives; handlers that read the body are ``async def``.

The framework issue grows this into patterns, hosts, middleware and resources; the engine
contract stays :meth:`App._fasthttp_handler`: one callable from request to response.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from .responses import Response, error_response

__all__ = ("App", "Route")

_UNSET: Any = object()


class Route:
    """One handler for one path and a set of methods."""

    __slots__ = ("path", "methods", "handler", "max_body_size", "is_async", "name")

    def __init__(self, path: str, methods: frozenset[str], handler: Callable, max_body_size: Any, name: str) -> None:
        self.path = path
        self.methods = methods
        self.handler = handler
        self.max_body_size = max_body_size
        self.is_async = inspect.iscoroutinefunction(handler)
        self.name = name

    def __repr__(self) -> str:
        return f"<Route {sorted(self.methods)} {self.path} -> {self.name}>"


_NOT_FOUND = error_response(404)
_TOO_LARGE = error_response(413)


class App:
    """An application: routes by exact path and method.

    >>> app = App()
    >>> @app.get("/")
    ... def hello(request):
    ...     return "Hello, World!"

    *on_connect* ``(transport, session) -> bool`` runs for each new connection and may refuse
    it; *server_options* are defaults for :meth:`run`/:meth:`serve` (any :class:`fasthttp.server
    .Config` field or server keyword).
    """

    def __init__(self, *, on_connect: Callable | None = None, **server_options: Any) -> None:
        self._table: dict[str, dict[str, Route]] = {}
        self._allow: dict[str, Response] = {}
        self.routes: list[Route] = []
        self.on_connect = on_connect
        self.server_options = server_options

    # -- registration -----------------------------------------------------------------------

    def route(
        self,
        path: str,
        methods: Iterable[str] = ("GET",),
        *,
        max_body_size: int | None = _UNSET,
        name: str | None = None,
    ) -> Callable[[Callable], Callable]:
        """Register the decorated function for *path* (exact match) and *methods*.

        *max_body_size* replaces the server's body limit for this route (``None``: no limit).
        """
        if not isinstance(path, str) or not path.startswith("/") and path != "*":
            raise ValueError(f"a route path starts with '/': {path!r}")
        if isinstance(methods, str):
            methods = (methods,)
        wanted = frozenset(m.upper() for m in methods)
        if not wanted:
            raise ValueError("a route needs at least one method")

        def register(handler: Callable) -> Callable:
            if not callable(handler):
                raise TypeError(f"a handler must be callable, not {handler!r}")
            route = Route(path, wanted, handler, max_body_size, name or getattr(handler, "__name__", repr(handler)))
            by_method = self._table.setdefault(path, {})
            for method in wanted:
                if method in by_method:
                    raise ValueError(f"{method} {path} is already routed to {by_method[method].name}")
            for method in wanted:
                by_method[method] = route
            # RFC 9110 §9.3.2: HEAD is GET without the body, unless routed on its own.
            if "GET" in wanted and "HEAD" not in by_method:
                by_method["HEAD"] = route
            self._allow[path] = self._method_not_allowed(by_method)
            self.routes.append(route)
            return handler

        return register

    def get(self, path: str, **options: Any) -> Callable[[Callable], Callable]:
        return self.route(path, ("GET",), **options)

    def post(self, path: str, **options: Any) -> Callable[[Callable], Callable]:
        return self.route(path, ("POST",), **options)

    def put(self, path: str, **options: Any) -> Callable[[Callable], Callable]:
        return self.route(path, ("PUT",), **options)

    def patch(self, path: str, **options: Any) -> Callable[[Callable], Callable]:
        return self.route(path, ("PATCH",), **options)

    def delete(self, path: str, **options: Any) -> Callable[[Callable], Callable]:
        return self.route(path, ("DELETE",), **options)

    @staticmethod
    def _method_not_allowed(by_method: dict[str, Route]) -> Response:
        allow = ", ".join(sorted(by_method))
        return error_response(405, headers=[("Allow", allow)])

    # -- the engine contract ------------------------------------------------------------------

    def _fasthttp_handler(self) -> Callable:
        """The callable the engine runs per request (see ``fasthttp.protocol``)."""
        return self._handle

    def _handle(self, request: Any) -> Any:
        head = request._head
        path = head.path
        by_method = self._table.get(path)
        if by_method is None:
            return _NOT_FOUND
        route = by_method.get(head.method)
        if route is None:
            return self._allow[path]
        limit = route.max_body_size
        if limit is not _UNSET:
            request.max_body_size = limit
        else:
            limit = request.max_body_size
        if limit is not None:
            length = head.content_length
            if length is not None and length > limit:
                # Refused on the announced length, before a byte of the body is read.
                return _TOO_LARGE
        return route.handler(request)

    # -- running ------------------------------------------------------------------------------

    def _options(self, options: dict) -> dict:
        merged = dict(self.server_options)
        merged.update(options)
        return merged

    def run(self, bind: Any = None, **options: Any) -> None:
        """Serve until SIGTERM/SIGINT (blocking); see :func:`fasthttp.server.run`."""
        from .server import run

        run(self, bind, **self._options(options))

    async def serve(self, bind: Any = None, **options: Any) -> None:
        """Serve on the running loop until cancelled; see :func:`fasthttp.server.serve`."""
        from .server import serve

        await serve(self, bind, **self._options(options))

    def start(self, bind: Any = None, **options: Any):
        """Serve from a background thread; returns a :class:`~fasthttp.server.ServerThread`
        once listening (``.addresses``, ``.urls``, ``.stop()``)."""
        from .server import ServerThread

        return ServerThread(self, bind, **self._options(options))

    def __repr__(self) -> str:
        return f"<App {len(self.routes)} routes>"
