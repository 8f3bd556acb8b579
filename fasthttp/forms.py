"""HTML form bodies: ``application/x-www-form-urlencoded`` and ``multipart/form-data``.

Strategy
--------
- :func:`parse_urlencoded` decodes a whole urlencoded body (WHATWG URL §5.1: split on ``&``,
  then on the first ``=``, ``+`` is a space, percent-escapes are bytes of the charset, UTF-8 by
  default). Such a body is held in memory, so it is capped by :attr:`FormLimits.max_memory`.
- :class:`MultipartParser` is a sans-IO parser for ``multipart/form-data`` (RFC 7578 over the
  RFC 2046 §5.1.1 framing). It is fed the body in chunks of any size (``feed``; ``end`` at the
  end of the body) and returns events: a :class:`PartStart` with the part's header fields,
  ``bytes`` of the part's content, :data:`PART_END`, and :data:`FORM_END` after the close
  delimiter. It buffers only what it must: a part's header block (capped), and at most
  ``len(delimiter) - 1`` bytes that could be the start of a delimiter split across two chunks;
  all other content is passed through as soon as it arrives.
- :func:`read_multipart` drives the parser over an async iterator of chunks (what
  ``Request.stream()`` yields) and collects a :class:`FormData`: text fields in memory, files as
  :class:`UploadFile` objects kept in memory up to :attr:`FormLimits.spool_size` and then moved
  to an anonymous temporary file. :class:`MultipartReader` yields the parts one by one for
  handlers that process content as it arrives and buffer nothing.

The framing rules, strictly (each violation is a 400; an ambiguity between two parsers is how
a payload slips past a filter in front of the application, APPSEC):

- the delimiter is ``CRLF "--" boundary`` (the first one may open the body); a preamble before
  it and an epilogue after the close delimiter are ignored (RFC 2046 §5.1.1);
- after a delimiter only ``--`` (the close delimiter) or optional linear whitespace and CRLF
  may follow: a line that starts with the delimiter and goes on with anything else is refused,
  not taken as content (RFC 2046 §5.1.1: the boundary must not occur in the content, and
  matching compares the start of a line);
- each part has a header block ending with an empty line, whose field lines follow the same
  strict grammar as the request's own (no obs-fold, no whitespace before the colon);
- exactly one ``Content-Disposition: form-data`` with a ``name`` (RFC 7578 §4.2); a
  ``Content-Transfer-Encoding`` other than the identity ones is refused (RFC 7578 §4.7);
- a body that ends before the close delimiter is malformed.

Limits (:class:`FormLimits`) answer 413: parts per form, header bytes per part, bytes per text
field, bytes per file, bytes of the whole form, bytes held in memory.

Names and filenames: part header values are taken as UTF-8 (RFC 7578 §5.1.3), or ISO-8859-1
when they are not valid UTF-8. ``filename*`` (RFC 8187 ext-value) wins over ``filename`` when
both are sent (RFC 6266 §4.3), although RFC 7578 §4.2 tells senders not to use it. In a plain
``name``/``filename``, the percent-escapes a browser writes for ``"``, CR and LF (``%22``,
``%0D``, ``%0A``: WHATWG HTML, "multipart/form-data encoding algorithm") are decoded. NOTE:
other percent sequences are left alone: browsers do not escape ``%`` itself, so decoding every
escape (the "MAY" of RFC 7578 §4.2) would turn a real file named ``50%41.txt`` into
``50A.txt``. The raw field is in ``headers`` for applications that know their client.
APPSEC: a filename is client data. Never use it as a path.
"""

from __future__ import annotations

import asyncio
import codecs
import collections
import dataclasses
import io
import re
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import Any
from urllib.parse import unquote_plus, unquote_to_bytes

from ._multidict import MultiDict
from .errors import HttpProtocolError
from .headers import Headers, parse_field_line
from .media import parse_disposition, parse_media_type
from .errors import HttpError

__all__ = (
    "FormError",
    "FormLimits",
    "DEFAULT_LIMITS",
    "FormData",
    "UploadFile",
    "codec_for",
    "parse_urlencoded",
    "MultipartParser",
    "PartStart",
    "PartEnd",
    "FormEnd",
    "PART_END",
    "FORM_END",
    "read_multipart",
    "MultipartReader",
    "MultipartPart",
)


class FormError(HttpError):
    """A form body the server refuses: 400 (malformed) or 413 (over a limit). Raised out of a
    handler it becomes that response."""


@dataclasses.dataclass(frozen=True)
class FormLimits:
    """Limits for one form body; each violation is a ``413 Content Too Large``.

    ``None`` means no limit of that kind (the request's ``max_body_size`` still applies).
    """

    #: Fields (urlencoded) or parts (multipart) in one form.
    max_parts: int = 1000
    #: Bytes of one part's header block.
    max_part_header_size: int = 16 * 1024
    #: Bytes of one text field (a part without a filename).
    max_field_size: int | None = 1 << 20
    #: Bytes of one file (a part with a filename).
    max_file_size: int | None = None
    #: Bytes of the whole multipart body, preamble and epilogue included.
    max_size: int | None = None
    #: Bytes held in memory: a whole urlencoded body, or text fields plus the not yet spooled
    #: part of files. A file that would pass it is moved to disk; a text field is refused.
    max_memory: int = 8 << 20
    #: Bytes of one file kept in memory before it is moved to a temporary file.
    spool_size: int = 1 << 20
    #: Where temporary files go (``tempfile``'s default directory when None).
    spool_dir: str | None = None


DEFAULT_LIMITS = FormLimits()


def _too_large(what: str, limit: int) -> FormError:
    return FormError(413, f"{what} is larger than {limit} bytes")


def codec_for(charset: str) -> str:
    """The Python codec name for the *charset* of a request body; ``HttpError(415)`` for an
    unknown one or one that is not safe to decode client text with (APPSEC: UTF-7 is the
    classic filter bypass; the escape codecs turn plain ASCII into other characters)."""
    try:
        info = codecs.lookup(charset)
    except LookupError:
        raise HttpError(415, f"unsupported charset {charset!r}") from None
    if not getattr(info, "_is_text_encoding", True) or info.name in _UNSAFE_CODECS:
        raise HttpError(415, f"unsupported charset {charset!r}")
    return info.name


_UNSAFE_CODECS = frozenset({"utf-7", "unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined"})


# -- urlencoded -------------------------------------------------------------------------------


def parse_urlencoded(data: bytes, charset: str = "utf-8", limits: FormLimits = DEFAULT_LIMITS) -> list[tuple[str, str]]:
    """The ``(name, value)`` pairs of an ``application/x-www-form-urlencoded`` body, in order.

    WHATWG URL §5.1: empty pieces between ``&`` are skipped, a piece without ``=`` is a name
    with an empty value. Text that is not valid in *charset* (after percent-decoding) is a 400;
    more than ``limits.max_parts`` fields a 413.
    """
    if not data:
        return []
    if len(data) > limits.max_memory:
        raise _too_large("the form", limits.max_memory)
    charset = codec_for(charset)
    try:
        text = data.decode(charset)
    except UnicodeDecodeError:
        raise FormError(400, f"form body is not valid {charset}") from None
    pieces = text.split("&")
    if len(pieces) > limits.max_parts and sum(1 for p in pieces if p) > limits.max_parts:
        raise FormError(413, f"more than {limits.max_parts} form fields")
    items = []
    append = items.append
    try:
        for piece in pieces:
            if not piece:
                continue
            name, _, value = piece.partition("=")
            # PERF: most names and many values need no decoding at all.
            if "%" in name or "+" in name:
                name = unquote_plus(name, charset, "strict")
            if "%" in value or "+" in value:
                value = unquote_plus(value, charset, "strict")
            append((name, value))
    except UnicodeDecodeError:
        raise FormError(400, f"form field is not valid {charset} once percent-decoded") from None
    return items


# -- multipart: the sans-IO parser ------------------------------------------------------------------

# RFC 2046 §5.1.1: boundary := 0*69<bchars> bcharsnospace; bchars := bcharsnospace / " "
_BOUNDARY = re.compile(rb"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
_IDENTITY_CTE = frozenset({"7bit", "8bit", "binary"})
# RFC 8187 §3.2.1: ext-value = charset "'" [ language ] "'" value-chars
_EXT_VALUE = re.compile(r"([!#$%&+\-^_`{}~0-9A-Za-z]+)'([0-9A-Za-z\-]*)'((?:%[0-9A-Fa-f]{2}|[!#$&+\-.^_`|~0-9A-Za-z])*)")
_FORM_ESCAPE = re.compile("%(22|0[Dd]|0[Aa])")
_FORM_UNESCAPE = {"22": '"', "0D": "\r", "0d": "\r", "0A": "\n", "0a": "\n"}

_PREAMBLE, _DELIMITER, _HEADERS, _BODY, _DONE, _FAILED = range(6)


class PartStart:
    """A part's header block has been read: its content follows as ``bytes`` events.

    ``name`` and ``filename`` (None for a text field) from ``Content-Disposition``;
    ``content_type`` (lower case, ``text/plain`` when not given, RFC 7578 §4.4) and ``charset``
    (None when not given) from ``Content-Type``; ``headers`` is every field of the part as a
    case-insensitive :class:`~fasthttp.headers.Headers` view.
    """

    __slots__ = ("name", "filename", "content_type", "charset", "headers")

    def __init__(self, name: str, filename: str | None, content_type: str, charset: str | None, headers: Headers) -> None:
        self.name = name
        self.filename = filename
        self.content_type = content_type
        self.charset = charset
        self.headers = headers

    def __repr__(self) -> str:
        return f"PartStart(name={self.name!r}, filename={self.filename!r}, content_type={self.content_type!r})"


class PartEnd:
    """The content of the current part is complete (the singleton :data:`PART_END`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "PART_END"


class FormEnd:
    """The close delimiter was read: the form is complete (the singleton :data:`FORM_END`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "FORM_END"


PART_END = PartEnd()
FORM_END = FormEnd()


def _header_text(value: str) -> str:
    """A parameter value parsed from the ISO-8859-1 view of the header bytes, as UTF-8 text
    when it is valid UTF-8 (RFC 7578 §5.1.3)."""
    if value.isascii():
        return value
    raw = value.encode("latin-1")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return value


def _form_unescape(value: str) -> str:
    if "%" not in value:
        return value
    return _FORM_ESCAPE.sub(lambda m: _FORM_UNESCAPE[m.group(1)], value)


def _ext_value(value: str) -> str:
    """Decode an RFC 8187 ext-value (``UTF-8''%e2%82%ac.txt``); UTF-8 and ISO-8859-1 only
    (§3.2.1 requires both and nothing else)."""
    m = _EXT_VALUE.fullmatch(value)
    if m is None:
        raise FormError(400, "malformed filename* parameter")
    charset = m.group(1).lower()
    if charset not in ("utf-8", "iso-8859-1"):
        raise FormError(400, f"unsupported charset in filename*: {charset!r}")
    try:
        return unquote_to_bytes(m.group(3)).decode(charset)
    except UnicodeDecodeError:
        raise FormError(400, "filename* is not valid UTF-8") from None


class MultipartParser:
    """Incremental ``multipart/form-data`` parser; see the module docstring.

    >>> p = MultipartParser("b")
    >>> p.feed(b'--b\\r\\nContent-Disposition: form-data; name="a"\\r\\n\\r\\n1\\r\\n--b--\\r\\n')
    [PartStart(name='a', filename=None, content_type='text/plain'), b'1', PART_END, FORM_END]

    ``feed`` returns the events the new bytes complete; ``end`` is called at the end of the
    body and raises unless the close delimiter was seen. Errors are :class:`FormError` (400 or
    413); after one, every call raises it again.
    """

    __slots__ = (
        "limits",
        "_delim",
        "_buf",
        "_state",
        "_received",
        "_parts",
        "_part_size",
        "_part_limit",
        "_part_what",
        "_padding",
        "_error",
    )

    def __init__(self, boundary: str | bytes, limits: FormLimits = DEFAULT_LIMITS) -> None:
        if isinstance(boundary, str):
            boundary = boundary.encode("latin-1", "replace")
        if not _BOUNDARY.fullmatch(boundary):
            raise FormError(400, "missing or invalid multipart boundary")
        self.limits = limits
        self._delim = b"\r\n--" + boundary
        # NOTE: a virtual CRLF before the body, so that a first delimiter at the very start is
        # found by the same search as every other one (RFC 2046 §5.1.1: dash-boundary).
        self._buf = b"\r\n"
        self._state = _PREAMBLE
        self._received = 0
        self._parts = 0
        self._part_size = 0
        self._part_limit: int | None = None
        self._part_what = ""
        self._padding = 0
        self._error: FormError | None = None

    @property
    def done(self) -> bool:
        """True once the close delimiter has been read."""
        return self._state == _DONE

    def feed(self, data: bytes) -> list:
        """Parse the next piece of the body; return the events it completes."""
        if self._error is not None:
            raise self._error
        try:
            return self._feed(data)
        except FormError as exc:
            self._state = _FAILED
            self._error = exc
            self._buf = b""
            raise

    def end(self) -> list:
        """The body is complete: return the last events, or raise if it was cut short."""
        if self._error is not None:
            raise self._error
        if self._state != _DONE:
            self._state = _FAILED
            self._error = FormError(400, "multipart body without its close delimiter")
            raise self._error
        return []

    def _feed(self, data: bytes) -> list:
        events: list = []
        n = len(data)
        if not n:
            return events
        self._received += n
        limit = self.limits.max_size
        if limit is not None and self._received > limit:
            raise _too_large("the form", limit)
        state = self._state
        if state == _DONE:
            return events  # the epilogue: ignored (RFC 2046 §5.1.1)
        if type(data) is not bytes:
            data = bytes(data)
        buf = self._buf + data if self._buf else data
        n = len(buf)
        pos = 0
        delim = self._delim
        while True:
            if state == _BODY:
                i = buf.find(delim, pos)
                if i < 0:
                    keep = self._keep_from(buf, pos)
                    if keep > pos:
                        self._content(events, buf[pos:keep])
                    pos = keep
                    break
                if i > pos:
                    self._content(events, buf[pos:i])
                events.append(PART_END)
                pos = i + len(delim)
                state = _DELIMITER
                self._padding = 0
            elif state == _DELIMITER:
                # After "--boundary": "--" closes the form; else transport-padding CRLF.
                while pos < n and buf[pos] in b" \t":
                    pos += 1
                    self._padding += 1
                    if self._padding > self.limits.max_part_header_size:
                        raise FormError(400, "malformed multipart delimiter line")
                if n - pos < 2:
                    if pos < n:
                        c = buf[pos]
                        if c != 13 and (c != 45 or self._padding):  # CR, or "-" right after it
                            raise FormError(400, "malformed multipart delimiter line")
                    break
                two = buf[pos : pos + 2]
                if two == b"--" and not self._padding:
                    state = _DONE
                    events.append(FORM_END)
                    pos = n
                    break
                if two != b"\r\n":
                    raise FormError(400, "malformed multipart delimiter line")
                pos += 2
                self._parts += 1
                if self._parts > self.limits.max_parts:
                    raise FormError(413, f"more than {self.limits.max_parts} parts")
                state = _HEADERS
            elif state == _HEADERS:
                max_header = self.limits.max_part_header_size
                if buf.startswith(b"\r\n", pos):
                    end = pos  # no header field at all (refused below: no Content-Disposition)
                else:
                    end = buf.find(b"\r\n\r\n", pos)
                    if end < 0:
                        if n - pos > max_header:
                            raise _too_large("a part's header block", max_header)
                        break
                    end += 2
                if end - pos > max_header:
                    raise _too_large("a part's header block", max_header)
                events.append(self._part_start(buf[pos:end]))
                pos = end + 2
                state = _BODY
            elif state == _PREAMBLE:
                i = buf.find(delim, pos)
                if i < 0:
                    pos = self._keep_from(buf, pos)
                    break
                pos = i + len(delim)
                state = _DELIMITER
                self._padding = 0
            else:  # _DONE
                pos = n
                break
        self._state = state
        self._buf = buf[pos:] if pos < n else b""
        return events

    def _keep_from(self, buf: bytes, pos: int) -> int:
        """Where the longest tail of *buf* that could begin a delimiter starts (len if none)."""
        n = len(buf)
        delim = self._delim
        r = buf.find(b"\r", max(pos, n - len(delim) + 1))
        while r >= 0:
            if delim.startswith(buf[r:]):
                return r
            r = buf.find(b"\r", r + 1)
        return n

    def _content(self, events: list, chunk: bytes) -> None:
        size = self._part_size + len(chunk)
        limit = self._part_limit
        if limit is not None and size > limit:
            raise _too_large(self._part_what, limit)
        self._part_size = size
        events.append(chunk)

    def _part_start(self, block: bytes) -> PartStart:
        fields = []
        if block:
            for line in block[:-2].split(b"\r\n"):
                try:
                    fields.append(parse_field_line(line))
                except HttpProtocolError:
                    raise FormError(400, "malformed part header field") from None
        headers = Headers(fields)
        dispositions = headers.getall("content-disposition")
        if len(dispositions) != 1:
            raise FormError(400, "a part needs exactly one Content-Disposition field")
        try:
            kind, params = parse_disposition(dispositions[0])
        except ValueError:
            raise FormError(400, "malformed Content-Disposition field") from None
        name = params.get("name")
        if kind != "form-data" or name is None:
            raise FormError(400, 'a part\'s Content-Disposition must be "form-data" with a name')
        name = _form_unescape(_header_text(name))
        filename = params.get("filename")
        if filename is not None:
            filename = _form_unescape(_header_text(filename))
        ext = params.get("filename*")
        if ext is not None:
            filename = _ext_value(ext)
        content_type, charset = "text/plain", None
        ctypes = headers.getall("content-type")
        if ctypes:
            if len(ctypes) > 1:
                raise FormError(400, "a part has more than one Content-Type field")
            try:
                content_type, ctparams = parse_media_type(ctypes[0])
            except ValueError:
                raise FormError(400, "malformed Content-Type field in a part") from None
            charset = ctparams.get("charset")
        cte = headers.get("content-transfer-encoding")
        if cte is not None and cte.lower() not in _IDENTITY_CTE:
            raise FormError(400, f"unsupported Content-Transfer-Encoding {cte!r}")
        limits = self.limits
        if filename is None:
            self._part_limit, self._part_what = limits.max_field_size, f"field {name!r}"
        else:
            self._part_limit, self._part_what = limits.max_file_size, f"file {name!r}"
        self._part_size = 0
        return PartStart(name, filename, content_type, charset, headers)


# -- collected forms -------------------------------------------------------------------------------


class UploadFile:
    """A file from a ``multipart/form-data`` body.

    ``name`` (the form field), ``filename`` (client data: never use it as a path), ``content_type``,
    ``charset``, ``headers`` (the part's fields), ``size`` (bytes), and ``file``: a binary file
    object positioned at the start, an in-memory buffer for a small file and an anonymous
    temporary file (no name on disk, removed when closed) once it grew past the spool size.

    ``await read()`` and ``await seek()`` run in a worker thread when the file is on disk, so a
    slow disk does not stall the event loop. ``close()`` releases the file; the request closes
    every file of its form when it ends.
    """

    __slots__ = ("name", "filename", "content_type", "charset", "headers", "file", "size", "_on_disk")

    def __init__(
        self,
        filename: str,
        content_type: str = "application/octet-stream",
        headers: Headers | None = None,
        *,
        name: str = "",
        charset: str | None = None,
        file: Any = None,
    ) -> None:
        self.name = name
        self.filename = filename
        self.content_type = content_type
        self.charset = charset
        self.headers = headers if headers is not None else Headers()
        self.file = file if file is not None else io.BytesIO()
        self.size = 0
        self._on_disk = not isinstance(self.file, io.BytesIO)

    @property
    def in_memory(self) -> bool:
        """True while the content is held in memory (not spooled to a temporary file)."""
        return not self._on_disk

    @property
    def closed(self) -> bool:
        return self.file.closed

    async def read(self, size: int = -1) -> bytes:
        if self._on_disk:
            return await asyncio.to_thread(self.file.read, size)
        return self.file.read(size)

    async def seek(self, offset: int, whence: int = 0) -> int:
        if self._on_disk:
            return await asyncio.to_thread(self.file.seek, offset, whence)
        return self.file.seek(offset, whence)

    async def _write(self, data: bytes) -> None:
        if self._on_disk:
            await asyncio.to_thread(self.file.write, data)
        else:
            self.file.write(data)
        self.size += len(data)

    async def _spool(self, directory: str | None) -> None:
        """Move the content to an anonymous temporary file."""
        if self._on_disk:
            return
        memory = self.file
        disk = tempfile.TemporaryFile(dir=directory)
        try:
            # NOTE: a copy (at most spool_size bytes), not a view: a view exported to a worker
            # thread cannot be released safely if this task is cancelled meanwhile.
            await asyncio.to_thread(disk.write, memory.getvalue())
        except BaseException:
            disk.close()
            raise
        self.file = disk
        self._on_disk = True
        memory.close()

    def close(self) -> None:
        self.file.close()

    def __del__(self) -> None:
        # A request that was never closed (an engine without the hook, an abandoned form) must
        # not leak a file descriptor; closing also frees the disk space of a spooled file.
        try:
            self.file.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def __repr__(self) -> str:
        where = "memory" if not self._on_disk else "disk"
        return f"<UploadFile {self.name!r} filename={self.filename!r} {self.content_type} {self.size} bytes in {where}>"


class FormData(MultiDict):
    """An immutable, multi-valued view of a form: names to ``str`` (text fields) or
    :class:`UploadFile` (files), in the order they were sent.

    ``form["a"]`` and ``get("a")`` give the first value, ``getall("a")`` every value.
    ``close()`` closes the files (the request does it when it ends).
    """

    __slots__ = ()

    def __init__(self, items: Iterable[tuple[str, Any]] = ()) -> None:
        self._items = list(items)

    @property
    def files(self) -> list[UploadFile]:
        return [v for _, v in self._items if isinstance(v, UploadFile)]

    def to_dict(self) -> dict[str, Any]:
        """A plain dict: a name sent once maps to its value, a repeated name to the list of its
        values (the shape a validation schema expects)."""
        out: dict[str, Any] = {}
        for k, v in self._items:
            if k in out:
                prev = out[k]
                if type(prev) is _Repeated:
                    prev.append(v)
                else:
                    out[k] = _Repeated((prev, v))
            else:
                out[k] = v
        for k, v in out.items():
            if type(v) is _Repeated:
                out[k] = list(v)
        return out

    def close(self) -> None:
        for _, v in self._items:
            if isinstance(v, UploadFile):
                v.close()


class _Repeated(list):
    """Marks the values of a repeated name while :meth:`FormData.to_dict` collects them."""

    __slots__ = ()


def _decode_field(data: bytes, charset: str | None, name: str) -> str:
    codec = codec_for(charset) if charset else "utf-8"
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        raise FormError(400, f"field {name!r} is not valid {codec}") from None


async def read_multipart(
    chunks: AsyncIterable[bytes],
    boundary: str | bytes,
    limits: FormLimits = DEFAULT_LIMITS,
) -> FormData:
    """Read a whole ``multipart/form-data`` body from *chunks* into a :class:`FormData`.

    Text fields are decoded with their part's charset (UTF-8 by default); files become
    :class:`UploadFile` objects, spooled to disk past ``limits.spool_size`` or when the form's
    memory budget (``limits.max_memory``) would be exceeded. On any error the files created so
    far are closed before the error propagates.
    """
    parser = MultipartParser(boundary, limits)
    items: list[tuple[str, Any]] = []
    memory = 0
    max_memory = limits.max_memory
    spool_size = limits.spool_size
    spool_dir = limits.spool_dir
    part: PartStart | None = None
    upload: UploadFile | None = None
    pieces: list[bytes] = []
    iterator = chunks.__aiter__()
    try:
        done = False
        while not done:
            try:
                chunk = await iterator.__anext__()
            except StopAsyncIteration:
                events = parser.end()
                done = True
            else:
                events = parser.feed(chunk)
            for ev in events:
                t = type(ev)
                if t is bytes:
                    n = len(ev)
                    if upload is None:
                        memory += n
                        if memory > max_memory:
                            raise _too_large("the form's text fields", max_memory)
                        pieces.append(ev)
                    else:
                        if not upload._on_disk and (upload.size + n > spool_size or memory + n > max_memory):
                            memory -= upload.size
                            await upload._spool(spool_dir)
                        elif not upload._on_disk:
                            memory += n
                        await upload._write(ev)
                elif t is PartStart:
                    part = ev
                    if ev.filename is None:
                        upload = None
                        pieces = []
                    else:
                        upload = UploadFile(
                            ev.filename, ev.content_type, ev.headers, name=ev.name, charset=ev.charset
                        )
                        items.append((ev.name, upload))
                elif ev is PART_END:
                    if upload is None:
                        items.append((part.name, _decode_field(b"".join(pieces), part.charset, part.name)))
                        pieces = []
                    else:
                        await upload.seek(0)
                        upload = None
                else:  # FORM_END: the epilogue, if any, is left unread
                    done = True
                    break
    except BaseException:
        for _, v in items:
            if isinstance(v, UploadFile):
                v.close()
        raise
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()
    return FormData(items)


# -- streaming parts -------------------------------------------------------------------------------


class MultipartPart:
    """One part of a form being streamed by :class:`MultipartReader`.

    Attributes as :class:`PartStart`. Its content is read with ``async for chunk in
    part.stream()``, ``await part.read()`` or ``await part.text()``, and only while the part is
    the current one: moving to the next part skips what was left unread.
    """

    __slots__ = ("name", "filename", "content_type", "charset", "headers", "_reader", "_ended")

    def __init__(self, start: PartStart, reader: MultipartReader) -> None:
        self.name = start.name
        self.filename = start.filename
        self.content_type = start.content_type
        self.charset = start.charset
        self.headers = start.headers
        self._reader = reader
        self._ended = False

    async def stream(self) -> AsyncIterator[bytes]:
        reader = self._reader
        if reader._current is not self:
            raise RuntimeError("this part is no longer the current one: its content was skipped")
        while not self._ended:
            ev = await reader._next_event()
            if type(ev) is bytes:
                yield ev
            else:
                self._ended = True  # PART_END

    async def read(self) -> bytes:
        """The whole content (bounded by the form's field or file size limit)."""
        pieces = [chunk async for chunk in self.stream()]
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    async def text(self) -> str:
        """The content decoded with the part's charset (UTF-8 by default); 400 if it is not."""
        return _decode_field(await self.read(), self.charset, self.name)

    def __repr__(self) -> str:
        return f"<MultipartPart {self.name!r} filename={self.filename!r} {self.content_type}>"


class MultipartReader:
    """The parts of a ``multipart/form-data`` body, one at a time, as they arrive.

    ``async for part in MultipartReader(chunks, boundary, limits)``; nothing is buffered beyond
    what the parser holds, so a handler can stream a file of any size to its destination.
    """

    __slots__ = ("_chunks", "_parser", "_events", "_current", "_done")

    def __init__(self, chunks: AsyncIterable[bytes], boundary: str | bytes, limits: FormLimits = DEFAULT_LIMITS) -> None:
        self._parser = MultipartParser(boundary, limits)
        self._chunks = chunks.__aiter__()
        self._events: collections.deque = collections.deque()
        self._current: MultipartPart | None = None
        self._done = False

    async def _next_event(self) -> Any:
        events = self._events
        while not events:
            try:
                chunk = await self._chunks.__anext__()
            except StopAsyncIteration:
                events.extend(self._parser.end())  # raises: the close delimiter is missing
            else:
                events.extend(self._parser.feed(chunk))
        return events.popleft()

    async def next_part(self) -> MultipartPart | None:
        """The next part, or None after the last one."""
        if self._done:
            return None
        current = self._current
        if current is not None and not current._ended:
            while await self._next_event() is not PART_END:
                pass  # skip what the handler left unread
            current._ended = True
        ev = await self._next_event()
        if ev is FORM_END:
            self._done = True
            self._current = None
            aclose = getattr(self._chunks, "aclose", None)
            if aclose is not None:
                await aclose()
            return None
        part = self._current = MultipartPart(ev, self)
        return part

    def __aiter__(self) -> MultipartReader:
        return self

    async def __anext__(self) -> MultipartPart:
        part = await self.next_part()
        if part is None:
            raise StopAsyncIteration
        return part
