"""The middleware stack: callables around the App's dispatcher, composed once when the App starts serving.

A middleware is ``middleware(request, call_next)``, ``async def`` or ``def``, installed with
``app.add_middleware(middleware)`` or ``@app.middleware``; the first installed is the outermost.
``call_next(request)`` runs everything below it (the next middleware, then the route) and gives
the *response object* (``fasthttp.responses.to_response`` of what the handler returned), with
errors already turned into responses by the App. For an ``async def`` middleware ``call_next``
is a coroutine function; for a ``def`` one it returns the response directly below a ``def``
route, or an awaitable of it below an ``async def`` one (return it as is). Middleware classes
(issues 14 and 18) are instances with that ``__call__``; one may also define
``applies(request) -> bool``, and for a request where it answers False the middleware is
skipped (the chain below is called directly), which is how a middleware costs next to nothing
for the requests it leaves alone.

Strategy: :class:`MiddlewareStack` keeps the list and composes it once, when the App builds its
engine handler; after that the stack refuses additions (the chain is already built). With none
installed, composing returns the dispatcher itself: middleware costs nothing when there is none
(PERF: ``benchmarks/server`` plaintext). An exception raised by a middleware itself goes through
the App's error handling like a handler's (the ``error``/``guard`` pair given to
:meth:`MiddlewareStack.compose`).
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

from ..responses import to_response

if TYPE_CHECKING:
    from ..application import Handler
    from ..requests import Request

__all__ = ("Middleware", "CallNext", "MiddlewareStack", "is_async_callable")

#: What runs everything below a middleware: ``call_next(request) -> response`` (or an awaitable).
CallNext = Callable[["Request"], Any]
#: A middleware: ``middleware(request, call_next) -> response`` (or an awaitable of it).
Middleware = Callable[["Request", CallNext], Any]

_CORO = types.CoroutineType


def is_async_callable(obj: object) -> bool:
    """True for an ``async def`` function, or an object whose ``__call__`` is one."""
    return inspect.iscoroutinefunction(obj) or inspect.iscoroutinefunction(getattr(obj, "__call__", None))


class MiddlewareStack:
    """The middleware of an App, in installation order (the first is the outermost)."""

    __slots__ = ("_items", "_composed")

    def __init__(self) -> None:
        self._items: list[Middleware] = []
        self._composed = False

    def add(self, middleware: Middleware) -> Middleware:
        """Install *middleware* below those already installed; returns it (decorator use)."""
        if self._composed:
            raise RuntimeError("middleware is composed when the app starts serving: install it before")
        if not callable(middleware):
            raise TypeError("middleware is a callable(request, call_next)")
        self._items.append(middleware)
        return middleware

    def __iter__(self) -> Iterator[Middleware]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def compose(
        self,
        inner: Handler,
        error: Callable[[Request, Exception], Any],
        guard: Callable[[Request, Awaitable[Any]], Awaitable[Any]],
    ) -> Handler:
        """The handler that runs the middleware around *inner*, once; afterwards :meth:`add`
        refuses. *error* ``(request, exc)`` answers an exception a middleware raises; *guard*
        ``(request, awaitable)`` awaits a result and answers its exception the same way."""
        self._composed = True
        if not self._items:
            return inner
        first, *others = self._items
        rest = inner
        for middleware in reversed(others):
            rest = _layer(middleware, rest, error, guard)
        if others:
            rest = _guarded(rest, error, guard)
        full = _guarded(_layer(first, rest, error, guard, skippable=False), error, guard)
        applies = getattr(first, "applies", None)
        if applies is None:
            return full

        def outermost(request: Request) -> Any:
            # PERF: the outermost middleware's applies() is asked before anything else, so a
            # request it leaves alone costs that call only (benchmarks/server
            # fasthttp-compression plaintext).
            if applies(request):
                return full(request)
            return rest(request)

        return outermost


def _layer(
    middleware: Middleware,
    inner: Handler,
    error: Callable[[Request, Exception], Any],
    guard: Callable[[Request, Awaitable[Any]], Awaitable[Any]],
    skippable: bool = True,
) -> Handler:
    """One middleware around *inner* (the rest of the chain); *skippable*: honour its
    ``applies`` (the outermost one's is asked by :meth:`MiddlewareStack.compose` instead).

    ``call_next`` gives a response even when a middleware below raises (a ``429`` from a rate
    limit, a ``403`` from CSRF): the error is answered as the App answers it, so the middleware
    above still see a response and add their fields to it (CORS, security headers, the session
    cookie)."""
    call_next: CallNext
    if is_async_callable(middleware):

        async def call_next_async(request: Request) -> Any:
            try:
                result = inner(request)
                if type(result) is _CORO:
                    result = await result
            except Exception as exc:
                result = error(request, exc)
                if type(result) is _CORO:
                    result = await result
            return to_response(result)

        call_next = call_next_async

    else:

        def call_next_sync(request: Request) -> Any:
            try:
                result = inner(request)
            except Exception as exc:
                result = error(request, exc)
            if type(result) is _CORO:
                return _to_response_async(guard(request, result))
            return to_response(result)

        call_next = call_next_sync

    applies = getattr(middleware, "applies", None) if skippable else None
    if applies is not None:
        # PERF: a middleware with nothing to do for a request says so up front (``applies``),
        # and the chain below runs as if it were not installed: no call_next, no conversion of
        # the result (benchmarks/server fasthttp-compression plaintext).

        def layer_if(request: Request) -> Any:
            if applies(request):
                return middleware(request, call_next)
            return inner(request)

        return layer_if

    def layer(request: Request) -> Any:
        return middleware(request, call_next)

    return layer


def _guarded(
    handler: Handler,
    error: Callable[[Request, Exception], Any],
    guard: Callable[[Request, Awaitable[Any]], Awaitable[Any]],
) -> Handler:
    """Errors raised by middleware itself go through the same error handling as a handler's."""

    def guarded(request: Request) -> Any:
        try:
            result = handler(request)
        except Exception as exc:
            return error(request, exc)
        if type(result) is _CORO:
            return guard(request, result)
        return result

    return guarded


async def _to_response_async(coro: Awaitable[Any]) -> Any:
    return to_response(await coro)
