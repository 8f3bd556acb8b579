"""The engine's contract with the application it serves: one typed ``Application`` protocol.

The engine knows nothing of routing (DESIGN.md): it calls one callable per request, the
*handler*, with a :class:`~fasthttp.requests.Request`, and writes what it returns. What the
engine needs from an application is the :class:`Application` protocol below; ``fasthttp.App``
implements it, and so will the ASGI and WSGI adapters. A bare handler callable is an application
too: :func:`as_application` wraps it.

What a handler may return (the engine dispatches on the exact type first, PERF): ``str``
(text/plain), ``bytes``, ``dict``/``list`` (JSON), ``None`` (204), a
:class:`~fasthttp.responses.Response`, a :class:`~fasthttp.responses.StreamingResponse` or
:class:`~fasthttp.files.FileResponse` (sent by the engine's senders), an
:class:`~fasthttp.responses.Upgrade` (the connection is handed over), or a coroutine resolving
to any of these. Raising :class:`~fasthttp.errors.HttpError` answers with its status; any other
exception is logged and answered 500.

Attributes the engine reads on the handler (optional; a bare callable has none):
``answer_fields`` (the fields written with a ``str`` and with a ``dict``/``list`` answer, see
``fasthttp.connections.ConnectionManager``) and ``on_error``: ``on_error(request, exc)`` answers
an :class:`Exception` (``HttpError`` included) raised by a coroutine the handler returned, with
anything a handler may return (a coroutine included, which the engine awaits). The engine
applies it once per failure, driven inline or in a Task: an exception raised by ``on_error`` or
by the coroutine it returned gets the engine's own answer above. PERF (issue 17): the App's
handler carries its error handling this way rather than wrapping every ``async def`` handler's
coroutine in a coroutine of its own.

``fast_routes`` (optional): the handler's exact-route table, a ``dict`` mapping a request's
``path`` (``request.head.path``) to a ``dict`` mapping its ``method`` to a callable taking the
request. For a request whose path and method hit, the engine calls that callable in the
request's context instead of the handler, doing what the handler would around it: a request
with content is first checked against its body-size limit (``BodyReader.check_size``), and an
exception raised there or by the callable is answered with ``on_error`` (or as the handler's
own exception when there is none). So an entry must answer exactly what the handler would for
such a request; the application keeps the table current (mutated in place: the engine holds
it from the start), and a miss costs two dict look-ups, then the handler as usual (which may
refill the table). PERF (issue 17): the App's exact routes without options run without its
interpreted dispatcher in between (``benchmarks/bench_connection.py``).
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, Union, runtime_checkable

if TYPE_CHECKING:
    import asyncio

    from .requests import Request

__all__ = (
    "Handler",
    "OnConnect",
    "Application",
    "HandlerApplication",
    "as_application",
    "Deferred",
    "FAILURE_OBSERVER",
    "report_failure",
)

#: The per-request callable: ``handler(request) -> result`` or an awaitable of the result (the
#: result kinds are listed in the module docstring).
Handler = Callable[["Request"], Union[Any, Awaitable[Any]]]
#: The per-connection accept hook: ``on_connect(transport, session) -> bool`` (False refuses).
#: *session* is the connection's dict, shared with every request on it (``request.session``).
OnConnect = Callable[["asyncio.BaseTransport", dict[str, Any]], bool]


@runtime_checkable
class Application(Protocol):
    """What the engine serves: one handler, and a life cycle around serving."""

    #: The connection hook the server uses unless it is given one (None: accept every connection).
    on_connect: OnConnect | None

    def engine_handler(self) -> Handler:
        """The callable the engine runs for every request (asked for once per server)."""
        ...

    async def startup(self) -> None:
        """Run before the first connection is accepted; idempotent."""
        ...

    async def shutdown(self) -> None:
        """Run after the last connection is closed; idempotent."""
        ...


class HandlerApplication:
    """A bare handler callable, served as an :class:`Application` with an empty life cycle."""

    __slots__ = ("handler", "on_connect")

    def __init__(self, handler: Handler, on_connect: OnConnect | None = None) -> None:
        self.handler = handler
        self.on_connect = on_connect

    def engine_handler(self) -> Handler:
        return self.handler

    async def startup(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"HandlerApplication({self.handler!r})"


def as_application(app: Application | Handler) -> Application:
    """*app* as an :class:`Application`: itself if it implements the protocol, a
    :class:`HandlerApplication` if it is a plain callable, else TypeError.

    The server and the test client take either kind through this one function."""
    if isinstance(app, Application):
        return app
    if callable(app):
        return HandlerApplication(app)
    raise TypeError(f"{app!r} is neither an application (fasthttp.App, an adapter) nor a handler callable")


class Deferred:
    """A response the handler gives later, from a task of its own: the engine's hook for
    adapters (PERF: the ASGI adapter runs the application in one Task and answers from it, so
    the engine needs no Task, and no future, of its own for the request).

    The handler returns it instead of a result; the engine calls :meth:`attach` once, and the
    adapter calls :meth:`deliver` once with the result (any kind the module docstring lists).
    The engine holds it as the request's task: :meth:`cancel` when it drops the connection first
    (a subclass stops its work there), :meth:`done` once delivered.
    """

    # PERF: no __slots__, and the initial state is the class's: a subclass instance made per
    # request sets only what it changes.
    _respond: Callable[[Request, Any], None] | None = None
    _request: Request | None = None
    _result: Any = None
    #: The result was delivered.
    settled = False

    def attach(self, respond: Callable[[Request, Any], None], request: Request) -> None:
        """(the engine) Call ``respond(request, result)`` on delivery (now, if delivered)."""
        if self.settled:
            respond(request, self._result)
            return
        self._respond = respond
        self._request = request

    def deliver(self, result: Any) -> None:
        """(the adapter) Hand *result* to the engine; only the first delivery counts."""
        if self.settled:
            return
        self.settled = True
        self._result = result
        respond = self._respond
        if respond is not None:
            self._respond = None
            request = self._request
            self._request = None
            respond(request, result)  # type: ignore[arg-type]

    def done(self) -> bool:
        return self.settled

    def cancel(self) -> bool:
        """(the engine) The connection is gone before the delivery."""
        self._respond = self._request = None
        return True


#: Who wants to see the exceptions answered with a bare 500 (an unhandled handler exception, a
#: result the engine cannot send): ``fasthttp.testing.TestClient`` sets it around a request to
#: re-raise them in the test (Starlette's ``raise_server_exceptions``); None in a server.
FAILURE_OBSERVER: contextvars.ContextVar[Callable[[BaseException], None] | None] = contextvars.ContextVar(
    "fasthttp_failure_observer", default=None
)


def report_failure(exc: BaseException) -> None:
    """Tell the :data:`FAILURE_OBSERVER` of the current context (if any) that *exc* is being
    answered with a 500; the engine and the App call it where they log such a failure."""
    observer = FAILURE_OBSERVER.get()
    if observer is not None:
        observer(exc)
