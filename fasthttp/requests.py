"""The request a handler receives: a lazy view over the parser's :class:`RequestHead`.

Strategy: nothing is decoded, copied or allocated until a handler asks for it. A
:class:`Request` holds references (the parsed head, the connection, the body stream if the
request has content, the body-size limit, the route parameters) and answers every attribute
through them: ``path`` and ``query`` are sliced from the raw target on access;
``query_params``, ``cookies`` and the parsed ``Content-Type`` are computed on first access and
cached; header values are decoded by the header index (``fasthttp.headers``) only when looked
up. The body is a stream the connection feeds (the engine's reader, ``fasthttp.body``); reading
it is what sends the interim ``100 Continue`` (RFC 9110 §10.1.1) and what lets the connection
resume reading from a client it paused for backpressure.

What a request needs from the engine is stated here, as two small protocols the engine's classes
satisfy (this module imports nothing of the engine): :class:`ConnectionInfo` (the peer, the
connection's session, TLS) and :class:`BodyReader` (the body, its size limit, its trailers). The
body-size limit (``max_body_size``, 413) is the reader's to enforce: one rule in one place
(``fasthttp.body.check_body_size``).

Body decoders (``text``, ``json``, ``form``, ``multipart``, ``xml``, ``validated``) check the
representation first, before reading a byte:

- a ``Content-Encoding`` other than ``identity`` is a 415 with ``Accept-Encoding: identity``
  (RFC 9110 §15.5.16), unless the ``Compression`` middleware decodes it (the body reader is
  then a :class:`~fasthttp.codings.DecodedBody`);
- a ``Content-Type`` the decoder does not take is a 415 whose ``Accept`` field lists the media
  types it does take (RFC 9110 §15.5.16); an absent one is read as the decoder's own type
  (RFC 9110 §8.3 lets a recipient assume), except for forms, which need it;
- a malformed or repeated ``Content-Type`` is a 400 (RFC 9110 §5.3: a singleton field).

Then content that cannot be decoded is a 400, content over a limit a 413, and content that
decodes but fails the application's schema (:meth:`Request.validated`) a 422 listing what is
wrong (:class:`UnprocessableContent`).

Resources: a form may spool files to disk; :meth:`Request.close` releases them, and the engine
calls it once the response is sent (an :class:`~fasthttp.forms.UploadFile` that is garbage
collected unclosed closes itself too).
"""

from __future__ import annotations

import types
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol
from urllib.parse import parse_qsl

from ._compat import load
from ._multidict import MultiDict
from .codings import DecodedBody
from .cookies import parse_cookie_headers
from .errors import BadRequest, ContentTooLarge, HttpError
from .forms import (
    DEFAULT_LIMITS,
    FormData,
    FormLimits,
    MultipartReader,
    codec_for,
    parse_urlencoded,
    read_multipart,
)
from .media import (
    FORM_TYPES,
    JSON_TYPES,
    MULTIPART_FORM,
    URLENCODED,
    XML_TYPES,
    first_match,
    parse_media_type,
)
from .responses import json_loads
from .validation import validate

if TYPE_CHECKING:
    from ._model_py.request import RequestBase as RequestBase, new_request as new_request
    from .headers import Headers
    from .identity import Identity
    from .parser import RequestHead
else:
    # The storage of a request, compiled unless extensions are off (fasthttp._compat: the one
    # switch), like the connection core that builds requests.
    _base = load("request")
    RequestBase = _base.RequestBase
    new_request = _base.new_request  # Request(...) as the compiled connection core makes it

__all__ = (
    "Request",
    "check_body_size",
    "QueryParams",
    "ConnectionInfo",
    "PeerCredentials",
    "BodyReader",
    "unsupported_media_type",
    "VALIDATION_TYPES",
    "CookieSession",
    "COOKIE_SESSION",
)

#: What :meth:`Request.validated` decodes by default: JSON and both form encodings.
VALIDATION_TYPES: tuple[str, ...] = JSON_TYPES + FORM_TYPES

#: The parsed Content-Type of a request without one.
_ABSENT: tuple[None, Mapping[str, str]] = (None, types.MappingProxyType({}))


def check_body_size(size: int | None, limit: int | None, what: str | None = None) -> None:
    """The body-size rule, its one home: raise :class:`ContentTooLarge` when *size* (an announced
    ``Content-Length``, or the running total of a body as it arrives) exceeds *limit* (None: no
    limit; no size: nothing announced). Content of exactly *limit* bytes is accepted
    (RFC 9110 §15.5.14). The engine's body reader applies it to ``max_body_size``; the form
    decoders to their own caps (*what* names the content in the error's detail; without it the
    detail is the reason phrase)."""
    if limit is not None and size is not None and size > limit:
        raise ContentTooLarge(f"{what} is larger than {limit} bytes" if what else None)


def request_host(head: RequestHead) -> str | None:
    """The authority a request head names: the absolute-form target's if any (RFC 9112 §3.2.2:
    then Host is ignored), else the Host field."""
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


class QueryParams(MultiDict):
    """An immutable, multi-valued view of a query string (``a=1&a=2&b=``), decoded as
    ``application/x-www-form-urlencoded`` (UTF-8, ``+`` is a space).

    ``params["a"]`` and ``get("a")`` give the first value, ``getall("a")`` every value in order.
    """

    __slots__ = ()

    def __init__(self, query: str | list[tuple[str, str]] = "") -> None:
        if isinstance(query, str):
            self._items = parse_qsl(query, keep_blank_values=True) if query else []
        else:
            self._items = list(query)


class PeerCredentials(NamedTuple):
    """The process at the other end of an AF_UNIX connection, as the kernel saw it when the
    peer connected (Linux ``SO_PEERCRED``, unix(7))."""

    pid: int
    uid: int
    gid: int


class ConnectionInfo(Protocol):
    """What a :class:`Request` tells about the connection it came on (the engine's connection
    implements it)."""

    @property
    def client(self) -> Any:
        """The peer address: ``(host, port)``, an IPv6 4-tuple, or the AF_UNIX name."""
        ...

    @property
    def session(self) -> dict[str, Any]:
        """One dict per connection, shared by its requests and the ``on_connect`` hook."""
        ...

    @property
    def peercert(self) -> dict[str, Any] | None:
        """The verified TLS client certificate (``ssl.SSLSocket.getpeercert()``), or None."""
        ...

    @property
    def is_secure(self) -> bool:
        """True on a TLS connection."""
        ...

    @property
    def peer_credentials(self) -> PeerCredentials | None:
        """The peer process of an AF_UNIX connection (pid, uid, gid), or None."""
        ...


class BodyReader(Protocol):
    """What a :class:`Request` needs from the reader of its content (the engine's
    ``fasthttp.body.RequestBody`` implements it). The reader owns the body-size limit and
    refuses past it with :class:`~fasthttp.errors.ContentTooLarge` (RFC 9110 §15.5.14)."""

    @property
    def limit(self) -> int | None:
        """The body-size limit in bytes (None: none)."""
        ...

    def set_limit(self, limit: int | None) -> None:
        """Record a new limit; raise ``ContentTooLarge`` at once if the announced length
        exceeds it."""
        ...

    def check_size(self) -> None:
        """Raise ``ContentTooLarge`` if the announced length exceeds the limit."""
        ...

    async def read(self) -> bytes:
        """The next piece of the body, ``b""`` at its end (``ContentTooLarge`` past the limit)."""
        ...

    async def read_all(self) -> bytes:
        """The whole body, cached for later calls."""
        ...

    @property
    def cached(self) -> bytes | None:
        """The whole body once :meth:`read_all` returned it; else None."""
        ...

    @property
    def complete(self) -> bool:
        """True once the whole body has been received."""
        ...

    @property
    def trailers(self) -> Headers | None:
        """The trailer fields of a chunked body, once it has been received; else None."""
        ...


class Request(RequestBase):
    """One HTTP request as the handler sees it (built by the connection, never by users).

    Head: ``method``, ``path`` and ``query`` (raw, not percent-decoded), ``target`` (bytes, as
    received), ``version`` (``"1.0"``/``"1.1"``), ``headers`` (case-insensitive, multi-valued,
    see :class:`fasthttp.headers.Headers`), ``query_params``, ``cookies``, ``content_type`` and
    ``charset``, ``keep_alive``, ``content_length``, ``expect_continue``, ``upgrade``; ``params``
    holds the route's path parameters (set by the application).

    Connection: ``client`` (the peer address: ``(host, port)``, an IPv6 4-tuple, or the AF_UNIX
    name), ``session`` (one dict per connection, shared by its requests and the ``on_connect``
    hook), ``peercert`` (the verified TLS client certificate as ``ssl.SSLSocket.getpeercert()``
    returns it, or None), ``is_secure``.

    Body: ``await body()``, ``async for chunk in stream()``, ``await text()``, ``await json()``,
    ``await form()``, ``async for part in multipart()``, ``await xml()``,
    ``await validated(schema)``, and ``trailers`` once the body has been read. Bodies larger
    than ``max_body_size`` raise :class:`~fasthttp.errors.ContentTooLarge` (413). The body is
    read once: after ``form()`` or ``stream()`` consumed it, ``body()`` has nothing left to
    return.
    """

    # The fields (head, connection, body_reader, received_at, context, params, form_data,
    # background and the caches) are RequestBase's: compiled with the connection core's path
    # (fasthttp/_model_py/request.py, PERF issue 17), as is ``__init__(head, connection,
    # max_body_size)``. Their types, for type checkers:
    __slots__ = ()

    head: RequestHead
    connection: ConnectionInfo
    body_reader: BodyReader | None
    context: Any
    received_at: float
    _query_params: QueryParams | None
    form_data: FormData | None

    @property
    def extras(self) -> dict[str, Any]:
        """This request's own values, set by middleware and read by handlers (the home of the
        properties that middleware publishes, such as the cookie session and the user)."""
        extras = self.published
        if type(extras) is not dict:
            # None, or a shared read-only mapping: a dict of this request's own, with its values.
            extras = self.published = {} if extras is None else dict(extras)
        return extras

    @property
    def user(self) -> Identity | None:
        """Who the request is authenticated as (a :class:`fasthttp.identity.Identity`), as the
        authentication middleware published it in ``extras["user"]``; None when not
        authenticated (no such middleware, or no valid credentials)."""
        extras = self.published
        return None if extras is None else extras.get("user")

    # -- the head ----------------------------------------------------------------------------

    @property
    def method(self) -> str:
        return self.head.method

    @property
    def path(self) -> str:
        return self.head.path

    @property
    def query(self) -> str:
        return self.head.query

    @property
    def target(self) -> bytes:
        return self.head.target

    @property
    def version(self) -> str:
        return self.head.version

    @property
    def headers(self) -> Headers:
        return self.head.headers

    @property
    def keep_alive(self) -> bool:
        return self.head.keep_alive

    @property
    def content_length(self) -> int | None:
        return self.head.content_length

    @property
    def expect_continue(self) -> bool:
        """True when the client waits for ``100 Continue`` before sending the body."""
        return self.head.expect_continue

    @property
    def upgrade(self) -> bool:
        """True for a protocol-switch request (``Connection: upgrade``, or CONNECT)."""
        return self.head.upgrade

    @property
    def query_params(self) -> QueryParams:
        qp = self._query_params
        if qp is None:
            qp = self._query_params = QueryParams(self.head.query)
        return qp

    @property
    def cookies(self) -> dict[str, str]:
        """The ``Cookie`` header as a dict of name to value (first wins; see
        :mod:`fasthttp.cookies`)."""
        cookies = self._cookies
        if cookies is None:
            values = self.head.headers.getall("cookie")
            cookies = self._cookies = parse_cookie_headers(values) if values else {}
        return cookies

    def _content_type(self) -> tuple[str | None, Mapping[str, str]]:
        media = self._media
        if media is None:
            values = self.head.headers.getall("content-type")
            if not values:
                media = _ABSENT
            elif len(values) > 1:
                raise HttpError(400, "more than one Content-Type field")
            else:
                try:
                    media = parse_media_type(values[0])
                except ValueError:
                    raise HttpError(400, "malformed Content-Type field") from None
            self._media = media
        return media

    @property
    def content_type(self) -> str | None:
        """The media type of the content, lower case and without parameters
        (``"application/json"``), or None without a ``Content-Type``; 400 if malformed."""
        return self._content_type()[0]

    @property
    def charset(self) -> str | None:
        """The ``charset`` parameter of ``Content-Type``, lower case, or None."""
        charset = self._content_type()[1].get("charset")
        return charset.lower() if charset is not None else None

    # -- the connection ----------------------------------------------------------------------

    @property
    def client(self) -> Any:
        return self.connection.client

    @property
    def session(self) -> dict[str, Any]:
        """The per-connection dict (shared by the requests of one connection and the
        ``on_connect`` hook); the cookie session of a user is :attr:`cookie_session`."""
        return self.connection.session

    @property
    def cookie_session(self) -> CookieSession:
        """The user's session carried by a cookie, published by the ``Sessions`` middleware
        (``fasthttp.middleware.Sessions``) in :attr:`extras`: a :class:`CookieSession`, or a
        loader ``(request) -> CookieSession`` that makes it on first use (PERF: the cookie is then verified only for handlers
        that look, ``benchmarks/bench_middleware.py``). A RuntimeError naming the middleware
        when it is not installed on the app or the route."""
        extras = self.published
        published: Any = extras.get(COOKIE_SESSION) if extras is not None else None
        if type(published) is CookieSession:
            return published
        if published is None:
            raise RuntimeError(
                "request.cookie_session needs the Sessions middleware: "
                "app.add_middleware(fasthttp.middleware.Sessions(secret_keys=[...])) "
                "(or middleware=[Sessions(...)] on the route); request.session is the "
                "per-connection dict, not a user's session"
            )
        session: CookieSession = published(self)
        self.extras[COOKIE_SESSION] = session
        return session

    @property
    def peercert(self) -> dict[str, Any] | None:
        return self.connection.peercert

    @property
    def is_secure(self) -> bool:
        return self.connection.is_secure

    @property
    def peer_credentials(self) -> PeerCredentials | None:
        """The peer process of an AF_UNIX connection (``pid``, ``uid``, ``gid``, from the
        kernel: ``SO_PEERCRED``), or None on other connections and systems."""
        return self.connection.peer_credentials

    @property
    def host(self) -> str | None:
        """The host the request is for, the one value the router and redirects use: what a
        trusted proxy forwarded (``fasthttp.forwarded``), else the authority of an absolute-form
        target (RFC 9112 §3.2.2: then Host is ignored), else the Host field (None without one,
        HTTP/1.0)."""
        forwarded = getattr(self.connection, "forwarded_host", None)
        if forwarded is not None:
            return str(forwarded)
        return request_host(self.head)

    @property
    def scheme(self) -> str:
        return "https" if self.connection.is_secure else "http"

    # -- language (published by the Languages middleware) -----------------------------------------

    @property
    def language(self) -> str | None:
        """The language chosen for the response (a tag such as ``de-AT``) by the ``Languages``
        middleware (``fasthttp.middleware.i18n``) from ``Accept-Language``; None without it."""
        extras = self.published
        return None if extras is None else extras.get("language")

    def gettext(self, message: str) -> str:
        """*message* translated into :attr:`language` by its gettext catalog (the message
        itself when there is no catalog or no translation)."""
        extras = self.published
        catalog = None if extras is None else extras.get("translations")
        return message if catalog is None else str(catalog.gettext(message))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The singular or plural form of a message for *n*, translated as :meth:`gettext`
        (the catalog's plural rule decides; without a catalog, English's)."""
        extras = self.published
        catalog = None if extras is None else extras.get("translations")
        if catalog is None:
            return singular if n == 1 else plural
        return str(catalog.ngettext(singular, plural, n))

    # -- the body ----------------------------------------------------------------------------

    @property
    def max_body_size(self) -> int | None:
        """The body-size limit of this request in bytes (None: none): the server's, or the
        route's. Setting it (a route's limit, before the body is read) raises
        :class:`~fasthttp.errors.ContentTooLarge` at once if the announced ``Content-Length``
        exceeds it; a chunked body is refused when its running total does."""
        body = self.body_reader
        return self._max_body_size if body is None else body.limit

    @max_body_size.setter
    def max_body_size(self, limit: int | None) -> None:
        body = self.body_reader
        if body is None:
            self._max_body_size = limit
        else:
            body.set_limit(limit)

    def check_body_size(self) -> None:
        """Raise :class:`~fasthttp.errors.ContentTooLarge` now if the announced
        ``Content-Length`` exceeds :attr:`max_body_size` (RFC 9110 §15.5.14: refused before a
        byte of the body is read). Reading the body checks it too."""
        body = self.body_reader
        if body is not None:
            body.check_size()

    def body(self) -> Coroutine[Any, Any, bytes]:
        """The whole body (cached: later calls return the same bytes), as a coroutine to await:
        the body reader's ``read_all()`` itself (``await``, ``asyncio.ensure_future``,
        ``asyncio.wait_for``, ``asyncio.gather`` and ``from_thread`` take it like any coroutine).

        PERF (issue 17, POST echo): a plain method handing over the reader's coroutine, rather
        than a coroutine of its own awaiting it: one coroutine per ``await request.body()``."""
        body = self.body_reader
        if body is None:
            return _no_body()
        return body.read_all()

    async def stream(self) -> AsyncIterator[bytes]:
        """The body as it arrives, piece by piece; reading pauses the client when not consumed.

        After ``body()`` read it whole, the stream is that one piece."""
        body = self.body_reader
        if body is None:
            return
        cached = body.cached
        if cached is not None:
            if cached:
                yield cached
            return
        while True:
            chunk = await body.read()
            if not chunk:
                return
            yield chunk

    def _representation(self, accepted: tuple[str, ...], required: bool = False) -> tuple[str | None, Mapping[str, str]]:
        """The parsed Content-Type, refused with 415 unless it matches *accepted* (or is absent
        and not *required*), and unless the content has no content coding."""
        codings = self.head.headers.getall("content-encoding")
        # A DecodedBody (the Compression middleware's) has undone the codings already.
        if codings and not isinstance(self.body_reader, DecodedBody) and any(c.strip().lower() not in ("identity", "") for v in codings for c in v.split(",")):
            raise _unsupported_coding()
        media = self._content_type()
        mtype = media[0]
        if mtype is None:
            if required and self.body_reader is not None:
                raise unsupported_media_type(accepted, "Unsupported Media Type: the content has no Content-Type", self.head.method)
        elif first_match(mtype, accepted) is None:
            raise unsupported_media_type(accepted, None, self.head.method)
        return media

    def representation(self, accepted: Iterable[str], required: bool = False) -> tuple[str | None, Mapping[str, str]]:
        """The parsed ``Content-Type`` (media type, parameters) of the content, checked as the
        body decoders check it: 415 unless it matches one of *accepted* (or is absent and not
        *required*), 415 while the content is still content-coded, 400 when malformed. For
        decoders outside this class (``fasthttp.codecs``)."""
        return self._representation(tuple(accepted), required)

    async def text(self) -> str:
        """The body decoded with the ``Content-Type`` charset (UTF-8 by default): 400 if it is
        not valid in that charset, 415 for a charset the server does not decode."""
        self._representation(("*/*",))
        codec = codec_for(self.charset or "utf-8")
        data = await self.body()
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            raise HttpError(400, f"request content is not valid {codec}") from None

    async def json(self) -> Any:
        """The body decoded as JSON (RFC 8259): 415 unless the content is ``application/json``,
        ``application/*+json`` or unlabelled; 400 for malformed JSON."""
        self._representation(JSON_TYPES)
        data = await self.body()
        try:
            return json_loads(data)
        except (ValueError, RecursionError):
            raise HttpError(400, "malformed JSON body") from None

    async def form(self, limits: FormLimits | None = None) -> FormData:
        """The body as a form: ``application/x-www-form-urlencoded`` or ``multipart/form-data``
        (files spooled to disk past ``limits.spool_size``). Cached; 415 for any other or no
        ``Content-Type``, 400 for a malformed body, 413 past *limits* (a :class:`FormLimits`).
        A request without content has an empty form."""
        form = self.form_data
        if form is not None:
            return form
        if self.body_reader is None:
            form = self.form_data = FormData()
            return form
        mtype, params = self._representation(FORM_TYPES, required=True)
        if limits is None:
            limits = DEFAULT_LIMITS
        if mtype == URLENCODED:
            data = await self._read_capped(limits.max_memory)
            form = FormData(parse_urlencoded(data, params.get("charset") or "utf-8", limits))
        else:
            boundary = params.get("boundary")
            if not boundary:
                raise BadRequest("multipart/form-data without a boundary parameter")
            check_body_size(self.head.content_length, limits.max_size, "the form")
            form = await read_multipart(self.stream(), boundary, limits)
        self.form_data = form
        return form

    def multipart(self, limits: FormLimits | None = None) -> MultipartReader:
        """The parts of a ``multipart/form-data`` body as they arrive, buffering nothing:
        ``async for part in request.multipart(): async for chunk in part.stream(): ...``.

        415 for another ``Content-Type``, 400 without a boundary; limits as for :meth:`form`
        (the in-memory and spooling ones do not apply: nothing is kept)."""
        if self.form_data is not None:
            raise RuntimeError("the body was already read by form()")
        params = self._representation((MULTIPART_FORM,), required=True)[1]
        boundary = params.get("boundary")
        if not boundary:
            raise BadRequest("multipart/form-data without a boundary parameter")
        return MultipartReader(self.stream(), boundary, limits or DEFAULT_LIMITS)

    async def xml(self) -> Any:
        """The body parsed as XML through ``defusedxml`` (an ``xml.etree.ElementTree.Element``):
        415 unless the content is ``application/xml``, ``text/xml``, ``application/*+xml`` or
        unlabelled; 400 when it is malformed or uses a DTD, entities or external references.

        APPSEC: DTDs are refused outright (``forbid_dtd``), which stops entity expansion
        ("billion laughs"), external entities (XXE) and external DTD fetches before they start.
        NOTE: the encoding comes from the XML declaration or BOM (XML 1.0 §4.3.3); a
        ``charset`` parameter is not applied.
        """
        self._representation(XML_TYPES)
        try:
            from defusedxml import DefusedXmlException
            from defusedxml.ElementTree import ParseError, fromstring
        except ImportError:  # pragma: no cover - defusedxml is a dependency
            raise RuntimeError("Request.xml() needs defusedxml (pip install defusedxml)") from None
        data = await self.body()
        try:
            return fromstring(data, forbid_dtd=True)
        except (ParseError, DefusedXmlException, ValueError):
            raise HttpError(400, "malformed or forbidden XML body") from None

    async def validated(
        self,
        schema: Any,
        *,
        source: str = "body",
        accept: Iterable[str] | None = None,
    ) -> Any:
        """The payload, decoded and run through *schema* (see :func:`validate`); 422 with the
        details when the schema rejects it.

        *source* ``"body"`` decodes the body by its ``Content-Type``: JSON (also when there is
        none), or a form (as :meth:`FormData.to_dict`); *accept* narrows the media types taken
        (default :data:`VALIDATION_TYPES`), anything else being a 415 that lists them.
        *source* ``"query"`` validates the query parameters (as a dict, repeated names as lists).
        Form and query values are strings: a dataclass schema converts them (``"42"`` -> 42).
        """
        if source == "query":
            data = FormData(self.query_params.items()).to_dict()
            return validate(schema, data, coerce=True)
        if source != "body":
            raise ValueError(f"source is 'body' or 'query', not {source!r}")
        accepted = VALIDATION_TYPES if accept is None else tuple(p.lower() for p in accept)
        mtype = self._representation(accepted)[0]
        if mtype is None or first_match(mtype, JSON_TYPES) is not None:
            return validate(schema, await self.json())
        if mtype in FORM_TYPES:
            return validate(schema, (await self.form()).to_dict(), coerce=True)
        raise unsupported_media_type(accepted, None, self.head.method)

    async def _read_capped(self, cap: int) -> bytes:
        """The whole body, refused with 413 past *cap* bytes (before reading, when the length
        is announced)."""
        length = self.head.content_length
        if length is not None:
            check_body_size(length, cap, "the form")
            return await self.body()
        pieces = []
        size = 0
        async for chunk in self.stream():
            size += len(chunk)
            check_body_size(size, cap, "the form")
            pieces.append(chunk)
        return b"".join(pieces)

    @property
    def trailers(self) -> Headers | None:
        """The trailer fields of a chunked body (a Headers view), once it has been read; else None."""
        body = self.body_reader
        return None if body is None else body.trailers

    # -- the end -------------------------------------------------------------------------------

    def add_background_task(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """Run ``func(*args, **kwargs)`` after the response has been sent (the last byte handed
        to the transport): sending an e-mail, writing an audit record. An ``async def`` runs
        on the loop, a ``def`` in the loop's default thread pool; tasks run one after the
        other, in the order added, and a failure is logged (logger ``fasthttp.error``) without
        stopping the next. Nothing runs when the response could not be sent."""
        if not callable(func):
            raise TypeError(f"a background task is a callable, not {func!r}")
        tasks = self.background
        if tasks is None:
            tasks = self.background = []
        tasks.append((func, args, kwargs))

    def close(self) -> None:
        """Release what the request holds: the files of its form. Called by the engine when the
        response has been sent (or the connection lost); safe to call more than once."""
        form = self.form_data
        if form is not None:
            form.close()

    def __repr__(self) -> str:
        return f"<Request {self.head.method} {self.head.target.decode('latin-1')!r}>"


# -- the cookie session -----------------------------------------------------------------------------

#: The key of :attr:`Request.extras` under which the ``Sessions`` middleware publishes the session.
COOKIE_SESSION = "cookie_session"


class CookieSession(dict[str, Any]):
    """A user's session as a request sees it (``request.cookie_session``): a dict of JSON values
    that records whether a handler changed it, so the ``Sessions`` middleware writes it back
    (a new ``Set-Cookie``, or the server-side store) only then.

    ``new``: no valid session came with the request. ``modified``: set by every change through
    the dict methods; set it yourself after changing a nested value in place
    (``session["cart"].append(3); session.modified = True``). :meth:`regenerate` (call it at
    login) issues a new session identifier, against session fixation. :meth:`clear` empties
    it; an empty session that came with a cookie is deleted (the cookie and the stored copy).
    Keys starting with ``_`` belong to middleware (the CSRF secret).
    """

    __slots__ = ("new", "modified", "regenerated", "session_id")

    def __init__(self, data: Mapping[str, Any] | None = None, *, new: bool = True, session_id: str | None = None) -> None:
        if data:
            dict.update(self, data)
        self.new = new
        self.modified = False
        self.regenerated = False
        #: The identifier under which a server-side store keeps it (None for a cookie-only session).
        self.session_id = session_id

    def __setitem__(self, key: str, value: Any) -> None:
        self.modified = True
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.modified = True
        super().__delitem__(key)

    def __ior__(self, other: Any) -> CookieSession:  # type: ignore[override,misc]
        self.update(other)
        return self

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.modified = True
        super().update(*args, **kwargs)

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self.modified = True
        return super().setdefault(key, default)

    def pop(self, key: str, *default: Any) -> Any:
        if key in self:
            self.modified = True
        return super().pop(key, *default)

    def popitem(self) -> tuple[str, Any]:
        self.modified = True
        return super().popitem()

    def clear(self) -> None:
        self.modified = True
        super().clear()

    def regenerate(self) -> None:
        """Issue a new session identifier and a new cookie when the response goes out, keeping
        the user's values but dropping the middleware's own (``_``-prefixed) ones: what a
        login should do, so a session planted before it (session fixation) is worth nothing
        after."""
        for key in [k for k in self if k.startswith("_")]:
            super().__delitem__(key)
        self.regenerated = True
        self.modified = True


# -- errors --------------------------------------------------------------------------------------


def unsupported_media_type(accepted: Iterable[str], detail: str | None = None, method: str = "") -> HttpError:
    """A ``415 Unsupported Media Type`` whose ``Accept`` field lists *accepted* (RFC 9110
    §15.5.16), and ``Accept-Patch`` too for a PATCH (RFC 5789 §3.1)."""
    accepted = ", ".join(accepted)
    headers = [("Accept", accepted)]
    if method == "PATCH":
        headers.append(("Accept-Patch", accepted))
    return HttpError(415, detail or f"Unsupported Media Type; accepted: {accepted}", headers)


def _unsupported_coding() -> HttpError:
    # NOTE: a new instance per raise: a shared exception would accumulate tracebacks (and the
    # frames, with their requests, they hold).
    return HttpError(415, "Unsupported Media Type; request content must not be content-coded", [("Accept-Encoding", "identity")])


async def _no_body() -> bytes:
    """``Request.body()`` of a request without content."""
    return b""
