"""The connection core, bytes in to bytes out: a whole request through the real protocol object.

Each case feeds the bytes of one read to ``HttpProtocol.data_received`` (a real
:class:`fasthttp.App` with the benchmark server's routes, a real ``ConnectionManager``) and
collects what it writes to a transport that records writes: no sockets, no event loop turn. The
``impl`` rows run the two twins of the connection core (``fasthttp._core_c.connection``, compiled,
and ``fasthttp._core_py.connection``, its pure source) on the kernels this process uses, so
``py / c`` is what compiling the core buys; run ``FASTHTTP_NO_EXTENSIONS=1 python -m
benchmarks.kernels`` for the whole pure path (pure core on pure kernels). Figures are per
request (the pipelined case answers 16 per read, in one write). Issue 17.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import types
from typing import Any

import pytest

import fasthttp
from fasthttp.config import Config
from fasthttp.connections import ConnectionManager
from fasthttp.protocol import protocol_class

GET = b"GET /plaintext HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n"
PIPELINED = GET * 16
JSON_GET = GET.replace(b"/plaintext", b"/json")
POST = (
    b"POST /echo HTTP/1.1\r\nHost: localhost:8080\r\nContent-Type: application/octet-stream\r\n"
    b"Content-Length: 4096\r\n\r\n" + b"x" * 4096
)


class RecordingTransport:
    """What the protocol needs of an asyncio transport; keeps the last write."""

    def __init__(self) -> None:
        self.last = b""
        self.writes = 0

    def write(self, data: bytes) -> None:
        self.last = data
        self.writes += 1

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 50000) if name == "peername" else default

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def can_write_eof(self) -> bool:
        return True


def app() -> fasthttp.App:
    application = fasthttp.App()

    @application.get("/plaintext")
    def plaintext(request: Any) -> str:
        return "Hello, World!"

    @application.get("/json")
    def json_route(request: Any) -> dict[str, str]:
        return {"message": "Hello, World!"}

    @application.post("/echo")
    async def echo(request: Any) -> fasthttp.Response:
        return fasthttp.Response(await request.body(), content_type="application/octet-stream")

    return application


@pytest.fixture(scope="module")
def loop() -> Any:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def connection(impl: types.SimpleNamespace, loop: Any) -> tuple[Any, RecordingTransport]:
    core = importlib.import_module(f"fasthttp.{'_core_c' if impl.name == 'c' else '_core_py'}.connection")
    # No per-connection request limit: every call is one more request on the same connection.
    manager = ConnectionManager(loop, app().engine_handler(), Config(max_requests_per_connection=None))
    proto = protocol_class(core.ConnectionCore)(manager)
    transport = RecordingTransport()
    proto.connection_made(transport)
    return proto, transport


def feed(benchmark: Any, impl: types.SimpleNamespace, loop: Any, data: bytes, requests: int) -> bytes:
    proto, transport = connection(impl, loop)
    benchmark.extra_info["requests"] = requests
    benchmark(proto.data_received, data)
    # Every call was answered at once, in one write, with nothing left running.
    assert proto._active is None and transport.writes >= 1
    return transport.last


@pytest.mark.benchmark(group="connection: plaintext GET, per request")
def test_plaintext(benchmark, impl, loop):
    out = feed(benchmark, impl, loop, GET, 1)
    assert out.startswith(b"HTTP/1.1 200 OK\r\n") and out.endswith(b"\r\n\r\nHello, World!")


@pytest.mark.benchmark(group="connection: JSON GET (a dict through the App), per request")
def test_json(benchmark, impl, loop):
    # The server harness's JSON scenario: the route returns a dict, the core serializes it
    # (orjson where installed, else the standard library's json: fasthttp._compat).
    out = feed(benchmark, impl, loop, JSON_GET, 1)
    head, _, body = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"content-type: application/json" in head.lower()
    assert json.loads(body) == {"message": "Hello, World!"}


@pytest.mark.benchmark(group="connection: pipelined x16 GET, per request")
def test_pipelined(benchmark, impl, loop):
    out = feed(benchmark, impl, loop, PIPELINED, 16)
    assert out.count(b"HTTP/1.1 200 OK\r\n") == 16


@pytest.mark.benchmark(group="connection: POST 4 KiB echo, per request")
def test_post_echo(benchmark, impl, loop):
    out = feed(benchmark, impl, loop, POST, 1)
    assert out.startswith(b"HTTP/1.1 200 OK\r\n") and out.endswith(b"\r\n\r\n" + b"x" * 4096)


CLOSE = GET[:-2] + b"Connection: close\r\n\r\n"


def _server_side(impl, loop):
    """The server factory's protocol class on *impl*'s core, a manager and a recording transport."""
    core = importlib.import_module(f"fasthttp.{'_core_c' if impl.name == 'c' else '_core_py'}.connection")
    return protocol_class(core.ConnectionCore), ConnectionManager(loop, app().engine_handler(), Config()), RecordingTransport()


@pytest.mark.benchmark(group="connection: new connection per request (open, GET close, lost)")
def test_new_connection(benchmark, impl, loop):
    # The "New connection per request" scenario of benchmarks/server without the sockets: the
    # protocol made by the server's factory, connection_made, one request asking to close, the
    # response and the close, connection_lost (issue 17).
    cls, manager, transport = _server_side(impl, loop)

    def one() -> None:
        proto = cls(manager)
        proto.connection_made(transport)
        proto.data_received(CLOSE)
        proto.connection_lost(None)

    benchmark.extra_info["requests"] = 1
    benchmark(one)
    assert transport.last.startswith(b"HTTP/1.1 200 OK\r\n") and b"close" in transport.last.lower()
    assert not manager.connections


@pytest.mark.benchmark(group="connection: set-up and end alone (made, connection_made, connection_lost)")
def test_connection_setup(benchmark, impl, loop):
    # What a connection costs besides its requests (issue 17, the "New connection per request"
    # scenario): the protocol made by the server's factory, admitted, given its parser and
    # deadline, then lost between requests. Subtract from test_new_connection for the request.
    cls, manager, transport = _server_side(impl, loop)

    def one() -> None:
        proto = cls(manager)
        proto.connection_made(transport)
        proto.connection_lost(None)

    benchmark(one)
    assert not manager.connections and transport.writes == 0


@pytest.mark.benchmark(group="message model: a Request built and read (the core's part)")
def test_request_storage(benchmark, impl):
    # The storage of a Request (fasthttp._model_c.request compiled from fasthttp/_model_py/
    # request.py; PERF, issue 17): built from a head, then the fields the connection core sets
    # and reads per request. ``c``: the compiled twin, ``py``: the pure one (same kernels).
    model = importlib.import_module(f"fasthttp.{'_model_c' if impl.name == 'c' else '_model_py'}.request")
    from fasthttp.parser import RequestParser

    head = RequestParser().feed(GET)[0]
    base = model.RequestBase

    def one() -> Any:
        req = base(head, None, 1024)
        req.context = None
        return req.head, req.body_reader, req.form_data, req.background

    benchmark(one)
    assert one() == (head, None, None, None)
