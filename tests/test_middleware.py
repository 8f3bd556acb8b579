"""fasthttp.middleware: callables around the App's dispatcher, composed once.

Through the App (installation order, ``def`` and ``async def`` middleware, errors raised by a
middleware, composition once and not at all when none is installed), and the stack on its own.
"""

from __future__ import annotations

import pytest

from fasthttp import App, HttpError, Response
from fasthttp.middleware import MiddlewareStack, is_async_callable
from fasthttp.testing import TestClient


def test_middleware_wraps_every_request_first_installed_outermost():
    app = App()
    order = []

    @app.middleware
    async def outer(request, call_next):
        order.append("outer in")
        response = await call_next(request)
        order.append("outer out")
        response.fields.append(("X-Outer", "1"))
        return response

    @app.middleware
    async def inner(request, call_next):
        order.append("inner in")
        response = await call_next(request)
        order.append(f"inner saw {response.status}")
        return response

    app.get("/")(lambda request: {"a": 1})
    with TestClient(app) as client:
        resp = client.get("/")
        missing = client.get("/missing")
    assert resp.json() == {"a": 1} and resp.headers["x-outer"] == "1"
    assert missing.status == 404 and missing.headers["x-outer"] == "1"
    assert order[:4] == ["outer in", "inner in", "inner saw 200", "outer out"]


def test_a_sync_middleware_may_answer_without_calling_the_route():
    app = App()

    @app.middleware
    def auth(request, call_next):
        if request.headers.get("authorization") != "Bearer ok":
            raise HttpError(401, "who are you?", headers={"WWW-Authenticate": "Bearer"})
        return call_next(request)

    app.get("/sync")(lambda request: "sync")

    @app.get("/async")
    async def a(request):
        return "async"

    with TestClient(app) as client:
        denied = client.get("/sync")
        assert client.get("/sync", headers={"Authorization": "Bearer ok"}).text == "sync"
        assert client.get("/async", headers={"Authorization": "Bearer ok"}).text == "async"
    assert denied.status == 401 and denied.headers["www-authenticate"] == "Bearer"


def test_middleware_is_composed_once_and_none_means_no_wrapping():
    bare = App()
    bare.get("/")(lambda request: "raw value")
    handler = bare.engine_handler()
    assert handler is bare.engine_handler()
    wrapped = App()
    wrapped.add_middleware(lambda request, call_next: call_next(request))
    wrapped.get("/")(lambda request: "raw value")
    with TestClient(bare) as a, TestClient(wrapped) as b:
        assert a.get("/").text == b.get("/").text == "raw value"
    with pytest.raises(RuntimeError):
        wrapped.add_middleware(lambda request, call_next: call_next(request))


def test_a_middleware_instance_with_an_async_call_is_awaited():
    class Tag:
        def __init__(self, value):
            self.value = value

        async def __call__(self, request, call_next):
            response = await call_next(request)
            response.fields.append(("X-Tag", self.value))
            return response

    app = App()
    app.add_middleware(Tag("t"))

    @app.get("/")
    async def index(request):
        return "tagged"

    with TestClient(app) as client:
        resp = client.get("/")
    assert resp.text == "tagged" and resp.headers["x-tag"] == "t"


def test_the_stack_returns_the_inner_handler_when_empty_and_refuses_additions_once_composed():
    def inner(request):
        return Response(b"inner")

    def error(request, exc):
        return Response(b"error", 500)

    async def guard(request, awaitable):
        return await awaitable

    stack = MiddlewareStack()
    assert stack.compose(inner, error, guard) is inner
    with pytest.raises(RuntimeError):
        stack.add(lambda request, call_next: call_next(request))
    with pytest.raises(TypeError):
        MiddlewareStack().add("not callable")

    failing = MiddlewareStack()
    failing.add(lambda request, call_next: 1 / 0)
    assert len(failing) == 1
    assert failing.compose(inner, error, guard)(object()).body == b"error"


def test_is_async_callable_sees_functions_and_instances():
    async def coroutine_function(request):
        return None

    class Callable:
        async def __call__(self, request):
            return None

    assert is_async_callable(coroutine_function) and is_async_callable(Callable())
    assert not is_async_callable(lambda request: None) and not is_async_callable(object())


def test_a_middleware_whose_applies_says_no_is_skipped():
    seen = []

    class OnlyPosts:
        def applies(self, request):
            return request.method == "POST"

        def __call__(self, request, call_next):
            seen.append(request.method)
            response = call_next(request)
            response.fields.append(("X-Seen", "1"))
            return response

    app = App()
    app.add_middleware(OnlyPosts())

    @app.route("/", ("GET", "POST"))
    def index(request):
        return "hi"

    with TestClient(app) as client:
        r = client.get("/")
        assert r.content == b"hi" and "x-seen" not in r.headers
        r = client.post("/", data=b"")
        assert r.headers["x-seen"] == "1"
    assert seen == ["POST"]
def test_call_next_answers_an_error_raised_by_an_inner_middleware():
    # A middleware that refuses (a rate limit's 429, CSRF's 403) raises; the middleware above it
    # still get a response from call_next, and add their fields to it.
    from fasthttp import App
    from fasthttp.errors import HttpError
    from fasthttp.testing import TestClient

    app = App()

    @app.middleware
    async def outer(request, call_next):
        response = await call_next(request)
        response.headers["X-Outer"] = "seen"
        return response

    @app.middleware
    def inner(request, call_next):
        raise HttpError(429, "slow down", [("Retry-After", "3")])

    app.get("/")(lambda request: "never")
    response = TestClient(app).get("/")
    assert response.status == 429 and response.headers["retry-after"] == "3"
    assert response.headers["x-outer"] == "seen"
