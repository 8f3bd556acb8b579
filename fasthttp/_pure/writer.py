"""Response-head serialization: the pure-Python twin, and the executable specification.

Strategy: a response head is a status line, header lines and a blank line (RFC 9112 §2.1). The
parts that repeat are cached: the status line per code (built on first use) and the ``Date``
value, recomputed only when the wall-clock second changes (RFC 9110 §6.6.1 needs no finer
resolution). Everything the application supplies is validated before a byte is written, so an
application bug or an echoed attacker string can never split the response (RFC 9110 §5.5).

The compiled twin, ``fasthttp/_speedups/writer.pyx``, produces byte-identical output and raises
the same error types in the same order; it reuses this module's reason table and date formatter
(both run once per code or once per second, never per response). Every rule below is enforced
in both twins: where one changes, change the other.

Order of checks (both twins): the status, then ``content_length``, then the contradictions
between framing arguments, then ``server``, then each field in order (name before value, the
type before the content, then the framing rule below).

APPSEC: the framing of a response belongs to the server (RFC 9112 §6: Content-Length,
Transfer-Encoding and the Connection options decide where a message ends and whether another
follows). ``write_head`` and ``write_response`` refuse, with ``InvalidResponseHeader``, every
application field that could contradict it: ``Transfer-Encoding``, ``Keep-Alive``,
``Proxy-Connection`` and ``TE`` always, a ``Connection`` field carrying the ``close`` or
``keep-alive`` option (other options, such as ``upgrade`` beside an ``Upgrade`` field, RFC 9110
§7.8, pass), and a ``Content-Length`` unless it states exactly the length the server frames the
message with; that one is honoured and written once, by the server. (``write_fields``, which
also serializes trailers and body-part headers, has no framing to protect and checks no names.)
The engine honours a refused ``Connection: close`` itself (``fasthttp.responses.without_close``):
it writes the response again without the field, with ``keep_alive=False``, and closes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .._grammar import DAYS, MONTHS, REASONS, TOKEN_BYTES
from ..errors import InvalidResponseHeader

if TYPE_CHECKING:
    from typing import TypeAlias

    _Text: TypeAlias = "bytes | str"
    # Header fields: (name, value) pairs or a mapping; a value may be an int. (A Mapping's key
    # type is invariant: a dict[str, str] is a Mapping[str, ...] only.)
    _Fields: TypeAlias = (
        "Iterable[tuple[_Text, _Text | int]] | Mapping[str, _Text | int] | Mapping[bytes, _Text | int]"
    )

__all__ = ("status_line", "http_date", "write_fields", "write_head", "write_response", "FieldBlock")

#: The clock behind ``http_date``. NOTE: a seam for tests, which patch ``writer._clock`` of
#: either twin to move time; both twins call it by its module-global name on every use.
_clock: Callable[[], float] = time.time

# RFC 9110 §5.5: a field value is VCHAR, obs-text, SP and HTAB; anything else (CR, LF, NUL and
# the other CTLs, DEL) is refused.
_NOT_FIELD_VALUE = re.compile(rb"[^\t\x20-\x7e\x80-\xff]")

_STATUS_LINES: dict[int, bytes] = {}


def _check_status(status: object) -> int:
    # RFC 9112 §4: status-code = 3DIGIT, so 100..999 pass. NOTE: RFC 9110 §15 calls 600..999
    # invalid (a client treats them as 5xx); they pass anyway, with an empty reason, for
    # applications that use them on purpose.
    if not isinstance(status, int) or not 100 <= status <= 999:
        raise ValueError(f"invalid HTTP status code: {status!r}")
    return int(status)


def _not_final(code: int) -> None:
    # RFC 9110 §15.2: a 1xx response is interim, never the final answer to a request; written as
    # one, the client would take the connection's next response for this request's (a desync),
    # and a 101 would claim a protocol switch. write_head still writes 1xx heads (100 Continue,
    # 103 Early Hints, the 101 of an upgrade): those are sent before a final response.
    raise ValueError(f"a final response has a 2xx-9xx status, not the interim {code}")


def _build_status_line(code: int) -> bytes:
    # RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]. The second SP
    # stays when the reason is empty. RFC 9110 §6.2: a server sends the highest minor version it
    # conforms to, HTTP/1.1, whatever the request's version.
    return b"HTTP/1.1 %d %s\r\n" % (code, REASONS.get(code, "").encode("ascii"))


def status_line(status: int) -> bytes:
    """``b"HTTP/1.1 200 OK\\r\\n"``: the status line for *status*, cached per code."""
    code = _check_status(status)
    line = _STATUS_LINES.get(code)
    if line is None:
        line = _STATUS_LINES[code] = _build_status_line(code)
    return line


# --- Date (RFC 9110 §6.6.1, the IMF-fixdate of §5.6.7) -----------------------------------------



def _format_date(second: int) -> bytes:
    """The IMF-fixdate for a POSIX *second*: ``b"Sun, 06 Nov 1994 08:49:37 GMT"``."""
    t = time.gmtime(second)
    return b"%s, %02d %s %04d %02d:%02d:%02d GMT" % (
        DAYS[t.tm_wday].encode(),
        t.tm_mday,
        MONTHS[t.tm_mon - 1].encode(),
        t.tm_year,
        t.tm_hour,
        t.tm_min,
        t.tm_sec,
    )


_date_second: int | None = None
_date_value = b""
_date_line = b""


def _date_field() -> bytes:
    """``b"Date: <IMF-fixdate>\\r\\n"``, recomputed when ``int(_clock())`` changes."""
    global _date_second, _date_value, _date_line
    second = int(_clock())
    if second != _date_second:
        _date_value = _format_date(second)
        _date_line = b"Date: " + _date_value + b"\r\n"
        _date_second = second
    return _date_line


def http_date() -> bytes:
    """The current time as an IMF-fixdate (RFC 9110 §5.6.7), recomputed at most once a second."""
    _date_field()
    return _date_value


# --- Fields (RFC 9110 §5, RFC 9112 §5) ----------------------------------------------------------


def _as_bytes(part: object, what: str) -> bytes:
    if isinstance(part, bytes):
        return part
    if isinstance(part, str):
        # RFC 9110 §5.5: field values are octets; a str stands for its latin-1 encoding.
        try:
            return part.encode("latin-1")
        except UnicodeEncodeError:
            raise InvalidResponseHeader(f"header {what} is not latin-1: {part!r}") from None
    raise TypeError(f"header {what} must be str or bytes, not {type(part).__name__}")


def _field_name(name: object) -> bytes:
    raw = _as_bytes(name, "name")
    # APPSEC: a name that is not a token could carry ':' (a forged second field), CR/LF (a forged
    # line) or whitespace (RFC 9112 §5.1 forbids it before the colon).
    if TOKEN_BYTES.fullmatch(raw) is None:
        raise InvalidResponseHeader(f"invalid header name: {name!r}")
    return raw


def _field_value(value: object, what: str = "value") -> bytes:
    raw = _as_bytes(value, what)
    # APPSEC: CR or LF would end the line early (response splitting); NUL and the other CTLs are
    # refused as well, since recipients disagree about them (RFC 9110 §5.5). NOTE: leading and
    # trailing SP/HTAB pass: harmless, though a recipient strips them as OWS (RFC 9112 §5.1).
    if _NOT_FIELD_VALUE.search(raw) is not None:
        raise InvalidResponseHeader(f"invalid header {what}: {value!r}")
    return raw


# Lower-case names of the fields that frame a message or manage the connection (RFC 9112 §6,
# §9.3; RFC 9110 §7.6.1): 1 Content-Length, 2 refused outright, 3 Connection (by its options).
_FRAMING = {
    b"content-length": 1,
    b"transfer-encoding": 2,
    b"keep-alive": 2,
    b"proxy-connection": 2,
    b"te": 2,
    b"connection": 3,
}
_SERVER_OPTIONS = (b"close", b"keep-alive")
_DIGITS = re.compile(rb"[0-9]+")


def _check_framing(kind: int, name: bytes, value: bytes, length: int | None) -> bool:
    """Apply the framing rule (module docstring) to one validated application field: raise
    ``InvalidResponseHeader``, or return True to drop it (a Content-Length equal to the
    server's, which the server writes itself) or False to write it."""
    if kind == 1:
        # RFC 9110 §8.6: Content-Length = 1*DIGIT; honoured only when it is the server's own.
        if length is not None and _DIGITS.fullmatch(value) is not None:
            # NOTE: the value, not the spelling: leading zeros are valid. Compared as digits,
            # so no int() of an arbitrarily long value.
            if (value.lstrip(b"0") or b"0") == b"%d" % length:
                return True
        expected = "none" if length is None else str(length)
        raise InvalidResponseHeader(
            f"Content-Length is framed by the server: the application's {value.decode('latin-1')!r} "
            f"contradicts the server's ({expected})"
        )
    if kind == 3:
        # RFC 9110 §7.6.1: Connection = #connection-option; close and keep-alive are the
        # server's to send (RFC 9112 §9.3, §9.6).
        for option in value.split(b","):
            if option.strip(b" \t").lower() in _SERVER_OPTIONS:
                break
        else:
            return False
    raise InvalidResponseHeader(
        f"{name.decode('latin-1')} is the server's to send (response framing, RFC 9112 §6): "
        f"{value.decode('latin-1')!r}"
    )


# PERF: the serialized lines of a tuple of fields (TEXT_FIELDS, JSON_FIELDS, a route's constant
# headers) with no framing field among them, keyed by the tuple itself: what they serialize to
# depends on nothing else. Bounded; a list (which may change) is never cached.
_FIELD_CACHE: dict[tuple[object, ...], bytes] = {}
_FIELD_CACHE_MAX = 256
_TEXT_TYPES = (str, bytes)
# The statuses whose response has content (RFC 9110 §6.4.1: not 1xx, 204 or 304), as
# _check_status accepts them: write_response's common case.
_CONTENT_STATUSES = frozenset(range(200, 1000)) - {204, 304}


def _fields(fields: _Fields, framing: bool, length: int | None) -> bytes:
    if type(fields) is list and framing and len(fields) == 1:
        # PERF (issue 17, the pure path): a Response's usual fields, [("Content-Type", value)],
        # are a new list each time: cached under the tuple of their one pair when its name and
        # value are exactly str or bytes (equal keys then serialize to equal bytes).
        pair = fields[0]
        if type(pair) is tuple and len(pair) == 2 and type(pair[0]) in _TEXT_TYPES and type(pair[1]) in _TEXT_TYPES:
            key = (pair,)
            hit = _FIELD_CACHE.get(key)
            if hit is not None:
                return hit
            fields = key
    elif type(fields) is FieldBlock:
        return fields.encoded  # checked and serialized once (see FieldBlock)
    if type(fields) is tuple and framing:
        try:
            cached = _FIELD_CACHE.get(fields)
        except TypeError:  # an unhashable element: serialized below, and refused there if bad
            cached = None
        else:
            if cached is None:
                cached = _serialize(fields, True, length)
                if len(_FIELD_CACHE) < _FIELD_CACHE_MAX and _no_framing(fields):
                    _FIELD_CACHE[fields] = cached
        if cached is not None:
            return cached
    return _serialize(fields, framing, length)


def _no_framing(fields: Any) -> bool:
    """True when no field of *fields* (already validated) is one the framing rule looks at."""
    for name, _value in fields:
        raw = name.encode("latin-1") if isinstance(name, str) else name
        if raw.lower() in _FRAMING:
            return False
    return True


def _serialize(fields: _Fields, framing: bool, length: int | None) -> bytes:
    if not isinstance(fields, (list, tuple)) and isinstance(fields, Mapping):
        fields = fields.items()
    out: list[bytes] = []
    for name, value in fields:
        raw_name = _field_name(name)
        # NOTE: any int (bool and IntEnum included) is written as its decimal value, "%d".
        raw_value = b"%d" % value if isinstance(value, int) else _field_value(value)
        if framing:
            kind = _FRAMING.get(raw_name.lower())
            if kind is not None and _check_framing(kind, raw_name, raw_value, length):
                continue
        out += (raw_name, b": ", raw_value, b"\r\n")
    return b"".join(out)


class FieldBlock:
    """Header fields that do not change from one response to the next (a middleware's security
    headers, ``Vary: Origin``, a route's constant fields), checked and serialized once: where a
    response's *fields* is a FieldBlock, :func:`write_response` and :func:`write_head` copy
    :attr:`encoded` as one block instead of checking and serializing each field again
    (PERF: ``benchmarks/bench_writer.py``, ``benchmarks/bench_middleware.py``).

    It reads as the tuple of its ``(name, value)`` pairs (:attr:`fields`: iteration, ``len``,
    indexing), so code that inspects a response's fields sees them as usual; it never changes
    (a response that needs more fields takes a list of them: ``[*block, extra]``). The fields
    pass the same checks as every response's, framing rule included (module docstring), with
    no Content-Length to agree with: a block never holds a framing field (a ``Connection`` field
    with options other than ``close`` and ``keep-alive`` aside). The compiled twin's
    ``FieldBlock`` writes the same bytes; each twin's writer takes the other's as plain pairs.
    """

    __slots__ = ("fields", "encoded")

    def __init__(self, fields: _Fields) -> None:
        if not isinstance(fields, (list, tuple)) and isinstance(fields, Mapping):
            fields = fields.items()
        pairs = tuple((name, value) for name, value in fields)
        # Read-only once made (as the compiled twin's): the bytes are what was checked.
        object.__setattr__(self, "encoded", _serialize(pairs, True, None))
        object.__setattr__(self, "fields", pairs)

    #: The serialized lines, ``name: value\r\n`` each, as the writer copies them.
    encoded: bytes
    #: The ``(name, value)`` pairs, as given.
    fields: tuple[tuple[Any, Any], ...]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a FieldBlock does not change (its {name} was checked when it was made)")

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        return self.fields[index]

    def __repr__(self) -> str:
        return f"FieldBlock({list(self.fields)!r})"


def write_fields(fields: _Fields) -> bytes:
    """``name: value\\r\\n`` for each ``(name, value)`` pair, in order, validated.

    *fields* is an iterable of pairs or a Mapping (its ``items()``). Names are tokens, values
    VCHAR / obs-text / SP / HTAB; either may be ``str`` (latin-1) or ``bytes``, and a value may be
    an ``int``. A bad name or value raises ``InvalidResponseHeader``; a wrong type ``TypeError``.
    """
    return _fields(fields, False, None)


# --- Heads and whole responses --------------------------------------------------------------------


def _check_content_length(content_length: object) -> None:
    if content_length is None:
        return
    if not isinstance(content_length, int):
        raise TypeError(f"content_length must be an int, not {type(content_length).__name__}")
    if content_length < 0:
        raise ValueError(f"negative content_length: {content_length!r}")


def _no_content_length(code: int) -> bool:
    # RFC 9110 §8.6: no Content-Length in a 1xx or 204 response. RFC 9112 §6.1: nor
    # Transfer-Encoding.
    return code < 200 or code == 204


def write_head(
    status: int,
    fields: _Fields = (),
    *,
    content_length: int | None = None,
    chunked: bool = False,
    keep_alive: bool = True,
    http_1_0: bool = False,
    date: bool = True,
    server: bytes | str | None = None,
) -> bytes:
    """The response head: status line, ``Date``, ``Server``, *fields*, framing, ``Connection``.

    Framing: ``Content-Length`` when *content_length* is not None, else ``Transfer-Encoding:
    chunked`` when *chunked*, else none (close-delimited or empty body). 1xx and 204 never carry
    either, 304 never carries Transfer-Encoding; those are omitted silently. ``Connection: close``
    when not *keep_alive*; ``Connection: keep-alive`` for a persistent HTTP/1.0 exchange.
    Application *fields* that would contradict that framing raise ``InvalidResponseHeader``
    (module docstring); a Content-Length equal to the server's is written once.
    """
    code = _check_status(status)
    _check_content_length(content_length)
    if chunked and content_length is not None:
        # RFC 9112 §6.2: never Content-Length with Transfer-Encoding (a smuggling vector).
        raise ValueError("content_length and chunked are mutually exclusive")
    if chunked and http_1_0:
        # RFC 9112 §6.1: no Transfer-Encoding to an HTTP/1.0 client; the body is close-delimited.
        raise ValueError("an HTTP/1.0 response cannot use chunked transfer coding")
    parts = [status_line(code)]
    if date:
        parts.append(_date_field())
    if server is not None:
        # RFC 9110 §10.2.4: Server is text, so unlike a field value it is never an int.
        parts += (b"Server: ", _field_value(server, "server"), b"\r\n")
    # The length the server frames the message with, if it sends one: an application's
    # Content-Length must say the same (see the module docstring).
    length = None if content_length is None or _no_content_length(code) else content_length
    parts.append(_fields(fields, True, length))
    if content_length is not None:
        if length is not None:
            parts.append(b"Content-Length: %d\r\n" % length)
    elif chunked and not _no_content_length(code) and code != 304:
        # RFC 9112 §6.1: never Transfer-Encoding in a 1xx or 204; in a 304 it MAY only announce
        # a coding that was never applied, so it is left out there too.
        parts.append(b"Transfer-Encoding: chunked\r\n")
    if not keep_alive:
        parts.append(b"Connection: close\r\n")
    elif http_1_0:
        # RFC 9112 §9.3: an HTTP/1.0 connection persists only when the response says keep-alive.
        parts.append(b"Connection: keep-alive\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)


def write_response(
    status: int,
    fields: _Fields,
    body: bytes | bytearray | memoryview | str,
    keep_alive: bool = True,
    http_1_0: bool = False,
    head: bool = False,
    date: bool = True,
    server: bytes | str | None = None,
) -> bytes:
    """A whole response in one bytes object: the head with ``Content-Length`` and *body*.

    A str *body* is sent as its UTF-8 (strict: a lone surrogate is a ``UnicodeEncodeError``),
    its Content-Length the count of those bytes (the engine's text answers; PERF in the
    compiled twin: no bytes object of its own).

    ``head=True`` (a HEAD request, RFC 9110 §9.3.2) keeps the Content-Length of the body the GET
    would have sent and drops the body. 204 and 304 carry neither (RFC 9110 §6.4.1: they have
    no content). A 1xx status is a ``ValueError``: it is never a final response (RFC 9110
    §15.2); ``write_head`` writes interim heads.
    """
    if isinstance(body, str):
        body = body.encode()
    if type(body) is bytes and type(status) is int and status in _CONTENT_STATUSES:
        # PERF: the common case (a bytes body with content) in one join, the same bytes as below.
        length = len(body)
        # PERF: the status line from its cache, the status being checked above.
        parts = [_STATUS_LINES.get(status) or status_line(status), _date_field() if date else b""]
        if server is not None:
            parts += (b"Server: ", _field_value(server, "server"), b"\r\n")
        parts += (_fields(fields, True, length), b"Content-Length: %d\r\n" % length)
        if not keep_alive:
            parts.append(b"Connection: close\r\n")
        elif http_1_0:
            parts.append(b"Connection: keep-alive\r\n")
        parts.append(b"\r\n")
        if not head and length:
            parts.append(body)
        return b"".join(parts)
    code = _check_status(status)
    if code < 200:
        _not_final(code)
    if type(body) is bytes:
        length = len(body)
    else:
        # Any C-contiguous buffer; its length in bytes, whatever its item size.
        with memoryview(body) as view:
            if not view.c_contiguous:
                raise BufferError("body must be a C-contiguous buffer")
            length = view.nbytes
    if code == 204 or code == 304:
        return write_head(
            code, fields, keep_alive=keep_alive, http_1_0=http_1_0, date=date, server=server
        )
    out = write_head(
        code,
        fields,
        content_length=length,
        keep_alive=keep_alive,
        http_1_0=http_1_0,
        date=date,
        server=server,
    )
    if head or not length:
        return out
    return b"".join((out, body))
