"""``fasthttp.responses``: the response types, cookies, redirects, error bodies by ``Accept``,
HTTP dates, conditional requests (RFC 9110 §13) and byte ranges (RFC 9110 §14) on files, and
``multipart/x-mixed-replace`` streams; end to end over loopback on both event loops."""

from __future__ import annotations

import asyncio
import datetime as dt
import os

import pytest

from fasthttp import App
from fasthttp.headers import Headers
from fasthttp.errors import HttpError
from fasthttp.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    MultipartStreamResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
    check_preconditions,
    content_disposition,
    error_response,
    render_http_error,
    format_http_date,
    json_loads,
    parse_http_date,
    render_error,
    security_headers,
    to_response,
)

from helpers_server import Client, loop, run, serving, tls  # noqa: F401

T = 784111777  # Sun, 06 Nov 1994 08:49:37 GMT, the RFC 9110 example date
LM = "Sun, 06 Nov 1994 08:49:37 GMT"
LATER = "Sun, 06 Nov 1994 08:49:38 GMT"
EARLIER = "Sun, 06 Nov 1994 08:49:36 GMT"
DATA = bytes(range(256)) * 4  # 1 KiB


def make_file(directory, name: str = "blob", data: bytes = DATA):
    path = directory / name
    path.write_bytes(data)
    os.utime(path, ns=(T * 10**9, T * 10**9))
    return path


def etag_of(path, weak: bool = False) -> str:
    st = os.stat(path)
    return ("W/" if weak else "") + f'"{st.st_mtime_ns:x}-{st.st_size:x}"'


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


def file_app(path, **options):
    app = App()
    app.get("/f")(lambda request: FileResponse(path, **options))
    return app


def parse_byteranges(content_type: str, body: bytes) -> list[tuple[list[tuple[str, str]], bytes]]:
    """The parts of a multipart/byteranges body: ``(fields, data)`` each."""
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    assert body.startswith(b"--" + boundary + b"\r\n")
    assert body.endswith(b"\r\n--" + boundary + b"--\r\n")
    inner = body[len(boundary) + 4 : -(len(boundary) + 8)]
    parts = []
    for chunk in inner.split(b"\r\n--" + boundary + b"\r\n"):
        head, _, data = chunk.partition(b"\r\n\r\n")
        fields = [tuple(x.strip() for x in line.decode().split(":", 1)) for line in head.split(b"\r\n")]
        parts.append((fields, data))
    return parts


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


# -- cookies ------------------------------------------------------------------------------------------


def set_cookie_values(resp) -> list[str]:
    return [v for n, v in resp.fields if n == "Set-Cookie"]


def test_set_cookie_defaults_to_root_path_and_samesite_lax():
    resp = Response("x")
    resp.set_cookie("sid", "abc123")
    assert set_cookie_values(resp) == ["sid=abc123; Path=/; SameSite=Lax"]


def test_set_cookie_writes_every_attribute_in_order():
    resp = Response("x")
    resp.set_cookie(
        "sid",
        "v",
        max_age=3600,
        expires=dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
        path="/app",
        domain="example.com",
        secure=True,
        httponly=True,
        samesite="strict",
    )
    assert set_cookie_values(resp) == [
        "sid=v; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Max-Age=3600; Domain=example.com; Path=/app; "
        "Secure; HttpOnly; SameSite=Strict"
    ]


@pytest.mark.parametrize(
    "expires", [T, float(T) + 0.9, LM, dt.datetime(1994, 11, 6, 8, 49, 37), "Sunday, 06-Nov-94 08:49:37 GMT"]
)
def test_set_cookie_expires_is_an_imf_fixdate(expires):
    resp = Response()
    resp.set_cookie("a", "b", expires=expires, samesite=None, path=None)
    assert set_cookie_values(resp) == [f"a=b; Expires={LM}"]


def test_set_cookie_max_age_takes_a_timedelta():
    resp = Response()
    resp.set_cookie("a", "b", max_age=dt.timedelta(days=1), samesite=None)
    assert set_cookie_values(resp) == ["a=b; Max-Age=86400; Path=/"]


def test_set_cookie_accepts_a_quoted_value_and_an_empty_one():
    resp = Response()
    resp.set_cookie("a", '"quoted"', samesite=None, path=None)
    resp.set_cookie("b", "", samesite=None, path=None)
    assert set_cookie_values(resp) == ['a="quoted"', "b="]


@pytest.mark.parametrize("name", ["", "a b", "a;b", "a,b", "a=b", "a\tb", "a\x01", "é", 'a"', "a(b)", "a/b"])
def test_set_cookie_refuses_a_name_that_is_not_a_token(name):
    with pytest.raises(ValueError):
        Response().set_cookie(name, "v")


@pytest.mark.parametrize("value", ["a b", "a;b", "a,b", 'a"b', "a\\b", "a\x00", "a\r\nX: y", "\x7f", "é", '"a'])
def test_set_cookie_refuses_a_value_outside_cookie_octets(value):
    with pytest.raises(ValueError):
        Response().set_cookie("n", value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"path": "/a;b"},
        {"path": "/a\nb"},
        {"domain": "exa mple.com"},
        {"domain": "a;b"},
        {"domain": ""},
        {"max_age": -1},
        {"expires": "yesterday"},
        {"samesite": "sometimes"},
        {"samesite": "none"},
        {"partitioned": True},
    ],
)
def test_set_cookie_refuses_invalid_attributes(kwargs):
    with pytest.raises(ValueError):
        Response().set_cookie("n", "v", **kwargs)


def test_set_cookie_refuses_wrongly_typed_attributes():
    with pytest.raises(TypeError):
        Response().set_cookie("n", "v", max_age="10")
    with pytest.raises(TypeError):
        Response().set_cookie("n", "v", expires=[1])


def test_samesite_none_is_allowed_with_secure():
    resp = Response()
    resp.set_cookie("n", "v", samesite="None", secure=True, partitioned=True)
    assert set_cookie_values(resp) == ["n=v; Path=/; Secure; SameSite=None; Partitioned"]


def test_cookie_name_prefixes_are_enforced():
    with pytest.raises(ValueError):
        Response().set_cookie("__Secure-id", "v")
    with pytest.raises(ValueError):
        Response().set_cookie("__Host-id", "v", secure=True, domain="example.com")
    with pytest.raises(ValueError):
        Response().set_cookie("__Host-id", "v", secure=True, path="/app")
    resp = Response()
    resp.set_cookie("__Host-id", "v", secure=True)
    assert set_cookie_values(resp) == ["__Host-id=v; Path=/; Secure; SameSite=Lax"]


def test_delete_cookie_expires_it_in_the_past():
    resp = Response()
    resp.delete_cookie("sid", path="/app", domain="example.com")
    assert set_cookie_values(resp) == [
        "sid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Domain=example.com; Path=/app; SameSite=Lax"
    ]


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


# -- HTTP dates -----------------------------------------------------------------------------------------


def test_format_http_date_is_an_imf_fixdate():
    assert format_http_date(T) == LM
    assert format_http_date(dt.datetime(1994, 11, 6, 8, 49, 37, tzinfo=dt.timezone.utc)) == LM
    assert format_http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"


@pytest.mark.parametrize("value", [LM, "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", LM.encode(), f" {LM} "])
def test_parse_http_date_accepts_the_three_forms(value):
    assert parse_http_date(value) == T


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "yesterday",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 31 Feb 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT extra",
        "784111777",
    ],
)
def test_parse_http_date_refuses_anything_else(value):
    assert parse_http_date(value) is None


def test_parse_http_date_reads_two_digit_years_as_at_most_50_years_ahead():
    this_year = dt.datetime.now(dt.timezone.utc).year
    future = (this_year + 60) % 100
    parsed = parse_http_date(f"Monday, 01-Jan-{future:02d} 00:00:00 GMT")
    assert dt.datetime.fromtimestamp(parsed, dt.timezone.utc).year == this_year + 60 - 100


def test_parse_http_date_takes_a_leap_second_as_59():
    assert parse_http_date("Sat, 31 Dec 2016 23:59:60 GMT") == parse_http_date("Sat, 31 Dec 2016 23:59:59 GMT")


# -- conditional requests (RFC 9110 §13.2.2) --------------------------------------------------------------

ETAG = '"abc"'


@pytest.mark.parametrize(
    "method, fields, expected",
    [
        ("GET", [], None),
        ("GET", [("If-None-Match", '"abc"')], 304),
        ("GET", [("If-None-Match", 'W/"abc"')], 304),
        ("GET", [("If-None-Match", '"x", "abc"')], 304),
        ("GET", [("If-None-Match", '"x"'), ("If-None-Match", '"abc"')], 304),
        ("GET", [("If-None-Match", "*")], 304),
        ("GET", [("If-None-Match", '"x"')], None),
        ("HEAD", [("If-None-Match", '"abc"')], 304),
        ("POST", [("If-None-Match", '"abc"')], 412),
        ("PUT", [("If-None-Match", "*")], 412),
        ("GET", [("If-None-Match", "garbage")], None),
        ("GET", [("If-Modified-Since", LM)], 304),
        ("GET", [("If-Modified-Since", LATER)], 304),
        ("GET", [("If-Modified-Since", EARLIER)], None),
        ("GET", [("If-Modified-Since", "not a date")], None),
        ("GET", [("If-Modified-Since", LM), ("If-Modified-Since", LM)], None),
        ("POST", [("If-Modified-Since", LM)], None),
        ("GET", [("If-None-Match", '"x"'), ("If-Modified-Since", LM)], None),
        ("GET", [("If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT")], None),
        ("PUT", [("If-Match", '"abc"')], None),
        ("PUT", [("If-Match", "*")], None),
        ("PUT", [("If-Match", '"x", "abc"')], None),
        ("PUT", [("If-Match", '"x"')], 412),
        ("PUT", [("If-Match", 'W/"abc"')], 412),
        ("PUT", [("If-Match", "garbage")], 412),
        ("PUT", [("If-Unmodified-Since", LM)], None),
        ("PUT", [("If-Unmodified-Since", EARLIER)], 412),
        ("PUT", [("If-Unmodified-Since", "bogus")], None),
        ("PUT", [("If-Match", '"abc"'), ("If-Unmodified-Since", EARLIER)], None),
        ("GET", [("If-Match", '"x"'), ("If-None-Match", '"abc"')], 412),
        ("GET", [("If-Unmodified-Since", EARLIER), ("If-None-Match", '"abc"')], 412),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_preconditions_are_evaluated_in_rfc_order(method, fields, expected):
    assert check_preconditions(method, Headers(fields), ETAG, T) == expected


def test_if_none_match_star_is_true_without_a_representation():
    assert check_preconditions("PUT", Headers([("If-None-Match", "*")]), None, None, exists=False) is None
    assert check_preconditions("PUT", Headers([("If-Match", "*")]), None, None, exists=False) == 412


def test_a_weak_etag_never_satisfies_if_match():
    assert check_preconditions("PUT", Headers([("If-Match", 'W/"abc"')]), 'W/"abc"', T) == 412
    assert check_preconditions("GET", Headers([("If-None-Match", '"abc"')]), 'W/"abc"', T) == 304


def test_an_entity_tag_may_contain_a_comma():
    assert check_preconditions("GET", Headers([("If-None-Match", '"a,b"')]), '"a,b"', T) == 304


# -- Content-Disposition (RFC 6266) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename, disposition, expected",
    [
        ("report.pdf", "attachment", 'attachment; filename="report.pdf"'),
        ("report.pdf", "inline", 'inline; filename="report.pdf"'),
        (None, "inline", "inline"),
        ("naïve résumé.txt", "attachment", "attachment; filename=\"na_ve r_sum_.txt\"; filename*=UTF-8''na%C3%AFve%20r%C3%A9sum%C3%A9.txt"),
        ('a"b%c.txt', "attachment", "attachment; filename=\"a_b_c.txt\"; filename*=UTF-8''a%22b%25c.txt"),
        ("../../etc/passwd", "attachment", 'attachment; filename="passwd"'),
        ("C:\\Users\\x\\evil.exe", "attachment", 'attachment; filename="evil.exe"'),
        ("bad\r\nname.txt", "attachment", 'attachment; filename="badname.txt"'),
        ("..", "attachment", 'attachment; filename="download"'),
        ("日本.txt", "attachment", "attachment; filename=\"__.txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt"),
    ],
)
def test_content_disposition_is_safe_and_has_a_utf8_form(filename, disposition, expected):
    assert content_disposition(filename, disposition) == expected


@pytest.mark.parametrize("disposition", ["", "at tachment", "a;b", "x\r\n"])
def test_content_disposition_refuses_an_invalid_type(disposition):
    with pytest.raises(ValueError):
        content_disposition("a.txt", disposition)


# -- FileResponse.plan (no I/O beyond stat) ------------------------------------------------------------------


def plan(path, method="GET", fields=(), **options):
    return FileResponse(path, **options).plan(method, Headers(list(fields)), os.stat(path))


def test_file_plan_adds_validators_and_accept_ranges(tmp_path):
    path = make_file(tmp_path)
    status, fields, parts, length = plan(path)
    assert (status, parts, length) == (200, [(0, 1024)], 1024)
    assert fields == [
        (b"Content-Type", b"application/octet-stream"),
        ("ETag", etag_of(path)),
        ("Last-Modified", LM),
        ("Accept-Ranges", "bytes"),
    ]


def test_file_plan_never_sends_a_last_modified_in_the_future(tmp_path):
    path = make_file(tmp_path)
    future = 4102444800  # 2100-01-01
    os.utime(path, (future, future))
    _, fields, _, _ = plan(path)
    last_modified = parse_http_date(dict((n, v) for n, v in fields if isinstance(n, str))["Last-Modified"])
    assert last_modified < future


def test_file_plan_keeps_validators_given_in_headers(tmp_path):
    path = make_file(tmp_path)
    status, fields, _, _ = plan(path, headers=[("ETag", '"v1"'), ("Last-Modified", EARLIER)])
    assert ("ETag", '"v1"') in fields and ("Last-Modified", EARLIER) in fields
    assert [n for n, _ in fields].count("ETag") == 1
    resp = plan(path, fields=[("If-None-Match", '"v1"')], headers=[("ETag", '"v1"')])
    assert resp.status == 304


def test_file_plan_can_leave_validators_and_ranges_out(tmp_path):
    path = make_file(tmp_path)
    _, fields, parts, _ = plan(path, fields=[("Range", "bytes=0-1")], etag=False, last_modified=False, accept_ranges=False)
    assert fields == [(b"Content-Type", b"application/octet-stream")] and parts == [(0, 1024)]


def test_file_plan_weak_etag(tmp_path):
    path = make_file(tmp_path)
    _, fields, _, _ = plan(path, weak_etag=True)
    assert ("ETag", etag_of(path, weak=True)) in fields


def test_file_plan_ignores_conditions_and_ranges_for_a_non_2xx_status(tmp_path):
    path = make_file(tmp_path)
    status, fields, parts, _ = plan(path, fields=[("If-None-Match", "*"), ("Range", "bytes=0-1")], status=404)
    assert status == 404 and parts == [(0, 1024)]
    assert [n for n, _ in fields] == [b"Content-Type"]


def test_file_plan_304_keeps_etag_and_cache_fields_only(tmp_path):
    path = make_file(tmp_path)
    resp = plan(path, fields=[("If-None-Match", etag_of(path))], headers=[("Cache-Control", "max-age=60")], filename="x.bin")
    assert type(resp) is Response and resp.status == 304 and resp.body == b""
    assert resp.fields == [("Cache-Control", "max-age=60"), ("ETag", etag_of(path))]


def test_file_plan_304_keeps_last_modified_when_there_is_no_etag(tmp_path):
    path = make_file(tmp_path)
    resp = plan(path, fields=[("If-Modified-Since", LM)], etag=False)
    assert resp.status == 304 and resp.fields == [("Last-Modified", LM)]


def test_file_plan_ignores_range_for_head_and_other_methods(tmp_path):
    path = make_file(tmp_path)
    assert plan(path, "HEAD", [("Range", "bytes=0-1")])[0] == 200
    assert plan(path, "POST", [("Range", "bytes=0-1")])[0] == 200


def test_file_plan_ignores_a_repeated_or_invalid_range(tmp_path):
    path = make_file(tmp_path)
    assert plan(path, fields=[("Range", "bytes=0-1"), ("Range", "bytes=2-3")])[0] == 200
    assert plan(path, fields=[("Range", "bytes=5-1")])[0] == 200
    assert plan(path, fields=[("Range", "lines=1-2")])[0] == 200


def test_file_plan_ignores_more_ranges_than_max_ranges(tmp_path):
    path = make_file(tmp_path)
    value = "bytes=" + ",".join(f"{i * 10}-{i * 10 + 1}" for i in range(5))
    assert plan(path, fields=[("Range", value)], max_ranges=4)[0] == 200
    assert plan(path, fields=[("Range", value)], max_ranges=5)[0] == 206


def test_file_plan_multipart_length_is_exact(tmp_path):
    path = make_file(tmp_path)
    status, fields, parts, length = plan(path, fields=[("Range", "bytes=0-9, 100-109, -5")])
    assert status == 206
    assert sum(len(p) if isinstance(p, bytes) else p[1] for p in parts) == length
    assert [p for p in parts if not isinstance(p, bytes)] == [(0, 10), (100, 10), (1019, 5)]
    assert fields[0][1].startswith("multipart/byteranges; boundary=")


def test_file_plan_416_for_an_empty_file(tmp_path):
    path = make_file(tmp_path, "empty.bin", b"")
    resp = plan(path, fields=[("Range", "bytes=0-")])
    assert resp.status == 416 and ("Content-Range", "bytes */0") in resp.fields


def test_file_plan_does_not_mutate_the_response(tmp_path):
    path = make_file(tmp_path)
    resp = FileResponse(path)
    before = list(resp.fields)
    resp.plan("GET", Headers([("Range", "bytes=0-1,5-6")]), os.stat(path))
    assert resp.fields == before


def test_file_response_guesses_content_types(tmp_path):
    assert FileResponse(tmp_path / "a.html").fields[0] == (b"Content-Type", "text/html; charset=utf-8")
    assert FileResponse(tmp_path / "a.png").fields[0] == (b"Content-Type", "image/png")
    assert FileResponse(tmp_path / "a.tar.gz").fields[0] == (b"Content-Type", b"application/octet-stream")
    assert FileResponse(tmp_path / "noext").fields[0] == (b"Content-Type", b"application/octet-stream")
    assert FileResponse(tmp_path / "a.png", content_type="image/x").fields[0] == (b"Content-Type", "image/x")


def test_file_response_disposition_defaults_to_the_file_name(tmp_path):
    assert ("Content-Disposition", 'attachment; filename="a.png"') in FileResponse(tmp_path / "a.png", disposition="attachment").fields
    assert ("Content-Disposition", 'inline; filename="b.png"') in FileResponse(tmp_path / "a.png", filename="b.png", disposition="inline").fields


# -- error bodies by Accept ---------------------------------------------------------------------------------


def test_render_error_is_text_by_default():
    resp = render_error(404)
    assert (resp.status, resp.body) == (404, b"Not Found")
    assert resp.fields == [(b"Content-Type", b"text/plain; charset=utf-8"), ("Vary", "Accept")]


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
    resp = render_error(405, ["GET"], None, [("Allow", "GET")])
    assert resp.body == b'["GET"]' and ("Allow", "GET") in resp.fields


def test_render_error_merges_vary_with_the_callers_headers():
    resp = render_error(406, "x", "image/png", [("Vary", "Accept"), ("X-A", "1")])
    assert resp.fields == [(b"Content-Type", b"text/plain; charset=utf-8"), ("Vary", "Accept"), ("X-A", "1")]
    resp = render_error(404, "x", None, {"Vary": "Cookie"})
    assert resp.fields == [(b"Content-Type", b"text/plain; charset=utf-8"), ("Vary", "Cookie, Accept")]


def test_http_error_response_negotiates_with_a_request_or_value():
    err = HttpError(409, "taken")
    assert render_http_error(err).body == b"taken"
    assert json_loads(render_http_error(err, "application/json").body)["error"]["detail"] == "taken"
    assert HttpError(404).detail == "Not Found"


def test_error_response_stays_plain_text():
    resp = error_response(413)
    assert (resp.status, resp.body, resp.fields) == (413, b"Content Too Large", [(b"Content-Type", b"text/plain; charset=utf-8")])


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


# -- end to end: files --------------------------------------------------------------------------------------


def test_file_is_served_with_validators(loop, tmp_path):
    path = make_file(tmp_path)
    resp = get(loop, file_app(path))
    assert resp.status == 200 and resp.body == DATA
    assert resp.header("etag") == etag_of(path)
    assert resp.header("last-modified") == LM
    assert resp.header("accept-ranges") == "bytes"
    assert resp.header("content-length") == "1024"


def test_head_on_a_file_sends_the_head_only(loop, tmp_path):
    path = make_file(tmp_path)
    head, after = exchange(loop, file_app(path), ("HEAD", "/f", []), ("GET", "/f", [("Range", "bytes=0-0")]))
    assert head.status == 200 and head.body == b""
    assert head.header("content-length") == "1024" and head.header("etag") == etag_of(path)
    # The connection is still in step: the next response is read intact.
    assert after.status == 206 and after.body == DATA[:1]


def test_single_range_is_206_with_content_range(loop, tmp_path):
    path = make_file(tmp_path)
    resp = get(loop, file_app(path), headers=[("Range", "bytes=10-19")])
    assert resp.status == 206 and resp.body == DATA[10:20]
    assert resp.header("content-range") == "bytes 10-19/1024"
    assert resp.header("content-length") == "10"
    assert resp.header("content-type") == "application/octet-stream"


def test_suffix_and_open_ended_ranges(loop, tmp_path):
    path = make_file(tmp_path)
    suffix, open_ended = exchange(loop, file_app(path), ("GET", "/f", [("Range", "bytes=-100")]), ("GET", "/f", [("Range", "bytes=1000-")]))
    assert (suffix.status, suffix.header("content-range"), suffix.body) == (206, "bytes 924-1023/1024", DATA[-100:])
    assert (open_ended.status, open_ended.header("content-range"), open_ended.body) == (206, "bytes 1000-1023/1024", DATA[1000:])


def test_several_ranges_are_multipart_byteranges(loop, tmp_path):
    path = make_file(tmp_path, "page.html", DATA)
    resp = get(loop, file_app(path), headers=[("Range", "bytes=0-4, 500-509, -3")])
    assert resp.status == 206 and resp.header("content-range") is None
    ctype = resp.header("content-type")
    assert ctype.startswith("multipart/byteranges; boundary=")
    assert int(resp.header("content-length")) == len(resp.body)
    assert parse_byteranges(ctype, resp.body) == [
        ([("Content-Type", "text/html; charset=utf-8"), ("Content-Range", "bytes 0-4/1024")], DATA[0:5]),
        ([("Content-Type", "text/html; charset=utf-8"), ("Content-Range", "bytes 500-509/1024")], DATA[500:510]),
        ([("Content-Type", "text/html; charset=utf-8"), ("Content-Range", "bytes 1021-1023/1024")], DATA[1021:]),
    ]


def test_overlapping_ranges_are_coalesced_into_one(loop, tmp_path):
    path = make_file(tmp_path)
    resp = get(loop, file_app(path), headers=[("Range", "bytes=0-9,5-14")])
    assert resp.status == 206 and resp.header("content-range") == "bytes 0-14/1024" and resp.body == DATA[:15]


def test_unsatisfiable_range_is_416_with_the_length(loop, tmp_path):
    path = make_file(tmp_path)
    resp, after = exchange(loop, file_app(path), ("GET", "/f", [("Range", "bytes=2000-3000")]), ("GET", "/f", []))
    assert resp.status == 416 and resp.header("content-range") == "bytes */1024"
    assert after.status == 200 and after.body == DATA


def test_if_range_with_the_current_etag_gets_the_range(loop, tmp_path):
    path = make_file(tmp_path)
    resp = get(loop, file_app(path), headers=[("Range", "bytes=0-9"), ("If-Range", etag_of(path))])
    assert resp.status == 206 and resp.body == DATA[:10]


def test_if_range_with_another_etag_gets_the_whole_file(loop, tmp_path):
    path = make_file(tmp_path)
    resp = get(loop, file_app(path), headers=[("Range", "bytes=0-9"), ("If-Range", '"stale"')])
    assert resp.status == 200 and resp.body == DATA and resp.header("content-range") is None


def test_if_range_with_a_weak_etag_never_matches(loop, tmp_path):
    path = make_file(tmp_path)
    resp = get(loop, file_app(path, weak_etag=True), headers=[("Range", "bytes=0-9"), ("If-Range", etag_of(path, weak=True))])
    assert resp.status == 200 and resp.body == DATA


def test_if_range_with_a_date_matches_only_the_exact_last_modified(loop, tmp_path):
    path = make_file(tmp_path)
    exact, other = exchange(
        loop,
        file_app(path),
        ("GET", "/f", [("Range", "bytes=0-9"), ("If-Range", LM)]),
        ("GET", "/f", [("Range", "bytes=0-9"), ("If-Range", LATER)]),
    )
    assert exact.status == 206 and exact.body == DATA[:10]
    assert other.status == 200 and other.body == DATA


def test_if_none_match_with_the_current_etag_is_304(loop, tmp_path):
    path = make_file(tmp_path)
    resp, after = exchange(loop, file_app(path), ("GET", "/f", [("If-None-Match", etag_of(path))]), ("GET", "/f", []))
    assert resp.status == 304 and resp.header("etag") == etag_of(path)
    assert resp.header("content-length") is None and resp.header("content-type") is None
    assert resp.header("last-modified") is None
    assert after.status == 200 and after.body == DATA


def test_if_modified_since_not_modified_is_304(loop, tmp_path):
    path = make_file(tmp_path)
    same, earlier = exchange(loop, file_app(path), ("GET", "/f", [("If-Modified-Since", LM)]), ("GET", "/f", [("If-Modified-Since", EARLIER)]))
    assert same.status == 304
    assert earlier.status == 200 and earlier.body == DATA


def test_if_none_match_takes_precedence_over_if_modified_since(loop, tmp_path):
    path = make_file(tmp_path)
    resp = get(loop, file_app(path), headers=[("If-None-Match", '"other"'), ("If-Modified-Since", LM)])
    assert resp.status == 200


def test_if_match_mismatch_is_412(loop, tmp_path):
    path = make_file(tmp_path)
    resp = get(loop, file_app(path), headers=[("If-Match", '"other"')])
    assert resp.status == 412 and resp.body == b"Precondition Failed"


def test_if_match_with_the_current_etag_proceeds(loop, tmp_path):
    path = make_file(tmp_path)
    resp = get(loop, file_app(path), headers=[("If-Match", etag_of(path)), ("Range", "bytes=0-0")])
    assert resp.status == 206


def test_if_unmodified_since_before_the_change_is_412(loop, tmp_path):
    path = make_file(tmp_path)
    before, same = exchange(
        loop, file_app(path), ("GET", "/f", [("If-Unmodified-Since", EARLIER)]), ("GET", "/f", [("If-Unmodified-Since", LM)])
    )
    assert before.status == 412
    assert same.status == 200


def test_conditional_head_is_304_too(loop, tmp_path):
    path = make_file(tmp_path)
    resp = get(loop, file_app(path), headers=[("If-None-Match", "*")], method="HEAD")
    assert resp.status == 304


def test_download_has_a_content_disposition(loop, tmp_path):
    path = make_file(tmp_path)
    resp = get(loop, file_app(path, filename="rapport été.bin"))
    assert resp.header("content-disposition") == "attachment; filename=\"rapport _t_.bin\"; filename*=UTF-8''rapport%20%C3%A9t%C3%A9.bin"


@pytest.mark.parametrize("sendfile", [True, False], ids=["sendfile", "copy"])
def test_a_5_mb_file_whole_and_by_ranges(loop, tmp_path, sendfile):
    data = os.urandom(64 * 1024) * 80  # 5 MiB
    path = make_file(tmp_path, "big.bin", data)
    whole, middle, several = exchange(
        loop,
        file_app(path),
        ("GET", "/f", []),
        ("GET", "/f", [("Range", "bytes=1000000-3999999")]),
        ("GET", "/f", [("Range", "bytes=0-99999,2500000-2600000,-70000")]),
        sendfile=sendfile,
    )
    assert whole.status == 200 and whole.body == data
    assert middle.status == 206 and middle.body == data[1000000:4000000]
    parts = parse_byteranges(several.header("content-type"), several.body)
    assert [p[1] for p in parts] == [data[:100000], data[2500000:2600001], data[-70000:]]


def test_ranges_over_tls_are_read_from_the_file(loop, tls, tmp_path):
    # Under TLS there is no sendfile: the spans are read and written in chunks.
    path = make_file(tmp_path, "page.txt", DATA)

    async def scenario():
        async with serving(file_app(path, chunk_size=100), certfile=tls.cert_file, keyfile=tls.key_file) as server:
            client = await Client.connect(server, ssl_context=tls.client_context(), server_hostname="localhost")
            try:
                single = await client.request("GET", "/f", headers=[("Range", "bytes=100-349")])
                several = await client.request("GET", "/f", headers=[("Range", "bytes=0-0,1000-")])
                return single, several
            finally:
                await client.close()

    single, several = run(loop, scenario())
    assert single.status == 206 and single.body == DATA[100:350]
    assert [p[1] for p in parse_byteranges(several.header("content-type"), several.body)] == [DATA[:1], DATA[1000:]]


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
