"""Responses: what a handler returns, and how plain values become responses.

Strategy: a response is data, not behaviour. The connection protocol (``fasthttp.protocol``)
recognises four shapes and writes each its own way:

- :class:`Response` (and its subclasses :class:`PlainTextResponse`, :class:`HTMLResponse`,
  :class:`JSONResponse`, :class:`RedirectResponse`): a status, the header fields and a body held
  in memory; written with the writer kernel's ``write_response`` in one ``transport.write``;
- :class:`StreamingResponse` (and :class:`MultipartStreamResponse`, ``multipart/x-mixed-replace``
  for MJPEG-style streams): a body produced by an (async) iterator, sent with chunked coding
  (RFC 9112 §7.1), optionally followed by trailer fields (RFC 9110 §6.5);
- :class:`~fasthttp.files.FileResponse` (``fasthttp.files``): a file sent with ``sendfile`` on
  plain TCP (zero copy), read in chunks under TLS, with its validators, conditional requests
  and ranges;
- :class:`Upgrade`: hands the connection to another protocol (websocket, CONNECT tunnels).

Handlers may also return a ``str`` (``text/plain; charset=utf-8``), ``bytes``
(``application/octet-stream``), a ``dict`` or ``list`` (JSON, through orjson when it is
installed), or ``None`` (``204 No Content``: the handler produced nothing, RFC 9110 §15.3.5).
:func:`to_response` does that conversion; the protocol inlines the ``str`` case.

Every response type has :meth:`~FieldMethods.set_cookie`, ``delete_cookie`` (the
``Set-Cookie`` rules are ``fasthttp.cookies``') and ``add_vary``. Errors are exceptions
(:class:`~fasthttp.errors.HttpError`); :func:`render_error` gives an error the body the
client's ``Accept`` prefers: JSON, a small HTML page, or text (the default), and
:func:`negotiated` builds the representation a client prefers (the choice is
``fasthttp.negotiation``'s).

PERF: the header fields of a :class:`Response` are built once, in the constructor, as the list
of ``(name, value)`` pairs the writer takes, so writing it costs no Python-level work per field.
The exact type :class:`Response` takes the engine's fastest path; its subclasses go through
:func:`to_response` first (an ``isinstance`` check), and ``Response.html(...)``/``.text``/
``.json``/``.redirect`` build plain :class:`Response` objects for code that wants the fast path.

APPSEC: every header value, cookie and redirect target is validated before it can reach the
wire (CR/LF would split the response, RFC 9110 §5.5); the writer kernel checks the rest.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses as _dataclasses
import datetime as _dt
import enum as _enum
import html as _html
import json as _json
import re
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any, Union, cast
from urllib.parse import quote as _quote
from uuid import UUID as _UUID

from ._compat import NO_ORJSON
from ._grammar import TOKEN
from .cookies import format_delete_cookie, format_set_cookie
from .errors import HttpError
from .media import JSON_TYPES, first_match
from .negotiation import HeaderSource, choose_media_type, header_value, negotiate, parse_offer
from .ranges import make_boundary
from .writer import status_line as _status_line
from .writer import write_fields as _write_fields
from .writer import write_response as _write_response

__all__ = (
    "Response",
    "HeaderFields",
    "PlainTextResponse",
    "HTMLResponse",
    "JSONResponse",
    "RedirectResponse",
    "StreamingResponse",
    "MultipartStreamResponse",
    "iterate_content",
    "EventSourceResponse",
    "ServerSentEvent",
    "last_event_id",
    "multipart_part",
    "Upgrade",
    "FieldMethods",
    "to_response",
    "negotiated",
    "error_response",
    "error_bytes",
    "render_error",
    "render_http_error",
    "reason",
    "json_dumps",
    "json_loads",
    "stdlib_json_dumps",
    "JSON_BACKEND",
    "ORJSON_DUMPS",
    "security_headers",
    "with_fields",
    "NOSNIFF",
    "field_list",
    "has_field",
    "get_field",
    "without_close",
    "lower_name",
    "field_text",
    "Fields",
    "HeadersLike",
    "AnyResponse",
    "CONTENT_TYPE",
    "TEXT_TYPE",
    "HTML_TYPE",
    "JSON_TYPE",
    "OCTET_TYPE",
    "TEXT_FIELDS",
    "JSON_FIELDS",
    "OCTET_FIELDS",
)

CONTENT_TYPE = b"Content-Type"
TEXT_TYPE = b"text/plain; charset=utf-8"
HTML_TYPE = b"text/html; charset=utf-8"
JSON_TYPE = b"application/json"
OCTET_TYPE = b"application/octet-stream"
_OCTET_FIELD = (CONTENT_TYPE, OCTET_TYPE)  # a pair is immutable: shared by the responses' lists

#: Ready-made field lists for the common bodies; shared, never mutated (the writer only reads).
TEXT_FIELDS = ((CONTENT_TYPE, TEXT_TYPE),)
JSON_FIELDS = ((CONTENT_TYPE, JSON_TYPE),)
OCTET_FIELDS = ((CONTENT_TYPE, OCTET_TYPE),)

#: Header fields as ``(name, value)`` pairs, names and values ``str`` or ``bytes``.
Fields = Iterable[tuple[Any, Any]]
#: What the ``headers`` parameter of a response takes: a mapping, pairs, or ``None``.
HeadersLike = Union[Mapping[Any, Any], Fields, None]
#: What the engine sends: a response with header fields (:class:`Response`,
#: :class:`StreamingResponse`, :class:`~fasthttp.files.FileResponse`) or an :class:`Upgrade`.
AnyResponse = Union["FieldMethods", "Upgrade"]


# -- JSON: the one encoder of every response body (handlers' dict/list, JSONResponse, errors,
# websocket send_json, the test client) -----------------------------------------------------------
#
# orjson where it is installed (a default dependency on the platforms with its wheels, see
# pyproject.toml), the standard library elsewhere or with FASTHTTP_NO_ORJSON=1. Both give the same
# bytes: compact separators, UTF-8 (no \u escapes for non-ASCII), RFC 8259 §8.1. What orjson
# encodes natively (datetime/date/time, UUID, Enum, dataclasses) the stdlib path encodes the same
# way through _json_default; what orjson refuses (non-str dict keys, integers beyond 64 bits) goes
# to the stdlib encoder, which accepts them, so the accepted values and the TypeError for the
# rest are the same on both paths. One difference is left: NaN and infinities are `null` with
# orjson and the non-JSON `NaN`/`Infinity` tokens with the stdlib.


def _json_default(value: Any) -> Any:
    """Encode, for the stdlib encoder, the types orjson encodes natively, as orjson does."""
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()  # RFC 3339 (orjson's format for the same values)
    if isinstance(value, _UUID):
        return str(value)
    if isinstance(value, _enum.Enum):
        return value.value
    if _dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in _dataclasses.fields(value)}
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_encoder = _json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_default)


def stdlib_json_dumps(value: Any) -> bytes:
    """Serialise *value* to compact UTF-8 JSON bytes with the standard library's encoder."""
    return _encoder.encode(value).encode()


_orjson: Any = None
if not NO_ORJSON:
    try:  # PERF: orjson serialises several times faster than json (benchmarks/server "JSON").
        import orjson as _orjson
    except ImportError:  # pragma: no cover - depends on the environment
        pass

#: Which encoder :func:`json_dumps` uses: ``"orjson"`` or ``"json"`` (the standard library).
JSON_BACKEND = "json" if _orjson is None else "orjson"

#: orjson's own ``dumps`` when orjson is the backend, else ``None``: for a hot path that calls
#: it directly and falls back to :func:`stdlib_json_dumps` on its ``TypeError`` (what
#: :func:`json_dumps` does, without the cost of its frame).
ORJSON_DUMPS: Callable[[Any], bytes] | None = None if _orjson is None else _orjson.dumps

if _orjson is not None:
    _orjson_dumps = _orjson.dumps

    def json_dumps(value: Any) -> bytes:
        """Serialise *value* to compact UTF-8 JSON bytes (orjson; the stdlib for what it refuses)."""
        try:
            return _orjson_dumps(value)  # type: ignore[no-any-return]
        except TypeError:  # orjson.JSONEncodeError: non-str keys, big integers, unknown types
            return stdlib_json_dumps(value)

    json_loads: Callable[[str | bytes], Any] = _orjson.loads
else:  # pragma: no cover - depends on the environment
    json_dumps = stdlib_json_dumps
    json_loads = _json.loads


# -- header fields ---------------------------------------------------------------------------------


def field_list(headers: HeadersLike) -> list[tuple[Any, Any]]:
    """A new list of the ``(name, value)`` pairs of *headers* (a mapping, pairs or ``None``)."""
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return list(headers.items())
    return list(headers)


def lower_name(name: str | bytes | bytearray) -> bytes:
    """A field name as lower-case bytes, for case-insensitive comparison (RFC 9110 §5.1)."""
    return (name.encode("latin-1") if isinstance(name, str) else bytes(name)).lower()


def field_text(value: Any) -> str:
    """A field value as ``str`` (bytes are read as ISO-8859-1, anything else with ``str``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    return str(value)


def has_field(fields: Fields, name: bytes) -> bool:
    """Whether *fields* hold a field named *name* (lower-case bytes)."""
    size = len(name)
    for n, _ in fields:
        # PERF: the length first (equal for str and bytes names: field names are ASCII), so
        # most fields are passed over without being lower-cased (benchmarks/bench_middleware.py).
        if len(n) == size and lower_name(n) == name:
            return True
    return False


def get_field(fields: Fields, name: bytes) -> str | None:
    """The value of the first field named *name* (lower-case bytes), or ``None``."""
    for n, v in fields:
        if lower_name(n) == name:
            return field_text(v)
    return None


def without_close(fields: Fields) -> list[tuple[Any, Any]] | None:
    """If an application's response *fields* hold a ``Connection`` field with the ``close``
    option, the fields without their ``Connection`` fields, else None.

    RFC 9112 §9.6: a response with ``Connection: close`` says the connection ends after it. The
    field is the server's to write (the writer refuses it from an application, as it frames the
    response), so the engine honours the request instead: it writes these fields with its own
    ``Connection: close`` and closes. Only an error path calls this (the writer refused the
    fields): nothing is looked at for a response without such a field."""
    pairs = list(fields)
    close = False
    rest = []
    for name, value in pairs:
        if len(name) == 10 and lower_name(name) == b"connection":
            if any(o.strip(" \t").lower() == "close" for o in field_text(value).split(",")):
                close = True
            continue
        rest.append((name, value))
    return rest if close else None


class FieldMethods:
    """The base of every response type that carries header fields (:class:`Response`,
    :class:`StreamingResponse`, :class:`~fasthttp.files.FileResponse`): each keeps them in
    ``fields``, a list of ``(name, value)`` pairs, and gets these helpers."""

    __slots__ = ()
    status: int
    fields: list[tuple[Any, Any]]

    def set_cookie(
        self,
        name: str,
        value: str = "",
        *,
        max_age: int | _dt.timedelta | None = None,
        expires: _dt.datetime | float | str | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Add a ``Set-Cookie`` field (RFC 6265 §4.1); the arguments and the checks are those of
        :func:`fasthttp.cookies.format_set_cookie`."""
        cookie = format_set_cookie(
            name,
            value,
            max_age=max_age,
            expires=expires,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            partitioned=partitioned,
        )
        self.mutable_fields().append(("Set-Cookie", cookie))

    def delete_cookie(
        self,
        name: str,
        *,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = "lax",
    ) -> None:
        """Ask the client to drop cookie *name*: an empty value that expired in 1970, with
        ``Max-Age=0``. *path* and *domain* must be the ones the cookie was set with."""
        cookie = format_delete_cookie(
            name, path=path, domain=domain, secure=secure, httponly=httponly, samesite=samesite
        )
        self.mutable_fields().append(("Set-Cookie", cookie))

    def mutable_fields(self) -> list[tuple[Any, Any]]:
        """``fields`` as a list this response may change: a tuple or a writer
        :class:`~fasthttp.writer.FieldBlock` (constant fields the middleware stack hands the
        engine as one block; neither ever changes) is first replaced by a list of its pairs."""
        fields = self.fields
        if type(fields) is not list:
            fields = list(fields)
            owner: Any = self  # every concrete response type has a ``fields`` slot
            owner.fields = fields
        return fields

    @property
    def headers(self) -> HeaderFields:
        """The header fields as a case-insensitive, dict-like view of ``fields`` (without the
        ones the engine adds): ``response.headers["X-Id"] = "7"``; see :class:`HeaderFields`."""
        return HeaderFields(self)

    def add_vary(self, *names: str) -> None:
        """Add *names* to the ``Vary`` field (RFC 9110 §12.5.5), merging with one already there
        and keeping each name once (compared case-insensitively)."""
        fields = self.mutable_fields()
        for i, (n, v) in enumerate(fields):
            if lower_name(n) == b"vary":
                present = [p.strip() for p in field_text(v).split(",") if p.strip()]
                if "*" in present:
                    return
                known = {p.lower() for p in present}
                for name in names:
                    if name.lower() not in known:
                        present.append(name)
                        known.add(name.lower())
                fields[i] = ("Vary", ", ".join(present))
                return
        unique: list[str] = []
        for name in names:
            if name.lower() not in {u.lower() for u in unique}:
                unique.append(name)
        fields.append(("Vary", ", ".join(unique)))


class HeaderFields(MutableMapping[str, str]):
    """``response.headers``: a case-insensitive, dict-like view of a response's ``fields``.

    PERF: a view, not a copy: every change goes straight to the ``(name, value)`` list the writer
    serializes, so a response that nobody asks for ``headers`` costs nothing more, and the writer
    keeps its fast path (``writer: write_response``). ``headers["X-A"] = "1"`` replaces every
    field of that name (or appends one); ``add(name, value)`` appends another (``Set-Cookie``);
    ``headers["x-a"]`` is the first value (KeyError if none), ``getlist(name)`` every value, and
    ``del`` removes them all. Names compare case-insensitively (RFC 9110 §5.1); iteration yields
    each name once, as first written. ``append((name, value))`` keeps the list API of 0.1.
    """

    __slots__ = ("_owner",)

    def __init__(self, owner: FieldMethods) -> None:
        self._owner = owner

    def _list(self) -> list[tuple[Any, Any]]:
        owner: Any = self._owner  # every concrete response type has a ``fields`` slot
        fields: list[tuple[Any, Any]] = owner.mutable_fields()  # a shared tuple or FieldBlock: copied first
        return fields

    def __getitem__(self, name: str) -> str:
        value = get_field(self._owner.fields, lower_name(name))
        if value is None:
            raise KeyError(name)
        return value

    def getlist(self, name: str) -> list[str]:
        """Every value of the fields named *name*, in order (``[]`` if none)."""
        key = lower_name(name)
        return [field_text(v) for n, v in self._owner.fields if lower_name(n) == key]

    getall = getlist

    def __setitem__(self, name: str, value: str) -> None:
        key = lower_name(name)
        fields = self._list()
        kept = [(n, v) for n, v in fields if lower_name(n) != key]
        at = next((i for i, (n, _) in enumerate(fields) if lower_name(n) == key), len(kept))
        kept.insert(min(at, len(kept)), (name, value))
        fields[:] = kept

    def add(self, name: str, value: str) -> None:
        """Append a field, keeping those of the same name (``Set-Cookie``, ``Link``, ...)."""
        self._list().append((name, value))

    def append(self, field: tuple[Any, Any]) -> None:
        """Append one ``(name, value)`` pair (the list API ``response.headers`` had in 0.1)."""
        name, value = field
        self._list().append((name, value))

    def __delitem__(self, name: str) -> None:
        key = lower_name(name)
        fields = self._list()
        kept = [(n, v) for n, v in fields if lower_name(n) != key]
        if len(kept) == len(fields):
            raise KeyError(name)
        fields[:] = kept

    def __contains__(self, name: object) -> bool:
        return isinstance(name, (str, bytes)) and has_field(self._owner.fields, lower_name(name))

    def __iter__(self) -> Iterator[str]:
        seen: set[bytes] = set()
        for n, _ in self._owner.fields:
            key = lower_name(n)
            if key not in seen:
                seen.add(key)
                yield field_text(n)

    def __len__(self) -> int:
        return len({lower_name(n) for n, _ in self._owner.fields})

    def __repr__(self) -> str:
        return f"HeaderFields({[(field_text(n), field_text(v)) for n, v in self._owner.fields]!r})"


# -- in-memory responses -----------------------------------------------------------------------


class Response(FieldMethods):
    """A complete response held in memory.

    ``body`` is ``bytes`` (or ``str``, encoded as UTF-8). ``headers`` is a mapping or an iterable
    of ``(name, value)`` pairs (``str`` or ``bytes``). ``content_type`` defaults to
    ``text/plain; charset=utf-8`` for a ``str`` body and ``application/octet-stream`` for a
    non-empty ``bytes`` body, unless ``headers`` already holds a Content-Type.

    ``Content-Length`` (and ``Date``, ``Connection``) are added by the engine; a HEAD request
    gets the head only (RFC 9110 §9.3.2). The framing fields are the server's: *headers* with
    ``Transfer-Encoding``, ``Keep-Alive``, ``TE``, ``Proxy-Connection``, a ``Connection`` naming
    ``close`` or ``keep-alive``, or a ``Content-Length`` other than the body's are refused by the
    writer (a 500, the reason in the server log); a correct ``Content-Length`` is sent once.
    """

    __slots__ = ("status", "fields", "body")
    body: bytes | bytearray | memoryview

    def __init__(
        self,
        body: bytes | bytearray | memoryview | str = b"",
        status: int = 200,
        headers: HeadersLike = None,
        content_type: str | bytes | None = None,
    ) -> None:
        if headers is None and type(body) is bytes:
            # PERF (issue 17, POST echo): the common form, a bytes body and no headers, without
            # the general path's isinstance and branches (what it would make, field for field).
            self.status = status
            self.body = body
            if content_type is not None:
                self.fields = [(CONTENT_TYPE, content_type)]
            else:
                self.fields = [_OCTET_FIELD] if body else []
            return
        default_type: bytes | None
        if isinstance(body, str):
            body = body.encode()
            default_type = TEXT_TYPE
        else:
            default_type = OCTET_TYPE if body else None
        self.status = status
        self.body = body
        if headers is None:
            ctype = content_type if content_type is not None else default_type
            self.fields = [(CONTENT_TYPE, ctype)] if ctype is not None else []
            return
        fields = field_list(headers)
        if content_type is not None:
            fields.insert(0, (CONTENT_TYPE, content_type))
        elif default_type is not None and not has_field(fields, b"content-type"):
            fields.insert(0, (CONTENT_TYPE, default_type))
        self.fields = fields

    @classmethod
    def json(cls, value: Any, status: int = 200, headers: HeadersLike = None) -> Response:
        """A JSON response (``application/json``), as a plain :class:`Response`."""
        return Response(json_dumps(value), status, headers, JSON_TYPE)

    @classmethod
    def html(cls, content: str | bytes, status: int = 200, headers: HeadersLike = None) -> Response:
        """An HTML response (``text/html; charset=utf-8``), as a plain :class:`Response`."""
        return Response(content.encode() if isinstance(content, str) else content, status, headers, HTML_TYPE)

    @classmethod
    def text(cls, content: str | bytes, status: int = 200, headers: HeadersLike = None) -> Response:
        """A text response (``text/plain; charset=utf-8``), as a plain :class:`Response`."""
        return Response(content.encode() if isinstance(content, str) else content, status, headers, TEXT_TYPE)

    @classmethod
    def redirect(cls, url: str, status: int = 307, headers: HeadersLike = None) -> Response:
        """A redirect to *url* (see :class:`RedirectResponse`), as a plain :class:`Response`."""
        fields = field_list(headers)
        fields.append(("Location", _location(url, status)))
        return Response(b"", status, fields)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status} {len(self.body)} bytes>"


def _typed(self: Response, content: Any, status: int, headers: Any, ctype: bytes) -> None:
    if isinstance(content, str):
        content = content.encode()
    fields = field_list(headers)
    # A Content-Type in *headers* wins over the class default.
    Response.__init__(self, content, status, fields, None if has_field(fields, b"content-type") else ctype)


class PlainTextResponse(Response):
    """``text/plain; charset=utf-8``; a ``str`` body is encoded as UTF-8."""

    __slots__ = ()

    def __init__(self, content: str | bytes = "", status: int = 200, headers: HeadersLike = None) -> None:
        _typed(self, content, status, headers, TEXT_TYPE)


class HTMLResponse(Response):
    """``text/html; charset=utf-8``; a ``str`` body is encoded as UTF-8."""

    __slots__ = ()

    def __init__(self, content: str | bytes = "", status: int = 200, headers: HeadersLike = None) -> None:
        _typed(self, content, status, headers, HTML_TYPE)


class JSONResponse(Response):
    """*content* serialised as JSON (orjson when installed), ``application/json``."""

    __slots__ = ()

    def __init__(self, content: Any, status: int = 200, headers: HeadersLike = None) -> None:
        _typed(self, json_dumps(content), status, headers, JSON_TYPE)


REDIRECT_STATUSES = frozenset((301, 302, 303, 307, 308))
# RFC 3986 §2.2 reserved characters and "%" stay as they are; anything else that may not appear
# in a URI (non-ASCII, space, '"', '<', '\\', ...) is percent-encoded as UTF-8 (RFC 3987 §3.1).
_URI_SAFE = ":/?#[]@!$&'()*+,;=%~-._"


def _location(url: str, status: int) -> str:
    if status not in REDIRECT_STATUSES:
        raise ValueError(f"a redirect status is 301, 302, 303, 307 or 308, not {status!r}")
    if not isinstance(url, str):
        raise TypeError(f"a redirect URL is a str, not {type(url).__name__}")
    # APPSEC: CR or LF in Location would split the response (header injection); the other
    # control characters have no place in a URI either (RFC 3986 §2).
    if any(c < " " or c == "\x7f" for c in url):
        raise ValueError(f"a redirect URL cannot contain control characters: {url!r}")
    if not url:
        raise ValueError("a redirect URL cannot be empty")
    return _quote(url, safe=_URI_SAFE)


class RedirectResponse(Response):
    """A redirect to *url* with an empty body: 307 by default (method and body kept, RFC 9110
    §15.4.8); 301/308 are permanent, 302/303 let the client switch to GET (RFC 9110 §15.4).

    *url* is refused (``ValueError``) when it holds CR, LF or another control character;
    non-ASCII characters and spaces are percent-encoded as UTF-8, existing escapes are kept.
    NOTE: the target is not restricted to this site: a handler that redirects to a
    user-supplied URL must check it (open redirect).
    """

    __slots__ = ()

    def __init__(self, url: str, status: int = 307, headers: HeadersLike = None) -> None:
        fields = field_list(headers)
        fields.append(("Location", _location(url, status)))
        Response.__init__(self, b"", status, fields)

    @property
    def location(self) -> str:
        return get_field(self.fields, b"location") or ""


# -- streamed responses ------------------------------------------------------------------------


class StreamingResponse(FieldMethods):
    """A body produced piece by piece: *content* is an async iterable (or iterable) of ``bytes``
    or ``str``.

    Sent with chunked transfer coding (RFC 9112 §7.1) unless *content_length* is given; to an
    HTTP/1.0 client, which knows no chunked coding, the body is delimited by closing the
    connection. *trailers* (a mapping, pairs, or a callable returning either, called once the
    iterator is exhausted, sync or async) are sent after the last chunk (RFC 9112 §7.1.2); they
    are dropped when the body is not chunked. The engine stops pulling from *content* while the
    peer does not read (transport flow control).
    """

    __slots__ = ("status", "fields", "content", "content_length", "trailers")

    def __init__(
        self,
        content: AsyncIterable[bytes | str] | Iterable[bytes | str],
        status: int = 200,
        headers: HeadersLike = None,
        content_type: str | bytes | None = None,
        *,
        content_length: int | None = None,
        trailers: HeadersLike | Callable[[], Any] = None,
    ) -> None:
        fields = field_list(headers)
        if content_type is not None:
            fields.insert(0, (CONTENT_TYPE, content_type))
        elif not has_field(fields, b"content-type"):
            fields.insert(0, (CONTENT_TYPE, OCTET_TYPE))
        self.status = status
        self.fields = fields
        self.content = content
        self.content_length = content_length
        self.trailers = trailers

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status}>"


# A boundary we generate or accept is a token (so it needs no quotes in Content-Type) made of
# RFC 2046 §5.1.1 bchars, 1 to 70 of them.
_BOUNDARY = re.compile(r"[0-9A-Za-z'+_\-.]{1,70}")


def multipart_part(item: Any, boundary: bytes, default_type: str | bytes | None) -> bytes:
    """One body part of a multipart stream (RFC 2046 §5.1.1): *item* is ``bytes`` (or ``str``)
    or ``(bytes, headers)``; *default_type* is added when the part's fields name no type.

    Layout: ``--boundary CRLF fields Content-Length CRLF CRLF data CRLF``; the CRLF after the
    data belongs to the next delimiter, so *data* itself is sent untouched. The closing
    delimiter is ``--boundary--CRLF``. Used by :class:`MultipartStreamResponse` and by the
    poll-driven server's pushed streams (``fasthttp.poll``).
    """
    if isinstance(item, tuple):
        data, headers = item
        fields = field_list(headers)
        if default_type is not None and not has_field(fields, b"content-type"):
            fields.insert(0, (CONTENT_TYPE, default_type))
    else:
        data = item
        fields = [(CONTENT_TYPE, default_type)] if default_type is not None else []
    if isinstance(data, str):
        data = data.encode()
    elif not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"a multipart frame is bytes or (bytes, headers), not {type(data).__name__}")
    # Content-Length lets a client (a browser showing MJPEG) take the frame without scanning it
    # for the boundary.
    head = _write_fields(fields) + b"Content-Length: %d\r\n\r\n" % len(data)
    return b"".join((b"--", boundary, b"\r\n", head, data, b"\r\n"))


async def _multipart_frames(
    frames: AsyncIterable[Any] | Iterable[Any], boundary: bytes, default_type: str | bytes | None
) -> AsyncIterator[bytes]:
    """Frame each item of *frames* as one body part (RFC 2046 §5.1.1), yielding one bytes object
    per part so that each goes out as one chunk.

    Layout: ``--boundary CRLF fields CRLF data CRLF`` for each part, then ``--boundary--
    CRLF``. The CRLF after each part's data belongs to the next delimiter (RFC 2046 §5.1.1), so
    *data* itself is sent untouched.
    """
    items = iterate_content(frames)
    try:
        async for item in items:
            yield multipart_part(item, boundary, default_type)
        yield b"--" + boundary + b"--\r\n"
    finally:
        await items.aclose()


async def iterate_content(content: AsyncIterable[Any] | Iterable[Any]) -> AsyncGenerator[Any, None]:
    """Each item of *content*, an async iterable or a plain iterable (the two kinds a streamed
    body may be), as one async generator; *content* is closed (``aclose``/``close``) when it
    ends or when this generator is closed early. Wrappers of a stream (multipart framing,
    content coding, events) drive their source through it."""
    source: Any = content  # either protocol; is_async says which one drives the loop below
    is_async = hasattr(source, "__aiter__")
    iterator: Any = source.__aiter__() if is_async else iter(source)
    try:
        while True:
            if is_async:
                try:
                    item = await iterator.__anext__()
                except StopAsyncIteration:
                    return
            else:
                try:
                    item = next(iterator)
                except StopIteration:
                    return
            yield item
    finally:
        close = getattr(iterator, "aclose" if is_async else "close", None)
        if close is not None:
            result = close()
            if is_async:
                await result


class MultipartStreamResponse(StreamingResponse):
    """A ``multipart/x-mixed-replace`` stream (MJPEG and other server push of frames): each item
    of *frames* (an async iterable or iterable) becomes one body part.

    An item is ``bytes`` (a frame of *frame_type*, ``image/jpeg`` by default) or a tuple
    ``(bytes, headers)`` with the part's own fields (a mapping or pairs; *frame_type* is added
    when they carry no Content-Type). Each part carries its ``Content-Length``. The boundary is
    random (``boundary`` attribute) unless given. When the iterator ends, the close delimiter
    ends the body. *subtype* may be ``"mixed"`` for a plain ``multipart/mixed`` stream.

    NOTE: clients never cache such a stream usefully; add ``Cache-Control: no-store`` in
    *headers* for proxies.
    """

    __slots__ = ("boundary",)

    def __init__(
        self,
        frames: AsyncIterable[Any] | Iterable[Any],
        status: int = 200,
        headers: HeadersLike = None,
        *,
        frame_type: str | bytes | None = "image/jpeg",
        subtype: str = "x-mixed-replace",
        boundary: str | None = None,
    ) -> None:
        if boundary is None:
            boundary = make_boundary()
        elif not isinstance(boundary, str) or not _BOUNDARY.fullmatch(boundary):
            raise ValueError(f"invalid multipart boundary {boundary!r}: 1 to 70 of A-Z a-z 0-9 ' + _ - .")
        if not TOKEN.fullmatch(subtype):
            raise ValueError(f"invalid multipart subtype {subtype!r}")
        self.boundary = boundary
        content = _multipart_frames(frames, boundary.encode("ascii"), frame_type)
        StreamingResponse.__init__(self, content, status, headers, f"multipart/{subtype}; boundary={boundary}")


# -- server-sent events ------------------------------------------------------------------------


class ServerSentEvent:
    """One event of an ``text/event-stream`` (WHATWG HTML §9.2.5): *data* (``str``; several
    lines become several ``data:`` fields), *event* (its type), *id* (what the client sends
    back in ``Last-Event-ID`` when it reconnects), *retry* (the reconnection delay in ms) and
    *comment*. ``ValueError`` for an *event* or *id* with CR/LF (they would split the event)
    or an *id* with NUL (the client would ignore it)."""

    __slots__ = ("data", "event", "id", "retry", "comment")

    def __init__(
        self,
        data: str | None = None,
        *,
        event: str | None = None,
        id: str | None = None,
        retry: int | None = None,
        comment: str | None = None,
    ) -> None:
        for name, value in (("event", event), ("id", id)):
            if value is not None and ("\r" in value or "\n" in value or name == "id" and "\0" in value):
                raise ValueError(f"an event {name} cannot hold CR, LF or NUL: {value!r}")
        if retry is not None and (isinstance(retry, bool) or not isinstance(retry, int) or retry < 0):
            raise ValueError(f"retry is a non-negative number of milliseconds, not {retry!r}")
        self.data = data
        self.event = event
        self.id = id
        self.retry = retry
        self.comment = comment

    def encode(self) -> bytes:
        """The event as the stream carries it, ending with the blank line that dispatches it."""
        out: list[str] = []
        if self.comment is not None:
            out.extend(": " + line for line in _SSE_LINES.split(self.comment))
        if self.event is not None:
            out.append("event: " + self.event)
        if self.id is not None:
            out.append("id: " + self.id)
        if self.retry is not None:
            out.append("retry: %d" % self.retry)
        if self.data is not None:
            out.extend("data: " + line for line in _SSE_LINES.split(self.data))
        return ("\n".join(out) + "\n\n").encode()


# WHATWG HTML §9.2.6: a line ends at CRLF, LF or CR.
_SSE_LINES = re.compile(r"\r\n|\r|\n")
_PING = b": ping\n\n"


def _sse_event(item: Any) -> bytes:
    if isinstance(item, ServerSentEvent):
        return item.encode()
    if isinstance(item, Mapping):
        data = item.get("data")
        if data is not None and not isinstance(data, str):
            data = json_dumps(data).decode()
        return ServerSentEvent(data, event=item.get("event"), id=item.get("id"), retry=item.get("retry"), comment=item.get("comment")).encode()
    if isinstance(item, (bytes, bytearray)):
        item = bytes(item).decode()
    if isinstance(item, str):
        return ServerSentEvent(item).encode()
    raise TypeError(f"an event is a ServerSentEvent, a dict, str or bytes, not {type(item).__name__}")


async def _sse_stream(events: AsyncIterable[Any] | Iterable[Any], ping: float | None) -> AsyncGenerator[bytes, None]:
    """*events* framed as an event stream, with a ``: ping`` comment whenever *ping* seconds
    pass without an event (so proxies and clients keep an idle connection open).

    NOTE: the one place the message model waits on the loop: the keep-alive timer."""
    source: Any = events
    if not hasattr(source, "__aiter__"):
        for item in source:
            yield _sse_event(item)
        return
    iterator: Any = source.__aiter__()
    pending: asyncio.Future[Any] | None = None
    try:
        while True:
            if ping is None:
                try:
                    item = await iterator.__anext__()
                except StopAsyncIteration:
                    return
                yield _sse_event(item)
                continue
            if pending is None:
                pending = asyncio.ensure_future(iterator.__anext__())
            done, _ = await asyncio.wait((pending,), timeout=ping)
            if not done:
                yield _PING
                continue
            future, pending = pending, None
            try:
                item = future.result()
            except StopAsyncIteration:
                return
            yield _sse_event(item)
    finally:
        if pending is not None:
            # the generator is mid-step in that task: let the cancellation land before closing
            pending.cancel()
            try:
                await pending
            except BaseException:
                pass
        close = getattr(iterator, "aclose", None)
        if close is not None:
            await close()


class EventSourceResponse(StreamingResponse):
    """Server-sent events (``text/event-stream``, WHATWG HTML §9.2): each item of *events*
    (an async iterable or iterable) is one event: a :class:`ServerSentEvent`, a ``dict`` with
    its fields (``data`` that is not a ``str`` is sent as JSON), or a ``str``/``bytes`` of data.

    *ping*: seconds of silence after which a ``: ping`` comment is sent (``None``: never);
    *retry*: a reconnection delay (ms) sent first. ``Cache-Control: no-store`` and
    ``X-Accel-Buffering: no`` (nginx would buffer the stream) are added unless *headers* set
    them. A reconnecting client sends the last id it saw: :func:`last_event_id`.
    """

    __slots__ = ()

    def __init__(
        self,
        events: AsyncIterable[Any] | Iterable[Any],
        status: int = 200,
        headers: HeadersLike = None,
        *,
        ping: float | None = 15.0,
        retry: int | None = None,
    ) -> None:
        if ping is not None and not ping > 0:
            raise ValueError(f"ping is a positive number of seconds or None, not {ping!r}")
        fields = field_list(headers)
        if not has_field(fields, b"cache-control"):
            fields.append(("Cache-Control", "no-store"))
        if not has_field(fields, b"x-accel-buffering"):
            fields.append(("X-Accel-Buffering", "no"))
        content: AsyncGenerator[bytes, None] = _sse_stream(events, ping)
        if retry is not None:
            content = _prefixed(ServerSentEvent(retry=retry).encode(), content)
        StreamingResponse.__init__(self, content, status, fields, "text/event-stream")


async def _prefixed(first: bytes, rest: AsyncGenerator[bytes, None]) -> AsyncGenerator[bytes, None]:
    try:
        yield first
        async for piece in rest:
            yield piece
    finally:
        await rest.aclose()


def last_event_id(request: HeaderSource) -> str | None:
    """The ``Last-Event-ID`` a reconnecting event-stream client sends (WHATWG HTML §9.2.4), or
    ``None``: where to resume the stream."""
    value = header_value(request, "last-event-id")
    return value if value else None


class Upgrade:
    """Take the connection over: answer with *status* (101, or 200 for CONNECT) and *headers*,
    then hand the transport to ``protocol_factory()``.

    The new protocol gets ``connection_made(transport)`` and then, if the client already sent
    bytes after the request, one ``data_received(rest)``. From then on the HTTP engine no longer
    reads from or writes to that connection, though graceful shutdown still closes it. A 2xx
    answer to CONNECT carries no framing fields (RFC 9110 §9.3.6); a 101 must name the new
    protocol in ``Upgrade`` (RFC 9110 §7.8), which is the handler's to supply in *headers*.
    """

    __slots__ = ("status", "fields", "protocol_factory")

    def __init__(
        self,
        protocol_factory: Callable[[], Any],
        status: int = 101,
        headers: HeadersLike = None,
    ) -> None:
        self.status = status
        self.fields = field_list(headers)
        self.protocol_factory = protocol_factory


# -- errors ------------------------------------------------------------------------------------


def reason(status: int) -> str:
    """The reason phrase the writer sends for *status* (``"Not Found"``), or ``""``."""
    return _status_line(status)[13:-2].decode("latin-1")


#: APPSEC: an error body may echo client-supplied detail; no browser may sniff it into HTML or
#: script (the ``nosniff`` of the Fetch standard, §X-Content-Type-Options).
NOSNIFF = (b"X-Content-Type-Options", b"nosniff")


def _with_nosniff(headers: HeadersLike) -> list[tuple[Any, Any]]:
    fields = field_list(headers)
    if not has_field(fields, b"x-content-type-options"):
        fields.append(NOSNIFF)
    return fields


def error_bytes(status: int, keep_alive: bool = False, server: str | bytes | None = None) -> bytes:
    """A bare error response, head and reason-phrase body, as bytes ready to write (the engine's
    and the poll server's answer to a request refused at the protocol level)."""
    return _write_response(status, TEXT_FIELDS, reason(status).encode(), keep_alive=keep_alive, server=server)


def error_response(status: int, detail: str | None = None, headers: HeadersLike = None) -> Response:
    """A small ``text/plain`` response for an error *status* (with ``nosniff``)."""
    return Response(reason(status) if detail is None else detail, status, _with_nosniff(headers))


_ERROR_TYPES = ("text/plain", "application/json", "text/html")
_STRUCTURED_TYPES = ("application/json", "text/plain", "text/html")


def render_error(
    status: int, detail: Any = None, accept_header: HeaderSource = None, headers: HeadersLike = None
) -> Response:
    """An error response whose body follows the client's ``Accept`` (RFC 9110 §12.5.1).

    *accept_header* is the ``Accept`` value (``str``/``bytes``), a request, or ``None``. Text
    (the default, also when nothing offered is acceptable: an error is never turned into a
    406) is the detail alone, except for a detail that is not a string (a 422's list of
    errors): JSON is then preferred, for ``*/*`` and without ``Accept``; JSON is ``{"error": {"status": 404, "reason": "Not Found",
    "detail": ...}}``; HTML is a small page with the detail escaped. *headers* follow the
    Content-Type, and ``Vary: Accept`` is added to them (merged into a ``Vary`` they carry).

    APPSEC: only *detail* reaches the client, never an exception or a traceback; a detail that
    is not a string is JSON-encoded in the text and HTML forms. Every form carries
    ``X-Content-Type-Options: nosniff`` (:data:`NOSNIFF`), so echoed detail stays text.
    """
    phrase = reason(status)
    if detail is None:
        detail = phrase
    if isinstance(detail, str):
        kind = "text/plain" if accept_header is None else (negotiate(accept_header, _ERROR_TYPES) or "text/plain")
    else:
        # A structured detail (a 422's list of errors) is JSON already: JSON first, unless
        # the client's Accept refuses it (curl's "*/*" takes it).
        kind = "application/json" if accept_header is None else (negotiate(accept_header, _STRUCTURED_TYPES) or "text/plain")
    if kind == "application/json":
        body = json_dumps({"error": {"status": status, "reason": phrase, "detail": detail}})
        ctype = JSON_TYPE
    else:
        text = detail if isinstance(detail, str) else json_dumps(detail).decode()
        if kind == "text/html":
            title = _html.escape(f"{status} {phrase}".strip())
            paragraph = "" if text == phrase else f"<p>{_html.escape(text)}</p>"
            body = (
                '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
                f"<title>{title}</title></head>\n<body><h1>{title}</h1>{paragraph}</body></html>\n"
            ).encode()
            ctype = HTML_TYPE
        else:
            body = text.encode()
            ctype = TEXT_TYPE
    fields = _with_nosniff(headers)
    fields.insert(0, (CONTENT_TYPE, ctype))
    response = Response(body, status, fields)
    response.add_vary("Accept")  # merged with a Vary the caller's headers already carry
    return response


def render_http_error(exc: HttpError, accept: HeaderSource = None) -> Response:
    """The response for a raised :class:`~fasthttp.errors.HttpError`; *accept* is the request
    (or its ``Accept`` value) to negotiate the body with, ``None`` for text."""
    return render_error(exc.status, exc.detail, accept, exc.headers)


def security_headers(
    *,
    hsts: bool = True,
    hsts_max_age: int = 31536000,
    include_subdomains: bool = True,
    preload: bool = False,
    content_type_options: bool = True,
    frame_options: str | None = "DENY",
    csp: str | None = None,
    referrer_policy: str | None = "strict-origin-when-cross-origin",
    cross_domain_policies: str | None = "none",
    permissions_policy: str | None = None,
) -> list[tuple[str, str]]:
    """Security header fields to merge into responses (``headers=security_headers()``).

    - ``Strict-Transport-Security`` (RFC 6797): send it on HTTPS responses only; a user agent
      ignores it over plain HTTP (RFC 6797 §7.2). *preload* needs *include_subdomains* and a
      max-age of at least a year (hstspreload.org's rules).
    - ``X-Content-Type-Options: nosniff``: no MIME sniffing.
    - ``X-Frame-Options`` (RFC 7034): ``DENY`` or ``SAMEORIGIN``.
    - ``Content-Security-Policy``: only when *csp* is given (a policy has to fit the site).
    - ``Referrer-Policy`` and ``X-Permitted-Cross-Domain-Policies``.
    - ``Permissions-Policy`` (W3C Permissions Policy): only when *permissions_policy* is given
      (``"camera=(), geolocation=()"``).
    """
    out = []
    if hsts:
        if not isinstance(hsts_max_age, int) or hsts_max_age < 0:
            raise ValueError(f"hsts_max_age is a non-negative int, not {hsts_max_age!r}")
        value = f"max-age={hsts_max_age}"
        if include_subdomains:
            value += "; includeSubDomains"
        if preload:
            if not include_subdomains or hsts_max_age < 31536000:
                raise ValueError("HSTS preload needs include_subdomains and a max-age of at least 31536000")
            value += "; preload"
        out.append(("Strict-Transport-Security", value))
    if content_type_options:
        out.append(("X-Content-Type-Options", "nosniff"))
    if frame_options is not None:
        if frame_options.upper() not in ("DENY", "SAMEORIGIN"):
            raise ValueError(f"frame_options is 'DENY' or 'SAMEORIGIN', not {frame_options!r}")
        out.append(("X-Frame-Options", frame_options.upper()))
    if csp is not None:
        out.append(("Content-Security-Policy", csp))
    if referrer_policy is not None:
        out.append(("Referrer-Policy", referrer_policy))
    if cross_domain_policies is not None:
        out.append(("X-Permitted-Cross-Domain-Policies", cross_domain_policies))
    if permissions_policy is not None:
        out.append(("Permissions-Policy", permissions_policy))
    for name, value in out:
        # APPSEC: a CR/LF in a caller's policy string would split the response.
        if any(c < " " and c != "\t" or c == "\x7f" for c in value):
            raise ValueError(f"invalid {name} value {value!r}")
    return out


def with_fields(response: Any, extra: Fields) -> Any:
    """*response* with the header fields *extra* appended, as a copy: response objects may be
    shared constants (a module-level ``Response``, the ``None`` -> 204 one), so a middleware
    or a route option never mutates one. An :class:`Upgrade` (no header fields of its own) is
    returned as is."""
    if type(response) is Response:
        # PERF: the common case without the constructor's checks (the fields were checked when
        # the original was built; *extra* by the caller's own rules, and by the writer).
        clone = Response.__new__(Response)
        clone.status = response.status
        clone.body = response.body
        clone.fields = [*response.fields, *extra]
        return clone
    if not isinstance(response, FieldMethods):
        return response
    other: Any = copy.copy(response)  # every concrete response type has a ``fields`` slot
    other.fields = [*response.fields, *extra]
    return other


# -- plain values ------------------------------------------------------------------------------


def to_response(value: Any) -> AnyResponse:
    """Turn a handler's return value into one of the response types above.

    ``str`` -> text/plain UTF-8; ``bytes``/``bytearray``/``memoryview`` -> application/
    octet-stream; ``dict``/``list`` -> JSON; ``None`` -> ``204 No Content``; a response object
    (any :class:`FieldMethods` type, :class:`~fasthttp.files.FileResponse` included, or an
    :class:`Upgrade`) is returned as is. Anything else is a ``TypeError`` (the engine answers it with a 500).
    """
    t = type(value)
    if t is Response or t is StreamingResponse or t is Upgrade:
        return cast(AnyResponse, value)
    if t is str:
        return Response(value.encode(), 200, None, TEXT_TYPE)
    if t is bytes or t is bytearray or t is memoryview:
        return Response(value, 200, None, OCTET_TYPE)
    if t is dict or t is list:
        return Response(json_dumps(value), 200, None, JSON_TYPE)
    if value is None:
        return _NO_CONTENT
    if isinstance(value, (FieldMethods, Upgrade)):
        return value  # a subclass, or a FileResponse (fasthttp.files)
    if isinstance(value, str):
        return Response(str(value).encode(), 200, None, TEXT_TYPE)
    if isinstance(value, (dict, list)):
        return Response(json_dumps(value), 200, None, JSON_TYPE)
    if t is tuple:
        return _from_tuple(value)
    raise TypeError(f"a handler returned {t.__name__}; expected str, bytes, dict, list, None or a Response")


def _from_tuple(value: tuple[Any, ...]) -> AnyResponse:
    """Flask's and FastAPI-users' habit: ``(body, status)`` or ``(body, status, headers)``, the
    body any value :func:`to_response` takes (a response object keeps its own fields; the
    status and headers given here override its status and join its fields)."""
    if not 2 <= len(value) <= 3 or isinstance(value[1], bool) or not isinstance(value[1], int):
        raise TypeError(
            "a handler returned a tuple; expected (body, status) or (body, status, headers), "
            f"with an int status, not {value!r:.80}"
        )
    body, status = value[0], value[1]
    headers = value[2] if len(value) == 3 else None
    if type(body) is tuple:
        raise TypeError("a handler returned a tuple whose body is a tuple")
    base = to_response(body)
    if not isinstance(base, FieldMethods):
        raise TypeError(f"(body, status) takes a body, not {type(base).__name__}")
    response: Any  # a concrete response type: each has ``status`` and ``fields`` slots
    if base is _NO_CONTENT or type(base) is Response:
        # a fresh object: never mutate a shared one (_NO_CONTENT, a module-level constant)
        response = Response(base.body, status, base.fields)
    else:
        response = copy.copy(base)
        response.fields = list(base.fields)
        response.status = status
    if headers:
        names = {lower_name(n) for n, _ in field_list(headers)}
        response.fields = [f for f in response.fields if lower_name(f[0]) not in names] + field_list(headers)
    return cast(AnyResponse, response)


_NO_CONTENT = Response(b"", 204)


# -- negotiated representations --------------------------------------------------------------------


def negotiated(
    request: HeaderSource,
    representations: Mapping[str, Any],
    status: int = 200,
    headers: HeadersLike = None,
) -> Response:
    """A response in the representation *request* prefers, with ``Vary: Accept``.

    *representations* maps media types (in the server's order of preference) to a body: ``str``
    or ``bytes``, a zero-argument callable returning one (called only for the chosen type), or,
    for ``application/json`` and ``*/*+json``, any JSON-serialisable value. No acceptable type:
    ``HttpError(406)`` (see :func:`fasthttp.negotiation.choose_media_type`).
    """
    offered = list(representations)
    chosen = choose_media_type(request, offered)
    body = representations[chosen]
    if callable(body):
        body = body()
    t, s, params = parse_offer(chosen)
    if not isinstance(body, (str, bytes, bytearray, memoryview)):
        # RFC 8259 §11 and RFC 6839 §3.1: application/json and the +json suffix.
        if first_match(f"{t}/{s}", JSON_TYPES) is None:
            raise TypeError(f"the {chosen} representation must be str or bytes, not {type(body).__name__}")
        body = json_dumps(body)
    content_type = chosen
    if isinstance(body, str):
        if t == "text" and "charset" not in params:
            content_type = chosen + "; charset=utf-8"
        body = body.encode()
    response = Response(body, status, headers, content_type)
    response.add_vary("Accept")
    return response
