"""The ASGI adapter in process: requests through the real protocol object, no sockets.

Each round feeds one GET to each of 64 connections (``HttpProtocol.data_received``, a real
``ConnectionManager`` and :class:`fasthttp.asgi.AsgiApplication`), then turns the event loop
until every connection wrote its answer (the application runs its first step in
``data_received``; the answers decided there reach the engine in that turn, by one callback),
as a server under ``wrk -c64`` does. Figures are process CPU µs per request, the best of
several runs; ``--profile`` prints a cProfile of one run instead. NOTE: a guide, not the judge:
no syscalls and no client here, so what changes how the reads and writes of a loop iteration
interleave shows only over sockets (answering from ``data_received`` was less CPU here and
15-25% more under ``wrk``); confirm every change with an alternated A/B over sockets. The applications are the
benchmark server's: the raw ASGI callable (``uvicorn_raw``) and the Starlette app; ``native`` is
fasthttp's own App answering /plaintext (the reference: what the engine costs). Issue 13.

    python -m benchmarks.asgi_inprocess [--profile] [--requests N] [native|raw|starlette ...] [PATH ...]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import time
from typing import Any

import fasthttp
from fasthttp.asgi import AsgiApplication
from fasthttp.config import Config
from fasthttp.connections import ConnectionManager
from fasthttp.protocol import HttpProtocol

from .bench_connection import RecordingTransport
from .bench_connection import app as native_app

APPS = {"raw": "benchmarks.server.apps.uvicorn_raw", "starlette": "benchmarks.server.apps.starlette_app"}
CONNECTIONS = 64


def request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n".encode()


async def run(app: Any, path: str, requests: int) -> float:
    """CPU µs per request for *requests* GETs of *path* on *app* (rounds of 64 connections); *app*
    is an ASGI callable, or a fasthttp App (the native reference)."""
    loop = asyncio.get_running_loop()
    application = app if isinstance(app, fasthttp.App) else AsgiApplication(app, lifespan="off")
    manager = ConnectionManager(loop, application.engine_handler(), Config(max_requests_per_connection=None))
    conns = []
    for _ in range(CONNECTIONS):
        proto = HttpProtocol(manager)
        transport = RecordingTransport()
        proto.connection_made(transport)
        conns.append((proto, transport))
    data = request(path)
    rounds = max(1, requests // CONNECTIONS)


    def feed() -> None:  # a plain callback, as the loop calls data_received (no current task)
        for proto, _transport in conns:
            proto.data_received(data)

    start = time.process_time()
    for _ in range(rounds):
        loop.call_soon(feed)
        for _turn in range(100):
            await asyncio.sleep(0)
            if all(proto._active is None for proto, _ in conns):
                break
        else:
            raise RuntimeError("the application did not answer")
    elapsed = time.process_time() - start
    last = conns[0][1].last
    if not last.startswith(b"HTTP/1.1 200 OK\r\n"):
        raise RuntimeError(f"unexpected answer: {last[:200]!r}")
    for proto, _transport in conns:
        proto.connection_lost(None)
    return elapsed / (rounds * CONNECTIONS) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", help="raw, starlette and/or paths (default: both apps, /plaintext and /json)")
    parser.add_argument("--requests", type=int, default=64 * 400)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="under valgrind --tool=callgrind: zero this process's counters after a warm-up run and dump them after one measured run",
    )
    args = parser.parse_args()
    names = [t for t in args.targets if t in APPS or t == "native"] or list(APPS)
    paths = [t for t in args.targets if t.startswith("/")] or ["/plaintext", "/json"]
    import uvloop

    for name in names:
        app = native_app() if name == "native" else importlib.import_module(APPS[name]).app
        for path in paths if name != "native" else ["/plaintext"]:
            if args.callgrind:
                import os
                import subprocess

                uvloop.run(run(app, path, args.requests // 4))  # warm up
                subprocess.run(["callgrind_control", "-z", str(os.getpid())], check=True, capture_output=True)
                uvloop.run(run(app, path, args.requests))
                subprocess.run(["callgrind_control", "-d", str(os.getpid())], check=True, capture_output=True)
                print(f"== {name} {path}: {args.requests} requests, dumped")
                continue
            if args.profile:
                import cProfile
                import pstats

                uvloop.run(run(app, path, args.requests // 4))  # warm up
                prof = cProfile.Profile()
                prof.enable()
                uvloop.run(run(app, path, args.requests))
                prof.disable()
                print(f"== {name} {path}")
                pstats.Stats(prof).sort_stats("tottime").print_stats(30)
                continue
            figures = [uvloop.run(run(app, path, args.requests)) for _ in range(args.repeat)]
            print(f"{name:10} {path:11} {min(figures):6.2f} µs/request (best of {args.repeat}; median {sorted(figures)[len(figures) // 2]:.2f})")


if __name__ == "__main__":
    main()
