"""``fasthttp.App``: routes, resources, middleware, error handlers and life cycle on the engine.

Strategy
--------
Routing is :class:`fasthttp.routing.Router` (host, path pattern, method; its module docstring
states every rule). A route is a :class:`fasthttp.routing.Route` (``fasthttp.Route``, the one
route type): the App registers the handler as its ``endpoint`` with the per-route options, and
``app.routes()`` lists the router's rows. The App adds, in front of the router, a *fast table*: a
dict from raw path to a dict from method to handler, holding the static routes that carry no
per-route option. A request whose path and method hit it, and that has no body, costs two
dictionary look-ups and the handler call: parse (C) -> dict -> handler -> head serialization (C)
-> one write (PERF: the plaintext path of ``benchmarks/server``; DESIGN.md "What a request
costs"). Everything else costs one ``Router.resolve`` call (about 1 µs for a ``:param`` hit in a
table of 100 routes, ``benchmarks/bench_routing.py``) and one dict look-up of ``Match.route``
(the App's per-route callables, kept beside the router's rows), then the handler itself for a
route without options, or else the route's *runner*, a closure built at registration that
applies the route's options in this order, all before any body byte is read (the engine sends
``100 Continue`` only when the handler first reads the body, RFC 9110 §10.1.1):

1. ``max_body_size``: the route's limit replaces the server's (``request.max_body_size = limit``);
   an announced ``Content-Length`` past the limit in force is ``413`` (RFC 9110 §15.5.14), raised
   as :class:`~fasthttp.errors.ContentTooLarge` by the Request's own rule (the setter, or
   ``request.check_body_size()`` for a route without a limit of its own);
2. ``consumes``: a body whose ``Content-Type`` matches none of the listed media types is ``415``
   with ``Accept`` listing them (RFC 9110 §15.5.16, §12.5.1 on ``Accept`` in a response;
   ``Accept-Patch`` too for PATCH, RFC 5789 §3.1);
3. ``produces``: the client's ``Accept`` picks one of the listed types by q-value times the
   codec's quality (``fasthttp.negotiation``, ``fasthttp.codecs``); none acceptable is ``406``;
   the handler reads the choice with :func:`media_type`, a plain value it returns is encoded by
   ``app.codecs`` in that type, and the response carries ``Vary: Accept`` (RFC 9110 §12.5.5);
4. ``expect``: for a request with ``Expect: 100-continue``, ``expect(request)`` returns None
   (go on: the handler runs and ``100 Continue`` goes out when it reads the body) or a response
   (for instance 417 or 413), sent instead; the client then never sends the body and the engine
   closes the connection after the answer (RFC 9110 §10.1.1);
5. ``blocking=True``: a ``def`` handler runs in the App's bounded thread pool
   (``loop.run_in_executor``) in a copy of the request's context; :func:`from_thread` lets it
   await the request's body or anything else on the loop.

A route's own ``middleware=[...]`` wraps all of the above (composed once, at registration, by the
same :class:`~fasthttp.middleware.MiddlewareStack` as the App's), inside the App's middleware.

Router outcomes other than a hit become responses here: ``404``, ``405`` with ``Allow``
(RFC 9110 §15.5.6), ``400`` for an invalid path or an unknown host under ``strict_hosts``, ``308``
to the other trailing-slash form (RFC 9110 §15.4.9), ``301`` from a host alias to its canonical
host (with the request's scheme), and an automatic ``OPTIONS`` (``204`` with ``Allow``, RFC 9110
§9.3.7). A ``GET`` route answers ``HEAD``; the engine drops the body (RFC 9110 §9.3.2).

Errors: an :class:`~fasthttp.errors.HttpError` (or a router outcome above) is answered by the
handler registered with :meth:`App.exception_handler` for its type or its status, else rendered
by ``fasthttp.responses.render_error`` (text, JSON or HTML, as the client's ``Accept`` prefers).
Any other exception goes to a handler registered for its type (or a base class); unhandled, it
is logged (logger ``fasthttp.error``) and answered ``500`` (a handler for status 500 may shape
it). The client never sees a traceback (APPSEC).

Middleware: callables ``mw(request, call_next)`` (``async def`` or ``def``; see
``fasthttp.middleware``), composed once, when the engine first asks for the handler
(:meth:`engine_handler`, the ``fasthttp.application.Application`` contract); with none installed
the engine calls the dispatcher directly (zero cost). ``call_next`` returns the response object
for everything below it, errors already turned into responses.

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
import dis
import inspect
import logging
import types
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ._grammar import TOKEN
from ._routecompiler import check_pattern
from .application import report_failure
from .body import ClientDisconnected
from .codecs import CodecRegistry, default_codecs
from .codecs import content_type as codec_content_type
from .conditional import check_preconditions, conditional_response, not_modified, precondition_required
from .errors import ErrorHeaders, HttpError
from .files import FileResponse
from .listeners import compose_bind
from .media import first_match
from .middleware import Middleware, MiddlewareStack, is_async_callable
from .negotiation import choose_media_type, quality
from .requests import unsupported_media_type
from .resources import resource_routes
from .responses import (
    FieldMethods,
    Response,
    StreamingResponse,
    Upgrade,
    json_dumps,
    render_error,
    to_response,
    with_fields,
)
from .routing import (
    EMPTY_PARAMS,
    Match,
    Route,
    Router,
    endpoint_name,
    normalize_methods,
)
from .websocket import websocket_endpoint

if TYPE_CHECKING:
    from .application import Handler, OnConnect
    from .middleware.stack import QuietForm
    from .parser import RequestHead
    from .requests import Request
    from .runners import ServerThread

__all__ = ("App", "media_type", "from_thread", "check_handler", "BODY_READERS")

#: A decorated function, returned unchanged by the registration decorators.
F = TypeVar("F", bound=Callable[..., Any])

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


def from_thread(awaitable: Awaitable[Any], timeout: float | None = None) -> Any:
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
    return asyncio.run_coroutine_threadsafe(awaitable, loop).result(timeout)  # type: ignore[arg-type]


#: The Request methods that read the body: coroutines (or an async iterator), so a ``def``
#: handler cannot use them (``check_handler``).
BODY_READERS = frozenset({"body", "stream", "text", "json", "form", "multipart", "xml", "validated"})
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def check_handler(handler: Callable[..., Any], *, blocking: bool = False) -> None:
    """Refuse, when a route is added, a handler that would fail on every request, with what to
    write instead (TypeError): one that cannot be called with the request alone (``def
    hello():``, or FastAPI's ``def user(item_id: int)``), and a ``def`` handler that reads the
    body (``request.json()`` is a coroutine there: ``'coroutine' object is not subscriptable``).

    The body check reads the handler's bytecode for an attribute of its request parameter named
    in :data:`BODY_READERS`; ``blocking=True`` handlers are exempt (they use ``from_thread``).
    """
    label = endpoint_name(handler)
    try:
        sig = inspect.signature(handler)
    except (TypeError, ValueError):  # a builtin or C callable without a signature: trust it
        return
    try:
        sig.bind(None)
    except TypeError:
        params = list(sig.parameters.values())
        positional = [p for p in params if p.kind in _POSITIONAL]
        if not positional and not any(p.kind is p.VAR_POSITIONAL for p in params):
            raise TypeError(
                f"handler {label}{sig} takes no parameter, but fasthttp calls it with the request: "
                f"write `def {label.rpartition('.')[2]}(request):`"
            ) from None
        extra = [p.name for p in params[1:] if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        hint = f"request.params[{extra[0]!r}]" if extra else "request.params"
        raise TypeError(
            f"handler {label}{sig} needs more than the request: fasthttp calls it with the request "
            f"only; read path parameters from {hint} and the query from request.query_params"
        ) from None
    if blocking or is_async_callable(handler):
        return
    func = getattr(handler, "__func__", handler)
    code = getattr(inspect.unwrap(func), "__code__", None)
    first = next(iter(sig.parameters.values()), None)
    if code is None or first is None or first.kind not in _POSITIONAL:
        return
    previous: Any = None
    for ins in dis.get_instructions(code):
        if ins.opname in ("LOAD_ATTR", "LOAD_METHOD") and previous == first.name and ins.argval in BODY_READERS:
            short = label.rpartition(".")[2]
            raise TypeError(
                f"def handler {label} reads the body ({first.name}.{ins.argval}), which must be "
                f"awaited: make it `async def {short}({first.name}):` and `await "
                f"{first.name}.{ins.argval}()` (or pass blocking=True and use "
                f"fasthttp.app.from_thread({first.name}.{ins.argval}()))"
            )
        if ins.opname.startswith("LOAD_FAST"):
            previous = ins.argval[-1] if isinstance(ins.argval, tuple) else ins.argval
        else:
            previous = None


def _pairs(headers: Any) -> list[tuple[Any, Any]]:
    if not headers:
        return []
    if isinstance(headers, Mapping):
        return list(headers.items())
    return list(headers)


def _media_list(value: Any, option: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = (value,)
    items = tuple(value)
    if not items or not all(isinstance(v, str) and "/" in v for v in items):
        raise ValueError(f"{option} is a list of media types (type/subtype), not {value!r}")
    return items


def _route_options(
    max_body_size: int | None = _UNSET,
    consumes: Iterable[str] | str | bool | None = None,
    produces: Iterable[str] | str | bool | None = None,
    expect: Callable[[Request], Any] | None = None,
    blocking: bool = False,
    middleware: Iterable[Middleware] | None = None,
    ranges: bool = False,
    preconditions: Callable[[Request], Any] | None = None,
    require_preconditions: bool = False,
) -> dict[str, Any]:
    """The per-route options of :meth:`App.route`, validated when the route is declared, as
    :meth:`Route.options` reports them: only those given, media types as lists."""
    if expect is not None and not callable(expect):
        raise TypeError("expect is a callable(request) -> None | response")
    route_middleware = tuple(middleware or ())
    for each in route_middleware:
        if not callable(each):
            raise TypeError(f"middleware is a callable(request, call_next), not {each!r}")
    # True: every decoder/encoder of the App's codec registry (fasthttp.codecs), when it runs.
    consumes_all, produces_all = consumes is True, produces is True
    consumes = None if consumes_all else _media_list(consumes, "consumes")
    produces = None if produces_all else _media_list(produces, "produces")
    for offered in produces or ():
        if "*" in offered:
            raise ValueError(f"produces lists concrete media types, not {offered!r}")
        quality("*/*", offered)  # raises ValueError for a type or parameters that do not parse
    options: dict[str, Any] = {}
    if max_body_size is not _UNSET:
        options["max_body_size"] = max_body_size
    if consumes is not None:
        options["consumes"] = list(consumes)
    if produces is not None:
        options["produces"] = list(produces)
    if consumes_all:
        options["consumes"] = True
    if produces_all:
        options["produces"] = True
    if expect is not None:
        options["expect"] = expect
    if blocking:
        options["blocking"] = True
    if route_middleware:
        options["middleware"] = route_middleware
    if preconditions is not None and not callable(preconditions):
        raise TypeError("preconditions is a callable(request) -> (etag, last_modified) | None")
    if ranges:
        options["ranges"] = True
    if preconditions is not None:
        options["preconditions"] = preconditions
    if require_preconditions:
        options["require_preconditions"] = True
    return options


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
    :class:`fasthttp.config.Config` field or server keyword).
    """

    def __init__(
        self,
        *,
        on_connect: OnConnect | None = None,
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
        # What runs each route: ``_run`` applies the route's options then calls the handler;
        # ``_bare`` is what runs it for a request without a body (the handler itself when the
        # route has no option). Keyed by the router's Route (Match.route); mutated in place
        # only, because the engine's handler closure holds them.
        self._run: dict[Route, Handler] = {}
        self._bare: dict[Route, Handler] = {}
        # The fast table: raw path -> {method: handler}. Mutated in place only, as above.
        self._fast: dict[str, dict[str, Handler]] = {}
        # Route -> its middleware around the automatic OPTIONS answer (see _route_preflight).
        self._preflight: dict[Route, Handler] = {}
        self._dirty = True
        self._hosts = bool(strict_hosts)
        self._resolve: Callable[..., Match] = self.router.resolve
        self._middleware = MiddlewareStack()
        #: Encoders and decoders by media type (``fasthttp.codecs``): what ``produces`` and
        #: ``consumes`` routes use; ``app.codecs.register(...)`` adds one.
        self.codecs: CodecRegistry = default_codecs()
        self._handler: Handler | None = None
        self._exception_handlers: dict[type[BaseException] | int, Callable[..., Any]] = {}
        self._on_startup: list[Callable[[], Any]] = []
        self._on_shutdown: list[Callable[[], Any]] = []
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
        consumes: Iterable[str] | str | bool | None = None,
        produces: Iterable[str] | str | bool | None = None,
        expect: Callable[[Request], Any] | None = None,
        blocking: bool = False,
        middleware: Iterable[Middleware] | None = None,
        ranges: bool = False,
        preconditions: Callable[[Request], Any] | None = None,
        require_preconditions: bool = False,
    ) -> Callable[[F], F]:
        """Register the decorated function for the pattern *path* and *methods*.

        *host*: bind to a host (``"api.example.com"``, ``"*.example.com"``). *max_body_size*:
        this route's body limit (``None``: none). *consumes*: the request media types accepted
        (else 415; ``True``: every decoder of :attr:`codecs`). *produces*: the response media
        types offered, by ``Accept`` (else 406; ``True``: every encoder of :attr:`codecs`); a
        plain value the handler returns (dict, list, dataclass) is encoded by the codec of the
        chosen type (``fasthttp.codecs``).
        *expect*: ``callable(request) -> None | response`` deciding ``Expect: 100-continue``.
        *blocking*: run a ``def`` handler in the thread pool. *middleware*: middleware for
        this route only (the classes of ``fasthttp.middleware`` or any
        ``callable(request, call_next)``), the first outermost, run inside the App's own
        middleware and around this route's other options. Patterns, converters and the
        precedence rules are those of :class:`fasthttp.routing.Router`. The path, the methods
        and the options are checked here, before the decorator is applied.

        HTTP semantics (``fasthttp.conditional``): *ranges*: an in-memory body is served in
        byte ranges (``Accept-Ranges: bytes``, 206, ``multipart/byteranges``, 416, ``If-Range``),
        with an ``ETag`` of its content. *preconditions*: ``callable(request) -> (etag,
        last_modified) | None`` (``def`` or ``async def``) giving the validators of the current
        representation (``None``: there is none), evaluated before the handler runs in the
        RFC 9110 §13.2.2 order (304 for GET/HEAD, 412 otherwise). *require_preconditions*: an
        unsafe method without ``If-Match`` or ``If-Unmodified-Since`` is 428 (RFC 6585 §3).
        """
        check_pattern(path)
        wanted = normalize_methods(methods)
        options = _route_options(
            max_body_size, consumes, produces, expect, blocking, middleware, ranges, preconditions, require_preconditions
        )

        def register(handler: F) -> F:
            self._add_route(path, wanted, handler, host, name, options)
            return handler

        return register

    def get(self, path: str, **options: Any) -> Callable[[F], F]:
        """``@app.get(path, ...)``: see :meth:`route` (GET also answers HEAD)."""
        return self.route(path, ("GET",), **options)

    def post(self, path: str, **options: Any) -> Callable[[F], F]:
        """``@app.post(path, ...)``: see :meth:`route`."""
        return self.route(path, ("POST",), **options)

    def put(self, path: str, **options: Any) -> Callable[[F], F]:
        """``@app.put(path, ...)``: see :meth:`route`."""
        return self.route(path, ("PUT",), **options)

    def patch(self, path: str, **options: Any) -> Callable[[F], F]:
        """``@app.patch(path, ...)``: see :meth:`route`."""
        return self.route(path, ("PATCH",), **options)

    def delete(self, path: str, **options: Any) -> Callable[[F], F]:
        """``@app.delete(path, ...)``: see :meth:`route`."""
        return self.route(path, ("DELETE",), **options)

    def websocket(self, path: str, *, host: str | None = None, name: str | None = None) -> Callable[[F], F]:
        """Register the decorated function as the websocket endpoint of *path* (a ``GET`` route
        that answers the opening handshake; see ``fasthttp.websocket``).

        The handler is ``async def handler(ws)`` (a :class:`~fasthttp.websocket.WebSocket`:
        ``await ws.accept()``, ``receive()``, ``send()``, ``close()``, ``ws.request``), or a
        message callback ``handler(request, opcode, payload)``. Routing, hosts, middleware,
        error handlers and ``on_connect`` apply to the upgrade request as to any other: the
        handler refuses the upgrade by returning or raising an HTTP response before accepting.
        """
        check_pattern(path)

        def register(handler: F) -> F:
            self._add_websocket(path, handler, host, name)
            return handler

        return register

    def _add_websocket(
        self, path: str, handler: Callable[..., Any], host: str | None, name: str | None, middleware: Iterable[Middleware] = ()
    ) -> Route:
        options = _route_options(middleware=middleware)
        return self._add_route(path, ("GET",), websocket_endpoint(handler), host, name or endpoint_name(handler), options)

    def _add_route(
        self,
        path: str,
        methods: tuple[str, ...],
        handler: Callable[..., Any],
        host: str | None,
        name: str | None,
        options: dict[str, Any],
    ) -> Route:
        """Register *handler* (the options already checked by :func:`_route_options`)."""
        if not callable(handler):
            raise TypeError(f"a handler must be callable, not {handler!r}")
        if options.get("blocking") and is_async_callable(handler):
            raise ValueError(f"blocking=True is for def handlers; {name or endpoint_name(handler)} is async")
        check_handler(handler, blocking=bool(options.get("blocking")))
        route = self.router.add(methods, path, handler, host=host, name=name, options=options)
        run = self._runner(route)
        self._run[route] = run
        self._bare[route] = run if options else handler
        if options.get("middleware"):
            self._preflight[route] = self._preflight_runner(options["middleware"])
        if host is not None:
            self._hosts = True
        self._changed()
        return route

    def add(
        self,
        resource: object,
        prefix: str = "",
        *,
        host: str | None = None,
        middleware: Iterable[Middleware] | None = None,
    ) -> list[Route]:
        """Register the routes of a resource object (see ``fasthttp.resources``): each method
        decorated with ``@get``/``@post``/... under ``prefix`` + the resource's ``path``.

        *host* applies to routes whose resource names none. *middleware* wraps every route of
        the resource (outside the resource's own ``middleware`` and its methods'), e.g. an
        authorization rule (``fasthttp.middleware.Authorize``). Returns the new routes.
        """
        specs = resource_routes(resource)
        outer = _middleware_list(middleware)
        added = []
        for spec in specs:
            options = dict(spec.options)
            name = options.pop("name", None)
            path = _join(prefix, spec.path)
            if spec.kind == "websocket":
                route = self._add_websocket(path, spec.handler, spec.host or host, name, (*outer, *options.get("middleware", ())))
                added.append(route)
                continue
            methods = normalize_methods(spec.methods)
            options = _route_options(**_wrapped(options, outer))
            added.append(self._add_route(path, methods, spec.handler, spec.host or host, name, options))
        return added

    def mount(
        self,
        prefix: str,
        other: App | Router,
        *,
        host: str | None = None,
        middleware: Iterable[Middleware] | None = None,
    ) -> list[Route]:
        """Copy the routes of another :class:`App` or of a :class:`~fasthttp.routing.Router`
        (endpoints as handlers), with their options and names, under *prefix*.

        ``other``'s ``"/"`` becomes *prefix* itself; *prefix* may have parameters. Routes without
        a host take *host*. *middleware* wraps every mounted route (e.g. an authorization rule,
        ``fasthttp.middleware.Authorize``), and so does the app-wide middleware of a mounted
        :class:`App` (inside *middleware*): a rule installed on a sub-app keeps protecting it
        where it is mounted (APPSEC). A snapshot: routes added to *other* later are not seen;
        the error handlers and hooks that apply are this app's, and so is the middleware that
        runs for a path under *prefix* that no mounted route matches.
        """
        if other is self:
            raise ValueError("an app cannot be mounted on itself")
        outer = _middleware_list(middleware)
        if isinstance(other, App):
            router = other.router
            outer = (*outer, *other._middleware)
        elif isinstance(other, Router):
            router = other
        else:
            raise TypeError(f"mount takes an App or a Router, not {type(other).__name__}")
        for alias, canonical in router.host_aliases().items():
            if alias not in self.router.host_aliases():
                self.alias_host(alias, canonical)
        added = []
        for r in router.routes():
            path = _join(prefix, r.pattern)
            options = _route_options(**_wrapped(r.options(), outer))
            added.append(self._add_route(path, r.methods, r.endpoint, r.host or host, r.name, options))
        return added

    def alias_host(self, alias: str, canonical: str) -> None:
        """Answer requests for *alias* with ``301`` to the same URL on *canonical*."""
        self.router.alias_host(alias, canonical)
        self._hosts = True
        self._changed()

    def register_converter(self, name: str, regex: str, convert: Callable[[str], Any] | None = None) -> None:
        """A path converter for this app's patterns: ``/:id<name>`` (see ``fasthttp.converters``)."""
        self.router.register_converter(name, regex, convert)

    def _changed(self) -> None:
        self._fast.clear()
        self._dirty = True

    # -- listing ------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        """Every :class:`~fasthttp.routing.Route` in registration order (``methods``, ``host``,
        ``pattern``, ``name``, ``endpoint``: the handler, and ``options()``); HEAD and OPTIONS
        come automatically."""
        return self.router.routes()

    def describe(self) -> str:
        """The route table as aligned text, returned (what the startup log shows;
        ``print(app.describe())`` to see it)."""
        return self.router.describe()

    # -- middleware, errors, life cycle ----------------------------------------------------------

    def add_middleware(self, middleware: Middleware) -> Middleware:
        """Install ``middleware(request, call_next)`` (see ``fasthttp.middleware``); the first
        installed is the outermost.

        ``async def`` middleware awaits ``call_next(request)`` and gets the response object.
        A ``def`` middleware gets it directly from a ``def`` route, or an awaitable of it from
        an ``async def`` one (return it as is). Installed before the app serves.
        NOTE: a handler may return a shared response object (a module-level constant): a
        middleware that changes ``response.fields`` changes it for every later request too.
        """
        return self._middleware.add(middleware)

    def middleware(self, func: F) -> F:
        """Decorator form of :meth:`add_middleware`."""
        self._middleware.add(func)
        return func

    def exception_handler(self, key: type[BaseException] | int) -> Callable[[F], F]:
        """Register ``handler(request, exc)`` for an exception type (and its subclasses) or for
        an error status (an :class:`HttpError` with it, the router's 404/405/400, the route
        options' 406/413/415, and 500 for unhandled exceptions). Its result (``def`` or
        ``async def``) is the response; a ``str``/``bytes``/``dict``/``list`` keeps the status.
        """
        if isinstance(key, bool) or not (
            isinstance(key, int) and 400 <= key <= 599 or isinstance(key, type) and issubclass(key, BaseException)
        ):
            raise TypeError("exception_handler takes an exception type or an error status (400-599)")

        def register(handler: F) -> F:
            self._exception_handlers[key] = handler
            return handler

        return register

    def on_startup(self, func: F) -> F:
        """Run ``func()`` (``def`` or ``async def``) before the app serves."""
        self._on_startup.append(func)
        return func

    def on_shutdown(self, func: F) -> F:
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

    def engine_handler(self) -> Handler:
        """The callable the engine runs per request (the ``fasthttp.application.Application``
        contract): the dispatcher, wrapped in the middleware (composed here, once)."""
        if self._handler is None:
            self._rebuild()
            # PERF (issue 17, POST echo): without middleware the dispatcher is the engine's
            # handler: it hands the engine an async handler's coroutine as is, and the engine
            # answers its failure with on_error (fasthttp.application), rather than every
            # coroutine running inside a _guard coroutine of its own.
            dispatch = self._dispatcher(guarded=len(self._middleware) > 0)
            handler = self._middleware.compose(dispatch, self._error, self._guard, engine=True)
            if handler is dispatch:
                handler.on_error = self._error  # type: ignore[attr-defined]
                # The engine makes the fast-table hit itself (fasthttp.application's
                # fast_routes): what dispatch does for it, the engine does (the body-size check,
                # on_error); a route added later clears the table (_changed), and the first
                # miss after that rebuilds it (dispatch). Only without middleware: a wrapped
                # handler has its own fast path, or none.
                handler.fast_routes = self._fast  # type: ignore[attr-defined]
            bypass = self._middleware.bypass()
            if bypass:
                handler = self._bypassing(handler, bypass)
            else:
                quiet = self._middleware.quiet_form(self._error, self._guard)
                if quiet is not None:
                    handler = self._quieting(handler, quiet)
            self._handler = handler
            log.info("route table (%d):\n%s", len(self.router.routes()), self.describe().rstrip())
        return self._handler

    def _dispatcher(self, guarded: bool = True) -> Handler:
        """The router and the routes' runners as one handler. *guarded* False: a coroutine a
        route returns is returned as is, its failure for the engine to answer with the
        handler's ``on_error`` (see :meth:`engine_handler`); True: it is wrapped in
        :meth:`_guard` (what a middleware's ``call_next`` gets)."""
        app = self
        fast_get = self._fast.get
        bare = self._bare
        run = self._run
        error = self._error
        guard = self._guard if guarded else None
        outcome = self._outcome
        coro_type = _CORO

        def dispatch(request: Request) -> Any:
            head = request.head
            path = head.path
            calls = fast_get(path)
            if calls is not None:
                call = calls.get(head.method)
                # PERF: a static route without options: no router call, no runner
                # (benchmarks/server plaintext; and POST echo: a request with content runs
                # what the route's runner, run_plain, would: the server's body-size check).
                if call is not None:
                    try:
                        reader = request.body_reader
                        if reader is not None:
                            reader.check_size()  # ContentTooLarge past the server's limit
                        result = call(request)
                    except Exception as exc:
                        return error(request, exc)
                    if type(result) is coro_type and guard is not None:
                        return guard(request, result)
                    return result
            # Everything else: the router, then the route's runner (PERF: inlined here for
            # the pattern hit, benchmarks/server route).
            if app._dirty:
                app._rebuild()
            match = app._resolve(head.method, path, request.host if app._hosts else None, "")
            route = match.route
            if route is None or match.status != 200:
                return outcome(request, head, path, match)
            request.params = match.params
            # PERF: the App's callables of a route are looked up by its Route (one dict
            # subscript, about what an attribute read costs) rather than stored on it, so the
            # router's row stays the one public route type (benchmarks/server route).
            call = bare[route] if request.body_reader is None else run[route]
            try:
                result = call(request)
            except Exception as exc:
                return error(request, exc)
            if type(result) is coro_type and guard is not None:
                return guard(request, result)
            return result

        return dispatch

    def _bypassing(self, stack: Handler, names: tuple[str, ...]) -> Handler:
        """The engine's handler when the middleware leave alone every request without content
        and without the fields *names* (``MiddlewareStack.bypass``: ``Compression`` and no
        ``Accept-Encoding``): such a request to a route of the fast table runs it directly, as
        if no middleware were installed; every other request goes through *stack*.

        PERF: the check is inlined before the fast table, one header look-up in the kernel's
        index, not a call of each middleware's ``applies`` (benchmarks/server
        fasthttp-compression plaintext)."""
        fast_get = self._fast.get
        error = self._error
        guard = self._guard
        coro_type = _CORO
        one = names[0] if len(names) == 1 else None

        def bypassing(request: Request) -> Any:
            head = request.head
            calls = fast_get(head.path)
            if calls is not None and request.body_reader is None:
                call = calls.get(head.method)
                if call is not None:
                    headers = head.headers
                    if one is not None:
                        if one in headers:
                            return stack(request)
                    else:
                        for name in names:
                            if name in headers:
                                return stack(request)
                    try:
                        result = call(request)
                    except Exception as exc:
                        return error(request, exc)
                    if type(result) is coro_type:
                        return guard(request, result)
                    return result
            return stack(request)

        return bypassing

    def _quieting(self, stack: Handler, form: QuietForm) -> Handler:
        """The engine's handler when the middleware have a quiet form (``MiddlewareStack.
        quiet_form``: CORS, SecurityHeaders and Sessions): a request without content, without
        the fields of ``form.triggers`` (``Origin``), on a plain-HTTP connection, to a route of
        the fast table, runs the route directly, as if no middleware were installed; its
        ``str``, ``dict`` or ``list`` answer goes to the engine as is, and the engine writes the
        stack's constant fields with it (``form.text_fields``, ``form.json_fields``: this
        handler's ``answer_fields``). The request's ``published`` is the form's shared mapping
        (Sessions' loader), so a handler may use the cookie session as usual. Any other answer,
        or one whose handler used ``request.extras`` (the cookie session), gets
        ``form.finish``: what the stack would have answered. Every other request goes through
        *stack*.

        NOTE: a wrapper of this handler must carry its ``answer_fields`` to the engine too.
        PERF: no middleware frame, no Response object and no per-response field check for a
        quiet request (benchmarks/server fasthttp-security plaintext)."""
        fast_get = self._fast.get
        error = self._error
        finish = form.finish
        triggers = form.triggers
        one = triggers[0] if len(triggers) == 1 else None
        published = form.published

        def quieting(request: Request) -> Any:
            head = request.head
            calls = fast_get(head.path)
            if calls is not None and request.body_reader is None:
                call = calls.get(head.method)
                if call is not None:
                    headers = head.headers
                    if one is not None:
                        if one in headers:
                            return stack(request)
                    else:
                        for name in triggers:
                            if name in headers:
                                return stack(request)
                    if request.connection.is_secure:
                        return stack(request)  # HTTPS: HSTS, through the stack
                    # The request is the engine's, new: nothing published anything yet. The
                    # shared mapping stays its own until a handler uses request.extras.
                    request.published = published
                    try:
                        result = call(request)
                    except Exception as exc:
                        return finish(request, error(request, exc))
                    t = type(result)
                    if (t is str or t is dict or t is list) and request.published is published:
                        return result
                    return finish(request, result)
            return stack(request)

        quieting.answer_fields = (form.text_fields, form.json_fields)  # type: ignore[attr-defined]
        return quieting

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
        for route in router.routes():
            if route not in self._bare or route.options():
                continue  # not added by this App, or with options: through its runner
            methods = route.methods + (("HEAD",) if "GET" in route.methods else ())
            for method in methods:
                m = resolve(method, route.pattern)
                if m.status == 200 and m.route is route and m.params is EMPTY_PARAMS:
                    fast.setdefault(route.pattern, {})[method] = route.endpoint

    def _outcome(self, request: Request, head: RequestHead, path: str, match: Match) -> Any:
        """The response for a router outcome other than a route hit."""
        status = match.status
        if status == 200:  # automatic OPTIONS (RFC 9110 §9.3.7)
            if self._preflight:
                answer = self._route_preflight(request, head, path)
                if answer is not None:
                    return answer
            return Response(b"", 204, [(b"Allow", ", ".join(match.allow))])
        if status == 301 or status == 308:
            query = head.query
            if query:  # resolved without it: the query is needed only here
                host = request.host if self._hosts else None
                match = self._resolve(head.method, path, host, query)
            location = match.location
            assert location is not None  # a redirect outcome carries its Location
            if location.startswith("//"):  # a host alias: the router does not know the scheme
                location = f"{request.scheme}:{location}"
            return Response(b"", status, [(b"Location", location)])
        if status == 405:
            return self._status_error(request, 405, None, [(b"Allow", ", ".join(match.allow))])
        if status == 400:
            return self._status_error(request, 400, f"Bad Request: {match.reason}", None)
        return self._status_error(request, status, None, None)

    # -- CORS preflights to routes with middleware --------------------------------------------------

    def _preflight_runner(self, route_middleware: Iterable[Middleware]) -> Handler:
        """A route's own middleware around the automatic ``OPTIONS`` answer: a CORS preflight
        (Fetch §3.2.2) asks about the route of ``Access-Control-Request-Method``, whose
        middleware (a route-level ``CORS``) answers it although the route has no ``OPTIONS``."""
        app = self

        def auto_options(request: Request) -> Any:
            host = request.host if app._hosts else None
            allow = app._resolve("OPTIONS", request.head.path, host, "").allow
            return Response(b"", 204, [(b"Allow", ", ".join(allow))])

        stack = MiddlewareStack()
        for each in route_middleware:
            stack.add(each)
        return stack.compose(auto_options, self._error, self._guard)

    def _route_preflight(self, request: Request, head: RequestHead, path: str) -> Any:
        """The answer of the route named by a preflight's ``Access-Control-Request-Method``
        through its middleware, or None (not a preflight, or that route has no middleware)."""
        wanted = head.headers.get("access-control-request-method")
        if wanted is None or head.headers.get("origin") is None:
            return None
        wanted = wanted.strip()
        if not TOKEN.fullmatch(wanted):
            return None
        match = self._resolve(wanted, path, request.host if self._hosts else None, "")
        run = self._preflight.get(match.route) if match.route is not None and match.status == 200 else None
        if run is None:
            return None
        request.params = match.params
        return run(request)

    # -- route runners ---------------------------------------------------------------------------

    def _runner(self, route: Route) -> Handler:
        """The callable that applies *route*'s options and runs its handler (see the module
        docstring for the order)."""
        handler = route.endpoint
        options = route.options()
        if not options:

            def run_plain(request: Request) -> Any:
                if request.body_reader is not None:
                    request.check_body_size()  # ContentTooLarge past the server's limit
                return handler(request)

            return run_plain

        call = self._threaded(handler) if options.get("blocking") else handler
        if options.get("ranges"):
            call = _with_ranges(call)
        if options.get("preconditions") is not None or options.get("require_preconditions"):
            call = _with_preconditions(call, options.get("preconditions"), bool(options.get("require_preconditions")))
        limit = options.get("max_body_size", _UNSET)
        codecs = self.codecs
        consumes_all = options.get("consumes") is True
        produces_all = options.get("produces") is True
        consumes = None if consumes_all else _media_list(options.get("consumes"), "consumes")
        produces = None if produces_all else _media_list(options.get("produces"), "produces")
        expect = options.get("expect")

        def finish(request: Request, chosen: str | None) -> Any:
            result = call(request)
            if chosen is None:
                return result
            if type(result) is _CORO:
                return _produce_async(result, chosen, codecs)
            return _produced(result, chosen, codecs)

        async def finish_after(request: Request, decision: Awaitable[Any], chosen: str | None) -> Any:
            decision = await decision
            if decision is not None:
                return decision
            result = finish(request, chosen)
            if type(result) is _CORO:
                result = await result
            return result

        def run(request: Request) -> Any:
            # RFC 9110 §15.5.14: an announced body past the limit is refused before a byte of it
            # is read; the rule is the Request's (one home: the engine's body reader).
            if limit is not _UNSET:
                request.max_body_size = limit  # raises ContentTooLarge past an announced length
            elif request.body_reader is not None:
                request.check_body_size()
            if consumes is not None and request.body_reader is not None:
                _check_media_type(request, consumes)
            elif consumes_all and request.body_reader is not None:
                _check_media_type(request, codecs.decoder_types())
            chosen = None
            if produces is not None or produces_all:
                offered = codecs.encoder_types() if produces is None else produces
                # client q-value times the codec's quality; none acceptable: the 406
                chosen = codecs.choose(request, offered) or choose_media_type(request, offered)
                _MEDIA_TYPE.set(chosen)
            if expect is not None and request.head.expect_continue:
                decision = expect(request)
                if type(decision) is _CORO:
                    return finish_after(request, decision, chosen)
                if decision is not None:
                    return decision
            return finish(request, chosen)

        route_middleware = options.get("middleware")
        if route_middleware:
            stack = MiddlewareStack()
            for each in route_middleware:
                stack.add(each)
            return stack.compose(run, self._error, self._guard)
        return run

    def _threaded(self, handler: Handler) -> Handler:
        app = self

        async def run_blocking(request: Request) -> Any:
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

    # -- errors ---------------------------------------------------------------------------------

    async def _guard(self, request: Request, coro: Awaitable[Any]) -> Any:
        try:
            return await coro
        except Exception as exc:
            result = self._error(request, exc)
            if type(result) is _CORO:
                result = await result
            return result

    def _find_handler(self, exc: BaseException, stop: type | None = None) -> Callable[..., Any] | None:
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

    def _error(self, request: Request, exc: Exception) -> Any:
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
        # APPSEC: the client gets a bare 500; the traceback goes to the server log only.
        error_log.error(
            "error in handler for %s %s", request.method, request.target.decode("latin-1"), exc_info=exc
        )
        report_failure(exc)
        handler = handlers.get(500)
        if handler is not None:
            return _call_error_handler(handler, request, exc, 500, None)
        return self._render(request, 500, None, None)

    def _status_error(self, request: Request, status: int, detail: str | None, headers: ErrorHeaders) -> Any:
        """A framework-made error (router outcome): a status handler, else the rendered error."""
        handler = self._exception_handlers.get(status)
        if handler is not None:
            return _call_error_handler(handler, request, HttpError(status, detail, headers), status, headers)
        return self._render(request, status, detail, headers)

    @staticmethod
    def _render(request: Request, status: int, detail: Any, headers: ErrorHeaders) -> Response:
        """The error body in the representation the client's ``Accept`` prefers (text, JSON
        or HTML: ``responses.render_error``), with the error's own header fields."""
        # render_error adds Vary: Accept itself; keep the other fields (Allow, Accept, ...).
        extra = [(n, v) for n, v in _pairs(headers) if not _is_vary_accept(n, v)]
        return render_error(status, detail, request, headers=extra or None)

    # -- running ------------------------------------------------------------------------------

    def _options(self, options: dict[str, Any]) -> dict[str, Any]:
        merged = dict(self.server_options)
        merged.update(options)
        return merged

    def run(self, bind: Any = None, *, host: str | None = None, port: int | None = None, **options: Any) -> None:
        """Serve until SIGTERM/SIGINT (blocking); see :func:`fasthttp.runners.run`. The server
        runs the startup and shutdown hooks on its loop (in each worker with ``workers`` > 1).
        *bind* (``"127.0.0.1:8000"``, a list, ...) or uvicorn's *host* and *port*."""
        from .runners import run

        run(self, _bind(bind, host, port), **self._options(options))

    async def serve(self, bind: Any = None, *, host: str | None = None, port: int | None = None, **options: Any) -> None:
        """Serve on the running loop until cancelled, with the startup and shutdown hooks; see
        :func:`fasthttp.server.serve`. *bind*, or *host* and *port*, as :meth:`run`."""
        from .server import serve

        await serve(self, _bind(bind, host, port), **self._options(options))

    def start(self, bind: Any = None, *, host: str | None = None, port: int | None = None, **options: Any) -> ServerThread:
        """Serve from a background thread; returns a :class:`~fasthttp.runners.ServerThread`
        once listening (``.addresses``, ``.urls``, ``.stop()``); the hooks run on its loop.
        *bind*, or *host* and *port*, as :meth:`run`."""
        from .runners import ServerThread

        return ServerThread(self, _bind(bind, host, port), **self._options(options))

    def __repr__(self) -> str:
        return f"<App {len(self.router.routes())} routes>"


# -- helpers ----------------------------------------------------------------------------------


def _bind(bind: Any, host: str | None, port: int | None) -> Any:
    """*bind*, or the spec of *host* and *port* (a missing one takes the default's part)."""
    if host is None and port is None:
        return bind
    if bind is not None:
        raise TypeError("give bind, or host and port, not both")
    return compose_bind(host, port)


def _middleware_list(middleware: Iterable[Middleware] | None) -> tuple[Middleware, ...]:
    items = tuple(middleware or ())
    for each in items:
        if not callable(each):
            raise TypeError(f"middleware is a callable(request, call_next), not {each!r}")
    return items


def _wrapped(options: Mapping[str, Any], outer: tuple[Middleware, ...]) -> dict[str, Any]:
    """Route *options* with the *outer* middleware around the route's own (first outermost)."""
    wrapped = dict(options)
    if outer:
        wrapped["middleware"] = (*outer, *wrapped.get("middleware", ()))
    return wrapped


def _join(prefix: str, path: str) -> str:
    """``prefix`` + ``path``, where ``path``'s ``"/"`` is ``prefix`` itself (as Router.mount)."""
    prefix = prefix.rstrip("/") if prefix else ""
    if not prefix:
        return path
    if not prefix.startswith("/"):
        raise ValueError(f"a prefix starts with '/': {prefix!r}")
    return prefix if path == "/" else prefix + path


def _check_media_type(request: Request, consumes: tuple[str, ...]) -> None:
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


def _produced(result: Any, chosen: str, codecs: CodecRegistry | None = None) -> Any:
    """The handler's result for a ``produces`` route: labelled with the chosen media type when
    it is bare text or bytes, encoded by the codec of the chosen type when it is another plain
    value (a dict, a list, a dataclass; ``fasthttp.codecs``), and with ``Vary: Accept``
    (RFC 9110 §12.5.5)."""
    t = type(result)
    if codecs is not None and result is not None and not isinstance(result, (str, bytes, bytearray, memoryview, tuple, FieldMethods, Upgrade)):
        codec = codecs[chosen] if chosen in codecs else None
        if codec is not None and codec.encode is not None:
            return Response(codecs.encode(chosen, result), 200, [(_CT, codec_content_type(chosen)), _VARY_ACCEPT])
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
        return with_fields(response, [_VARY_ACCEPT])
    return response


async def _produce_async(coro: Any, chosen: str, codecs: CodecRegistry | None = None) -> Any:
    return _produced(await coro, chosen, codecs)


def _with_ranges(call: Handler) -> Handler:
    """The ``ranges=True`` route option: the handler's in-memory body in the byte ranges asked
    for (``fasthttp.conditional.conditional_response``, the rules FileResponse follows)."""

    def ranged(request: Request) -> Any:
        result = call(request)
        if type(result) is _CORO:
            return _ranged_async(request, result)
        return _ranged(request, result)

    return ranged


def _ranged(request: Request, result: Any) -> Any:
    response = to_response(result)
    if isinstance(response, Response):
        return conditional_response(request.method, request.head.headers, response, ranges=True)
    return response


async def _ranged_async(request: Request, coro: Any) -> Any:
    return _ranged(request, await coro)


def _with_preconditions(call: Handler, validators: Callable[[Request], Any] | None, require: bool) -> Handler:
    """The ``preconditions=``/``require_preconditions=`` route options: the request's
    conditional fields evaluated against the current validators *before* the handler acts
    (RFC 9110 §13.2.1), and the opt-in 428 (RFC 6585 §3)."""

    def guarded(request: Request) -> Any:
        headers = request.head.headers
        if require:
            refusal = precondition_required(request.method, headers)
            if refusal is not None:
                raise refusal
        if validators is None:
            return call(request)
        current = validators(request)
        if type(current) is _CORO:
            return _preconditions_async(call, request, current)
        answer = _precondition_answer(request, current)
        return call(request) if answer is None else answer

    return guarded


def _precondition_answer(request: Request, current: Any) -> Response | None:
    """The 304/412 for the validators *current* (``(etag, last_modified)`` or ``None``)."""
    if current is None:
        etag, modified, exists = None, None, False
    else:
        etag, modified = current
        exists = True
        if isinstance(modified, (int, float)) and not isinstance(modified, bool):
            modified = int(modified)
        elif modified is not None:
            modified = int(modified.timestamp())  # a datetime
    outcome = check_preconditions(request.method, request.head.headers, etag, modified, exists=exists)
    if outcome == 304:
        fields = [("ETag", etag)] if etag is not None else []
        return not_modified(fields, etag)
    if outcome == 412:
        raise HttpError(412)
    return None


async def _preconditions_async(call: Handler, request: Request, current: Any) -> Any:
    answer = _precondition_answer(request, await current)
    if answer is not None:
        return answer
    result = call(request)
    if type(result) is _CORO:
        result = await result
    return result


def _error_result(value: Any, status: int, headers: Any) -> Any:
    """An error handler's plain value keeps the error's status (and headers, e.g. Allow)."""
    t = type(value)
    if t is str or t is bytes or t is dict or t is list:
        response = to_response(value)
        assert isinstance(response, Response)  # what to_response makes of these four types
        return Response(response.body, status, [*response.fields, *_pairs(headers)])
    return value


async def _error_result_async(coro: Any, status: int, headers: Any) -> Any:
    return _error_result(await coro, status, headers)


def _call_error_handler(
    handler: Callable[..., Any], request: Request, exc: BaseException, status: int, headers: ErrorHeaders
) -> Any:
    result = handler(request, exc)
    if type(result) is _CORO:
        return _error_result_async(result, status, headers)
    return _error_result(result, status, headers)
