"""``fasthttp.App``: exact-path routing, handler return values, the Request a handler sees, and
the ways to run an app (``serve`` in a loop, ``start`` in a thread)."""

from __future__ import annotations

import asyncio
import http.client

import pytest

from fasthttp import App, HTTPError, Response, StreamingResponse
from fasthttp.requests import QueryParams

from helpers_server import Client, build_request, loop, run, serving  # noqa: F401


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
    assert resp.header("allow") == "DELETE, GET, HEAD"


def test_get_route_answers_head_without_body(loop):
    app = App()
    app.get("/")(lambda request: "twelve bytes")
    resp = request(loop, app, "HEAD", "/")
    assert resp.status == 200 and resp.header("content-length") == "12" and resp.body == b""


def test_route_paths_match_exactly_without_the_query(loop):
    app = App()
    app.get("/a")(lambda request: "a")
    assert request(loop, app, "GET", "/a?x=1").body == b"a"
    assert request(loop, app, "GET", "/a/").status == 404


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
        raise HTTPError(403, "go away", headers=[("X-Why", "because")])

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
