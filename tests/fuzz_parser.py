"""Differential fuzzing of the request parser: both twins against httptools (llhttp) and h11.

Strategy: seeds (every raw case of ``tests/data/requests_*.txt`` plus the framing-heavy lines of
``tests/data/fuzz_parser_seeds.txt``, written in the corpus notation of ``test_corpus.unescape``)
are mutated at random -- bytes flipped, inserted or deleted, framing tokens spliced in (CRLF, bare
LF, ``Content-Length``, ``Transfer-Encoding``, leading zeros, huge numbers), lines duplicated or
swapped, the input cut short -- and every mutant is fed to four parsers:

- the pure and the compiled twin, fed whole and split at a random byte: they must agree exactly
  (the same requests, the same error type), as tests/test_parity.py requires for its inputs;
- httptools and h11: where both sides go through the input without error, they must frame it the
  same way: the same number of complete requests, each with the same method, target and body.
  Where one side refuses and the other accepts, that is strictness, not a framing disagreement
  (tests/test_differential.py lists the deliberate ones for the corpus); it is counted, not failed.

A finding is printed in the corpus notation (and, with ``--save DIR``, written there) so that it can
become a case of ``tests/data/requests_*.txt``. Run for a bounded time::

    python tests/fuzz_parser.py --seconds 60 [--seed N] [--save tests/data/fuzz_findings]

tests/test_differential.py runs a fixed number of iterations of it on every suite run.
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import random
import sys
import time
from collections.abc import Callable
from typing import Any

HERE = pathlib.Path(__file__).parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

import h11  # noqa: E402
import httptools  # noqa: E402
from test_corpus import INVALID, VALID, unescape  # noqa: E402

from fasthttp._compat import twins  # noqa: E402
from fasthttp.errors import HttpProtocolError  # noqa: E402

SEEDS_FILE = HERE / "data" / "fuzz_parser_seeds.txt"

#: Tokens a mutation splices in: the bytes request smuggling is made of.
TOKENS = [
    b"\r\n", b"\n", b"\r", b" ", b"\t", b"\x00", b":", b",", b";", b"\r\n\r\n",
    b"Content-Length: ", b"Transfer-Encoding: chunked", b"Transfer-Encoding: ", b"chunked",
    b"Host: a\r\n", b"0", b"00000000000000000000", b"5", b"18446744073709551616",
    b"FFFFFFFFFFFFFFFF", b"0\r\n\r\n", b"5\r\nhello\r\n", b"GET / HTTP/1.1\r\n", b"HTTP/1.0",
    b"Connection: close\r\n", b"Expect: 100-continue\r\n", b";ext=1", b"\xff", b"\x7f",
]  # fmt: skip


def load_seeds() -> list[bytes]:
    seeds = [case.raw for case in VALID + INVALID if case.raw]
    for line in SEEDS_FILE.read_text().splitlines():
        if line and not line.startswith("#"):
            seeds.append(unescape(line))
    return seeds


def mutate(rng: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(8)
        pos = rng.randint(0, len(out))
        if op == 0 and out:  # flip a byte
            out[min(pos, len(out) - 1)] = rng.randrange(256)
        elif op == 1:  # insert a token
            out[pos:pos] = rng.choice(TOKENS)
        elif op == 2 and out:  # delete a span
            del out[pos : pos + rng.randint(1, 8)]
        elif op == 3:  # duplicate a line
            lines = bytes(out).split(b"\r\n")
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])
            out = bytearray(b"\r\n".join(lines))
        elif op == 4:  # swap two lines
            lines = bytes(out).split(b"\r\n")
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            out = bytearray(b"\r\n".join(lines))
        elif op == 5:  # splice another seed after this one (pipelining)
            out += rng.choice(seeds)
        elif op == 6:  # cut short
            del out[pos:]
        else:  # change the case of a span
            span = slice(pos, pos + rng.randint(1, 16))
            out[span] = bytes(out[span]).swapcase()
    return bytes(out)


# --- the four readers: each returns (messages, error) ------------------------------------------------
# A message is (method, target, body); error is None or a short description.

Outcome = tuple[list[tuple[str, bytes, bytes]], "str | None"]


def ours(parser_module: Any, data: bytes, split: int | None = None) -> tuple[list[Any], str | None]:
    """Our parser, as the full event list (for the twins' exact comparison) and the error type."""
    parser = parser_module.RequestParser()
    events: list[Any] = []
    pieces = [data] if split is None else [data[:split], data[split:]]
    try:
        for piece in pieces:
            events += parser.feed(piece)
    except HttpProtocolError as exc:
        events += getattr(exc, "events", None) or []
        return _coalesce(events), type(exc).__name__
    return _coalesce(events), None


def _coalesce(events: list[Any]) -> list[Any]:
    """The events described, adjacent body pieces joined (a split feed cuts them elsewhere)."""
    out: list[Any] = []
    for event in events:
        described = _describe(event)
        if isinstance(described, bytes) and out and isinstance(out[-1], bytes):
            out[-1] += described
        else:
            out.append(described)
    return out


def _describe(event: Any) -> Any:
    if isinstance(event, (bytes, bytearray)):
        return bytes(event)
    if hasattr(event, "method"):
        return ("head", event.method, bytes(event.target), event.version, event.headers.raw(), event.upgrade)
    trailers = getattr(event, "trailers", None)
    return ("end", None if trailers is None else trailers.raw())


def framing_of(events: list[Any]) -> list[tuple[str, bytes, bytes]]:
    """The complete requests in our events, stopping at an upgrade (the stream is not HTTP after)."""
    out: list[tuple[str, bytes, bytes]] = []
    current: list[Any] | None = None
    for ev in events:
        if isinstance(ev, bytes):
            if current is not None:
                current[2] += ev
        elif ev[0] == "head":
            if ev[5]:
                break
            current = [ev[1], ev[2], b""]
        elif current is not None:
            out.append((current[0], current[1], current[2]))
            current = None
    return out


class _HttptoolsSink:
    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes, bytes]] = []
        self.url = b""
        self.body = b""
        self.parser: Any = None

    def on_message_begin(self) -> None:
        self.url, self.body = b"", b""

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.messages.append((self.parser.get_method().decode("latin-1"), self.url, self.body))


def theirs_httptools(data: bytes) -> Outcome:
    sink = _HttptoolsSink()
    parser = sink.parser = httptools.HttpRequestParser(sink)
    try:
        parser.feed_data(data)
    except httptools.HttpParserUpgrade:
        return sink.messages, "upgrade"
    except httptools.HttpParserError as exc:
        return sink.messages, type(exc).__name__
    return sink.messages, None


def theirs_h11(data: bytes) -> Outcome:
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(data)
    messages: list[tuple[str, bytes, bytes]] = []
    current: list[Any] | None = None
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                return messages, None
            if event is h11.PAUSED:  # an upgrade or CONNECT: not HTTP after it
                return messages, "upgrade"
            if isinstance(event, h11.Request):
                current = [event.method.decode("latin-1"), event.target, b""]
            elif isinstance(event, h11.Data) and current is not None:
                current[2] += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage) and current is not None:
                messages.append((current[0], current[1], current[2]))
                current = None
                # h11 moves on only once the response is sent.
                conn.send(h11.Response(status_code=200, headers=[("Content-Length", "0")]))
                conn.send(h11.EndOfMessage())
                conn.start_next_cycle()
            elif isinstance(event, h11.ConnectionClosed):
                return messages, None
    except h11.RemoteProtocolError as exc:
        return messages, type(exc).__name__
    except h11.LocalProtocolError as exc:  # a request h11 cannot answer in sequence (HTTP/1.0...)
        return messages, type(exc).__name__


@dataclasses.dataclass
class Finding:
    kind: str
    data: bytes
    detail: str

    def notation(self) -> str:
        return "".join(
            "\\r" if b == 13 else "\\n" if b == 10 else "\\t" if b == 9 else "\\\\" if b == 92
            else chr(b) if 32 <= b < 127 else f"\\x{b:02x}"
            for b in self.data
        )  # fmt: skip


@dataclasses.dataclass
class Stats:
    inputs: int = 0
    we_stricter: dict[str, int] = dataclasses.field(default_factory=lambda: {"httptools": 0, "h11": 0})
    they_stricter: dict[str, int] = dataclasses.field(default_factory=lambda: {"httptools": 0, "h11": 0})
    findings: list[Finding] = dataclasses.field(default_factory=list)


def check(data: bytes, rng: random.Random, py: Any, c: Any | None, stats: Stats) -> None:
    stats.inputs += 1
    events, error = ours(py.parser, data)
    if c is not None:
        split = rng.randint(0, len(data))
        for other in (ours(c.parser, data), ours(c.parser, data, split), ours(py.parser, data, split)):
            if other != (events, error):
                stats.findings.append(Finding("twins", data, f"{(events, error)!r} != {other!r}"))
                return
    framed = framing_of(events)
    if any(isinstance(ev, tuple) and ev[0] == "head" and ev[5] for ev in events):
        error = error or "upgrade"  # the stream is not HTTP after it: compare what came before
    readers: dict[str, Callable[[bytes], Outcome]] = {"httptools": theirs_httptools, "h11": theirs_h11}
    for name, reader in readers.items():
        messages, their_error = reader(data)
        if error is None and their_error is None:
            if framed != messages:
                stats.findings.append(Finding(name, data, f"ours {framed!r} != {name} {messages!r}"))
            continue
        # One side refused: the requests both completed before it must still agree.
        n = min(len(framed), len(messages))
        if framed[:n] != messages[:n]:
            stats.findings.append(Finding(name, data, f"ours {framed[:n]!r} != {name} {messages[:n]!r}"))
        elif error is not None and their_error is None:
            stats.we_stricter[name] += 1
        elif error is None and their_error is not None:
            stats.they_stricter[name] += 1


def run(*, seconds: float | None = None, iterations: int | None = None, seed: int = 0, compiled: bool = True) -> Stats:
    """Fuzz until *seconds* pass or *iterations* inputs ran (whichever is given first)."""
    rng = random.Random(seed)
    seeds = load_seeds()
    py = twins("_pure")
    c = None
    if compiled:
        try:
            c = twins("_speedups")
        except ImportError:
            c = None
    stats = Stats()
    deadline = None if seconds is None else time.monotonic() + seconds
    while True:
        if iterations is not None and stats.inputs >= iterations:
            break
        if deadline is not None and time.monotonic() >= deadline:
            break
        check(mutate(rng, rng.choice(seeds), seeds), rng, py, c, stats)
    return stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--pure-only", action="store_true", help="skip the compiled twin")
    ap.add_argument("--save", type=pathlib.Path, help="write each finding there, in the corpus notation")
    args = ap.parse_args(argv)
    stats = run(seconds=args.seconds, seed=args.seed, compiled=not args.pure_only)
    print(f"seed {args.seed}: {stats.inputs} inputs, {len(stats.findings)} findings")
    print(f"  we refuse, they accept: {stats.we_stricter}; they refuse, we accept: {stats.they_stricter}")
    for i, finding in enumerate(stats.findings):
        print(f"[{finding.kind}] {finding.notation()}\n    {finding.detail}")
        if args.save is not None:
            args.save.mkdir(parents=True, exist_ok=True)
            (args.save / f"{args.seed}-{i}-{finding.kind}.txt").write_text(finding.notation() + "\n")
    return 1 if stats.findings else 0


if __name__ == "__main__":
    sys.exit(main())
