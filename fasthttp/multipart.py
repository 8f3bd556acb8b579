"""The ``multipart/form-data`` framing (RFC 7578 over RFC 2046 §5.1.1), parsed sans-IO.

Strategy: :class:`MultipartParser` is fed the body in chunks of any size (``feed``; ``end`` at
the end of the body) and returns events: a :class:`PartStart` with the part's header fields,
``bytes`` of the part's content, :data:`PART_END`, and :data:`FORM_END` after the close
delimiter. It buffers only what it must: a part's header block (capped), and at most
``len(delimiter) - 1`` bytes that could be the start of a delimiter split across two chunks;
all other content is passed through as soon as it arrives. It does no I/O and knows nothing of
requests: ``fasthttp.forms`` drives it (collected forms, streamed parts).

The framing rules, strictly (each violation is a 400, :class:`~fasthttp.errors.BadRequest`;
an ambiguity between two parsers is how a payload slips past a filter in front of the
application, APPSEC):

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

Limits (:class:`MultipartLimits`) answer 413 (:class:`~fasthttp.errors.ContentTooLarge`):
parts per form, header bytes per part, bytes per text field, bytes per file, bytes of the
whole body.

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

import dataclasses
import re
from urllib.parse import unquote_to_bytes

from .errors import BadRequest, ContentTooLarge, HttpProtocolError
from .headers import Headers, parse_field_line
from .media import EXT_VALUE, parse_disposition, parse_media_type

__all__ = (
    "MultipartLimits",
    "DEFAULT_MULTIPART_LIMITS",
    "MultipartParser",
    "MultipartEvent",
    "PartStart",
    "PartEnd",
    "FormEnd",
    "PART_END",
    "FORM_END",
)


@dataclasses.dataclass(frozen=True)
class MultipartLimits:
    """The limits the parser enforces on one body; each violation is a ``413 Content Too Large``.

    ``None`` means no limit of that kind (the request's ``max_body_size`` still applies).
    :class:`fasthttp.forms.FormLimits` extends it with the memory and spooling limits of a
    collected form.
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


DEFAULT_MULTIPART_LIMITS = MultipartLimits()


def _too_large(what: str, limit: int) -> ContentTooLarge:
    return ContentTooLarge(f"{what} is larger than {limit} bytes")


_BOUNDARY = re.compile(rb"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
_IDENTITY_CTE = frozenset({"7bit", "8bit", "binary"})
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

#: What :meth:`MultipartParser.feed` returns, in order: a :class:`PartStart`, then ``bytes`` of
#: its content, then :data:`PART_END`; after the last part, :data:`FORM_END`.
MultipartEvent = PartStart | bytes | PartEnd | FormEnd


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
    m = EXT_VALUE.fullmatch(value)
    if m is None:
        raise BadRequest("malformed filename* parameter")
    charset = m.group(1).lower()
    if charset not in ("utf-8", "iso-8859-1"):
        raise BadRequest(f"unsupported charset in filename*: {charset!r}")
    try:
        return unquote_to_bytes(m.group(3)).decode(charset)
    except UnicodeDecodeError:
        raise BadRequest("filename* is not valid UTF-8") from None


class MultipartParser:
    """Incremental ``multipart/form-data`` parser; see the module docstring.

    >>> p = MultipartParser("b")
    >>> p.feed(b'--b\\r\\nContent-Disposition: form-data; name="a"\\r\\n\\r\\n1\\r\\n--b--\\r\\n')
    [PartStart(name='a', filename=None, content_type='text/plain'), b'1', PART_END, FORM_END]

    ``feed`` returns the events the new bytes complete; ``end`` is called at the end of the
    body and raises unless the close delimiter was seen. Errors are
    :class:`~fasthttp.errors.BadRequest` (400) and :class:`~fasthttp.errors.ContentTooLarge`
    (413); after one, every call raises it again.
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

    def __init__(self, boundary: str | bytes, limits: MultipartLimits = DEFAULT_MULTIPART_LIMITS) -> None:
        if isinstance(boundary, str):
            boundary = boundary.encode("latin-1", "replace")
        if not _BOUNDARY.fullmatch(boundary):
            raise BadRequest("missing or invalid multipart boundary")
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
        self._error: HttpProtocolError | None = None

    @property
    def done(self) -> bool:
        """True once the close delimiter has been read."""
        return self._state == _DONE

    def feed(self, data: bytes) -> list[MultipartEvent]:
        """Parse the next piece of the body; return the events it completes."""
        if self._error is not None:
            raise self._error
        try:
            return self._feed(data)
        except HttpProtocolError as exc:
            self._state = _FAILED
            self._error = exc
            self._buf = b""
            raise

    def end(self) -> list[MultipartEvent]:
        """The body is complete: return the last events, or raise if it was cut short."""
        if self._error is not None:
            raise self._error
        if self._state != _DONE:
            self._state = _FAILED
            self._error = BadRequest("multipart body without its close delimiter")
            raise self._error
        return []

    def _feed(self, data: bytes) -> list[MultipartEvent]:
        events: list[MultipartEvent] = []
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
                        raise BadRequest("malformed multipart delimiter line")
                if n - pos < 2:
                    if pos < n:
                        c = buf[pos]
                        if c != 13 and (c != 45 or self._padding):  # CR, or "-" right after it
                            raise BadRequest("malformed multipart delimiter line")
                    break
                two = buf[pos : pos + 2]
                if two == b"--" and not self._padding:
                    state = _DONE
                    events.append(FORM_END)
                    pos = n
                    break
                if two != b"\r\n":
                    raise BadRequest("malformed multipart delimiter line")
                pos += 2
                self._parts += 1
                if self._parts > self.limits.max_parts:
                    raise ContentTooLarge(f"more than {self.limits.max_parts} parts")
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

    def _content(self, events: list[MultipartEvent], chunk: bytes) -> None:
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
                    raise BadRequest("malformed part header field") from None
        headers = Headers(fields)
        dispositions = headers.getall("content-disposition")
        if len(dispositions) != 1:
            raise BadRequest("a part needs exactly one Content-Disposition field")
        try:
            kind, params = parse_disposition(dispositions[0])
        except ValueError:
            raise BadRequest("malformed Content-Disposition field") from None
        name = params.get("name")
        if kind != "form-data" or name is None:
            raise BadRequest('a part\'s Content-Disposition must be "form-data" with a name')
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
                raise BadRequest("a part has more than one Content-Type field")
            try:
                content_type, ctparams = parse_media_type(ctypes[0])
            except ValueError:
                raise BadRequest("malformed Content-Type field in a part") from None
            charset = ctparams.get("charset")
        cte = headers.get("content-transfer-encoding")
        if cte is not None and cte.lower() not in _IDENTITY_CTE:
            raise BadRequest(f"unsupported Content-Transfer-Encoding {cte!r}")
        limits = self.limits
        if filename is None:
            self._part_limit, self._part_what = limits.max_field_size, f"field {name!r}"
        else:
            self._part_limit, self._part_what = limits.max_file_size, f"file {name!r}"
        self._part_size = 0
        return PartStart(name, filename, content_type, charset, headers)
