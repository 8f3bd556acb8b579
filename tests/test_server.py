"""The server: the on_connect hook and sessions, graceful shutdown (in-flight requests finish,
idle connections close, a deadline aborts the rest), and serve_forever. Loopback addresses only."""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
import time

import pytest

from fasthttp import App, Server
from fasthttp.listeners import BACKSTOP_INTERVAL, BACKSTOP_QUEUE, accept_queue_length

from helpers_engine import hello_app
from helpers_server import Client, build_request, run, serving


# -- on_connect and the session ------------------------------------------------------------------


def test_on_connect_can_refuse_a_connection(loop):
    seen = []

    def on_connect(transport, session):
        seen.append(transport.get_extra_info("peername"))
        return False

    async def scenario():
        async with serving(hello_app(), on_connect=on_connect) as server:
            client = await Client.connect(server)
            await client.send(build_request())
            assert await client.closed()
            await client.close()
        assert seen and seen[0][0] == "127.0.0.1"

    run(loop, scenario())


def test_session_is_shared_by_on_connect_and_the_requests_of_one_connection(loop):
    app = App()

    def on_connect(transport, session):
        session["_user"] = "alice"
        return True

    app.on_connect = on_connect

    @app.get("/")
    def index(request):
        session = request.session
        session["__hits"] = session.get("__hits", 0) + 1
        return f"{session['_user']} {session['__hits']} {session['client'][0]}"

    async def scenario():
        async with serving(app) as server:
            first = await Client.connect(server)
            assert (await first.request()).body == b"alice 1 127.0.0.1"
            assert (await first.request()).body == b"alice 2 127.0.0.1"
            second = await Client.connect(server)
            assert (await second.request()).body == b"alice 1 127.0.0.1"
            await first.close()
            await second.close()

    run(loop, scenario())


# -- graceful shutdown ---------------------------------------------------------------------------


def test_graceful_shutdown_finishes_in_flight_requests_and_closes_idle_ones(loop):
    release = asyncio.Event()
    started = asyncio.Event()
    app = App()

    @app.get("/wait")
    async def wait(request):
        started.set()
        await release.wait()
        return "finished"

    @app.get("/")
    def index(request):
        return "hello"

    async def scenario():
        server = Server(app, "127.0.0.1:0")
        await server.start()
        busy = await Client.connect(server)
        idle = await Client.connect(server)
        assert (await idle.request()).status == 200
        await busy.send(build_request("GET", "/wait"))
        await started.wait()
        shutdown = asyncio.ensure_future(server.shutdown(timeout=5))
        assert await idle.closed()  # idle keep-alive connections go at once
        with pytest.raises(OSError):  # no longer accepting
            await asyncio.open_connection(*server.addresses[0])
        assert not shutdown.done()
        release.set()
        resp = await busy.read_response()
        assert resp.body == b"finished" and resp.header("connection") == "close"
        await shutdown
        assert not server.manager.connections
        await busy.close()
        await idle.close()

    run(loop, scenario())


def test_a_connection_accepted_as_the_shutdown_begins_is_served_once_then_closed(loop):
    """The loop may accept a connection just before the listener closes and make its protocol a
    few callbacks later, once the drain has begun: its request is answered (then the connection
    closes), not refused with a socket closed on unread input, which resets it (RFC 9112 §9.6).
    After close() (the drain's deadline) a connection is refused."""
    import functools
    import socket

    from fasthttp.protocol import HttpProtocol

    async def scenario():
        async with serving(hello_app()) as server:
            manager = server.manager
            manager.closing = True  # what shutdown() sets once the listeners are closed
            ours, theirs = socket.socketpair()
            theirs.sendall(build_request())
            loop_ = asyncio.get_running_loop()
            await loop_.connect_accepted_socket(functools.partial(HttpProtocol, manager), ours)
            theirs.setblocking(False)
            answer = b""
            while True:
                chunk = await loop_.sock_recv(theirs, 65536)
                if not chunk:
                    break
                answer += chunk
            theirs.close()
            manager.closing = False  # the server's own shutdown then runs as usual
            return answer

    answer = run(loop, scenario())
    assert answer.startswith(b"HTTP/1.1 200 ") and b"\r\nConnection: close\r\n" in answer


def test_shutdown_deadline_aborts_requests_that_do_not_finish(loop):
    app = App()

    @app.get("/forever")
    async def forever(request):
        await asyncio.sleep(60)

    async def scenario():
        server = Server(app, "127.0.0.1:0")
        await server.start()
        client = await Client.connect(server)
        await client.send(build_request("GET", "/forever"))
        await asyncio.sleep(0.05)
        await server.shutdown(timeout=0.2)
        assert await client.closed()
        await client.close()

    run(loop, scenario())


def test_serve_forever_drains_when_cancelled(loop):
    async def scenario():
        server = Server(hello_app(), "127.0.0.1:0")
        task = asyncio.ensure_future(server.serve_forever())
        while not server.started:
            await asyncio.sleep(0.01)
        client = await Client.connect(server)
        assert (await client.request()).body == b"hello"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await client.closed()
        await client.close()

    run(loop, scenario())


def test_a_graceful_shutdown_waits_for_background_tasks():
    import asyncio
    import http.client

    from fasthttp import App

    finished = []
    app = App()

    async def slow_task():
        await asyncio.sleep(0.2)
        finished.append("slow")

    async def endless_task():
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            finished.append("cancelled")
            raise

    @app.get("/")
    def index(request):
        request.add_background_task(slow_task)
        request.add_background_task(endless_task)
        return "ok"

    handle = app.start("127.0.0.1:0", shutdown_timeout=1.0)
    try:
        host, port = handle.addresses[0][:2]
        conn = http.client.HTTPConnection(host, port, timeout=5)
        conn.request("GET", "/")
        assert conn.getresponse().read() == b"ok"
        conn.close()
    finally:
        handle.stop()
    assert finished == ["slow", "cancelled"]


@pytest.mark.skipif(not hasattr(socket, "TCP_DEFER_ACCEPT"), reason="TCP_DEFER_ACCEPT is Linux's")
def test_tcp_listeners_defer_accept_by_default(loop):
    async def scenario():
        async with serving(hello_app()) as server:
            assert server.sockets
            for sock in server.sockets:
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT) > 0

    run(loop, scenario())


@pytest.mark.skipif(not hasattr(socket, "TCP_DEFER_ACCEPT"), reason="TCP_DEFER_ACCEPT is Linux's")
@pytest.mark.parametrize("seconds", [1, 0])
def test_tcp_listeners_defer_accept_as_configured_and_serve(loop, seconds):
    # Config.defer_accept reaches every listening socket of the address (the accept group), and
    # a client that connects and sends its request is served either way.
    async def scenario():
        async with serving(hello_app(), defer_accept=seconds) as server:
            for sock in server.sockets:
                assert (sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT) > 0) == bool(seconds)
            client = await Client.connect(server)
            resp = await client.request("GET", "/")
            assert resp.status == 200
            await client.close()

    run(loop, scenario())


def _read_to_eof(sock: socket.socket) -> bytes:
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the backstop reads Linux's TCP_INFO")
def test_a_burst_queued_behind_a_busy_loop_is_accepted_by_the_backstop_and_served(loop):
    # The c1000 tail of issue 17, made deterministic: the loop is held by a handler while a
    # burst of connections (each with its request: TCP_DEFER_ACCEPT, the default) fills the
    # accept queue. uvloop alone would accept them one per loop iteration; the backstop's look
    # (due: the first connection armed it, and the handler held the loop longer than its
    # interval; the queue is above BACKSTOP_QUEUE) accepts the whole queue at once. Every client reads its response and then the
    # end of the connection (Connection: close, RFC 9112 §9.6).
    if not type(loop).__module__.startswith("uvloop"):
        pytest.skip("the backstop serves uvloop's listeners (asyncio accepts the queue itself)")
    burst = BACKSTOP_QUEUE + 4  # above the threshold even after one accept of the loop
    held = threading.Event()
    app = App()

    @app.get("/hold")
    def hold(request):
        held.wait(10)
        return "held"

    @app.get("/")
    def index(request):
        return "hello"

    def clients(port: int, listener: socket.socket) -> list[bytes]:
        first = socket.create_connection(("127.0.0.1", port), timeout=10)
        first.sendall(b"GET /hold HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        socks = []
        try:
            for _ in range(burst):
                client = socket.create_connection(("127.0.0.1", port), timeout=10)
                socks.append(client)
                client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            for _ in range(1000):  # the whole burst queued (10 s at most)
                if accept_queue_length(listener) == burst:
                    break
                time.sleep(0.01)
            # Not a synchronisation: the loop is held either way; this only makes sure the
            # backstop's look is due when it is let go (a slower machine holds it longer).
            time.sleep(4 * BACKSTOP_INTERVAL)
            held.set()
            return [_read_to_eof(first)] + [_read_to_eof(s) for s in socks]
        finally:
            held.set()
            first.close()
            for client in socks:
                client.close()

    async def scenario():
        async with serving(app, accept_listeners=1) as server:
            port = server.addresses[0][1]
            answers = await asyncio.get_running_loop().run_in_executor(None, clients, port, server.sockets[0])
            assert answers[0].startswith(b"HTTP/1.1 200 ") and answers[0].endswith(b"held")
            for answer in answers[1:]:
                assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"hello")
                assert b"connection: close" in answer.lower()
            # The look ends the first loop iteration after the hold, in which uvloop accepts at
            # most one connection on the socket: the backstop took the rest at once.
            assert server.accept_backstop is not None and server.accept_backstop.drained >= burst - 1

    run(loop, scenario(), timeout=30)


def test_no_backstop_on_the_asyncio_loop_or_over_tls(loop, tls):
    async def scenario():
        async with serving(hello_app()) as server:
            uvloop = type(loop).__module__.startswith("uvloop")
            assert (server.accept_backstop is not None) == (uvloop and sys.platform.startswith("linux"))
        async with serving(hello_app(), ssl=tls.server_context()) as server:
            assert server.accept_backstop is None

    run(loop, scenario())
