"""fasthttp.hosting: which interface an application speaks, and its adapter."""

from __future__ import annotations

import pytest
from helpers_hosting import asgi_app, handler, make_asgi_app, wsgi_app

from fasthttp import App
from fasthttp.asgi import AsgiApplication
from fasthttp.hosting import detect_interface, hosted
from fasthttp.testing import TestClient
from fasthttp.wsgi import WsgiApplication


class AsgiClass:
    async def __call__(self, scope, receive, send):
        await asgi_app(scope, receive, send)


class WsgiClass:
    def __call__(self, environ, start_response):
        return wsgi_app(environ, start_response)


@pytest.mark.parametrize(
    ("app", "interface"),
    [
        (App(), "fasthttp"),
        (handler, "fasthttp"),
        (asgi_app, "asgi"),
        (AsgiClass(), "asgi"),
        (wsgi_app, "wsgi"),
        (WsgiClass(), "wsgi"),
        (AsgiApplication(asgi_app), "fasthttp"),  # already an Application
    ],
    ids=["App", "handler", "asgi-function", "asgi-object", "wsgi-function", "wsgi-object", "adapter"],
)
def test_detect_interface(app, interface):
    assert detect_interface(app) == interface


def test_not_callable_is_refused():
    with pytest.raises(TypeError):
        detect_interface(42)


def test_hosted_wraps_and_serves():
    asgi = hosted(asgi_app, root_path="/r")
    wsgi = hosted(wsgi_app, "wsgi", root_path="/w")
    assert isinstance(asgi, AsgiApplication) and isinstance(wsgi, WsgiApplication)
    with TestClient(asgi) as client:
        assert client.get("/x").body == b"asgi /r /r/x yes"
    with TestClient(wsgi) as client:
        assert client.get("/y").body == b"wsgi /w /y"
    assert hosted(handler) is handler


def test_factory_and_forced_interface():
    assert isinstance(hosted(make_asgi_app, factory=True), AsgiApplication)
    # A forced interface wraps whatever it is given.
    assert isinstance(hosted(asgi_app, "wsgi"), WsgiApplication)


def test_bad_arguments():
    with pytest.raises(ValueError, match="interface"):
        hosted(asgi_app, "cgi")
    with pytest.raises(ValueError, match="root-path"):
        hosted(handler, root_path="/x")
    with pytest.raises(ValueError, match="root_path"):
        hosted(asgi_app, root_path="x/")
