"""Responses: what a handler returns, and how plain values become responses.

Strategy: a response is data, not behaviour. The connection protocol (``fasthttp.protocol``)
recognises four shapes and writes each its own way:

- :class:`Response` (and its subclasses :class:`PlainTextResponse`, :class:`HTMLResponse`,
  :class:`JSONResponse`, :class:`RedirectResponse`): a status, the header fields and a body held
  in memory; written with the writer kernel's ``write_response`` in one ``transport.write``;
- :class:`StreamingResponse` (and :class:`MultipartStreamResponse`, ``multipart/x-mixed-replace``
  for MJPEG-style streams): a body produced by an (async) iterator, sent with chunked coding
  (RFC 9112 §7.1), optionally followed by trailer fields (RFC 9110 §6.5);
- :class:`FileResponse`: a file sent with ``sendfile`` on plain TCP (zero copy), read in chunks
  under TLS. The engine calls :meth:`FileResponse.plan` with the request and the ``fstat`` of the
  opened file; the plan adds the validators (``Last-Modified``, ``ETag``), evaluates the
  conditional request (RFC 9110 §13.2.2: 304, 412) and the ``Range`` (RFC 9110 §14: 206 with one
  range or ``multipart/byteranges``, 416) through the ranges kernel, and returns what to write;
- :class:`Upgrade`: hands the connection to another protocol (websocket, CONNECT tunnels).

Handlers may also return a ``str`` (``text/plain; charset=utf-8``), ``bytes``
(``application/octet-stream``), a ``dict`` or ``list`` (JSON, through orjson when it is
installed), or ``None`` (``204 No Content``: the handler produced nothing, RFC 9110 §15.3.5).
:func:`to_response` does that conversion; the protocol inlines the ``str`` case.

Every response type has :meth:`~_FieldMethods.set_cookie`, ``delete_cookie`` and ``add_vary``.
Errors are exceptions (:class:`HttpError`); :func:`render_error` gives an error the body the
client's ``Accept`` prefers: JSON, a small HTML page, or text (the default).

PERF: the header fields of a :class:`Response` are built once, in the constructor, as the list
of ``(name, value)`` pairs the writer takes, so writing it costs no Python-level work per field.
The exact type :class:`Response` takes the engine's fastest path; its subclasses go through
:func:`to_response` first (an ``isinstance`` check), and ``Response.html(...)``/``.text``/
``.json``/``.redirect`` build plain :class:`Response` objects for code that wants the fast path.

APPSEC: every header value, cookie and redirect target is validated before it can reach the
wire (CR/LF would split the response, RFC 9110 §5.5); the writer kernel checks the rest.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import html as _html
import json as _json
import mimetypes
import os
import re
import time
from collections.abc import AsyncIterable, Iterable, Mapping
from typing import Any, Callable
from urllib.parse import quote as _quote

try:  # PERF: orjson serialises several times faster than json; optional.
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None

from .errors import HttpError, RangeNotSatisfiable
from .ranges import (
    byteranges_content_type,
    content_range,
    make_boundary,
    multipart_byteranges,
    parse_range,
    unsatisfied_range,
)
from .writer import status_line as _status_line
from .writer import write_fields as _write_fields

__all__ = (
    "Response",
    "PlainTextResponse",
    "HTMLResponse",
    "JSONResponse",
    "RedirectResponse",
    "StreamingResponse",
    "MultipartStreamResponse",
    "FileResponse",
    "Upgrade",
    "to_response",
    "error_response",
    "render_error",
    "render_http_error",
    "reason",
    "json_dumps",
    "json_loads",
    "format_http_date",
    "parse_http_date",
    "check_preconditions",
    "content_disposition",
    "security_headers",
    "TEXT_TYPE",
    "HTML_TYPE",
    "JSON_TYPE",
    "OCTET_TYPE",
)

TEXT_TYPE = b"text/plain; charset=utf-8"
HTML_TYPE = b"text/html; charset=utf-8"
JSON_TYPE = b"application/json"
OCTET_TYPE = b"application/octet-stream"
_CT = b"Content-Type"

#: Ready-made field lists for the common bodies; shared, never mutated (the writer only reads).
TEXT_FIELDS = ((_CT, TEXT_TYPE),)
JSON_FIELDS = ((_CT, JSON_TYPE),)
OCTET_FIELDS = ((_CT, OCTET_TYPE),)

Fields = Iterable[tuple[Any, Any]]


if _orjson is not None:

    def json_dumps(value: Any) -> bytes:
        """Serialise *value* to compact UTF-8 JSON bytes (orjson)."""
        return _orjson.dumps(value)

    json_loads = _orjson.loads
else:  # pragma: no cover - depends on the environment
    _encoder = _json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

    def json_dumps(value: Any) -> bytes:
        """Serialise *value* to compact UTF-8 JSON bytes (stdlib json)."""
        return _encoder.encode(value).encode()

    json_loads = _json.loads


def _fields(headers: Mapping | Fields | None) -> list:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return list(headers.items())
    return list(headers)


def _lower_name(name: Any) -> bytes:
    return (name.encode("latin-1") if isinstance(name, str) else bytes(name)).lower()


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    return str(value)


def _has_field(fields: list, name: bytes) -> bool:
    for n, _ in fields:
        if _lower_name(n) == name:
            return True
    return False


def _get_field(fields: Iterable, name: bytes) -> str | None:
    for n, v in fields:
        if _lower_name(n) == name:
            return _text(v)
    return None


# -- HTTP dates (RFC 9110 §5.6.7) ---------------------------------------------------------------

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUMBER = {m: i + 1 for i, m in enumerate(_MONTHS)}
_M = "|".join(_MONTHS)
# RFC 9110 §5.6.7: recipients accept all three forms; the names are case-sensitive.
_IMF_FIXDATE = re.compile(rf"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d\d) ({_M}) (\d{{4}}) (\d\d):(\d\d):(\d\d) GMT")
_RFC850_DATE = re.compile(
    rf"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d\d)-({_M})-(\d\d) (\d\d):(\d\d):(\d\d) GMT"
)
_ASCTIME_DATE = re.compile(rf"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ({_M}) ([ \d]\d) (\d\d):(\d\d):(\d\d) (\d{{4}})")


def format_http_date(timestamp: float | _dt.datetime) -> str:
    """An IMF-fixdate (RFC 9110 §5.6.7): ``Sun, 06 Nov 1994 08:49:37 GMT``.

    *timestamp* is POSIX seconds (the fraction is dropped) or a ``datetime`` (a naive one is
    taken as UTC). Day and month names are fixed English, whatever the locale.
    """
    if isinstance(timestamp, _dt.datetime):
        if timestamp.tzinfo is None:
            timestamp = timestamp.replace(tzinfo=_dt.timezone.utc)
        timestamp = timestamp.timestamp()
    t = time.gmtime(int(timestamp))
    return "%s, %02d %s %04d %02d:%02d:%02d GMT" % (
        _DAYS[t.tm_wday],
        t.tm_mday,
        _MONTHS[t.tm_mon - 1],
        t.tm_year,
        t.tm_hour,
        t.tm_min,
        t.tm_sec,
    )


def parse_http_date(value: str | bytes | None) -> int | None:
    """POSIX seconds for an HTTP-date in any of its three forms (RFC 9110 §5.6.7), or ``None``
    when *value* is not one (recipients ignore an invalid date; callers decide what that means).

    A two-digit rfc850 year more than 50 years in the future is the most recent past year with
    those digits (RFC 9110 §5.6.7).
    """
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("latin-1")
    value = value.strip(" \t")
    m = _IMF_FIXDATE.fullmatch(value)
    if m is not None:
        day, month, year, hh, mm, ss = m.groups()
    else:
        m = _RFC850_DATE.fullmatch(value)
        if m is not None:
            day, month, yy, hh, mm, ss = m.groups()
            this_year = time.gmtime().tm_year
            year = this_year - this_year % 100 + int(yy)
            if year > this_year + 50:
                year -= 100
        else:
            m = _ASCTIME_DATE.fullmatch(value)
            if m is None:
                return None
            month, day, hh, mm, ss, year = m.groups()
    try:
        # datetime validates the calendar (no 31 Feb); a leap second (:60) counts as :59.
        when = _dt.datetime(int(year), _MONTH_NUMBER[month], int(day), int(hh), int(mm), min(int(ss), 59))
    except ValueError:
        return None
    return calendar.timegm(when.timetuple())


# -- cookies (RFC 6265 §4.1) ---------------------------------------------------------------------

# RFC 6265 §4.1.1: cookie-name = token (RFC 9110 §5.6.2).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# cookie-value = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE ); cookie-octet = %x21 / %x23-2B /
# %x2D-3A / %x3C-5B / %x5D-7E: no CTLs, whitespace, DQUOTE, comma, semicolon or backslash.
_COOKIE_VALUE = re.compile(r'[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*|"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*"')
# path-value = *<any CHAR except CTLs or ";">
_PATH_VALUE = re.compile(r"[\x20-\x3a\x3c-\x7e]*")
# domain-value = subdomain (RFC 1034 §3.5), with the leading dot user agents ignore.
_DOMAIN_VALUE = re.compile(r"\.?[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*")
_SAMESITE = {"strict": "Strict", "lax": "Lax", "none": "None"}
_EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"


def _cookie(
    name: str,
    value: str,
    max_age: int | _dt.timedelta | None,
    expires: _dt.datetime | float | str | None,
    path: str | None,
    domain: str | None,
    secure: bool,
    httponly: bool,
    samesite: str | None,
    partitioned: bool,
) -> str:
    if not isinstance(name, str) or not _TOKEN.fullmatch(name):
        raise ValueError(f"invalid cookie name {name!r} (RFC 6265 §4.1.1: a token)")
    if not isinstance(value, str) or not _COOKIE_VALUE.fullmatch(value):
        raise ValueError(
            f"invalid cookie value {value!r} (RFC 6265 §4.1.1: no control characters, whitespace, "
            '", comma, semicolon or backslash; encode it first)'
        )
    parts = [f"{name}={value}"]
    if expires is not None:
        if isinstance(expires, str):
            when = parse_http_date(expires)
            if when is None:
                raise ValueError(f"invalid cookie Expires {expires!r}: not an HTTP-date")
            expires = when
        elif not isinstance(expires, (int, float, _dt.datetime)) or isinstance(expires, bool):
            raise TypeError(f"expires is a datetime, POSIX seconds or an HTTP-date, not {type(expires).__name__}")
        # RFC 6265 §4.1.1: sane-cookie-date = rfc1123-date, i.e. the IMF-fixdate.
        parts.append("Expires=" + format_http_date(expires))
    if max_age is not None:
        if isinstance(max_age, _dt.timedelta):
            max_age = int(max_age.total_seconds())
        if not isinstance(max_age, int) or isinstance(max_age, bool):
            raise TypeError(f"max_age is an int or a timedelta, not {type(max_age).__name__}")
        # NOTE: RFC 6265 §4.1.1 writes max-age as non-zero-digit *DIGIT, but 0 is how a cookie
        # is deleted (user agents expire it at once, §5.2.2), so 0 is allowed; negatives are not.
        if max_age < 0:
            raise ValueError(f"max_age must be >= 0, got {max_age}")
        parts.append(f"Max-Age={max_age}")
    if domain is not None:
        if not isinstance(domain, str) or not _DOMAIN_VALUE.fullmatch(domain):
            raise ValueError(f"invalid cookie Domain {domain!r}")
        parts.append(f"Domain={domain}")
    if path is not None:
        if not isinstance(path, str) or not _PATH_VALUE.fullmatch(path):
            raise ValueError(f"invalid cookie Path {path!r} (RFC 6265 §4.1.1: no control characters or ';')")
        parts.append(f"Path={path}")
    if secure:
        parts.append("Secure")
    if httponly:
        parts.append("HttpOnly")
    if samesite is not None:
        canonical = _SAMESITE.get(samesite.lower()) if isinstance(samesite, str) else None
        if canonical is None:
            raise ValueError(f"samesite is 'strict', 'lax', 'none' or None, not {samesite!r}")
        if canonical == "None" and not secure:
            # RFC 6265bis §4.1.2.7 (and every current browser): SameSite=None requires Secure.
            raise ValueError("SameSite=None requires secure=True")
        parts.append(f"SameSite={canonical}")
    if partitioned:
        # CHIPS: a partitioned cookie must be Secure.
        if not secure:
            raise ValueError("a partitioned cookie requires secure=True")
        parts.append("Partitioned")
    # RFC 6265bis §4.1.3: the name prefixes are promises the user agent enforces; refuse a
    # cookie it would drop.
    if name.startswith("__Secure-") and not secure:
        raise ValueError("a __Secure- cookie requires secure=True")
    if name.startswith("__Host-") and (not secure or domain is not None or path != "/"):
        raise ValueError("a __Host- cookie requires secure=True, path='/' and no domain")
    return "; ".join(parts)


class _FieldMethods:
    """Header helpers shared by every response type (each keeps its fields in ``fields``)."""

    __slots__ = ()
    fields: list

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
        """Add a ``Set-Cookie`` field (RFC 6265 §4.1).

        The name must be a token and the value cookie-octets (optionally in double quotes):
        anything else is a ``ValueError``, never silently encoded. *expires* (a ``datetime``,
        POSIX seconds or an HTTP-date) is written as an IMF-fixdate; *max_age* in seconds (an
        int or a ``timedelta``). *samesite* is ``"strict"``, ``"lax"`` (the default) or
        ``"none"`` (which requires *secure*); ``None`` leaves the attribute out. The
        ``__Secure-`` and ``__Host-`` name prefixes are checked.
        """
        cookie = _cookie(name, value, max_age, expires, path, domain, secure, httponly, samesite, partitioned)
        self.fields.append(("Set-Cookie", cookie))

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
        cookie = _cookie(name, "", 0, None, path, domain, secure, httponly, samesite, False)
        # The epoch date, for user agents that predate Max-Age.
        name_value, _, rest = cookie.partition("; ")
        self.fields.append(("Set-Cookie", f"{name_value}; Expires={_EPOCH}; {rest}"))

    def add_vary(self, *names: str) -> None:
        """Add *names* to the ``Vary`` field (RFC 9110 §12.5.5), merging with one already there
        and keeping each name once (compared case-insensitively)."""
        fields = self.fields
        for i, (n, v) in enumerate(fields):
            if _lower_name(n) == b"vary":
                present = [p.strip() for p in _text(v).split(",") if p.strip()]
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


# -- in-memory responses -----------------------------------------------------------------------


class Response(_FieldMethods):
    """A complete response held in memory.

    ``body`` is ``bytes`` (or ``str``, encoded as UTF-8). ``headers`` is a mapping or an iterable
    of ``(name, value)`` pairs (``str`` or ``bytes``). ``content_type`` defaults to
    ``text/plain; charset=utf-8`` for a ``str`` body and ``application/octet-stream`` for a
    non-empty ``bytes`` body, unless ``headers`` already holds a Content-Type.

    ``Content-Length`` (and ``Date``, ``Connection``) are added by the engine; a HEAD request
    gets the head only (RFC 9110 §9.3.2).
    """

    __slots__ = ("status", "fields", "body")

    def __init__(
        self,
        body: bytes | bytearray | memoryview | str = b"",
        status: int = 200,
        headers: Mapping | Fields | None = None,
        content_type: str | bytes | None = None,
    ) -> None:
        if isinstance(body, str):
            body = body.encode()
            default_type = TEXT_TYPE
        else:
            default_type = OCTET_TYPE if body else None
        self.status = status
        self.body = body
        if headers is None:
            ctype = content_type if content_type is not None else default_type
            self.fields = [(_CT, ctype)] if ctype is not None else []
            return
        fields = _fields(headers)
        if content_type is not None:
            fields.insert(0, (_CT, content_type))
        elif default_type is not None and not _has_field(fields, b"content-type"):
            fields.insert(0, (_CT, default_type))
        self.fields = fields

    @classmethod
    def json(cls, value: Any, status: int = 200, headers: Mapping | Fields | None = None) -> Response:
        """A JSON response (``application/json``), as a plain :class:`Response`."""
        return Response(json_dumps(value), status, headers, JSON_TYPE)

    @classmethod
    def html(cls, content: str | bytes, status: int = 200, headers: Mapping | Fields | None = None) -> Response:
        """An HTML response (``text/html; charset=utf-8``), as a plain :class:`Response`."""
        return Response(content.encode() if isinstance(content, str) else content, status, headers, HTML_TYPE)

    @classmethod
    def text(cls, content: str | bytes, status: int = 200, headers: Mapping | Fields | None = None) -> Response:
        """A text response (``text/plain; charset=utf-8``), as a plain :class:`Response`."""
        return Response(content.encode() if isinstance(content, str) else content, status, headers, TEXT_TYPE)

    @classmethod
    def redirect(cls, url: str, status: int = 307, headers: Mapping | Fields | None = None) -> Response:
        """A redirect to *url* (see :class:`RedirectResponse`), as a plain :class:`Response`."""
        fields = _fields(headers)
        fields.append(("Location", _location(url, status)))
        return Response(b"", status, fields)

    @property
    def headers(self) -> list:
        """The header fields as ``(name, value)`` pairs (without the ones the engine adds)."""
        return self.fields

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status} {len(self.body)} bytes>"


def _typed(self: Response, content: Any, status: int, headers: Any, ctype: bytes) -> None:
    if isinstance(content, str):
        content = content.encode()
    fields = _fields(headers)
    # A Content-Type in *headers* wins over the class default.
    Response.__init__(self, content, status, fields, None if _has_field(fields, b"content-type") else ctype)


class PlainTextResponse(Response):
    """``text/plain; charset=utf-8``; a ``str`` body is encoded as UTF-8."""

    __slots__ = ()

    def __init__(self, content: str | bytes = "", status: int = 200, headers: Mapping | Fields | None = None) -> None:
        _typed(self, content, status, headers, TEXT_TYPE)


class HTMLResponse(Response):
    """``text/html; charset=utf-8``; a ``str`` body is encoded as UTF-8."""

    __slots__ = ()

    def __init__(self, content: str | bytes = "", status: int = 200, headers: Mapping | Fields | None = None) -> None:
        _typed(self, content, status, headers, HTML_TYPE)


class JSONResponse(Response):
    """*content* serialised as JSON (orjson when installed), ``application/json``."""

    __slots__ = ()

    def __init__(self, content: Any, status: int = 200, headers: Mapping | Fields | None = None) -> None:
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

    def __init__(self, url: str, status: int = 307, headers: Mapping | Fields | None = None) -> None:
        fields = _fields(headers)
        fields.append(("Location", _location(url, status)))
        Response.__init__(self, b"", status, fields)

    @property
    def location(self) -> str:
        return _get_field(self.fields, b"location") or ""


# -- streamed responses ------------------------------------------------------------------------


class StreamingResponse(_FieldMethods):
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
        content: AsyncIterable | Iterable,
        status: int = 200,
        headers: Mapping | Fields | None = None,
        content_type: str | bytes | None = None,
        *,
        content_length: int | None = None,
        trailers: Mapping | Fields | Callable[[], Any] | None = None,
    ) -> None:
        fields = _fields(headers)
        if content_type is not None:
            fields.insert(0, (_CT, content_type))
        elif not _has_field(fields, b"content-type"):
            fields.insert(0, (_CT, OCTET_TYPE))
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


async def _multipart_frames(frames: Any, boundary: bytes, default_type: Any) -> Any:
    """Frame each item of *frames* as one body part (RFC 2046 §5.1.1), yielding one bytes object
    per part so that each goes out as one chunk.

    Layout: ``--boundary CRLF fields CRLF data CRLF`` for each part, then ``--boundary--
    CRLF``. The CRLF after each part's data belongs to the next delimiter (RFC 2046 §5.1.1), so
    *data* itself is sent untouched.
    """
    delimiter = b"--" + boundary + b"\r\n"
    default_fields = [(_CT, default_type)] if default_type is not None else []
    is_async = hasattr(frames, "__aiter__")
    iterator = frames.__aiter__() if is_async else iter(frames)
    try:
        while True:
            if is_async:
                try:
                    item = await iterator.__anext__()
                except StopAsyncIteration:
                    break
            else:
                try:
                    item = next(iterator)
                except StopIteration:
                    break
            if isinstance(item, tuple):
                data, headers = item
                fields = _fields(headers)
                if default_type is not None and not _has_field(fields, b"content-type"):
                    fields.insert(0, (_CT, default_type))
            else:
                data, fields = item, default_fields
            if isinstance(data, str):
                data = data.encode()
            elif not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError(f"a multipart frame is bytes or (bytes, headers), not {type(data).__name__}")
            # Content-Length lets a client (a browser showing MJPEG) take the frame without
            # scanning it for the boundary.
            head = _write_fields(fields) + b"Content-Length: %d\r\n\r\n" % len(data)
            yield b"".join((delimiter, head, data, b"\r\n"))
        yield b"--" + boundary + b"--\r\n"
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
        frames: AsyncIterable | Iterable,
        status: int = 200,
        headers: Mapping | Fields | None = None,
        *,
        frame_type: str | bytes | None = "image/jpeg",
        subtype: str = "x-mixed-replace",
        boundary: str | None = None,
    ) -> None:
        if boundary is None:
            boundary = make_boundary()
        elif not isinstance(boundary, str) or not _BOUNDARY.fullmatch(boundary):
            raise ValueError(f"invalid multipart boundary {boundary!r}: 1 to 70 of A-Z a-z 0-9 ' + _ - .")
        if not _TOKEN.fullmatch(subtype):
            raise ValueError(f"invalid multipart subtype {subtype!r}")
        self.boundary = boundary
        content = _multipart_frames(frames, boundary.encode("ascii"), frame_type)
        StreamingResponse.__init__(self, content, status, headers, f"multipart/{subtype}; boundary={boundary}")


# -- files -------------------------------------------------------------------------------------

_DISPOSITION = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 8187 §3.2.1 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" /
# "_" / "`" / "|" / "~"; everything else is percent-encoded.
_ATTR_SAFE = "!#$&+-.^_`|~"


def content_disposition(filename: str | None = None, disposition: str = "attachment") -> str:
    """A ``Content-Disposition`` value (RFC 6266 §4) for *filename*.

    The name is reduced to its last path component with control characters removed. An
    ASCII-only name without ``"``, ``\\`` or ``%`` goes in ``filename="..."``; otherwise that
    parameter carries a fallback (each such character replaced with ``_``) and ``filename*``
    the exact name, UTF-8 and percent-encoded (RFC 8187), which current user agents prefer
    (RFC 6266 §4.3, Appendix D).
    """
    if not isinstance(disposition, str) or not _DISPOSITION.fullmatch(disposition):
        raise ValueError(f"invalid disposition type {disposition!r}")
    if filename is None:
        return disposition
    # APPSEC: a name with a path in it could steer the download elsewhere; CTLs could split
    # the field. Keep the last component only.
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c >= " " and c != "\x7f").strip()
    if name in ("", ".", ".."):
        name = "download"
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\%' else "_" for c in name)
    value = f'{disposition}; filename="{fallback}"'
    if fallback != name:
        value += "; filename*=UTF-8''" + _quote(name, safe=_ATTR_SAFE)
    return value


def _parse_etags(value: str) -> list[str] | None:
    """The entity-tags of an ``If-Match``/``If-None-Match`` list (RFC 9110 §8.8.3), each as
    written (``W/"x"`` or ``"x"``); ``None`` when the value is malformed. An entity-tag may
    contain commas, so the list is scanned, not split."""
    tags = []
    i, n = 0, len(value)
    while i < n:
        c = value[i]
        if c in " \t,":
            i += 1
            continue
        start = i
        if value.startswith("W/", i):
            i += 2
        if i >= n or value[i] != '"':
            return None
        end = value.find('"', i + 1)
        if end < 0:
            return None
        # etagc = %x21 / %x23-7E / obs-text: no CTLs or spaces inside.
        if any(ch < "!" or ch == "\x7f" for ch in value[i + 1 : end]):
            return None
        tags.append(value[start : end + 1])
        i = end + 1
        while i < n and value[i] in " \t":
            i += 1
        if i < n and value[i] != ",":
            return None
    return tags


def _strong_match(a: str, b: str) -> bool:
    # RFC 9110 §8.8.3.2: strong comparison: both strong and identical.
    return a == b and not a.startswith("W/")


def _weak_match(a: str, b: str) -> bool:
    # RFC 9110 §8.8.3.2: weak comparison: the opaque tags match, weakness ignored.
    return (a[2:] if a.startswith("W/") else a) == (b[2:] if b.startswith("W/") else b)


def _single(headers: Any, name: str) -> str | None:
    """The value of a field that must appear once; ``None`` when absent or repeated."""
    values = headers.getall(name)
    return values[0] if len(values) == 1 else None


def check_preconditions(
    method: str,
    headers: Any,
    etag: str | None = None,
    last_modified: int | None = None,
    *,
    exists: bool = True,
) -> int | None:
    """Evaluate the conditional request fields against the selected representation, in the
    order of RFC 9110 §13.2.2; returns ``304``, ``412`` or ``None`` (proceed).

    *headers* is the request's header view (``getall``); *etag* the current entity-tag as
    sent in ``ETag``; *last_modified* the modification time in POSIX seconds; *exists* whether
    a current representation exists. The caller evaluates preconditions only when the response
    would otherwise be 2xx (RFC 9110 §13.2.1). ``If-Range`` is :meth:`FileResponse.plan`'s.

    1. ``If-Match``: false (412) unless ``*`` with a representation or a strong match;
    2. without it, ``If-Unmodified-Since``: false (412) when modified after the date;
    3. ``If-None-Match``: false when ``*`` with a representation or a weak match: 304 for
       GET/HEAD, 412 otherwise;
    4. without it, for GET/HEAD, ``If-Modified-Since``: false (304) when not modified since.

    Invalid dates, repeated date fields and dates in the future are ignored (RFC 9110 §13.1.3,
    §13.1.4); a malformed ``If-Match`` is false, a malformed ``If-None-Match`` true.
    """
    get_or_head = method == "GET" or method == "HEAD"
    if_match = headers.getall("if-match")
    if if_match:
        value = ", ".join(if_match)
        if value.strip() == "*":
            ok = exists
        else:
            tags = _parse_etags(value)
            ok = bool(tags) and etag is not None and any(_strong_match(t, etag) for t in tags)
        if not ok:
            return 412
    elif last_modified is not None:
        since = parse_http_date(_single(headers, "if-unmodified-since"))
        if since is not None and last_modified > since:
            return 412
    if_none_match = headers.getall("if-none-match")
    if if_none_match:
        value = ", ".join(if_none_match)
        if value.strip() == "*":
            matched = exists
        else:
            tags = _parse_etags(value)
            matched = bool(tags) and etag is not None and any(_weak_match(t, etag) for t in tags)
        if matched:
            return 304 if get_or_head else 412
    elif get_or_head and last_modified is not None:
        since = parse_http_date(_single(headers, "if-modified-since"))
        if since is not None and since <= time.time() and last_modified <= since:
            return 304
    return None


def _if_range_holds(value: str, etag: str | None, last_modified: int | None) -> bool:
    """RFC 9110 §13.1.5: an entity-tag must match strongly; a date must equal Last-Modified."""
    value = value.strip(" \t")
    if value.startswith('"') or value.startswith("W/"):
        tags = _parse_etags(value)
        return etag is not None and tags is not None and len(tags) == 1 and _strong_match(tags[0], etag)
    date = parse_http_date(value)
    return date is not None and last_modified is not None and date == last_modified


# Fields a 304 keeps (RFC 9110 §15.4.5): everything but representation metadata, which the
# client already has. Last-Modified stays only when there is no ETag.
_NOT_FOR_304 = frozenset(
    (
        b"content-type",
        b"content-length",
        b"content-disposition",
        b"content-encoding",
        b"content-language",
        b"content-range",
        b"accept-ranges",
        b"transfer-encoding",
    )
)


def _not_modified(fields: list, etag: str | None) -> Response:
    kept = []
    for n, v in fields:
        name = _lower_name(n)
        if name in _NOT_FOR_304 or name == b"last-modified" and etag is not None:
            continue
        kept.append((n, v))
    return Response(b"", 304, kept)


def _content_type_for(path: str) -> str | bytes:
    guessed, encoding = mimetypes.guess_type(path)
    if not guessed or encoding:
        # NOTE: "x.tar.gz" is a gzip file to the user, not tar with Content-Encoding: gzip
        # (which a browser would decode on download).
        return OCTET_TYPE
    if guessed.startswith("text/") or guessed in ("application/javascript", "image/svg+xml"):
        # NOTE: text without a charset is read as windows-1252 by browsers; UTF-8 is the
        # usual encoding of files served today.
        return guessed + "; charset=utf-8"
    return guessed


class FileResponse(_FieldMethods):
    """A file from disk, ``sendfile``'d on plain TCP (zero copy) and read in chunks under TLS.

    ``Content-Type`` is guessed from the file name when not given (text types get ``charset=
    utf-8``; unknown or compressed files are ``application/octet-stream``); ``Content-Length``
    is the file size at the time the response is sent. A missing file answers ``404``.

    For a 2xx status, :meth:`plan` (run by the engine with the request) adds ``Last-Modified``
    (*last_modified*), an ``ETag`` (*etag*; strong by default, from the modification time in
    nanoseconds and the size, ``W/`` with *weak_etag*) unless *headers* already give them, and
    ``Accept-Ranges: bytes`` for a 200 (*accept_ranges*); then it answers the conditional
    request (304/412, RFC 9110 §13.2.2) and, for GET, a ``Range`` (206, ``multipart/
    byteranges`` for several ranges, 416 when none is satisfiable), subject to ``If-Range``.
    *max_ranges* caps the ranges of one request (more: the header is ignored, RFC 9110 §14.2).

    *filename* (or *disposition*) adds ``Content-Disposition`` (RFC 6266): ``attachment``
    unless *disposition* says ``inline``; see :func:`content_disposition`.
    """

    __slots__ = ("status", "fields", "path", "chunk_size", "etag", "weak_etag", "last_modified", "accept_ranges", "max_ranges")

    def __init__(
        self,
        path: str | os.PathLike,
        status: int = 200,
        headers: Mapping | Fields | None = None,
        content_type: str | bytes | None = None,
        *,
        chunk_size: int = 256 * 1024,
        filename: str | None = None,
        disposition: str | None = None,
        etag: bool = True,
        weak_etag: bool = False,
        last_modified: bool = True,
        accept_ranges: bool = True,
        max_ranges: int = 16,
    ) -> None:
        fields = _fields(headers)
        if content_type is None and not _has_field(fields, b"content-type"):
            content_type = _content_type_for(os.fspath(path))
        if content_type is not None:
            fields.insert(0, (_CT, content_type))
        if filename is not None or disposition is not None:
            if filename is None:
                filename = os.path.basename(os.fspath(path))
            fields.append(("Content-Disposition", content_disposition(filename, disposition or "attachment")))
        self.status = status
        self.fields = fields
        self.path = os.fspath(path)
        self.chunk_size = chunk_size
        self.etag = etag
        self.weak_etag = weak_etag
        self.last_modified = last_modified
        self.accept_ranges = accept_ranges
        self.max_ranges = max_ranges

    def plan(self, method: str, headers: Any, st: os.stat_result) -> Any:
        """What to send for a request (*method*, *headers*) when the opened file has stat *st*.

        Returns either a :class:`Response` to send instead (304, 412, 416), or a tuple
        ``(status, fields, parts, length)``: *parts* is a list whose items are ``bytes`` (sent
        as is) or ``(offset, count)`` spans of the file, and *length* their total, the
        ``Content-Length``. Does not mutate the response, which may serve many requests.
        """
        size = st.st_size
        status = self.status
        fields = list(self.fields)
        whole = [(0, size)]
        if not 200 <= status < 300:
            # RFC 9110 §13.2.1: preconditions are ignored when the response would not be 2xx.
            return status, fields, whole, size
        etag = _get_field(fields, b"etag")
        if etag is None and self.etag:
            # NOTE: strong, although derived from metadata: mtime has nanosecond resolution on
            # current filesystems, and the size is part of it (as nginx and Apache do).
            etag = '%s"%x-%x"' % ("W/" if self.weak_etag else "", st.st_mtime_ns, size)
            fields.append(("ETag", etag))
        lm_value = _get_field(fields, b"last-modified")
        if lm_value is not None:
            modified = parse_http_date(lm_value)
        elif self.last_modified:
            # RFC 9110 §8.8.2.1: a modification time in the future is replaced by the
            # message origination date.
            modified = min(int(st.st_mtime), int(time.time()))
            fields.append(("Last-Modified", format_http_date(modified)))
        else:
            modified = None
        ranged = self.accept_ranges and status == 200
        if ranged:
            fields.append(("Accept-Ranges", "bytes"))
        outcome = check_preconditions(method, headers, etag, modified)
        if outcome == 304:
            return _not_modified(fields, etag)
        if outcome == 412:
            return error_response(412)
        # RFC 9110 §14.2: Range is defined for GET only; other methods ignore it.
        if not ranged or method != "GET":
            return status, fields, whole, size
        value = _single(headers, "range")
        if value is None:
            return status, fields, whole, size
        if_range = headers.getall("if-range")
        if if_range and not (len(if_range) == 1 and _if_range_holds(if_range[0], etag, modified)):
            # RFC 9110 §13.1.5: the representation changed; send all of it.
            return status, fields, whole, size
        try:
            spans = parse_range(value, size, max_ranges=self.max_ranges)
        except RangeNotSatisfiable:
            # RFC 9110 §15.5.17: 416 with the current length.
            return Response(reason(416), 416, [(_CT, TEXT_TYPE), ("Content-Range", unsatisfied_range(size))])
        if spans is None:
            return status, fields, whole, size
        if len(spans) == 1:
            first, last = spans[0]
            fields.append(("Content-Range", content_range(first, last, size)))
            return 206, fields, [(first, last - first + 1)], last - first + 1
        # RFC 9110 §14.6: several ranges go as multipart/byteranges, each part with the
        # representation's Content-Type and its own Content-Range.
        boundary = make_boundary()
        ctype = None
        rest = []
        for n, v in fields:
            if _lower_name(n) == b"content-type":
                ctype = _text(v)
            else:
                rest.append((n, v))
        heads, closing = multipart_byteranges(spans, size, ctype, boundary)
        parts: list = []
        length = len(closing)
        for head, (first, last) in zip(heads, spans, strict=True):
            parts.append(head)
            parts.append((first, last - first + 1))
            length += len(head) + last - first + 1
        parts.append(closing)
        rest.insert(0, (_CT, byteranges_content_type(boundary)))
        return 206, rest, parts, length

    def __repr__(self) -> str:
        return f"<FileResponse {self.status} {self.path!r}>"


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
        headers: Mapping | Fields | None = None,
    ) -> None:
        self.status = status
        self.fields = _fields(headers)
        self.protocol_factory = protocol_factory


# -- errors ------------------------------------------------------------------------------------


def reason(status: int) -> str:
    """The reason phrase the writer sends for *status* (``"Not Found"``), or ``""``."""
    return _status_line(status)[13:-2].decode("latin-1")


def error_response(status: int, detail: str | None = None, headers=None) -> Response:
    """A small ``text/plain`` response for an error *status*."""
    return Response(reason(status) if detail is None else detail, status, headers)


_ERROR_TYPES = ("text/plain", "application/json", "text/html")
_negotiate: Any = None


def render_error(status: int, detail: Any = None, accept_header: Any = None, headers: Mapping | Fields | None = None) -> Response:
    """An error response whose body follows the client's ``Accept`` (RFC 9110 §12.5.1).

    *accept_header* is the ``Accept`` value (``str``/``bytes``), a request, or ``None``. Text
    (the default, also when nothing offered is acceptable: an error is never turned into a
    406) is the detail alone; JSON is ``{"error": {"status": 404, "reason": "Not Found",
    "detail": ...}}``; HTML is a small page with the detail escaped. *headers* follow the
    Content-Type, and ``Vary: Accept`` is added to them (merged into a ``Vary`` they carry).

    APPSEC: only *detail* reaches the client, never an exception or a traceback; a detail that
    is not a string is JSON-encoded in the text and HTML forms.
    """
    global _negotiate
    if _negotiate is None:
        from .negotiation import negotiate as _negotiate
    phrase = reason(status)
    if detail is None:
        detail = phrase
    kind = "text/plain" if accept_header is None else (_negotiate(accept_header, _ERROR_TYPES) or "text/plain")
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
    fields = _fields(headers)
    fields.insert(0, (_CT, ctype))
    response = Response(body, status, fields)
    response.add_vary("Accept")  # merged with a Vary the caller's headers already carry
    return response


def render_http_error(exc: HttpError, accept: Any = None) -> Response:
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
) -> list[tuple[str, str]]:
    """Security header fields to merge into responses (``headers=security_headers()``).

    - ``Strict-Transport-Security`` (RFC 6797): send it on HTTPS responses only; a user agent
      ignores it over plain HTTP (RFC 6797 §7.2). *preload* needs *include_subdomains* and a
      max-age of at least a year (hstspreload.org's rules).
    - ``X-Content-Type-Options: nosniff``: no MIME sniffing.
    - ``X-Frame-Options`` (RFC 7034): ``DENY`` or ``SAMEORIGIN``.
    - ``Content-Security-Policy``: only when *csp* is given (a policy has to fit the site).
    - ``Referrer-Policy`` and ``X-Permitted-Cross-Domain-Policies``.
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
    for name, value in out:
        # APPSEC: a CR/LF in a caller's policy string would split the response.
        if any(c < " " and c != "\t" or c == "\x7f" for c in value):
            raise ValueError(f"invalid {name} value {value!r}")
    return out


# -- plain values ------------------------------------------------------------------------------


def to_response(value: Any) -> Any:
    """Turn a handler's return value into one of the response types above.

    ``str`` -> text/plain UTF-8; ``bytes``/``bytearray``/``memoryview`` -> application/
    octet-stream; ``dict``/``list`` -> JSON; ``None`` -> ``204 No Content``; a response object is
    returned as is. Anything else is a ``TypeError`` (the engine answers it with a 500).
    """
    t = type(value)
    if t is Response or t is StreamingResponse or t is FileResponse or t is Upgrade:
        return value
    if t is str:
        return Response(value.encode(), 200, None, TEXT_TYPE)
    if t is bytes or t is bytearray or t is memoryview:
        return Response(value, 200, None, OCTET_TYPE)
    if t is dict or t is list:
        return Response(json_dumps(value), 200, None, JSON_TYPE)
    if value is None:
        return _NO_CONTENT
    if isinstance(value, (Response, StreamingResponse, FileResponse, Upgrade)):
        return value
    if isinstance(value, str):
        return Response(str(value).encode(), 200, None, TEXT_TYPE)
    if isinstance(value, (dict, list)):
        return Response(json_dumps(value), 200, None, JSON_TYPE)
    raise TypeError(f"a handler returned {t.__name__}; expected str, bytes, dict, list, None or a Response")


_NO_CONTENT = Response(b"", 204)
