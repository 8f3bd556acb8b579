"""The server: the on_connect hook and sessions, graceful shutdown (in-flight requests finish,
idle connections close, a deadline aborts the rest), and serve_forever. Loopback addresses only."""

from __future__ import annotations

import asyncio
import socket

import pytest

from fasthttp import App, Server

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
