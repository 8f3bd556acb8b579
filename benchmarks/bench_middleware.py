"""Plaintext with CORS + Sessions + SecurityHeaders installed, against the same app without them.

Issue 18's target: the three middleware together cost at most 20% of plaintext throughput. Each
case serves ``GET /plaintext`` (``Hello, World!``) from a real server on 127.0.0.1 (``App.run`` in
a process of its own, one worker) and sends a batch of pipelined requests on one keep-alive connection (a writer
thread, so neither side blocks on a full socket buffer), reading every answer: parse, the fast
route, the middleware, the writer and the socket. Two request shapes: the
benchmark's own (no ``Origin``, no cookie) and a browser's (``Origin`` of an allowed site and a
signed session cookie, which CORS answers with its fields and Sessions verifies).

Run: ``python -m pytest benchmarks/bench_middleware.py`` (timing: compare the ``bare`` and
``secured`` rows of a group), ``--benchmark-disable`` (CI: each case checks its answers once).
``python benchmarks/bench_middleware.py`` prints, for every case from one run, interleaved (bare,
pass-through, secured, bare, ...) so that machine noise hits all alike, the best requests per
second and the server process's CPU time per request (``/proc``: on a shared machine the
steadier figure). "3 pass-through" is three middleware that only call ``call_next``: the floor
any three middleware pay (the first turns the handler's ``str`` into a ``Response``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from fasthttp import App
from fasthttp.middleware import CORS, SecurityHeaders, Sessions
from fasthttp.middleware.sessions import derive_keys, sign_token

BATCH = 2000
BODY = b"Hello, World!"
SITE = "https://app.example.com"
SECRET = "benchmark-secret-key-of-at-least-32-bytes"


def passthrough(request, call_next):
    """A middleware that does nothing: what any three middleware cost before doing anything."""
    return call_next(request)


def make_app(secured: bool, passthrough_only: bool = False) -> App:
    app = App(max_requests_per_connection=None)
    if passthrough_only:
        for _ in range(3):
            app.add_middleware(passthrough)
    elif secured:
        app.add_middleware(CORS(allow_origins=[SITE], allow_credentials=True))
        app.add_middleware(SecurityHeaders())
        app.add_middleware(Sessions(secret_keys=[SECRET]))

    @app.get("/plaintext")
    def plaintext(request):
        return "Hello, World!"

    return app


def request_bytes(browser: bool) -> bytes:
    head = b"GET /plaintext HTTP/1.1\r\nHost: bench\r\n"
    if browser:
        token = sign_token(derive_keys([SECRET], b"sessions")[0], "session", {"t": int(time.time()), "d": {"user": "ann"}})
        head += b"Origin: " + SITE.encode() + b"\r\nCookie: session=" + token.encode() + b"\r\n"
    return head + b"\r\n"


class Harness:
    """A server process for one app, and a function that sends a batch and reads every answer.

    The server runs in its own process (``python benchmarks/bench_middleware.py serve ...``): in
    one process, the server's thread and the client's would share the GIL, and the figures
    would measure its scheduling."""

    def __init__(self, secured: bool, passthrough_only: bool = False) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.process = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "serve", "passthrough" if passthrough_only else "secured" if secured else "bare", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.process.kill()
                    raise RuntimeError("the benchmark server did not start") from None
                time.sleep(0.05)

    def batch(self, payload: bytes, count: int) -> bytes:
        writer = threading.Thread(target=self.sock.sendall, args=(payload,), daemon=True)
        writer.start()
        chunks = []
        seen = 0
        tail = b""
        while seen < count:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            chunks.append(chunk)
            # Count the bodies in this chunk only (plus the end of the last one, where a body may
            # have been cut): rescanning everything received would make the client quadratic.
            window = tail + chunk
            seen += window.count(BODY)
            tail = window[-(len(BODY) - 1) :] if not window.endswith(BODY) else b""
        writer.join(30)
        return b"".join(chunks)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used so far (Linux ``/proc``): the
        figure other load on the machine disturbs least, unlike wall-clock rates."""
        with open(f"/proc/{self.process.pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def one_by_one(self, request: bytes, count: int) -> None:
        """*count* requests, each sent when the previous answer has arrived (no pipelining)."""
        sock = self.sock
        for _ in range(count):
            sock.sendall(request)
            data = sock.recv(65536)
            while not data.endswith(BODY):
                more = sock.recv(65536)
                if not more:
                    raise ConnectionError("the server closed the connection")
                data += more

    def close(self) -> None:
        self.sock.close()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def check(data: bytes, secured: bool, browser: bool) -> None:
    answers = data.split(b"HTTP/1.1 ")[1:]
    assert len(answers) == BATCH and all(a.startswith(b"200 OK") for a in answers)
    first = answers[0].lower()
    assert (b"x-frame-options: deny" in first) is secured
    assert (b"access-control-allow-origin: " + SITE.encode() in first) is (secured and browser)


@pytest.fixture(scope="module", params=["bare", "secured"])
def harness(request: pytest.FixtureRequest) -> Iterator[tuple[Harness, bool]]:
    h = Harness(request.param == "secured")
    try:
        yield h, request.param == "secured"
    finally:
        h.close()


@pytest.mark.parametrize("browser", [False, True], ids=["plain-request", "browser-request"])
def test_plaintext_batch(benchmark, harness, browser):
    h, secured = harness
    benchmark.group = f"plaintext x{BATCH} pipelined: {'browser' if browser else 'plain'} request"
    payload = request_bytes(browser) * BATCH
    data = benchmark(h.batch, payload, BATCH)
    check(data, secured, browser)


def main(rounds: int = 7, batch_rounds: int = 10) -> None:
    """Per case: the best requests per second of *rounds* interleaved runs, and the server's CPU
    time per request over all of them (µs; the steadier figure on a shared machine)."""
    harnesses = {"bare": Harness(False), "3 pass-through": Harness(False, True), "secured": Harness(True)}
    try:
        for browser in (False, True):
            request = request_bytes(browser)
            payload = request * BATCH
            for mode in ("pipelined", "one by one"):
                best = dict.fromkeys(harnesses, 0.0)
                cpu = dict.fromkeys(harnesses, 0.0)
                for _ in range(rounds):
                    for name, h in harnesses.items():
                        used = h.cpu_seconds()
                        start = time.perf_counter()
                        for _ in range(batch_rounds if mode == "pipelined" else 1):
                            if mode == "pipelined":
                                data = h.batch(payload, BATCH)
                            else:
                                h.one_by_one(request, BATCH)
                        count = BATCH * (batch_rounds if mode == "pipelined" else 1)
                        rate = count / (time.perf_counter() - start)
                        cpu[name] += h.cpu_seconds() - used
                        if mode == "pipelined" and name != "3 pass-through":
                            check(data, name == "secured", browser)
                        best[name] = max(best[name], rate)
                per = {name: 1e6 * cpu[name] / (rounds * BATCH * (batch_rounds if mode == "pipelined" else 1)) for name in cpu}
                print(
                    f"{'browser' if browser else 'plain'} requests, {mode}: "
                    + "; ".join(
                        f"{name} {best[name]:,.0f} req/s ({100 * (best[name] / best['bare'] - 1):+.1f}%), "
                        f"{per[name]:.1f} µs server CPU/req ({100 * (per[name] / per['bare'] - 1):+.1f}%)"
                        for name in harnesses
                    )
                )
    finally:
        for h in harnesses.values():
            h.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        make_app(sys.argv[2] == "secured", sys.argv[2] == "passthrough").run(f"127.0.0.1:{sys.argv[3]}")
    else:
        main()
