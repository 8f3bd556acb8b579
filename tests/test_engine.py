"""The engine on its own: :class:`fasthttp.protocol.HttpProtocol` and
:class:`fasthttp.connections.ConnectionManager` over real loopback sockets, serving a bare
handler callable (no App, no Server), on the asyncio and uvloop loops.

What the engine promises any application (the App, the ASGI and WSGI adapters): persistent
connections and pipelining in order (RFC 9112 §9), streamed responses, the body-size limit
(RFC 9110 §15.5.14), protocol errors answered then closed (RFC 9112 §9.6, §11.2).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from typing import Any

import pytest

from fasthttp.config import Config
from fasthttp.connections import ConnectionManager
from fasthttp.errors import ContentTooLarge
from fasthttp.protocol import HttpProtocol
from fasthttp.requests import Request
from fasthttp.responses import Response, StreamingResponse

from helpers_server import Client, build_request, run

pytestmark = pytest.mark.filterwarnings("error")


@contextlib.asynccontextmanager
async def engine(handler: Any, *, access_log: Any = None, **options: Any):
    """A connection manager serving *handler* on 127.0.0.1:0; yields ``(manager, address,
    errors)``, *errors* being what the loop's exception handler received meanwhile."""
    running = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    previous = running.get_exception_handler()
    running.set_exception_handler(lambda _loop, context: errors.append(context))
    manager = ConnectionManager(running, handler, Config(**options), access_log=access_log)
    server = await running.create_server(functools.partial(HttpProtocol, manager), "127.0.0.1", 0)
    manager.start()
    try:
        yield manager, server.sockets[0].getsockname(), errors
    finally:
        server.close()
        await manager.shutdown(1.0)
        running.set_exception_handler(previous)


def echo(request: Request) -> Any:
    """A bare handler: ``/`` says hello, ``/n?n=`` answers later for smaller n, ``/body``
    echoes the body, ``/ignore`` answers without reading, ``/stream`` streams three parts,
    ``/limit?n=`` lowers the body limit first."""
    path = request.path
    if path == "/":
        return "hello"
    if path == "/n":
        return numbered(request)
    if path == "/body":
        return read_body(request)
    if path == "/limit":
        request.max_body_size = int(request.query_params["n"])
        return read_body(request)
    if path == "/stream":

        async def parts():
            for i in range(3):
                await asyncio.sleep(0)
                yield f"part{i};"

        return StreamingResponse(parts(), content_type="text/plain", trailers={"X-Parts": "3"})
    return Response(b"ignored")


async def numbered(request: Request) -> str:
    n = int(request.query_params["n"])
    # Later requests finish sooner, so only the engine keeps the order.
    await asyncio.sleep(0.002 * (10 - n))
    return str(n)


async def read_body(request: Request) -> bytes:
    return await request.body()


def test_keep_alive_serves_several_requests_on_one_connection(loop):
    async def scenario():
        async with engine(echo) as (_, address, errors):
            client = await Client.connect(address=address)
            for _ in range(3):
                resp = await client.request("GET", "/")
                assert (resp.status, resp.body, resp.header("connection")) == (200, b"hello", None)
            await client.close()
        assert errors == []

    run(loop, scenario())


def test_pipelined_responses_come_back_in_request_order(loop):
    async def scenario():
        async with engine(echo) as (_, address, errors):
            client = await Client.connect(address=address)
            await client.send(b"".join(build_request("GET", f"/n?n={n}") for n in range(10)))
            bodies = [(await client.read_response()).body for _ in range(10)]
            assert bodies == [str(n).encode() for n in range(10)]
            await client.close()
        assert errors == []

    run(loop, scenario())


def test_a_streamed_response_is_chunked_with_trailers(loop):
    async def scenario():
        async with engine(echo) as (_, address, errors):
            client = await Client.connect(address=address)
            resp = await client.request("GET", "/stream")
            assert resp.header("transfer-encoding") == "chunked"
            assert resp.body == b"part0;part1;part2;" and resp.trailers == [("x-parts", "3")]
            assert (await client.request("GET", "/")).body == b"hello"  # the connection goes on
            await client.close()
        assert errors == []

    run(loop, scenario())


def test_a_body_within_the_limit_reaches_the_handler(loop):
    async def scenario():
        async with engine(echo, max_body_size=10) as (_, address, _errors):
            client = await Client.connect(address=address)
            assert (await client.request("POST", "/body", body=b"x" * 10)).body == b"x" * 10
            await client.close()

    run(loop, scenario())


def test_an_announced_body_past_the_limit_is_413_when_the_handler_reads_it(loop):
    async def scenario():
        async with engine(echo, max_body_size=10) as (_, address, errors):
            client = await Client.connect(address=address)
            await client.send(b"POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n")
            resp = await client.read_interim_or_final()
            assert resp.status == 413 and resp.header("connection") == "close"  # no 100 first
            await client.close()
        assert errors == []

    run(loop, scenario())


def test_a_chunked_body_past_the_limit_is_413_and_closes(loop):
    async def scenario():
        async with engine(echo, max_body_size=10) as (_, address, errors):
            client = await Client.connect(address=address)
            await client.send(b"POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n")
            resp = await client.read_response()
            assert resp.status == 413 and resp.header("connection") == "close"
            assert await client.closed()
            await client.close()
        assert errors == []

    run(loop, scenario())


def test_setting_a_lower_limit_refuses_an_announced_body_at_once(loop):
    async def scenario():
        async with engine(echo) as (_, address, errors):
            client = await Client.connect(address=address)
            await client.send(b"POST /limit?n=3 HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
            resp = await client.read_interim_or_final()
            assert resp.status == 413 and resp.header("connection") == "close"
            await client.close()
        assert errors == []

    run(loop, scenario())


def test_the_limit_is_one_rule_on_the_request(loop):
    # The limit property reads and writes the body reader's limit (one home).
    seen = {}

    def handler(request: Request) -> str:
        seen["default"] = request.max_body_size
        try:
            request.max_body_size = 2
        except ContentTooLarge as exc:
            seen["refused"] = exc.status
        seen["now"] = request.max_body_size
        return "ok"

    async def scenario():
        async with engine(handler, max_body_size=100) as (_, address, _errors):
            client = await Client.connect(address=address)
            assert (await client.request("POST", "/", body=b"abc")).body == b"ok"
            await client.close()

    run(loop, scenario())
    assert seen == {"default": 100, "refused": 413, "now": 2}


def test_a_protocol_error_is_answered_and_closes(loop):
    async def scenario():
        async with engine(echo) as (_, address, errors):
            client = await Client.connect(address=address)
            await client.send(build_request("GET", "/") + b"GARBAGE\r\n\r\n" + build_request("GET", "/"))
            first = await client.read_response()
            error = await client.read_response()
            assert first.body == b"hello"
            assert error.status == 400 and error.header("connection") == "close"
            assert await client.closed()  # nothing after the bad bytes is parsed
            await client.close()
        assert errors == []

    run(loop, scenario())


def test_a_malformed_chunk_after_an_early_response_is_not_answered(loop):
    # The handler answers without reading a chunked body: the response says close and the
    # connection half-closes (write_eof) to linger. A malformed chunk in the same read must
    # not be answered: a second response after a final one, written after write_eof, was a
    # "Fatal error on transport" (issue 9).
    async def scenario():
        async with engine(echo) as (_, address, errors):
            client = await Client.connect(address=address)
            await client.send(b"POST /ignore HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n")
            resp = await client.read_response()
            assert resp.body == b"ignored" and resp.header("connection") == "close"
            assert await client.closed()
            await client.close()
            await asyncio.sleep(0.05)
        assert errors == []

    run(loop, scenario())


def test_received_at_is_a_perf_counter_stamp(loop):
    stamps = []

    def log(request: Any, status: int, nbytes: int, conn: Any) -> None:
        stamps.append((request.received_at, time.perf_counter()))

    async def scenario():
        async with engine(echo, access_log=log) as (_, address, _errors):
            client = await Client.connect(address=address)
            await client.request("GET", "/")
            await client.close()

    run(loop, scenario())
    ((received, logged),) = stamps
    assert 0 <= logged - received < 1.0
