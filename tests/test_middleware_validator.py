"""The response validator middleware (``fasthttp.middleware.validator``): what handlers return is
checked, with a message naming the route and the rule (TestClient raises handler errors)."""

from __future__ import annotations

import pytest

from fasthttp import App, Response, StreamingResponse
from fasthttp.middleware import ResponseValidationError, Validator
from fasthttp.testing import TestClient


def app_returning(value, method="GET"):
    app = App()
    app.add_middleware(Validator())

    @app.route("/r", methods=[method])
    def handler(request):
        return value() if callable(value) and not isinstance(value, type) else value

    return app


@pytest.mark.parametrize(
    "value",
    [
        "text",
        b"bytes",
        {"json": 1},
        None,
        Response(b"", 204),
        Response(b"moved", 301, {"Location": "/x"}),
        Response(b"abc", headers={"Content-Length": "3"}),
        lambda: StreamingResponse(iter([b"ab", "c"]), content_length=3),
        Response(b"bye", headers={"Connection": "close"}),
    ],
    ids=["str", "bytes", "dict", "none", "204", "redirect", "content-length", "stream", "connection-close"],
)
def test_valid_responses_pass(value):
    with TestClient(app_returning(value)) as client:
        assert client.get("/r").status < 400


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (Response(b"x", 204), "204 has no content"),
        (Response(b"", 302), "needs a Location"),
        (Response(b"", 99), "from 200 to 599"),
        (Response(b"", 102), "from 200 to 599"),
        (Response(b"abc", headers={"Content-Length": "4"}), "Content-Length"),
        (Response(b"", headers={"X-Bad": "a\r\nInjected: 1"}), "X-Bad"),
        (Response(b"", headers={"Bad Name": "1"}), "Bad Name"),
        (Response(b"", headers={"Transfer-Encoding": "chunked"}), "Transfer-Encoding"),
        (Response(b"", headers={"Connection": "keep-alive"}), "Connection"),
        (Response(b"", headers=[("Connection", "close"), ("X-Bad", "a\r\nb")]), "X-Bad"),
        (Response(b"", headers=[("Content-Type", "a/b"), ("Content-Type", "c/d")]), "content-type appears twice"),
        (Response(b"", headers=[("Location", "/a"), ("Location", "/b")]), "location appears twice"),
    ],
    ids=["204-body", "redirect-no-location", "status-99", "status-1xx", "wrong-length", "crlf-value", "bad-name", "framing", "keep-alive", "close-and-crlf", "two-types", "two-locations"],
)
def test_invalid_responses_raise_with_the_route_and_the_rule(value, message):
    with TestClient(app_returning(value)) as client:
        with pytest.raises(ResponseValidationError) as info:
            client.get("/r")
    assert message in str(info.value) and "GET /r" in str(info.value)


def test_streams_are_checked_as_they_go():
    def wrong_length():
        return StreamingResponse(iter([b"ab"]), content_length=3)

    def wrong_piece():
        return StreamingResponse(iter([b"ab", 3]))

    for value, message in ((wrong_length, "gave 2 bytes"), (wrong_piece, "bytes or str, not int")):
        app = app_returning(value)
        errors = []
        app.on_startup(lambda: None)
        import logging

        class Catch(logging.Handler):
            def emit(self, record):
                if record.exc_info:
                    errors.append(str(record.exc_info[1]))

        handler = Catch()
        logging.getLogger("fasthttp.error").addHandler(handler)
        try:
            with TestClient(app, raise_server_exceptions=False) as client:
                try:
                    client.get("/r")
                except Exception:  # the head was out: the connection is aborted mid-body
                    pass
        finally:
            logging.getLogger("fasthttp.error").removeHandler(handler)
        assert any(message in e for e in errors), errors


def test_async_streams_and_a_route_level_validator():
    async def pieces():
        yield b"a"
        yield b"b"

    app = App()

    @app.get("/ok", middleware=[Validator()])
    def ok(request):
        return StreamingResponse(pieces(), content_length=2)

    with TestClient(app) as client:
        assert client.get("/ok").body == b"ab"
