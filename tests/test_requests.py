"""``fasthttp.requests``: the lazy request view and its body decoders.

Unit tests build a :class:`Request` from a head parsed by the real parser, over a fake
connection and a fake body that mirror the engine's contracts (``helpers_requests``); end-to-end
tests drive a real :class:`fasthttp.App` over loopback on both event loops. Schema validation
(``Request.validated``) is tested in ``test_validation.py``.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import sys

import pytest

from fasthttp import App, HttpError
from fasthttp.errors import BadRequest, ContentTooLarge
from fasthttp.forms import FormData, FormLimits, UploadFile
from fasthttp.requests import check_body_size

from helpers_requests import call, header, make_request, served, status_of


MULTIPART = (
    b"--XyZ\r\n"
    b'Content-Disposition: form-data; name="title"\r\n\r\n'
    b"hello\r\n"
    b"--XyZ\r\n"
    b'Content-Disposition: form-data; name="upload"; filename="a.txt"\r\n'
    b"Content-Type: text/plain\r\n\r\n"
    b"file content\r\n"
    b"--XyZ--\r\n"
)
MULTIPART_TYPE = ("Content-Type", "multipart/form-data; boundary=XyZ")


def multipart_body(fields, boundary: str = "b0undary") -> bytes:
    out = []
    for name, value, filename in fields:
        disposition = f'Content-Disposition: form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out.append(f"--{boundary}\r\n{disposition}\r\n\r\n".encode() + value + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out)


# -- the head: lazy views ------------------------------------------------------------------------------


def test_nothing_is_decoded_until_asked():
    # A malformed Content-Type and cookie header cost nothing until a handler looks at them.
    request = make_request([("Content-Type", "not a type"), ("Cookie", "bad cookie")], b"x")
    assert request.path == "/" and request.method == "POST"
    with pytest.raises(HttpError) as info:
        _ = request.content_type
    assert info.value.status == 400


def test_route_params_default_to_an_empty_read_only_mapping():
    request = make_request(method="GET")
    assert dict(request.params) == {}
    with pytest.raises(TypeError):
        request.params["x"] = "1"  # type: ignore[index]
    request.params = {"id": 42}
    assert request.params["id"] == 42


def test_cookies_are_a_dict_first_wins_computed_once():
    request = make_request([("Cookie", 'sid=abc; theme="dark"; sid=other; bad value=1')], method="GET")
    assert request.cookies == {"sid": "abc", "theme": "dark"}
    assert request.cookies is request.cookies


def test_several_cookie_lines_are_read_as_one():
    request = make_request([("Cookie", "a=1"), ("Cookie", "b=2")], method="GET")
    assert request.cookies == {"a": "1", "b": "2"}


def test_no_cookie_header_means_no_cookies():
    assert make_request(method="GET").cookies == {}


def test_content_type_is_the_media_type_without_parameters():
    request = make_request([("Content-Type", "Text/HTML; Charset=UTF-8")], b"x")
    assert request.content_type == "text/html" and request.charset == "utf-8"


def test_no_content_type_is_none():
    request = make_request(body=b"x")
    assert request.content_type is None and request.charset is None


def test_a_repeated_content_type_is_a_400():
    request = make_request([("Content-Type", "text/plain"), ("Content-Type", "text/html")], b"x")
    with pytest.raises(HttpError) as info:
        _ = request.charset
    assert info.value.status == 400


def test_query_params_are_kept():
    assert make_request(method="GET", target="/?a=1&a=2").query_params.getall("a") == ["1", "2"]


# -- text ----------------------------------------------------------------------------------------------


def test_text_defaults_to_utf8():
    assert call(make_request([("Content-Type", "text/plain")], "héllo".encode()).text()) == "héllo"


def test_text_uses_the_charset_parameter():
    request = make_request([("Content-Type", "text/plain; charset=ISO-8859-1")], "héllo".encode("latin-1"))
    assert call(request.text()) == "héllo"


def test_text_that_does_not_decode_is_a_400():
    assert status_of(make_request([("Content-Type", "text/plain")], b"\xff\xfe\xfd").text()).status == 400


def test_text_in_an_unknown_charset_is_a_415():
    assert status_of(make_request([("Content-Type", "text/plain; charset=klingon")], b"x").text()).status == 415


def test_content_coded_bodies_are_a_415_with_accept_encoding():
    # RFC 9110 §15.5.16: nothing here decompresses; say that only identity is taken.
    request = make_request([("Content-Type", "application/json"), ("Content-Encoding", "gzip")], b"\x1f\x8b")
    error = status_of(request.json())
    assert error.status == 415 and header(error, "Accept-Encoding") == "identity"


def test_a_content_coding_on_a_later_field_line_is_seen_too():
    request = make_request([("Content-Encoding", "identity"), ("Content-Encoding", "br")], b"x")
    assert status_of(request.text()).status == 415


def test_identity_content_encoding_is_fine():
    request = make_request([("Content-Type", "text/plain"), ("Content-Encoding", "identity")], b"ok")
    assert call(request.text()) == "ok"


# -- json ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ctype", ["application/json", "application/json; charset=utf-8", "application/ld+json", None])
def test_json_accepts_json_types_and_unlabelled_content(ctype):
    headers = [("Content-Type", ctype)] if ctype else []
    assert call(make_request(headers, b'{"a": [1, 2]}').json()) == {"a": [1, 2]}


def test_json_of_another_media_type_is_a_415_listing_the_json_types():
    error = status_of(make_request([("Content-Type", "text/plain")], b"{}").json())
    assert error.status == 415
    assert header(error, "Accept") == "application/json, application/*+json"


def test_a_415_for_patch_also_says_accept_patch():
    error = status_of(make_request([("Content-Type", "text/plain")], b"{}", method="PATCH").json())
    assert header(error, "Accept-Patch") == "application/json, application/*+json"


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff", b"[" * 100_000], ids=["syntax", "empty", "bytes", "deep"])
def test_malformed_json_is_a_400(body):
    assert status_of(make_request([("Content-Type", "application/json")], body).json()).status == 400


def test_json_reads_a_body_arriving_in_pieces():
    assert call(make_request([("Content-Type", "application/json")], b'{"k": "' + b"v" * 1000 + b'"}', chunk=7).json()) == {"k": "v" * 1000}


# -- form ----------------------------------------------------------------------------------------------


def test_form_urlencoded():
    request = make_request([("Content-Type", "application/x-www-form-urlencoded")], b"a=1&b=x+y&a=%C3%A9")
    form = call(request.form())
    assert form.getall("a") == ["1", "é"] and form["b"] == "x y"


def test_form_multipart_with_a_file():
    request = make_request([MULTIPART_TYPE], MULTIPART, chunk=5)
    form = call(request.form())
    upload = form["upload"]
    assert form["title"] == "hello"
    assert isinstance(upload, UploadFile) and upload.filename == "a.txt" and upload.file.read() == b"file content"
    request.close()
    assert upload.closed


def test_form_is_cached():
    request = make_request([("Content-Type", "application/x-www-form-urlencoded")], b"a=1")

    async def twice():
        return await request.form(), await request.form()

    first, second = call(twice())
    assert first is second


def test_form_after_body_uses_the_body_already_read():
    request = make_request([MULTIPART_TYPE], MULTIPART, chunk=9)

    async def scenario():
        await request.body()
        return await request.form()

    assert call(scenario())["title"] == "hello"


def test_form_of_a_request_without_content_is_empty():
    assert call(make_request(method="GET").form()) == FormData()


def test_form_of_another_media_type_is_a_415_listing_the_form_types():
    error = status_of(make_request([("Content-Type", "application/json")], b"{}").form())
    assert error.status == 415
    assert header(error, "Accept") == "application/x-www-form-urlencoded, multipart/form-data"


def test_form_content_without_a_content_type_is_a_415():
    assert status_of(make_request(body=b"a=1").form()).status == 415


def test_multipart_without_a_boundary_is_a_400():
    error = status_of(make_request([("Content-Type", "multipart/form-data")], MULTIPART).form())
    assert error.status == 400 and isinstance(error, BadRequest)


def test_an_announced_urlencoded_body_past_the_memory_limit_is_refused_unread():
    request = make_request([("Content-Type", "application/x-www-form-urlencoded")], b"a=" + b"x" * 200)
    assert status_of(request.form(FormLimits(max_memory=100))).status == 413
    assert request.body_reader.reads == 0


def test_a_chunked_urlencoded_body_past_the_memory_limit_is_a_413():
    request = make_request([("Content-Type", "application/x-www-form-urlencoded")], b"a=" + b"x" * 200, chunk=50, chunked=True)
    assert status_of(request.form(FormLimits(max_memory=100))).status == 413


def test_a_chunked_urlencoded_body_within_the_limit():
    request = make_request([("Content-Type", "application/x-www-form-urlencoded")], b"a=1&b=2", chunk=3, chunked=True)
    assert call(request.form()).items() == [("a", "1"), ("b", "2")]


def test_an_announced_multipart_body_past_the_form_size_is_refused_unread():
    request = make_request([MULTIPART_TYPE], MULTIPART)
    assert status_of(request.form(FormLimits(max_size=len(MULTIPART) - 1))).status == 413
    assert request.body_reader.reads == 0


def test_the_request_body_limit_still_applies_to_forms():
    request = make_request([MULTIPART_TYPE], MULTIPART, chunk=10, max_body_size=50)
    assert status_of(request.form()).status == 413


def test_form_limits_apply():
    body = multipart_body([(f"f{i}", b"v", None) for i in range(3)])
    request = make_request([("Content-Type", "multipart/form-data; boundary=b0undary")], body)
    assert status_of(request.form(FormLimits(max_parts=2))).status == 413


def test_malformed_multipart_is_a_400():
    request = make_request([MULTIPART_TYPE], MULTIPART[:-12])
    assert status_of(request.form()).status == 400


# -- multipart streaming -------------------------------------------------------------------------------


def test_multipart_streams_parts():
    request = make_request([MULTIPART_TYPE], MULTIPART, chunk=4)

    async def scenario():
        out = []
        async for part in request.multipart():
            out.append((part.name, part.filename, b"".join([c async for c in part.stream()])))
        return out

    assert call(scenario()) == [("title", None, b"hello"), ("upload", "a.txt", b"file content")]


def test_multipart_after_form_is_an_error():
    request = make_request([MULTIPART_TYPE], MULTIPART)
    call(request.form())
    with pytest.raises(RuntimeError):
        request.multipart()
    request.close()


def test_multipart_of_another_media_type_is_a_415():
    with pytest.raises(HttpError) as info:
        make_request([("Content-Type", "application/x-www-form-urlencoded")], b"a=1").multipart()
    assert info.value.status == 415 and header(info.value, "Accept") == "multipart/form-data"


# -- xml -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ctype", ["application/xml", "text/xml; charset=utf-8", "application/atom+xml", None])
def test_xml_is_parsed_for_xml_types(ctype):
    headers = [("Content-Type", ctype)] if ctype else []
    root = call(make_request(headers, b'<?xml version="1.0"?><order id="7"><item>tea</item></order>').xml())
    assert root.tag == "order" and root.get("id") == "7" and root.find("item").text == "tea"


def test_xml_of_another_media_type_is_a_415():
    error = status_of(make_request([("Content-Type", "application/json")], b"<a/>").xml())
    assert error.status == 415 and header(error, "Accept") == "application/xml, text/xml, application/*+xml"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lolz>&lol4;</lolz>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<foo>&xxe;</foo>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE foo SYSTEM "http://example.invalid/evil.dtd">
<foo/>"""


@pytest.mark.parametrize(
    "body",
    [b"<a><b></a>", b"", b"not xml", BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD],
    ids=["mismatched", "empty", "text", "billion-laughs", "external-entity", "external-dtd"],
)
def test_malformed_or_hostile_xml_is_a_400(body):
    assert status_of(make_request([("Content-Type", "application/xml")], body).xml()).status == 400


# -- close ---------------------------------------------------------------------------------------------


def test_close_without_a_form_does_nothing_and_may_repeat():
    request = make_request(method="GET")
    request.close()
    request.close()


# -- end to end, over loopback -------------------------------------------------------------------------


def test_app_exposes_params_cookies_and_content_type(loop):
    app = App()

    @app.post("/users/:id")
    async def user(request):
        return {
            "params": dict(request.params),
            "cookies": request.cookies,
            "type": request.content_type,
            "charset": request.charset,
            "text": await request.text(),
        }

    async def scenario(client):
        return await client.request(
            "POST",
            "/users/42",
            headers=[("Cookie", "sid=abc; sid=zzz; lang=en"), ("Content-Type", "text/plain; charset=ISO-8859-1")],
            body="café".encode("latin-1"),
        )

    resp = served(loop, app, scenario)
    assert resp.status == 200, resp.body
    assert json.loads(resp.body) == {
        "params": {"id": "42"},
        "cookies": {"sid": "abc", "lang": "en"},
        "type": "text/plain",
        "charset": "iso-8859-1",
        "text": "café",
    }


def test_app_urlencoded_form_and_json(loop):
    app = App()

    @app.post("/form")
    async def form_route(request):
        data = await request.form()
        return {"a": data.getall("a"), "b": data["b"]}

    @app.post("/json")
    async def as_json(request):
        return await request.json()

    async def scenario(client):
        form = await client.request("POST", "/form", headers=[("Content-Type", "application/x-www-form-urlencoded")], body=b"a=1&a=2&b=%C3%A9")
        ok = await client.request("POST", "/json", headers=[("Content-Type", "application/json")], body=b"[1]")
        wrong = await client.request("POST", "/json", headers=[("Content-Type", "text/plain")], body=b"[1]")
        return form, ok, wrong

    form, ok, wrong = served(loop, app, scenario)
    assert json.loads(form.body) == {"a": ["1", "2"], "b": "é"}
    assert ok.body == b"[1]"
    assert wrong.status == 415 and wrong.header("accept") == "application/json, application/*+json"


def proc_fds_into(directory) -> list[str]:
    """The open file descriptors of this process whose file lives (or lived) in *directory*."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(directory)):
            found.append(target)
    return found


UPLOAD = os.urandom(5 * 1024 * 1024)
UPLOAD_BOUNDARY = "----WebKitFormBoundaryQ2wE3rT4yU5iO6pA"
UPLOAD_BODY = multipart_body([("note", b"five megabytes", None), ("file", UPLOAD, "big.bin")], UPLOAD_BOUNDARY)
assert b"\r\n--" + UPLOAD_BOUNDARY.encode() not in UPLOAD


def upload(client, target):
    return client.request(
        "POST", target, headers=[("Content-Type", f"multipart/form-data; boundary={UPLOAD_BOUNDARY}")], body=UPLOAD_BODY
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inspects /proc/self/fd")
def test_a_5mb_upload_is_spooled_to_disk_and_removed_once_the_response_is_sent(loop, tmp_path):
    app = App()
    seen = {}
    limits = FormLimits(spool_size=1 << 20, spool_dir=str(tmp_path))

    @app.post("/upload")
    async def receive(request):
        # No request.close() here: the engine releases the form once the response is sent.
        form = await request.form(limits)
        f = form["file"]
        seen["upload"] = f
        seen["in_memory"] = f.in_memory
        seen["fds"] = proc_fds_into(tmp_path)
        seen["listing"] = os.listdir(tmp_path)
        digest = hashlib.sha256(await f.read()).hexdigest()
        return {"note": form["note"], "size": f.size, "sha256": digest, "filename": f.filename}

    resp = served(loop, app, lambda client: upload(client, "/upload"), max_body_size=8 << 20)
    assert resp.status == 200, resp.body
    assert json.loads(resp.body) == {
        "note": "five megabytes",
        "size": len(UPLOAD),
        "sha256": hashlib.sha256(UPLOAD).hexdigest(),
        "filename": "big.bin",
    }
    assert seen["in_memory"] is False
    assert len(seen["fds"]) == 1 and seen["fds"][0].endswith("(deleted)")  # on disk, never named
    assert seen["listing"] == []
    assert seen["upload"].closed
    assert proc_fds_into(tmp_path) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inspects /proc/self/fd")
def test_a_spooled_file_is_released_even_if_the_request_is_never_closed(loop, tmp_path):
    app = App()
    limits = FormLimits(spool_size=1 << 20, spool_dir=str(tmp_path))

    @app.post("/upload")
    async def receive(request):
        form = await request.form(limits)
        return str(form["file"].size)

    resp = served(loop, app, lambda client: upload(client, "/upload"), max_body_size=8 << 20)
    assert resp.body == str(len(UPLOAD)).encode()
    gc.collect()
    assert proc_fds_into(tmp_path) == []


def test_a_5mb_upload_streamed_part_by_part(loop):
    app = App()

    @app.post("/stream")
    async def receive(request):
        out = {}
        async for part in request.multipart():
            digest = hashlib.sha256()
            pieces = 0
            async for chunk in part.stream():
                digest.update(chunk)
                pieces += 1
            out[part.name] = [part.filename, digest.hexdigest(), pieces]
        return out

    resp = served(loop, app, lambda client: upload(client, "/stream"), max_body_size=8 << 20)
    result = json.loads(resp.body)
    assert result["note"][:2] == [None, hashlib.sha256(b"five megabytes").hexdigest()]
    assert result["file"][:2] == ["big.bin", hashlib.sha256(UPLOAD).hexdigest()]
    assert result["file"][2] > 1  # passed on as it arrived, not buffered whole


def test_app_form_limits_and_malformed_bodies(loop):
    app = App()

    @app.post("/form")
    async def form(request):
        data = await request.form(FormLimits(max_parts=2))
        return str(len(data))

    ctype = ("Content-Type", "multipart/form-data; boundary=b0undary")

    async def scenario(client):
        ok = await client.request("POST", "/form", headers=[ctype], body=multipart_body([("a", b"1", None)]))
        many = await client.request("POST", "/form", headers=[ctype], body=multipart_body([(f"a{i}", b"1", None) for i in range(3)]))
        return ok, many

    ok, many = served(loop, app, scenario)
    assert ok.body == b"1" and many.status == 413

    async def malformed(client):
        return await client.request("POST", "/form", headers=[ctype], body=multipart_body([("a", b"1", None)])[:-6])

    assert served(loop, app, malformed).status == 400


# -- the body-size rule (fasthttp.requests.check_body_size) ----------------------------------------


@pytest.mark.parametrize("size, limit", [(10, 10), (0, 0), (None, 5), (10**12, None), (None, None)])
def test_sizes_within_the_limit_pass(size, limit):
    check_body_size(size, limit)


def test_a_size_past_the_limit_is_content_too_large():
    with pytest.raises(ContentTooLarge) as info:
        check_body_size(11, 10)
    assert info.value.status == 413
    assert info.value.detail == "Content Too Large"


def test_a_named_content_past_its_cap_says_what_and_how_much():
    with pytest.raises(ContentTooLarge, match="the form is larger than 10 bytes"):
        check_body_size(11, 10, "the form")


def test_extras_is_one_lazily_created_dict_per_request():
    first = make_request(method="GET")
    second = make_request(method="GET")
    first.extras["user"] = "alice"
    assert first.extras == {"user": "alice"}
    assert second.extras == {}


# -- background tasks ------------------------------------------------------------------------------


def test_background_tasks_run_after_the_response_is_sent():
    import asyncio
    import threading

    from fasthttp import App
    from fasthttp.responses import StreamingResponse
    from fasthttp.testing import TestClient

    done: list = []
    app = App()

    async def record(name, *, extra=None):
        done.append((name, extra))

    def blocking(name):
        done.append((name, threading.current_thread() is not threading.main_thread()))

    def fails():
        raise RuntimeError("boom")

    @app.get("/")
    def index(request):
        request.add_background_task(record, "a", extra=1)
        request.add_background_task(fails)
        request.add_background_task(blocking, "b")
        assert not done  # nothing ran before the response
        return "ok"

    @app.get("/stream")
    def stream(request):
        with pytest.raises(TypeError):
            request.add_background_task(42)
        request.add_background_task(record, "s")
        return StreamingResponse(iter([b"x"]))

    @app.get("/wait")
    async def wait(request):
        for _ in range(200):
            if len(done) >= 3:
                break
            await asyncio.sleep(0.01)
        return "waited"

    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.get("/").content == b"ok"
        c.get("/wait")
        assert done[0] == ("a", 1) and done[1] == ("b", True)  # in order, past the failure
        assert c.get("/stream").content == b"x"
        c.get("/wait")
        assert done[2] == ("s", None)
# -- the cookie session ------------------------------------------------------------------------------


def test_cookie_session_records_every_change():
    from fasthttp.requests import CookieSession

    changes = [
        lambda s: s.__setitem__("b", 2),
        lambda s: s.__delitem__("a"),
        lambda s: s.update(c=3),
        lambda s: s.setdefault("d", 4),
        lambda s: s.pop("a"),
        lambda s: s.popitem(),
        lambda s: s.clear(),
        lambda s: s.__ior__({"e": 5}),
    ]
    for change in changes:
        session = CookieSession({"a": 1}, new=False)
        assert not session.modified and not session.new
        change(session)
        assert session.modified
    untouched = CookieSession({"a": 1})
    untouched.setdefault("a", 9)
    untouched.pop("missing", None)
    assert not untouched.modified and untouched.new and untouched.session_id is None


def test_cookie_session_regenerate_drops_middleware_keys():
    from fasthttp.requests import CookieSession

    session = CookieSession({"user": "ann", "_csrf": "secret"}, new=False, session_id="old")
    session.regenerate()
    assert dict(session) == {"user": "ann"} and session.regenerated and session.modified


def test_cookie_session_without_sessions_is_a_clear_error():
    request = make_request()
    with pytest.raises(RuntimeError, match="needs the Sessions middleware"):
        request.cookie_session


def test_cookie_session_loader_runs_once():
    from fasthttp.requests import COOKIE_SESSION, CookieSession

    request = make_request()
    calls = []
    request.extras[COOKIE_SESSION] = lambda req: calls.append(req) or CookieSession({"n": 1})
    assert request.cookie_session == {"n": 1} and request.cookie_session is request.cookie_session
    assert calls == [request]


def test_a_shared_published_mapping_is_copied_on_first_use():
    # Request.published: what the App's quiet path sets to a read-only mapping shared by many
    # requests (fasthttp.middleware.stack.QuietForm); the request copies it into a dict of its
    # own on first use of extras, and never changes the shared one.
    from types import MappingProxyType

    from helpers_requests import make_request

    from fasthttp.requests import COOKIE_SESSION, CookieSession

    loaded = []

    def loader(req):
        loaded.append(req)
        return CookieSession({"user": "ann"}, new=False)

    shared = MappingProxyType({COOKIE_SESSION: loader, "user": None})
    first, second = make_request(method="GET"), make_request(method="GET")
    first.published = second.published = shared
    assert first.user is None and first.published is shared  # reading leaves it shared
    session = first.cookie_session
    assert session == {"user": "ann"} and loaded == [first]
    assert type(first.published) is dict and first.extras is first.published and first.extras[COOKIE_SESSION] is session
    assert dict(shared) == {COOKIE_SESSION: loader, "user": None} and second.published is shared
    second.extras["x"] = 1
    assert second.extras == {COOKIE_SESSION: loader, "user": None, "x": 1} and "x" not in shared
    assert make_request(method="GET").published is None


def test_body_returns_an_awaitable_that_every_asyncio_form_takes(loop):
    # Request.body() is a plain method handing over the body reader's coroutine (PERF, issue
    # 17): awaited directly, through ensure_future, wait_for and gather, twice (cached), and
    # for a request without content.
    import asyncio

    app = App()

    @app.post("/forms")
    async def forms(request):
        first = request.body()
        assert asyncio.iscoroutine(first)
        direct = await first
        task = await asyncio.ensure_future(request.body())
        waited = await asyncio.wait_for(request.body(), timeout=30)
        gathered = await asyncio.gather(request.body(), request.body())
        return {"same": [direct == x for x in (task, waited, *gathered)], "size": len(direct)}

    @app.get("/empty")
    async def empty(request):
        return {"body": (await request.body()).decode(), "gathered": [b.decode() for b in await asyncio.gather(request.body())]}

    async def scenario(client):
        posted = await client.request("POST", "/forms", body=b"x" * 5000)
        got = await client.request("GET", "/empty")
        return posted, got

    posted, got = served(loop, app, scenario)
    assert posted.status == 200, posted.body
    assert json.loads(posted.body) == {"same": [True] * 4, "size": 5000}
    assert json.loads(got.body) == {"body": "", "gathered": [""]}


_MODELS = ["py"] if __import__("fasthttp._compat", fromlist=["NO_EXTENSIONS"]).NO_EXTENSIONS else ["py", "c"]
_FIELDS = ("head", "connection", "body_reader", "received_at", "context", "params", "form_data", "published", "background")


@pytest.mark.parametrize("twin", _MODELS)
def test_new_request_makes_what_the_class_call_makes(twin):
    # fasthttp._model_py.request.new_request: what the compiled connection core makes each
    # request with (no type call, PERF issue 17): the same fields as the class's own call, on
    # either twin of the model, for a subclass adding no fields (as fasthttp.requests.Request).
    import importlib

    from fasthttp.parser import RequestParser

    model = importlib.import_module(f"fasthttp.{'_model_c' if twin == 'c' else '_model_py'}.request")

    class Sub(model.RequestBase):
        __slots__ = ()

        @property
        def limit(self):
            return self._max_body_size

    head = RequestParser().feed(b"GET /a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n")[0]
    made, called = model.new_request(Sub, head, "conn", 7), Sub(head, "conn", 7)
    assert type(made) is Sub
    assert [getattr(made, f) for f in _FIELDS] == [getattr(called, f) for f in _FIELDS]
    assert made.limit == called.limit == 7 and made.params is model.NO_PARAMS


@pytest.mark.parametrize("twin", _MODELS)
def test_request_fields_set_read_and_delete_alike_on_both_twins(twin):
    # The compiled twin's member descriptors (fasthttp/_model_c/request.pxd, install_members;
    # PERF issue 17) behave as the pure twin's __slots__: a field set is read back, a deleted
    # one raises AttributeError on the next read and can be set again.
    import importlib

    from fasthttp.parser import RequestParser

    model = importlib.import_module(f"fasthttp.{'_model_c' if twin == 'c' else '_model_py'}.request")

    class Sub(model.RequestBase):
        __slots__ = ()

    head = RequestParser().feed(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")[0]
    req = model.new_request(Sub, head, "conn", 7)
    assert req.head is head and req.connection == "conn" and req._max_body_size == 7
    for name in ("params", "published", "_max_body_size", "_query_params", "_cookies", "_media"):
        value = object()
        setattr(req, name, value)
        assert getattr(req, name) is value
        delattr(req, name)
        with pytest.raises(AttributeError):
            getattr(req, name)
        with pytest.raises(AttributeError):
            delattr(req, name)
        setattr(req, name, None)
        assert getattr(req, name) is None
    if twin == "c":
        # Read-only in the compiled twin: set once by init_request, and a deleted head would
        # leave the compiled core a NULL struct member to read.
        for name in ("head", "connection"):
            assert type(model.RequestBase.__dict__[name]).__name__ == "member_descriptor"
            with pytest.raises(AttributeError):
                setattr(req, name, None)
            with pytest.raises(AttributeError):
                delattr(req, name)
        assert req.head is head


@pytest.mark.skipif("c" not in _MODELS, reason="the compiled twin's descriptors")
def test_request_fields_the_compiled_core_reads_never_empty():
    # The fields the compiled connection core reads as struct members keep Cython's
    # descriptors: `del` stores None there, never an empty slot the core would dereference
    # (fasthttp/_model_c/request.pxd).
    from fasthttp._model_c import request as model
    from fasthttp.parser import RequestParser

    head = RequestParser().feed(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")[0]
    req = model.RequestBase(head, None, None)
    for name in ("body_reader", "context", "form_data", "background", "received_at"):
        assert type(model.RequestBase.__dict__[name]).__name__ == "getset_descriptor"
        setattr(req, name, 1)
        delattr(req, name)
        assert getattr(req, name) is None
