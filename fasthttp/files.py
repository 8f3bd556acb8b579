"""Files as responses: :class:`FileResponse`, ``Content-Disposition`` and the type guess.

Strategy: a :class:`FileResponse` is a description (a path and options), not an open file.
The engine opens and ``fstat``'s the file, then calls :meth:`FileResponse.plan` with the
request method, its header view and the stat; the plan adds the validators (``Last-Modified``,
``ETag``), evaluates the conditional request (RFC 9110 §13.2.2: 304, 412; the rules are
``fasthttp.conditional``'s) and the ``Range`` (RFC 9110 §14: 206 with one range or
``multipart/byteranges``, 416) through the ranges kernel, and returns what to write: the
engine sends the spans with ``sendfile`` on plain TCP (zero copy; the socket's unsent backlog
bounded by ``Config.sendfile_lowat``, see ``fasthttp.protocol``) and reads them in chunks
under TLS. The plan never mutates the response, so one object may serve many requests.

:func:`content_disposition` writes the ``Content-Disposition`` of a download (RFC 6266, with
the RFC 8187 ``filename*`` form for names that are not plain ASCII); :func:`guess_content_type`
guesses a ``Content-Type`` from a file name.
"""

from __future__ import annotations

import mimetypes
import os
import time
from typing import TYPE_CHECKING
from urllib.parse import quote as _quote

from ._grammar import TOKEN
from .conditional import RangePlan, evaluate, select_ranges
from .dates import format_http_date, parse_http_date
from .media import ATTR_CHAR_SAFE
from .responses import (
    CONTENT_TYPE,
    OCTET_TYPE,
    FieldMethods,
    HeadersLike,
    Response,
    field_list,
    field_text,
    has_field,
    lower_name,
)

if TYPE_CHECKING:
    from .headers import Headers

__all__ = ("FileResponse", "FilePlan", "content_disposition", "guess_content_type")

#: What :meth:`FileResponse.plan` returns to send the file: ``(status, fields, parts,
#: length)``; each part is ``bytes`` (sent as is) or an ``(offset, count)`` span of the file.
FilePlan = RangePlan


def content_disposition(filename: str | None = None, disposition: str = "attachment") -> str:
    """A ``Content-Disposition`` value (RFC 6266 §4) for *filename*.

    The name is reduced to its last path component with control characters removed. An
    ASCII-only name without ``"``, ``\\`` or ``%`` goes in ``filename="..."``; otherwise that
    parameter carries a fallback (each such character replaced with ``_``) and ``filename*``
    the exact name, UTF-8 and percent-encoded (RFC 8187), which current user agents prefer
    (RFC 6266 §4.3, Appendix D).
    """
    if not isinstance(disposition, str) or not TOKEN.fullmatch(disposition):
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
        value += "; filename*=UTF-8''" + _quote(name, safe=ATTR_CHAR_SAFE)
    return value


def guess_content_type(path: str | os.PathLike[str]) -> str | bytes:
    """The ``Content-Type`` for a file named *path*, from its extension (``mimetypes``): text
    types get ``charset=utf-8``; unknown and compressed files are ``application/octet-stream``."""
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


_last_date: tuple[int, str] = (-1, "")


def _http_date(seconds: int) -> str:
    """``format_http_date(seconds)``, remembered for the last value: PERF, a file served again
    and again formats its ``Last-Modified`` once."""
    global _last_date
    last = _last_date
    if last[0] != seconds:
        last = _last_date = (seconds, format_http_date(seconds))
    return last[1]


class FileResponse(FieldMethods):
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
        path: str | os.PathLike[str],
        status: int = 200,
        headers: HeadersLike = None,
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
        fields = field_list(headers)
        if content_type is None and not has_field(fields, b"content-type"):
            content_type = guess_content_type(os.fspath(path))
        if content_type is not None:
            fields.insert(0, (CONTENT_TYPE, content_type))
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

    def plan(self, method: str, headers: Headers, st: os.stat_result) -> Response | FilePlan:
        """What to send for a request (*method*, *headers*) when the opened file has stat *st*.

        Returns either a :class:`Response` to send instead (304, 412, 416), or a tuple
        ``(status, fields, parts, length)``: *parts* is a list whose items are ``bytes`` (sent
        as is) or ``(offset, count)`` spans of the file, and *length* their total, the
        ``Content-Length``. Does not mutate the response, which may serve many requests.
        """
        size = st.st_size
        status = self.status
        fields = list(self.fields)
        whole: list[bytes | tuple[int, int]] = [(0, size)]
        if not 200 <= status < 300:
            # RFC 9110 §13.2.1: preconditions are ignored when the response would not be 2xx.
            return status, fields, whole, size
        # PERF: one pass over the fields for both validators (the length first, as has_field).
        etag = lm_value = None
        for n, v in fields:
            if len(n) == 4 or len(n) == 13:
                low = lower_name(n)
                if low == b"etag":
                    if etag is None:
                        etag = field_text(v)
                elif low == b"last-modified" and lm_value is None:
                    lm_value = field_text(v)
        if etag is None and self.etag:
            # NOTE: strong, although derived from metadata: mtime has nanosecond resolution on
            # current filesystems, and the size is part of it (as nginx and Apache do).
            etag = '%s"%x-%x"' % ("W/" if self.weak_etag else "", st.st_mtime_ns, size)
            fields.append(("ETag", etag))
        if lm_value is not None:
            modified = range_date = parse_http_date(lm_value)
        elif self.last_modified:
            # RFC 9110 §8.8.2.1: a modification time in the future is replaced by the
            # message origination date.
            now = int(time.time())
            modified = min(int(st.st_mtime), now)
            fields.append(("Last-Modified", _http_date(modified)))
            # RFC 9110 §13.1.5, §8.8.2.2: an If-Range date holds only against a strong
            # Last-Modified; a file modified in the current second (or in the future) may change
            # again under the same date, so there the date never matches (the whole file is sent).
            range_date = modified if modified < now else None
        else:
            modified = range_date = None
        ranged = self.accept_ranges and status == 200
        if ranged:
            fields.append(("Accept-Ranges", "bytes"))
        answer = evaluate(method, headers, fields, etag, modified)
        if answer is not None:
            return answer
        if not ranged:
            return status, fields, whole, size
        plan = select_ranges(method, headers, fields, size, etag, range_date, self.max_ranges)
        return (status, fields, whole, size) if plan is None else plan

    def __repr__(self) -> str:
        return f"<FileResponse {self.status} {self.path!r}>"
