"""fasthttp.testing: the in-process TestClient.

The client drives the real engine (parser, protocol, writer) through an in-memory transport, so
these tests state what a socket peer would see, and how the client builds requests, keeps its
connection and cookies, and runs the app's life cycle.
"""

from __future__ import annotations

import asyncio
import io

import os

import pytest

from fasthttp import App, HttpError, Response, StreamingResponse
from fasthttp.testing import IncompleteResponse, TestClient


def echo_app():
    app = App()

    @app.route("/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def echo(request):
        body = await request.body()
        return {
            "method": request.method,
            "target": request.target.decode(),
            "headers": request.headers.items(),
            "body": body.decode("latin-1"),
        }

    return app


def header(resp_json, name):
    return [v for k, v in resp_json["headers"] if k == name]


# -- requests ------------------------------------------------------------------------------------


def test_get_returns_status_headers_and_body():
    app = App()
    app.get("/")(lambda request: Response("héllo", headers={"X-Thing": "1"}))
    with TestClient(app) as client:
        resp = client.get("/")
    assert (resp.status, resp.reason, resp.version) == (200, "OK", "1.1")
    assert resp.headers["X-THING"] == "1" and resp.headers.get("x-thing") == "1"
    assert resp.body == "héllo".encode() and resp.text == "héllo"


def test_the_host_field_comes_from_the_base_url_or_an_absolute_url():
    with TestClient(echo_app(), base_url="http://example.org:8080") as client:
        assert header(client.get("/echo").json(), "host") == ["example.org:8080"]
        assert header(client.get("http://other.test/echo").json(), "host") == ["other.test"]
        assert header(client.get("/echo", headers={"Host": "given"}).json(), "host") == ["given"]


def test_params_are_appended_to_the_query():
    with TestClient(echo_app()) as client:
        data = client.get("/echo?a=1", params=[("b", "x y"), ("b", "2")]).json()
        plain = client.get("/echo", params={"q": "é"}).json()
    assert data["target"] == "/echo?a=1&b=x+y&b=2"
    assert plain["target"] == "/echo?q=%C3%A9"


def test_client_headers_are_sent_with_every_request_then_request_headers():
    with TestClient(echo_app(), headers={"User-Agent": "suite"}) as client:
        data = client.get("/echo", headers=[("X-A", "1"), ("X-A", "2")]).json()
    assert header(data, "user-agent") == ["suite"] and header(data, "x-a") == ["1", "2"]


@pytest.mark.parametrize(
    "kwargs, content_type, body",
    [
        ({"data": b"\x00raw"}, [], "\x00raw"),
        ({"data": "text é"}, ["text/plain; charset=utf-8"], "text é".encode().decode("latin-1")),
        ({"json": {"a": [1]}}, ["application/json"], '{"a":[1]}'),
        ({"form": {"a": "1 2", "b": "é"}}, ["application/x-www-form-urlencoded"], "a=1+2&b=%C3%A9"),
    ],
    ids=["bytes", "str", "json", "form"],
)
def test_bodies_are_encoded_with_their_content_type(kwargs, content_type, body):
    with TestClient(echo_app()) as client:
        data = client.post("/echo", **kwargs).json()
    assert header(data, "content-type") == content_type
    assert data["body"] == body and header(data, "content-length") == [str(len(body.encode("latin-1")))]


def test_files_are_sent_as_multipart_form_data():
    app = App()

    @app.post("/upload")
    async def upload(request):
        form = await request.form()
        files = {}
        for name in ("doc", "raw", "fileobj"):
            f = form[name]
            files[name] = [f.filename, f.content_type, (await f.read()).decode()]
        return {"title": form["title"], "files": files}

    with TestClient(app) as client:
        resp = client.post(
            "/upload",
            form={"title": 'a "quoted" title'},
            files={
                "doc": ("notes.txt", "some text", "text/plain"),
                "raw": b"bytes only",
                "fileobj": ("data.bin", io.BytesIO(b"from a file")),
            },
        )
    assert resp.json() == {
        "title": 'a "quoted" title',
        "files": {
            "doc": ["notes.txt", "text/plain", "some text"],
            "raw": ["raw", "application/octet-stream", "bytes only"],
            "fileobj": ["data.bin", "application/octet-stream", "from a file"],
        },
    }


def test_an_iterable_body_is_sent_chunked():
    with TestClient(echo_app()) as client:
        data = client.put("/echo", data=iter([b"ab", b"", b"cd"])).json()
    assert header(data, "transfer-encoding") == ["chunked"] and data["body"] == "abcd"


def test_only_one_kind_of_body_is_accepted():
    with TestClient(echo_app()) as client, pytest.raises(ValueError):
        client.post("/echo", data=b"x", json={})


def test_a_large_body_is_fed_under_flow_control():
    app = App(max_body_size=None)

    @app.post("/count")
    async def count(request):
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
            await asyncio.sleep(0)
        return str(total)

    with TestClient(app) as client:
        assert client.post("/count", data=b"x" * 3_000_000).text == "3000000"


def test_a_refused_body_returns_the_refusal_and_drops_the_connection():
    app = App(max_body_size=10)

    @app.post("/small")
    async def small(request):
        return await request.body()

    app.get("/session")(lambda request: str(id(request.session)))
    with TestClient(app) as client:
        before = client.get("/session").text
        assert client.post("/small", data=b"x" * 1_000_000).status == 413
        assert client.get("/session").text != before  # a new connection


# -- responses -------------------------------------------------------------------------------------


def test_head_and_204_responses_have_no_body():
    app = App()
    app.get("/")(lambda request: "twelve bytes")
    app.delete("/")(lambda request: None)
    with TestClient(app) as client:
        head = client.head("/")
        deleted = client.delete("/")
        after = client.get("/")
    assert head.body == b"" and head.headers["content-length"] == "12"
    assert deleted.status == 204 and deleted.body == b""
    assert after.text == "twelve bytes"


def test_a_chunked_response_and_its_trailers_are_read():
    app = App()

    @app.get("/stream")
    def stream(request):
        async def parts():
            for i in range(3):
                yield f"part{i};"

        return StreamingResponse(parts(), content_type="text/plain", trailers={"X-Parts": "3"})

    with TestClient(app) as client:
        resp = client.get("/stream", headers={"TE": "trailers"})
    assert resp.body == b"part0;part1;part2;" and resp.trailers.get("x-parts") == "3"


def test_a_close_delimited_response_is_read_to_the_end():
    app = App()
    app.get("/")(lambda request: StreamingResponse([b"one ", b"two"]))
    with TestClient(app) as client:
        resp = client.get("/", version="1.0")
    assert resp.version == "1.1" and resp.body == b"one two" and "content-length" not in resp.headers


def test_json_decodes_the_body():
    app = App()
    app.get("/")(lambda request: {"a": 1})
    with TestClient(app) as client:
        assert client.get("/").json() == {"a": 1}


# -- the connection --------------------------------------------------------------------------------


def test_requests_share_one_keep_alive_connection():
    app = App()

    @app.get("/count")
    def count(request):
        request.session["n"] = request.session.get("n", 0) + 1
        return str(request.session["n"])

    with TestClient(app) as client:
        assert [client.get("/count").text for _ in range(3)] == ["1", "2", "3"]


def test_a_new_connection_follows_connection_close():
    app = App()

    @app.get("/count")
    def count(request):
        request.session["n"] = request.session.get("n", 0) + 1
        return str(request.session["n"])

    with TestClient(app) as client:
        assert client.get("/count").text == "1"
        assert client.get("/count", headers={"Connection": "close"}).text == "2"
        assert client.get("/count").text == "1"


def test_expect_100_continue_sends_the_body_after_the_interim_response():
    app = App()

    @app.put("/up")
    async def up(request):
        return await request.body()

    @app.put("/refuse")
    def refuse(request):
        return Response("no", status=417)

    with TestClient(app) as client:
        ok = client.put("/up", data=b"data", headers={"Expect": "100-continue"})
        refused = client.put("/refuse", data=b"data", headers={"Expect": "100-continue"})
    assert (ok.interim, ok.body) == ([100], b"data")
    assert (refused.status, refused.interim) == (417, [])


def test_https_base_url_makes_the_request_secure_with_the_given_peer_certificate():
    app = App()
    app.get("/")(lambda request: {"secure": request.is_secure, "scheme": request.scheme, "cert": request.peercert})
    cert = {"subject": ((("commonName", "client"),),)}
    with TestClient(app, base_url="https://secure.test", peercert=cert) as client:
        data = client.get("/").json()
    assert data == {"secure": True, "scheme": "https", "cert": {"subject": [[["commonName", "client"]]]}}


def test_the_client_address_is_what_request_client_reports():
    app = App()
    app.get("/")(lambda request: str(request.client))
    with TestClient(app, client_address=("203.0.113.9", 4711)) as client:
        assert client.get("/").text == "('203.0.113.9', 4711)"


def test_a_refused_connection_is_an_incomplete_response():
    app = App(on_connect=lambda transport, session: False)
    app.get("/")(lambda request: "never")
    with TestClient(app) as client, pytest.raises(IncompleteResponse):
        client.get("/")


def test_a_request_that_never_gets_an_answer_times_out():
    app = App()

    @app.get("/hang")
    async def hang(request):
        await asyncio.Event().wait()

    with TestClient(app, timeout=0.2) as client, pytest.raises(asyncio.TimeoutError):
        client.get("/hang")


def test_a_plain_handler_callable_works_without_an_app():
    def handler(request):
        return f"{request.method} {request.path}"

    with TestClient(handler) as client:
        assert client.get("/any/path").text == "GET /any/path"


def test_server_options_reach_the_engine():
    app = App(max_body_size=4)
    app.post("/")(lambda request: "x")
    with TestClient(app) as client:
        assert client.post("/", data=b"12345").status == 413
    with TestClient(app, max_body_size=10) as client:
        assert client.post("/", data=b"12345").status == 200


# -- cookies ---------------------------------------------------------------------------------------


def cookie_app():
    app = App()

    @app.get("/set")
    def set_cookies(request):
        return Response(
            "set",
            headers=[
                ("Set-Cookie", "session=abc; Path=/; HttpOnly"),
                ("Set-Cookie", "scoped=1; Path=/admin"),
                ("Set-Cookie", "secure=1; Secure"),
            ],
        )

    @app.get("/clear")
    def clear(request):
        return Response("cleared", headers=[("Set-Cookie", "session=; Max-Age=0")])

    @app.get("/show")
    def show(request):
        return request.headers.get("cookie") or ""

    @app.get("/admin/show")
    def admin_show(request):
        return request.headers.get("cookie") or ""

    return app


def test_cookies_are_kept_and_sent_back_by_path_and_scheme():
    with TestClient(cookie_app()) as client:
        client.get("/set")
        assert client.get("/show").text == "session=abc"
        assert client.get("/admin/show").text == "session=abc; scoped=1"


def test_a_cookie_with_max_age_0_is_deleted():
    with TestClient(cookie_app()) as client:
        client.get("/set")
        client.get("/clear")
        assert "session" not in client.cookies
        assert client.get("/show").text == ""


def test_secure_cookies_go_only_to_https_and_cookies_may_be_given_per_request():
    with TestClient(cookie_app(), base_url="https://testserver") as client:
        client.get("/set")
        assert client.get("/show", cookies={"extra": "2"}).text == "session=abc; secure=1; extra=2"


# -- life cycle ------------------------------------------------------------------------------------


def test_the_with_block_runs_startup_and_shutdown_hooks():
    app = App()
    events = []
    app.on_startup(lambda: events.append("up"))
    app.on_shutdown(lambda: events.append("down"))
    app.get("/")(lambda request: ",".join(events))
    with TestClient(app) as client:
        assert client.get("/").text == "up"
    assert events == ["up", "down"]


def test_without_the_with_block_no_hook_runs_and_close_is_idempotent():
    app = App()
    events = []
    app.on_startup(lambda: events.append("up"))
    app.get("/")(lambda request: "ok")
    client = TestClient(app)
    assert client.get("/").text == "ok"
    client.close()
    client.close()
    assert events == []
    with pytest.raises(RuntimeError):
        client.get("/")


def test_the_client_refuses_to_run_inside_a_running_loop():
    app = App()
    app.get("/")(lambda request: "ok")
    client = TestClient(app)

    async def inside():
        with pytest.raises(RuntimeError, match="synchronous"):
            client.get("/")

    asyncio.run(inside())
    client.close()


def test_the_client_runs_on_uvloop_too():
    pytest.importorskip("uvloop")
    app = App()

    @app.get("/")
    async def loop_kind(request):
        return type(asyncio.get_running_loop()).__module__.split(".")[0]

    with TestClient(app, use_uvloop=True) as client:
        assert client.get("/").text == "uvloop"


def test_http_errors_from_handlers_reach_the_client():
    app = App()

    @app.get("/")
    def forbidden(request):
        raise HttpError(403, "no")

    with TestClient(app) as client:
        resp = client.get("/")
    assert (resp.status, resp.text) == (403, "no")


# -- websocket_connect ---------------------------------------------------------------------------------


def test_websocket_connect_session_sends_receives_and_closes():
    from fasthttp.testing import WebSocketDisconnect

    app = App()

    @app.websocket("/ws")
    async def handler(ws):
        await ws.accept(headers=[("Set-Cookie", "ws=1")])
        message = await ws.receive()
        await ws.send(message)
        await ws.close(4000, "done")

    with TestClient(app) as client:
        with client.websocket_connect("/ws") as ws:
            assert ws.response.status == 101 and ws.subprotocol is None and ws.extensions is None
            ws.send_json({"a": [1]})
            assert ws.receive_json() == {"a": [1]}
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive()
            assert (closed.value.code, ws.close_code, ws.close_reason) == (4000, 4000, "done")
            with pytest.raises(WebSocketDisconnect):
                ws.send("after the close")
        assert client.cookies["ws"][0] == "1"
        # A plain request on the same client still works (the websocket had its own connection).
        assert client.get("/ws").status == 426


def test_websocket_connect_raises_denied_with_the_response():
    from fasthttp.testing import WebSocketDenied

    app = App()

    @app.websocket("/ws")
    async def handler(ws):
        raise HttpError(403, "nope")

    with TestClient(app) as client:
        with pytest.raises(WebSocketDenied) as denied:
            client.websocket_connect("/ws")
        assert (denied.value.response.status, denied.value.response.text) == (403, "nope")
        with pytest.raises(WebSocketDenied) as missing:
            client.websocket_connect("/nowhere")
        assert missing.value.response.status == 404


def test_websocket_receive_is_bounded_in_time():
    app = App()

    @app.websocket("/ws")
    async def silent(ws):
        await ws.accept()
        await asyncio.sleep(3600)

    with TestClient(app) as client:
        ws = client.websocket_connect("/ws")
        with pytest.raises(asyncio.TimeoutError):
            ws.receive(timeout=0.05)


# -- handler exceptions (issue 11): raised in the test by default, as Starlette's TestClient ------


def _failing_app():
    app = App()

    @app.get("/sync")
    def sync(request):
        raise KeyError("the real cause")

    @app.get("/async")
    async def asynchronous(request):
        await asyncio.sleep(0)
        raise ZeroDivisionError("async cause")

    @app.get("/fine")
    def fine(request):
        return "ok"

    @app.get("/teapot")
    def teapot(request):
        raise HttpError(418)

    return app


def test_a_handler_exception_is_raised_from_the_request_by_default():
    # Before: a plain 500 came back and the test saw the status, not the exception.
    with TestClient(_failing_app()) as client:
        with pytest.raises(KeyError, match="the real cause"):
            client.get("/sync")
        with pytest.raises(ZeroDivisionError, match="async cause"):
            client.get("/async")
        assert client.get("/fine").text == "ok"  # the client goes on after a failure
        assert client.get("/teapot").status == 418  # an HttpError is an answer, not a failure


def test_a_bare_handler_callable_or_an_unsendable_result_is_raised_too():
    def handler(request):
        return object()  # the engine cannot send it

    with TestClient(handler) as client, pytest.raises(TypeError, match="a handler returned object"):
        client.get("/")


def test_raise_server_exceptions_false_gives_the_500(caplog):
    with TestClient(_failing_app(), raise_server_exceptions=False) as client:
        resp = client.get("/sync")
        assert resp.status == 500 and b"the real cause" not in resp.body
        assert client.get("/async").status == 500
    assert "the real cause" in caplog.text


def test_an_exception_handler_keeps_the_exception_out_of_the_test():
    app = _failing_app()

    @app.exception_handler(KeyError)
    def handled(request, exc):
        return Response("handled", 400)

    with TestClient(app) as client:
        assert (client.get("/sync").status, client.get("/sync").text) == (400, "handled")


# -- TempServer and TempPKI (degu's test helpers) ---------------------------------------------------


def _temp_app():
    from fasthttp import App

    app = App()

    @app.get("/")
    def index(request):
        return {"pid": os.getpid(), "secure": request.is_secure, "client_cert": request.peercert is not None}

    return app


def _get_json(url, context=None):
    import json
    import urllib.request

    with urllib.request.urlopen(url, timeout=10, context=context) as resp:
        return json.loads(resp.read())


def test_temp_server_in_a_thread_serves_for_the_block():
    from fasthttp.testing import TempServer

    with TempServer(_temp_app()) as server:
        assert server.url.startswith("http://127.0.0.1:") and server.address[1] != 0
        assert _get_json(server.url + "/") == {"pid": os.getpid(), "secure": False, "client_cert": False}
        address = server.address
    import socket

    with pytest.raises(OSError):
        socket.create_connection(address, timeout=2).close()  # gone after the block


def test_temp_server_in_a_process_with_tls_from_the_temp_pki():
    from fasthttp.testing import TempPKI, TempServer

    with TempPKI() as pki, TempServer(_temp_app(), process=True, certfile=pki.cert_file, keyfile=pki.key_file) as server:
        assert server.url.startswith("https://127.0.0.1:")
        data = _get_json(server.url.replace("127.0.0.1", "localhost") + "/", pki.client_context())
        assert data["secure"] is True and data["pid"] != os.getpid()


def test_temp_pki_verifies_client_certificates():
    import ssl

    from fasthttp.testing import TempPKI, TempServer

    with TempPKI("localhost") as pki:
        ctx = pki.server_context(client_cert="required")
        assert ctx.verify_mode == ssl.CERT_REQUIRED
        with TempServer(_temp_app(), ssl=ctx) as server:
            url = server.url.replace("127.0.0.1", "localhost") + "/"
            assert _get_json(url, pki.client_context(with_cert=True))["client_cert"] is True
            with pytest.raises(OSError):  # no client certificate: the handshake is refused
                _get_json(url, pki.client_context())
        files = [pki.ca_file, pki.cert_file, pki.key_file, pki.client_cert_file, pki.client_key_file]
        assert all(os.path.exists(f) for f in files)
    assert not any(os.path.exists(f) for f in files)
