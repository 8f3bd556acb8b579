"""Static files: a path join that never leaves its root, and a handler serving a directory tree.

Strategy: an untrusted path is never normalized, it is *checked*. It is split on ``/`` first and
each segment percent-decoded after that (RFC 3986 §2.1, §7.3), so an encoded ``%2F`` can never
create a separator; then a segment is refused outright if it is ``..``, holds a NUL, a ``/`` or
a ``\\``, is a drive or an absolute path on the running platform, or (by default) starts with a
dot. Empty and ``.`` segments are skipped, which makes a leading ``/`` harmless: an "absolute"
path is relative to the root. The joined path is then resolved with ``os.path.realpath`` and
must still lie inside the resolved root, so a symbolic link cannot lead out of it either
(``follow_symlinks=True`` trusts links instead). Whatever is refused answers 404, never 403,
so the response does not tell whether the target exists (malformed percent-encoding or invalid
UTF-8 is 400).

:func:`static_files` wraps this into a handler: ``GET``/``HEAD`` only (else 405 with
``Allow``), a regular file becomes a :class:`~fasthttp.files.FileResponse` (so Range,
conditional requests, ``ETag`` and ``Last-Modified`` come with it), a directory requested
without its trailing slash is redirected (308) to the slash form, a directory with it serves
its index file (under a route parameter, where the router removes trailing slashes, the index
is served without the redirect). Devices, FIFOs and sockets are never opened (a FIFO would
block the loop).

APPSEC: the check and the ``open`` are separate system calls, so someone who can write into the
root can race a symlink into place between them (TOCTOU); do not serve a tree that untrusted
parties write to with ``follow_symlinks=True``, and prefer a root they cannot write at all.
On Windows a segment with ``:`` (drives, alternate data streams) or a trailing dot or space
(which the file system strips) is refused too.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, unquote_to_bytes

from .errors import HttpError
from .files import FileResponse, guess_content_type
from .negotiation import negotiate_encoding
from .requests import Request
from .responses import RedirectResponse

__all__ = ("path_join_safe", "split_url_path", "static_files")

_WINDOWS = os.name == "nt"
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def split_url_path(path: str) -> list[str] | None:
    """The segments of a raw (percent-encoded) URL path, each decoded as UTF-8; ``None`` when
    an escape is malformed or the bytes are not UTF-8.

    The path is split on ``/`` before decoding, so ``a%2Fb`` is one segment ``a/b`` (which
    :func:`path_join_safe` then refuses). Characters above U+007F are taken as the raw bytes
    the parser received (latin-1), like their percent-encoded form.
    """
    segments = []
    for raw in path.split("/"):
        if raw.isascii() and "%" not in raw:
            segments.append(raw)  # the common case: nothing to decode
            continue
        if _BAD_ESCAPE.search(raw):
            return None
        try:
            data = raw.encode("latin-1")
        except UnicodeEncodeError:  # a str that did not come from the parser
            data = raw.encode()
        try:
            segments.append(unquote_to_bytes(data).decode("utf-8"))
        except UnicodeDecodeError:
            return None
    return segments


def _clean(segments: Iterable[str], allow_hidden: bool) -> list[str] | None:
    parts = []
    for seg in segments:
        if seg == "" or seg == ".":
            continue
        if seg == "..":
            return None
        if "\x00" in seg or "/" in seg or "\\" in seg:
            return None
        if not allow_hidden and seg[0] == ".":
            return None
        if _WINDOWS and (":" in seg or seg[-1] in ". "):  # pragma: no cover - Windows only
            return None
        if os.path.isabs(seg) or os.path.splitdrive(seg)[0]:  # pragma: no cover - Windows only
            return None
        parts.append(seg)
    return parts


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root if root.endswith(os.sep) else root + os.sep)


def _resolve(real_root: str, segments: Iterable[str], follow_symlinks: bool, allow_hidden: bool) -> str | None:
    parts = _clean(segments, allow_hidden)
    if parts is None:
        return None
    candidate = os.path.join(real_root, *parts)
    # APPSEC: one stat first (the kernel walks the path, bounded by PATH_MAX and stopping at
    # the first missing segment); realpath, which costs one lstat per segment, only runs for
    # a path that exists. Before, a 4,000-segment path that did not exist cost ~25 ms of CPU.
    if not os.path.exists(candidate):
        return None
    if follow_symlinks:
        return candidate
    real = os.path.realpath(candidate)
    if not _inside(real, real_root) or not os.path.exists(real):
        return None
    return real


def path_join_safe(
    root: str | os.PathLike[str],
    filename: str,
    *,
    follow_symlinks: bool = False,
    allow_hidden: bool = True,
) -> str | None:
    """Join the trusted directory *root* and the untrusted relative path *filename*: the path
    of an existing file or directory inside *root*, or ``None``.

    *filename* is a decoded path (``/``-separated; see :func:`split_url_path` for URL paths).
    ``None`` when it holds a ``..`` segment, a NUL or a backslash, when it does not exist,
    when (unless *follow_symlinks*) its resolved path leaves the resolved root, or when a
    segment starts with a dot and not *allow_hidden*. A leading ``/`` means the root.
    """
    if not isinstance(filename, str):
        raise TypeError(f"filename is a str, not {type(filename).__name__}")
    real_root = os.path.realpath(os.fspath(root))
    return _resolve(real_root, filename.split("/"), follow_symlinks, allow_hidden)


def _route_value(request: Request, param: str) -> tuple[bool, Any]:
    """``(routed, value)``: whether the handler is mounted on a pattern with parameters (such
    as ``"/static/:path*"``), and the value of *param* (already decoded by the router).

    A pattern whose one parameter has another name (``"/s/:file*"``) serves that parameter:
    read as unrouted, the mount would redirect ``/s/sub`` to ``/s/sub/`` and the router's
    trailing-slash policy back again, a 308 loop. A pattern with several parameters and none
    named *param* is a configuration error (a 500 with the reason in the log)."""
    for attr in ("params", "path_params"):
        params = getattr(request, attr, None)
        if params:
            try:
                if param in params:
                    return True, params.get(param)
                names = list(params.keys())
            except AttributeError:  # pragma: no cover - not a mapping
                return False, None
            if len(names) == 1:
                return True, params.get(names[0])
            raise LookupError(f"static_files: the route has no parameter {param!r} (it has {names}); pass param=")
    return False, None


_PATH_SAFE = ":/?#[]@!$&'()*+,;=%~-._"


def static_files(
    root: str | os.PathLike[str],
    *,
    index: str | None = "index.html",
    follow_symlinks: bool = False,
    allow_hidden: bool = False,
    param: str = "path",
    prefix: str = "",
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    precompressed: bool | Iterable[str] = False,
    **file_options: Any,
) -> Callable[[Request], FileResponse | RedirectResponse]:
    """A handler serving the files under *root*: ``handler(request) -> FileResponse`` (or a 308
    to the directory's slash form), raising
    ``HttpError`` 404 (no such file, or refused), 400 (malformed percent-encoding) or 405.

    The file path comes from the route parameter *param* when the handler is mounted on a
    pattern (``app.get("/static/:path*")``), else from the request path with *prefix* removed
    (``prefix="/static"``; empty: the whole path). *index* names the file served for a
    directory (``None``: directories are 404). A directory asked for without its trailing
    slash is redirected (308) to the slash form, except under a route parameter: the router's
    trailing-slash policy sends ``/static/sub/`` to ``/static/sub`` (``fasthttp.routing``), so
    there the index is served at the slash-less path (NOTE: relative links in such an index
    page resolve against the parent directory). Dot files are 404 unless *allow_hidden*
    (``/.well-known/`` needs it). *headers* (e.g. ``Cache-Control``) and *file_options*
    (:class:`~fasthttp.files.FileResponse` keywords) go to every file response.

    *precompressed* (``True``, or codings among ``"br"``, ``"zstd"``, ``"gzip"`` in order of
    preference): serve the sibling ``x.br``/``x.zst``/``x.gz`` of a file ``x``, when it exists
    and the client's ``Accept-Encoding`` prefers that coding, as ``x`` with that
    ``Content-Encoding`` (the type is ``x``'s, the validators and ranges the sibling's, RFC
    9110 §8.4), with ``Vary: Accept-Encoding`` whenever a sibling exists. The sibling passes
    the same checks as the file (inside the root, a regular file). No sibling: ``x`` itself.
    """
    real_root = os.path.realpath(os.fspath(root))
    if not os.path.isdir(real_root):
        raise ValueError(f"static root {os.fspath(root)!r} is not a directory")
    if index is not None and (not index or "/" in index or "\\" in index or index in (".", "..")):
        raise ValueError(f"index is a file name, not {index!r}")
    if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
        raise ValueError(f"prefix starts with '/' and does not end with one: {prefix!r}")
    extra = list(headers.items()) if isinstance(headers, Mapping) else list(headers or ())
    allow = [("Allow", "GET, HEAD")]
    siblings = _precompressed(precompressed)

    def serve_static(request: Request) -> FileResponse | RedirectResponse:
        if request.method != "GET" and request.method != "HEAD":
            raise HttpError(405, headers=allow)
        raw = request.path
        routed, value = _route_value(request, param)
        segments: list[str] | None
        if routed:
            if value is None:
                value = ()
            segments = list(value) if isinstance(value, (tuple, list)) else str(value).split("/")
        else:
            if prefix:
                if raw != prefix and not raw.startswith(prefix + "/"):
                    raise HttpError(404)
                rest = raw[len(prefix) :]
            else:
                rest = raw
            segments = split_url_path(rest)
            if segments is None:
                raise HttpError(400, "malformed percent-encoding or invalid UTF-8 in the path")
        path = _resolve(real_root, segments, follow_symlinks, allow_hidden)
        if path is None:
            raise HttpError(404)
        try:
            mode = os.stat(path).st_mode
            if stat.S_ISDIR(mode):
                if not raw.endswith("/") and not routed:
                    # RFC 9110 §15.4.9: 308 keeps the method. APPSEC: leading slashes are
                    # collapsed, so "//evil.example/" cannot become a network-path reference.
                    location = "/" + quote(raw.encode("latin-1", "replace"), safe=_PATH_SAFE).lstrip("/") + "/"
                    if request.query:
                        location += "?" + quote(request.query.encode("latin-1", "replace"), safe=_PATH_SAFE)
                    return RedirectResponse(location, 308)
                if index is None:
                    raise HttpError(404)
                segments = [*segments, index]
                path = _resolve(real_root, segments, follow_symlinks, allow_hidden)
                if path is None:
                    raise HttpError(404)
                mode = os.stat(path).st_mode
        except OSError:
            raise HttpError(404) from None
        if not stat.S_ISREG(mode):
            raise HttpError(404)
        if siblings:
            coded = _coded_sibling(request, real_root, segments, siblings, follow_symlinks, allow_hidden)
            if coded is not None:
                return _sibling_response(path, coded, extra, file_options)
        return FileResponse(path, headers=extra, **file_options)

    serve_static.root = real_root  # type: ignore[attr-defined]
    return serve_static


# -- precompressed siblings -------------------------------------------------------------------------

#: The file-name suffix of each content coding's precompressed sibling (gzip, brotli, zstd tools'
#: own suffixes).
SIBLING_SUFFIXES = {"br": ".br", "zstd": ".zst", "gzip": ".gz"}


def _precompressed(option: bool | Iterable[str]) -> tuple[str, ...]:
    if option is False:
        return ()
    if option is True:
        return tuple(SIBLING_SUFFIXES)
    codings = tuple(c.lower() for c in option)
    for coding in codings:
        if coding not in SIBLING_SUFFIXES:
            raise ValueError(f"precompressed lists codings among {', '.join(SIBLING_SUFFIXES)}, not {coding!r}")
    return codings


def _coded_sibling(
    request: Request, real_root: str, segments: list[str], codings: tuple[str, ...], follow_symlinks: bool, allow_hidden: bool
) -> tuple[str | None, str] | None:
    """``(sibling path or None for the file itself, coding)`` when the file has precompressed
    siblings (so the answer varies with ``Accept-Encoding``); ``None`` when it has none."""
    parts = [s for s in segments if s not in ("", ".")]
    if not parts:
        return None
    present = []
    for coding in codings:
        sibling = _resolve(real_root, [*parts[:-1], parts[-1] + SIBLING_SUFFIXES[coding]], follow_symlinks, allow_hidden)
        if sibling is not None and os.path.isfile(sibling):
            present.append((coding, sibling))
    if not present:
        return None
    chosen = negotiate_encoding(request, [c for c, _ in present] + ["identity"])
    for coding, sibling in present:
        if coding == chosen:
            return sibling, coding
    return None, "identity"


def _sibling_response(path: str, coded: tuple[str | None, str], extra: list[tuple[str, str]], file_options: dict[str, Any]) -> FileResponse:
    sibling, coding = coded
    fields = [*extra, ("Vary", "Accept-Encoding")]
    if sibling is None:
        return FileResponse(path, headers=fields, **file_options)
    options = dict(file_options)
    options.setdefault("content_type", guess_content_type(path))
    if options.get("disposition") is not None and options.get("filename") is None:
        options["filename"] = os.path.basename(path)  # the file's name, not the sibling's
    fields.append(("Content-Encoding", coding))
    return FileResponse(sibling, headers=fields, **options)
