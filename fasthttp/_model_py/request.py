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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..parser import RequestHead

__all__ = ("RequestBase", "COMPILED", "NO_PARAMS")

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

    def __init__(self, head: RequestHead, connection: Any, max_body_size: int | None) -> None:
        #: The parsed request head (``fasthttp.parser.RequestHead``), as the kernel returned it.
        self.head = head
        #: The connection the request came on: ``client``, ``session``, ``peercert``,
        #: ``is_secure`` (the engine's connection object).
        self.connection = connection
        #: The engine's reader of the request content; None for a request without content.
        #: Set by the engine, with the same limit, before the request is dispatched.
        self.body_reader: Any = None
        #: ``time.perf_counter()`` when the head arrived (set by the engine when an access log
        #: wants it).
        self.received_at = 0.0
        #: The ``contextvars`` context the handler runs in (set by the engine at dispatch).
        self.context: Any = None
        # The limit of a request without content (one with content: its reader's).
        self._max_body_size = max_body_size
        self._query_params: Any = None
        #: The route's path parameters, set by the application (read-only and empty until then).
        self.params: Mapping[str, Any] = NO_PARAMS
        self._cookies: dict[str, str] | None = None
        self._media: tuple[str | None, Mapping[str, str]] | None = None
        #: The parsed form once ``form()`` has run (its files are released by ``close()``).
        self.form_data: Any = None
        #: What middleware published for this request (the cookie session, the authenticated
        #: user): None until one does (so a plain request pays one None store), then the dict
        #: that ``extras`` is; or a read-only mapping shared by many requests, which ``extras``
        #: copies into a dict of the request's own on first use (the App's quiet path:
        #: ``fasthttp.middleware.stack.QuietForm``). Read values through the properties
        #: (``extras``, ``user``, ``cookie_session``).
        self.published: Mapping[str, Any] | None = None
        #: Callables to run once the response is sent (``add_background_task``); None if none.
        self.background: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] | None = None
