"""Soak: about two million keep-alive requests against one fasthttp worker, and what they leave.

Method: after a warm-up (``warmup`` requests of the same mix, so lazy imports, caches and the
allocator's arenas are paid), read the worker's VmRSS and its open file descriptors; then run the
mix -- plaintext and JSON, POST bodies, pipelined batches, 404s, malformed requests (a 400 that
closes), and disconnects in the middle of a response (a large file read in part, then the socket
closed) -- over ``connections`` keep-alive connections, reconnecting when the server closes one;
then close every connection, let the worker settle, and read both again.

Verdict (issue 10): the RSS after the run is within ``RSS_TOLERANCE`` (5%) of the RSS after
warm-up, and the descriptors are back to their starting count. Any response that is not the one
the step expects is counted as an error (and a run with errors fails too).

Bounded: the run stops at ``deadline_s`` even when the requests are not all sent; every socket is
closed before returning. Single-threaded and blocking on purpose: the client must not be the
bottleneck's source of variance, only of load; the worker's numbers are what is measured.

Run it with ``python -m benchmarks.server --soak`` (not part of the usual schedule).
"""

from __future__ import annotations

import os
import random
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from . import procstat
from .httpcheck import ResponseReader

__all__ = ("Step", "STEPS", "SoakResult", "verdict", "fd_count", "run_soak", "plan")

#: RSS growth allowed between warm-up and the end of the run.
RSS_TOLERANCE = 0.05
PIPELINE = 16
POST_BODY = b"p" * 4096


@dataclass(frozen=True)
class Step:
    """One kind of exchange in the mix: the bytes sent, the statuses expected (one per request),
    whether the server closes afterwards, and whether the client hangs up after *partial* bytes."""

    name: str
    weight: int
    payload: Callable[[str], bytes]
    statuses: tuple[int, ...]
    server_closes: bool = False
    hang_up_after: int | None = None  # bytes of the response read before the client closes


def _get(path: str, extra: str = "") -> Callable[[str], bytes]:
    return lambda host: f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode()


def _post(host: str) -> bytes:
    head = f"POST /echo HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(POST_BODY)}\r\n\r\n"
    return head.encode() + POST_BODY


STEPS: tuple[Step, ...] = (
    Step("plaintext", 40, _get("/plaintext"), (200,)),
    Step("json", 20, _get("/json"), (200,)),
    Step("post", 10, _post, (200,)),
    Step("pipeline", 10, lambda host: _get("/plaintext")(host) * PIPELINE, (200,) * PIPELINE),
    Step("not-found", 8, _get("/no/such/route"), (404,)),
    Step("malformed", 2, lambda host: b"GET / HTTP/1.1\r\nHost: " + host.encode() + b"\r\nBad Header\r\n\r\n", (400,), server_closes=True),
    Step("disconnect", 2, _get("/file"), (200,), hang_up_after=1024),
    Step("close", 8, _get("/plaintext", "Connection: close\r\n"), (200,), server_closes=True),
)  # fmt: skip


def plan(rng: random.Random, steps: tuple[Step, ...] = STEPS) -> Callable[[], Step]:
    """A weighted chooser over *steps*."""
    population = [s for s in steps for _ in range(s.weight)]
    return lambda: rng.choice(population)


@dataclass
class SoakResult:
    requests: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    worker_pid: int | None = None
    rss_warm_kib: int | None = None
    rss_after_kib: int | None = None
    fds_start: int | None = None
    fds_after: int | None = None
    seconds: float = 0.0
    failure: str | None = None

    @property
    def rss_growth(self) -> float | None:
        if not self.rss_warm_kib or self.rss_after_kib is None:
            return None
        return (self.rss_after_kib - self.rss_warm_kib) / self.rss_warm_kib

    def as_dict(self) -> dict:
        return {**asdict(self), "rss_growth": self.rss_growth, "passed": verdict(self) is None}


def verdict(result: SoakResult) -> str | None:
    """None when the soak passed, else why not (issue 10's criteria)."""
    if result.failure:
        return result.failure
    if result.errors:
        return f"{result.errors} unexpected responses, e.g. {result.error_samples[:3]}"
    growth = result.rss_growth
    if growth is None:
        return "no RSS reading"
    if growth > RSS_TOLERANCE:
        return f"RSS grew {growth:.1%} (from {result.rss_warm_kib} to {result.rss_after_kib} KiB), over {RSS_TOLERANCE:.0%}"
    if result.fds_after != result.fds_start:
        return f"open descriptors went from {result.fds_start} to {result.fds_after}"
    return None


def fd_count(pid: int) -> int | None:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


class _Conn:
    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.reader = ResponseReader()

    def close(self) -> None:
        self.sock.close()


def exchange(conn: _Conn, step: Step, host: str, deadline: float) -> tuple[list[int], bool]:
    """Run *step* on *conn*: the statuses read and whether the connection is still usable."""
    conn.sock.sendall(step.payload(host))
    reader = conn.reader
    want = len(step.statuses)
    reader.expect(want)
    got = 0
    while len(reader.responses) < want:
        conn.sock.settimeout(max(0.01, deadline - time.monotonic()))
        data = conn.sock.recv(1 << 18)
        if not data:
            reader.feed_eof()
            break
        got += len(data)
        if step.hang_up_after is not None and got >= step.hang_up_after:
            return [step.statuses[0]], False  # hang up mid-response, on purpose
        reader.feed(data)
    statuses = [r.status for r in reader.responses]
    reader.responses.clear()
    return statuses, not step.server_closes and len(statuses) == want


def run_soak(
    host: str,
    port: int,
    worker_pid: int,
    *,
    requests: int = 2_000_000,
    warmup: int = 20_000,
    connections: int = 32,
    deadline_s: float = 3600.0,
    settle_s: float = 2.0,
    seed: int = 0,
) -> SoakResult:
    """Soak the server at *host:port* whose worker is *worker_pid* (see the module docstring)."""
    result = SoakResult(worker_pid=worker_pid)
    rng = random.Random(seed)
    choose = plan(rng)
    authority = f"{host}:{port}"
    start = time.monotonic()
    deadline = start + deadline_s
    pool: list[_Conn | None] = [None] * connections

    def drive(count: int) -> int:
        sent = 0
        while sent < count and time.monotonic() < deadline:
            i = sent % connections
            conn = pool[i]
            if conn is None:
                conn = pool[i] = _Conn(host, port, timeout=10.0)
            step = choose()
            try:
                statuses, usable = exchange(conn, step, authority, deadline)
            except (OSError, ValueError) as exc:
                statuses, usable = [], False
                result.error_samples.append(f"{step.name}: {type(exc).__name__}: {exc}")
                result.errors += 1
            if statuses != list(step.statuses) and statuses:
                result.errors += 1
                if len(result.error_samples) < 20:
                    result.error_samples.append(f"{step.name}: {statuses} != {list(step.statuses)}")
            sent += len(step.statuses)
            if not usable:
                conn.close()
                pool[i] = None
        return sent

    def close_all() -> None:
        for i, conn in enumerate(pool):
            if conn is not None:
                conn.close()
                pool[i] = None

    try:
        # The starting descriptor count: the worker idle, before any connection of ours.
        result.fds_start = fd_count(worker_pid)
        drive(warmup)
        close_all()
        time.sleep(settle_s)
        result.rss_warm_kib = procstat.rss_kib(worker_pid)
        result.requests = drive(requests)
        if result.requests < requests:
            result.failure = f"deadline: {result.requests} of {requests} requests in {deadline_s:g} s"
    finally:
        close_all()
        time.sleep(settle_s)
        result.rss_after_kib = procstat.rss_kib(worker_pid)
        result.fds_after = fd_count(worker_pid)
        result.seconds = time.monotonic() - start
    return result
