"""The engine's contract with the application: ``as_application`` takes an Application as it
is and wraps a bare handler callable in a ``HandlerApplication``; the server serves either."""

from __future__ import annotations

import asyncio

import pytest

from fasthttp import App, Server
from fasthttp.application import Application, HandlerApplication, as_application

from helpers_server import Client, run, serving


def test_an_app_is_its_own_application():
    app = App()
    assert isinstance(app, Application)
    assert as_application(app) is app


def test_an_object_implementing_the_protocol_is_taken_as_it_is():
    class Adapter:
        on_connect = None

        def engine_handler(self):
            return lambda request: "adapted"

        async def startup(self):
            pass

        async def shutdown(self):
            pass

    adapter = Adapter()
    assert as_application(adapter) is adapter


def test_a_bare_handler_is_wrapped_with_an_empty_life_cycle():
    def handler(request):
        return "bare"

    application = as_application(handler)
    assert isinstance(application, HandlerApplication) and isinstance(application, Application)
    assert application.engine_handler() is handler
    assert application.on_connect is None
    assert asyncio.run(application.startup()) is None
    assert asyncio.run(application.shutdown()) is None
    assert repr(application) == f"HandlerApplication({handler!r})"


def test_a_handler_application_carries_its_connection_hook():
    def hook(transport, session):
        return True

    application = HandlerApplication(lambda request: "x", on_connect=hook)
    assert application.on_connect is hook
    assert as_application(application) is application


@pytest.mark.parametrize("value", [None, 42, "module:app"])
def test_what_is_neither_an_application_nor_callable_is_refused(value):
    with pytest.raises(TypeError):
        as_application(value)


def test_the_server_serves_a_bare_handler(loop):
    seen = []

    def handler(request):
        seen.append((request.method, request.path))
        return f"bare {request.path}"

    async def scenario():
        async with serving(handler) as server:
            assert isinstance(server.app, HandlerApplication) and server.handler is handler
            assert server.on_connect is None
            client = await Client.connect(server)
            resp = await client.request("GET", "/x")
            assert resp.status == 200 and resp.body == b"bare /x"
            await client.close()

    run(loop, scenario())
    assert seen == [("GET", "/x")]


def test_the_server_runs_an_applications_life_cycle_and_asks_for_its_handler_once(loop):
    events = []

    class Recorder:
        on_connect = None

        def engine_handler(self):
            events.append("handler")
            return lambda request: "recorded"

        async def startup(self):
            events.append("startup")

        async def shutdown(self):
            events.append("shutdown")

    async def scenario():
        server = Server(Recorder(), "127.0.0.1:0")
        await server.start()
        client = await Client.connect(server)
        assert (await client.request()).body == b"recorded"
        assert (await client.request()).body == b"recorded"
        await client.close()
        await server.shutdown(timeout=1.0)

    run(loop, scenario())
    assert events == ["handler", "startup", "shutdown"]


# -- Deferred: a handler answering later, from a task of its own --------------------------------


def test_a_deferred_delivers_to_the_engine_once_and_late_attachment_sees_the_result():
    from fasthttp.application import Deferred

    seen = []
    early = Deferred()
    early.attach(lambda req, result: seen.append((req, result)), "req")
    assert not early.done()
    early.deliver("first")
    early.deliver("second")  # only the first delivery counts
    assert early.done() and seen == [("req", "first")]

    late = Deferred()
    late.deliver(None)  # None is a result (204), not "nothing yet"
    late.attach(lambda req, result: seen.append((req, result)), "req2")
    assert seen[-1] == ("req2", None)

    cancelled = Deferred()
    cancelled.attach(lambda req, result: seen.append(result), "req3")
    assert cancelled.cancel()
    cancelled.deliver("too late")  # the engine dropped the connection: nobody is told
    assert seen[-1] == ("req2", None)


def test_the_engine_answers_a_deferred_when_it_is_delivered_and_keeps_the_pipeline_order(loop):
    from fasthttp.application import Deferred

    def handler(request):
        if request.path == "/now":
            return "now"
        pending = Deferred()
        # Delivered from another callback (an adapter's Task or thread hand-off in real life).
        asyncio.get_running_loop().call_later(0.01, pending.deliver, f"late {request.path}")
        return pending

    async def scenario():
        async with serving(handler) as server:
            client = await Client.connect(server)
            # Pipelined: the second request waits for the first's late answer.
            await client.send(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /now HTTP/1.1\r\nHost: x\r\n\r\n")
            first = await client.read_response()
            second = await client.read_response()
            third = await client.request("GET", "/b")
            await client.close()
            return first, second, third

    first, second, third = run(loop, scenario())
    assert (first.status, first.body) == (200, b"late /a")
    assert (second.status, second.body) == (200, b"now")
    assert (third.status, third.body) == (200, b"late /b")


def test_a_deferred_is_cancelled_when_the_engine_drops_the_connection(loop):
    from fasthttp.application import Deferred

    cancelled = asyncio.Event()

    class Pending(Deferred):
        def cancel(self) -> bool:
            cancelled.set()
            return super().cancel()

    async def scenario():
        # A write timeout aborts the connection (HttpProtocol.abort): its pending answer is
        # cancelled like a handler Task would be.
        async with serving(lambda request: Pending()) as server:
            client = await Client.connect(server)
            await client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            await asyncio.sleep(0.05)
            for conn in list(server.manager.connections):
                conn.abort()
            await asyncio.wait_for(cancelled.wait(), 5)
            await client.close()

    run(loop, scenario())
