"""fasthttp.metrics: Prometheus metrics on their own listener, summed over worker processes."""

from __future__ import annotations

import asyncio
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import warnings

from helpers_server import Client, run, serving

from fasthttp import App
from fasthttp.metrics import MetricsStore

TESTS = os.path.dirname(os.path.abspath(__file__))
ENV = dict(os.environ, PYTHONPATH=TESTS + os.pathsep + os.environ.get("PYTHONPATH", ""))


def value(text: str, name: str) -> float:
    m = re.search(r"^" + re.escape(name) + r" (\S+)$", text, re.M)
    assert m, (name, text)
    return float(m.group(1))


def metrics_app() -> App:
    app = App()

    @app.get("/")
    def home(request):
        return "hello"

    @app.post("/upload")
    async def upload(request):
        return str(len(await request.body()))

    return app


def test_counts_requests_statuses_latency_and_bytes(loop):
    async def main():
        async with serving(metrics_app(), metrics="127.0.0.1:0") as server:
            c = await Client.connect(server)
            for _ in range(3):
                assert (await c.request("GET", "/")).status == 200
            assert (await c.request("GET", "/nope")).status == 404
            assert (await c.request("POST", "/upload", body=b"x" * 100)).status == 200
            m = await Client.connect(address=server._metrics_server.addresses[0])
            scrape = await m.request("GET", "/metrics")
            other = await m.request("GET", "/")
            await m.close()
            await c.close()
            return scrape, other

    scrape, other = run(loop, main())
    assert scrape.status == 200 and scrape.header("content-type").startswith("text/plain; version=0.0.4")
    text = scrape.text
    assert value(text, 'fasthttp_requests_total{method="GET",status="200"}') == 3
    assert value(text, 'fasthttp_requests_total{method="GET",status="404"}') == 1
    assert value(text, 'fasthttp_requests_total{method="POST",status="200"}') == 1
    assert value(text, "fasthttp_request_duration_seconds_count") == 5
    assert value(text, 'fasthttp_request_duration_seconds_bucket{le="+Inf"}') == 5
    assert value(text, "fasthttp_request_body_bytes_total") == 100
    assert value(text, "fasthttp_response_body_bytes_total") >= 15
    assert value(text, "fasthttp_processes") == 1
    assert other.status == 404


def test_rows_survive_their_process_and_restarts_add_up():
    store = MetricsStore(rows=4)
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork() in a process with threads; the child only counts.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # a short-lived worker
        store.claim()
        store.record(None, 400, 11, None)
        os._exit(0)
    os.waitpid(pid, 0)
    store.claim()
    store.add_restart()
    totals = store.totals()
    assert totals["requests"] == {("OTHER", 400): 1.0}
    assert totals["bytes_out"] == 11 and totals["restarts"] == 1 and totals["processes"] == 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_workers_are_summed_through_the_cli():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "fasthttp", "helpers_hosting:wsgi_app", "--bind", "127.0.0.1:0", "--workers", "2", "--metrics", f"127.0.0.1:{port}"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=ENV,
        cwd=TESTS,
    )
    try:
        main_port = 0
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not main_port:
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", proc.stderr.readline())
            if m:
                main_port = int(m.group(1))
        assert main_port

        def get(p: int, path: str) -> tuple[int, str]:
            for _ in range(200):
                conn = http.client.HTTPConnection("127.0.0.1", p, timeout=5)
                try:
                    conn.request("GET", path)
                    resp = conn.getresponse()
                    return resp.status, resp.read().decode()
                except (ConnectionRefusedError, ConnectionResetError):
                    time.sleep(0.05)
                finally:
                    conn.close()
            raise AssertionError("no answer")

        for _ in range(20):  # a new connection each: the kernel spreads them over the workers
            assert get(main_port, "/")[0] == 200
        # A worker counts a response just after writing it: on a loaded machine the client can
        # read the last response and scrape before that worker has run its next instruction.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            status, text = get(port, "/metrics")
            if value(text, 'fasthttp_requests_total{method="GET",status="200"}') == 20:
                break
            time.sleep(0.05)
        for _ in range(5):  # whichever worker answers the scrape, it reports every worker
            status, text = get(port, "/metrics")
            assert status == 200
            assert value(text, 'fasthttp_requests_total{method="GET",status="200"}') == 20
            assert value(text, "fasthttp_processes") == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(20) == 0
        finally:
            proc.stderr.close()


def test_recycled_workers_keep_their_counts():
    """--limit-max-requests: workers drain and are replaced; the metrics count the restarts and
    lose no request of a worker that stopped."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "fasthttp", "helpers_hosting:wsgi_app", "--bind", "127.0.0.1:0", "--workers", "2", "--metrics", f"127.0.0.1:{port}", "--limit-max-requests", "5", "--max-requests-jitter", "2"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=ENV,
        cwd=TESTS,
    )
    try:
        main_port = 0
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not main_port:
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", proc.stderr.readline())
            if m:
                main_port = int(m.group(1))
        assert main_port
        def get(path: str, port: int) -> tuple[int, str]:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.request("GET", path)
                resp = conn.getresponse()
                return resp.status, resp.read().decode()
            finally:
                conn.close()

        def scrape() -> tuple[float, float]:
            text = get("/metrics", port)[1]
            return value(text, 'fasthttp_requests_total{method="GET",status="200"}'), value(text, "fasthttp_worker_restarts_total")

        # Only the first request waits for the workers (the master announces the address before
        # they listen); a replacement listens before the worker it replaces stops accepting, so
        # none of the others is refused or reset.
        deadline = time.monotonic() + 20
        while True:
            try:
                assert get("/", main_port)[0] == 200
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        served = 1
        # Which worker a connection reaches is the kernel's choice (SO_REUSEPORT), and a worker
        # past its limit serves on until its replacement listens (slowly, on a loaded machine),
        # so 30 requests may end one worker's life only. Keep sending until the master has
        # counted two restarts, every request answered (a generous bound: a lost one still fails).
        deadline = time.monotonic() + 60
        restarts = 0.0
        while served < 30 or restarts < 2:
            assert time.monotonic() < deadline, (served, restarts)
            assert get("/", main_port)[0] == 200
            served += 1
            if served >= 30:
                restarts = scrape()[1]
        # A stopped worker's last counts arrive with it, and a worker counts a response just
        # after writing it: wait for every request to be counted.
        deadline = time.monotonic() + 60
        while scrape()[0] != served and time.monotonic() < deadline:
            time.sleep(0.05)
        total, restarts = scrape()
        assert total == served
        assert restarts >= 2
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(20) == 0
        finally:
            proc.stderr.close()


def test_counts_open_and_opened_websockets(loop):
    """Websockets (a real client, the websockets library) are a gauge while open and a counter
    of those opened; the open-connections gauge counts HTTP connections only."""
    from websockets.asyncio.client import connect

    app = metrics_app()

    @app.websocket("/ws")
    async def echo(ws):
        await ws.accept()
        async for message in ws:
            await ws.send(message)

    async def scrape_until(server, name, expected):
        # the gauges are refreshed on the engine's sweep (at most a second apart): bounded wait
        m = await Client.connect(address=server._metrics_server.addresses[0])
        try:
            for _ in range(100):
                text = (await m.request("GET", "/metrics")).text
                if value(text, name) == expected:
                    return text
                await asyncio.sleep(0.05)
            raise AssertionError((name, expected, text))
        finally:
            await m.close()

    async def main():
        async with serving(app, metrics="127.0.0.1:0") as server:
            host, port = server.addresses[0][:2]
            async with connect(f"ws://{host}:{port}/ws") as first, connect(f"ws://{host}:{port}/ws") as second:
                await first.send("a")
                assert await first.recv() == "a"
                await second.send("b")
                assert await second.recv() == "b"
                text = await scrape_until(server, "fasthttp_open_websockets", 2)
                assert value(text, "fasthttp_websockets_total") == 2
                assert value(text, "fasthttp_open_connections") == 0
            async with connect(f"ws://{host}:{port}/ws") as third:
                await third.send("c")
                assert await third.recv() == "c"
            text = await scrape_until(server, "fasthttp_open_websockets", 0)
            text = await scrape_until(server, "fasthttp_websockets_total", 3)

    run(loop, main())
