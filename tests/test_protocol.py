"""The connection engine over real loopback sockets, on the asyncio and uvloop loops.

Each test states one behaviour of ``fasthttp.protocol``: persistence and pipelining (RFC 9112
§9), bodies in and out (§6, §7), ``Expect: 100-continue`` (RFC 9110 §10.1.1), flow control,
every limit and deadline, protocol errors, handler failures and connection take-over.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import socket
import struct
import sys
from typing import Any

import pytest

from fasthttp import App, HttpError, Response, StreamingResponse, Upgrade, protocol
from fasthttp.protocol import P_BODY, HttpProtocol, P_WRITE
from fasthttp.files import FileResponse

from helpers_server import Client, build_request, run, serving

pytestmark = pytest.mark.filterwarnings("error")


def make_app() -> App:
    app = App()

    @app.get("/")
    def index(request):
        return "hello"

    @app.get("/json")
    def json_route(request):
        return {"message": "hi"}

    @app.get("/slow")
    async def slow(request):
        await asyncio.sleep(float(request.query_params.get("t", "0.05")))
        return "slow " + request.query_params.get("n", "")

    @app.get("/n")
    async def numbered(request):
        n = request.query_params.get("n", "")
        # Later requests finish sooner, so only the engine keeps the order.
        await asyncio.sleep(0.002 * (20 - int(n or 0)))
        return n

    @app.route("/echo", methods=["POST", "PUT"])
    async def echo(request):
        body = await request.body()
        trailers = request.trailers
        headers = [("X-Trailer", trailers.get("x-checksum"))] if trailers is not None and "x-checksum" in trailers else None
        return Response(body, headers=headers)

    @app.post("/count")
    async def count(request):
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
        return str(total)

    @app.post("/ignore")
    def ignore(request):
        return "ignored"

    @app.post("/refuse")
    def refuse(request):
        # A route that decides on the head alone, before any body byte (RFC 9110 §10.1.1).
        return Response("no thanks", status=417)

    @app.post("/small", max_body_size=10)
    async def small(request):
        return await request.body()

    @app.get("/boom")
    def boom(request):
        raise RuntimeError("secret internals")

    @app.get("/aboom")
    async def aboom(request):
        await asyncio.sleep(0)
        raise ValueError("async secret")

    @app.get("/teapot")
    def teapot(request):
        raise HttpError(418, "short and stout")

    @app.get("/badheader")
    def badheader(request):
        return Response("x", headers={"X-Bad": "a\r\nInjected: yes"})

    @app.get("/stream")
    def stream(request):
        async def gen():
            for i in range(3):
                await asyncio.sleep(0)
                yield f"part{i};"

        return StreamingResponse(gen(), content_type="text/plain", trailers=lambda: {"X-Parts": "3"})

    @app.get("/big")
    def big(request):
        return b"x" * (256 * 1024)

    return app


# -- persistence and pipelining ------------------------------------------------------------------


def test_keep_alive_serves_several_requests_on_one_connection(loop):
    async def scenario():
        async with serving(make_app()) as server:
            client = await Client.connect(server)
            for _ in range(3):
                resp = await client.request("GET", "/")
                assert resp.status == 200 and resp.body == b"hello"
                assert resp.header("connection") is None
            assert len(server.manager.connections) == 1
            await client.close()

    run(loop, scenario())


def test_connection_close_request_gets_close_and_the_server_closes(loop):
    async def scenario():
        async with serving(make_app()) as server:
            client = await Client.connect(server)
            resp = await client.request("GET", "/", headers=[("Connection", "close")])
            assert resp.status == 200
            assert resp.header("connection") == "close"
            assert await client.closed()
            await client.close()

    run(loop, scenario())


def test_http10_closes_unless_keep_alive_is_asked_for(loop):
    async def scenario():
        async with serving(make_app()) as server:
            client = await Client.connect(server)
            resp = await client.request("GET", "/", version="1.0")
            assert resp.status == 200 and resp.header("connection") == "close"
            assert await client.closed()
            await client.close()

            client = await Client.connect(server)
            resp = await client.request("GET", "/", headers=[("Connection", "keep-alive")], version="1.0")
            assert resp.header("connection") == "keep-alive"
            resp = await client.request("GET", "/json", headers=[("Connection", "keep-alive")], version="1.0")
            assert resp.body == b'{"message":"hi"}'
            await client.close()

    run(loop, scenario())


def test_pipelined_responses_come_back_in_request_order(loop):
    async def scenario():
        async with serving(make_app()) as server:
            client = await Client.connect(server)
            await client.send(b"".join(build_request("GET", f"/n?n={i}") for i in range(16)))
            bodies = [(await client.read_response()).text for _ in range(16)]
            assert bodies == [str(i) for i in range(16)]
            await client.close()

    run(loop, scenario())


def test_pipelined_sync_requests_are_answered_in_one_batch(loop):
    async def scenario():
        async with serving(make_app()) as server:
            client = await Client.connect(server)
            await client.send(build_request("GET", "/") * 16)
            for _ in range(16):
                assert (await client.read_response()).body == b"hello"
            await client.close()

    run(loop, scenario())


def test_head_request_gets_the_length_but_no_body(loop):
    async def scenario():
        async with serving(make_app()) as server:
            client = await Client.connect(server)
            resp = await client.request("HEAD", "/")
            assert resp.status == 200 and resp.header("content-length") == "5"
            # The next response starts right away: no body bytes were sent for HEAD.
            resp = await client.request("GET", "/")
            assert resp.body == b"hello"
            await client.close()

    run(loop, scenario())


# -- request bodies ------------------------------------------------------------------------------


def test_content_length_body_reaches_the_handler(loop):
    async def scenario():
        async with serving(make_app()) as server:
            client = await Client.connect(server)
            resp = await client.request("POST", "/echo", body=b"payload")
            assert resp.body == b"payload"
            await client.close()

    run(loop, scenario())


def test_chunked_body_and_its_trailers_reach_the_handler(loop):
    async def scenario():
        async with serving(make_app()) as server:
            client = await Client.connect(server)
            await client.send(
                b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n"
            )
            resp = await client.read_response()
            assert resp.body == b"hello world"
            assert resp.header("x-trailer") == "abc"
            await client.close()

    run(loop, scenario())


def test_a_body_complete_in_the_read_of_its_head_is_read_without_waiting(loop):
    # PERF (issue 17, POST echo): the body is handed to its reader before the handler runs,
    # so `await request.body()` never suspends: no Task, no wake-up per piece. Pipelined and
    # chunked requests too; a body split over reads still arrives whole.
    app = App()

    @app.post("/")
    async def handler(request):
        body = await request.body()
        return f"{asyncio.current_task() is None} {body.decode()}"

    async def scenario():
        async with serving(app, async_handlers="inline") as server:
            client = await Client.connect(server)
            await client.send(build_request("POST", "/", body=b"one") + build_request("POST", "/", body=b"two"))
            assert (await client.read_response()).body == b"True one"
            assert (await client.read_response()).body == b"True two"
            await client.send(
                b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
            )
            assert (await client.read_response()).body == b"True abc"
            await client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nab")
            await asyncio.sleep(0.01)
            await client.send(b"cde")
            assert (await client.read_response()).body == b"False abcde"
            await client.close()

    run(loop, scenario())


def test_body_is_streamed_while_it_arrives(loop):
    async def scenario():
        async with serving(make_app()) as server:
            client = await Client.connect(server)
            await client.send(b"POST /count HTTP/1.1\r\nHost: t\r\nContent-Length: 200000\r\n\r\n")
            for _ in range(20):
                await client.send(b"y" * 10000)
                await asyncio.sleep(0)
            resp = await client.read_response()
            assert resp.body == b"200000"
            await client.close()

    run(loop, scenario())


def test_unread_body_pauses_reading_at_the_high_water_mark(loop):
    gate = asyncio.Event()
    app = App()

    @app.post("/lazy", max_body_size=None)
    async def lazy(request):
        await gate.wait()
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
        return str(total)

    async def scenario():
        async with serving(app, read_high_water=16 * 1024) as server:
            client = await Client.connect(server)
            size = 4 * 1024 * 1024
            await client.send(b"POST /lazy HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % size)
            sender = asyncio.ensure_future(client.send(b"z" * size))
            # Accepted when its first bytes arrive under Config.defer_accept: wait for it.
            await _wait_for(lambda: len(server.manager.connections) == 1, "the connection to be accepted")
            (conn,) = server.manager.connections
            for _ in range(200):
                await asyncio.sleep(0.01)
                if conn._pause_mask & P_BODY:
                    break
            assert conn._pause_mask & P_BODY
            # Reading stopped: the server holds about one high-water mark of the body.
            assert conn._body_buffered <= 16 * 1024 + 256 * 1024
            gate.set()
            resp = await client.read_response()
            assert resp.body == str(size).encode()
            await sender
            await client.close()

    run(loop, scenario())


def test_handler_that_ignores_a_small_body_keeps_the_connection(loop):
    async def scenario():
        async with serving(make_app()) as server:
            client = await Client.connect(server)
            resp = await client.request("POST", "/ignore", body=b"abc" * 100)
            assert resp.body == b"ignored" and resp.header("connection") is None
            resp = await client.request("GET", "/")
            assert resp.body == b"hello"
            await client.close()

    run(loop, scenario())


# -- Expect: 100-continue ------------------------------------------------------------------------


def test_100_continue_is_sent_when_the_handler_reads_the_body(loop):
    async def scenario():
        async with serving(make_app()) as server:
            client = await Client.connect(server)
            await client.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
            interim = await client.read_interim_or_final()
            assert interim.status == 100
            await client.send(b"data")
            resp = await client.read_response()
            assert resp.status == 200 and resp.body == b"data"
            await client.close()

    run(loop, scenario())


def test_route_refusing_before_reading_sends_no_100(loop):
    async def scenario():
        async with serving(make_app()) as server:
            client = await Client.connect(server)
            await client.send(b"POST /refuse HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
            resp = await client.read_head()
            assert resp.status == 417
            # The client may or may not send the body now: the server closes (RFC 9110 §10.1.1).
            assert resp.header("connection") == "close"
            await client.close()

    run(loop, scenario())


def test_route_body_limit_refuses_with_413_before_the_100(loop):
    async def scenario():
        async with serving(make_app()) as server:
            client = await Client.connect(server)
            await client.send(b"POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n")
            resp = await client.read_head()
            assert resp.status == 413 and resp.header("connection") == "close"
            await client.close()

    run(loop, scenario())


def test_unknown_expectation_is_417(loop):
    async def scenario():
        async with serving(make_app()) as server:
            client = await Client.connect(server)
            await client.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: teapot\r\n\r\ndata")
            resp = await client.read_response()
            assert resp.status == 417 and resp.header("connection") == "close"
            assert await client.closed()
            await client.close()

    run(loop, scenario())


# -- responses -------------------------------------------------------------------------------------


def test_streaming_response_is_chunked_with_trailers(loop):
    async def scenario():
        async with serving(make_app()) as server:
            client = await Client.connect(server)
            resp = await client.request("GET", "/stream")
            assert resp.header("transfer-encoding") == "chunked"
            assert resp.body == b"part0;part1;part2;"
            assert resp.trailers == [("x-parts", "3")]
            resp = await client.request("GET", "/")  # the connection goes on
            assert resp.body == b"hello"
            await client.close()

    run(loop, scenario())


def test_streaming_response_to_http10_is_delimited_by_close(loop):
    async def scenario():
        async with serving(make_app()) as server:
            client = await Client.connect(server)
            resp = await client.request("GET", "/stream", version="1.0", headers=[("Connection", "keep-alive")])
            assert resp.header("transfer-encoding") is None and resp.header("content-length") is None
            assert resp.header("connection") == "close"
            assert resp.body == b"part0;part1;part2;"
            await client.close()

    run(loop, scenario())


def test_file_response_is_sent_whole(loop, tmp_path):
    data = bytes(range(256)) * 4096  # 1 MiB
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    app = App()

    @app.get("/file")
    def file(request):
        return FileResponse(path)

    @app.get("/missing")
    def missing(request):
        return FileResponse(tmp_path / "nope.txt")

    @app.get("/directory")
    def directory(request):
        return FileResponse(tmp_path)

    async def scenario():
        async with serving(app) as server:
            client = await Client.connect(server)
            resp = await client.request("GET", "/file")
            assert resp.status == 200 and resp.body == data
            assert resp.header("content-type") == "application/octet-stream"
            resp = await client.request("HEAD", "/file")
            assert resp.header("content-length") == str(len(data))
            resp = await client.request("GET", "/missing")
            assert resp.status == 404
            resp = await client.request("GET", "/directory")
            assert resp.status == 404
            await client.close()

    run(loop, scenario())


# -- file responses: zero-copy sending (sendfile, the bounded backlog, MSG_MORE) -----------------

LOWAT = 64 * 1024


def _pattern(size: int) -> bytes:
    # Distinct bytes at every offset modulo 251 (a prime): a shifted or repeated span shows.
    return bytes(i % 251 for i in range(size))


def _file_app(tmp_path, sizes) -> App:
    app = App()
    for size in sizes:
        (tmp_path / f"f{size}.bin").write_bytes(_pattern(size))

    @app.get("/f/:size")
    def file(request):
        return FileResponse(tmp_path / f"f{request.params['size']}.bin")

    return app


async def _raw_connect(server, rcvbuf: int | None = 4096) -> socket.socket:
    host, port = server.addresses[0][:2]
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, port))
    return sock


async def _read_response(sock: socket.socket, buf: bytearray, piece: int = 1024) -> tuple[bytes, bytes]:
    """One response (head, body) read *piece* bytes at a time; *buf* keeps what follows it."""
    loop = asyncio.get_running_loop()
    while b"\r\n\r\n" not in buf:
        data = await loop.sock_recv(sock, piece)
        assert data, "closed before the head ended"
        buf += data
    end = buf.index(b"\r\n\r\n") + 4
    head = bytes(buf[:end])
    del buf[:end]
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if head.startswith(b"HTTP/1.1 304") or head.startswith(b"HTTP/1.1 204"):
        length = 0
    while len(buf) < length:
        data = await loop.sock_recv(sock, piece)
        assert data, f"closed after {len(buf)} of {length} body bytes"
        buf += data
    body = bytes(buf[:length])
    del buf[:length]
    return head, body


async def _wait_for(condition, what: str, deadline: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while not condition():
        assert loop.time() < end, f"timed out waiting for {what}"
        await asyncio.sleep(0.005)


class _Waits:
    """Counts the spans whose rest the server sent from writability callbacks (the slow path)."""

    def __init__(self, monkeypatch) -> None:
        self.started = self.ended = 0
        wait = protocol._FileSender.wait
        waits = self

        async def counted(sender):
            waits.started += 1
            try:
                return await wait(sender)
            finally:
                waits.ended += 1

        monkeypatch.setattr(protocol._FileSender, "wait", counted)


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize("lowat", [LOWAT, None, "auto"], ids=["bounded", "kernel-default", "auto"])
@pytest.mark.parametrize("size", [0, 1, LOWAT, LOWAT + 1, 3 * 1024 * 1024 + 7])
def test_file_sizes_arrive_byte_exact_to_a_slow_reader(loop, tmp_path, size, lowat):
    # A 4 KiB receive buffer read 1 KiB at a time: the larger files fill the socket again and
    # again, so their rest goes out from the server's writability callbacks.
    async def scenario():
        async with serving(_file_app(tmp_path, [size]), sendfile_lowat=lowat) as server:
            sock = await _raw_connect(server)
            try:
                buf = bytearray()
                for _ in range(2):  # twice on one connection: nothing left over in between
                    await loop_.sock_sendall(sock, build_request("GET", f"/f/{size}"))
                    head, body = await _read_response(sock, buf)
                    assert head.startswith(b"HTTP/1.1 200 ")
                    assert body == _pattern(size)
                assert not buf
            finally:
                sock.close()

    loop_ = loop
    run(loop, scenario())


def test_a_reader_that_pauses_gets_the_rest_from_the_writability_path(loop, tmp_path, monkeypatch):
    size = 4 * 1024 * 1024 + 3
    waits = _Waits(monkeypatch)

    async def scenario():
        async with serving(_file_app(tmp_path, [size])) as server:
            sock = await _raw_connect(server)
            try:
                await loop.sock_sendall(sock, build_request("GET", f"/f/{size}"))
                # The client reads nothing until the server waits for the socket to drain.
                await _wait_for(lambda: waits.started, "the server to wait for writability")
                head, body = await _read_response(sock, bytearray(), 64 * 1024)
                assert body == _pattern(size)
                await _wait_for(lambda: waits.ended, "the sender to finish")
            finally:
                sock.close()

    run(loop, scenario())


@pytest.mark.parametrize("how", ["close-after-some", "reset-after-some", "close-while-the-server-waits"])
def test_a_client_that_disconnects_mid_file_leaves_the_server_serving(loop, tmp_path, monkeypatch, how):
    size = 8 * 1024 * 1024
    waits = _Waits(monkeypatch)

    async def scenario():
        async with serving(_file_app(tmp_path, [size])) as server:
            fds = _open_fds()
            sock = await _raw_connect(server)
            try:
                await loop.sock_sendall(sock, build_request("GET", f"/f/{size}"))
                await _wait_for(lambda: waits.started, "the server to wait for writability")
                if how != "close-while-the-server-waits":
                    got = 0
                    while got < 256 * 1024:
                        got += len(await loop.sock_recv(sock, 16 * 1024))
                if how == "reset-after-some":
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            finally:
                sock.close()
            # The connection ends, the sender with it (its duplicate descriptor closed)...
            await _wait_for(lambda: not server.manager.connections and waits.ended, "the connection to end")
            await _wait_for(lambda: _open_fds() <= fds, "the server's descriptors to be released")
            # ... and the server goes on serving the file whole.
            sock = await _raw_connect(server, rcvbuf=None)
            try:
                await loop.sock_sendall(sock, build_request("GET", f"/f/{size}"))
                head, body = await _read_response(sock, bytearray(), 256 * 1024)
                assert head.startswith(b"HTTP/1.1 200 ") and body == _pattern(size)
            finally:
                sock.close()

    run(loop, scenario())


def test_ranges_and_multipart_byteranges_of_a_large_file_are_byte_exact(loop, tmp_path):
    size = 2 * 1024 * 1024 + 5
    data = _pattern(size)
    spans = [(0, 0), (100, 30_000), (LOWAT - 1, 5 * LOWAT + 1), (size - 70_000, size - 1)]  # disjoint, far apart

    async def scenario():
        async with serving(_file_app(tmp_path, [size])) as server:
            sock = await _raw_connect(server)
            try:
                buf = bytearray()
                # One range: 206 with exactly that span.
                await loop.sock_sendall(sock, build_request("GET", f"/f/{size}", headers=[("Range", "bytes=100-300000")]))
                head, body = await _read_response(sock, buf)
                assert head.startswith(b"HTTP/1.1 206 ") and b"content-range: bytes 100-300000/%d" % size in head.lower()
                assert body == data[100:300_001]
                # Several: multipart/byteranges, each part's payload its span of the file.
                ranges = ",".join(f"{a}-{b}" for a, b in spans)
                await loop.sock_sendall(sock, build_request("GET", f"/f/{size}", headers=[("Range", f"bytes={ranges}")]))
                head, body = await _read_response(sock, buf)
                assert head.startswith(b"HTTP/1.1 206 ") and b"multipart/byteranges" in head
                for a, b in spans:
                    marker = b"Content-Range: bytes %d-%d/%d\r\n\r\n" % (a, b, size)
                    start = body.index(marker) + len(marker)
                    assert body[start : start + b - a + 1] == data[a : b + 1]
                    assert body[start + b - a + 1 : start + b - a + 3] == b"\r\n"
                assert not buf
            finally:
                sock.close()

    run(loop, scenario())


def test_head_of_a_large_file_sends_the_length_and_no_body(loop, tmp_path):
    size = 3 * LOWAT

    async def scenario():
        async with serving(_file_app(tmp_path, [size])) as server:
            sock = await _raw_connect(server)
            try:
                buf = bytearray()
                await loop.sock_sendall(sock, build_request("HEAD", f"/f/{size}") + build_request("GET", f"/f/{size}"))
                loop_ = asyncio.get_running_loop()
                while b"\r\n\r\n" not in buf:
                    buf += await loop_.sock_recv(sock, 1024)
                end = buf.index(b"\r\n\r\n") + 4
                head = bytes(buf[:end])
                del buf[:end]
                assert head.startswith(b"HTTP/1.1 200 ") and b"content-length: %d\r\n" % size in head.lower()
                # The next bytes are the GET's response: the HEAD sent no body.
                head, body = await _read_response(sock, buf)
                assert head.startswith(b"HTTP/1.1 200 ") and body == _pattern(size)
            finally:
                sock.close()

    run(loop, scenario())


def test_pipelined_file_requests_come_back_whole_and_in_order(loop, tmp_path):
    sizes = [1, LOWAT + 1, 700_000]

    async def scenario():
        async with serving(_file_app(tmp_path, sizes)) as server:
            sock = await _raw_connect(server)
            try:
                await loop.sock_sendall(sock, b"".join(build_request("GET", f"/f/{n}") for n in sizes + sizes[::-1]))
                buf = bytearray()
                for n in sizes + sizes[::-1]:
                    head, body = await _read_response(sock, buf)
                    assert body == _pattern(n)
            finally:
                sock.close()

    run(loop, scenario())


@pytest.mark.skipif(not hasattr(socket, "TCP_NOTSENT_LOWAT"), reason="TCP_NOTSENT_LOWAT is Linux/macOS")
@pytest.mark.parametrize("lowat", [LOWAT, 20_000, None, "auto"])
def test_a_large_file_bounds_the_sockets_unsent_backlog(loop, tmp_path, lowat):
    small, large = 1000, 3 * LOWAT

    async def scenario():
        async with serving(_file_app(tmp_path, [small, large]), sendfile_lowat=lowat) as server:
            client = await Client.connect(server)
            try:
                # (accepted with its first request when Config.defer_accept is on)
                assert (await client.request("GET", f"/f/{small}")).body == _pattern(small)
                (conn,) = server.manager.connections
                sock = conn.transport.get_extra_info("socket")
                # A file no larger than the bound leaves the socket alone (0: never set)...
                default = 0
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NOTSENT_LOWAT) == default
                assert (await client.request("GET", f"/f/{large}")).body == _pattern(large)
                # ... a larger one bounds it (None: never).
                if lowat == "auto":  # 64 KiB on uvloop, no bound on the stdlib loop
                    expected = LOWAT if server.manager.uvloop else default
                else:
                    expected = default if lowat is None else lowat
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NOTSENT_LOWAT) == expected
            finally:
                await client.close()

    run(loop, scenario())


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="AF_UNIX sockets")
def test_a_unix_socket_serves_a_large_file_whole(loop, tmp_path):
    # TCP_NOTSENT_LOWAT does not apply to AF_UNIX: setting it fails quietly, sendfile works.
    size = 2 * 1024 * 1024 + 1
    path = tmp_path / "s.sock"

    async def scenario():
        async with serving(_file_app(tmp_path, [size]), bind=f"unix:{path}") as server:
            client = await Client.connect(server)
            try:
                for _ in range(2):
                    resp = await client.request("GET", f"/f/{size}")
                    assert resp.status == 200 and resp.body == _pattern(size)
            finally:
                await client.close()

    run(loop, scenario())


def test_peer_that_never_reads_does_not_grow_server_buffers(loop):
    async def scenario():
        async with serving(make_app(), write_high_water=64 * 1024, write_timeout=30) as server:
            host, port = server.addresses[0][:2]
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, (host, port))
            try:
                request = build_request("GET", "/big")
                peak = 0
                for _ in range(40):
                    try:
                        sock.send(request * 50)
                    except BlockingIOError:
                        pass
                    await asyncio.sleep(0.01)
                    for conn in server.manager.connections:
                        peak = max(peak, conn.buffered_bytes)
                (conn,) = server.manager.connections
                # 2000 requests for 256 KiB each were sent; the server holds at most its
                # high-water mark plus one response, and has stopped reading.
                assert peak <= 64 * 1024 + 2 * 256 * 1024
                assert conn._write_paused and conn._pause_mask
            finally:
                sock.close()

    run(loop, scenario())


def _labelled_app() -> App:
    # Each answer says which request it answers; the even ones are larger than a socket takes
    # from a client that is not reading, the odd ones a few bytes.
    app = App()

    @app.get("/r/:n")
    async def labelled(request):
        n = int(request.params["n"])
        await asyncio.sleep(0)  # answered from a Task: a write of its own
        return Response(b"<%d>" % n * (50000 if n % 2 == 0 else 1))

    @app.post("/late")
    async def late(request):
        await asyncio.sleep(0.2)  # the peer resets meanwhile
        return "too late"

    return app


def test_responses_reach_a_client_that_reads_late_whole_and_in_order(loop):
    # A response is sent straight to the socket only when the transport holds nothing; what
    # the socket does not take, and everything after it, goes through the transport, so the
    # client gets every byte once and in order, whenever it reads (ConnectionCore._write).
    async def scenario():
        async with serving(_labelled_app()) as server:
            sock = await _raw_connect(server)
            try:
                buf = bytearray()
                for n in range(12):
                    sock.send(build_request("GET", f"/r/{n}"))  # each in a read of its own
                    await asyncio.sleep(0.01)
                    try:
                        buf += sock.recv(1024)  # a little room in the socket now and then
                    except BlockingIOError:
                        pass
                sock.send(b"".join(build_request("GET", f"/r/{n}") for n in range(12, 28)))  # one batch
                for n in range(28):
                    head, body = await _read_response(sock, buf)
                    assert head.startswith(b"HTTP/1.1 200 ")
                    assert body == b"<%d>" % n * (50000 if n % 2 == 0 else 1), f"response {n}"
                assert not buf
            finally:
                sock.close()

    run(loop, scenario())


def test_a_peer_that_reset_before_the_write_is_lost_once_and_nothing_is_logged(loop, caplog, monkeypatch):
    # The client sends a body past read_high_water (reading pauses: the server does not see
    # the reset by reading), then resets (RST) while the handler waits; the response's write
    # meets ECONNRESET/EPIPE, the transport's write meets it again and reports it.
    async def scenario():
        async with serving(_labelled_app(), read_high_water=1024) as server:
            sock = await _raw_connect(server, rcvbuf=None)
            lost: list[Any] = []
            try:
                sock.send(build_request("POST", "/late", headers=[("Content-Length", "100000")]) + b"x" * 8192)
                await _wait_for(lambda: server.manager.connections, "the connection")
                (conn,) = server.manager.connections
                lost_connection = type(conn).connection_lost

                def counted(self, exc):
                    lost.append(exc)
                    return lost_connection(self, exc)

                monkeypatch.setattr(type(conn), "connection_lost", counted)
                await _wait_for(lambda: conn._pause_mask & P_BODY, "reading to pause")
            finally:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()  # RST
            await _wait_for(lambda: not server.manager.connections, "the connection to be lost")
            await asyncio.sleep(0.05)
            assert len(lost) == 1

    with caplog.at_level(logging.DEBUG):
        run(loop, scenario())
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


# -- limits ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, status",
    [
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + b"v" * 40000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\nHost: t\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(150)) + b"\r\n", 431),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\n", 413),
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),  # no Host
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        (b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505),
    ],
    ids=["414-request-line", "431-header-size", "431-header-count", "413-content-length", "400-garbage", "400-no-host", "400-cl-and-te", "501-coding", "505-version"],
)
def test_protocol_errors_get_their_status_and_close(loop, raw, status):
    async def scenario():
        async with serving(make_app()) as server:
            client = await Client.connect(server)
            await client.send(raw)
            resp = await client.read_response()
            assert resp.status == status
            assert resp.header("connection") == "close"
            assert await client.closed()
            await client.close()

    run(loop, scenario())


def test_chunked_body_over_the_limit_is_413(loop):
    async def scenario():
        async with serving(make_app(), max_body_size=1000) as server:
            client = await Client.connect(server)
            await client.send(b"POST /count HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
            await client.send(b"400\r\n" + b"a" * 1024 + b"\r\n")
            resp = await client.read_response()
            assert resp.status == 413 and resp.header("connection") == "close"
            await client.close()

    run(loop, scenario())


def test_chunked_body_is_411_when_content_length_is_required(loop):
    async def scenario():
        async with serving(make_app(), require_content_length=True) as server:
            client = await Client.connect(server)
            await client.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
            resp = await client.read_response()
            assert resp.status == 411 and resp.header("connection") == "close"
            await client.close()

    run(loop, scenario())


def test_requests_after_a_bad_one_are_never_parsed(loop):
    async def scenario():
        async with serving(make_app()) as server:
            client = await Client.connect(server)
            await client.send(
                build_request("GET", "/slow?n=first") + b"BAD REQUEST LINE\r\n\r\n" + build_request("GET", "/boom")
            )
            first = await client.read_response()
            assert first.status == 200 and first.body == b"slow first"
            second = await client.read_response()
            assert second.status == 400 and second.header("connection") == "close"
            assert await client.closed()
            await client.close()

    run(loop, scenario())


def test_requests_per_connection_limit_closes_after_the_last(loop):
    async def scenario():
        async with serving(make_app(), max_requests_per_connection=2) as server:
            client = await Client.connect(server)
            assert (await client.request("GET", "/")).header("connection") is None
            resp = await client.request("GET", "/")
            assert resp.status == 200 and resp.header("connection") == "close"
            assert await client.closed()
            await client.close()

    run(loop, scenario())


def test_connections_past_the_limit_get_503(loop):
    async def scenario():
        async with serving(make_app(), max_connections=1) as server:
            first = await Client.connect(server)
            assert (await first.request("GET", "/")).status == 200
            second = await Client.connect(server)
            resp = await second.read_response()
            assert resp.status == 503 and resp.header("connection") == "close"
            await second.close()
            assert (await first.request("GET", "/")).status == 200
            await first.close()

    run(loop, scenario())


# -- deadlines -------------------------------------------------------------------------------------


def test_slowloris_head_gets_408_within_the_header_deadline(loop):
    async def scenario():
        async with serving(make_app(), header_timeout=0.3) as server:
            client = await Client.connect(server)
            start = loop.time()
            got = None
            for byte in b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 200:
                try:
                    await client.send(bytes([byte]))
                except ConnectionError:
                    break
                if client.reader.at_eof() or client.reader._buffer:  # the server answered
                    break
                await asyncio.sleep(0.05)
            got = await client.read_response()
            assert got.status == 408 and got.header("connection") == "close"
            # Cut off long before the trickle would have finished (200+ bytes at 20/s).
            assert loop.time() - start < 5
            await client.close()

    run(loop, scenario())


def test_a_head_begun_in_the_same_read_as_the_previous_request_gets_408(loop):
    # The next request's head arrives with the end of the last one, then stalls: that is a slow
    # head (408), not an idle keep-alive connection to close silently.
    async def scenario():
        async with serving(make_app(), header_timeout=0.3, keep_alive_timeout=30) as server:
            client = await Client.connect(server)
            await client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost:")
            first = await client.read_response()
            assert first.status == 200
            second = await client.read_response()
            assert second.status == 408 and second.header("connection") == "close"
            await client.close()

    run(loop, scenario())


def test_stalled_body_gets_408(loop):
    async def scenario():
        async with serving(make_app(), body_timeout=0.3) as server:
            client = await Client.connect(server)
            await client.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly part")
            resp = await client.read_response()
            assert resp.status == 408 and resp.header("connection") == "close"
            await client.close()

    run(loop, scenario())


def test_body_trickling_below_the_minimum_rate_is_cut_off(loop):
    async def scenario():
        async with serving(make_app(), body_timeout=5, min_body_rate=1000, body_rate_window=0.3) as server:
            client = await Client.connect(server)
            await client.send(b"POST /count HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n")
            answered = None
            for _ in range(100):  # one byte every 20 ms: 50 B/s, never silent for long
                try:
                    await client.send(b"x")
                except ConnectionError:
                    break
                if client.reader._buffer or client.reader.at_eof():
                    break
                await asyncio.sleep(0.02)
            answered = await client.read_response()
            assert answered.status == 408
            await client.close()

    run(loop, scenario())


def test_idle_keep_alive_connection_is_closed_silently(loop):
    async def scenario():
        async with serving(make_app(), keep_alive_timeout=0.2) as server:
            client = await Client.connect(server)
            assert (await client.request("GET", "/")).status == 200
            assert await client.closed(timeout=3)
            await client.close()

    run(loop, scenario())


def test_peer_that_stops_reading_is_dropped_after_the_write_deadline(loop):
    async def scenario():
        async with serving(make_app(), write_timeout=0.3, write_high_water=16 * 1024) as server:
            host, port = server.addresses[0][:2]
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, (host, port))
            try:
                sock.send(build_request("GET", "/big") * 40)
                for _ in range(300):
                    await asyncio.sleep(0.01)
                    if not server.manager.connections:
                        break
                assert not server.manager.connections
            finally:
                sock.close()

    run(loop, scenario())


# -- handler failures ------------------------------------------------------------------------------


def test_handler_exception_is_a_bare_500_and_the_connection_goes_on(loop, caplog):
    async def scenario():
        async with serving(make_app()) as server:
            client = await Client.connect(server)
            with caplog.at_level(logging.ERROR, logger="fasthttp.error"):
                resp = await client.request("GET", "/boom")
            assert resp.status == 500
            assert b"secret" not in resp.body and resp.body == b"Internal Server Error"
            assert "secret internals" in caplog.text  # the traceback is in the server log
            assert (await client.request("GET", "/")).body == b"hello"
            resp = await client.request("GET", "/aboom")
            assert resp.status == 500 and b"secret" not in resp.body
            await client.close()

    run(loop, scenario())


def test_http_error_sets_the_status(loop):
    async def scenario():
        async with serving(make_app()) as server:
            client = await Client.connect(server)
            resp = await client.request("GET", "/teapot")
            assert resp.status == 418 and resp.body == b"short and stout"
            await client.close()

    run(loop, scenario())


def test_header_injection_from_the_application_is_a_500(loop, caplog):
    async def scenario():
        async with serving(make_app()) as server:
            client = await Client.connect(server)
            with caplog.at_level(logging.ERROR, logger="fasthttp.error"):
                resp = await client.request("GET", "/badheader")
            assert resp.status == 500 and resp.header("injected") is None
            await client.close()

    run(loop, scenario())


def test_plain_callable_handler_without_app(loop):
    def handler(request):
        return Response(f"{request.method} {request.path} {request.query}")

    async def scenario():
        async with serving(handler) as server:
            client = await Client.connect(server)
            resp = await client.request("GET", "/a/b?x=1")
            assert resp.body == b"GET /a/b x=1"
            await client.close()

    run(loop, scenario())


# -- take-over -----------------------------------------------------------------------------------


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data.upper())


def test_upgrade_hands_the_connection_and_early_bytes_to_the_new_protocol(loop):
    app = App()

    @app.get("/ws")
    def ws(request):
        assert request.upgrade
        return Upgrade(Echo, headers=[("Upgrade", "echo"), ("Connection", "upgrade")])

    async def scenario():
        async with serving(app) as server:
            client = await Client.connect(server)
            await client.send(build_request("GET", "/ws", headers=[("Connection", "upgrade"), ("Upgrade", "echo")]) + b"early")
            resp = await client.read_head()
            assert resp.status == 101 and resp.header("upgrade") == "echo"
            assert await client.reader.readexactly(5) == b"EARLY"
            await client.send(b"more")
            assert await client.reader.readexactly(4) == b"MORE"
            assert not server.manager.connections and server.manager.upgraded
            await client.close()

    run(loop, scenario())


def test_connect_tunnel_is_taken_over_after_a_200(loop):
    def handler(request):
        if request.method == "CONNECT":
            return Upgrade(Echo, status=200)
        return "plain"

    async def scenario():
        async with serving(handler) as server:
            client = await Client.connect(server)
            await client.send(b"CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n")
            resp = await client.read_head()
            assert resp.status == 200 and resp.header("content-length") is None
            await client.send(b"tunnel")
            assert await client.reader.readexactly(6) == b"TUNNEL"
            await client.close()

    run(loop, scenario())


def test_declined_upgrade_continues_with_http(loop):
    app = App()

    @app.get("/ws")
    def ws(request):
        return Response("no upgrade here", status=200)

    @app.get("/")
    def index(request):
        return "after"

    async def scenario():
        async with serving(app) as server:
            client = await Client.connect(server)
            await client.send(
                build_request("GET", "/ws", headers=[("Connection", "upgrade"), ("Upgrade", "echo")]) + build_request("GET", "/")
            )
            assert (await client.read_response()).body == b"no upgrade here"
            assert (await client.read_response()).body == b"after"
            await client.close()

    run(loop, scenario())


# -- the per-connection state ----------------------------------------------------------------------


def test_buffered_bytes_reports_what_the_connection_holds(loop):
    async def scenario():
        async with serving(make_app()) as server:
            client = await Client.connect(server)
            await client.request("GET", "/")
            (conn,) = server.manager.connections
            assert isinstance(conn, HttpProtocol)
            assert conn.buffered_bytes == 0
            await client.close()

    run(loop, scenario())


# -- how handlers run ----------------------------------------------------------------------------

_VAR = contextvars.ContextVar("_VAR", default="unset")


@pytest.mark.parametrize("mode", ["auto", "inline", "task"])
def test_context_variables_do_not_leak_between_requests(loop, mode):
    app = App()

    @app.get("/sync")
    def sync(request):
        before = _VAR.get()
        _VAR.set("sync")
        return before

    @app.get("/async")
    async def coro(request):
        before = _VAR.get()
        _VAR.set("async")
        await asyncio.sleep(0)
        return before + "," + _VAR.get()

    async def scenario():
        async with serving(app, async_handlers=mode) as server:
            client = await Client.connect(server)
            assert (await client.request("GET", "/sync")).body == b"unset"
            assert (await client.request("GET", "/sync")).body == b"unset"
            assert (await client.request("GET", "/async")).body == b"unset,async"
            assert (await client.request("GET", "/async")).body == b"unset,async"
            await client.close()

    run(loop, scenario())


@pytest.mark.parametrize("mode", ["task"] + (["auto", "eager"] if sys.version_info >= (3, 12) else []))
def test_task_modes_give_async_handlers_a_current_task(loop, mode):
    app = App()

    @app.get("/")
    async def handler(request):
        async with asyncio.timeout(5):  # needs a current task from the first line
            await asyncio.sleep(0)
        return str(asyncio.current_task() is not None)

    async def scenario():
        async with serving(app, async_handlers=mode) as server:
            client = await Client.connect(server)
            await client.send(build_request() * 3)  # pipelined: the order still holds
            for _ in range(3):
                assert (await client.read_response()).body == b"True"
            await client.close()

    run(loop, scenario())


def test_inline_mode_runs_async_handlers_without_a_task_until_they_wait(loop):
    app = App()

    @app.get("/")
    async def handler(request):
        first = asyncio.current_task() is None
        await asyncio.sleep(0)
        return f"{first} {asyncio.current_task() is None}"

    async def scenario():
        async with serving(app, async_handlers="inline") as server:
            client = await Client.connect(server)
            assert (await client.request()).body == b"True False"
            # A request queued behind a suspended one is not run inside the other's Task.
            await client.send(build_request() * 3)
            for _ in range(3):
                assert (await client.read_response()).body == b"True False"
            await client.close()

    run(loop, scenario())


def test_unknown_async_mode_is_refused():
    from fasthttp.config import Config

    with pytest.raises(ValueError):
        Config(async_handlers="threads")


# -- more pipelining and flow control -------------------------------------------------------------


def test_pipelined_bodies_wait_behind_a_slow_request(loop):
    async def scenario():
        async with serving(make_app()) as server:
            client = await Client.connect(server)
            await client.send(
                build_request("GET", "/slow?n=1&t=0.1")
                + build_request("POST", "/echo", body=b"second")
                + b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nthird\r\n0\r\n\r\n"
                + build_request("GET", "/")
            )
            bodies = [(await client.read_response()).body for _ in range(4)]
            assert bodies == [b"slow 1", b"second", b"third", b"hello"]
            await client.close()

    run(loop, scenario())


def test_streaming_pauses_while_the_peer_does_not_read(loop):
    produced = []
    app = App()

    @app.get("/endless")
    def endless(request):
        async def chunks():
            for i in range(100_000):
                produced.append(i)
                yield b"c" * 16384

        return StreamingResponse(chunks())

    async def scenario():
        async with serving(app, write_high_water=32 * 1024) as server:
            host, port = server.addresses[0][:2]
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, (host, port))
            try:
                sock.send(build_request("GET", "/endless"))
                for _ in range(100):
                    await asyncio.sleep(0.01)
                    conns = list(server.manager.connections)
                    if conns and conns[0]._write_paused:
                        break
                (conn,) = server.manager.connections
                assert conn._write_paused and conn._pause_mask & P_WRITE
                count = len(produced)
                await asyncio.sleep(0.2)
                # The generator is not pulled while the transport is above its high-water mark.
                assert len(produced) == count < 100_000
                assert conn.buffered_bytes <= 32 * 1024 + 2 * 16384
            finally:
                sock.close()

    run(loop, scenario())


# -- framing belongs to the server (RFC 9112 §6) --------------------------------------------------


def framing_app(tmp_path) -> App:
    path = tmp_path / "f.txt"
    path.write_bytes(b"ab")
    app = App()

    def stream(headers, length=None):
        return StreamingResponse(iter([b"0123456789"]), headers=headers, content_length=length)

    @app.get("/plain-te")
    def plain_te(request):
        # The forged second response, to a proxy that prefers Transfer-Encoding.
        return Response("0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", headers={"Transfer-Encoding": "chunked"})

    @app.get("/plain-cl")
    def plain_cl(request):
        return Response("hello", headers={"Content-Length": request.query_params["n"]})

    @app.get("/plain-keep")
    def plain_keep(request):
        return Response("hello", headers={"Connection": "keep-alive"})

    @app.get("/stream-cl")
    def stream_cl(request):
        return stream({"Content-Length": "3"})

    @app.get("/stream-over")
    def stream_over(request):
        return stream(None, 3)

    @app.get("/file-cl")
    def file_cl(request):
        return FileResponse(path, headers={"Content-Length": request.query_params["n"]})

    @app.get("/upgrade-te")
    def upgrade_te(request):
        return Upgrade(Echo, headers=[("Upgrade", "echo"), ("Connection", "upgrade"), ("Transfer-Encoding", "chunked")])

    return app


@pytest.mark.parametrize(
    ("target", "version"),
    [("/plain-te", "1.1"), ("/plain-cl?n=2", "1.1"), ("/plain-keep", "1.0"), ("/stream-cl", "1.1"),
     ("/stream-cl", "1.0"), ("/file-cl?n=1", "1.1")],  # fmt: skip
)
def test_framing_fields_from_the_application_are_a_500_for_every_response_kind(loop, caplog, tmp_path, target, version):
    # Before: two Content-Length fields, Transfer-Encoding beside Content-Length, keep-alive
    # beside close, 10 bytes after "Content-Length: 3". After: a 500, the reason in the log.
    async def scenario():
        async with serving(framing_app(tmp_path)) as server:
            client = await Client.connect(server)
            with caplog.at_level(logging.ERROR, logger="fasthttp.error"):
                await client.send(build_request("GET", target, version=version, headers=[("Host", "t")]))
                resp = await client.read_response()
            assert resp.status == 500 and resp.body == b"Internal Server Error"
            assert len(resp.headers_named("content-length")) == 1
            assert resp.header("transfer-encoding") is None
            assert "server" in caplog.text and "InvalidResponseHeader" in caplog.text
            if version == "1.1":
                assert (await client.request("GET", "/plain-cl?n=5")).body == b"hello"
            await client.close()

    run(loop, scenario())


def test_a_correct_content_length_from_the_application_is_sent_once(loop, tmp_path):
    async def scenario():
        async with serving(framing_app(tmp_path)) as server:
            client = await Client.connect(server)
            resp = await client.request("GET", "/plain-cl?n=5")
            assert resp.body == b"hello" and resp.headers_named("content-length") == ["5"]
            resp = await client.request("GET", "/file-cl?n=2")
            assert resp.body == b"ab" and resp.headers_named("content-length") == ["2"]
            await client.close()

    run(loop, scenario())


def test_a_stream_never_writes_past_its_announced_length(loop, caplog):
    app = App()

    @app.get("/")
    def over(request):
        return StreamingResponse(iter([b"012", b"3456789"]), content_length=3)

    async def scenario():
        async with serving(app) as server:
            client = await Client.connect(server)
            with caplog.at_level(logging.ERROR, logger="fasthttp.error"):
                await client.send(build_request("GET", "/") + build_request("GET", "/"))
                resp = await client.read_response()
                assert resp.body == b"012"
                # Before: "3456789" followed on the connection, read as the next response.
                assert await client.reader.read() == b""
            assert "announced Content-Length" in caplog.text
            await client.close()

    run(loop, scenario())


def test_an_upgrade_head_with_framing_fields_is_a_500(loop, caplog, tmp_path):
    async def scenario():
        async with serving(framing_app(tmp_path)) as server:
            client = await Client.connect(server)
            with caplog.at_level(logging.ERROR, logger="fasthttp.error"):
                await client.send(build_request("GET", "/upgrade-te", headers=[("Connection", "upgrade"), ("Upgrade", "echo")]))
                resp = await client.read_response()
            assert resp.status == 500 and resp.header("transfer-encoding") is None
            await client.close()

    run(loop, scenario())


@pytest.mark.parametrize("split", [False, True], ids=["with-head", "after-head"])
def test_a_chunk_announced_past_the_routes_limit_is_a_413_at_once(loop, split):
    # Before: the route's limit was applied to the bytes received only, so a chunk size of
    # 2**64 - 1 waited for the body timeout. After: 413 as soon as the size line is parsed.
    async def scenario():
        async with serving(make_app(), body_timeout=60.0) as server:
            client = await Client.connect(server)
            head = b"POST /small HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            size = b"FFFFFFFFFFFFFFFF\r\n"
            if split:
                await client.send(head)
                await asyncio.sleep(0.05)  # the handler is waiting for the body now
                await client.send(size)
            else:
                await client.send(head + size)
            resp = await asyncio.wait_for(client.read_response(), 5)
            assert resp.status == 413
            assert await client.closed()
            await client.close()

    run(loop, scenario())


def test_leading_zeros_in_numbers_are_read_by_value(loop):
    # Before: Content-Length 0000000000000000005 got a 413, chunk size 00000000000000005 a 400.
    async def scenario():
        async with serving(make_app()) as server:
            client = await Client.connect(server)
            await client.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 0000000000000000005\r\n\r\nhello")
            resp = await client.read_response()
            assert resp.status == 200 and resp.body == b"hello"
            await client.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000005\r\nhello\r\n0\r\n\r\n")
            resp = await client.read_response()
            assert resp.status == 200 and resp.body == b"hello"
            await client.close()

    run(loop, scenario())


def test_forbidden_trailer_fields_never_reach_request_trailers(loop):
    app = App()

    @app.post("/t")
    async def trailers(request):
        await request.body()
        return ",".join(sorted(request.trailers.keys())) if request.trailers is not None else "none"

    async def scenario():
        async with serving(app) as server:
            client = await Client.connect(server)
            await client.send(
                b"POST /t HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n"
                b"Content-Length: 5\r\nHost: evil\r\nTransfer-Encoding: gzip\r\nX-Checksum: 1\r\n\r\n"
            )
            resp = await client.read_response()
            assert resp.status == 200 and resp.body == b"x-checksum"
            await client.close()

    run(loop, scenario())


@pytest.mark.skipif(sys.version_info < (3, 12), reason="eager tasks are Python 3.12+")
@pytest.mark.parametrize("suspend", [False, True], ids=["at-once", "after-await"])
def test_eager_async_handler_returning_a_stream_or_a_file(loop, tmp_path, suspend):
    """An eager handler Task runs in the request's own context: the sender's Task must not enter
    it again (RuntimeError "cannot enter context" before the fix)."""
    path = tmp_path / "f.txt"
    path.write_bytes(b"file")

    async def handler(request):
        if suspend:
            await asyncio.sleep(0)
        if request.path == "/file":
            return FileResponse(path)
        return StreamingResponse([b"a", b"b"])

    async def main():
        async with serving(handler, async_handlers="eager") as server:
            c = await Client.connect(server)
            s = await c.request("GET", "/")
            f = await c.request("GET", "/file")
            await c.close()
            return s, f

    s, f = run(loop, main())
    assert s.body == b"ab" and f.body == b"file"


# -- RFC 2817: upgrading a plain connection to TLS; a TLS handshake on a plain port ------------------


def _tls_upgrade_server(tls, handler=None):
    from fasthttp.listeners import make_ssl_context

    from helpers_engine import hello_app

    return serving(handler or hello_app(), tls_upgrade=make_ssl_context(tls.cert_file, tls.key_file))


def test_tls_upgrade_101_then_the_answer_and_more_http_over_tls(loop, tls):
    from helpers_tls import connect, read_head, read_response

    async def scenario():
        async with _tls_upgrade_server(tls) as server:
            def client():
                raw = connect(server.addresses[0])
                raw.sendall(b"GET /whoami HTTP/1.1\r\nHost: localhost\r\nUpgrade: TLS/1.0\r\nConnection: Upgrade\r\n\r\n")
                switching = read_head(raw)
                sock = tls.client_context().wrap_socket(raw, server_hostname="localhost")
                with sock:
                    first = read_response(sock)  # RFC 2817 §3.3: the answer to the request, over TLS
                    sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    second = read_response(sock)
                return switching, first, second

            switching, (head, body), (head2, body2) = await asyncio.get_running_loop().run_in_executor(None, client)
            assert switching.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
            assert b"Upgrade: TLS/1.2, HTTP/1.1\r\n" in switching and b"Connection: Upgrade\r\n" in switching
            assert head.startswith(b"HTTP/1.1 200") and b'"secure":true' in body and b'"scheme":"https"' in body
            assert head2.startswith(b"HTTP/1.1 200") and body2 == b"hello"

    run(loop, scenario())


def test_tls_upgrade_is_not_offered_unless_configured_and_never_for_requests_with_content(loop, tls):
    from helpers_engine import hello_app
    from helpers_tls import connect, read_response

    async def scenario():
        async with serving(hello_app()) as server:
            def plain():
                with connect(server.addresses[0]) as sock:
                    sock.sendall(b"GET /whoami HTTP/1.1\r\nHost: localhost\r\nUpgrade: TLS/1.0\r\nConnection: Upgrade\r\n\r\n")
                    return read_response(sock)

            head, body = await asyncio.get_running_loop().run_in_executor(None, plain)
            assert head.startswith(b"HTTP/1.1 200") and b'"secure":false' in body  # Upgrade ignored
        async with _tls_upgrade_server(tls) as server:
            def with_body():
                with connect(server.addresses[0]) as sock:
                    sock.sendall(b"POST /whoami HTTP/1.1\r\nHost: localhost\r\nUpgrade: TLS/1.0\r\nConnection: Upgrade\r\nContent-Length: 1\r\n\r\nx")
                    return read_response(sock)

            head, _ = await asyncio.get_running_loop().run_in_executor(None, with_body)
            assert head.startswith(b"HTTP/1.1 405")  # served as plain HTTP: no 101

    run(loop, scenario())


def test_a_failed_tls_upgrade_handshake_closes_the_connection(loop, tls):
    from helpers_tls import connect, read_all, read_head

    async def scenario():
        async with _tls_upgrade_server(tls) as server:
            def client():
                with connect(server.addresses[0]) as raw:
                    raw.sendall(b"OPTIONS * HTTP/1.1\r\nHost: localhost\r\nUpgrade: TLS/1.0\r\nConnection: Upgrade\r\n\r\n")
                    head = read_head(raw)
                    raw.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")  # plain text instead of a ClientHello
                    return head, read_all(raw)

            head, rest = await asyncio.get_running_loop().run_in_executor(None, client)
            assert head.startswith(b"HTTP/1.1 101")
            assert not rest.startswith(b"HTTP/")
            assert not server.manager.connections

    run(loop, scenario())


def test_a_tls_client_hello_on_a_plain_port_is_answered_with_an_explanation(loop, tls):
    import ssl

    from fasthttp.listeners import TLS_ON_PLAIN
    from helpers_engine import hello_app
    from helpers_tls import connect, read_all

    async def scenario():
        async with serving(hello_app()) as server:
            def client():
                with connect(server.addresses[0]) as raw:
                    try:
                        tls.client_context().wrap_socket(raw, server_hostname="localhost")
                    except (ssl.SSLError, OSError) as exc:
                        error = exc
                    else:  # pragma: no cover
                        error = None
                with connect(server.addresses[0]) as raw:
                    raw.sendall(b"\x16\x03\x01\x00\x05hello")  # the start of a ClientHello record
                    return error, read_all(raw)

            error, data = await asyncio.get_running_loop().run_in_executor(None, client)
            assert error is not None  # the TLS client fails (it cannot read plain text) ...
            head, _, body = data.partition(b"\r\n\r\n")  # ... and the bytes say what to do
            assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n") and b"Connection: close" in head
            assert body == TLS_ON_PLAIN

    run(loop, scenario())


# -- --debug: connection tracing ----------------------------------------------------------------------


def test_debug_traces_each_connection_event(loop, caplog):
    from helpers_engine import hello_app

    async def scenario():
        async with serving(hello_app(), debug=True, header_timeout=0.1) as server:
            client = await Client.connect(server)
            resp = await client.request("GET", "/")
            assert resp.status == 200
            client.writer.write(b"GET / HTTP/1.1\r\nHost")  # then silence: the header deadline
            await asyncio.wait_for(client.reader.read(), 5)
            await client.close()

    with caplog.at_level(logging.DEBUG, logger="fasthttp.trace"):
        run(loop, scenario())
    text = "\n".join(r.getMessage() for r in caplog.records if r.name == "fasthttp.trace")
    for expected in ("open from", "in ", "head: GET / HTTP/1.1", "response to GET /: 200", "deadline passed: header read", "protocol error: 408", "closed"):
        assert expected in text, expected


def test_without_debug_the_plain_protocol_serves():
    from fasthttp.config import Config

    assert Config().debug is False


@pytest.mark.parametrize("mode", ["inline", "task"])
def test_the_engine_answers_a_handler_coroutines_failure_with_its_on_error_once(loop, mode, caplog):
    # fasthttp.application: a handler's on_error answers what its coroutine raises (inline or
    # in the Task, before or after a suspension); what on_error or its coroutine raises gets
    # the engine's answer, on_error is not applied to it again; a sync raise is the engine's.
    failures = []

    async def answer_later(text):
        await asyncio.sleep(0)
        return text

    async def fail_later():
        await asyncio.sleep(0)
        raise RuntimeError("on_error's coroutine failed")

    def on_error(request, exc):
        kind = exc.args[0]
        failures.append(kind)
        if kind.endswith("plain"):
            return "answered " + kind
        if kind.endswith("coroutine"):
            return answer_later("answered later " + kind)
        if kind.endswith("http"):
            raise HttpError(409, "on_error refused")
        return fail_later()

    async def handler(request):
        path = request.path
        if path.startswith("/later"):
            await asyncio.sleep(0)
        if path.endswith("sync"):
            raise AssertionError("unreachable")
        raise KeyError(path.rpartition("/")[2])

    def sync_handler(request):
        raise KeyError("sync")

    handler.on_error = on_error
    sync_handler.on_error = on_error

    async def scenario():
        statuses = {}
        async with serving(handler, async_handlers=mode) as server:
            client = await Client.connect(server)
            for when in ("now", "later"):
                for kind in ("plain", "coroutine", "http", "failing"):
                    resp = await client.request("GET", f"/{when}/{kind}")
                    statuses[when, kind] = resp.status, resp.body
            await client.close()
        async with serving(sync_handler, async_handlers=mode) as server:
            client = await Client.connect(server)
            statuses["sync"] = (await client.request("GET", "/")).status
            await client.close()
        return statuses

    with caplog.at_level(logging.CRITICAL, logger="fasthttp"):
        statuses = run(loop, scenario())
    for when in ("now", "later"):
        assert statuses[when, "plain"] == (200, b"answered plain")
        assert statuses[when, "coroutine"] == (200, b"answered later coroutine")
        assert statuses[when, "http"][0] == 409
        assert statuses[when, "failing"][0] == 500
    assert statuses["sync"] == 500  # a sync raise: the handler's own business, not on_error's
    assert failures == ["plain", "coroutine", "http", "failing"] * 2


# -- Connection: close: the last response and the FIN together (listeners.send_and_shut) ---------

#: tcpi_state values (linux/tcp_states.h): our FIN is out in all but ESTABLISHED and CLOSE_WAIT.
_TCP_ESTABLISHED, _TCP_CLOSE_WAIT = 1, 8


def _tcp_state(sock: Any) -> int:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]


def _probing_app(states: list[int], server_box: list[Any]) -> App:
    """``GET /`` answers "hello" synchronously and, from a callback queued before the answer is
    written (so it runs before any later loop turn), records the TCP state of the server's end
    of every open connection: whether the FIN had gone out by the time the response was."""
    app = App()

    def probe() -> None:
        for conn in list(server_box[0].manager.connections):
            states.append(_tcp_state(conn.transport.get_extra_info("socket")))

    @app.get("/")
    @app.post("/")
    def index(request):
        asyncio.get_running_loop().call_soon(probe)
        return "hello"

    return app


async def _read_to_eof(sock: socket.socket) -> bytes:
    loop = asyncio.get_running_loop()
    out = bytearray()
    while True:
        data = await loop.sock_recv(sock, 65536)
        if not data:
            return bytes(out)
        out += data


_CLOSING_EXCHANGES = {
    "close": (build_request("GET", "/", headers=[("Connection", "close")]), 1),
    "http10": (build_request("GET", "/", version="1.0"), 1),
    "pipelined": (build_request("GET", "/") + build_request("GET", "/", headers=[("Connection", "close")]), 2),
    # A lone POST in one read (head, body, end: one request, answered without a batch) and a
    # POST after a GET (a batch): the response and the FIN go together either way.
    "post": (build_request("POST", "/", body=b"x" * 100, headers=[("Connection", "close")]), 1),
    "pipelined-post": (build_request("GET", "/") + build_request("POST", "/", body=b"x" * 100, headers=[("Connection", "close")]), 2),
}


@pytest.mark.skipif(not hasattr(socket, "TCP_INFO"), reason="TCP_INFO is Linux's")
@pytest.mark.parametrize("case", list(_CLOSING_EXCHANGES))
def test_the_final_response_goes_out_with_the_fin_in_the_same_turn(loop, case):
    # RFC 9112 §9.6: after a response that says close, the server ends its side. It must do so
    # as it writes the response (one segment, MSG_MORE then shutdown), not a loop turn later:
    # else a client that closes on a complete response (wrk) sends its FIN first, the two FINs
    # cross, and the client keeps a TIME_WAIT. Seen here from the server's own socket, in a
    # callback that runs before any later turn: its FIN is already out (FIN_WAIT_1/2).
    request, count = _CLOSING_EXCHANGES[case]
    states: list[int] = []
    box: list[Any] = []

    async def scenario():
        async with serving(_probing_app(states, box)) as server:
            box.append(server)
            sock = await _raw_connect(server, rcvbuf=None)
            try:
                await loop_.sock_sendall(sock, request)
                data = await _read_to_eof(sock)
                # The client saw every response, then the end, and is the side still open.
                assert data.count(b"HTTP/1.") == count and data.endswith(b"\r\n\r\nhello"), data
                assert data.rsplit(b"HTTP/1.", 1)[1].count(b"Connection: close") == 1
                assert _tcp_state(sock) == _TCP_CLOSE_WAIT
            finally:
                sock.close()
            await _wait_for(lambda: not server.manager.connections, "the connection to end")

    loop_ = loop
    run(loop, scenario())
    # (a pipelined pair is answered in one turn: both probes run after the FIN)
    assert len(states) == count and all(s not in (_TCP_ESTABLISHED, _TCP_CLOSE_WAIT) for s in states), states


@pytest.mark.skipif(not hasattr(socket, "TCP_INFO"), reason="TCP_INFO is Linux's")
def test_an_async_handlers_final_response_ends_the_output_too(loop):
    # The answer written from the handler's Task takes the same path: response, then EOF, and
    # the server's side closed first (the client is left in CLOSE_WAIT, not the server).
    async def scenario():
        async with serving(make_app()) as server:
            sock = await _raw_connect(server, rcvbuf=None)
            try:
                await loop_.sock_sendall(sock, build_request("GET", "/slow?t=0&n=1", headers=[("Connection", "close")]))
                data = await _read_to_eof(sock)
                assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"\r\n\r\nslow 1")
                assert b"\r\nConnection: close\r\n" in data
                assert _tcp_state(sock) == _TCP_CLOSE_WAIT
            finally:
                sock.close()

    loop_ = loop
    run(loop, scenario())


def test_a_tls_connections_final_response_is_closed_by_tls_not_the_raw_socket(loop, tls):
    # Under TLS the bytes must go through the TLS transport (a raw send would corrupt the
    # stream): the client reads the whole response and a clean end.
    async def scenario():
        async with serving(make_app(), ssl=tls.server_context()) as server:
            host, port = server.addresses[0][:2]
            reader, writer = await asyncio.open_connection(host, port, ssl=tls.client_context(), server_hostname="localhost")
            try:
                writer.write(build_request("GET", "/", headers=[("Connection", "close")]))
                data = await reader.read()
                assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"\r\n\r\nhello")
                assert b"\r\nConnection: close\r\n" in data
            finally:
                writer.close()

    run(loop, scenario())


def test_a_final_response_with_the_body_unread_still_lingers(loop):
    # The half-close with linger (RFC 9112 §9.6) keeps its path: a body the handler did not
    # read is discarded after the response, the client gets the response and then the end.
    app = App()

    @app.post("/early")
    def early(request):
        return Response(b"no", 403)

    async def scenario():
        async with serving(app) as server:
            sock = await _raw_connect(server, rcvbuf=None)
            try:
                head = build_request("POST", "/early", headers=[("Content-Length", "100000")])
                await loop_.sock_sendall(sock, head + b"x" * 1000)
                buf = bytearray()
                resp_head, body = await _read_response(sock, buf)
                assert resp_head.startswith(b"HTTP/1.1 403 ") and body == b"no"
                await loop_.sock_sendall(sock, b"x" * 99000)  # the rest, discarded unread
                assert await _read_to_eof(sock) == b""
            finally:
                sock.close()

    loop_ = loop
    run(loop, scenario())
