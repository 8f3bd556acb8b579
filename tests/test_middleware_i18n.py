"""fasthttp.middleware.i18n: Languages publishes the request's language and labels the response."""

from __future__ import annotations

import pytest
from helpers_i18n import make_localedir

from fasthttp import App
from fasthttp.i18n import Catalogs
from fasthttp.middleware import Languages
from fasthttp.responses import Response
from fasthttp.testing import TestClient

SHARED = Response("constant")


def make_app(root):
    app = App()
    app.add_middleware(Languages(Catalogs(make_localedir(root))))

    @app.get("/")
    def hello(request):
        return {"lang": request.language, "text": request.gettext("Hello"), "n": request.ngettext("apple", "apples", 3)}

    @app.get("/async")
    async def hello_async(request):
        return request.gettext("Hello")

    @app.get("/fixed")
    def fixed(request):
        return Response("x", headers={"Content-Language": "la"})

    @app.get("/shared")
    def shared(request):
        return SHARED

    return app


def test_the_request_language_and_the_response_labels(tmp_path):
    with TestClient(make_app(str(tmp_path))) as c:
        r = c.get("/", headers={"Accept-Language": "de-AT;q=0.9, pt-BR;q=0.5"})
        assert r.json() == {"lang": "de-AT", "text": "Servus", "n": "apples"}
        assert r.headers["content-language"] == "de-AT"
        assert r.headers["vary"] == "Accept-Language"
        r = c.get("/", headers={"Accept-Language": "de"})
        assert r.json() == {"lang": "de", "text": "Hallo", "n": "Äpfel"}
        r = c.get("/", headers={"Accept-Language": "ja"})
        assert r.json() == {"lang": "en", "text": "Hello", "n": "apples"}
        assert c.get("/async", headers={"Accept-Language": "pt"}).content == "Olá".encode()
        assert c.get("/fixed", headers={"Accept-Language": "de"}).headers["content-language"] == "la"
        assert c.get("/shared", headers={"Accept-Language": "de"}).headers["content-language"] == "de"
        assert c.get("/shared", headers={"Accept-Language": "pt"}).headers["content-language"] == "pt-BR"
        assert SHARED.fields == [(b"Content-Type", b"text/plain; charset=utf-8")]  # never mutated
        r = c.get("/missing", headers={"Accept-Language": "de"})
        assert r.status == 404 and r.headers["content-language"] == "de"


def test_without_the_middleware_messages_are_untranslated():
    app = App()

    @app.get("/")
    def hello(request):
        return [request.language, request.gettext("Hello"), request.ngettext("a", "as", 1), request.ngettext("a", "as", 2)]

    with TestClient(app) as c:
        assert c.get("/", headers={"Accept-Language": "de"}).json() == [None, "Hello", "a", "as"]


def test_checked():
    with pytest.raises(TypeError):
        Languages({"de": None})
