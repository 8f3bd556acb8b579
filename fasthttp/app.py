"""``fasthttp.App``: routes, resources, middleware, error handlers and life cycle on the engine.

Strategy
--------
Routing is :class:`fasthttp.routing.Router` (host, path pattern, method; its module docstring
states every rule). The App adds, in front of it, a *fast table*: a dict from raw path to a dict
from method to handler, holding the static routes that carry no per-route option. A request
whose path and method hit it, and that has no body, costs two dictionary look-ups and the
handler call: parse (C) -> dict -> handler -> head serialization (C) -> one write (PERF: the
plaintext path of ``benchmarks/server``; DESIGN.md "What a request costs"). Everything else
costs one ``Router.resolve`` call (about 1 µs for a ``:param`` hit in a table of 100 routes,
``benchmarks/bench_routing.py``), then the handler itself for a route without options, or else
the route's *runner*, a closure built at registration that applies the route's options in this
order, all before any body byte is read (the engine sends ``100 Continue`` only when the handler
first reads the body, RFC 9110 §10.1.1):

1. ``max_body_size``: the route's limit replaces the server's; an announced ``Content-Length``
   past it is ``413`` (RFC 9110 §15.5.14);
2. ``consumes``: a body whose ``Content-Type`` matches none of the listed media types is ``415``
   with ``Accept`` listing them (RFC 9110 §15.5.16, §12.5.1 on ``Accept`` in a response;
   ``Accept-Patch`` too for PATCH, RFC 5789 §3.1);
3. ``produces``: the client's ``Accept`` picks one of the listed types by q-value
   (``fasthttp.negotiation``); none acceptable is ``406``; the handler reads the choice with
   :func:`media_type`, and the response carries ``Vary: Accept`` (RFC 9110 §12.5.5);
4. ``expect``: for a request with ``Expect: 100-continue``, ``expect(request)`` returns None
   (go on: the handler runs and ``100 Continue`` goes out when it reads the body) or a response
   (for instance 417 or 413), sent instead; the client then never sends the body and the engine
   closes the connection after the answer (RFC 9110 §10.1.1);
5. ``blocking=True``: a ``def`` handler runs in the App's bounded thread pool
   (``loop.run_in_executor``) in a copy of the request's context; :func:`from_thread` lets it
   await the request's body or anything else on the loop.

Router outcomes other than a hit become responses here: ``404``, ``405`` with ``Allow``
(RFC 9110 §15.5.6), ``400`` for an invalid path or an unknown host under ``strict_hosts``, ``308``
to the other trailing-slash form (RFC 9110 §15.4.9), ``301`` from a host alias to its canonical
host (with the request's scheme), and an automatic ``OPTIONS`` (``204`` with ``Allow``, RFC 9110
§9.3.7). A ``GET`` route answers ``HEAD``; the engine drops the body (RFC 9110 §9.3.2).

Errors: an :class:`~fasthttp.responses.HttpError` (or a router outcome above) is answered by the
handler registered with :meth:`App.exception_handler` for its type or its status, else rendered
by ``fasthttp.responses.render_error`` (text, JSON or HTML, as the client's ``Accept`` prefers).
Any other exception goes to a handler registered for its type (or a base class); unhandled, it
is logged (logger ``fasthttp.error``) and answered ``500`` (a handler for status 500 may shape
it). The client never sees a traceback (APPSEC).

Middleware: plain callables ``mw(request, call_next)`` (``async def`` or ``def``), composed once,
when the engine first asks for the handler (:meth:`engine_handler`); with none installed the
engine calls the dispatcher directly (zero cost). ``call_next`` returns the response object for
everything below it, errors already turned into responses.

Life cycle: ``@app.on_startup`` / ``@app.on_shutdown`` hooks (``def`` or ``async def``) run in
registration order on the serving loop, through :meth:`App.startup` / :meth:`App.shutdown`;
:meth:`serve`, :meth:`run` and :meth:`start` call them around the server, and so does
``fasthttp.testing.TestClient`` in a ``with`` block. ``app.state`` is a namespace for what they
create.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import copy
import inspect
import logging
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .errors import HttpProtocolError
from .media import first_match
from .negotiation import choose_media_type, quality
from .protocol import ClientDisconnected
from .requests import unsupported_media_type
from .resources import resource_routes
from .responses import (
    FileResponse,
    HttpError,
    Response,
    StreamingResponse,
    json_dumps,
    render_error,
    to_response,
)
from .routing import EMPTY_PARAMS, Router

__all__ = ("App", "Route", "media_type", "from_thread")

log = logging.getLogger("fasthttp.app")
error_log = logging.getLogger("fasthttp.error")

_UNSET: Any = object()
_CORO = types.CoroutineType
_CT = b"Content-Type"
_VARY_ACCEPT = (b"Vary", b"Accept")
_TEXT_CHARSET = "; charset=utf-8"

#: The media type chosen for the current request of a ``produces`` route (see :func:`media_type`).
_MEDIA_TYPE: contextvars.ContextVar[str | None] = contextvars.ContextVar("fasthttp_media_type", default=None)
#: The serving loop, in the context a ``blocking`` handler runs in (see :func:`from_thread`).
_LOOP: contextvars.ContextVar[asyncio.AbstractEventLoop | None] = contextvars.ContextVar("fasthttp_loop", default=None)


def media_type() -> str | None:
    """The media type negotiated for the request being handled, on a route with ``produces``
    (one of the listed types, as written there); None elsewhere."""
    return _MEDIA_TYPE.get()


def from_thread(awaitable: Any, timeout: float | None = None) -> Any:
    """From a ``blocking=True`` handler's thread: run *awaitable* (a coroutine, e.g.
    ``request.body()``) on the serving loop and return its result.

    >>> @app.post("/upload", blocking=True)
    ... def upload(request):
    ...     data = from_thread(request.body())
    """
    loop = _LOOP.get()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if loop is None or running is loop:
        close = getattr(awaitable, "close", None)
        if close is not None:
            close()  # never awaited: say so with an error, not a warning
        if loop is None:
            raise RuntimeError("from_thread() is for handlers running with blocking=True")
        raise RuntimeError("from_thread() called on the event loop's own thread: use await")
    return asyncio.run_coroutine_threadsafe(awaitable, loop).result(timeout)


def _pairs(headers: Any) -> list:
    if not headers:
        return []
    if isinstance(headers, Mapping):
        return list(headers.items())
    return list(headers)


def _is_async(handler: Any) -> bool:
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(getattr(handler, "__call__", None))


def _media_list(value: Any, option: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = (value,)
    items = tuple(value)
    if not items or not all(isinstance(v, str) and "/" in v for v in items):
        raise ValueError(f"{option} is a list of media types (type/subtype), not {value!r}")
    return items


def _check_options(consumes: Any, produces: Any, expect: Any) -> tuple[Any, Any]:
    """Validate the media-type options (and *expect*) when a route is declared."""
    if expect is not None and not callable(expect):
        raise TypeError("expect is a callable(request) -> None | response")
    consumes = _media_list(consumes, "consumes")
    produces = _media_list(produces, "produces")
    for offered in produces or ():
        if "*" in offered:
            raise ValueError(f"produces lists concrete media types, not {offered!r}")
        quality("*/*", offered)  # raises ValueError for a type or parameters that do not parse
    return consumes, produces


class Route:
    """One route of an :class:`App`: a handler for a path pattern, methods, an optional host and
    its options (see :meth:`App.route`). A row of :meth:`App.routes`."""

    __slots__ = (
        "path",
        "methods",
        "handler",
        "host",
        "name",
        "max_body_size",
        "consumes",
        "produces",
        "expect",
        "blocking",
        "is_async",
        "plain",
        "run",
        "bare",
        "pattern",
    )

    def __init__(
        self,
        path: str,
        methods: tuple[str, ...],
        handler: Callable,
        *,
        host: str | None = None,
        name: str | None = None,
        max_body_size: Any = _UNSET,
        consumes: Any = None,
        produces: Any = None,
        expect: Callable | None = None,
        blocking: bool = False,
    ) -> None:
        if not callable(handler):
            raise TypeError(f"a handler must be callable, not {handler!r}")
        self.path = path
        self.methods = methods
        self.handler = handler
        self.host = host
        self.name = name or getattr(handler, "__qualname__", None) or getattr(handler, "__name__", None) or repr(handler)
        self.max_body_size = max_body_size
        self.consumes, self.produces = _check_options(consumes, produces, expect)
        self.expect = expect
        self.blocking = bool(blocking)
        self.is_async = _is_async(handler)
        if self.blocking and self.is_async:
            raise ValueError(f"blocking=True is for def handlers; {self.name} is async")
        self.plain = (
            max_body_size is _UNSET and consumes is None and produces is None and expect is None and not blocking
        )
        #: What runs the route: the options, then the handler (set on registration).
        self.run: Callable = handler
        #: What runs it for a request without a body: the handler itself when the route has no
        #: option, else the runner.
        self.bare: Callable = handler
        self.pattern = path  # the router's canonical spelling, set on registration

    def options(self) -> dict[str, Any]:
        """The per-route options as keyword arguments of :meth:`App.route`."""
        opts: dict[str, Any] = {}
        if self.max_body_size is not _UNSET:
            opts["max_body_size"] = self.max_body_size
        for key in ("consumes", "produces"):
            if getattr(self, key) is not None:
                opts[key] = list(getattr(self, key))
        if self.expect is not None:
            opts["expect"] = self.expect
        if self.blocking:
            opts["blocking"] = True
        return opts

    def __repr__(self) -> str:
        host = f" host={self.host!r}" if self.host else ""
        return f"<Route {','.join(self.methods)} {self.pattern}{host} -> {self.name}>"


class App:
    """An application: routes by host, path pattern and method (see ``fasthttp.routing``).

    >>> app = App()
    >>> @app.get("/users/:id<int>")
    ... def user(request):
    ...     return {"id": request.params["id"]}

    Routing options: *trailing_slash* (``"redirect"``: 308 to the form that has a route, the
    default; ``"strict"``: 404), *strict_hosts* (an unknown ``Host`` is 400) and *default_host*
    (whose routes are those registered without a host). *blocking_threads* bounds the thread pool
    of ``blocking=True`` routes (default: the ``ThreadPoolExecutor`` default). *on_connect*
    ``(transport, session) -> bool`` runs for each new connection and may refuse it.
    *server_options* are defaults for :meth:`run`/:meth:`serve`/:meth:`start` (any
    :class:`fasthttp.server.Config` field or server keyword).
    """

    def __init__(
        self,
        *,
        on_connect: Callable | None = None,
        trailing_slash: str = "redirect",
        strict_hosts: bool = False,
        default_host: str | None = None,
        blocking_threads: int | None = None,
        **server_options: Any,
    ) -> None:
        self.router = Router(trailing_slash=trailing_slash, strict_hosts=strict_hosts, default_host=default_host)
        #: Application state: a namespace for what startup hooks create (pools, clients, ...).
        self.state = types.SimpleNamespace()
        self.on_connect = on_connect
        self.server_options = server_options
        self._routes: list[Route] = []
        # The fast table: raw path -> {method: handler}. Mutated in place only, because the
        # engine's handler closure holds its ``get``.
        self._fast: dict[str, dict[str, Callable]] = {}
        self._dirty = True
        self._hosts = bool(strict_hosts)
        self._resolve: Callable = self.router.resolve
        self._middleware: list[Callable] = []
        self._handler: Callable | None = None
        self._exception_handlers: dict[Any, Callable] = {}
        self._on_startup: list[Callable] = []
        self._on_shutdown: list[Callable] = []
        self._started = False
        self._blocking_threads = blocking_threads
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    # -- registration -----------------------------------------------------------------------

    def route(
        self,
        path: str,
        methods: str | Iterable[str] = ("GET",),
        *,
        host: str | None = None,
        name: str | None = None,
        max_body_size: int | None = _UNSET,
        consumes: Iterable[str] | str | None = None,
        produces: Iterable[str] | str | None = None,
        expect: Callable | None = None,
        blocking: bool = False,
    ) -> Callable[[Callable], Callable]:
        """Register the decorated function for the pattern *path* and *methods*.

        *host*: bind to a host (``"api.example.com"``, ``"*.example.com"``). *max_body_size*:
        this route's body limit (``None``: none). *consumes*: the request media types accepted
        (else 415). *produces*: the response media types offered, by ``Accept`` (else 406).
        *expect*: ``callable(request) -> None | response`` deciding ``Expect: 100-continue``.
        *blocking*: run a ``def`` handler in the thread pool. Patterns, converters and the
        precedence rules are those of :class:`fasthttp.routing.Router`.
        """
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"a route path starts with '/': {path!r}")
        wanted = self._methods(methods)
        _check_options(consumes, produces, expect)
        options = dict(
            host=host,
            name=name,
            max_body_size=max_body_size,
            consumes=consumes,
            produces=produces,
            expect=expect,
            blocking=blocking,
        )

        def register(handler: Callable) -> Callable:
            self._add_route(Route(path, wanted, handler, **options))
            return handler

        return register

    def get(self, path: str, **options: Any) -> Callable[[Callable], Callable]:
        """``@app.get(path, ...)``: see :meth:`route` (GET also answers HEAD)."""
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
    def _methods(methods: str | Iterable[str]) -> tuple[str, ...]:
        if isinstance(methods, str):
            methods = (methods,)
        wanted: list[str] = []
        for method in methods:
            if not isinstance(method, str):
                raise ValueError(f"invalid method {method!r}")
            method = method.upper()
            if method not in wanted:
                wanted.append(method)
        if not wanted:
            raise ValueError("a route needs at least one method")
        return tuple(wanted)

    def _add_route(self, route: Route) -> Route:
        row = self.router.add(route.methods, route.path, route, host=route.host, name=route.name)
        route.pattern = row.pattern
        route.run = self._runner(route)
        route.bare = route.handler if route.plain else route.run
        self._routes.append(route)
        if route.host is not None:
            self._hosts = True
        self._changed()
        return route

    def add(self, resource: Any, prefix: str = "", *, host: str | None = None) -> list[Route]:
        """Register the routes of a resource object (see ``fasthttp.resources``): each method
        decorated with ``@get``/``@post``/... under ``prefix`` + the resource's ``path``.

        *host* applies to routes whose resource names none. Returns the new routes.
        """
        specs = resource_routes(resource)
        for spec in specs:
            if spec.kind == "websocket":
                raise NotImplementedError("websocket routes are not supported yet")
        added = []
        for spec in specs:
            route = Route(
                _join(prefix, spec.path),
                self._methods(spec.methods),
                spec.handler,
                host=spec.host or host,
                **spec.options,
            )
            added.append(self._add_route(route))
        return added

    def mount(self, prefix: str, other: App | Router, *, host: str | None = None) -> list[Route]:
        """Copy the routes of another :class:`App` (with their options) or of a
        :class:`~fasthttp.routing.Router` (endpoints as handlers) under *prefix*.

        ``other``'s ``"/"`` becomes *prefix* itself; *prefix* may have parameters. Routes without
        a host take *host*. A snapshot: routes added to *other* later are not seen; the middleware,
        error handlers and hooks that apply are this app's.
        """
        if other is self:
            raise ValueError("an app cannot be mounted on itself")
        if isinstance(other, App):
            rows = [(r.methods, r.pattern, r.handler, r.host, r.options()) for r in other._routes]
            router = other.router
        elif isinstance(other, Router):
            rows = []
            for r in other.routes():
                ep = r.endpoint
                if isinstance(ep, Route):
                    rows.append((r.methods, r.pattern, ep.handler, r.host, ep.options()))
                else:
                    rows.append((r.methods, r.pattern, ep, r.host, {}))
            router = other
        else:
            raise TypeError(f"mount takes an App or a Router, not {type(other).__name__}")
        for alias, canonical in router.host_aliases().items():
            if alias not in self.router.host_aliases():
                self.alias_host(alias, canonical)
        added = []
        for methods, pattern, handler, row_host, options in rows:
            route = Route(_join(prefix, pattern), methods, handler, host=row_host or host, **options)
            added.append(self._add_route(route))
        return added

    def alias_host(self, alias: str, canonical: str) -> None:
        """Answer requests for *alias* with ``301`` to the same URL on *canonical*."""
        self.router.alias_host(alias, canonical)
        self._hosts = True
        self._changed()

    def register_converter(self, name: str, regex: str, convert: Callable[[str], Any] | None = None) -> None:
        """A path converter for this app's patterns: ``/:id<name>`` (see ``fasthttp.routing``)."""
        self.router.register_converter(name, regex, convert)

    def _changed(self) -> None:
        self._fast.clear()
        self._dirty = True

    # -- listing ------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        """Every route in registration order (``methods``, ``host``, ``pattern``, ``name``,
        ``handler`` and the options); HEAD and OPTIONS come automatically."""
        return list(self._routes)

    def describe(self) -> str:
        """The route table as aligned text (what the startup log shows)."""
        return self.router.describe()

    # -- middleware, errors, life cycle ----------------------------------------------------------

    def add_middleware(self, middleware: Callable) -> Callable:
        """Install ``middleware(request, call_next)``; the first installed is the outermost.

        ``async def`` middleware awaits ``call_next(request)`` and gets the response object.
        A ``def`` middleware gets it directly from a ``def`` route, or an awaitable of it from
        an ``async def`` one (return it as is). Installed before the app serves.
        NOTE: a handler may return a shared response object (a module-level constant): a
        middleware that changes ``response.fields`` changes it for every later request too.
        """
        if self._handler is not None:
            raise RuntimeError("middleware is composed when the app starts serving: install it before")
        if not callable(middleware):
            raise TypeError("middleware is a callable(request, call_next)")
        self._middleware.append(middleware)
        return middleware

    def middleware(self, func: Callable) -> Callable:
        """Decorator form of :meth:`add_middleware`."""
        return self.add_middleware(func)

    def exception_handler(self, key: type[BaseException] | int) -> Callable[[Callable], Callable]:
        """Register ``handler(request, exc)`` for an exception type (and its subclasses) or for
        an error status (an :class:`HttpError` with it, the router's 404/405/400, the route
        options' 406/413/415, and 500 for unhandled exceptions). Its result (``def`` or
        ``async def``) is the response; a ``str``/``bytes``/``dict``/``list`` keeps the status.
        """
        if isinstance(key, bool) or not (
            isinstance(key, int) and 400 <= key <= 599 or isinstance(key, type) and issubclass(key, BaseException)
        ):
            raise TypeError("exception_handler takes an exception type or an error status (400-599)")

        def register(handler: Callable) -> Callable:
            self._exception_handlers[key] = handler
            return handler

        return register

    def on_startup(self, func: Callable) -> Callable:
        """Run ``func()`` (``def`` or ``async def``) before the app serves."""
        self._on_startup.append(func)
        return func

    def on_shutdown(self, func: Callable) -> Callable:
        """Run ``func()`` (``def`` or ``async def``) after the server has drained."""
        self._on_shutdown.append(func)
        return func

    async def startup(self) -> None:
        """Run the startup hooks in order, once (until :meth:`shutdown`). A hook that raises
        aborts the start: the exception propagates and no shutdown hook runs."""
        if self._started:
            return
        self._started = True
        try:
            for hook in self._on_startup:
                result = hook()
                if inspect.isawaitable(result):
                    await result
        except BaseException:
            self._started = False
            raise

    async def shutdown(self) -> None:
        """Run the shutdown hooks in order (each one, even if another fails: failures are
        logged), then stop the thread pool. Only after :meth:`startup`."""
        if not self._started:
            return
        self._started = False
        for hook in self._on_shutdown:
            try:
                result = hook()
                if inspect.isawaitable(result):
                    await result
            except Exception:
                error_log.exception("shutdown hook %r failed", hook)
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    # -- the engine contract ------------------------------------------------------------------

    def engine_handler(self) -> Callable:
        """The callable the engine runs per request (see ``fasthttp.protocol``): the dispatcher,
        wrapped in the middleware (composed here, once)."""
        if self._handler is None:
            self._rebuild()
            handler = self._dispatcher()
            if self._middleware:
                handler = self._guarded(self._compose(handler))
            self._handler = handler
            log.info("route table (%d):\n%s", len(self._routes), self.describe().rstrip())
        return self._handler

    def _dispatcher(self) -> Callable:
        app = self
        fast_get = self._fast.get
        error = self._error
        guard = self._guard
        outcome = self._outcome
        coro_type = _CORO

        def dispatch(request: Any) -> Any:
            head = request.head
            path = head.path
            calls = fast_get(path)
            if calls is not None:
                call = calls.get(head.method)
                # PERF: a static route without options, for a request without a body: no
                # router call, no runner (benchmarks/server plaintext).
                if call is not None and request.body_reader is None:
                    try:
                        result = call(request)
                    except Exception as exc:
                        return error(request, exc)
                    if type(result) is coro_type:
                        return guard(request, result)
                    return result
            # Everything else: the router, then the route's runner (PERF: inlined here for
            # the pattern hit, benchmarks/server route).
            if app._dirty:
                app._rebuild()
            match = app._resolve(head.method, path, _request_host(head) if app._hosts else None, "")
            route = match.endpoint
            if route is None or match.status != 200:
                return outcome(request, head, path, match)
            request.params = match.params
            call = route.bare if request.body_reader is None else route.run
            try:
                result = call(request)
            except Exception as exc:
                return error(request, exc)
            if type(result) is coro_type:
                return guard(request, result)
            return result

        return dispatch

    def _rebuild(self) -> None:
        """Refresh the fast table (and the compiled router) after routes changed."""
        router = self.router
        fast = self._fast
        fast.clear()
        router.resolve("GET", "/")  # compile now; then take the compiled resolver itself
        self._resolve = router.resolve
        self._dirty = False
        if self._hosts or router.strict_hosts:
            return  # the route depends on the host: the router decides every request
        resolve = self._resolve
        for route in self._routes:
            if not route.plain:
                continue
            methods = route.methods + (("HEAD",) if "GET" in route.methods else ())
            for method in methods:
                m = resolve(method, route.pattern)
                if m.status == 200 and m.endpoint is route and m.params is EMPTY_PARAMS:
                    fast.setdefault(route.pattern, {})[method] = route.handler

    def _outcome(self, request: Any, head: Any, path: str, match: Any) -> Any:
        """The response for a router outcome other than a route hit."""
        status = match.status
        if status == 200:  # automatic OPTIONS (RFC 9110 §9.3.7)
            return Response(b"", 204, [(b"Allow", ", ".join(match.allow))])
        if status == 301 or status == 308:
            query = head.query
            if query:  # resolved without it: the query is needed only here
                host = _request_host(head) if self._hosts else None
                match = self._resolve(head.method, path, host, query)
            location = match.location
            if location.startswith("//"):  # a host alias: the router does not know the scheme
                location = f"{request.scheme}:{location}"
            return Response(b"", status, [(b"Location", location)])
        if status == 405:
            return self._status_error(request, 405, None, [(b"Allow", ", ".join(match.allow))])
        if status == 400:
            return self._status_error(request, 400, f"Bad Request: {match.reason}", None)
        return self._status_error(request, status, None, None)

    # -- route runners ---------------------------------------------------------------------------

    def _runner(self, route: Route) -> Callable:
        """The callable that applies *route*'s options and runs its handler (see the module
        docstring for the order)."""
        handler = route.handler
        call = self._threaded(handler) if route.blocking else handler
        if route.plain:

            def run_plain(request: Any) -> Any:
                if request.body_reader is not None:
                    _check_length(request)
                return handler(request)

            return run_plain

        limit = route.max_body_size
        consumes = route.consumes
        produces = route.produces
        expect = route.expect

        def finish(request: Any, chosen: str | None) -> Any:
            result = call(request)
            if chosen is None:
                return result
            if type(result) is _CORO:
                return _produce_async(result, chosen)
            return _produced(result, chosen)

        async def finish_after(request: Any, decision: Any, chosen: str | None) -> Any:
            decision = await decision
            if decision is not None:
                return decision
            result = finish(request, chosen)
            if type(result) is _CORO:
                result = await result
            return result

        def run(request: Any) -> Any:
            if limit is not _UNSET:
                request.max_body_size = limit
            if request.body_reader is not None:
                _check_length(request)
                if consumes is not None:
                    _check_media_type(request, consumes)
            chosen = None
            if produces is not None:
                chosen = choose_media_type(request, produces)  # HttpError(406) if none
                _MEDIA_TYPE.set(chosen)
            if expect is not None and request.head.expect_continue:
                decision = expect(request)
                if type(decision) is _CORO:
                    return finish_after(request, decision, chosen)
                if decision is not None:
                    return decision
            return finish(request, chosen)

        return run

    def _threaded(self, handler: Callable) -> Callable:
        app = self

        async def run_blocking(request: Any) -> Any:
            loop = asyncio.get_running_loop()
            ctx = contextvars.copy_context()
            ctx.run(_LOOP.set, loop)
            return await loop.run_in_executor(app._executor(), ctx.run, handler, request)

        return run_blocking

    def _executor(self) -> concurrent.futures.ThreadPoolExecutor:
        pool = self._pool
        if pool is None:
            # Created on first use, so a forked worker never inherits threads.
            pool = self._pool = concurrent.futures.ThreadPoolExecutor(
                self._blocking_threads, thread_name_prefix="fasthttp-blocking"
            )
        return pool

    # -- middleware -----------------------------------------------------------------------------

    def _compose(self, inner: Callable) -> Callable:
        for mw in reversed(self._middleware):
            inner = _layer(mw, inner)
        return inner

    def _guarded(self, handler: Callable) -> Callable:
        """Errors raised by middleware itself go through the same error handling."""
        error = self._error
        guard = self._guard

        def guarded(request: Any) -> Any:
            try:
                result = handler(request)
            except Exception as exc:
                return error(request, exc)
            if type(result) is _CORO:
                return guard(request, result)
            return result

        return guarded

    # -- errors ---------------------------------------------------------------------------------

    async def _guard(self, request: Any, coro: Any) -> Any:
        try:
            return await coro
        except Exception as exc:
            result = self._error(request, exc)
            if type(result) is _CORO:
                result = await result
            return result

    def _find_handler(self, exc: BaseException, stop: type | None = None) -> Callable | None:
        """The handler registered for the type of *exc* or the nearest base class (up to *stop*
        included, when given)."""
        handlers = self._exception_handlers
        if not handlers:
            return None
        for cls in type(exc).__mro__:
            handler = handlers.get(cls)
            if handler is not None:
                return handler
            if cls is stop:
                break
        return None

    def _error(self, request: Any, exc: Exception) -> Any:
        """The response for an exception raised while handling *request*."""
        if isinstance(exc, ClientDisconnected):
            raise exc  # the engine's business: there is no one to answer
        handlers = self._exception_handlers
        if isinstance(exc, HttpError):
            # An HttpError is an answer, not a failure: handlers for HttpError types, then for
            # its status; a handler for Exception is for failures and does not see it.
            handler = self._find_handler(exc, HttpError) or handlers.get(exc.status)
            if handler is not None:
                return _call_error_handler(handler, request, exc, exc.status, exc.headers)
            return self._render(request, exc.status, exc.detail, exc.headers)
        handler = self._find_handler(exc)
        if handler is not None:
            return _call_error_handler(handler, request, exc, 500, None)
        if isinstance(exc, HttpProtocolError):
            status = getattr(exc, "status", 400)
            handler = handlers.get(status)
            if handler is not None:
                return _call_error_handler(handler, request, exc, status, None)
            return self._render(request, status, None, None)
        # APPSEC: the client gets a bare 500; the traceback goes to the server log only.
        error_log.error(
            "error in handler for %s %s", request.method, request.target.decode("latin-1"), exc_info=exc
        )
        handler = handlers.get(500)
        if handler is not None:
            return _call_error_handler(handler, request, exc, 500, None)
        return self._render(request, 500, None, None)

    def _status_error(self, request: Any, status: int, detail: str | None, headers: Any) -> Any:
        """A framework-made error (router outcome): a status handler, else the rendered error."""
        handler = self._exception_handlers.get(status)
        if handler is not None:
            return _call_error_handler(handler, request, HttpError(status, detail, headers), status, headers)
        return self._render(request, status, detail, headers)

    @staticmethod
    def _render(request: Any, status: int, detail: Any, headers: Any) -> Response:
        """The error body in the representation the client's ``Accept`` prefers (text, JSON
        or HTML: ``responses.render_error``), with the error's own header fields."""
        # render_error adds Vary: Accept itself; keep the other fields (Allow, Accept, ...).
        extra = [(n, v) for n, v in _pairs(headers) if not _is_vary_accept(n, v)]
        return render_error(status, detail, request, headers=extra or None)

    # -- running ------------------------------------------------------------------------------

    def _options(self, options: dict) -> dict:
        merged = dict(self.server_options)
        merged.update(options)
        return merged

    def run(self, bind: Any = None, **options: Any) -> None:
        """Serve until SIGTERM/SIGINT (blocking); see :func:`fasthttp.server.run`. The server
        runs the startup and shutdown hooks on its loop (in each worker with ``workers`` > 1)."""
        from .runners import run

        run(self, bind, **self._options(options))

    async def serve(self, bind: Any = None, **options: Any) -> None:
        """Serve on the running loop until cancelled, with the startup and shutdown hooks; see
        :func:`fasthttp.server.serve`."""
        from .server import serve

        await serve(self, bind, **self._options(options))

    def start(self, bind: Any = None, **options: Any):
        """Serve from a background thread; returns a :class:`~fasthttp.server.ServerThread`
        once listening (``.addresses``, ``.urls``, ``.stop()``); the hooks run on its loop."""
        from .runners import ServerThread

        return ServerThread(self, bind, **self._options(options))

    def __repr__(self) -> str:
        return f"<App {len(self._routes)} routes>"


# -- helpers ----------------------------------------------------------------------------------


def _join(prefix: str, path: str) -> str:
    """``prefix`` + ``path``, where ``path``'s ``"/"`` is ``prefix`` itself (as Router.mount)."""
    prefix = prefix.rstrip("/") if prefix else ""
    if not prefix:
        return path
    if not prefix.startswith("/"):
        raise ValueError(f"a prefix starts with '/': {prefix!r}")
    return prefix if path == "/" else prefix + path


def _request_host(head: Any) -> str | None:
    """The authority a request names: the absolute-form target's if any (RFC 9112 §3.2.2: then
    Host is ignored), else the Host field."""
    target = head.target
    if target[:1] != b"/":
        sep = target.find(b"://")
        if sep > 0:
            start = sep + 3
            end = start
            while end < len(target) and target[end] not in b"/?":
                end += 1
            return target[start:end].decode("latin-1")
    return head.headers.get("host")


def _check_length(request: Any) -> None:
    """RFC 9110 §15.5.14: refuse an announced body past the limit before reading a byte of it."""
    limit = request.max_body_size
    if limit is not None:
        length = request.head.content_length
        if length is not None and length > limit:
            raise HttpError(413)


def _check_media_type(request: Any, consumes: tuple[str, ...]) -> None:
    """RFC 9110 §15.5.16: content in a media type the route does not take is 415, with
    ``Accept`` listing the ones it takes (``Accept-Patch`` too for PATCH). A body without
    ``Content-Type`` is ``application/octet-stream`` here (RFC 9110 §8.3 lets the recipient
    assume it): a route that declares what it consumes wants it said. A malformed
    ``Content-Type`` is 400 (``Request.content_type``)."""
    mtype = request.content_type or "application/octet-stream"
    if first_match(mtype, consumes) is None:
        raise unsupported_media_type(consumes, method=request.method)


def _text(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, (bytes, bytearray)) else str(value)


def _is_vary_accept(name: Any, value: Any) -> bool:
    return _text(name).lower() == "vary" and _text(value).strip().lower() == "accept"


def _has_vary_accept(fields: Any) -> bool:
    for name, value in fields:
        if _text(name).lower() == "vary":
            if any(item.strip().lower() in ("accept", "*") for item in _text(value).split(",")):
                return True
    return False


def _with_fields(response: Any, extra: list) -> Any:
    """A copy of *response* with *extra* header fields (response objects may be shared
    constants: never mutate one)."""
    if type(response) is Response:
        return Response(response.body, response.status, [*response.fields, *extra])
    clone = copy.copy(response)
    clone.fields = [*response.fields, *extra]
    return clone


def _produced(result: Any, chosen: str) -> Any:
    """The handler's result for a ``produces`` route: labelled with the chosen media type when
    it is bare text or bytes, and with ``Vary: Accept`` (RFC 9110 §12.5.5)."""
    t = type(result)
    if t is str:
        ctype = chosen
        if chosen.startswith("text/") and "charset" not in chosen.lower():
            ctype += _TEXT_CHARSET
        return Response(result.encode(), 200, [(_CT, ctype), _VARY_ACCEPT])
    if t is bytes or t is bytearray or t is memoryview:
        return Response(result, 200, [(_CT, chosen), _VARY_ACCEPT])
    if t is dict or t is list:
        return Response(json_dumps(result), 200, [(_CT, b"application/json"), _VARY_ACCEPT])
    if result is None:
        return Response(b"", 204, [_VARY_ACCEPT])
    response = to_response(result)
    if isinstance(response, (Response, StreamingResponse, FileResponse)) and not _has_vary_accept(response.fields):
        return _with_fields(response, [_VARY_ACCEPT])
    return response


async def _produce_async(coro: Any, chosen: str) -> Any:
    return _produced(await coro, chosen)


def _error_result(value: Any, status: int, headers: Any) -> Any:
    """An error handler's plain value keeps the error's status (and headers, e.g. Allow)."""
    t = type(value)
    if t is str or t is bytes or t is dict or t is list:
        response = to_response(value)
        return Response(response.body, status, [*response.fields, *_pairs(headers)])
    return value


async def _error_result_async(coro: Any, status: int, headers: Any) -> Any:
    return _error_result(await coro, status, headers)


def _call_error_handler(handler: Callable, request: Any, exc: BaseException, status: int, headers: Any) -> Any:
    result = handler(request, exc)
    if type(result) is _CORO:
        return _error_result_async(result, status, headers)
    return _error_result(result, status, headers)


def _layer(mw: Callable, inner: Callable) -> Callable:
    """One middleware around *inner* (the rest of the chain)."""
    if _is_async(mw):

        async def call_next(request: Any) -> Any:
            result = inner(request)
            if type(result) is _CORO:
                result = await result
            return to_response(result)

    else:

        def call_next(request: Any) -> Any:
            result = inner(request)
            if type(result) is _CORO:
                return _to_response_async(result)
            return to_response(result)

    def layer(request: Any) -> Any:
        return mw(request, call_next)

    return layer


async def _to_response_async(coro: Any) -> Any:
    return to_response(await coro)


