"""The storage of a request: the fields of :class:`fasthttp.requests.Request`, one source for two
twins.

Strategy: :class:`RequestBase` holds what the connection sets and reads for every request (the
parsed head, the connection, the body reader, the dispatch context, the lazily computed caches)
and nothing else; :class:`fasthttp.requests.Request` subclasses it with the whole public API
(properties, body decoders) in plain Python. This file is the pure twin
(``fasthttp._model_py.request``); Cython compiles the same file, in its pure-Python mode, into
the compiled twin (``fasthttp._model_c.request``; setup.py), where ``fasthttp/_model_c/request.pxd``
declares the class an extension type with C struct fields. PERF (issue 17): a request is built
and read on every request's path; compiled, its construction is a C ``__init__`` instead of an
interpreted one (callgrind: the largest single cost of the pipelined path's request handling),
and the compiled connection core (``fasthttp._core_c.connection``, which cimports this type)
reads and writes its fields as struct members instead of through attribute look-ups.
``fasthttp.requests`` picks the twin with the one switch (``fasthttp._compat``:
``FASTHTTP_NO_EXTENSIONS=1`` gives the pure twin).

Rules for this file: plain Python that Cython compiles unchanged; a new field goes in the
``__slots__`` below and in ``request.pxd``; nothing here may behave differently compiled.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ..parser import RequestHead

__all__ = ("RequestBase", "COMPILED", "NO_PARAMS", "init_request", "new_request")

T = TypeVar("T", bound="RequestBase")

#: True in the compiled twin: it is this source compiled under the package ``fasthttp._model_c``.
COMPILED: bool = __name__.startswith("fasthttp._model_c.")

#: The ``params`` of a request no pattern route matched: shared, read-only (as the router's).
NO_PARAMS: Mapping[str, Any] = types.MappingProxyType({})


class RequestBase:
    """The fields of one request (module docstring); :class:`fasthttp.requests.Request` is the
    class users meet."""

    # The pure twin's attributes; the compiled twin's are the struct fields of request.pxd (an
    # extension type cannot also have __slots__).
    if not COMPILED:
        __slots__ = (
            "head",
            "connection",
            "body_reader",
            "_max_body_size",
            "_query_params",
            "received_at",
            "context",
            "params",
            "_cookies",
            "_media",
            "form_data",
            "published",
            "background",
        )

    if TYPE_CHECKING:  # the fields' types (set, and documented, by init_request)
        head: RequestHead
        connection: Any
        body_reader: Any
        received_at: float
        context: Any
        _max_body_size: int | None
        _query_params: Any
        params: Mapping[str, Any]
        _cookies: dict[str, str] | None
        _media: tuple[str | None, Mapping[str, str]] | None
        form_data: Any
        published: Mapping[str, Any] | None
        background: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] | None

    def __init__(self, head: RequestHead, connection: Any, max_body_size: int | None) -> None:
        init_request(self, head, connection, max_body_size)


def init_request(req: RequestBase, head: RequestHead, connection: Any, max_body_size: int | None) -> None:
    """Set every field of *req*, a new request: the one home of their initial values
    (``RequestBase.__init__`` and :func:`new_request` call it)."""
    #: The parsed request head (``fasthttp.parser.RequestHead``), as the kernel returned it.
    req.head = head
    #: The connection the request came on: ``client``, ``session``, ``peercert``,
    #: ``is_secure`` (the engine's connection object).
    req.connection = connection
    #: The engine's reader of the request content; None for a request without content.
    #: Set by the engine, with the same limit, before the request is dispatched.
    req.body_reader = None
    #: ``time.perf_counter()`` when the head arrived (set by the engine when an access log
    #: wants it).
    req.received_at = 0.0
    #: The ``contextvars`` context the handler runs in (set by the engine at dispatch).
    req.context = None
    # The limit of a request without content (one with content: its reader's).
    req._max_body_size = max_body_size
    req._query_params = None
    #: The route's path parameters, set by the application (read-only and empty until then).
    req.params = NO_PARAMS
    req._cookies = None
    req._media = None
    #: The parsed form once ``form()`` has run (its files are released by ``close()``).
    req.form_data = None
    #: What middleware published for this request (the cookie session, the authenticated
    #: user): None until one does (so a plain request pays one None store), then the dict
    #: that ``extras`` is; or a read-only mapping shared by many requests, which ``extras``
    #: copies into a dict of the request's own on first use (the App's quiet path:
    #: ``fasthttp.middleware.stack.QuietForm``). Read values through the properties
    #: (``extras``, ``user``, ``cookie_session``).
    req.published = None
    #: Callables to run once the response is sent (``add_background_task``); None if none.
    req.background = None


def new_request(cls: type[T], head: RequestHead, connection: Any, max_body_size: int | None) -> T:
    """``cls(head, connection, max_body_size)`` for *cls*, this class or a subclass adding no
    fields and no ``__init__`` (``fasthttp.requests.Request``): what the connection core makes
    each request with. PERF (issue 17, benchmarks/bench_connection.py): compiled, the base
    type's allocation and :func:`init_request` as C calls, without the type call, the argument
    tuple and ``__init__``'s argument parsing (callgrind, pipelined requests: about 600
    instructions of 7,500 per request)."""
    req = cls.__new__(cls)  # compiled: the type's tp_new (RequestBase's, inherited), a C call
    init_request(req, head, connection, max_body_size)
    return req


if COMPILED:
    # PERF (issue 17): member descriptors over the fields interpreted code reads most
    # (request.pxd, install_members: defined there, C code, so the pure twin never names it).
    install_members(RequestBase)  # type: ignore[name-defined]  # noqa: F821

if not COMPILED:
    # PERF: the pure twin's constructor is init_request itself, one Python frame per request (a
    # def __init__ calling it would be two); the compiled twin keeps its C __init__ above.
    RequestBase.__init__ = init_request  # type: ignore[method-assign,assignment]
