"""TRACE (``fasthttp.middleware.trace``, RFC 9110 §9.3.8): off by default; when installed, the
request echoed as message/http without the fields that carry secrets."""

from __future__ import annotations

from fasthttp import App
from fasthttp.middleware import Trace
from fasthttp.testing import TestClient


def make_app(*middleware):
    app = App()
    for m in middleware:
        app.add_middleware(m)

    @app.get("/page")
    def page(request):
        return "page"

    return app


def test_trace_is_off_by_default():
    with TestClient(make_app()) as client:
        resp = client.request("TRACE", "/page")
    assert resp.status == 405 and "TRACE" not in resp.headers["allow"]


def test_trace_echoes_the_request_without_secrets():
    headers = {"Authorization": "Bearer s3cret", "Cookie": "sid=1", "X-Token": "t", "X-Seen": "yes"}
    with TestClient(make_app(Trace(exclude=["X-Token"]))) as client:
        resp = client.request("TRACE", "/anything?q=1", headers=headers)
        normal = client.get("/page")
    assert resp.status == 200 and resp.headers["content-type"] == "message/http"
    text = resp.body.decode()
    assert text.startswith("TRACE /anything?q=1 HTTP/1.1\r\n") and "x-seen: yes" in text.lower()
    for secret in ("s3cret", "sid=1", "x-token"):
        assert secret not in text.lower()
    assert normal.text == "page"


def test_trace_with_content_is_refused():
    with TestClient(make_app(Trace())) as client:
        resp = client.request("TRACE", "/", data=b"body")
    assert resp.status == 400
