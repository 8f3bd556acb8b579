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

The one implementation every representation shares: :func:`evaluate` (validators in, 304/412
out) and :func:`select_ranges` (``Range`` and ``If-Range`` in, 206/``multipart/byteranges``/416
out, through the ranges kernel) serve both :meth:`~fasthttp.files.FileResponse.plan` (spans of
a file) and :func:`conditional_response` (an in-memory body, whose ``ETag`` is
:func:`entity_tag` of its bytes unless the handler supplied one): what the
``ConditionalRequests`` middleware and the ``ranges=True`` route option apply.
:func:`precondition_required` is the opt-in 428 (RFC 6585 §3).
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import TYPE_CHECKING, Any, Union

from .dates import parse_http_date
from .errors import HttpError, RangeNotSatisfiable
from .ranges import (
    byteranges_content_type,
    content_range,
    make_boundary,
    multipart_byteranges,
    parse_range,
    unsatisfied_range,
)
from .responses import (
    CONTENT_TYPE,
    TEXT_TYPE,
    Fields,
    Response,
    error_response,
    field_text,
    get_field,
    lower_name,
    reason,
)

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
    "entity_tag",
    "evaluate",
    "select_ranges",
    "RangePlan",
    "conditional_response",
    "precondition_required",
    "SAFE_METHODS",
)

#: What :func:`select_ranges` returns to send: ``(status, fields, parts, length)``; each part is
#: ``bytes`` (sent as is) or an ``(offset, count)`` span of the representation.
RangePlan = tuple[int, list[tuple[Any, Any]], list[Union[bytes, tuple[int, int]]], int]

#: RFC 9110 §9.2.1: the safe methods (no precondition is required of them).
SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS", "TRACE"))


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


# -- shared by every representation -------------------------------------------------------------


def entity_tag(content: bytes | bytearray | memoryview, weak: bool = False) -> str:
    """A strong (or, with *weak*, weak) entity-tag for *content*: a 128-bit BLAKE2b digest,
    base64url, so equal bytes always get the same tag and different bytes practically never
    (RFC 9110 §8.8.3: a strong validator changes with every change of the content)."""
    digest = base64.urlsafe_b64encode(hashlib.blake2b(content, digest_size=16).digest()).rstrip(b"=")
    return ('W/"%s"' if weak else '"%s"') % digest.decode("ascii")


def evaluate(method: str, headers: Headers, fields: Fields, etag: str | None, last_modified: int | None) -> Response | None:
    """The response that answers the preconditions instead of the representation whose 200
    would carry *fields*: the 304 (:func:`not_modified`) or a 412; ``None`` to proceed."""
    outcome = check_preconditions(method, headers, etag, last_modified)
    if outcome == 304:
        return not_modified(fields, etag)
    if outcome == 412:
        return error_response(412)
    return None


def select_ranges(
    method: str,
    headers: Headers,
    fields: list[tuple[Any, Any]],
    size: int,
    etag: str | None,
    last_modified: int | None,
    max_ranges: int = 16,
) -> RangePlan | Response | None:
    """Apply the request's ``Range`` to a 200 representation of *size* bytes with *fields*:
    ``None`` to send all of it (no Range, not GET, an ``If-Range`` that does not hold, a
    Range that is ignored), a 416 :class:`Response`, or the :data:`RangePlan` of a 206: one
    range with ``Content-Range``, or several as ``multipart/byteranges`` (RFC 9110 §14.6).
    More than *max_ranges* ranges: the header is ignored (RFC 9110 §14.2 allows it)."""
    # RFC 9110 §14.2: Range is defined for GET only; other methods ignore it.
    if method != "GET":
        return None
    value = single_value(headers, "range")
    if value is None:
        return None
    if not if_range_allows(headers, etag, last_modified):
        return None  # RFC 9110 §13.1.5: the representation changed; send all of it.
    try:
        spans = parse_range(value, size, max_ranges=max_ranges)
    except RangeNotSatisfiable:
        # RFC 9110 §15.5.17: 416 with the current length.
        return Response(reason(416), 416, [(CONTENT_TYPE, TEXT_TYPE), ("Content-Range", unsatisfied_range(size))])
    if spans is None:
        return None
    if len(spans) == 1:
        first, last = spans[0]
        out = [*fields, ("Content-Range", content_range(first, last, size))]
        return 206, out, [(first, last - first + 1)], last - first + 1
    # RFC 9110 §14.6: several ranges go as multipart/byteranges, each part with the
    # representation's Content-Type and its own Content-Range.
    boundary = make_boundary()
    ctype = None
    rest = []
    for n, v in fields:
        if lower_name(n) == b"content-type":
            ctype = field_text(v)
        else:
            rest.append((n, v))
    heads, closing = multipart_byteranges(spans, size, ctype, boundary)
    parts: list[bytes | tuple[int, int]] = []
    length = len(closing)
    for head, (first, last) in zip(heads, spans, strict=True):
        parts.append(head)
        parts.append((first, last - first + 1))
        length += len(head) + last - first + 1
    parts.append(closing)
    rest.insert(0, (CONTENT_TYPE, byteranges_content_type(boundary)))
    return 206, rest, parts, length


def conditional_response(
    method: str,
    headers: Headers,
    response: Response,
    *,
    etag: bool = True,
    weak: bool = False,
    ranges: bool = False,
    max_ranges: int = 16,
) -> Response:
    """*response* (an in-memory 2xx) as the conditional request and the ``Range`` make it.

    Its validators: the ``ETag`` it carries, else (*etag*) :func:`entity_tag` of its body
    (``W/`` with *weak*), and the ``Last-Modified`` it carries. Then the preconditions
    (:func:`evaluate`: 304, 412) and, with *ranges*, ``Accept-Ranges: bytes`` and the
    ``Range`` of a GET on a 200 (:func:`select_ranges`: 206, 416). A response of another
    status is returned as is (RFC 9110 §13.2.1). *response* is never mutated.
    """
    status = response.status
    if not 200 <= status < 300:
        return response
    fields = list(response.fields)
    tag = get_field(fields, b"etag")
    if tag is None and etag:
        tag = entity_tag(response.body, weak)
        fields.append(("ETag", tag))
    modified = parse_http_date(get_field(fields, b"last-modified"))
    ranged = ranges and status == 200
    if ranged:
        fields.append(("Accept-Ranges", "bytes"))
    answer = evaluate(method, headers, fields, tag, modified)
    if answer is not None:
        return answer
    body = response.body
    if ranged:
        plan = select_ranges(method, headers, fields, len(body), tag, modified, max_ranges)
        if isinstance(plan, Response):
            return plan
        if plan is not None:
            status, fields, parts, _ = plan
            view = memoryview(body)
            body = b"".join(p if type(p) is bytes else view[p[0] : p[0] + p[1]] for p in parts)
    if fields == response.fields and body is response.body:
        return response
    return Response(body, status, fields)


def precondition_required(method: str, headers: Headers) -> HttpError | None:
    """RFC 6585 §3: the ``428 Precondition Required`` for a request with an unsafe *method*
    that carries neither ``If-Match`` nor ``If-Unmodified-Since`` (the "lost update" guard);
    ``None`` when it may proceed."""
    if method in SAFE_METHODS or headers.getall("if-match") or headers.getall("if-unmodified-since"):
        return None
    return HttpError(428, "Precondition Required: send If-Match with the ETag you last read")
