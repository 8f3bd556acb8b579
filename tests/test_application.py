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
