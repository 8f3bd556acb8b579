"""Conditional requests (RFC 9110 §13): entity-tags, preconditions, ``If-Range`` and the 304.

Strategy: the selected representation is described by its validators, an entity-tag (as sent
in ``ETag``) and a modification time (POSIX seconds); the request's conditional fields are
evaluated against them in the order of RFC 9110 §13.2.2, and the outcome is a status (304, 412)
or ``None`` (proceed). Nothing here reads a file or builds a body: :class:`~fasthttp.files.
FileResponse` supplies the validators of a file, and a handler may call
:func:`check_preconditions` with the validators of anything it serves.

- Entity-tag lists are scanned, not split (an entity-tag may contain a comma, RFC 9110 §8.8.3);
  a malformed ``If-Match`` is false, a malformed ``If-None-Match`` true.
- Comparison is strong for ``If-Match`` and ``If-Range`` and weak for ``If-None-Match``
  (RFC 9110 §8.8.3.2).
- Dates are read by :func:`fasthttp.dates.parse_http_date`; an invalid date, a repeated date
  field and a date in the future are ignored (RFC 9110 §13.1.3, §13.1.4).
- :func:`not_modified` builds the 304 from the fields the 200 would have carried, without the
  representation metadata the client already has (RFC 9110 §15.4.5).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .dates import parse_http_date
from .responses import Fields, Response, lower_name

if TYPE_CHECKING:
    from .headers import Headers

__all__ = (
    "parse_etags",
    "strong_match",
    "weak_match",
    "single_value",
    "check_preconditions",
    "if_range_allows",
    "not_modified",
)


def parse_etags(value: str) -> list[str] | None:
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


def strong_match(a: str, b: str) -> bool:
    """RFC 9110 §8.8.3.2: strong comparison: both entity-tags strong and identical."""
    return a == b and not a.startswith("W/")


def weak_match(a: str, b: str) -> bool:
    """RFC 9110 §8.8.3.2: weak comparison: the opaque tags match, weakness ignored."""
    return (a[2:] if a.startswith("W/") else a) == (b[2:] if b.startswith("W/") else b)


def single_value(headers: Headers, name: str) -> str | None:
    """The value of a field that must appear once; ``None`` when absent or repeated."""
    values = headers.getall(name)
    return values[0] if len(values) == 1 else None


def check_preconditions(
    method: str,
    headers: Headers,
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
    would otherwise be 2xx (RFC 9110 §13.2.1). ``If-Range`` is :func:`if_range_allows`'s.

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
            tags = parse_etags(value)
            ok = tags is not None and etag is not None and any(strong_match(t, etag) for t in tags)
        if not ok:
            return 412
    elif last_modified is not None:
        since = parse_http_date(single_value(headers, "if-unmodified-since"))
        if since is not None and last_modified > since:
            return 412
    if_none_match = headers.getall("if-none-match")
    if if_none_match:
        value = ", ".join(if_none_match)
        if value.strip() == "*":
            matched = exists
        else:
            tags = parse_etags(value)
            matched = tags is not None and etag is not None and any(weak_match(t, etag) for t in tags)
        if matched:
            return 304 if get_or_head else 412
    elif get_or_head and last_modified is not None:
        since = parse_http_date(single_value(headers, "if-modified-since"))
        if since is not None and since <= time.time() and last_modified <= since:
            return 304
    return None


def _if_range_holds(value: str, etag: str | None, last_modified: int | None) -> bool:
    """RFC 9110 §13.1.5: an entity-tag must match strongly; a date must equal Last-Modified."""
    value = value.strip(" \t")
    if value.startswith('"') or value.startswith("W/"):
        tags = parse_etags(value)
        return etag is not None and tags is not None and len(tags) == 1 and strong_match(tags[0], etag)
    date = parse_http_date(value)
    return date is not None and last_modified is not None and date == last_modified


def if_range_allows(headers: Headers, etag: str | None, last_modified: int | None) -> bool:
    """Whether a ``Range`` may be honoured (RFC 9110 §13.1.5): there is no ``If-Range``, or one
    whose validator matches the current representation; ``False`` means the representation
    changed, so the whole of it is sent (200). A repeated ``If-Range`` never holds."""
    if_range = headers.getall("if-range")
    return not if_range or len(if_range) == 1 and _if_range_holds(if_range[0], etag, last_modified)


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


def not_modified(fields: Fields, etag: str | None) -> Response:
    """The 304 for a representation whose 200 would carry *fields* (RFC 9110 §15.4.5): the
    fields the client lacks are kept (``ETag``, ``Cache-Control``, ``Vary``, ``Set-Cookie``,
    ...), representation metadata is left out, and ``Last-Modified`` stays only without an
    *etag*."""
    kept = []
    for n, v in fields:
        name = lower_name(n)
        if name in _NOT_FOR_304 or name == b"last-modified" and etag is not None:
            continue
        kept.append((n, v))
    return Response(b"", 304, kept)
