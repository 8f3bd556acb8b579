"""HTML form bodies: ``application/x-www-form-urlencoded`` and ``multipart/form-data``.

Strategy
--------
- :func:`parse_urlencoded` decodes a whole urlencoded body (WHATWG URL §5.1: split on ``&``,
  then on the first ``=``, ``+`` is a space, percent-escapes are bytes of the charset, UTF-8 by
  default). Such a body is held in memory, so it is capped by :attr:`FormLimits.max_memory`.
- Multipart bodies are framed by the sans-IO :class:`~fasthttp.multipart.MultipartParser`
  (``fasthttp.multipart``: the framing rules, part headers, names and filenames). This module
  drives it over what ``Request.stream()`` yields:
- :func:`read_multipart` collects a :class:`FormData`: text fields in memory, files as
  :class:`UploadFile` objects kept in memory up to :attr:`FormLimits.spool_size` and then moved
  to an anonymous temporary file. :class:`MultipartReader` yields the parts one by one for
  handlers that process content as it arrives and buffer nothing.

Errors: a malformed body is a 400 (:class:`~fasthttp.errors.BadRequest`), a text that is not
valid in its charset too, an unknown or unsafe charset a 415. Limits (:class:`FormLimits`, the
parser's :class:`~fasthttp.multipart.MultipartLimits` plus the memory budget and spooling)
answer 413 (:class:`~fasthttp.errors.ContentTooLarge`): parts per form, header bytes per part,
bytes per text field, bytes per file, bytes of the whole form, bytes held in memory, file
parts per form (which bounds one request's temporary files). Temporary files open at once across
the process are bounded too (:class:`SpoolBudget`): past it a form is a 503, not an ``EMFILE``.
APPSEC: a filename is client data. Never use it as a path.
"""

from __future__ import annotations

import asyncio
import codecs
import collections
import dataclasses
import io
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import IO, Any, cast
from urllib.parse import unquote_plus

from ._multidict import MultiDict
from .errors import BadRequest, ContentTooLarge, HttpError
from .headers import Headers
from .multipart import FORM_END, PART_END, MultipartEvent, MultipartLimits, MultipartParser, PartStart

__all__ = (
    "FormLimits",
    "DEFAULT_LIMITS",
    "SpoolBudget",
    "SPOOL_BUDGET",
    "FormData",
    "UploadFile",
    "codec_for",
    "parse_urlencoded",
    "read_multipart",
    "MultipartReader",
    "MultipartPart",
)


@dataclasses.dataclass(frozen=True)
class FormLimits(MultipartLimits):
    """Limits for one form body; each violation is a ``413 Content Too Large``.

    The parser's limits (:class:`~fasthttp.multipart.MultipartLimits`: ``max_parts``,
    ``max_part_header_size``, ``max_field_size``, ``max_file_size``, ``max_size``), then the
    ones below. ``None`` means no limit of that kind (the request's ``max_body_size`` still
    applies).
    """

    #: Bytes held in memory: a whole urlencoded body, or text fields plus the not yet spooled
    #: part of files. A file that would pass it is moved to disk; a text field is refused.
    max_memory: int = 8 << 20
    #: Bytes of one file kept in memory before it is moved to a temporary file.
    spool_size: int = 1 << 20
    #: Where temporary files go (``tempfile``'s default directory when None).
    spool_dir: str | None = None
    #: Bytes a file keeps in memory even once the memory budget is spent: a small part is not
    #: worth a temporary file (a descriptor). ``max_files`` times this bounds the excess.
    spool_min: int = 8 * 1024
    #: File parts in one form (a part with a filename); more is a 413. APPSEC: each file past
    #: the memory budget holds a descriptor, so this bounds the descriptors of one request.
    max_files: int | None = 100
    #: The process-wide budget of temporary files open at once (every form that uses it
    #: shares it); a form that would pass it is a 503. None: no server-wide bound.
    spool_budget: SpoolBudget | None = dataclasses.field(default_factory=lambda: _default_budget())


class SpoolBudget:
    """A bound on the temporary files open at once across forms (the server-wide limit of
    :attr:`FormLimits.spool_budget`): one more than *max_files* is a ``503 Service
    Unavailable`` (RFC 9110 §15.6.4) with ``Retry-After``, never an ``EMFILE`` half way
    through a request. Counted from the spooling of a file to its ``close()``."""

    __slots__ = ("max_files", "open")

    def __init__(self, max_files: int) -> None:
        self.max_files = max_files
        #: Temporary files open now.
        self.open = 0

    def acquire(self) -> None:
        if self.open >= self.max_files:
            raise HttpError(503, "too many uploads in progress; retry later", {"Retry-After": "1"})
        self.open += 1

    def release(self) -> None:
        self.open -= 1


def _default_spool_files() -> int:
    # A quarter of the descriptor limit (the rest is for connections and the application).
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):  # pragma: no cover - not POSIX
        return 256
    return 1024 if soft == resource.RLIM_INFINITY else max(16, min(1024, soft // 4))


#: The budget every :class:`FormLimits` shares unless given another.
SPOOL_BUDGET: SpoolBudget = SpoolBudget(_default_spool_files())


def _default_budget() -> SpoolBudget:
    return SPOOL_BUDGET

DEFAULT_LIMITS = FormLimits()


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
        raise ContentTooLarge(f"the form is larger than {limits.max_memory} bytes")
    charset = codec_for(charset)
    try:
        text = data.decode(charset)
    except UnicodeDecodeError:
        raise BadRequest(f"form body is not valid {charset}") from None
    pieces = text.split("&")
    if len(pieces) > limits.max_parts and sum(1 for p in pieces if p) > limits.max_parts:
        raise ContentTooLarge(f"more than {limits.max_parts} form fields")
    items: list[tuple[str, str]] = []
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
        raise BadRequest(f"form field is not valid {charset} once percent-decoded") from None
    return items


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

    __slots__ = ("name", "filename", "content_type", "charset", "headers", "file", "size", "_on_disk", "_budget")

    def __init__(
        self,
        filename: str,
        content_type: str = "application/octet-stream",
        headers: Headers | None = None,
        *,
        name: str = "",
        charset: str | None = None,
        file: IO[bytes] | None = None,
    ) -> None:
        self.name = name
        self.filename = filename
        self.content_type = content_type
        self.charset = charset
        self.headers = headers if headers is not None else Headers()
        self.file: IO[bytes] = file if file is not None else io.BytesIO()
        self.size = 0
        self._on_disk = not isinstance(self.file, io.BytesIO)
        self._budget: SpoolBudget | None = None  # the budget a spooled file counts against

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

    async def _spool(self, directory: str | None, budget: SpoolBudget | None = None) -> None:
        """Move the content to an anonymous temporary file (counted against *budget*)."""
        if self._on_disk:
            return
        memory = cast(io.BytesIO, self.file)  # in memory until spooled
        if budget is not None:
            budget.acquire()
        try:
            disk = tempfile.TemporaryFile(dir=directory)
        except BaseException:
            if budget is not None:
                budget.release()
            raise
        self._budget = budget
        self.file = disk
        self._on_disk = True
        try:
            # NOTE: a copy (at most spool_size bytes), not a view: a view exported to a worker
            # thread cannot be released safely if this task is cancelled meanwhile.
            await asyncio.to_thread(disk.write, memory.getvalue())
        finally:
            memory.close()

    def close(self) -> None:
        self.file.close()
        budget = self._budget
        if budget is not None:
            self._budget = None
            budget.release()

    def __del__(self) -> None:
        # A request that was never closed (an engine without the hook, an abandoned form) must
        # not leak a file descriptor; closing also frees the disk space of a spooled file.
        try:
            self.close()
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


class _Repeated(list[Any]):
    """Marks the values of a repeated name while :meth:`FormData.to_dict` collects them."""

    __slots__ = ()


def _decode_field(data: bytes, charset: str | None, name: str) -> str:
    codec = codec_for(charset) if charset else "utf-8"
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        raise BadRequest(f"field {name!r} is not valid {codec}") from None


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
    max_files = limits.max_files
    spool_min = limits.spool_min
    budget = limits.spool_budget
    files = 0
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
                if isinstance(ev, bytes):
                    n = len(ev)
                    if upload is None:
                        memory += n
                        if memory > max_memory:
                            raise ContentTooLarge(f"the form's text fields is larger than {max_memory} bytes")
                        pieces.append(ev)
                    else:
                        size = upload.size + n
                        if not upload._on_disk and (size > spool_size or (memory + n > max_memory and size > spool_min)):
                            memory -= upload.size
                            await upload._spool(spool_dir, budget)
                        elif not upload._on_disk:
                            memory += n
                        await upload._write(ev)
                elif isinstance(ev, PartStart):
                    part = ev
                    if ev.filename is None:
                        upload = None
                        pieces = []
                    else:
                        files += 1
                        if max_files is not None and files > max_files:
                            raise ContentTooLarge(f"more than {max_files} files in the form")
                        upload = UploadFile(
                            ev.filename, ev.content_type, ev.headers, name=ev.name, charset=ev.charset
                        )
                        items.append((ev.name, upload))
                elif ev is PART_END:
                    assert part is not None  # the parser starts every part before ending it
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
        self._events: collections.deque[MultipartEvent] = collections.deque()
        self._current: MultipartPart | None = None
        self._done = False

    async def _next_event(self) -> MultipartEvent:
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
        assert isinstance(ev, PartStart)  # between parts the parser yields only a start or the end
        part = self._current = MultipartPart(ev, self)
        return part

    def __aiter__(self) -> MultipartReader:
        return self

    async def __anext__(self) -> MultipartPart:
        part = await self.next_part()
        if part is None:
            raise StopAsyncIteration
        return part
