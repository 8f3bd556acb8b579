"""``fasthttp.App``: routing (through ``fasthttp.routing``), handler return values, the Request a
handler sees, per-route options, middleware, error handlers, the life cycle, and the ways to run
an app (``serve`` in a loop, ``start`` in a thread, ``run`` in a process).

The first tests drive the app over real sockets on both loops (``helpers_server``); the
framework-layer tests use ``fasthttp.testing.TestClient`` (the real engine, in memory)."""

from __future__ import annotations

import asyncio
import contextvars
import http.client
import logging
import signal
import subprocess
import sys
import threading

import pytest

import fasthttp
from fasthttp import App, FileResponse, HttpError, Response, StreamingResponse, routing
from fasthttp.errors import ContentTooLarge
from fasthttp.app import from_thread, media_type
from fasthttp.application import Application, as_application
from fasthttp.requests import QueryParams
from fasthttp.testing import TestClient

from helpers_server import LOOPS, Client, build_request, run, serving


def request(loop, app, method="GET", target="/", **kwargs):
    async def scenario():
        async with serving(app) as server:
            client = await Client.connect(server)
            try:
                return await client.request(method, target, **kwargs)
            finally:
                await client.close()

    return run(loop, scenario())


# -- routing ---------------------------------------------------------------------------------------


def test_exact_path_routes_by_method(loop):
    app = App()

    @app.get("/item")
    def get_item(request):
        return "got"

    @app.post("/item")
    def post_item(request):
        return "posted"

    @app.route("/multi", methods=["PUT", "PATCH"])
    def multi(request):
        return request.method

    async def scenario():
        async with serving(app) as server:
            client = await Client.connect(server)
            assert (await client.request("GET", "/item")).body == b"got"
            assert (await client.request("POST", "/item", body=b"")).body == b"posted"
            assert (await client.request("PUT", "/multi", body=b"")).body == b"PUT"
            assert (await client.request("PATCH", "/multi", body=b"")).body == b"PATCH"
            await client.close()

    run(loop, scenario())


def test_unknown_path_is_404(loop):
    app = App()
    app.get("/")(lambda request: "root")
    resp = request(loop, app, "GET", "/nope")
    assert resp.status == 404 and resp.body == b"Not Found"


def test_wrong_method_is_405_with_allow(loop):
    app = App()
    app.get("/thing")(lambda request: "x")
    app.delete("/thing")(lambda request: "deleted")
    resp = request(loop, app, "POST", "/thing", body=b"")
    assert resp.status == 405
    # RFC 9110 §15.5.6: every method the resource answers, OPTIONS (automatic) included.
    assert resp.header("allow") == "DELETE, GET, HEAD, OPTIONS"


def test_get_route_answers_head_without_body(loop):
    app = App()
    app.get("/")(lambda request: "twelve bytes")
    resp = request(loop, app, "HEAD", "/")
    assert resp.status == 200 and resp.header("content-length") == "12" and resp.body == b""


def test_route_paths_match_exactly_without_the_query(loop):
    app = App()
    app.get("/a")(lambda request: "a")
    assert request(loop, app, "GET", "/a?x=1").body == b"a"
    # The trailing-slash policy (fasthttp.routing): 308 to the form that has a route.
    resp = request(loop, app, "GET", "/a/?x=1")
    assert resp.status == 308 and resp.header("location") == "/a?x=1"
    strict = App(trailing_slash="strict")
    strict.get("/a")(lambda request: "a")
    assert request(loop, strict, "GET", "/a/").status == 404


def test_registering_the_same_method_and_path_twice_is_an_error():
    app = App()
    app.get("/x")(lambda request: "one")
    with pytest.raises(ValueError):
        app.get("/x")(lambda request: "two")
    with pytest.raises(ValueError):
        app.get("relative")


# -- return values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, status, content_type, body",
    [
        ("héllo", 200, "text/plain; charset=utf-8", "héllo".encode()),
        (b"\x00\x01", 200, "application/octet-stream", b"\x00\x01"),
        ({"a": [1, 2]}, 200, "application/json", b'{"a":[1,2]}'),
        ([1, "two"], 200, "application/json", b'[1,"two"]'),
        (None, 204, None, b""),
        (Response(b"<p>hi</p>", status=201, content_type="text/html"), 201, "text/html", b"<p>hi</p>"),
        (Response("plain"), 200, "text/plain; charset=utf-8", b"plain"),
    ],
    ids=["str", "bytes", "dict", "list", "none", "response", "response-str"],
)
def test_handler_return_values_become_responses(loop, value, status, content_type, body):
    app = App()
    app.get("/")(lambda request: value)
    resp = request(loop, app)
    assert resp.status == status
    assert resp.header("content-type") == content_type
    assert resp.body == body


def test_async_handler_return_values(loop):
    app = App()

    @app.get("/")
    async def handler(request):
        await asyncio.sleep(0)
        return {"async": True}

    assert request(loop, app).body == b'{"async":true}'


def test_response_headers_are_sent(loop):
    app = App()
    app.get("/")(lambda request: Response("x", headers=[("X-One", "1"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]))
    resp = request(loop, app)
    assert resp.header("x-one") == "1"
    assert resp.headers_named("set-cookie") == ["a=1", "b=2"]


def test_streaming_response_from_an_async_iterator(loop):
    app = App()

    @app.get("/")
    def handler(request):
        async def numbers():
            for i in range(5):
                yield str(i)

        return StreamingResponse(numbers(), content_type="text/plain")

    resp = request(loop, app)
    assert resp.body == b"01234" and resp.header("transfer-encoding") == "chunked"


def test_streaming_response_with_a_known_length(loop):
    app = App()
    app.get("/")(lambda request: StreamingResponse([b"ab", b"cd"], content_length=4))
    resp = request(loop, app)
    assert resp.body == b"abcd" and resp.header("content-length") == "4"


def test_http_error_from_a_handler(loop):
    app = App()

    @app.get("/")
    def handler(request):
        raise HttpError(403, "go away", headers=[("X-Why", "because")])

    resp = request(loop, app)
    assert (resp.status, resp.body, resp.header("x-why")) == (403, b"go away", "because")


def test_unsupported_return_type_is_a_500(loop):
    app = App()
    app.get("/")(lambda request: object())
    assert request(loop, app).status == 500


# -- the request -----------------------------------------------------------------------------------


def test_request_exposes_the_head(loop):
    app = App()

    @app.get("/info")
    def info(request):
        return {
            "method": request.method,
            "path": request.path,
            "query": request.query,
            "target": request.target.decode(),
            "version": request.version,
            "agent": request.headers.get("user-agent"),
            "accept": request.headers.getall("accept"),
            "client": request.client[0],
            "keep_alive": request.keep_alive,
            "secure": request.is_secure,
        }

    resp = request(loop, app, "GET", "/info?a=1&b=%20", headers=[("User-Agent", "t/1"), ("Accept", "a"), ("Accept", "b")])
    assert resp.text == (
        '{"method":"GET","path":"/info","query":"a=1&b=%20","target":"/info?a=1&b=%20","version":"1.1",'
        '"agent":"t/1","accept":["a","b"],"client":"127.0.0.1","keep_alive":true,"secure":false}'
    )


def test_query_params_are_multi_valued_and_decoded():
    params = QueryParams("a=1&b=x+y&a=2&c=%C3%A9&empty=")
    assert params["a"] == "1" and params.getall("a") == ["1", "2"]
    assert params.get("b") == "x y" and params.get("c") == "é" and params.get("empty") == ""
    assert params.get("missing") is None and "a" in params and "zzz" not in params
    assert params.keys() == ["a", "b", "c", "empty"] and len(params) == 5


def test_request_body_json_and_trailers(loop):
    app = App()

    @app.post("/json")
    async def as_json(request):
        data = await request.json()
        return {"got": data, "again": len(await request.body())}

    @app.post("/trailers")
    async def trailers(request):
        chunks = [chunk async for chunk in request.stream()]
        return {"chunks": len(chunks), "md5": request.trailers.get("content-md5")}

    async def scenario():
        async with serving(app) as server:
            client = await Client.connect(server)
            resp = await client.request("POST", "/json", body=b'{"x": [1, 2]}')
            assert resp.body == b'{"got":{"x":[1,2]},"again":13}'
            resp = await client.request("POST", "/json", body=b"{not json")
            assert resp.status == 400
            await client.send(
                b"POST /trailers HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"2\r\nab\r\n2\r\ncd\r\n0\r\nContent-MD5: xyz\r\n\r\n"
            )
            resp = await client.read_response()
            assert resp.body in (b'{"chunks":2,"md5":"xyz"}', b'{"chunks":1,"md5":"xyz"}')
            await client.close()

    run(loop, scenario())


def test_route_body_limit_overrides_the_server_limit(loop):
    app = App()

    @app.post("/big", max_body_size=100_000)
    async def big(request):
        return str(len(await request.body()))

    @app.post("/default")
    async def default(request):
        return str(len(await request.body()))

    async def scenario():
        async with serving(app, max_body_size=1000) as server:
            client = await Client.connect(server)
            assert (await client.request("POST", "/big", body=b"x" * 50_000)).body == b"50000"
            resp = await client.request("POST", "/default", body=b"x" * 2000)
            assert resp.status == 413
            await client.close()

    run(loop, scenario())


def test_session_is_per_connection(loop):
    app = App()

    @app.get("/")
    def count(request):
        request.session["n"] = request.session.get("n", 0) + 1
        return str(request.session["n"])

    async def scenario():
        async with serving(app) as server:
            a = await Client.connect(server)
            b = await Client.connect(server)
            assert [(await a.request()).body for _ in range(3)] == [b"1", b"2", b"3"]
            assert (await b.request()).body == b"1"
            await a.close()
            await b.close()

    run(loop, scenario())


# -- running ---------------------------------------------------------------------------------------


def test_app_serve_inside_a_running_loop(loop):
    app = App()
    app.get("/")(lambda request: "served")

    async def scenario():
        ready = asyncio.get_running_loop().create_future()
        task = asyncio.ensure_future(app.serve("127.0.0.1:0", ready=ready.set_result))
        server = await ready
        client = await Client.connect(server)
        assert (await client.request()).body == b"served"
        await client.close()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(loop, scenario())


def test_app_start_in_a_background_thread():
    app = App(max_requests_per_connection=5)
    app.get("/")(lambda request: "threaded")
    handle = app.start("127.0.0.1:0")
    try:
        assert handle.server.config.max_requests_per_connection == 5
        conn = http.client.HTTPConnection(*handle.addresses[0], timeout=5)
        conn.request("GET", "/")
        assert conn.getresponse().read() == b"threaded"
        conn.close()
    finally:
        handle.stop()


def test_app_on_connect_attribute_is_used(loop):
    app = App(on_connect=lambda transport, session: False)
    app.get("/")(lambda request: "never")

    async def scenario():
        async with serving(app) as server:
            client = await Client.connect(server)
            await client.send(build_request())
            assert await client.closed()
            await client.close()

    run(loop, scenario())


# == issue 4: the framework layer (driven in process with fasthttp.testing.TestClient) ===========


def client_for(app, **kwargs):
    return TestClient(app, **kwargs)


# -- routing through the router ----------------------------------------------------------------


def test_pattern_route_puts_converted_params_on_the_request():
    app = App()

    @app.get("/users/:id<int>/posts/:slug")
    def post(request):
        return {"params": dict(request.params), "type": type(request.params["id"]).__name__}

    with client_for(app) as client:
        resp = client.get("/users/42/posts/caf%C3%A9")
    assert resp.json() == {"params": {"id": 42, "slug": "café"}, "type": "int"}


def test_optional_plus_and_star_parameters_reach_the_handler():
    app = App()
    app.get("/opt/:name?")(lambda request: {"name": request.params["name"]})
    app.get("/plus/:parts+")(lambda request: {"parts": list(request.params["parts"])})
    app.get("/star/:rest*")(lambda request: {"rest": list(request.params["rest"])})
    with client_for(app) as client:
        assert client.get("/opt").json() == {"name": None}
        assert client.get("/opt/x").json() == {"name": "x"}
        assert client.get("/plus/a/b").json() == {"parts": ["a", "b"]}
        assert client.get("/plus").status == 404
        assert client.get("/star").json() == {"rest": []}
        assert client.get("/star/a/b/c").json() == {"rest": ["a", "b", "c"]}


def test_a_static_route_has_empty_read_only_params():
    app = App()
    app.get("/plain")(lambda request: {"params": dict(request.params)})
    with client_for(app) as client:
        assert client.get("/plain").json() == {"params": {}}


def test_an_exact_route_wins_over_a_pattern_and_patterns_keep_registration_order():
    app = App()
    app.get("/items/:name")(lambda request: "pattern " + request.params["name"])
    app.get("/items/new")(lambda request: "exact")
    app.get("/items/:id<int>")(lambda request: "never: the str pattern came first")
    with client_for(app) as client:
        assert client.get("/items/new").text == "exact"
        assert client.get("/items/7").text == "pattern 7"


def test_an_app_converter_is_usable_in_patterns():
    app = App()
    app.register_converter("hex", r"[0-9a-f]+", lambda s: int(s, 16))
    app.get("/color/:rgb<hex>")(lambda request: str(request.params["rgb"]))
    with client_for(app) as client:
        assert client.get("/color/ff").text == "255"
        assert client.get("/color/zz").status == 404


@pytest.mark.parametrize("target", ["/a/../etc", "/a/%2e%2e/etc", "/bad%zzescape", "/caf%C3"])
def test_a_path_the_router_refuses_is_400(target):
    app = App()
    app.get("/a/:x+")(lambda request: "x")
    with client_for(app) as client:
        resp = client.get(target)
    assert resp.status == 400 and resp.text.startswith("Bad Request")


def test_head_on_a_pattern_route_runs_get_and_sends_no_body():
    app = App()
    app.get("/files/:name")(lambda request: "content of " + request.params["name"])
    with client_for(app) as client:
        resp = client.head("/files/a.txt")
    assert resp.status == 200 and resp.body == b"" and resp.headers["content-length"] == "16"


def test_options_is_answered_automatically_with_allow():
    app = App()
    app.get("/things/:id")(lambda request: "x")
    app.delete("/things/:id")(lambda request: None)
    with client_for(app) as client:
        resp = client.options("/things/1")
        star = client.options("*")
    assert resp.status == 204 and resp.headers["allow"] == "DELETE, GET, HEAD, OPTIONS"
    assert star.status == 204 and star.headers["allow"] == "DELETE, GET, HEAD, OPTIONS"


def test_an_explicit_options_route_wins_over_the_automatic_answer():
    app = App()
    app.get("/x")(lambda request: "x")
    app.route("/x", methods=["OPTIONS"])(lambda request: Response("custom", headers={"Allow": "GET"}))
    with client_for(app) as client:
        assert client.options("/x").text == "custom"


def test_405_on_a_pattern_lists_every_method_of_the_matching_routes():
    app = App()
    app.get("/users/:id<int>")(lambda request: "get")
    app.put("/users/:name")(lambda request: "put")
    with client_for(app) as client:
        resp = client.post("/users/3", data=b"")
    assert resp.status == 405 and resp.headers["allow"] == "GET, HEAD, OPTIONS, PUT"


def test_trailing_slash_redirect_is_308_with_the_query():
    app = App()
    app.get("/dir/")(lambda request: "dir")
    app.post("/submit/:id")(lambda request: "ok")
    with client_for(app) as client:
        resp = client.get("/dir?x=1")
        post = client.post("/submit/1/", data=b"body")
    assert resp.status == 308 and resp.headers["location"] == "/dir/?x=1"
    assert post.status == 308 and post.headers["location"] == "/submit/1"  # 308 keeps POST


def test_routes_bound_to_hosts_answer_their_host_only():
    app = App()
    app.get("/", host="api.example.com")(lambda request: "api")
    app.get("/", host="*.example.com")(lambda request: "wildcard " + request.headers["host"])
    app.get("/")(lambda request: "default")
    with client_for(app) as client:
        assert client.get("/", headers={"Host": "API.example.com:8080"}).text == "api"
        assert client.get("http://www.example.com/").text == "wildcard www.example.com"
        assert client.get("/", headers={"Host": "other.org"}).text == "default"


def test_an_absolute_form_target_routes_by_its_authority_not_host(loop):
    app = App()
    app.get("/", host="a.example")(lambda request: "a")
    app.get("/", host="b.example")(lambda request: "b")
    # RFC 9112 §3.2.2: the target's authority wins over Host.
    resp = request(loop, app, "GET", "http://a.example/", headers=[("Host", "b.example")])
    assert resp.body == b"a"


def test_a_host_alias_redirects_301_to_the_canonical_host_with_the_scheme():
    app = App()
    app.get("/page", host="example.com")(lambda request: "canonical")
    app.alias_host("www.example.com", "example.com")
    with client_for(app, base_url="https://www.example.com") as client:
        resp = client.get("/page?q=1")
    assert resp.status == 301 and resp.headers["location"] == "https://example.com/page?q=1"


def test_strict_hosts_refuse_an_unknown_host_with_400():
    app = App(strict_hosts=True, default_host="example.com")
    app.get("/")(lambda request: "served")
    with client_for(app, base_url="http://example.com") as client:
        assert client.get("/").text == "served"
        resp = client.get("/", headers={"Host": "evil.test"})
    assert resp.status == 400 and "unknown host" in resp.text


def test_routes_lists_the_table_with_options():
    app = App()
    app.get("/a")(lambda request: "a")
    app.post("/b/:id", max_body_size=10, host="h.example")(lambda request: "b")
    routes = app.routes()
    assert [(r.methods, r.pattern, r.host) for r in routes] == [(("GET",), "/a", None), (("POST",), "/b/:id", "h.example")]
    assert routes[1].options() == {"max_body_size": 10}
    table = app.describe()
    assert "/b/:id" in table and "h.example" in table


def test_app_and_router_list_one_route_type():
    app = App()
    app.get("/a", max_body_size=10)(handler := lambda request: "a")
    (route,) = app.routes()
    assert isinstance(route, fasthttp.Route) and isinstance(route, routing.Route)
    assert app.router.routes() == [route] and route.endpoint is handler
    assert app.router.resolve("GET", "/a").route is route


def test_route_methods_are_tokens_normalized_to_upper_case():
    app = App()
    app.route("/a", methods=["get", "Post", "GET"])(lambda request: "a")
    assert app.routes()[0].methods == ("GET", "POST")
    for bad in ("GE T", "", "G\tET", 42):
        with pytest.raises(ValueError):
            app.route("/b", methods=[bad])


def test_the_route_table_is_logged_when_the_app_starts_serving(caplog):
    app = App()
    app.get("/listed/:x")(lambda request: "x")
    with caplog.at_level(logging.INFO, logger="fasthttp.app"):
        TestClient(app).close()
    assert "/listed/:x" in caplog.text


def test_mount_copies_an_app_under_a_prefix_with_its_options():
    api = App()
    api.get("/")(lambda request: "api root")
    api.post("/items/:id", max_body_size=4)(lambda request: "item " + request.params["id"])
    app = App()
    app.mount("/v1/:tenant", api)
    with client_for(app) as client:
        assert client.get("/v1/acme").text == "api root"
        assert client.post("/v1/acme/items/9", data=b"1234").text == "item 9"
        assert client.post("/v1/acme/items/9", data=b"12345").status == 413


def test_mount_takes_a_router_of_handlers():
    router = routing.Router()
    router.add("GET", "/ping", lambda request: "pong")
    app = App()
    app.mount("/tools", router)
    with client_for(app) as client:
        assert client.get("/tools/ping").text == "pong"


def tagging(tag):
    async def middleware(request, call_next):
        response = await call_next(request)
        response.fields.append(("X-Tag", tag))
        return response

    return middleware


def test_mount_wraps_the_routes_in_the_given_and_the_mounted_apps_middleware():
    # issue 18: an authorization rule installed on a sub-app keeps protecting it once mounted.
    sub = App()
    sub.add_middleware(tagging("sub"))
    sub.get("/a", middleware=[tagging("route")])(lambda request: "a")
    app = App()
    app.mount("/m", sub, middleware=[tagging("mount")])
    app.mount("/plain", sub)
    with client_for(app) as client:
        assert client.get("/m/a").headers.getall("x-tag") == ["route", "sub", "mount"]
        assert client.get("/plain/a").headers.getall("x-tag") == ["route", "sub"]
    with pytest.raises(TypeError):
        app.mount("/x", sub, middleware=["not callable"])


def test_a_route_added_while_serving_is_answered():
    app = App()
    app.get("/first")(lambda request: "first")
    with client_for(app) as client:
        assert client.get("/second").status == 404
        app.get("/second")(lambda request: "second")
        app.get("/third/:n")(lambda request: request.params["n"])
        assert client.get("/second").text == "second"
        assert client.get("/third/3").text == "3"
        assert client.get("/first").text == "first"


def test_a_route_needs_a_path_methods_and_a_callable():
    app = App()
    with pytest.raises(ValueError):
        app.route("/x", methods=[])
    with pytest.raises(TypeError):
        app.get("/x")("not callable")
    with pytest.raises(ValueError):
        app.get("/x/:id<nosuchconverter>")(lambda request: "x")


# -- per-route options -------------------------------------------------------------------------


def test_the_body_limit_refuses_before_the_handler_runs():
    app = App()
    calls = []

    @app.put("/blob/:name", max_body_size=8)
    async def put(request):
        calls.append(request.params["name"])
        return str(len(await request.body()))

    with client_for(app) as client:
        assert client.put("/blob/a", data=b"12345678").text == "8"
        assert client.put("/blob/b", data=b"123456789").status == 413
    assert calls == ["a"]


def test_a_route_limit_refuses_with_content_too_large():
    app = App()
    seen = []

    @app.exception_handler(ContentTooLarge)
    def too_large(request, exc):
        seen.append(type(exc))
        return Response(b"too large", 413)

    app.put("/limited", max_body_size=4)(lambda request: "never")
    app.put("/server-limit")(lambda request: "never")
    with client_for(app, max_body_size=8) as client:
        assert client.put("/limited", data=b"12345").text == "too large"
        assert client.put("/server-limit", data=b"123456789").status == 413
    assert seen[0] is ContentTooLarge


def test_consumes_accepts_the_listed_media_types():
    app = App()

    @app.post("/data", consumes=["application/json", "text/*"])
    async def data(request):
        return request.content_type

    with client_for(app) as client:
        assert client.post("/data", json={"a": 1}).text == "application/json"
        assert client.post("/data", data="text").text == "text/plain"


def test_consumes_refuses_another_type_with_415_listing_the_accepted_ones():
    app = App()
    app.post("/data", consumes=["application/json"])(lambda request: "never")
    app.patch("/data", consumes=["application/merge-patch+json"])(lambda request: "never")
    with client_for(app) as client:
        resp = client.post("/data", form={"a": "1"})
        patch = client.patch("/data", data=b"x", headers={"Content-Type": "text/plain"})
        untyped = client.post("/data", data=b"{}")
    assert resp.status == 415 and resp.headers["accept"] == "application/json"
    assert patch.status == 415 and patch.headers["accept-patch"] == "application/merge-patch+json"
    assert untyped.status == 415  # no Content-Type: application/octet-stream


def test_consumes_does_not_apply_to_a_request_without_content():
    app = App()
    app.post("/data", consumes=["application/json"])(lambda request: "empty is fine")
    with client_for(app) as client:
        assert client.post("/data").text == "empty is fine"


def test_produces_chooses_by_accept_q_values_and_varies_on_accept():
    app = App()

    @app.get("/doc", produces=["application/json", "text/html"])
    def doc(request):
        if media_type() == "text/html":
            return "<p>doc</p>"
        return {"doc": True}

    with client_for(app) as client:
        html = client.get("/doc", headers={"Accept": "application/json;q=0.5, text/html"})
        js = client.get("/doc", headers={"Accept": "*/*"})
        default = client.get("/doc")
    assert html.text == "<p>doc</p>" and html.headers["content-type"] == "text/html; charset=utf-8"
    assert js.json() == {"doc": True} and js.headers["content-type"] == "application/json"
    assert default.json() == {"doc": True}
    assert {r.headers["vary"] for r in (html, js, default)} == {"Accept"}


def test_produces_answers_406_when_nothing_offered_is_acceptable():
    app = App()
    calls = []
    app.get("/doc", produces=["application/json"])(lambda request: calls.append(1))
    with client_for(app) as client:
        resp = client.get("/doc", headers={"Accept": "image/png"})
    assert resp.status == 406 and "application/json" in resp.text and resp.headers["vary"] == "Accept"
    assert calls == []


def test_produces_adds_vary_to_a_shared_response_without_changing_it():
    shared = Response(b"<x/>", headers=[("Content-Type", "application/xml")])
    app = App()
    app.get("/x", produces=["application/xml"])(lambda request: shared)
    with client_for(app) as client:
        first = client.get("/x")
        second = client.get("/x")
    assert first.headers.getall("vary") == ["Accept"] and second.headers.getall("vary") == ["Accept"]
    assert [bytes(n) if isinstance(n, bytes) else n for n, _ in shared.fields] == ["Content-Type"]


def test_produces_with_an_async_handler():
    app = App()

    @app.get("/t", produces=["text/plain", "text/csv"])
    async def t(request):
        await asyncio.sleep(0)
        return "a,b" if media_type() == "text/csv" else "a b"

    with client_for(app) as client:
        resp = client.get("/t", headers={"Accept": "text/csv"})
    assert resp.text == "a,b" and resp.headers["content-type"] == "text/csv; charset=utf-8"


def test_produces_lists_concrete_types():
    app = App()
    with pytest.raises(ValueError):
        app.get("/x", produces=["text/*"])
    with pytest.raises(ValueError):
        app.get("/x", consumes="json")


def _quota(request):
    # Refuse before the body: too large for the quota, or not allowed at all.
    if request.headers.get("x-deny"):
        return Response("denied", status=417)
    if (request.content_length or 0) > 5:
        return Response("over quota", status=413)
    return None


def test_expect_hook_refusal_is_sent_instead_of_100_continue():
    app = App()
    calls = []

    @app.put("/upload/:name", expect=_quota)
    async def upload(request):
        calls.append(await request.body())
        return "stored"

    with client_for(app) as client:
        refused = client.put("/upload/a", data=b"123456", headers={"Expect": "100-continue"})
        denied = client.put("/upload/b", data=b"1", headers={"Expect": "100-continue", "X-Deny": "1"})
        accepted = client.put("/upload/c", data=b"12345", headers={"Expect": "100-continue"})
    assert (refused.status, refused.text, refused.interim) == (413, "over quota", [])
    assert (denied.status, denied.interim) == (417, [])
    assert (accepted.status, accepted.text, accepted.interim) == (200, "stored", [100])
    assert calls == [b"12345"]


def test_expect_hook_runs_only_for_requests_that_expect_100_continue():
    app = App()
    app.put("/u", expect=lambda request: Response("no", status=417))(lambda request: "yes")
    with client_for(app) as client:
        assert client.put("/u", data=b"x").text == "yes"


def test_an_async_expect_hook_decides_too():
    app = App()

    async def hook(request):
        await asyncio.sleep(0)
        return Response("later", status=417) if request.params["name"] == "no" else None

    @app.put("/f/:name", expect=hook)
    async def put(request):
        return await request.body()

    with client_for(app) as client:
        assert client.put("/f/no", data=b"x", headers={"Expect": "100-continue"}).status == 417
        assert client.put("/f/yes", data=b"x", headers={"Expect": "100-continue"}).body == b"x"


def test_expect_hook_refusal_over_a_socket_closes_without_reading_the_body(loop):
    app = App()
    app.put("/upload", expect=_quota)(lambda request: "never")

    async def scenario():
        async with serving(app) as server:
            client = await Client.connect(server)
            await client.send(b"PUT /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n")
            resp = await client.read_interim_or_final()
            assert resp.status == 413  # no 100 Continue before it
            assert await client.reader.readexactly(int(resp.header("content-length"))) == b"over quota"
            assert await client.closed()
            await client.close()

    run(loop, scenario())


@pytest.mark.parametrize("loop_kind", LOOPS)
def test_a_blocking_handler_runs_in_the_thread_pool(loop_kind):
    app = App(blocking_threads=2)
    loop_thread = []

    @app.get("/work/:n<int>", blocking=True)
    def work(request):
        return {"n": request.params["n"] * 2, "thread": threading.current_thread().name}

    @app.get("/loop")
    def on_loop(request):
        loop_thread.append(threading.current_thread().name)
        return "ok"

    with client_for(app, use_uvloop=loop_kind == "uvloop") as client:
        resp = client.get("/work/21").json()
        client.get("/loop")
    assert resp["n"] == 42 and resp["thread"].startswith("fasthttp-blocking")
    assert loop_thread == [threading.current_thread().name]


def test_a_blocking_handler_exception_propagates_as_an_error_response(caplog):
    app = App()

    @app.get("/teapot", blocking=True)
    def teapot(request):
        raise HttpError(418, "short and stout")

    @app.get("/boom", blocking=True)
    def boom(request):
        raise RuntimeError("thread secret")

    with client_for(app, raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR, logger="fasthttp.error"):
        assert client.get("/teapot").status == 418
        resp = client.get("/boom")
    assert resp.status == 500 and b"secret" not in resp.body and "thread secret" in caplog.text


_CTX = contextvars.ContextVar("_CTX", default="unset")


def test_a_blocking_handler_sees_the_request_context_and_reads_the_body_from_the_thread():
    app = App()

    @app.middleware
    async def tag(request, call_next):
        _CTX.set("tagged")
        return await call_next(request)

    @app.post("/echo", blocking=True)
    def echo(request):
        return {"ctx": _CTX.get(), "body": from_thread(request.body()).decode()}

    with client_for(app) as client:
        assert client.post("/echo", data=b"payload").json() == {"ctx": "tagged", "body": "payload"}


def test_blocking_is_for_def_handlers_and_from_thread_for_their_threads():
    app = App()

    async def handler(request):
        return "x"

    with pytest.raises(ValueError):
        app.get("/x", blocking=True)(handler)
    with pytest.raises(RuntimeError):
        from_thread(asyncio.sleep(0))


# -- errors ----------------------------------------------------------------------------------------


class _Missing(LookupError):
    pass


def test_an_exception_handler_answers_its_type_and_subclasses():
    app = App()

    @app.exception_handler(LookupError)
    def lookup(request, exc):
        return Response(f"missing: {exc}", status=404)

    @app.get("/a")
    def a(request):
        raise _Missing("a")

    @app.get("/b")
    async def b(request):
        raise KeyError("b")

    with client_for(app) as client:
        assert (client.get("/a").status, client.get("/a").text) == (404, "missing: a")
        assert client.get("/b").text == "missing: 'b'"


def test_a_status_handler_answers_http_errors_and_router_outcomes_keeping_the_status():
    app = App()

    @app.exception_handler(404)
    async def not_found(request, exc):
        return {"error": "nothing at " + request.path}

    @app.exception_handler(405)
    def not_allowed(request, exc):
        return "use another method"

    app.get("/gone")(lambda request: (_ for _ in ()).throw(HttpError(404)))
    app.get("/x")(lambda request: "x")
    with client_for(app) as client:
        missing = client.get("/nowhere")
        gone = client.get("/gone")
        wrong = client.delete("/x")
    assert (missing.status, missing.json()) == (404, {"error": "nothing at /nowhere"})
    assert gone.json() == {"error": "nothing at /gone"}
    assert (wrong.status, wrong.text, wrong.headers["allow"]) == (405, "use another method", "GET, HEAD, OPTIONS")


def test_an_unhandled_exception_is_logged_and_a_500_handler_may_shape_it(caplog):
    app = App()

    @app.exception_handler(500)
    def server_error(request, exc):
        return {"error": "sorry"}

    @app.get("/boom")
    def boom(request):
        raise RuntimeError("internal detail")

    with client_for(app, raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR, logger="fasthttp.error"):
        resp = client.get("/boom")
    assert (resp.status, resp.json()) == (500, {"error": "sorry"})
    assert "internal detail" in caplog.text


@pytest.mark.parametrize(
    "accept, content_type, fragment",
    [
        (None, "text/plain; charset=utf-8", b"Not Found"),
        ("application/json", "application/json", b'"status":404'),
        ("text/html", "text/html; charset=utf-8", b"<h1>404 Not Found</h1>"),
    ],
)
def test_errors_follow_the_accept_header(accept, content_type, fragment):
    app = App()
    with client_for(app) as client:
        resp = client.get("/missing", headers={"Accept": accept} if accept else None)
    assert resp.status == 404 and resp.headers["content-type"] == content_type and fragment in resp.body


def test_an_exception_handler_key_is_a_type_or_an_error_status():
    app = App()
    with pytest.raises(TypeError):
        app.exception_handler(200)
    with pytest.raises(TypeError):
        app.exception_handler("404")


# -- life cycle --------------------------------------------------------------------------------------


def test_an_app_is_an_application_for_the_engine():
    on_connect = lambda transport, session: True  # noqa: E731
    app = App(on_connect=on_connect)
    assert isinstance(app, Application) and as_application(app) is app
    assert app.on_connect is on_connect and callable(app.engine_handler())


def test_startup_and_shutdown_hooks_run_in_order_sync_and_async():
    app = App()
    events = []

    @app.on_startup
    def open_pool():
        app.state.pool = "pool"
        events.append("sync startup")

    @app.on_startup
    async def warm():
        await asyncio.sleep(0)
        events.append("async startup")

    @app.on_shutdown
    async def close_pool():
        events.append("async shutdown")

    @app.on_shutdown
    def last():
        events.append("sync shutdown")

    app.get("/")(lambda request: app.state.pool)
    with client_for(app) as client:
        assert client.get("/").text == "pool"
        assert events == ["sync startup", "async startup"]
    assert events == ["sync startup", "async startup", "async shutdown", "sync shutdown"]


def test_a_failing_startup_hook_aborts_and_skips_shutdown():
    app = App()
    events = []
    app.on_startup(lambda: (_ for _ in ()).throw(RuntimeError("no database")))
    app.on_shutdown(lambda: events.append("shutdown"))
    client = TestClient(app)
    with pytest.raises(RuntimeError, match="no database"):
        client.__enter__()
    client.close()
    assert events == []


def test_a_failing_shutdown_hook_is_logged_and_the_others_still_run(caplog):
    app = App()
    events = []
    app.on_shutdown(lambda: 1 / 0)
    app.on_shutdown(lambda: events.append("second"))
    with caplog.at_level(logging.ERROR, logger="fasthttp.error"), client_for(app):
        pass
    assert events == ["second"] and "ZeroDivisionError" in caplog.text


def test_app_serve_runs_the_hooks_around_serving(loop):
    app = App()
    events = []
    app.on_startup(lambda: events.append("startup"))
    app.on_shutdown(lambda: events.append("shutdown"))
    app.get("/")(lambda request: ",".join(events))

    async def scenario():
        ready = asyncio.get_running_loop().create_future()
        task = asyncio.ensure_future(app.serve("127.0.0.1:0", ready=ready.set_result))
        server = await ready
        client = await Client.connect(server)
        assert (await client.request()).body == b"startup"
        await client.close()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(loop, scenario())
    assert events == ["startup", "shutdown"]


def test_app_start_runs_the_hooks_on_the_server_thread():
    app = App()
    threads = []
    app.on_startup(lambda: threads.append(("startup", threading.current_thread().name)))
    app.on_shutdown(lambda: threads.append(("shutdown", threading.current_thread().name)))
    app.get("/")(lambda request: "up")
    handle = app.start("127.0.0.1:0")
    try:
        conn = http.client.HTTPConnection(*handle.addresses[0], timeout=5)
        conn.request("GET", "/")
        assert conn.getresponse().read() == b"up"
        conn.close()
    finally:
        handle.stop()
    assert threads == [("startup", "fasthttp-server"), ("shutdown", "fasthttp-server")]


_RUN_SCRIPT = """
import sys
from fasthttp import App
app = App()
app.on_startup(lambda: print("startup", flush=True))
app.on_shutdown(lambda: print("shutdown", flush=True))
app.get("/")(lambda request: "run")
app.run("127.0.0.1:0")
"""


def test_app_run_runs_the_hooks_and_drains_on_sigterm():
    proc = subprocess.Popen([sys.executable, "-c", _RUN_SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "startup"
        line = proc.stderr.readline()
        assert "listening on http://127.0.0.1:" in line, line
        host, port = line.rsplit("http://", 1)[1].strip().rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        conn.request("GET", "/")
        assert conn.getresponse().read() == b"run"
        conn.close()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert out.strip() == "shutdown" and proc.returncode == 0


def test_app_state_is_a_namespace():
    app = App()
    app.state.counter = 1
    assert app.state.counter == 1


def test_a_handler_for_exception_sees_failures_but_not_http_errors():
    app = App()

    @app.exception_handler(Exception)
    def failure(request, exc):
        return Response(f"failure: {type(exc).__name__}", status=503)

    @app.get("/fail")
    def fail(request):
        raise ValueError("x")

    @app.get("/forbidden")
    def forbidden(request):
        raise HttpError(403, "no")

    with TestClient(app) as client:
        assert (client.get("/fail").status, client.get("/fail").text) == (503, "failure: ValueError")
        assert (client.get("/forbidden").status, client.get("/forbidden").text) == (403, "no")
        assert client.get("/missing").status == 404


# -- a newcomer's first hour (issue 11): mistakes caught when the route is added ------------------


def test_fastapi_brace_patterns_route_instead_of_404():
    # Before: "/items/{item_id}" was a literal path; every request got 404.
    app = App()

    @app.get("/items/{item_id}")
    def item(request):
        return {"item_id": request.params["item_id"]}

    @app.get("/users/{uid:int}")
    def user(request):
        return {"uid": request.params["uid"]}

    with TestClient(app) as client:
        assert client.get("/items/abc").json() == {"item_id": "abc"}
        assert client.get("/users/7").json() == {"uid": 7}
        assert client.get("/users/x").status == 404
    assert "/items/:item_id" in app.describe() and "%7B" not in app.describe()


def test_flask_patterns_are_refused_at_registration_with_the_fasthttp_spelling():
    # Before: registered as the literal path /users/%3Cint:uid%3E; every request got 404.
    app = App()
    with pytest.raises(ValueError, match=r"Flask's syntax.*':uid<int>' or '\{uid:int\}'"):

        @app.get("/users/<int:uid>")
        def user(request):
            return {}

    assert app.routes() == []


def test_a_handler_without_the_request_parameter_is_refused_at_registration():
    # Before: TypeError "hello() takes 0 positional arguments but 1 was given" at request time.
    app = App()
    with pytest.raises(TypeError, match=r"takes no parameter.*def hello\(request\):"):

        @app.get("/")
        def hello():
            return "hi"


def test_a_handler_asking_for_path_parameters_as_arguments_is_refused_with_request_params():
    app = App()
    with pytest.raises(TypeError, match=r"request\.params\['item_id'\]"):

        @app.get("/items/{item_id}")
        def item(request, item_id):
            return item_id


def test_handlers_with_defaults_varargs_or_a_bound_method_are_accepted():
    app = App()

    class Resource:
        def show(self, request):
            return "shown"

    app.get("/a")(lambda request, extra=1: "a")
    app.get("/b")(lambda *args: "b")
    app.get("/c")(Resource().show)
    app.get("/d")(print)  # a builtin: no signature to check, trusted
    with TestClient(app) as client:
        assert [client.get(p).text for p in ("/a", "/b", "/c")] == ["a", "b", "shown"]


@pytest.mark.parametrize(
    "source",
    [
        "def handler(request):\n    return request.json()['a']\n",  # 'coroutine' object is not subscriptable
        "def handler(request):\n    return len(request.body)\n",  # object of type 'method' has no len()
        "def handler(request):\n    return request.json()\n",  # silently worked: refused alike
        "def handler(req):\n    data = req.form()\n    return 'x'\n",
        "def handler(request):\n    for part in request.multipart():\n        pass\n",
    ],
)
def test_a_def_handler_that_reads_the_body_is_told_to_be_async_def(source):
    namespace: dict = {}
    exec(source, namespace)
    app = App()
    with pytest.raises(TypeError, match=r"make it `async def handler\(\w+\):` and `await \w+\.\w+\(\)`"):
        app.post("/")(namespace["handler"])


def test_body_reads_are_fine_in_async_and_blocking_handlers_and_other_names_are_not_flagged():
    app = App()

    @app.post("/async")
    async def a(request):
        return (await request.json())["a"]

    @app.post("/blocking", blocking=True)
    def b(request):
        return from_thread(request.json())["a"]

    @app.get("/other")
    def c(request):
        import json

        body = {"text": "x"}  # names that are not the request's attributes
        return json.dumps(body["text"]) + request.path

    with TestClient(app) as client:
        assert client.post("/async", json={"a": "x"}).text == "x"
        assert client.post("/blocking", json={"a": "y"}).text == "y"
        assert client.get("/other").text == '"x"/other'


def test_tuple_returns_set_the_status_and_headers():
    # Before: "a handler returned tuple" TypeError, a 500.
    app = App()

    @app.post("/items")
    def create(request):
        return {"id": 1}, 201

    @app.get("/text")
    def text(request):
        return "made", 202, {"X-Id": "7"}

    @app.get("/response")
    def response(request):
        return Response("teapot", headers={"X-A": "1"}), 418, [("x-a", "2")]

    @app.get("/none")
    def none(request):
        return None, 404

    with TestClient(app) as client:
        resp = client.post("/items")
        assert (resp.status, resp.json(), resp.headers["content-type"]) == (201, {"id": 1}, "application/json")
        resp = client.get("/text")
        assert (resp.status, resp.text, resp.headers["x-id"]) == (202, "made", "7")
        resp = client.get("/response")
        assert (resp.status, resp.text, resp.headers.getall("x-a")) == (418, "teapot", ["2"])
        assert (client.get("/none").status, client.get("/").status) == (404, 404)


def test_a_malformed_tuple_is_a_500_with_the_reason_raised_in_tests():
    app = App()

    @app.get("/")
    def bad(request):
        return "x", "201"

    with TestClient(app) as client, pytest.raises(TypeError, match=r"\(body, status\)"):
        client.get("/")


def test_response_headers_is_a_case_insensitive_dict_on_the_wire():
    # Before: response.headers was the field list: headers["X"] = ... raised TypeError.
    app = App()

    @app.get("/")
    def handler(request):
        response = Response("x")
        response.headers["X-Trace"] = "1"
        response.headers["x-trace"] = "2"  # replaces, case-insensitively
        response.headers.add("Set-Cookie", "a=1")
        response.headers.add("Set-Cookie", "b=2")
        del response.headers["CONTENT-TYPE"]
        response.headers["Content-Type"] = "text/csv"
        return response

    with TestClient(app) as client:
        resp = client.get("/")
    assert resp.headers.getall("x-trace") == ["2"] and resp.headers["content-type"] == "text/csv"
    assert resp.headers.getall("set-cookie") == ["a=1", "b=2"]


def test_query_params_getlist():
    app = App()

    @app.get("/")
    def handler(request):
        return {"a": request.query_params.getlist("a"), "none": request.query_params.getlist("b")}

    with TestClient(app) as client:
        assert client.get("/?a=1&a=2").json() == {"a": ["1", "2"], "none": []}


def test_a_422_is_json_for_curl_and_text_for_a_client_that_refuses_json():
    # Before: text/plain for "Accept: */*" (curl's default), although the body is JSON.
    import dataclasses

    @dataclasses.dataclass
    class Item:
        name: str

    app = App()

    @app.post("/")
    async def create(request):
        return dataclasses.asdict(await request.validated(Item))

    with TestClient(app) as client:
        resp = client.post("/", json={"name": 1}, headers={"Accept": "*/*"})
        assert (resp.status, resp.headers["content-type"]) == (422, "application/json")
        assert resp.json()["error"]["detail"][0]["loc"] == ["name"]
        resp = client.post("/", json={"name": 1}, headers={"Accept": "text/plain"})
        assert (resp.status, resp.headers["content-type"]) == (422, "text/plain; charset=utf-8")


def test_run_start_and_serve_take_host_and_port():
    # Before: app.run(port=8001) raised TypeError: Server got an unexpected keyword 'port'.
    app = App()

    @app.get("/")
    def hello(request):
        return "hi"

    with app.start(host="127.0.0.1", port=0) as server:
        host, port = server.addresses[0][:2]
        conn = http.client.HTTPConnection(host, port, timeout=5)
        try:
            conn.request("GET", "/")
            assert conn.getresponse().read() == b"hi"
        finally:
            conn.close()
    with pytest.raises(TypeError, match="not both"):
        app.start("127.0.0.1:0", port=0)


# -- per-route middleware -----------------------------------------------------------------------


def test_route_middleware_wraps_only_its_route_inside_app_middleware():
    seen: list[str] = []
    app = App()

    @app.middleware
    def outer(request, call_next):
        seen.append("app")
        return call_next(request)

    def tag(request, call_next):
        seen.append("route")
        response = call_next(request)
        response.headers["X-Route"] = "yes"
        return response

    @app.get("/tagged", middleware=[tag])
    def tagged(request):
        return "t"

    @app.get("/plain")
    def plain(request):
        return "p"

    client = TestClient(app)
    tagged_response = client.get("/tagged")
    assert tagged_response.headers.get("x-route") == "yes"
    assert seen == ["app", "route"]
    seen.clear()
    assert client.get("/plain").headers.get("x-route") is None
    assert seen == ["app"]
    assert app.routes()[0].options()["middleware"] == (tag,)


def test_route_middleware_can_answer_before_the_route_options():
    app = App()

    async def refuse(request, call_next):
        return Response("no", status=403)

    @app.post("/upload", middleware=[refuse], max_body_size=1)
    async def upload(request):
        return await request.body()

    # the middleware answers before the route's 413 rule runs
    response = TestClient(app).post("/upload", data=b"x" * 10)
    assert response.status == 403


def test_route_middleware_must_be_callable():
    app = App()
    with pytest.raises(TypeError, match="callable"):
        app.route("/x", middleware=["nope"])


# -- the engine answers an async handler's failure with the App's on_error (PERF, issue 17) ----


def _failing_app(calls):
    """Routes whose async handler fails before and after a suspension, with sync and async error
    handlers (one that suspends), and error handlers that fail themselves."""
    app = App()

    class Sync(Exception):
        pass

    class Async(Exception):
        pass

    class AsyncSuspending(Exception):
        pass

    class Broken(Exception):
        pass

    class BrokenLater(Exception):
        pass

    @app.exception_handler(Sync)
    def sync_handler(request, exc):
        calls.append("sync")
        return Response(f"sync: {exc}", status=409)

    @app.exception_handler(Async)
    async def async_handler(request, exc):
        calls.append("async")
        return f"async: {exc}"  # keeps the 500 status of a failure

    @app.exception_handler(AsyncSuspending)
    async def suspending_handler(request, exc):
        await asyncio.sleep(0)
        calls.append("suspending")
        return Response(f"suspending: {exc}", status=418)

    @app.exception_handler(Broken)
    async def broken_handler(request, exc):
        calls.append("broken")
        raise HttpError(503, "broken handler")

    @app.exception_handler(BrokenLater)
    async def broken_later_handler(request, exc):
        calls.append("broken later")
        await asyncio.sleep(0)
        raise RuntimeError("the error handler failed")

    @app.exception_handler(503)
    def unavailable(request, exc):
        calls.append("503 handler")  # never: an error handler's own failure is the engine's
        return "no"

    kinds = {"sync": Sync, "async": Async, "suspending": AsyncSuspending, "broken": Broken, "later": BrokenLater}

    @app.get("/now/:kind")
    async def now(request):
        raise kinds[request.params["kind"]]("now")

    @app.get("/later/:kind")
    async def later(request):
        await asyncio.sleep(0)
        raise kinds[request.params["kind"]]("later")

    @app.get("/gone")
    async def gone(request):
        raise HttpError(404, "no such thing")

    @app.exception_handler(404)
    def not_found(request, exc):
        return f"custom 404: {exc.detail}"

    return app


EXPECTED_FAILURES = {
    "sync": (409, "sync: {when}", ["sync"]),
    "async": (500, "async: {when}", ["async"]),
    "suspending": (418, "suspending: {when}", ["suspending"]),
    "broken": (503, None, ["broken"]),
    "later": (500, None, ["broken later"]),
}


@pytest.mark.parametrize("mode", ["inline", "task"])
@pytest.mark.parametrize("when", ["now", "later"])
@pytest.mark.parametrize("kind", sorted(EXPECTED_FAILURES))
def test_an_async_handlers_failure_gets_the_apps_error_handlers_once(mode, when, kind, caplog):
    calls = []
    app = _failing_app(calls)
    status, text, called = EXPECTED_FAILURES[kind]
    client = client_for(app, async_handlers=mode, raise_server_exceptions=False)
    with caplog.at_level(logging.CRITICAL, logger="fasthttp"), client:
        resp = client.get(f"/{when}/{kind}")
        assert resp.status == status
        if text is not None:
            assert resp.text == text.format(when=when)
        assert calls == called  # each error handler once; a failing one is not handed to another
        assert client.get("/gone").text == "custom 404: no such thing"


def test_the_dispatcher_hands_the_engine_coroutines_with_on_error_only_without_middleware():
    bare = App()

    @bare.get("/a")
    async def a(request):
        return "a"

    handler = bare.engine_handler()
    assert handler.on_error == bare._error
    with pytest.raises(RuntimeError):  # composed (with nothing): later middleware is refused
        bare.add_middleware(lambda request, call_next: call_next(request))

    wrapped = App()
    wrapped.get("/a")(a)

    @wrapped.middleware
    async def seen(request, call_next):
        response = await call_next(request)
        response.headers["X-Seen"] = "1"
        return response

    assert getattr(wrapped.engine_handler(), "on_error", None) is None


def test_middleware_sees_the_error_handlers_answer_to_an_async_handlers_failure():
    app = App()
    seen = []

    @app.middleware
    async def record(request, call_next):
        response = await call_next(request)
        seen.append(response.status)
        return response

    @app.exception_handler(KeyError)
    async def key_error(request, exc):
        await asyncio.sleep(0)
        return Response("handled", status=422)

    @app.get("/a")
    async def a(request):
        await asyncio.sleep(0)
        raise KeyError("a")

    with client_for(app) as client:
        resp = client.get("/a")
    assert (resp.status, resp.text, seen) == (422, "handled", [422])


# -- the engine makes the fast-table hit (fasthttp.application's fast_routes; PERF, issue 17) ----


def test_the_engine_hits_the_exact_routes_and_a_route_added_after_the_first_request_is_served():
    app = App()

    @app.get("/a")
    def a(request):
        return "a"

    @app.get("/opt", max_body_size=10)  # a route with options: through its runner, never fast
    def opt(request):
        return "opt"

    table = app.engine_handler().fast_routes
    assert {path: sorted(methods) for path, methods in table.items()} == {"/a": ["GET", "HEAD"]}
    with client_for(app) as client:
        assert client.get("/a").text == "a"
        head = client.head("/a")
        assert head.status == 200 and head.body == b"" and head.headers["content-length"] == "1"
        assert client.post("/a", data=b"x").status == 405
        assert client.get("/opt").text == "opt"

        @app.get("/b")
        def b(request):
            return "b"

        @app.post("/a")
        def post_a(request):
            return "posted " + request.method

        assert table == {}  # routes changed: cleared, refilled by the first miss
        assert client.get("/b").text == "b"
        assert sorted(table) == ["/a", "/b"] and sorted(table["/a"]) == ["GET", "HEAD", "POST"]
        assert client.get("/b").text == "b"  # now the engine's hit
        assert client.post("/a", data=b"x").text == "posted POST"
        assert client.get("/a").text == "a"


def test_an_exact_routes_failures_get_the_same_answers_through_the_engines_hit():
    app = App(max_body_size=4)
    calls = []

    class Refused(Exception):
        pass

    @app.exception_handler(Refused)
    async def refused_handler(request, exc):
        calls.append("refused")
        return Response(f"refused: {exc}", status=409)

    @app.exception_handler(413)
    def too_large(request, exc):
        calls.append("413")
        return Response("too large here", status=413)

    @app.get("/refuse")
    def refuse(request):
        raise Refused("sync")

    @app.get("/gone")
    async def gone(request):
        raise HttpError(404, "no such thing")

    @app.post("/upload")
    async def upload(request):
        return f"got {len(await request.body())}"

    @app.get("/broken")
    def broken(request):
        raise RuntimeError("broken")

    assert sorted(app.engine_handler().fast_routes) == ["/broken", "/gone", "/refuse", "/upload"]
    with client_for(app, raise_server_exceptions=False) as client:
        resp = client.get("/refuse")
        assert (resp.status, resp.text) == (409, "refused: sync")
        assert client.get("/gone").status == 404
        assert client.post("/upload", data=b"1234").text == "got 4"
        resp = client.post("/upload", data=b"12345")
        assert (resp.status, resp.text) == (413, "too large here")
        assert client.get("/broken").status == 500
        assert calls == ["refused", "413"]


def test_an_app_with_middleware_has_no_fast_routes_for_the_engine():
    app = App()
    app.get("/a")(lambda request: "a")

    @app.middleware
    def tag(request, call_next):
        return call_next(request)

    assert getattr(app.engine_handler(), "fast_routes", None) is None
    with client_for(app) as client:
        assert client.get("/a").text == "a"


# -- a final response is never a 1xx (RFC 9110 §15.2) ----------------------------------------------


def _interim_answer(kind, status, path):
    if kind == "response":
        return Response(b"BODY", status=status)
    if kind == "stream":
        return StreamingResponse(iter([b"BODY"]), status=status)
    return FileResponse(path, status=status)


@pytest.mark.parametrize("kind", ["response", "stream", "file"])
@pytest.mark.parametrize("status", [100, 101, 103])
def test_a_handler_answering_with_a_1xx_status_gets_a_500_and_the_next_request_its_own_answer(loop, tmp_path, kind, status):
    # Written as the final response, a 1xx would make the client take the next response on the
    # connection (here /next's) for this request's: a desync. The handler's mistake is a 500.
    body = tmp_path / "f.txt"
    body.write_bytes(b"BODY")
    app = App()

    @app.get("/s")
    def interim(request):
        return _interim_answer(kind, status, str(body))

    @app.get("/next")
    def after(request):
        return "next"

    async def main():
        async with serving(app) as server:
            c = await Client.connect(server)
            await c.send(build_request("GET", "/s") + build_request("GET", "/next"))
            data = b""
            while not data.endswith(b"next"):
                chunk = await asyncio.wait_for(c.reader.read(65536), 10.0)
                assert chunk, data
                data += chunk
            await c.close()
            return data

    data = run(loop, main())
    assert data.startswith(b"HTTP/1.1 500 "), data[:60]
    assert data.count(b"HTTP/1.1 ") == 2 and b"HTTP/1.1 1" not in data, data


# -- an application's own Connection: close (RFC 9112 §9.6) -------------------------------------


@pytest.mark.parametrize("kind", ["response", "stream", "file"])
@pytest.mark.parametrize("value", ["close", "Keep-Alive, CLOSE", "x-hop,close"])
def test_a_handlers_connection_close_ends_the_connection_after_its_response(loop, tmp_path, kind, value):
    # The field is the server's to write, so the engine writes its own Connection: close once
    # and closes; the pipelined /next is not served.
    body = tmp_path / "f.txt"
    body.write_bytes(b"BODY")
    fields = [("X-Kept", "1"), ("Connection", value)]
    app = App()

    @app.get("/s")
    def closing(request):
        if kind == "response":
            return Response(b"BODY", headers=fields)
        if kind == "stream":
            return StreamingResponse(iter([b"BO", b"DY"]), headers=fields)
        return FileResponse(str(body), headers=fields)

    @app.get("/next")
    def after(request):
        return "next"

    async def main():
        async with serving(app) as server:
            c = await Client.connect(server)
            await c.send(build_request("GET", "/s") + build_request("GET", "/next"))
            data = await c.read_until_closed()
            await c.close()
            return data

    data = run(loop, main())
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), data
    assert b"\r\nX-Kept: 1" in head and head.lower().count(b"\r\nconnection:") == 1 and b"\r\nConnection: close" in head, head
    assert b"next" not in rest and data.count(b"HTTP/1.1 ") == 1, data


@pytest.mark.parametrize("fields", [[("Connection", "keep-alive")], [("Connection", "close"), ("X-Bad", "a\r\nb")]], ids=["keep-alive", "close-and-a-bad-field"])
def test_a_handlers_other_framing_fields_are_still_a_500(loop, fields):
    # keep-alive is the server's to decide; a Connection: close does not excuse another bad field.
    app = App()

    @app.get("/s")
    def bad(request):
        return Response(b"x", headers=fields)

    async def main():
        async with serving(app) as server:
            c = await Client.connect(server)
            r = await c.request("GET", "/s")
            await c.close()
            return r

    assert run(loop, main()).status == 500
