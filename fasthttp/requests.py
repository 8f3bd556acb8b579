"""The request a handler receives: a lazy view over the parser's :class:`RequestHead`.

Strategy: nothing is decoded, copied or allocated until a handler asks for it. A
:class:`Request` holds references (the parsed head, the connection, the body stream if the
request has content, the body-size limit, the route parameters) and answers every attribute
through them: ``path`` and ``query`` are sliced from the raw target on access;
``query_params``, ``cookies`` and the parsed ``Content-Type`` are computed on first access and
cached; header values are decoded by the header index (``fasthttp.headers``) only when looked
up. The body is a stream the connection feeds (``fasthttp.protocol``); reading it is what sends
the interim ``100 Continue`` (RFC 9110 §10.1.1) and what lets the connection resume reading
from a client it paused for backpressure.

Body decoders (``text``, ``json``, ``form``, ``multipart``, ``xml``, ``validated``) check the
representation first, before reading a byte:

- a ``Content-Encoding`` other than ``identity`` is a 415 with ``Accept-Encoding: identity``
  (RFC 9110 §15.5.16: nothing here decompresses request content);
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

import dataclasses
import functools
import types
import typing
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from ._multidict import MultiDict
from .cookies import parse_cookie_headers
from .forms import (
    DEFAULT_LIMITS,
    FormData,
    FormError,
    FormLimits,
    MultipartReader,
    codec_for,
    parse_urlencoded,
    read_multipart,
)
from .media import FORM_TYPES, JSON_TYPES, MULTIPART_FORM, URLENCODED, XML_TYPES, first_match, parse_media_type
from .responses import HTTPError, json_loads

__all__ = (
    "Request",
    "QueryParams",
    "ValidationError",
    "UnprocessableContent",
    "unsupported_media_type",
    "validate",
    "VALIDATION_TYPES",
)

#: What :meth:`Request.validated` decodes by default: JSON and both form encodings.
VALIDATION_TYPES: tuple[str, ...] = JSON_TYPES + FORM_TYPES

#: The ``params`` of a request no pattern route matched: shared, read-only (as the router's).
_NO_PARAMS: Mapping[str, Any] = types.MappingProxyType({})
#: The parsed Content-Type of a request without one.
_ABSENT: tuple[None, Mapping[str, str]] = (None, types.MappingProxyType({}))


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


class Request:
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
    than ``max_body_size`` raise ``HTTPError(413)``. The body is read once: after ``form()`` or
    ``stream()`` consumed it, ``body()`` has nothing left to return.
    """

    __slots__ = (
        "_head",
        "_conn",
        "_body",
        "max_body_size",
        "_query_params",
        "_start",
        "_context",
        "params",
        "_cookies",
        "_media",
        "_form",
    )

    def __init__(self, head: Any, conn: Any, max_body_size: int | None) -> None:
        self._head = head
        self._conn = conn
        self._body = None
        #: The body-size limit for this request; a route may change it before the body is read.
        self.max_body_size = max_body_size
        self._query_params = None
        #: The route's path parameters, set by the application (read-only and empty until then).
        self.params = _NO_PARAMS
        self._cookies = None
        self._media = None
        self._form = None

    # -- the head ----------------------------------------------------------------------------

    @property
    def method(self) -> str:
        return self._head.method

    @property
    def path(self) -> str:
        return self._head.path

    @property
    def query(self) -> str:
        return self._head.query

    @property
    def target(self) -> bytes:
        return self._head.target

    @property
    def version(self) -> str:
        return self._head.version

    @property
    def headers(self):
        return self._head.headers

    @property
    def keep_alive(self) -> bool:
        return self._head.keep_alive

    @property
    def content_length(self) -> int | None:
        return self._head.content_length

    @property
    def expect_continue(self) -> bool:
        """True when the client waits for ``100 Continue`` before sending the body."""
        return self._head.expect_continue

    @property
    def upgrade(self) -> bool:
        """True for a protocol-switch request (``Connection: upgrade``, or CONNECT)."""
        return self._head.upgrade

    @property
    def query_params(self) -> QueryParams:
        qp = self._query_params
        if qp is None:
            qp = self._query_params = QueryParams(self._head.query)
        return qp

    @property
    def cookies(self) -> dict[str, str]:
        """The ``Cookie`` header as a dict of name to value (first wins; see
        :mod:`fasthttp.cookies`)."""
        cookies = self._cookies
        if cookies is None:
            values = self._head.headers.getall("cookie")
            cookies = self._cookies = parse_cookie_headers(values) if values else {}
        return cookies

    def _content_type(self) -> tuple[str | None, Mapping[str, str]]:
        media = self._media
        if media is None:
            values = self._head.headers.getall("content-type")
            if not values:
                media = _ABSENT
            elif len(values) > 1:
                raise HTTPError(400, "more than one Content-Type field")
            else:
                try:
                    media = parse_media_type(values[0])
                except ValueError:
                    raise HTTPError(400, "malformed Content-Type field") from None
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
        return self._conn.client

    @property
    def session(self) -> dict:
        return self._conn.session

    @property
    def peercert(self) -> dict | None:
        return self._conn.peercert

    @property
    def is_secure(self) -> bool:
        return self._conn.is_secure

    @property
    def scheme(self) -> str:
        return "https" if self._conn.is_secure else "http"

    # -- the body ----------------------------------------------------------------------------

    async def body(self) -> bytes:
        """The whole body (cached: later calls return the same bytes)."""
        body = self._body
        if body is None:
            return b""
        return await body.read_all(self.max_body_size)

    async def stream(self) -> AsyncIterator[bytes]:
        """The body as it arrives, piece by piece; reading pauses the client when not consumed.

        After ``body()`` read it whole, the stream is that one piece."""
        body = self._body
        if body is None:
            return
        cached = getattr(body, "_cached", None)
        if cached is not None:
            if cached:
                yield cached
            return
        limit = self.max_body_size
        while True:
            chunk = await body.read(limit)
            if not chunk:
                return
            yield chunk

    def _representation(self, accepted: tuple[str, ...], required: bool = False) -> tuple[str | None, Mapping[str, str]]:
        """The parsed Content-Type, refused with 415 unless it matches *accepted* (or is absent
        and not *required*), and unless the content has no content coding."""
        codings = self._head.headers.getall("content-encoding")
        if codings and any(c.strip().lower() not in ("identity", "") for v in codings for c in v.split(",")):
            raise _unsupported_coding()
        media = self._content_type()
        mtype = media[0]
        if mtype is None:
            if required and self._body is not None:
                raise unsupported_media_type(accepted, "Unsupported Media Type: the content has no Content-Type", self._head.method)
        elif first_match(mtype, accepted) is None:
            raise unsupported_media_type(accepted, None, self._head.method)
        return media

    async def text(self) -> str:
        """The body decoded with the ``Content-Type`` charset (UTF-8 by default): 400 if it is
        not valid in that charset, 415 for a charset the server does not decode."""
        self._representation(("*/*",))
        codec = codec_for(self.charset or "utf-8")
        data = await self.body()
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            raise HTTPError(400, f"request content is not valid {codec}") from None

    async def json(self) -> Any:
        """The body decoded as JSON (RFC 8259): 415 unless the content is ``application/json``,
        ``application/*+json`` or unlabelled; 400 for malformed JSON."""
        self._representation(JSON_TYPES)
        data = await self.body()
        try:
            return json_loads(data)
        except (ValueError, RecursionError):
            raise HTTPError(400, "malformed JSON body") from None

    async def form(self, limits: FormLimits | None = None) -> FormData:
        """The body as a form: ``application/x-www-form-urlencoded`` or ``multipart/form-data``
        (files spooled to disk past ``limits.spool_size``). Cached; 415 for any other or no
        ``Content-Type``, 400 for a malformed body, 413 past *limits* (a :class:`FormLimits`).
        A request without content has an empty form."""
        form = self._form
        if form is not None:
            return form
        if self._body is None:
            form = self._form = FormData()
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
                raise FormError(400, "multipart/form-data without a boundary parameter")
            length = self._head.content_length
            if limits.max_size is not None and length is not None and length > limits.max_size:
                raise FormError(413, f"the form is larger than {limits.max_size} bytes")
            form = await read_multipart(self.stream(), boundary, limits)
        self._form = form
        return form

    def multipart(self, limits: FormLimits | None = None) -> MultipartReader:
        """The parts of a ``multipart/form-data`` body as they arrive, buffering nothing:
        ``async for part in request.multipart(): async for chunk in part.stream(): ...``.

        415 for another ``Content-Type``, 400 without a boundary; limits as for :meth:`form`
        (the in-memory and spooling ones do not apply: nothing is kept)."""
        if self._form is not None:
            raise RuntimeError("the body was already read by form()")
        params = self._representation((MULTIPART_FORM,), required=True)[1]
        boundary = params.get("boundary")
        if not boundary:
            raise FormError(400, "multipart/form-data without a boundary parameter")
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
            raise HTTPError(400, "malformed or forbidden XML body") from None

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
        raise unsupported_media_type(accepted, None, self._head.method)

    async def _read_capped(self, cap: int) -> bytes:
        """The whole body, refused with 413 past *cap* bytes (before reading, when the length
        is announced)."""
        length = self._head.content_length
        if length is not None:
            if length > cap:
                raise FormError(413, f"the form is larger than {cap} bytes")
            return await self.body()
        pieces = []
        size = 0
        async for chunk in self.stream():
            size += len(chunk)
            if size > cap:
                raise FormError(413, f"the form is larger than {cap} bytes")
            pieces.append(chunk)
        return b"".join(pieces)

    @property
    def trailers(self):
        """The trailer fields of a chunked body (a Headers view), once it has been read; else None."""
        body = self._body
        return None if body is None else body.trailers

    # -- the end -------------------------------------------------------------------------------

    def close(self) -> None:
        """Release what the request holds: the files of its form. Called by the engine when the
        response has been sent (or the connection lost); safe to call more than once."""
        form = self._form
        if form is not None:
            form.close()

    def __repr__(self) -> str:
        return f"<Request {self._head.method} {self._head.target.decode('latin-1')!r}>"


# -- errors --------------------------------------------------------------------------------------


def unsupported_media_type(accepted: Iterable[str], detail: str | None = None, method: str = "") -> HTTPError:
    """A ``415 Unsupported Media Type`` whose ``Accept`` field lists *accepted* (RFC 9110
    §15.5.16), and ``Accept-Patch`` too for a PATCH (RFC 5789 §3.1)."""
    accepted = ", ".join(accepted)
    headers = [("Accept", accepted)]
    if method == "PATCH":
        headers.append(("Accept-Patch", accepted))
    return HTTPError(415, detail or f"Unsupported Media Type; accepted: {accepted}", headers)


def _unsupported_coding() -> HTTPError:
    # NOTE: a new instance per raise: a shared exception would accumulate tracebacks (and the
    # frames, with their requests, they hold).
    return HTTPError(415, "Unsupported Media Type; request content must not be content-coded", [("Accept-Encoding", "identity")])


class ValidationError(ValueError):
    """Raise from a validation callable to reject a payload; it becomes a 422 listing *errors*.

    *errors* is a message (``"too short"``), a mapping from field to message
    (``{"age": "must be positive"}``), or a list of messages or of dicts with ``loc`` (a list of
    keys and indexes), ``msg`` and ``type``. :meth:`errors` returns them as dicts, the shape
    pydantic's ``ValidationError.errors()`` has, so both are reported alike.
    """

    def __init__(self, errors: str | Mapping[str, Any] | Iterable[Any]) -> None:
        if isinstance(errors, str):
            items = [_error([], errors)]
        elif isinstance(errors, Mapping):
            items = [_error([k], v) for k, v in errors.items()]
        else:
            items = [_error(e.get("loc", ()), e.get("msg", ""), e.get("type")) if isinstance(e, Mapping) else _error([], e) for e in errors]
        self._errors = items
        super().__init__("; ".join(_describe(e) for e in items) or "invalid")

    def errors(self) -> list[dict[str, Any]]:
        return [dict(e, loc=list(e["loc"])) for e in self._errors]


def _error(loc: Iterable[Any], msg: Any, kind: str | None = None) -> dict[str, Any]:
    return {
        "loc": [x if type(x) is int or type(x) is str else str(x) for x in loc],
        "msg": str(msg),
        "type": str(kind) if kind is not None else "value_error",
    }


def _describe(error: dict[str, Any]) -> str:
    loc = ".".join(map(str, error["loc"]))
    return f"{loc}: {error['msg']}" if loc else error["msg"]


class UnprocessableContent(HTTPError):
    """``422 Unprocessable Content`` (RFC 9110 §15.5.21): the content was decoded but is not
    what the handler takes. ``errors`` (also the ``detail``) lists why, one dict per error with
    ``loc`` (the path to the value: keys and indexes), ``msg`` and ``type``; the error body
    carries that list as JSON (see :func:`fasthttp.responses.render_error`)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(422, errors)
        self.errors = errors


def _details(exc: BaseException) -> list[dict[str, Any]]:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            # pydantic v2: leave out the input (APPSEC: do not echo payloads back), the context
            # (may hold exception objects) and the documentation URL.
            raw = errors(include_url=False, include_context=False, include_input=False)
        except TypeError:
            raw = errors()
        return [_error(e.get("loc", ()), e.get("msg", ""), e.get("type")) for e in raw]
    return [_error([], str(exc) or type(exc).__name__)]


# -- validation ------------------------------------------------------------------------------------


def validate(schema: Any, data: Any, *, coerce: bool = False) -> Any:
    """Run *data* through *schema*; an invalid payload is an :class:`UnprocessableContent`.

    *schema* is one of:

    - a class with a ``model_validate`` classmethod (pydantic v2, or anything shaped like it):
      ``schema.model_validate(data)``;
    - a dataclass: built from a mapping, each field checked against its annotation (``int``,
      ``float``, ``str``, ``bool``, ``None``, unions, ``Literal``, ``list[...]``,
      ``dict[str, ...]``, nested dataclasses; other annotations are not checked), unknown and
      missing fields reported; with *coerce* (form and query data, which are all strings)
      ``"42"`` becomes ``42`` for an ``int`` field, ``"on"``/``"off"`` a ``bool``, and a lone
      value a one-item list;
    - any callable: ``schema(data)`` returns the cleaned value.

    A ``ValueError`` from the schema (pydantic's ``ValidationError`` and
    :class:`ValidationError` are ValueErrors) becomes the 422; anything else propagates.
    """
    try:
        if isinstance(schema, type):
            model_validate = getattr(schema, "model_validate", None)
            if model_validate is not None:
                return model_validate(data)
            if dataclasses.is_dataclass(schema):
                return _build_dataclass(schema, data, coerce)
        if not callable(schema):
            raise TypeError(f"a schema is a callable, a dataclass or a model class, not {schema!r}")
        return schema(data)
    except ValueError as exc:
        raise UnprocessableContent(_details(exc)) from exc


class _Invalid(Exception):
    def __init__(self, msg: str, kind: str = "type_error") -> None:
        self.msg = msg
        self.kind = kind


@functools.lru_cache(maxsize=256)
def _fields_of(cls: type) -> tuple[tuple[str, Any, bool], ...]:
    hints = typing.get_type_hints(cls)
    return tuple(
        (
            f.name,
            hints.get(f.name, Any),
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,  # type: ignore[misc]
        )
        for f in dataclasses.fields(cls)
        if f.init
    )


def _build_dataclass(cls: type, data: Any, coerce: bool, loc: list | None = None, errors: list | None = None) -> Any:
    top = errors is None
    if top:
        errors = []
        loc = []
    if not isinstance(data, Mapping):
        errors.append(_error(loc, f"expected an object for {cls.__name__}", "model_type"))
        if top:
            raise ValidationError(errors)
        return None
    kwargs = {}
    names = set()
    for name, hint, required in _fields_of(cls):
        names.add(name)
        if name in data:
            before = len(errors)
            value = _convert(data[name], hint, coerce, loc + [name], errors)
            if len(errors) == before:
                kwargs[name] = value
        elif required:
            errors.append(_error(loc + [name], "field required", "missing"))
    for key in data:
        if key not in names:
            errors.append(_error(loc + [key], "unexpected field", "extra_forbidden"))
    if top:
        if errors:
            raise ValidationError(errors)
        return cls(**kwargs)  # __post_init__ may raise ValueError: a 422 too
    return cls(**kwargs) if not errors else None


_TRUE = frozenset({"true", "1", "on", "yes"})
_FALSE = frozenset({"false", "0", "off", "no"})


def _convert(value: Any, hint: Any, coerce: bool, loc: list, errors: list) -> Any:
    try:
        return _check(value, hint, coerce, loc, errors)
    except _Invalid as bad:
        errors.append(_error(loc, bad.msg, bad.kind))
        return None


def _check(value: Any, hint: Any, coerce: bool, loc: list, errors: list) -> Any:
    if hint is Any or hint is object:
        return value
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        others = [a for a in args if a is not type(None)]
        if len(others) == 1:  # Optional[X]: report X's errors, located, not "expected X | None"
            return _check(value, others[0], coerce, loc, errors)
        for arg in args:
            trial: list = []
            result = _convert(value, arg, coerce, loc, trial)
            if not trial:
                return result
        raise _Invalid(f"expected {_type_name(hint)}")
    if origin is typing.Literal:
        if value in typing.get_args(hint):
            return value
        raise _Invalid(f"expected one of {list(typing.get_args(hint))!r}", "literal_error")
    if hint is None or hint is type(None):
        if value is None:
            return None
        raise _Invalid("expected null")
    if origin is list:
        if not isinstance(value, list):
            if coerce and isinstance(value, str):
                value = [value]
            else:
                raise _Invalid("expected a list", "list_type")
        args = typing.get_args(hint)
        if not args:
            return list(value)
        return [_convert(item, args[0], coerce, loc + [i], errors) for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise _Invalid("expected an object", "dict_type")
        args = typing.get_args(hint)
        if len(args) != 2:
            return dict(value)
        return {k: _convert(v, args[1], coerce, loc + [k], errors) for k, v in value.items()}
    if origin is not None:
        if isinstance(value, origin):
            return value
        raise _Invalid(f"expected {_type_name(hint)}")
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build_dataclass(hint, value, coerce, loc, errors)
    if hint is bool:
        if type(value) is bool:
            return value
        if coerce and isinstance(value, str):
            low = value.lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
        raise _Invalid("expected a boolean", "bool_type")
    if hint is int:
        if type(value) is int:
            return value
        if coerce and isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        raise _Invalid("expected an integer", "int_type")
    if hint is float:
        if type(value) is float or type(value) is int:
            return float(value)
        if coerce and isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise _Invalid("expected a number", "float_type")
    if isinstance(hint, type):
        if isinstance(value, hint):
            return value
        raise _Invalid(f"expected {_type_name(hint)}")
    return value  # an annotation this checker does not know: not checked


def _type_name(hint: Any) -> str:
    return hint.__name__ if isinstance(hint, type) else str(hint).replace("typing.", "")
