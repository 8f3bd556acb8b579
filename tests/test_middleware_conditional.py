"""fasthttp.middleware.conditional and the route options ranges=/preconditions=/require_preconditions=."""

from __future__ import annotations

import pytest

from fasthttp import App
from fasthttp.conditional import entity_tag
from fasthttp.dates import format_http_date
from fasthttp.middleware import Compression, ConditionalRequests
from fasthttp.responses import JSONResponse, Response, StreamingResponse
from fasthttp.testing import TestClient

DOC = {"title": "doc", "items": list(range(100))}


def make_app(**options):
    app = App()
    app.add_middleware(ConditionalRequests(**options))

    @app.get("/doc")
    def doc(request):
        return DOC

    @app.get("/adoc")
    async def adoc(request):
        return DOC

    @app.get("/tagged")
    def tagged(request):
        return JSONResponse(DOC, headers={"ETag": '"v7"', "Last-Modified": format_http_date(1_000_000)})

    @app.get("/dated")
    def dated(request):
        return JSONResponse(DOC, headers={"Last-Modified": format_http_date(1_000_000)})

    @app.get("/missing")
    def missing(request):
        return Response("no", 404)

    @app.get("/stream")
    def stream(request):
        return StreamingResponse(iter([b"a"]))

    @app.put("/doc")
    def put(request):
        return Response(b"", 204)

    return app


@pytest.fixture
def client():
    with TestClient(make_app()) as c:
        yield c


def test_an_automatic_etag_and_a_304(client):
    for path in ("/doc", "/adoc"):
        first = client.get(path)
        tag = first.headers["etag"]
        assert tag == entity_tag(JSONResponse(DOC).body)
        again = client.get(path, headers={"If-None-Match": tag})
        assert again.status == 304 and again.content == b""
        assert again.headers["etag"] == tag
        assert "content-type" not in again.headers and again.headers.get("content-length") in (None, "0")
        assert client.get(path, headers={"If-None-Match": '"other"'}).status == 200
        assert client.get(path, headers={"If-None-Match": "W/" + tag}).status == 304  # weak comparison
        assert client.head(path, headers={"If-None-Match": tag}).status == 304


def test_if_match_and_dates(client):
    assert client.get("/tagged", headers={"If-Match": '"v6"'}).status == 412
    assert client.get("/tagged", headers={"If-Match": '"v7"'}).status == 200
    assert client.get("/tagged", headers={"If-Match": 'W/"v7"'}).status == 412  # strong comparison
    later = format_http_date(2_000_000)
    earlier = format_http_date(500_000)
    assert client.get("/dated", headers={"If-Modified-Since": later}).status == 304
    assert client.get("/dated", headers={"If-Modified-Since": earlier}).status == 200
    assert client.get("/dated", headers={"If-Unmodified-Since": earlier}).status == 412
    # RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since
    r = client.get("/tagged", headers={"If-None-Match": '"nope"', "If-Modified-Since": later})
    assert r.status == 200
    # a malformed date is ignored
    assert client.get("/dated", headers={"If-Modified-Since": "yesterday"}).status == 200


def test_not_applied_to_errors_streams_and_unsafe_methods(client):
    assert client.get("/missing", headers={"If-None-Match": "*"}).status == 404
    r = client.get("/stream", headers={"If-None-Match": "*"})
    assert r.status == 200 and "etag" not in r.headers
    assert client.put("/doc", headers={"If-Match": '"x"'}).status == 204  # the route's business


def test_ranges_on_every_body_with_the_option():
    with TestClient(make_app(ranges=True)) as c:
        body = JSONResponse(DOC).body
        r = c.get("/doc", headers={"Range": "bytes=0-9"})
        assert r.status == 206 and r.content == body[:10]
        assert r.headers["content-range"] == f"bytes 0-9/{len(body)}"
        assert c.get("/doc").headers["accept-ranges"] == "bytes"


def test_works_with_compression_in_either_order():
    for order in ((ConditionalRequests(), Compression(minimum_size=10)), (Compression(minimum_size=10), ConditionalRequests())):
        app = App()
        for mw in order:
            app.add_middleware(mw)

        @app.get("/doc")
        def doc(request):
            return DOC

        with TestClient(app) as c:
            r = c.get("/doc", headers={"Accept-Encoding": "gzip"})
            assert r.headers["content-encoding"] == "gzip"
            tag = r.headers["etag"]
            again = c.get("/doc", headers={"Accept-Encoding": "gzip", "If-None-Match": tag})
            assert again.status == 304


def test_options_checked():
    with pytest.raises(ValueError):
        ConditionalRequests(max_ranges=0)


# -- route options -------------------------------------------------------------------------------


def ranged_app():
    app = App()

    @app.get("/data", ranges=True)
    def data(request):
        return {"numbers": list(range(500))}

    @app.get("/plain")
    def plain(request):
        return {"numbers": list(range(500))}

    return app


def test_a_range_on_json():
    body = JSONResponse({"numbers": list(range(500))}).body
    with TestClient(ranged_app()) as c:
        r = c.get("/data", headers={"Range": "bytes=-5"})
        assert r.status == 206 and r.content == body[-5:]
        r = c.get("/data", headers={"Range": "bytes=0-1, 10-11"})
        assert r.status == 206 and r.headers["content-type"].startswith("multipart/byteranges; boundary=")
        assert b"Content-Type: application/json" in r.content and body[10:12] in r.content
        r = c.get("/data", headers={"Range": f"bytes={len(body)}-"})
        assert r.status == 416 and r.headers["content-range"] == f"bytes */{len(body)}"
        # If-Range with the current tag: honoured; with another: the whole body
        tag = c.get("/data").headers["etag"]
        assert c.get("/data", headers={"Range": "bytes=0-0", "If-Range": tag}).status == 206
        r = c.get("/data", headers={"Range": "bytes=0-0", "If-Range": '"old"'})
        assert r.status == 200 and r.content == body
        # without the option: the whole body, no Accept-Ranges
        r = c.get("/plain", headers={"Range": "bytes=0-0"})
        assert r.status == 200 and "accept-ranges" not in r.headers
        # HEAD and POST ignore Range
        assert c.head("/data", headers={"Range": "bytes=0-0"}).status == 200


def test_a_range_with_a_thousand_parts_on_json():
    body = JSONResponse({"numbers": list(range(500))}).body
    with TestClient(ranged_app()) as c:
        spec = ",".join(f"{i * 2}-{i * 2}" for i in range(1000))
        r = c.get("/data", headers={"Range": "bytes=" + spec})
        # more than max_ranges (16): the Range is ignored (RFC 9110 §14.2), the whole body goes
        assert r.status == 200 and r.content == body
        overlapping = ",".join(["0-3"] * 1000)
        r = c.get("/data", headers={"Range": "bytes=" + overlapping})
        assert r.status == 200
        r = c.get("/data", headers={"Range": "bytes=" + ",".join(["x-y"] * 1000)})
        assert r.status == 200 and r.content == body


STORE: dict[str, tuple[str, bytes]] = {}


def guarded_app():
    app = App()

    def current(request):
        item = STORE.get(request.params["name"])
        return None if item is None else (item[0], None)

    async def current_async(request):
        return current(request)

    @app.put("/docs/:name", preconditions=current, require_preconditions=False)
    async def put(request):
        body = await request.body()
        created = request.params["name"] not in STORE
        STORE[request.params["name"]] = (entity_tag(body), body)
        return Response(b"", 201 if created else 204)

    @app.route("/strict/:name", ("PUT", "GET"), preconditions=current_async, require_preconditions=True)
    async def strict(request):
        if request.method == "GET":
            return STORE[request.params["name"]][1]
        body = await request.body()
        STORE[request.params["name"]] = (entity_tag(body), body)
        return Response(b"", 204)

    return app


def test_if_none_match_star_on_put():
    STORE.clear()
    with TestClient(guarded_app()) as c:
        # create only if absent: the first PUT creates, the second is refused before it acts
        assert c.put("/docs/a", data=b"one", headers={"If-None-Match": "*"}).status == 201
        r = c.put("/docs/a", data=b"two", headers={"If-None-Match": "*"})
        assert r.status == 412
        assert STORE["a"][1] == b"one"
        # If-Match with the current tag: the update goes through; with a stale one, 412
        tag = STORE["a"][0]
        assert c.put("/docs/a", data=b"three", headers={"If-Match": tag}).status == 204
        assert c.put("/docs/a", data=b"four", headers={"If-Match": tag}).status == 412
        assert STORE["a"][1] == b"three"
        # If-Match: * on a missing resource: 412
        assert c.put("/docs/b", data=b"x", headers={"If-Match": "*"}).status == 412


def test_precondition_required_is_opt_in():
    STORE.clear()
    STORE["s"] = (entity_tag(b"v1"), b"v1")
    with TestClient(guarded_app()) as c:
        r = c.put("/strict/s", data=b"v2")
        assert r.status == 428
        assert STORE["s"][1] == b"v1"
        assert c.put("/strict/s", data=b"v2", headers={"If-Match": STORE["s"][0]}).status == 204
        # safe methods are never refused; GET with a matching tag is 304 before the handler
        assert c.get("/strict/s").status == 200
        r = c.get("/strict/s", headers={"If-None-Match": STORE["s"][0]})
        assert r.status == 304 and r.headers["etag"] == STORE["s"][0]
        # the plain route does not require them
        assert c.put("/docs/s", data=b"v3").status == 204


def test_route_options_are_validated_and_listed():
    app = App()
    with pytest.raises(TypeError):
        app.route("/x", preconditions="nope")

    @app.get("/y", ranges=True, require_preconditions=True)
    def y(request):
        return "y"

    assert app.routes()[0].options() == {"ranges": True, "require_preconditions": True}
