"""``fasthttp.responses``: the response types, redirects, ``Vary``, error bodies by ``Accept``,
representations chosen by ``Accept`` (``negotiated``), security headers and
``multipart/x-mixed-replace`` streams; end to end over loopback on both event loops. Cookies are
in ``test_cookies.py``, files (ranges, conditional requests) in ``test_files.py``."""

from __future__ import annotations

import asyncio
import dataclasses as _dc
import datetime as _dt
import enum as _enum
import json as _stdjson
import os as _os
import subprocess as _subprocess
import sys as _sys
import uuid as _uuid

import pytest

from fasthttp import App
from fasthttp import responses as _responses
from fasthttp.errors import HttpError
from fasthttp.files import FileResponse
from fasthttp.responses import (
    HTMLResponse,
    JSONResponse,
    MultipartStreamResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
    error_response,
    json_loads,
    negotiated,
    render_error,
    render_http_error,
    security_headers,
    to_response,
)

from helpers_server import Client, run, serving

HTML, JSON, TEXT = "text/html", "application/json", "text/plain"


def exchange(loop, app, *requests, **options):
    """Send each ``(method, target, headers)`` on one connection; the responses, in order."""

    async def scenario():
        async with serving(app, **options) as server:
            client = await Client.connect(server)
            try:
                return [await client.request(m, t, headers=h) for m, t, h in requests]
            finally:
                await client.close()

    return run(loop, scenario())


def get(loop, app, target="/f", headers=None, method="GET", **options):
    return exchange(loop, app, (method, target, headers or []), **options)[0]


# -- in-memory response types ----------------------------------------------------------------------


def test_response_html_builds_a_plain_response_with_the_html_type():
    resp = Response.html("<p>é</p>", 201)
    assert type(resp) is Response
    assert (resp.status, resp.body, resp.fields) == (201, "<p>é</p>".encode(), [(b"Content-Type", b"text/html; charset=utf-8")])


def test_response_text_and_json_build_plain_responses():
    assert Response.text("hi").fields == [(b"Content-Type", b"text/plain; charset=utf-8")]
    resp = JSONResponse.json({"a": 1})
    assert type(resp) is Response and resp.body == b'{"a":1}'


def test_html_response_is_a_response_with_the_html_type():
    resp = HTMLResponse("<b>x</b>", headers={"X-A": "1"})
    assert isinstance(resp, Response)
    assert resp.fields == [(b"Content-Type", b"text/html; charset=utf-8"), ("X-A", "1")]


def test_plain_text_response_encodes_utf8():
    resp = PlainTextResponse("naïve")
    assert resp.body == "naïve".encode() and resp.fields[0] == (b"Content-Type", b"text/plain; charset=utf-8")


def test_json_response_serialises_compact_utf8():
    resp = JSONResponse({"name": "é", "n": [1, 2]}, status=201)
    assert resp.status == 201 and json_loads(resp.body) == {"name": "é", "n": [1, 2]}
    assert b" " not in resp.body and resp.fields == [(b"Content-Type", b"application/json")]


def test_a_content_type_in_headers_overrides_the_class_default():
    resp = JSONResponse([1], headers=[("Content-Type", "application/vnd.api+json")])
    assert resp.fields == [("Content-Type", "application/vnd.api+json")]


def test_to_response_passes_response_subclasses_through():
    for resp in (HTMLResponse("x"), RedirectResponse("/a"), MultipartStreamResponse([])):
        assert to_response(resp) is resp


# -- redirects ----------------------------------------------------------------------------------------


def test_redirect_defaults_to_307_with_location_and_empty_body():
    resp = RedirectResponse("https://example.com/a?b=c")
    assert (resp.status, resp.body) == (307, b"")
    assert resp.fields == [("Location", "https://example.com/a?b=c")]
    assert resp.location == "https://example.com/a?b=c"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_accepts_every_redirect_status(status):
    assert RedirectResponse("/x", status).status == status
    assert Response.redirect("/x", status).fields == [("Location", "/x")]


@pytest.mark.parametrize("status", [200, 300, 304, 305, 404])
def test_redirect_refuses_other_statuses(status):
    with pytest.raises(ValueError):
        RedirectResponse("/x", status)


@pytest.mark.parametrize("url", ["/a\r\nSet-Cookie: x=1", "/a\nb", "/a\rb", "/a\x00b", "/a\tb", "/a\x7fb", ""])
def test_redirect_refuses_control_characters_and_empty_urls(url):
    with pytest.raises(ValueError):
        RedirectResponse(url)


def test_redirect_percent_encodes_non_ascii_and_spaces_but_keeps_escapes():
    resp = RedirectResponse("/caf\u00e9 menu?q=a%20b&x=<y>")
    assert resp.location == "/caf%C3%A9%20menu?q=a%20b&x=%3Cy%3E"


def test_streaming_and_file_responses_take_cookies_too(tmp_path):
    for resp in (StreamingResponse([]), FileResponse(tmp_path / "x")):
        resp.set_cookie("a", "b")
        assert ("Set-Cookie", "a=b; Path=/; SameSite=Lax") in resp.fields


def test_add_vary_merges_names_once():
    resp = Response("x", headers=[("Vary", "Accept-Encoding")])
    resp.add_vary("Accept", "accept-encoding")
    resp.add_vary("Accept")
    assert ("Vary", "Accept-Encoding, Accept") in resp.fields
    fresh = Response("x")
    fresh.add_vary("Accept", "ACCEPT")
    assert fresh.fields[-1] == ("Vary", "Accept")
    star = Response("x", headers=[("Vary", "*")])
    star.add_vary("Accept")
    assert star.fields[-1] == ("Vary", "*")


# -- error bodies by Accept ---------------------------------------------------------------------------------


def test_render_error_is_text_by_default():
    resp = render_error(404)
    assert (resp.status, resp.body) == (404, b"Not Found")
    assert resp.fields == [(b"Content-Type", b"text/plain; charset=utf-8"), (b"X-Content-Type-Options", b"nosniff"), ("Vary", "Accept")]


def test_render_error_json_shape():
    resp = render_error(422, {"field": "name", "error": "required"}, "application/json")
    assert resp.fields[0] == (b"Content-Type", b"application/json")
    assert json_loads(resp.body) == {"error": {"status": 422, "reason": "Unprocessable Content", "detail": {"field": "name", "error": "required"}}}


def test_render_error_html_page_escapes_the_detail():
    resp = render_error(400, "<script>alert(1)</script>", "text/html")
    assert resp.fields[0] == (b"Content-Type", b"text/html; charset=utf-8")
    assert b"<script>" not in resp.body
    assert b"<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>" in resp.body
    assert b"<title>400 Bad Request</title>" in resp.body


def test_render_error_follows_a_browser_accept():
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert render_error(404, None, accept).fields[0][1] == b"text/html; charset=utf-8"
    assert render_error(404, None, b"application/json, */*;q=0.1").fields[0][1] == b"application/json"
    assert render_error(404, None, "*/*").fields[0][1] == b"text/plain; charset=utf-8"


def test_render_error_falls_back_to_text_when_nothing_is_acceptable():
    resp = render_error(404, "gone", "image/png")
    assert resp.status == 404 and resp.body == b"gone" and resp.fields[0][1] == b"text/plain; charset=utf-8"


def test_render_error_keeps_extra_headers_and_encodes_structured_details_as_text():
    resp = render_error(405, ["GET"], "text/plain", [("Allow", "GET")])
    assert resp.body == b'["GET"]' and ("Allow", "GET") in resp.fields


@pytest.mark.parametrize("accept", [None, "*/*", "application/*", "text/plain;q=0.5, */*"])
def test_render_error_prefers_json_for_a_structured_detail(accept):
    # issue 11: a 422 was text/plain for curl's "Accept: */*" although its body is JSON.
    resp = render_error(422, [{"loc": ["a"]}], accept)
    assert resp.fields[0] == (b"Content-Type", b"application/json")
    assert json_loads(resp.body)["error"]["detail"] == [{"loc": ["a"]}]


@pytest.mark.parametrize("accept", ["text/plain", "application/json;q=0, */*", "image/png"])
def test_render_error_gives_text_to_a_client_that_refuses_json(accept):
    resp = render_error(422, [{"loc": ["a"]}], accept)
    assert resp.fields[0][1] == b"text/plain; charset=utf-8" and resp.body == b'[{"loc":["a"]}]'


def test_render_error_merges_vary_with_the_callers_headers():
    resp = render_error(406, "x", "image/png", [("Vary", "Accept"), ("X-A", "1")])
    assert resp.fields == [(b"Content-Type", b"text/plain; charset=utf-8"), ("Vary", "Accept"), ("X-A", "1"), (b"X-Content-Type-Options", b"nosniff")]
    resp = render_error(404, "x", None, {"Vary": "Cookie"})
    assert resp.fields == [(b"Content-Type", b"text/plain; charset=utf-8"), ("Vary", "Cookie, Accept"), (b"X-Content-Type-Options", b"nosniff")]


def test_http_error_response_negotiates_with_a_request_or_value():
    err = HttpError(409, "taken")
    assert render_http_error(err).body == b"taken"
    assert json_loads(render_http_error(err, "application/json").body)["error"]["detail"] == "taken"
    assert HttpError(404).detail == "Not Found"


def test_error_response_stays_plain_text():
    resp = error_response(413)
    assert (resp.status, resp.body, resp.fields) == (413, b"Content Too Large", [(b"Content-Type", b"text/plain; charset=utf-8"), (b"X-Content-Type-Options", b"nosniff")])


@pytest.mark.parametrize("accept", [None, "application/json", "text/html", "image/png"])
def test_every_error_body_says_nosniff(accept):
    # Before: an HttpError detail echoed as text or JSON with no nosniff, so a browser could
    # sniff "<script>..." into HTML. After: every rendered error carries it, once.
    resp = render_error(400, "<script>alert(1)</script>", accept)
    assert [v for n, v in resp.fields if n.lower() in (b"x-content-type-options", "x-content-type-options")] == [b"nosniff"]
    resp = render_error(400, "x", accept, {"X-Content-Type-Options": "nosniff"})
    assert len([n for n, _ in resp.fields if n.lower() in (b"x-content-type-options", "x-content-type-options")]) == 1


# -- security headers ------------------------------------------------------------------------------------------


def test_security_headers_defaults():
    assert security_headers() == [
        ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("X-Permitted-Cross-Domain-Policies", "none"),
    ]


def test_security_headers_options():
    assert security_headers(
        hsts_max_age=63072000, preload=True, frame_options="sameorigin", csp="default-src 'self'", referrer_policy=None, cross_domain_policies=None
    ) == [
        ("Strict-Transport-Security", "max-age=63072000; includeSubDomains; preload"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "SAMEORIGIN"),
        ("Content-Security-Policy", "default-src 'self'"),
    ]
    assert security_headers(hsts=False, content_type_options=False, frame_options=None, referrer_policy=None, cross_domain_policies=None) == []


@pytest.mark.parametrize(
    "kwargs", [{"preload": True, "hsts_max_age": 60}, {"frame_options": "ALLOW-FROM x"}, {"csp": "a\r\nb"}, {"hsts_max_age": -1}]
)
def test_security_headers_refuse_invalid_options(kwargs):
    with pytest.raises(ValueError):
        security_headers(**kwargs)


# -- multipart/x-mixed-replace -----------------------------------------------------------------------------


async def collect(content):
    return [chunk async for chunk in content]


def test_multipart_stream_frames_each_part_with_its_length():
    resp = MultipartStreamResponse([b"JPEG1", (b"PNG", {"Content-Type": "image/png", "X-Frame": "2"}), "text"], boundary="frame")
    assert resp.fields == [(b"Content-Type", "multipart/x-mixed-replace; boundary=frame")]
    assert resp.boundary == "frame"
    chunks = asyncio.run(collect(resp.content))
    assert chunks == [
        b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 5\r\n\r\nJPEG1\r\n",
        b"--frame\r\nContent-Type: image/png\r\nX-Frame: 2\r\nContent-Length: 3\r\n\r\nPNG\r\n",
        b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 4\r\n\r\ntext\r\n",
        b"--frame--\r\n",
    ]


def test_multipart_stream_generates_a_random_token_boundary():
    a, b = MultipartStreamResponse([]), MultipartStreamResponse([])
    assert a.boundary != b.boundary and len(a.boundary) == 32


def test_multipart_stream_takes_async_frames_and_no_default_type():
    async def frames():
        yield b"a"
        yield (b"b", [("Content-Type", "text/plain")])

    resp = MultipartStreamResponse(frames(), frame_type=None, subtype="mixed", boundary="b")
    assert resp.fields[0][1] == "multipart/mixed; boundary=b"
    assert asyncio.run(collect(resp.content)) == [
        b"--b\r\nContent-Length: 1\r\n\r\na\r\n",
        b"--b\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\nb\r\n",
        b"--b--\r\n",
    ]


@pytest.mark.parametrize("boundary", ["", "a b", "x" * 71, "a;b", 'a"b', "a\r\n"])
def test_multipart_stream_refuses_an_invalid_boundary(boundary):
    with pytest.raises(ValueError):
        MultipartStreamResponse([], boundary=boundary)


def test_multipart_stream_refuses_frame_fields_that_would_split_the_part():
    resp = MultipartStreamResponse([(b"x", {"X-A": "1\r\nX-B: 2"})], boundary="b")
    with pytest.raises(ValueError):
        asyncio.run(collect(resp.content))


# -- end to end: in-memory responses ------------------------------------------------------------------------


def test_response_subclasses_and_cookies_go_through_the_engine(loop):
    app = App()

    @app.get("/html")
    def html(request):
        resp = HTMLResponse("<p>hi</p>")
        resp.set_cookie("sid", "abc", httponly=True)
        return resp

    app.get("/json")(lambda request: JSONResponse({"ok": True}, status=201))
    app.get("/go")(lambda request: RedirectResponse("/there", 303))
    html_r, json_r, go_r = exchange(loop, app, ("GET", "/html", []), ("GET", "/json", []), ("GET", "/go", []))
    assert (html_r.status, html_r.header("content-type"), html_r.body) == (200, "text/html; charset=utf-8", b"<p>hi</p>")
    assert html_r.header("set-cookie") == "sid=abc; Path=/; HttpOnly; SameSite=Lax"
    assert (json_r.status, json_r.body) == (201, b'{"ok":true}')
    assert (go_r.status, go_r.header("location"), go_r.header("content-length"), go_r.body) == (303, "/there", "0", b"")


def test_several_cookies_are_separate_set_cookie_fields(loop):
    app = App()

    @app.get("/")
    def both(request):
        resp = Response("x")
        resp.set_cookie("a", "1")
        resp.delete_cookie("b")
        return resp

    resp = get(loop, app, "/")
    assert resp.headers_named("set-cookie") == [
        "a=1; Path=/; SameSite=Lax",
        "b=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax",
    ]


@pytest.mark.parametrize(
    "accept, content_type, body",
    [
        (None, "text/plain; charset=utf-8", b"no such user"),
        ("application/json", "application/json", b'{"error":{"status":404,"reason":"Not Found","detail":"no such user"}}'),
        ("text/html;q=0.9, application/json;q=0.5", "text/html; charset=utf-8", None),
    ],
    ids=["none", "json", "html"],
)
def test_http_error_body_follows_the_request_accept(loop, accept, content_type, body):
    app = App()

    @app.get("/user")
    async def user(request):
        raise HttpError(404, "no such user")

    resp = get(loop, app, "/user", [("Accept", accept)] if accept else [])
    assert resp.status == 404 and resp.header("content-type") == content_type and resp.header("vary") == "Accept"
    if body is not None:
        assert resp.body == body
    else:
        assert b"<h1>404 Not Found</h1><p>no such user</p>" in resp.body


# -- end to end: an MJPEG stream ------------------------------------------------------------------------------


def test_mjpeg_stream_read_by_a_raw_client(loop):
    frames = [b"\xff\xd8frame-%d\xff\xd9" % i * (i + 1) for i in range(5)]
    app = App()

    @app.get("/stream")
    def stream(request):
        async def gen():
            for frame in frames:
                await asyncio.sleep(0)
                yield frame

        return MultipartStreamResponse(gen(), headers=[("Cache-Control", "no-store")], boundary="frameboundary")

    resp = get(loop, app, "/stream")
    assert resp.status == 200
    assert resp.header("content-type") == "multipart/x-mixed-replace; boundary=frameboundary"
    assert resp.header("transfer-encoding") == "chunked" and resp.header("cache-control") == "no-store"
    body = resp.body
    assert body.endswith(b"--frameboundary--\r\n")
    parts = body[: -len(b"--frameboundary--\r\n")].split(b"--frameboundary\r\n")[1:]
    got = []
    for part in parts:
        head, _, rest = part.partition(b"\r\n\r\n")
        assert head.split(b"\r\n") == [b"Content-Type: image/jpeg", b"Content-Length: %d" % (len(rest) - 2)]
        assert rest.endswith(b"\r\n")
        got.append(rest[:-2])
    assert got == frames


def test_mjpeg_stream_source_is_closed_when_the_client_goes_away(loop):
    closed = asyncio.Event()
    app = App()

    @app.get("/live")
    def live(request):
        async def endless():
            try:
                n = 0
                while True:
                    n += 1
                    yield b"frame %d" % n
                    await asyncio.sleep(0.005)
            finally:
                closed.set()

        return MultipartStreamResponse(endless(), boundary="b")

    async def scenario():
        async with serving(app) as server:
            client = await Client.connect(server)
            await client.send(b"GET /live HTTP/1.1\r\nHost: x\r\n\r\n")
            head = await client.read_head()
            assert head.status == 200
            data = b""
            while data.count(b"--b\r\n") < 3:
                data += await client.reader.read(4096)
            await client.close()
            await asyncio.wait_for(closed.wait(), 5)

    run(loop, scenario())


# -- negotiated representations (RFC 9110 §12.5.1) ------------------------------------------------------


def test_negotiated_builds_the_chosen_representation_with_vary():
    calls = []

    def html():
        calls.append("html")
        return "<p>hi</p>"

    resp = negotiated("application/json", {HTML: html, JSON: {"hi": True}})
    assert calls == []
    assert resp.body == b'{"hi":true}'
    assert resp.fields == [(b"Content-Type", JSON), ("Vary", "Accept")]
    resp = negotiated(None, {HTML: html, JSON: {"hi": True}}, status=201, headers=[("Vary", "Cookie")])
    assert resp.status == 201 and resp.body == b"<p>hi</p>"
    assert resp.fields == [(b"Content-Type", "text/html; charset=utf-8"), ("Vary", "Cookie, Accept")]


def test_negotiated_refuses_a_non_text_body_for_a_non_json_type():
    with pytest.raises(TypeError):
        negotiated(None, {HTML: {"a": 1}})


def route_app():
    app = App()

    @app.get("/greeting")
    def greeting(request):
        return negotiated(request, {JSON: lambda: {"greeting": "hello"}, HTML: "<p>hello</p>", TEXT: "hello"})

    return app


@pytest.mark.parametrize(
    "accept, status, content_type, body",
    [
        (None, 200, "application/json", b'{"greeting":"hello"}'),
        ("text/html", 200, "text/html; charset=utf-8", b"<p>hello</p>"),
        ("text/*;q=0.5, text/plain", 200, "text/plain; charset=utf-8", b"hello"),
        ("application/json;q=0.1, text/*;q=0.2", 200, "text/html; charset=utf-8", b"<p>hello</p>"),
    ],
)
def test_a_route_answers_by_accept_with_vary(loop, accept, status, content_type, body):
    async def scenario():
        async with serving(route_app()) as server:
            client = await Client.connect(server)
            try:
                return await client.request("GET", "/greeting", headers=[("Accept", accept)] if accept else [])
            finally:
                await client.close()

    resp = run(loop, scenario())
    assert (resp.status, resp.header("content-type"), resp.body) == (status, content_type, body)
    assert resp.header("vary") == "Accept"


def test_a_route_answers_406_when_nothing_is_acceptable(loop):
    async def scenario():
        async with serving(route_app()) as server:
            client = await Client.connect(server)
            try:
                return await client.request("GET", "/greeting", headers=[("Accept", "image/png, application/json;q=0")])
            finally:
                await client.close()

    resp = run(loop, scenario())
    assert resp.status == 406 and resp.headers_named("vary") == ["Accept"]
    assert resp.header("content-type") == "text/plain; charset=utf-8"
    assert resp.body == b"Not Acceptable; available media types: application/json, text/html, text/plain"


def test_a_406_is_rendered_as_json_when_the_client_takes_json_errors(loop):
    # A client that accepts application/json only for errors still gets a JSON error body.
    app = App()

    @app.get("/only-html")
    def only_html(request):
        return negotiated(request, {HTML: "<p>x</p>"})

    async def scenario():
        async with serving(app) as server:
            client = await Client.connect(server)
            try:
                return await client.request("GET", "/only-html", headers=[("Accept", "application/json")])
            finally:
                await client.close()

    resp = run(loop, scenario())
    assert resp.status == 406 and resp.header("vary") == "Accept"
    assert json_loads(resp.body)["error"]["detail"] == "Not Acceptable; available media types: text/html"


# -- response.headers (issue 11): a dict-like view over the writer's field list ---------------------


def test_response_headers_is_a_case_insensitive_view_of_the_fields():
    resp = Response("x")
    headers = resp.headers
    assert headers["content-type"] == "text/plain; charset=utf-8" and "CONTENT-TYPE" in headers
    headers["X-A"] = "1"
    headers.add("Set-Cookie", "a=1")
    headers.add("set-cookie", "b=2")
    assert headers.getlist("SET-COOKIE") == ["a=1", "b=2"] and len(headers) == 3
    headers["x-a"] = "2"
    assert resp.fields[1] == ("x-a", "2")  # replaced in place: the writer's list, order kept
    del headers["Set-Cookie"]
    assert list(headers) == ["Content-Type", "x-a"] and dict(headers) == {"Content-Type": "text/plain; charset=utf-8", "x-a": "2"}
    with pytest.raises(KeyError):
        headers["missing"]
    with pytest.raises(KeyError):
        del headers["missing"]
    assert headers.get("missing", "d") == "d"
    headers.append(("X-Old", "list API"))  # 0.1 code that appended pairs keeps working
    assert resp.fields[-1] == ("X-Old", "list API")


def test_response_headers_copies_a_shared_field_tuple_before_writing():
    from fasthttp.responses import TEXT_FIELDS

    resp = Response("x")
    resp.fields = TEXT_FIELDS  # type: ignore[assignment]
    resp.headers["X-A"] = "1"
    assert TEXT_FIELDS == ((b"Content-Type", b"text/plain; charset=utf-8"),) and resp.headers["x-a"] == "1"


@pytest.mark.parametrize("make", [lambda: StreamingResponse(iter([b"x"])), lambda: JSONResponse({})])
def test_every_response_type_has_the_headers_view(make):
    resp = make()
    resp.headers["X-A"] = "1"
    assert ("X-A", "1") in resp.fields


@pytest.mark.parametrize(
    "value, status, body, fields",
    [
        (("made", 201), 201, b"made", [(b"Content-Type", b"text/plain; charset=utf-8")]),
        (({"a": 1}, 202, {"X": "1"}), 202, b'{"a":1}', [(b"Content-Type", b"application/json"), ("X", "1")]),
        ((None, 404), 404, b"", []),
        ((b"\x00", 200, [("Content-Type", "image/png")]), 200, b"\x00", [("Content-Type", "image/png")]),
    ],
)
def test_to_response_takes_body_status_and_headers_tuples(value, status, body, fields):
    resp = to_response(value)
    assert (resp.status, resp.body, resp.fields) == (status, body, fields)


@pytest.mark.parametrize("value", [("x",), ("x", 200, None, 1), ("x", "200"), ("x", True), (("x", 200), 200)])
def test_to_response_refuses_other_tuples(value):
    with pytest.raises(TypeError):
        to_response(value)


def test_a_tuple_never_mutates_the_shared_no_content_response():
    assert to_response((None, 404)).status == 404 and to_response(None).status == 204


# -- server-sent events (EventSourceResponse) ---------------------------------------------------


def test_server_sent_event_encoding():
    from fasthttp.responses import ServerSentEvent

    assert ServerSentEvent("a\nb\r\nc", event="up", id="7", retry=1000).encode() == (
        b"event: up\nid: 7\nretry: 1000\ndata: a\ndata: b\ndata: c\n\n"
    )
    assert ServerSentEvent(comment="hi").encode() == b": hi\n\n"
    for bad in ({"event": "a\nb"}, {"id": "a\rb"}, {"id": "a\0"}, {"retry": -1}):
        with pytest.raises(ValueError):
            ServerSentEvent("x", **bad)


def test_event_source_response_through_the_engine():
    import asyncio

    from fasthttp import App, EventSourceResponse
    from fasthttp.responses import ServerSentEvent, last_event_id
    from fasthttp.testing import TestClient

    app = App()

    @app.get("/events")
    def events(request):
        start = int(last_event_id(request) or 0)

        async def gen():
            yield ServerSentEvent("first", id=str(start + 1), event="tick")
            await asyncio.sleep(0.2)  # longer than ping: a keep-alive comment goes first
            yield {"data": {"n": 2}, "id": str(start + 2)}
            yield "plain"

        return EventSourceResponse(gen(), ping=0.01, retry=500)

    with TestClient(app) as c:
        r = c.get("/events", headers={"Last-Event-ID": "40"})
        assert r.status == 200
        assert r.headers["content-type"] == "text/event-stream"
        assert r.headers["cache-control"] == "no-store"
        text = r.content.decode()
        assert text.startswith("retry: 500\n\nevent: tick\nid: 41\ndata: first\n\n")
        assert ": ping\n\n" in text
        assert text.endswith('id: 42\ndata: {"n":2}\n\ndata: plain\n\n')


def test_event_source_from_a_plain_iterable_and_bad_items():
    import asyncio

    from fasthttp.responses import EventSourceResponse

    async def collect(resp):
        return b"".join([p async for p in resp.content])

    assert asyncio.run(collect(EventSourceResponse(["a", b"b"], ping=None))) == b"data: a\n\ndata: b\n\n"
    with pytest.raises(TypeError):
        asyncio.run(collect(EventSourceResponse([42])))
    with pytest.raises(ValueError):
        EventSourceResponse([], ping=0)


def test_an_event_stream_closed_while_waiting_closes_its_source():
    import asyncio

    from fasthttp.responses import EventSourceResponse

    closed = []

    async def gen():
        try:
            yield "first"
            await asyncio.sleep(3600)
            yield "never"
        finally:
            closed.append(True)

    async def main():
        stream = EventSourceResponse(gen(), ping=0.01).content
        assert await stream.__anext__() == b"data: first\n\n"
        assert await stream.__anext__() == b": ping\n\n"  # the source is still waiting
        await stream.aclose()  # the client went away

    asyncio.run(main())
    assert closed == [True]
def test_security_headers_permissions_policy():
    fields = security_headers(permissions_policy="camera=(), geolocation=()")
    assert ("Permissions-Policy", "camera=(), geolocation=()") in fields
    with pytest.raises(ValueError):
        security_headers(permissions_policy="a\nb")


def test_with_fields_copies_and_never_mutates():
    from fasthttp.responses import Upgrade, with_fields

    shared = Response(b"x", 201, [(b"Content-Type", b"text/plain")])
    copy = with_fields(shared, [("X-A", "1")])
    assert type(copy) is Response and copy is not shared
    assert (copy.status, copy.body, copy.fields) == (201, b"x", [(b"Content-Type", b"text/plain"), ("X-A", "1")])
    assert shared.fields == [(b"Content-Type", b"text/plain")]
    html = HTMLResponse("<p>")
    other = with_fields(html, [("X-B", "2")])
    assert type(other) is HTMLResponse and ("X-B", "2") in other.fields and ("X-B", "2") not in html.fields
    stream = StreamingResponse(iter([b"a"]))
    assert ("X-C", "3") in with_fields(stream, [("X-C", "3")]).fields and ("X-C", "3") not in stream.fields
    upgrade = Upgrade.__new__(Upgrade)
    assert with_fields(upgrade, [("X-D", "4")]) is upgrade
    assert with_fields(to_response(None), [("X-E", "5")]).fields != to_response(None).fields  # the shared 204 is safe


# -- JSON: one encoder, orjson or the standard library, the same bytes ------------------------------


class _Colour(_enum.Enum):
    RED = "red"


@_dc.dataclass
class _Point:
    x: int
    label: str


#: Values whose JSON both encoders must write byte for byte alike.
JSON_VALUES = [
    {"message": "Hello, World!"},
    [1, 2.5, None, True, False, "é", "a\u2028b\x00\"\\"],
    {1: "int key", "s": {"nested": [[]]}},
    2**70,
    -(2**63),
    _dt.datetime(2020, 1, 2, 3, 4, 5, 6),
    _dt.datetime(2020, 1, 2, tzinfo=_dt.timezone.utc),
    _dt.date(2020, 1, 2),
    _dt.time(1, 2, 3),
    _uuid.UUID(int=5),
    _Colour.RED,
    _Point(1, "z"),
    {"points": [_Point(2, "q")], "when": _dt.date(1999, 12, 31)},
    (1, "tuple"),
    "",
    0.1,
]


@pytest.mark.parametrize("value", JSON_VALUES, ids=lambda v: type(v).__name__)
def test_json_dumps_writes_the_same_bytes_as_the_stdlib_path(value):
    assert _responses.json_dumps(value) == _responses.stdlib_json_dumps(value)
    assert b": " not in _responses.json_dumps({"a": 1}) and b", " not in _responses.json_dumps([1, 2])


@pytest.mark.parametrize("dumps", [_responses.json_dumps, _responses.stdlib_json_dumps], ids=["default", "stdlib"])
def test_both_json_paths_refuse_what_json_cannot_carry_with_a_type_error(dumps):
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps({"x": object()})
    with pytest.raises(TypeError):
        dumps({b"bytes key": 1})


def test_orjson_is_the_backend_where_it_is_installed():
    pytest.importorskip("orjson")
    if _os.environ.get("FASTHTTP_NO_ORJSON", "").strip().lower() not in ("", "0", "false", "no", "off"):
        pytest.skip("FASTHTTP_NO_ORJSON is set for this run")
    assert _responses.JSON_BACKEND == "orjson"


_NO_ORJSON_PROBE = r"""
import asyncio, json
from fasthttp import App, responses
from fasthttp.testing import TestClient
assert responses.JSON_BACKEND == "json", responses.JSON_BACKEND
assert responses.json_dumps is responses.stdlib_json_dumps
app = App()
app.get("/j")(lambda request: {"message": "Hello, World!", "n": [1, 2], "é": None})
with TestClient(app) as client:
    r = client.get("/j")
print(json.dumps([r.status, r.headers.get("content-type"), r.body.decode()]))
"""


def test_fasthttp_no_orjson_serves_json_through_the_stdlib_with_the_same_bytes():
    # A fresh interpreter: the switch is read once, at import (fasthttp._compat.NO_ORJSON).
    env = dict(_os.environ, FASTHTTP_NO_ORJSON="1")
    out = _subprocess.run([_sys.executable, "-c", _NO_ORJSON_PROBE], env=env, capture_output=True, text=True,
                          timeout=60, check=True)
    status, ctype, body = _stdjson.loads(out.stdout.strip().splitlines()[-1])
    assert (status, ctype) == (200, "application/json")
    assert body.encode() == _responses.json_dumps({"message": "Hello, World!", "n": [1, 2], "é": None})
    assert body == '{"message":"Hello, World!","n":[1,2],"é":null}'


def test_the_common_form_makes_the_same_fields_and_each_response_its_own_list():
    # Response(bytes, content_type=...) without headers has a fast path (PERF, issue 17): the
    # same fields as the general one, a list per response, so changing one changes no other.
    a = Response(b"x", content_type="application/octet-stream")
    b = Response(b"y", content_type="application/octet-stream")
    plain = Response(b"z")
    also = Response(b"w")
    assert a.fields == b.fields == [(b"Content-Type", "application/octet-stream")]
    assert plain.fields == [(b"Content-Type", b"application/octet-stream")] and Response(b"").fields == []
    assert Response(b"", content_type="text/csv").fields == [(b"Content-Type", "text/csv")]
    a.fields.append(("X-A", "1"))
    a.headers["Content-Type"] = "text/csv"
    plain.set_cookie("k", "v")
    plain.headers["X-P"] = "2"
    assert b.fields == [(b"Content-Type", "application/octet-stream")]
    assert also.fields == [(b"Content-Type", b"application/octet-stream")]
    assert a.headers["content-type"] == "text/csv" and a.headers["x-a"] == "1"
    assert plain.headers["x-p"] == "2" and plain.headers["set-cookie"].startswith("k=v")
    assert (a.status, a.body, Response(b"q", 201).status) == (200, b"x", 201)


# -- without_close: an application's own Connection: close (RFC 9112 §9.6) ----------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ([("Connection", "close")], []),
        ([(b"X-A", b"1"), (b"CONNECTION", b" Keep-Alive ,\tClose "), ("X-B", "2")], [(b"X-A", b"1"), ("X-B", "2")]),
        ([("Connection", "x-hop"), ("connection", "close")], []),
        ([("Connection", "keep-alive")], None),
        ([("Connection", "closed")], None),
        ([("X-Connection", "close")], None),
        ([], None),
    ],
    ids=["alone", "among-options", "two-fields", "keep-alive", "not-the-token", "other-name", "none"],
)
def test_without_close_gives_the_fields_without_connection_when_one_asks_to_close(fields, expected):
    assert _responses.without_close(fields) == expected
