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
for the requests it leaves alone. With ``applies``, ``triggers`` (request header names) says
that ``applies`` is exactly "the request has content or one of these fields": when every
installed middleware says so, the App checks those fields itself before its fast route table
and never enters the stack for other requests (:meth:`MiddlewareStack.bypass`).

A ``def`` middleware class may also split itself in two, for speed: ``before(request)`` and
``after(request, response, state)``. ``before`` answers, per request, :data:`FULL` (run my
``__call__`` for this one), None (nothing to do: skipped), an :class:`AppendFields` (only
append these fields to the response, when it has none of their names; otherwise my ``after``
is called with them) or any other state (my ``after`` gets it with the response). ``before``
must leave the request as ``__call__`` would find it (it may run again, inside ``__call__``,
when a middleware of the same run answers :data:`FULL`).

Strategy: :class:`MiddlewareStack` keeps the list and composes it once, when the App builds its
engine handler; after that the stack refuses additions (the chain is already built). With none
installed, composing returns the dispatcher itself: middleware costs nothing when there is none
(PERF: ``benchmarks/server`` plaintext). Consecutive middleware with ``before``/``after`` are
run by one function (:func:`_fused`): their ``before`` outer to inner, the chain below once,
one ``to_response``, their ``after`` inner to outer, and the fields they append copied onto the
response once (PERF: ``benchmarks/bench_middleware.py``, CORS + SecurityHeaders + Sessions;
no closure, no ``call_next`` frame and no response copy per middleware).

A split middleware may also be *quiet*: ``triggers`` (request header names) and
``quiet(secure) -> AppendFields | None``, what its ``before`` answers for a request that carries
none of those fields, on an HTTPS connection or not (CORS without ``Origin``: ``Vary:
Origin``; SecurityHeaders always: HSTS on HTTPS only). The outer quiet members of a run are
joined once per scheme at start-up, and a request without their triggers costs a header look-up
and ``request.is_secure``, not their ``before`` (with a trigger, their answers are joined once per
distinct answer). For the App's own stack (``compose(..., engine=True)``) the stack's text
Response then carries the joined fields as a writer :class:`~fasthttp.writer.FieldBlock`, checked
and serialized once and copied by the writer as one block (PERF: ``benchmarks/bench_middleware.py``,
``benchmarks/results/mw-middleware.md``: CORS + SecurityHeaders + Sessions +2.8 -> +1.2 µs per
plaintext request in process). When the whole stack is such a run, quiet members first and at
most one *publishing* member after them (``publish``: Sessions, whose ``before`` only puts its
loader in ``request.extras``), :meth:`MiddlewareStack.quiet_form` describes it to the App
(:class:`QuietForm`): a quiet request on plain HTTP to a route of the App's fast table then runs
the route directly, and the engine writes the joined fields with a ``str``/``dict``/``list``
answer (PERF: ``benchmarks/server`` fasthttp-security plaintext, within a few percent of
fasthttp). An exception raised by a middleware itself goes through
the App's error handling like a handler's (the ``error``/``guard`` pair given to
:meth:`MiddlewareStack.compose`).
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..errors import InvalidResponseHeader
from ..responses import (
    CONTENT_TYPE,
    JSON_FIELDS,
    JSON_TYPE,
    TEXT_FIELDS,
    TEXT_TYPE,
    FieldMethods,
    Response,
    lower_name,
    to_response,
    with_fields,
)
from ..writer import FieldBlock

if TYPE_CHECKING:
    from ..application import Handler
    from ..requests import Request

__all__ = ("Middleware", "CallNext", "MiddlewareStack", "is_async_callable", "AppendFields", "FULL", "QuietForm")

#: What runs everything below a middleware: ``call_next(request) -> response`` (or an awaitable).
CallNext = Callable[["Request"], Any]
#: A middleware: ``middleware(request, call_next) -> response`` (or an awaitable of it).
Middleware = Callable[["Request", CallNext], Any]

_CORO = types.CoroutineType
_MISSING: Any = object()
_CLASH: Any = object()  # AppendFields that cannot be joined (see _fused)
_TEXT_FIELD = (CONTENT_TYPE, TEXT_TYPE)  # the field of a handler's str answer (see _fused)
_JSON_FIELD = (CONTENT_TYPE, JSON_TYPE)  # the field of a handler's dict or list answer (see QuietForm)
_JOINS = 1024  # outer AppendFields remembered per AppendFields (CORS keeps 256 origins)

#: What ``before(request)`` answers to have the middleware's own ``__call__`` run the request.
FULL: Any = object()


class AppendFields:
    """What a split middleware's ``before`` answers when all it does to a request's response is
    appending *fields*: the stack appends those of every middleware of the run with one copy of
    the response, unless the response already has a field of one of their names (compared
    case-insensitively, RFC 9110 §5.1), in which case the middleware's ``after(request,
    response, this)`` decides. Built once (at start-up or per cached value), never per request;
    *detail* is the middleware's own (what its ``after`` needs)."""

    __slots__ = ("fields", "names", "sizes", "detail", "text_fields", "joins", "_block")

    def __init__(self, fields: Iterable[tuple[str | bytes, str | bytes]], detail: Any = None) -> None:
        self.fields: tuple[tuple[str | bytes, str | bytes], ...] = tuple(fields)
        self.names = frozenset(lower_name(n) for n, _ in self.fields)
        # PERF: the lengths first (field names are ASCII), so most fields are never lower-cased.
        self.sizes = frozenset(len(n) for n in self.names)
        self.detail = detail
        #: The fields of a handler's ``str`` answer with these (None: they name Content-Type).
        self.text_fields = None if b"content-type" in self.names else (_TEXT_FIELD, *self.fields)
        #: The outer AppendFields met after these -> both as one (None: they clash), see _fused.
        self.joins: dict[AppendFields, AppendFields | None] = {}
        self._block: Any = _MISSING

    def text_block(self) -> Any:
        """:attr:`text_fields` as a writer :class:`~fasthttp.writer.FieldBlock` (checked and
        serialized once, then copied by the writer as one block), made on first use; None when
        there are none or they cannot be one (a bad field: the writer then refuses it per
        response, as it would without a block)."""
        block = self._block
        if block is _MISSING:
            block = None
            if self.text_fields is not None:
                try:
                    block = FieldBlock(self.text_fields)
                except (InvalidResponseHeader, TypeError, ValueError):
                    block = None
            self._block = block
        return block

    def join(self, outer: AppendFields) -> AppendFields | None:
        """These fields then *outer*'s as one AppendFields (cached), or None when *outer* names
        one of these (then each middleware's ``after`` merges its own, in turn)."""
        both = self.joins.get(outer, _MISSING)
        if both is _MISSING:
            both = None if outer.clashes(self.fields) else AppendFields((*self.fields, *outer.fields))
            if len(self.joins) < _JOINS:
                self.joins[outer] = both
        return both

    def clashes(self, fields: Iterable[tuple[Any, Any]]) -> bool:
        """Whether *fields* (a response's) hold one of these names."""
        sizes = self.sizes
        for name, _ in fields:
            if len(name) in sizes and lower_name(name) in self.names:
                return True
        return False

    def __repr__(self) -> str:
        return f"<AppendFields {[n for n, _ in self.fields]}>"


class QuietForm:
    """What the App's whole stack does to a *quiet* request, known at start-up: a request on a
    plain-HTTP connection that carries none of :attr:`triggers` (see
    :meth:`MiddlewareStack.quiet_form`), so the App may run its route without entering the stack.

    For such a request the quiet members' states are their plain-HTTP ``quiet(False)`` plan,
    joined, and the other member, if any, *publishes* (``publish``: its ``before`` only sets
    ``request.extras[key] = value`` and answers ``request.extras``; its ``after`` has nothing to
    do while no one used ``request.extras``, as Sessions' loader when no handler looked at the
    session). So :attr:`published` (that ``{key: value}``, read-only, shared) becomes the
    request's ``published`` mapping (``fasthttp.requests.Request.published``: the request
    copies it into a dict of its own on first use); a handler's ``str`` answer is the text
    Content-Type then the plan's fields (:attr:`text_fields`, a writer
    :class:`~fasthttp.writer.FieldBlock`), a ``dict`` or ``list`` answer the same with the JSON
    Content-Type (:attr:`json_fields`): the engine writes them for such answers (the handler's
    ``answer_fields``, ``fasthttp.connections``). Anything else (a Response, a coroutine, an
    error, or a request whose extras a handler used) goes through :attr:`finish`, which answers
    exactly as the stack would have."""

    __slots__ = ("triggers", "published", "text_fields", "json_fields", "finish")

    def __init__(
        self,
        triggers: tuple[str, ...],
        published: Mapping[str, Any] | None,
        text_fields: Any,
        json_fields: Any,
        finish: Callable[[Request, Any], Any],
    ) -> None:
        #: The request header names (lower case) that make a request not quiet.
        self.triggers = triggers
        #: What a quiet request's ``published`` is set to before the handler runs (None: nothing).
        self.published = published
        #: The fields of a handler's ``str`` answer, and of its ``dict``/``list`` answer.
        self.text_fields = text_fields
        self.json_fields = json_fields
        #: ``finish(request, result)``: the stack's answer for the handler's *result*.
        self.finish = finish


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

    def bypass(self) -> tuple[str, ...] | None:
        """The request header names that decide whether this stack has anything to do: a
        request without content and without any of these fields is left alone by every
        installed middleware, so the App may run its route without entering the stack; None
        when some middleware may act on any request (or none is installed).

        It is so when each middleware declares ``applies`` and ``triggers`` (``Compression``:
        ``applies`` is exactly "content, or an ``Accept-Encoding`` field")."""
        names: dict[str, None] = {}
        for middleware in self._items:
            triggers = getattr(middleware, "triggers", None)
            if getattr(middleware, "applies", None) is None or triggers is None:
                return None
            names.update(dict.fromkeys(str(name).lower() for name in triggers))
        return tuple(names) if self._items else None

    def quiet_form(
        self,
        error: Callable[[Request, Exception], Any],
        guard: Callable[[Request, Awaitable[Any]], Awaitable[Any]],
    ) -> QuietForm | None:
        """The :class:`QuietForm` of this stack (composed for the engine, with *error* and
        *guard* as :meth:`compose` took them), or None when it has none: every installed
        middleware is split (``before``/``after``), the outer ones are quiet (``quiet`` and
        ``triggers``: CORS, SecurityHeaders), at most one other follows and it declares
        ``publish`` (Sessions without a store), and the fields make one writer block.

        PERF: the App then answers a quiet request to a route of its fast table as if no
        middleware were installed, and the engine writes the constant fields as one block
        (``benchmarks/server`` fasthttp-security plaintext)."""
        items: list[Any] = self._items
        if not items or not all(_splits(m) for m in items):
            return None
        quiet = _quiet_run(items)
        if quiet is None:
            return None
        triggers, _quiet_befores, _quiet_afters, loud_befores, (plan, _secure_plan) = quiet
        if len(loud_befores) > 1:
            return None
        published: Mapping[str, Any] | None = None
        if loud_befores:
            publish = getattr(items[-1], "publish", None)
            if publish is None:
                return None
            published = MappingProxyType({publish[0]: publish[1]})
        if plan is None:
            text_fields: Any = TEXT_FIELDS
            json_fields: Any = JSON_FIELDS
        else:
            try:
                text_fields = FieldBlock((_TEXT_FIELD, *plan.fields))
                json_fields = FieldBlock((_JSON_FIELD, *plan.fields))
            except (InvalidResponseHeader, TypeError, ValueError):
                return None  # a bad field: the writer refuses it per response, as without this form
        afters = tuple(m.after for m in reversed(items))  # inner to outer
        count = len(loud_befores)
        qfinish, qfinish_async = _finisher((*afters[:count], _quiet_after), error, guard, True, True)

        def finish(request: Request, result: Any) -> Any:
            # What the stack's quiet path (_fused) does with the chain's result, the members'
            # states known: the publishing member's (request.extras), then the plan.
            try:
                states = [request.extras, plan] if count else [plan]
                if type(result) is _CORO:
                    return guard(request, qfinish_async(request, guard(request, result), states))
                if type(result) is str:
                    own = Response.__new__(Response)
                    own.status = 200
                    own.body = result.encode()
                    own.fields = [_TEXT_FIELD]
                    return qfinish(request, own, states, 0, own)
                return qfinish(request, to_response(result), states)
            except Exception as exc:
                return error(request, exc)

        return QuietForm(triggers, published, text_fields, json_fields, finish)

    def compose(
        self,
        inner: Handler,
        error: Callable[[Request, Exception], Any],
        guard: Callable[[Request, Awaitable[Any]], Awaitable[Any]],
        *,
        engine: bool = False,
    ) -> Handler:
        """The handler that runs the middleware around *inner*, once; afterwards :meth:`add`
        refuses. *error* ``(request, exc)`` answers an exception a middleware raises; *guard*
        ``(request, awaitable)`` awaits a result and answers its exception the same way.
        *engine*: what the handler returns goes to the engine itself (the App's own stack,
        not a route's), which lets the stack hand the writer constant fields as one block."""
        self._composed = True
        if not self._items:
            return inner
        # Runs of split middleware (before/after) become one layer each; the others one each.
        runs: list[list[Any]] = []
        for middleware in self._items:
            if _splits(middleware) and runs and _splits(runs[-1][0]):
                runs[-1].append(middleware)
            else:
                runs.append([middleware])
        first, *others = runs
        rest = inner
        for run in reversed(others):
            rest = _run_layer(run, rest, error, guard)
        if others:
            rest = _guarded(rest, error, guard)
        if _splits(first[0]):
            full = rest
            for middleware in reversed(first):
                full = _layer(middleware, full, error, guard)
            return _fused(first, rest, _guarded(full, error, guard), error, guard, outermost=True, engine=engine)
        full = _guarded(_layer(first[0], rest, error, guard, skippable=False), error, guard)
        applies = getattr(first[0], "applies", None)
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


def _splits(middleware: Any) -> bool:
    """Whether *middleware* is split in ``before``/``after`` (a ``def`` one only)."""
    return (
        callable(getattr(middleware, "before", None))
        and callable(getattr(middleware, "after", None))
        and not is_async_callable(middleware)
    )


def _run_layer(
    run: list[Any],
    inner: Handler,
    error: Callable[[Request, Exception], Any],
    guard: Callable[[Request, Awaitable[Any]], Awaitable[Any]],
) -> Handler:
    """One run of consecutive middleware around *inner*: a lone one (or one not split) as
    :func:`_layer` makes it; split ones through :func:`_fused`."""
    if len(run) == 1 and not _splits(run[0]):
        return _layer(run[0], inner, error, guard)
    full = inner
    for middleware in reversed(run):
        full = _layer(middleware, full, error, guard)
    return _fused(run, inner, full, error, guard)


def _fused(
    run: list[Any],
    inner: Handler,
    full: Handler,
    error: Callable[[Request, Exception], Any],
    guard: Callable[[Request, Awaitable[Any]], Awaitable[Any]],
    outermost: bool = False,
    engine: bool = False,
) -> Handler:
    """The split middleware of *run* (outermost first) around *inner* in one function; *full*
    is the same run composed by :func:`_layer`, for a request one of them wants whole
    (``before`` answered :data:`FULL`). The result is what the composed chain would give:
    fields in the same order, errors below answered by *error* before the ``after`` see them.
    *outermost*: the run is the stack's first, and answers its own errors as :func:`_guarded`
    would (PERF: one frame less per request). *engine*: what it returns goes to the engine
    itself (the App's stack), so the stack's own text Response may carry a writer
    :class:`~fasthttp.writer.FieldBlock` (no one else sees it).

    Quiet members (see :func:`_quiet_run`): when the run's outer members all have ``quiet``,
    a request that carries none of their ``triggers`` fields is run with their states known
    in advance (per scheme, already joined): their ``before`` is not called."""
    befores = tuple(m.before for m in run)
    afters = tuple(m.after for m in reversed(run))  # inner to outer
    finish, finish_async = _finisher(afters, error, guard, outermost, engine)

    def fused(request: Request) -> Any:
        try:
            try:
                states = [before(request) for before in befores]
            except Exception:
                # PERF: no bookkeeping of which before ran: the composed chain runs the request
                # instead and answers the error exactly where it arose (befores change nothing).
                return full(request)
            if FULL in states:
                return full(request)
            states.reverse()  # inner to outer, as afters
            return _run_inner(request, inner, states, finish, finish_async, error, guard, outermost)
        except Exception as exc:
            if not outermost:
                raise
            return error(request, exc)

    quiet = _quiet_run(run)
    if quiet is None:
        return fused

    def fused_with(request: Request, quiet_states: tuple[Any, ...]) -> Any:
        # fused, with the quiet members' states already known (their before ran once).
        try:
            states = [*quiet_states, *(before(request) for before in befores[len(quiet_states) :])]
        except Exception:
            return full(request)
        if FULL in states:
            return full(request)
        states.reverse()
        return _run_inner(request, inner, states, finish, finish_async, error, guard, outermost)
    triggers, quiet_befores, quiet_afters, loud_befores, plans = quiet
    loud_afters = afters[: len(loud_befores)]
    qfinish, qfinish_async = _finisher((*loud_afters, _quiet_after), error, guard, outermost, engine)
    # The quiet members' states of a request with a trigger (CORS: per allowed Origin) ->
    # their joined plan, as the quiet plans (bounded: states made per request miss, and join).
    joined: dict[tuple[Any, ...], tuple[Any, Any]] = {}
    trigger = triggers[0] if len(triggers) == 1 else None
    plain_plan, secure_plan = plans
    loud_one = loud_befores[0] if len(loud_befores) == 1 else None
    loud_after: Any = loud_afters[0] if loud_afters else None
    # The stack's own text Response with the quiet plan, as the block the writer takes (engine).
    plain_block = plain_plan.text_block() if engine and plain_plan is not None else None
    secure_block = secure_plan.text_block() if engine and secure_plan is not None else None
    scheme_matters = plain_plan is not secure_plan

    def quiet_fused(request: Request) -> Any:
        # PERF: a request without the quiet members' triggers (CORS: no Origin) gets their
        # fields from a plan made at start-up, joined per scheme (SecurityHeaders: HSTS over
        # HTTPS only): no call of their before, no join per request (bench_middleware.py).
        headers = request.head.headers
        if trigger is not None:
            triggered = trigger in headers
        else:
            triggered = False
            for name in triggers:
                if name in headers:
                    triggered = True
                    break
        try:
            if not triggered:
                if scheme_matters:
                    plan = secure_plan if request.is_secure else plain_plan
                    block = secure_block if plan is secure_plan else plain_block
                else:
                    plan = plain_plan
                    block = plain_block
            else:
                # A trigger: the quiet members' before decide, and their states are joined
                # once per distinct answer (PERF: a browser's CORS request, bench_middleware.py).
                # A member without triggers of its own answers its quiet state (no call).
                secure = request.is_secure
                answers = []
                try:
                    for before, constant in quiet_befores:
                        answers.append(before(request) if before is not None else constant[secure])
                except Exception:
                    return full(request)
                quiet_states = tuple(answers)
                known = joined.get(quiet_states)
                if known is None:
                    if FULL in quiet_states:
                        return full(request)  # a CORS preflight
                    plan = _join_quiet(reversed(quiet_states), quiet_afters)
                    if plan is _MISSING:
                        return fused_with(request, quiet_states)
                    known = (plan, plan.text_block() if engine and plan is not None else None)
                    if len(joined) < _JOINS:
                        joined[quiet_states] = known
                plan, block = known
            if loud_one is not None:
                try:
                    state = loud_one(request)
                except Exception:
                    return full(request)
                if state is FULL:
                    return full(request)
                states = [state, plan]
            elif loud_befores:
                try:
                    states = [before(request) for before in loud_befores]
                except Exception:
                    return full(request)
                if FULL in states:
                    return full(request)
                states.reverse()
                states.append(plan)
            else:
                states = [plan]
            # _run_inner, inlined (PERF: one frame less per request).
            try:
                result = inner(request)
            except Exception as exc:
                result = error(request, exc)
            if type(result) is str:
                response = own = Response.__new__(Response)
                own.status = 200
                own.body = result.encode()
                own.fields = [_TEXT_FIELD]
                start = 0
                if loud_one is not None:
                    state = states[0]
                    if state is not None:
                        if type(state) is AppendFields:
                            return qfinish(request, own, states, 0, own)
                        # PERF: qfinish's common case inlined (Sessions' after, then the plan).
                        try:
                            response = loud_after(request, own, state)
                        except Exception as exc:
                            # As qfinish: the error answered, and the quiet members see it.
                            answer = error(request, exc)
                            if type(answer) is _CORO:
                                answer = qfinish_async(request, guard(request, answer), states, 1)
                                return guard(request, answer) if outermost else answer
                            return qfinish(request, to_response(answer), states, 1)
                    start = 1
                elif loud_befores:
                    return qfinish(request, own, states, 0, own)
                if plan is None:
                    return response
                if response is own:
                    fields = own.fields
                    if block is not None and len(fields) == 1 and fields[0] is _TEXT_FIELD:
                        own.fields = block
                        return own
                return qfinish(request, response, states, start, own)
            if type(result) is _CORO:
                answer = qfinish_async(request, guard(request, result), states)
                return guard(request, answer) if outermost else answer
            return qfinish(request, to_response(result), states)
        except Exception as exc:
            if not outermost:
                raise
            return error(request, exc)

    return quiet_fused


def _run_inner(
    request: Request,
    inner: Handler,
    states: list[Any],
    finish: Callable[..., Any],
    finish_async: Callable[..., Any],
    error: Callable[[Request, Exception], Any],
    guard: Callable[[Request, Awaitable[Any]], Awaitable[Any]],
    outermost: bool,
) -> Any:
    """The chain below a fused run, then its ``after`` (*finish*) with *states* (inner to outer)."""
    try:
        result = inner(request)
    except Exception as exc:
        result = error(request, exc)
    if type(result) is _CORO:
        answer = finish_async(request, guard(request, result), states)
        return guard(request, answer) if outermost else answer
    if type(result) is str:
        # PERF: a handler's text becomes a Response of the stack's own, which _append may
        # extend in place (no one else holds it); benchmarks/bench_middleware.py.
        response = Response.__new__(Response)
        response.status = 200
        response.body = result.encode()
        response.fields = [_TEXT_FIELD]
        return finish(request, response, states, 0, response)
    return finish(request, to_response(result), states)


def _finisher(
    afters: tuple[Any, ...],
    error: Callable[[Request, Exception], Any],
    guard: Callable[[Request, Awaitable[Any]], Awaitable[Any]],
    outermost: bool,
    engine: bool,
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``(finish, finish_async)``: the ``after`` half of a fused run, whose ``after`` are
    *afters* (inner to outer), for a response and the states of the run's ``before``."""
    count = len(afters)

    def finish(request: Request, response: Any, states: list[Any], start: int = 0, own: Any = None) -> Any:
        # *states*: inner to outer, as *afters*. *plan*: the AppendFields met since *since*,
        # joined (_CLASH when they cannot be: each then merges its own, in _append).
        plan: Any = None
        since = start
        last = count - 1
        for index in range(start, count):
            state = states[index]
            if state is None:
                continue
            if type(state) is AppendFields:
                if plan is None:
                    plan = state
                    since = index
                elif plan is not _CLASH:
                    # PERF: the cached join first, without a call (benchmarks/bench_middleware.py).
                    plan = plan.joins.get(state) or plan.join(state) or _CLASH
                continue
            try:
                if plan is not None:
                    response = _append(request, response, plan, afters, states, since, index, own)
                    plan = None
                response = afters[index](request, response, state)
            except Exception as exc:
                if index == last:
                    raise  # the outermost's own error: the layer above answers it
                # As call_next would: the error is answered, and the middleware above see
                # that answer (the fields appended below it are gone with the response).
                plan = None
                result = error(request, exc)
                if type(result) is _CORO:
                    answer = finish_async(request, guard(request, result), states, index + 1)
                    return guard(request, answer) if outermost else answer
                response = to_response(result)
        if plan is not None:
            if response is own and plan is not _CLASH and plan.text_fields is not None:
                fields = own.fields
                if len(fields) == 1 and fields[0] is _TEXT_FIELD:
                    # PERF: _append's common case inlined: the stack's own text Response, still
                    # with only its Content-Type, gets all the fields at once; going to the
                    # engine, as one block the writer checked once (benchmarks/bench_middleware.py).
                    block = plan.text_block() if engine else None
                    own.fields = block if block is not None else list(plan.text_fields)
                    return own
            response = _append(request, response, plan, afters, states, since, count, own)
        return response

    async def finish_async(request: Request, result: Awaitable[Any], states: list[Any], start: int = 0) -> Any:
        return finish(request, to_response(await result), states, start)

    return finish, finish_async


def _quiet_run(run: list[Any]) -> tuple[tuple[str, ...], tuple[Any, ...], tuple[Any, ...], tuple[Any, ...], tuple[Any, Any]] | None:
    """The quiet form of a fused run: ``(triggers, the quiet members' ``(before or None,
    (plain state, secure state))`` (outer to inner) and after (inner to outer), the other members' before (outer to inner), the quiet
    members' joined plan for plain HTTP and for HTTPS)``, or None when the run's outermost
    member has no ``quiet`` (unless it is the run's only member: the quiet form without quiet
    members still saves the generic path's frames) or the quiet members' fields clash with
    one another (then every ``before`` runs per request).

    The quiet members are the outer run of members with ``quiet(secure)`` and ``triggers``:
    for a request without any of the ``triggers`` header fields, their ``before`` would answer
    ``quiet(request.is_secure)``, an :class:`AppendFields` or None, and change nothing."""
    count = 0
    for member in run:
        if not callable(getattr(member, "quiet", None)):
            break
        count += 1
    quiet, loud = run[:count], run[count:]
    if not count and len(loud) != 1:
        return None  # PERF: one loud member alone (Sessions) takes the quiet form's inlined path
    triggers = tuple(dict.fromkeys(str(name).lower() for m in quiet for name in getattr(m, "triggers", ())))
    quiet_afters = tuple(m.after for m in reversed(quiet))  # inner to outer
    plans = []
    for secure in (False, True):
        states = [m.quiet(secure) for m in reversed(quiet)]
        for member, state in zip(reversed(quiet), states):
            if state is not None and type(state) is not AppendFields:
                raise TypeError(f"{member!r}.quiet() answers an AppendFields or None, not {state!r}")
        joined = _join_quiet(states, quiet_afters)
        if joined is _MISSING:
            return None  # they name the same field: each merges its own, per request
        plans.append(joined)
    # Per quiet member: its before, or None when no request field changes its answer (no
    # triggers of its own: its quiet state for the scheme is the answer), and those states.
    befores = tuple(
        (m.before if getattr(m, "triggers", ()) else None, (m.quiet(False), m.quiet(True))) for m in quiet
    )
    return triggers, befores, quiet_afters, tuple(m.before for m in loud), (plans[0], plans[1])


def _join_quiet(states: Iterable[Any], afters: tuple[Any, ...]) -> Any:
    """The states of a run's quiet members (inner to outer, their *afters* beside) as one
    AppendFields whose ``detail`` pairs each state with its after (see :func:`_quiet_after`);
    None when none has fields; _MISSING when they cannot be one (a state other than an
    AppendFields or None, or two that name the same field)."""
    members = []
    joined: Any = None
    for state, after in zip(states, afters):
        if state is None:
            continue
        if type(state) is not AppendFields:
            return _MISSING
        members.append((state, after))
        joined = state if joined is None else joined.join(state)
        if joined is None:
            return _MISSING
    return None if joined is None else AppendFields(joined.fields, tuple(members))


def _quiet_after(request: Request, response: Any, plan: AppendFields) -> Any:
    """The after of a quiet run's joined plan, for a response that has a field of one of its
    names: each quiet member in turn (inner to outer), as the composed chain would."""
    for state, after in plan.detail:
        if state.clashes(response.fields):
            response = after(request, response, state)
        elif type(response) is Response or isinstance(response, FieldMethods):
            response = with_fields(response, state.fields)
    return response


def _only_text(fields: list[Any]) -> bool:
    """Whether the stack's own text Response still has only the Content-Type it was made with."""
    return len(fields) == 1 and fields[0] is _TEXT_FIELD


def _append(
    request: Request, response: Any, plan: Any, afters: tuple[Any, ...], states: list[Any], since: int, until: int, own: Any
) -> Any:
    """*response* with the fields of *plan* (the AppendFields of ``states[since:until]``
    joined, or _CLASH); *own*: a Response the stack made itself, extended in place."""
    if plan is not _CLASH:
        if response is own:
            fields = response.fields
            if plan.text_fields is not None and _only_text(fields):
                response.fields = list(plan.text_fields)
                return response
            if not plan.clashes(fields):
                fields += plan.fields
                return response
        if type(response) is not Response and not isinstance(response, FieldMethods):
            return response  # an Upgrade: the new protocol's business
        if not plan.clashes(response.fields):
            return with_fields(response, plan.fields)
    elif type(response) is not Response and not isinstance(response, FieldMethods):
        return response
    # One of them meets a field it must merge itself: each in turn, as the chain would.
    for index in range(since, until):
        each = states[index]
        if type(each) is not AppendFields:
            continue
        if each.clashes(response.fields):
            response = afters[index](request, response, each)
        else:
            response = with_fields(response, each.fields)
    return response


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
