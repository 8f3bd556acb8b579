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


# -- the split form (before/after), fused by the stack -------------------------------------------


def _hidden(middleware):
    """*middleware* without its before/after: the stack composes it as any other (call_next)."""
    return lambda request, call_next: middleware(request, call_next)


def _secured_app(split: bool, route):
    from fasthttp import App
    from fasthttp.middleware import CORS, SecurityHeaders, Sessions

    app = App()
    for middleware in (
        CORS(allow_origins=["https://app.example.com"], allow_credentials=True, expose_headers=["X-Total"]),
        SecurityHeaders(csp="default-src 'self'"),
        Sessions(secret_keys=["a-test-secret-of-at-least-32-bytes!!"], secure=False),
    ):
        app.add_middleware(middleware if split else _hidden(middleware))
    app.get("/")(route)
    return app


def _answer(split: bool, route, base_url: str, **request):
    from fasthttp.testing import TestClient

    client = TestClient(_secured_app(split, route), base_url, raise_server_exceptions=False)
    response = client.get("/", **request)
    fields = [(n.lower(), v) for n, v in response.headers.items() if n.lower() not in ("date", "set-cookie")]
    return response.status, fields, response.body, "set-cookie" in response.headers


def _raises(request):
    raise ValueError("handler failed")


async def _async_text(request):
    request.cookie_session["user"] = "ann"
    return "async"


def _own_fields(request):
    from fasthttp.responses import Response

    return Response("own", 200, [("Vary", "Accept"), ("X-Frame-Options", "SAMEORIGIN")])


def _login(request):
    request.cookie_session["user"] = "ann"
    return {"ok": True}


@pytest.mark.parametrize("route", [lambda request: "text", _login, _own_fields, _raises, _async_text, lambda request: None])
@pytest.mark.parametrize("origin", [None, "https://app.example.com", "https://evil.example"])
@pytest.mark.parametrize("base_url", ["http://testserver", "https://testserver"])
def test_split_middleware_fused_answer_as_the_composed_chain_does(route, origin, base_url):
    # CORS, SecurityHeaders and Sessions run fused (one function, fields appended once) and
    # composed (call_next): the same status, fields in the same order, body and cookie.
    headers = {"Origin": origin} if origin else {}
    assert _answer(True, route, base_url, headers=headers) == _answer(False, route, base_url, headers=headers)


def test_split_middleware_fall_back_to_call_for_a_preflight_and_a_before_that_raises():
    from fasthttp import App
    from fasthttp.middleware import CORS, SecurityHeaders
    from fasthttp.middleware.stack import FULL, AppendFields
    from fasthttp.testing import TestClient

    calls = []

    class Picky:
        """Split; its before raises for /boom, answers FULL for /full."""

        plan = AppendFields([("X-Picky", "1")])

        def before(self, request):
            if request.path == "/boom":
                raise ValueError("before failed")
            return FULL if request.path == "/full" else self.plan

        def after(self, request, response, plan):
            raise AssertionError("no clash here")

        def __call__(self, request, call_next):
            calls.append(request.path)
            if request.path == "/boom":
                raise ValueError("call failed")
            response = call_next(request)
            response.headers["X-Picky"] = "called"
            return response

    app = App()
    app.add_middleware(SecurityHeaders())
    app.add_middleware(Picky())
    app.add_middleware(CORS(allow_origins=["https://app.example.com"], allow_methods=["PUT"]))
    for path in ("/", "/full", "/boom"):
        app.get(path)(lambda request: "x")
    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/").headers["x-picky"] == "1" and calls == []
    assert client.get("/full").headers["x-picky"] == "called" and calls == ["/full"]
    boom = client.get("/boom")
    # The error of an inner middleware is answered, and the one above still adds its fields.
    assert boom.status == 500 and boom.headers["x-frame-options"] == "DENY" and calls[-1] == "/boom"
    pre = client.options("/", headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT"})
    assert pre.status == 204 and pre.headers["access-control-allow-methods"] == "PUT"
    assert pre.headers["x-content-type-options"] == "nosniff"


def test_an_error_raised_by_an_inner_after_is_answered_and_the_outer_ones_still_add_fields():
    from fasthttp import App
    from fasthttp.middleware import SecurityHeaders, Sessions
    from fasthttp.testing import TestClient

    app = App()
    app.add_middleware(SecurityHeaders())
    app.add_middleware(Sessions(secret_keys=["a-test-secret-of-at-least-32-bytes!!"], max_size=100))

    @app.get("/")
    def big(request):
        request.cookie_session["blob"] = "x" * 500  # SessionTooLarge when the answer is sent
        return "never sent"

    response = TestClient(app, raise_server_exceptions=False).get("/")
    assert response.status == 500 and "set-cookie" not in response.headers
    assert response.headers["x-frame-options"] == "DENY"


def test_append_fields_join_once_and_refuse_a_clash():
    from fasthttp.middleware.stack import AppendFields

    a = AppendFields([("X-A", "1")])
    b = AppendFields([("Vary", "Origin")])
    assert a.join(b) is a.join(b) and a.join(b).fields == (("X-A", "1"), ("Vary", "Origin"))
    assert b.join(AppendFields([(b"VARY", b"Accept")])) is None
    assert a.clashes([("x-a", "2")]) and not a.clashes([("Content-Type", "text/plain")])


def test_an_after_that_changes_the_text_response_keeps_its_change_under_appended_fields():
    from fasthttp import App
    from fasthttp.middleware import SecurityHeaders
    from fasthttp.testing import TestClient

    class Html:
        def before(self, request):
            return "state"

        def after(self, request, response, state):
            response.fields[0] = ("Content-Type", "text/html; charset=utf-8")
            return response

        def __call__(self, request, call_next):
            return self.after(request, call_next(request), "state")

    app = App()
    app.add_middleware(SecurityHeaders())
    app.add_middleware(Html())
    app.get("/")(lambda request: "<p>hi</p>")
    response = TestClient(app).get("/")
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["x-frame-options"] == "DENY" and len(response.headers.getall("content-type")) == 1


# -- the quiet form (quiet/triggers) and the engine's field blocks -------------------------------


class _Quiet:
    """Split, quiet: adds X-Quiet (and X-Tls over HTTPS); its before must not run for a
    request without X-Trigger, and answers X-Loud when it does."""

    triggers = ("x-trigger",)

    def __init__(self):
        from fasthttp.middleware.stack import AppendFields

        self.plain = AppendFields([("X-Quiet", "1")])
        self.secure = AppendFields([("X-Quiet", "1"), ("X-Tls", "1")])
        self.loud = AppendFields([("X-Loud", "1")])
        self.befores = 0

    def quiet(self, secure):
        return self.secure if secure else self.plain

    def before(self, request):
        self.befores += 1
        return self.loud if "x-trigger" in request.head.headers else self.quiet(request.is_secure)

    def after(self, request, response, plan):
        from fasthttp.responses import with_fields

        present = {n.lower() if isinstance(n, str) else n.decode().lower() for n, _ in response.fields}
        return with_fields(response, [(n, v) for n, v in plan.fields if n.lower() not in present])

    def __call__(self, request, call_next):
        return self.after(request, call_next(request), self.before(request))


@pytest.mark.parametrize("base_url", ["http://testserver", "https://testserver"])
def test_quiet_middleware_give_their_fields_without_a_before_per_request(base_url):
    from fasthttp.middleware import Sessions

    quiet = _Quiet()
    app = App()
    app.add_middleware(quiet)
    app.add_middleware(Sessions(secret_keys=["a-test-secret-of-at-least-32-bytes!!"], secure=False))
    app.get("/")(lambda request: "text")
    app.get("/own")(lambda request: Response("own", 200, [("X-Quiet", "mine")]))
    with TestClient(app, base_url) as client:
        plain = client.get("/")
        own = client.get("/own")
        loud = client.get("/", headers={"X-Trigger": "1"})
    assert quiet.befores == 1  # the triggered request only
    assert plain.headers["x-quiet"] == "1" and ("x-tls" in plain.headers) is base_url.startswith("https")
    assert own.headers["x-quiet"] == "mine"  # the response's own field: the after decided
    assert loud.headers["x-loud"] == "1" and "x-quiet" not in loud.headers


def test_the_engine_gets_the_quiet_fields_of_a_text_answer_as_one_field_block():
    from helpers_requests import make_request

    from fasthttp.middleware import CORS, SecurityHeaders
    from fasthttp.writer import FieldBlock, write_fields

    app = App()
    app.add_middleware(CORS(allow_origins=["https://app.example.com"]))
    app.add_middleware(SecurityHeaders())
    app.get("/")(lambda request: "text")
    handler = app.engine_handler()
    # A quiet request (no Origin, plain HTTP) to a route of the fast table: the App answers the
    # handler's text itself, and its handler hands the engine the fields of such an answer as
    # one block (the engine writes them: test_a_quiet_request_gets_every_field_through_the_engine).
    assert handler(make_request(method="GET")) == "text"
    text_fields, json_fields = handler.answer_fields
    assert type(text_fields) is FieldBlock and type(json_fields) is FieldBlock
    expected = [*SecurityHeaders().http_fields, ("Vary", "Origin")]

    def lines(fields):
        return b"".join(
            b"%s: %s\r\n" % (n if isinstance(n, bytes) else n.encode(), v if isinstance(v, bytes) else v.encode())
            for n, v in fields
        )

    assert write_fields(text_fields) == lines([(b"Content-Type", b"text/plain; charset=utf-8"), *expected])
    assert write_fields(json_fields) == lines([(b"Content-Type", b"application/json"), *expected])
    # The stack's own path (here: a route outside the fast table) still hands a block too.
    app.get("/p/:id")(lambda request: "text")
    first = handler(make_request(method="GET", target="/p/1"))
    second = handler(make_request(method="GET", target="/p/2"))
    assert type(first.fields) is FieldBlock and first.fields is second.fields  # made once
    assert write_fields(first.fields) == write_fields(text_fields)
    # A CORS request gets its own fields (a list), and a route's stack never gives a block.
    cors = handler(make_request([("Origin", "https://app.example.com")], method="GET"))
    assert ("Access-Control-Allow-Origin", "https://app.example.com") in list(cors.fields)
    routed = App()
    routed.get("/", middleware=[SecurityHeaders()])(lambda request: "text")
    assert type(routed.engine_handler()(make_request(method="GET")).fields) is list


def test_a_response_with_a_field_block_can_still_be_given_fields():
    from fasthttp.writer import FieldBlock

    response = Response("x")
    response.fields = FieldBlock([("X-A", "1")])
    response.set_cookie("a", "b")
    response.headers["X-B"] = "2"
    response.add_vary("Origin")
    assert [n for n, _ in response.fields] == ["X-A", "Set-Cookie", "X-B", "Vary"]


class _Triggered:
    """applies exactly to requests with content or an X-Want field (it says so: triggers)."""

    triggers = ("X-Want",)

    def __init__(self):
        self.asked = 0

    def applies(self, request):
        self.asked += 1
        return request.body_reader is not None or "x-want" in request.head.headers

    async def __call__(self, request, call_next):
        response = await call_next(request)
        response.fields.append(("X-Done", "1"))
        return response


def test_the_app_skips_a_stack_of_triggered_middleware_for_requests_without_their_fields():
    first, second = _Triggered(), _Triggered()
    app = App()
    app.add_middleware(first)
    app.add_middleware(second)
    app.get("/")(lambda request: {"a": 1})
    app.get("/users/:id")(lambda request: {"id": request.params["id"]})

    @app.post("/echo")
    async def echo(request):
        return await request.body()

    assert app._middleware.bypass() == ("x-want",)
    with TestClient(app) as client:
        plain = client.get("/")
        assert "x-done" not in plain.headers and plain.json() == {"a": 1}
        assert first.asked == 0  # decided by the App, before the stack: no applies() call
        wanted = client.get("/", headers={"X-Want": "1"})
        assert wanted.headers.getall("x-done") == ["1", "1"]
        routed = client.get("/users/7")  # not the fast table: through the stack, which skips
        assert routed.json() == {"id": "7"} and "x-done" not in routed.headers and first.asked == 2
        posted = client.post("/echo", data=b"body")  # content: the middleware applies
        assert posted.body == b"body" and posted.headers.getall("x-done") == ["1", "1"]
        missing = client.get("/nowhere")
        assert missing.status == 404 and "x-done" not in missing.headers


def test_one_middleware_without_triggers_keeps_every_request_in_the_stack():
    app = App()
    app.add_middleware(_Triggered())
    app.add_middleware(lambda request, call_next: call_next(request))
    assert app._middleware.bypass() is None
    from fasthttp.middleware import Compression, SecurityHeaders

    compressing = App()
    compressing.add_middleware(Compression())
    assert compressing._middleware.bypass() == ("accept-encoding",)
    secured = App()
    secured.add_middleware(Compression())
    secured.add_middleware(SecurityHeaders())  # triggers, but no applies: acts on every request
    assert secured._middleware.bypass() is None


def test_the_joined_plans_of_triggered_requests_stay_bounded_and_right():
    # A regex allows every subdomain: 3,000 distinct origins (past CORS's own cache of 256)
    # each get their own Access-Control-Allow-Origin, and the stack's joins stay bounded.
    import re

    from helpers_requests import make_request

    from fasthttp.middleware import CORS, SecurityHeaders
    from fasthttp.middleware import stack as stack_module

    app = App()
    app.add_middleware(CORS(allow_origins=[re.compile(r"https://[a-z0-9]+\.example\.com")]))
    app.add_middleware(SecurityHeaders())
    app.get("/")(lambda request: "text")
    handler = app.engine_handler()
    for i in range(3000):
        origin = f"https://site{i}.example.com"
        response = handler(make_request([("Origin", origin)], method="GET"))
        fields = list(response.fields)
        assert ("Access-Control-Allow-Origin", origin) in fields and ("X-Frame-Options", "DENY") in fields
    # The App's quiet wrapper holds the stack's handler (quiet_fused), which holds the joins.
    stack = next(c.cell_contents for c in handler.__closure__ if getattr(c.cell_contents, "__name__", "") == "quiet_fused")
    joined = [cell.cell_contents for cell in stack.__closure__ if isinstance(cell.cell_contents, dict) and cell.cell_contents and isinstance(next(iter(cell.cell_contents)), tuple)]
    assert joined and all(len(d) <= stack_module._JOINS for d in joined)


# -- the App's quiet path (MiddlewareStack.quiet_form, App._quieting) -----------------------------

QUIET_SECRET = "quiet-path-secret-key-0123456789abcdef"


def quiet_app(**options):
    """CORS, SecurityHeaders and Sessions (the benchmark's fasthttp-security set), and a route of
    every answer kind in the fast table."""
    import asyncio

    from fasthttp import FileResponse, StreamingResponse
    from fasthttp.middleware import CORS, SecurityHeaders, Sessions

    app = App(**options)
    app.add_middleware(CORS(allow_origins=["https://app.example"], allow_credentials=True))
    app.add_middleware(SecurityHeaders())
    app.add_middleware(Sessions(secret_keys=[QUIET_SECRET], secure=False))
    app.get("/text")(lambda request: "text")
    app.get("/dict")(lambda request: {"a": 1})
    app.get("/list")(lambda request: [1, 2])
    app.get("/bytes")(lambda request: b"raw")
    app.get("/none")(lambda request: None)
    app.get("/response")(lambda request: Response(b"r", 201, [("X-Own", "1"), ("Vary", "Accept")]))
    app.get("/frame")(lambda request: Response(b"f", 200, [("X-Frame-Options", "SAMEORIGIN")]))
    app.get("/stream")(lambda request: StreamingResponse(iter([b"a", b"b"]), content_type="text/plain"))
    app.get("/file")(lambda request: FileResponse(__file__, content_type="text/plain"))

    @app.get("/async")
    async def text_async(request):
        await asyncio.sleep(0)
        return "later"

    @app.get("/raise")
    def raises(request):
        raise HttpError(409, "taken")

    @app.get("/crash")
    def crash(request):
        raise RuntimeError("boom")

    @app.get("/login")
    def login(request):
        request.cookie_session["user"] = "ann"
        return "in"

    @app.get("/login-json")
    def login_json(request):
        request.cookie_session["user"] = "bob"
        return {"ok": True}

    @app.get("/login-async")
    async def login_async(request):
        request.cookie_session["user"] = "cy"
        return "in"

    @app.get("/whoami")
    def whoami(request):
        return request.cookie_session.get("user", "nobody")

    @app.get("/logout")
    def logout(request):
        request.cookie_session.clear()
        return "out"

    @app.get("/p/:id")
    def param(request):
        return request.params["id"]

    return app


def _fields(response):
    return [(n.lower(), v) for n, v in response.headers.items() if n.lower() != "date"]


QUIET_PATHS = ["/text", "/dict", "/list", "/bytes", "/none", "/response", "/frame", "/stream", "/file", "/async",
               "/raise", "/crash", "/whoami", "/missing", "/p/1"]  # fmt: skip


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("path", QUIET_PATHS)
def test_a_quiet_request_gets_what_the_stack_gives(path, method):
    # A request without Origin takes the App's quiet path (the route run directly, the fields
    # written by the engine); one from an origin CORS does not allow goes through the stack, and
    # gets the same fields (CORS answers it Vary: Origin only). Same status, fields, order, body.
    app = quiet_app()
    assert getattr(app.engine_handler(), "answer_fields", None) is not None  # the quiet form is on
    with TestClient(app, raise_server_exceptions=False) as client:
        quiet = client.request(method, path)
        loud = client.request(method, path, headers={"Origin": "https://evil.example"})
    assert quiet.status == loud.status
    assert _fields(quiet) == _fields(loud)
    assert quiet.body == loud.body
    assert quiet.headers["x-frame-options"] == ("SAMEORIGIN" if path == "/frame" else "DENY")
    assert quiet.headers["x-content-type-options"] == "nosniff"
    assert "Origin" in quiet.headers["vary"]
    assert "strict-transport-security" not in quiet.headers
    assert "set-cookie" not in quiet.headers


def test_quiet_text_and_json_carry_the_fields_in_the_stacks_order():
    with TestClient(quiet_app()) as client:
        text = client.get("/text")
        data = client.get("/dict")
    expected = [("x-content-type-options", "nosniff"), ("x-frame-options", "DENY"),
                ("referrer-policy", "strict-origin-when-cross-origin"),
                ("x-permitted-cross-domain-policies", "none"), ("vary", "Origin")]  # fmt: skip
    assert _fields(text) == [("content-type", "text/plain; charset=utf-8"), *expected, ("content-length", "4")]
    assert _fields(data) == [("content-type", "application/json"), *expected, ("content-length", "7")]
    assert text.text == "text" and data.json() == {"a": 1}


@pytest.mark.parametrize("path", ["/login", "/login-json", "/login-async"])
def test_a_handler_writing_the_session_on_a_quiet_request_sets_the_cookie(path):
    with TestClient(quiet_app()) as client:
        response = client.get(path)
        assert response.status == 200
        assert response.headers["x-frame-options"] == "DENY" and "Origin" in response.headers["vary"]
        assert response.headers.get("set-cookie", "").startswith("session=")
        # The cookie then comes back (a Cookie field, still no Origin: the quiet path) and loads.
        assert client.get("/whoami").text in ("ann", "bob", "cy")
        out = client.get("/logout")
        assert "Max-Age=0" in out.headers["set-cookie"] or "expires" in out.headers["set-cookie"].lower()
        assert client.get("/whoami").text == "nobody"


def test_a_session_read_on_a_quiet_request_writes_nothing():
    with TestClient(quiet_app()) as client:
        client.get("/login")
        response = client.get("/whoami")
    assert response.text == "ann" and "set-cookie" not in response.headers
    assert response.headers["x-frame-options"] == "DENY"


def test_https_and_a_trusted_proxys_https_take_the_stack_and_get_hsts():
    with TestClient(quiet_app(), "https://testserver") as client:
        response = client.get("/text")
    assert response.headers["strict-transport-security"].startswith("max-age=")
    app = quiet_app(proxy_headers=True, forwarded_allow_ips="*")
    with TestClient(app) as client:
        forwarded = client.get("/text", headers={"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"})
        plain = client.get("/text", headers={"X-Forwarded-For": "198.51.100.7"})
    assert forwarded.headers["strict-transport-security"].startswith("max-age=")
    assert "strict-transport-security" not in plain.headers and plain.headers["x-frame-options"] == "DENY"


def test_cors_requests_and_quiet_ones_interleaved_on_one_connection():
    with TestClient(quiet_app()) as client:
        for _ in range(3):
            cors = client.get("/text", headers={"Origin": "https://app.example"})
            quiet = client.get("/text")
            assert cors.headers["access-control-allow-origin"] == "https://app.example"
            assert "access-control-allow-origin" not in quiet.headers
            assert quiet.headers["x-frame-options"] == cors.headers["x-frame-options"] == "DENY"
        preflight = client.options("/text", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"})
    assert preflight.status == 204 and preflight.headers["access-control-allow-origin"] == "https://app.example"


def test_errors_outside_the_quiet_path_are_what_they_were():
    # Content over the limit (413: a request with content never takes the quiet path) gets what
    # the stack gives; a malformed request gets the engine's own 400, written without the App,
    # the same bytes as from an App without middleware.
    import asyncio

    from fasthttp.config import Config
    from fasthttp.connections import ConnectionManager
    from fasthttp.protocol import HttpProtocol

    app = quiet_app(max_body_size=10)

    @app.post("/upload")
    async def upload(request):
        return str(len(await request.body()))

    with TestClient(app, raise_server_exceptions=False) as client:
        big = client.post("/upload", data=b"x" * 100)
        loud = client.post("/upload", data=b"x" * 100, headers={"Origin": "https://evil.example"})
    assert big.status == loud.status == 413 and _fields(big) == _fields(loud)
    assert big.headers["x-frame-options"] == "DENY"

    class Transport:
        def __init__(self):
            self.out = []

        def write(self, data):
            self.out.append(bytes(data))

        def get_extra_info(self, name, default=None):
            return ("127.0.0.1", 50000) if name == "peername" else default

        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    def written(handler):
        loop = asyncio.new_event_loop()
        try:
            proto = HttpProtocol(ConnectionManager(loop, handler, Config()))
            transport = Transport()
            proto.connection_made(transport)
            proto.data_received(b"GET /text HTTP/1.1\r\nHost: x\r\n\r\nGET /text HTTP/1.1\r\nHost x\r\n\r\n")
            proto.connection_lost(None)
        finally:
            loop.close()
        out = b"".join(transport.out)
        out = out[out.index(b"HTTP/1.1 400") :]
        return b"\r\n".join(line for line in out.split(b"\r\n") if not line.startswith(b"Date: "))

    bare = App()
    bare.get("/text")(lambda request: "text")
    assert written(quiet_app().engine_handler()) == written(bare.engine_handler())


def test_no_quiet_form_without_every_middleware_quiet_or_publishing():
    from fasthttp.middleware import CORS, SecurityHeaders, Sessions
    from fasthttp.middleware.stores import MemoryStore

    def handler_of(*middleware):
        app = App()
        for m in middleware:
            app.add_middleware(m)
        app.get("/")(lambda request: "x")
        return app.engine_handler()

    assert not hasattr(handler_of(), "answer_fields")  # no middleware: the dispatcher itself
    sessions = Sessions(secret_keys=[QUIET_SECRET])
    assert hasattr(handler_of(SecurityHeaders()), "answer_fields")
    assert hasattr(handler_of(sessions), "answer_fields")
    assert hasattr(handler_of(CORS(allow_origins=["https://a.example"]), SecurityHeaders(), Sessions(secret_keys=[QUIET_SECRET])), "answer_fields")
    # A store (async, FULL), a middleware that is not split, or Sessions outside: the stack.
    assert not hasattr(handler_of(Sessions(secret_keys=[QUIET_SECRET], store=MemoryStore())), "answer_fields")
    assert not hasattr(handler_of(SecurityHeaders(), lambda request, call_next: call_next(request)), "answer_fields")
    assert not hasattr(handler_of(Sessions(secret_keys=[QUIET_SECRET]), SecurityHeaders()), "answer_fields")


def test_a_user_middleware_keeps_the_stack_path_and_its_answers():
    from fasthttp.middleware import SecurityHeaders

    app = App()
    app.add_middleware(SecurityHeaders())

    @app.middleware
    def mine(request, call_next):
        return "mine"

    app.get("/")(lambda request: "x")
    with TestClient(app) as client:
        response = client.get("/")
    assert response.text == "mine" and response.headers["x-frame-options"] == "DENY"
