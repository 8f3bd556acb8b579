"""Differential test: every corpus case through our parser and through httptools (llhttp).

httptools is the reference the design names (DESIGN.md, kernels). Each case of
``tests/data/requests_*.txt`` is fed whole to both parsers, and the test compares what each
accepts and what it extracts from every complete request: method, URL, version, header fields,
body, trailer fields, keep-alive and upgrade, plus the bytes left over after an upgrade.

The outcome for a case is one of:

- ``AGREE``: both accept (or both refuse) and extract the same;
- ``WE_STRICTER``: we refuse, httptools accepts (the requests before are the same);
- ``THEY_STRICTER``: httptools refuses, we accept (the requests before are the same);
- ``DIFFERENT``: both go on, but extract something differently.

Every case must ``AGREE`` unless the table below lists it (``WE_ARE_STRICTER``,
``HTTPTOOLS_IS_STRICTER`` or ``EXTRACTED_DIFFERENTLY``) with a one-line reason citing the RFC.
A disagreement not in the table fails, and so does a table entry that no longer disagrees (fix
the table when the parser changes). Cases that set a parser limit
(``options:``) are expected to be ``WE_STRICTER`` when they are invalid: httptools has no limits,
ours are parameters (RFC 9112 §3, RFC 6585 §5, RFC 9110 §15.5.14).

NOTE: llhttp keeps trailing whitespace in field values; RFC 9112 §5.1 says OWS is not part of the
value, so the comparison strips it from httptools' values before comparing.
"""

from __future__ import annotations

import dataclasses

import httptools
import pytest
from test_corpus import INVALID, VALID, Case, feed_case, whole

AGREE = "agree"
WE_STRICTER = "we refuse, httptools accepts"
THEY_STRICTER = "httptools refuses, we accept"
DIFFERENT = "both go on but extract differently"


@dataclasses.dataclass(frozen=True)
class Known:
    outcome: str
    reason: str


# Every case where we and httptools part ways, and why (llhttp's behaviour after the ";"), in
# corpus order. Entries for cases that currently fail tests/test_corpus.py state the outcome
# the corrected parser will have.
_HOST = "RFC 9112 §3.2: MUST 400 a bad/missing/repeated Host; llhttp ignores Host"
_CONNECT = "RFC 9112 §3.2.3: CONNECT takes uri-host:port only; llhttp any target"
_NO_CONTENT = "RFC 9110 §9.3.6: CONNECT has no content; llhttp tunnels the bytes"
_TCHAR_METHOD = "RFC 9110 §9.1: any token is a method; llhttp knows a fixed list"
_CLOSE = "RFC 9112 §9.6: bytes after the last request are ignored; llhttp errors"

WE_ARE_STRICTER: dict[str, str] = {
    "cl-nineteen-digits": "RFC 9110 §8.6: CL bounded to 18 digits; llhttp to 2**64-1",
    "te-gzip-chunked": "RFC 9112 §6.1: unimplemented coding is 501; llhttp ignores gzip",
    "te-gzip-chunked-two-lines": "RFC 9112 §6.1, RFC 9110 §5.3: as te-gzip-chunked",
    "te-unknown-coding-chunked": "RFC 9112 §6.1: unknown coding is 501; llhttp ignores it",
    "te-http10": "RFC 9112 §6.1: TE in HTTP/1.0 is faulty framing; llhttp decodes it",
    "te-comma-separated-junk": "RFC 9112 §6.1: codings are tokens; llhttp reads the last only",
    "leading-bare-lf": "RFC 9112 §2.2: we decline the bare-LF MAY; llhttp skips it",
    "leading-bare-cr": "RFC 9112 §2.2: bare CR never ends a line; llhttp skips it",
    "target-double-space-before": "RFC 9112 §3: single SP; llhttp takes the whitespace MAY",
    "target-double-space-after": "RFC 9112 §3: single SP; llhttp takes the whitespace MAY",
    "target-fragment": "RFC 9112 §3.2: no target form has a fragment; llhttp keeps it",
    "target-fragment-after-query": "RFC 9112 §3.2: no target form has a fragment",
    "asterisk-form-get": "RFC 9112 §3.2.4: asterisk-form is OPTIONS only; llhttp any method",
    "asterisk-form-post": "RFC 9112 §3.2.4: asterisk-form is OPTIONS only; llhttp any method",
    "asterisk-form-with-suffix": "RFC 9112 §3.2.4: only a lone * is asterisk-form",
    "connect-origin-form": _CONNECT,
    "connect-without-port": "RFC 9110 §9.3.6: CONNECT has no default port; llhttp any target",
    "connect-empty-port": "RFC 9110 §9.3.6: CONNECT has no default port; llhttp any target",
    "connect-port-not-digits": _CONNECT,
    "connect-asterisk": _CONNECT,
    "connect-absolute-form": _CONNECT,
    "connect-userinfo": _CONNECT,
    "connect-with-content-length": _NO_CONTENT,
    "connect-with-transfer-encoding": _NO_CONTENT,
    "absolute-form-unknown-scheme": "RFC 9110 §4.2: http(s) URIs only; llhttp any scheme",
    "absolute-form-empty-host": "RFC 9110 §4.2.1: MUST reject an empty host; llhttp does not",
    "absolute-form-scheme-only": "RFC 9110 §4.2.1: http:// has an empty host",
    "version-missing": "RFC 9112 Appendix C.1: no HTTP/0.9 here; llhttp serves it",
    "version-2-0": "RFC 9110 §15.6.6: major 1 only (505); llhttp any version",
    "version-0-9": "RFC 9110 §15.6.6: major 1 only (505); llhttp any version",
    "host-missing": _HOST,
    "host-missing-absolute-form": _HOST,
    "host-duplicate": _HOST,
    "host-duplicate-different": _HOST,
    "host-duplicate-name-case": _HOST,
    "host-duplicate-http10": _HOST,
    "host-duplicate-one-empty": _HOST,
    "host-list": _HOST,
    "host-space-inside": _HOST,
    "host-slash": _HOST,
    "host-userinfo": _HOST,
    "host-backslash": _HOST,
    "host-double-quote": _HOST,
    "host-non-ascii": _HOST,
    "host-port-not-digits": _HOST,
    "host-two-ports": _HOST,
    "host-ipv6-unclosed": _HOST,
    "host-bad-percent-encoding": _HOST,
    "request-line-over-default-limit": "RFC 9112 §3: default limit 8190 (414); llhttp none",
    "leading-empty-lines-over-bound": "RFC 9112 §2.2: at most 16 empty lines; llhttp any",
    "chunk-ext-no-name": "RFC 9112 §7.1.1: ext name is a token; llhttp allows it empty",
    "chunk-ext-empty-value": "RFC 9112 §7.1.1: ext value is never empty; llhttp allows it",
    "pipelined-bad-after-leading-empty-lines": "RFC 9112 Appendix C.1: no HTTP/0.9 here",
}

HTTPTOOLS_IS_STRICTER: dict[str, str] = {
    "target-obs-text": "RFC 9112 §3.2: raw UTF-8 taken as obs-text (our docstring)",
    "method-lowercase-is-another-method": _TCHAR_METHOD,
    "method-all-tchar": _TCHAR_METHOD,
    "version-1-2-served-as-1-1": "RFC 9110 §2.5: HTTP/1.x is served as 1.1; llhttp refuses",
    "version-1-9-served-as-1-1": "RFC 9110 §2.5: HTTP/1.x is served as 1.1; llhttp refuses",
    "chunked-extensions": "RFC 9112 §7.1.1: BWS allowed around ; and =; llhttp refuses",
    "chunked-trailers-with-framing-names": "RFC 9110 §6.5.1: trailers frame nothing",
    "chunked-coding-list-empty-elements": "RFC 9110 §5.6.1.2: MUST accept empty elements",
    "chunked-coding-plus-empty-field-line": "RFC 9110 §5.6.1.2: an empty element, ignored",
    "connection-close-then-more-bytes": _CLOSE,
    "http10-keep-alive-pipelined": _CLOSE,
}

EXTRACTED_DIFFERENTLY: dict[str, str] = {
    "upgrade-with-body-reads-the-body-first": "RFC 9110 §7.8: the body is HTTP/1.1's",
    "upgrade-ignored-in-http10": "RFC 9110 §7.8: MUST ignore Upgrade in HTTP/1.0; llhttp upgrades",
}

KNOWN: dict[str, Known] = {
    **{name: Known(WE_STRICTER, why) for name, why in WE_ARE_STRICTER.items()},
    **{name: Known(THEY_STRICTER, why) for name, why in HTTPTOOLS_IS_STRICTER.items()},
    **{name: Known(DIFFERENT, why) for name, why in EXTRACTED_DIFFERENTLY.items()},
}


# --- running both parsers ----------------------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    """What one parser made of a case: complete requests, whether it refused, leftover bytes."""

    requests: list[dict]
    refused: bool
    unparsed: bytes | None  # bytes handed to the next protocol after an upgrade, else None
    detail: str = ""


def ours(parser_module, case: Case) -> Outcome:
    # No resume here: httptools cannot decline an upgrade, so both stop at the first one.
    no_resume = dataclasses.replace(case, resume=False)
    p, events, exc = feed_case(parser_module, no_resume, whole(case.raw))
    requests: list[dict] = []
    for ev in events:
        if type(ev).__name__ == "RequestHead":
            current = {
                "method": ev.method,
                "url": ev.target,
                "version": ev.version,
                "headers": ev.headers.raw(),
                "body": b"",
                "trailers": [],
                "keep_alive": ev.keep_alive,
                "upgrade": ev.upgrade,
            }
        elif isinstance(ev, bytes):
            current["body"] += ev
        else:  # EndOfMessage
            current["trailers"] = ev.trailers.raw() if ev.trailers is not None else []
            requests.append(current)
    unparsed = p.take_unparsed() if exc is None and p.paused else None
    return Outcome(requests, exc is not None, unparsed, repr(exc) if exc else "")


class _Collector:
    """httptools callbacks, gathered into the same shape as :func:`ours`."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.current: dict = {}
        self.parser: httptools.HttpRequestParser | None = None

    def on_message_begin(self) -> None:
        self.current = {"url": b"", "headers": [], "body": b"", "trailers": [], "in_head": True}

    def on_url(self, url: bytes) -> None:
        self.current["url"] += url

    def on_header(self, name: bytes, value: bytes) -> None:
        # llhttp reports trailer fields through on_header too, after the head is complete.
        field = (bytes(name), bytes(value).rstrip(b" \t"))
        self.current["headers" if self.current["in_head"] else "trailers"].append(field)

    def on_headers_complete(self) -> None:
        p = self.parser
        self.current["in_head"] = False
        self.current["method"] = p.get_method().decode("latin-1")
        self.current["version"] = p.get_http_version()
        self.current["upgrade"] = p.should_upgrade()

    def on_body(self, body: bytes) -> None:
        self.current["body"] += body

    def on_message_complete(self) -> None:
        self.current["keep_alive"] = self.parser.should_keep_alive()
        del self.current["in_head"]
        self.requests.append(self.current)


def theirs(case: Case) -> Outcome:
    c = _Collector()
    c.parser = httptools.HttpRequestParser(c)
    try:
        c.parser.feed_data(case.raw)
    except httptools.HttpParserUpgrade as exc:
        return Outcome(c.requests, False, case.raw[exc.args[0] :])
    except httptools.HttpParserError as exc:
        return Outcome(c.requests, True, None, repr(exc))
    return Outcome(c.requests, False, None)


def compare(a: Outcome, b: Outcome) -> str:
    """The outcome of our parser (*a*) against httptools (*b*)."""
    if a.refused == b.refused and a.requests == b.requests and a.unparsed == b.unparsed:
        return AGREE
    if a.refused and not b.refused and a.requests == b.requests[: len(a.requests)]:
        return WE_STRICTER
    if b.refused and not a.refused and b.requests == a.requests[: len(b.requests)]:
        return THEY_STRICTER
    return DIFFERENT


def expected(case: Case) -> Known:
    if case.name in KNOWN:
        return KNOWN[case.name]
    if case.error is not None and case.options:
        return Known(WE_STRICTER, "a limit of ours (a RequestParser parameter); httptools has none")
    return Known(AGREE, "")


CASES = INVALID + VALID


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_parser_and_httptools_agree_unless_known(impl, case):
    a, b = ours(impl.parser, case), theirs(case)
    want = expected(case)
    got = compare(a, b)
    assert got == want.outcome, (
        f"{case}: {got} (expected {want.outcome}: {want.reason or 'no known difference'})\n"
        f"  ours:      {a.detail or 'accepted'} {a.requests} unparsed={a.unparsed!r}\n"
        f"  httptools: {b.detail or 'accepted'} {b.requests} unparsed={b.unparsed!r}"
    )


def test_known_differences_name_corpus_cases():
    assert sorted(set(KNOWN) - {c.name for c in CASES}) == []


def test_a_case_is_listed_under_one_outcome_at_most():
    tables = [WE_ARE_STRICTER, HTTPTOOLS_IS_STRICTER, EXTRACTED_DIFFERENTLY]
    assert sum(len(t) for t in tables) == len(KNOWN)


def test_known_differences_give_a_reason_citing_an_rfc():
    assert [name for name, k in KNOWN.items() if "RFC" not in k.reason or k.outcome == AGREE] == []


def test_the_differential_fuzzer_finds_nothing_in_a_bounded_run():
    # tests/fuzz_parser.py: mutated corpus cases through both twins (whole and split), httptools
    # and h11. A fixed seed and a fixed number of inputs keep the suite deterministic; longer
    # runs are `python tests/fuzz_parser.py --seconds N`.
    import fuzz_parser

    from fasthttp._compat import NO_EXTENSIONS

    stats = fuzz_parser.run(iterations=2000, seed=20261206, compiled=not NO_EXTENSIONS)
    assert stats.inputs == 2000
    assert [(f.kind, f.notation(), f.detail) for f in stats.findings] == []


def test_the_fuzzer_reports_a_framing_disagreement(monkeypatch):
    # The harness itself: a parser that frames differently is a finding, in corpus notation.
    import fuzz_parser

    monkeypatch.setattr(fuzz_parser, "theirs_h11", lambda data: ([("GET", b"/other", b"")], None))
    stats = fuzz_parser.Stats()
    py = fuzz_parser.twins("_pure")
    fuzz_parser.check(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", fuzz_parser.random.Random(0), py, None, stats)
    assert [f.kind for f in stats.findings] == ["h11"]
    assert stats.findings[0].notation() == "GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n"
