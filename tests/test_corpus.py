"""The request corpus (``tests/data/requests_*.txt``) through both parser twins.

The corpus is the specification of what the parser accepts and refuses; this module only runs it.
Every invalid case must raise its stated error type with its stated status, fed whole and fed one
byte at a time, and the requests before the bad bytes must still come out complete (in
``exc.events`` and in what earlier feeds returned). Every valid case must produce exactly the
requests it lists, fed whole and fed one byte at a time, and leave the parser in the stated state.

The file format is described at the top of ``tests/data/requests_invalid.txt``; :func:`load_corpus`
reads it, and tests/test_differential.py reuses it to put the same cases through httptools.
"""

from __future__ import annotations

import dataclasses
import pathlib
import re
from collections.abc import Iterable, Iterator

import pytest

from fasthttp import errors

DATA = pathlib.Path(__file__).parent / "data"
INVALID_FILE = DATA / "requests_invalid.txt"
VALID_FILE = DATA / "requests_valid.txt"


# --- the corpus format --------------------------------------------------------------------------

_ESCAPE = re.compile(r"\\(?:x([0-9a-fA-F]{2})|\{(\d+):([^}]*)\}|(.))")
_SIMPLE_ESCAPES = {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\"}


def unescape(text: str) -> bytes:
    r"""Bytes from the corpus notation: ``\r \n \t \\ \xHH`` and ``\{N:TEXT}`` (TEXT N times).

    Anything else must be printable ASCII, so that every byte of a case is visible in the file.
    """

    def one(m: re.Match[str]) -> str:
        hex_byte, count, repeated, char = m.groups()
        if hex_byte is not None:
            return chr(int(hex_byte, 16))
        if count is not None:
            return unescape(repeated).decode("latin-1") * int(count)
        if char not in _SIMPLE_ESCAPES:
            raise ValueError(f"unknown escape \\{char} in {text!r}")
        return _SIMPLE_ESCAPES[char].decode("latin-1")

    for c in _ESCAPE.sub("", text):
        if c == "\\":
            raise ValueError(f"a lone backslash in {text!r} (write \\\\)")
        if not " " <= c <= "~":
            raise ValueError(f"write {c!r} as an escape in {text!r}")
    return _ESCAPE.sub(one, text).encode("latin-1")


@dataclasses.dataclass
class Request:
    """One request the parser must deliver, as the corpus states it."""

    method: str = ""
    target: bytes = b""
    path: str | None = None
    query: str | None = None
    version: str = "1.1"
    headers: list[tuple[bytes, bytes]] = dataclasses.field(default_factory=list)
    body: bytes = b""
    trailers: list[tuple[bytes, bytes]] | None = None
    keep_alive: bool | None = None
    content_length: int | None = None
    chunked: bool = False
    upgrade: bool = False
    expect_continue: bool = False
    complete: bool = True

    def resolved(self) -> dict:
        """The expectation with its defaults filled in, in the shape :func:`observe` returns."""
        path, query = self.path, self.query
        if path is None or query is None:
            origin_path, _, origin_query = self.target.decode("latin-1").partition("?")
            path = origin_path if path is None else path
            query = origin_query if query is None else query
        keep_alive = self.version == "1.1" if self.keep_alive is None else self.keep_alive
        return {
            "method": self.method,
            "target": self.target,
            "path": path,
            "query": query,
            "version": self.version,
            "headers": self.headers,
            "body": self.body,
            "trailers": self.trailers,
            "keep_alive": keep_alive,
            "content_length": self.content_length,
            "chunked": self.chunked,
            "upgrade": self.upgrade,
            "expect_continue": self.expect_continue,
            "complete": self.complete,
        }


@dataclasses.dataclass
class Case:
    """One corpus entry. ``error`` is None for a valid case."""

    name: str
    source: str  # "file:line", for failure messages
    why: str = ""
    error: type[errors.HttpProtocolError] | None = None
    status: int | None = None
    options: dict[str, int | None] = dataclasses.field(default_factory=dict)
    raw: bytes = b""
    requests: list[Request] = dataclasses.field(default_factory=list)
    state: str = "open"  # "open", "paused" or "closed" once everything is fed
    unparsed: bytes = b""  # what take_unparsed() returns when the parser ends paused
    resume: bool = False  # decline every upgrade: call resume() whenever the parser pauses

    def __str__(self) -> str:
        return f"{self.name} ({self.source})"


_BOOL = {"yes": True, "no": False}
_STATES = ("open", "paused", "closed")


def _kv(line: str) -> tuple[str, str]:
    key, colon, value = line.partition(":")
    if not colon or not re.fullmatch(r"[a-z-]+", key):
        raise ValueError(f"expected 'key: value', got {line!r}")
    return key, value.removeprefix(" ")


def _field(value: str) -> tuple[bytes, bytes]:
    name, colon, rest = value.partition(":")
    if not colon:
        raise ValueError(f"expected 'Name: value', got {value!r}")
    return unescape(name), unescape(rest.strip(" "))


def _options(value: str) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for item in value.split():
        name, _, number = item.partition("=")
        out[name] = None if number == "None" else int(number)
    return out


def _set_case(case: Case, key: str, value: str) -> None:
    if key == "why":
        case.why = value
    elif key == "expect":
        name, status = value.split()
        case.error = getattr(errors, name)
        case.status = int(status)
    elif key == "options":
        case.options = _options(value)
    elif key == "state":
        if value not in _STATES:
            raise ValueError(f"state is one of {_STATES}, not {value!r}")
        case.state = value
    elif key == "unparsed":
        case.unparsed = unescape(value)
    elif key == "resume":
        case.resume = _BOOL[value]
    else:
        raise ValueError(f"unknown case key {key!r}")


def _set_request(req: Request, key: str, value: str) -> None:
    if key == "method":
        req.method = value
    elif key == "target":
        req.target = unescape(value)
    elif key in ("path", "query"):
        setattr(req, key, unescape(value).decode("latin-1"))
    elif key == "version":
        req.version = value
    elif key == "header":
        req.headers.append(_field(value))
    elif key == "trailer":
        req.trailers = (req.trailers or []) + [_field(value)]
    elif key == "body":
        req.body += unescape(value)
    elif key in ("keep-alive", "chunked", "upgrade", "expect-continue", "complete"):
        setattr(req, key.replace("-", "_"), _BOOL[value])
    elif key == "content-length":
        req.content_length = int(value)
    else:
        raise ValueError(f"unknown request key {key!r}")


def parse_corpus(lines: Iterable[str], filename: str) -> Iterator[Case]:
    """Read cases from the corpus notation (see the top of tests/data/requests_invalid.txt)."""
    case: Case | None = None
    req: Request | None = None
    in_raw = False
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\n")
        where = f"{filename}:{number}"
        try:
            if line != line.rstrip(" \t"):
                raise ValueError("trailing whitespace (write it as \\x20 or \\t)")
            if in_raw and line.startswith("    "):
                case.raw += unescape(line[4:])  # type: ignore[union-attr]
                continue
            in_raw = False
            if not line or line.startswith("#"):
                continue
            if line.startswith("=== "):
                if case is not None:
                    yield case
                case, req = Case(name=line[4:].strip(), source=where), None
            elif case is None:
                raise ValueError("text before the first '=== name' line")
            elif line == "raw:":
                in_raw = True
            elif line == "--- request":
                req = Request()
                case.requests.append(req)
            elif req is None:
                _set_case(case, *_kv(line))
            else:
                _set_request(req, *_kv(line))
        except (ValueError, KeyError, AttributeError) as exc:
            raise ValueError(f"{where}: {exc}") from None
    if case is not None:
        yield case


def load_corpus(path: pathlib.Path) -> list[Case]:
    with path.open(encoding="utf-8") as f:
        return list(parse_corpus(f, path.name))


INVALID = load_corpus(INVALID_FILE)
VALID = load_corpus(VALID_FILE)


def _ids(cases: list[Case]) -> list[str]:
    return [c.name for c in cases]


# --- running a case -----------------------------------------------------------------------------


def observe(events: list) -> list[dict]:
    """Group parser events into requests (the shape :meth:`Request.resolved` returns)."""
    out: list[dict] = []
    for ev in events:
        if type(ev).__name__ == "RequestHead":
            out.append(
                {
                    "method": ev.method,
                    "target": ev.target,
                    "path": ev.path,
                    "query": ev.query,
                    "version": ev.version,
                    "headers": ev.headers.raw(),
                    "body": b"",
                    "trailers": None,
                    "keep_alive": ev.keep_alive,
                    "content_length": ev.content_length,
                    "chunked": ev.chunked,
                    "upgrade": ev.upgrade,
                    "expect_continue": ev.expect_continue,
                    "complete": False,
                }
            )
        elif isinstance(ev, bytes):
            out[-1]["body"] += ev
        else:  # EndOfMessage
            out[-1]["trailers"] = ev.trailers.raw() if ev.trailers is not None else None
            out[-1]["complete"] = True
    return out


def feed_case(parser_module, case: Case, pieces: Iterable[bytes]):
    """Feed *pieces* to a new parser; return ``(parser, events, error)``.

    When the case declines upgrades (``resume: yes``), the parser is resumed as soon as it pauses.
    """
    p = parser_module.RequestParser(**case.options)
    events: list = []
    try:
        for piece in pieces:
            events += p.feed(piece)
            while case.resume and p.paused:
                events += p.resume()
    except errors.HttpProtocolError as exc:
        return p, events + exc.events, exc
    return p, events, None


def whole(data: bytes) -> list[bytes]:
    return [data]


def bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


FEEDS = [pytest.param(whole, id="whole"), pytest.param(bytewise, id="bytewise")]


# --- the corpus files themselves ----------------------------------------------------------------


def test_case_names_are_unique_across_both_files():
    names = _ids(INVALID) + _ids(VALID)
    assert sorted(n for n in set(names) if names.count(n) > 1) == []


def test_every_case_says_why():
    assert [str(c) for c in INVALID + VALID if not c.why] == []


def test_every_invalid_case_names_an_error_and_its_status():
    wrong = [str(c) for c in INVALID if c.error is None or c.error.status != c.status]
    assert wrong == []


def test_valid_cases_name_no_error_and_list_their_requests():
    assert [str(c) for c in VALID if c.error is not None or not c.requests] == []


def test_notation_escapes_and_repetition():
    assert unescape(r"a\r\n\t\\\x00\xff") == b"a\r\n\t\\\x00\xff"
    assert unescape(r"\{3:ab\r\n}") == b"ab\r\nab\r\nab\r\n"


def test_notation_refuses_invisible_bytes():
    with pytest.raises(ValueError):
        unescape("tab\tinside")


# --- invalid cases ------------------------------------------------------------------------------


@pytest.mark.parametrize("feed", FEEDS)
@pytest.mark.parametrize("case", INVALID, ids=_ids(INVALID))
def test_invalid_request_is_refused_with_its_error(impl, case, feed):
    _, _, exc = feed_case(impl.parser, case, feed(case.raw))
    assert exc is not None, f"{case} was accepted"
    assert type(exc) is case.error, f"{case}: {exc!r}"
    assert exc.status == case.status


PIPELINED_INVALID = [c for c in INVALID if c.requests]


@pytest.mark.parametrize("feed", FEEDS)
@pytest.mark.parametrize("case", PIPELINED_INVALID, ids=_ids(PIPELINED_INVALID))
def test_requests_before_the_bad_bytes_still_come_out(impl, case, feed):
    _, events, exc = feed_case(impl.parser, case, feed(case.raw))
    assert exc is not None, f"{case} was accepted"
    got = [r for r in observe(events) if r["complete"]]
    assert got == [r.resolved() for r in case.requests], str(case)


@pytest.mark.parametrize("case", INVALID, ids=_ids(INVALID))
def test_parser_stays_failed_after_an_invalid_request(impl, case):
    p, _, exc = feed_case(impl.parser, case, whole(case.raw))
    assert exc is not None, f"{case} was accepted"
    with pytest.raises(type(exc)) as again:
        p.feed(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
    assert again.value.events == []


# --- valid cases --------------------------------------------------------------------------------


@pytest.mark.parametrize("feed", FEEDS)
@pytest.mark.parametrize("case", VALID, ids=_ids(VALID))
def test_valid_request_produces_its_requests(impl, case, feed):
    _, events, exc = feed_case(impl.parser, case, feed(case.raw))
    assert exc is None, f"{case} was refused: {exc!r}"
    assert observe(events) == [r.resolved() for r in case.requests], str(case)


@pytest.mark.parametrize("feed", FEEDS)
@pytest.mark.parametrize("case", VALID, ids=_ids(VALID))
def test_valid_request_leaves_the_parser_in_its_state(impl, case, feed):
    p, _, exc = feed_case(impl.parser, case, feed(case.raw))
    assert exc is None, f"{case} was refused: {exc!r}"
    state = "paused" if p.paused else "closed" if p.closed else "open"
    assert state == case.state, str(case)
    if case.state == "paused":
        assert p.take_unparsed() == case.unparsed
        assert p.closed
