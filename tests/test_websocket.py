"""fasthttp.websocket: the opening handshake, the connection on wsproto, the handler's WebSocket,
limits, flow control, timers, the close handshake, and the engine around them (issue 12).

In-process tests go through ``TestClient.websocket_connect`` (the real engine over the in-memory
transport) on both loops; hostile bytes go in with ``send_raw``. Socket tests serve on 127.0.0.1
on both loops and talk to the server with the ``websockets`` library (a real client) or with a
raw client that sends frames exactly as written (``helpers_websocket``).
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import logging
import struct

import pytest
import websockets
from helpers_server import LOOPS, Client, build_request, run, serving
from helpers_websocket import BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT, RawWebSocket, close_payload, frame

from fasthttp import App, HttpError, Response
from fasthttp.accesslog import AccessLog
from fasthttp.config import Config
from fasthttp.resources import Resource, get, websocket
from fasthttp.server import Server
from fasthttp.testing import TestClient, WebSocketDenied
from fasthttp.websocket import (
    WebSocketDisconnect,
    WebSocketOpCode,
    accept_key,
    negotiate_deflate,
    parse_extensions,
)


@pytest.fixture(params=LOOPS)
def client_for(request):
    """``client_for(app, **options)``: a TestClient on each loop kind, closed after the test."""
    made = []

    def make(app, **options):
        client = TestClient(app, use_uvloop=request.param == "uvloop", timeout=5.0, **options)
        made.append(client)
        return client.__enter__()

    yield make
    for client in made:
        client.__exit__(None, None, None)


def echo_app(**options):
    app = App(**options)

    @app.websocket("/ws")
    async def echo(ws):
        await ws.accept()
        async for message in ws:
            await ws.send(message)

    return app


# -- the handshake (RFC 6455 §4.2) ---------------------------------------------------------------------


def test_accept_key_is_the_rfc_example():
    # RFC 6455 §1.3
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def handshake_fields(**changes):
    fields = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    for name, value in changes.items():
        name = name.replace("_", "-")
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    return fields


@pytest.mark.parametrize(
    "changes, status",
    [
        ({}, 101),
        ({"Connection": "keep-alive, Upgrade", "Upgrade": "WebSocket"}, 101),  # tokens, any case
        ({"Upgrade": None}, 426),
        ({"Connection": None}, 426),
        ({"Upgrade": "h2c"}, 426),
        ({"Sec_WebSocket_Version": "8"}, 426),
        ({"Sec_WebSocket_Version": None}, 426),
        ({"Sec_WebSocket_Key": None}, 400),
        ({"Sec_WebSocket_Key": "c2hvcnQ="}, 400),  # "short": not 16 bytes
        ({"Sec_WebSocket_Key": "not base64 at all!!!!!!!"}, 400),
        ({"Sec_WebSocket_Key": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="}, 400),  # 20 bytes
    ],
)
def test_handshake_validation(client_for, changes, status):
    client = client_for(echo_app())
    response = client.get("/ws", headers=handshake_fields(**changes))
    assert response.status == status
    if status == 101:
        assert response.headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        assert response.headers["upgrade"] == "websocket"
        assert response.headers["connection"].lower() == "upgrade"
        assert "content-length" not in response.headers
    if status == 426:
        # RFC 9110 §15.5.22 and RFC 6455 §4.4: what to upgrade to, and the version spoken.
        assert response.headers["upgrade"] == "websocket"
        assert response.headers["sec-websocket-version"] == "13"


def test_plain_get_to_a_websocket_route_is_426_and_other_methods_405(client_for):
    client = client_for(echo_app())
    assert client.get("/ws").status == 426
    post = client.post("/ws", data=b"x")
    assert post.status == 405 and "GET" in post.headers["allow"]


def test_http_1_0_and_a_handshake_with_content_are_400(client_for):
    client = client_for(echo_app())
    assert client.get("/ws", headers=handshake_fields(), version="1.0").status == 400
    with_body = client.request("GET", "/ws", headers=handshake_fields(), data=b"abc")
    assert with_body.status == 400


# -- the API ----------------------------------------------------------------------------------------


def test_echo_text_binary_and_json(client_for):
    app = App()

    @app.websocket("/ws")
    async def handler(ws):
        await ws.accept()
        assert await ws.receive_text() == "text"
        assert await ws.receive_bytes() == b"\x00\xff"
        value = await ws.receive_json()
        await ws.send_json({"got": value})
        await ws.send_json([1], binary=True)
        await ws.send_text("done")
        await ws.send_bytes(b"raw")

    client = client_for(app)
    with client.websocket_connect("/ws") as ws:
        ws.send("text")
        ws.send(b"\x00\xff")
        ws.send_json({"a": 1})
        assert ws.receive_json() == {"got": {"a": 1}}
        assert ws.receive_bytes() == b"[1]"
        assert ws.receive_text() == "done"
        assert ws.receive() == b"raw"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive()
    assert closed.value.code == 1000  # the handler returned: a normal closure


def test_async_for_ends_at_the_close_and_close_code_is_the_clients(client_for):
    seen = []
    codes = []
    app = App()

    @app.websocket("/ws")
    async def handler(ws):
        await ws.accept()
        async for message in ws:
            seen.append(message)
        codes.append((ws.close_code, ws.close_reason))

    client = client_for(app)
    with client.websocket_connect("/ws") as ws:
        ws.send("a")
        ws.send(b"b")
        ws.close(4001, "bye")
    assert seen == ["a", b"b"]
    assert codes == [(4001, "bye")]


def test_request_params_query_headers_cookies_session_and_client(client_for):
    app = App(on_connect=lambda transport, session: session.setdefault("user", "ada") == "ada")

    @app.websocket("/rooms/:room")
    async def handler(ws):
        req = ws.request
        await ws.accept()
        await ws.send_json(
            {
                "room": req.params["room"],
                "q": req.query_params.get("q"),
                "agent": req.headers.get("user-agent"),
                "cookie": req.cookies.get("sid"),
                "user": req.session["user"],
                "client": list(req.client),
            }
        )

    client = client_for(app)
    with client.websocket_connect("/rooms/lobby?q=1", headers={"User-Agent": "t"}, cookies={"sid": "42"}) as ws:
        assert ws.receive_json() == {
            "room": "lobby",
            "q": "1",
            "agent": "t",
            "cookie": "42",
            "user": "ada",
            "client": ["testclient", 50000],
        }


def test_subprotocol_negotiation_and_extra_101_headers(client_for):
    app = App()

    @app.websocket("/ws")
    async def handler(ws):
        assert ws.subprotocols == ["v2.chat", "v1.chat"]
        await ws.accept(subprotocol="v1.chat", headers=[("Set-Cookie", "seen=1")])
        await ws.send(ws.subprotocol)

    client = client_for(app)
    with client.websocket_connect("/ws", subprotocols=["v2.chat", "v1.chat"]) as ws:
        assert ws.subprotocol == "v1.chat"
        assert ws.response.headers["set-cookie"] == "seen=1"
        assert ws.receive() == "v1.chat"
    assert client.cookies["seen"][0] == "1"


def test_extra_101_headers_cannot_forge_the_handshake(client_for):
    # RFC 6455 §4.2.2: the handshake's own fields are the server's (a second Sec-WebSocket-Accept
    # fails the client's handshake; an extension not agreed would be a lie); a 1xx has no
    # Content-Length (RFC 9110 §8.6). A Sec-WebSocket-Protocol field is the subprotocol, checked.
    app = App()

    @app.websocket("/ws")
    async def handler(ws):
        forged = [
            ("Sec-WebSocket-Accept", "forged"),
            ("Upgrade", "h2c"),
            ("Connection", "close"),
            ("Sec-WebSocket-Extensions", "x-bogus"),
            ("Content-Length", "0"),
            ("Sec-WebSocket-Protocol", ws.request.query_params.get("p", "v1.chat")),
            ("X-Extra", "kept"),
        ]
        await ws.accept(headers=forged)
        await ws.send(ws.subprotocol)

    client = client_for(app)
    with client.websocket_connect("/ws", subprotocols=["v1.chat"], compress=False) as ws:
        assert ws.subprotocol == "v1.chat" and ws.receive() == "v1.chat"
        fields = [(k.lower(), v) for k, v in ws.response.headers.items()]
        assert [v for k, v in fields if k == "sec-websocket-accept"] != ["forged"]
        assert len([v for k, v in fields if k == "sec-websocket-accept"]) == 1
        assert [v for k, v in fields if k == "upgrade"] == ["websocket"]
        assert [v for k, v in fields if k == "connection"] == ["Upgrade"]
        assert not [k for k, v in fields if k in ("sec-websocket-extensions", "content-length")]
        assert ("x-extra", "kept") in fields
    with pytest.raises(WebSocketDenied) as refused:  # a subprotocol the client did not offer
        with client.websocket_connect("/ws?p=other", subprotocols=["v1.chat"]):
            pass
    assert refused.value.response.status == 500


def test_a_subprotocol_the_client_did_not_offer_is_a_500(client_for, caplog):
    app = App()

    @app.websocket("/ws")
    async def handler(ws):
        await ws.accept(subprotocol="other")

    client = client_for(app)
    with caplog.at_level(logging.ERROR, "fasthttp.error"), pytest.raises(WebSocketDenied) as denied:
        client.websocket_connect("/ws", subprotocols=["mine"])
    assert denied.value.response.status == 500
    assert "was not offered" in caplog.text


@pytest.mark.parametrize("how", ["return", "raise", "none", "close", "deny"])
def test_refusing_before_accept(client_for, how):
    app = App()

    @app.websocket("/ws")
    async def handler(ws):
        if ws.request.headers.get("origin") == "https://good.example":
            await ws.accept()
            await ws.send("welcome")
            return None
        if how == "return":
            return Response("bad origin", 403)
        if how == "raise":
            raise HttpError(401, "who are you", headers=[("WWW-Authenticate", "Bearer")])
        if how == "close":
            await ws.close()
            return None
        if how == "deny":
            ws.deny(Response("denied", 403))
            await asyncio.sleep(0)
        return None

    client = client_for(app)
    with pytest.raises(WebSocketDenied) as denied:
        client.websocket_connect("/ws", headers={"Origin": "https://evil.example"})
    response = denied.value.response
    if how == "raise":
        assert (response.status, response.text, response.headers["www-authenticate"]) == (401, "who are you", "Bearer")
    else:
        assert response.status == 403
        if how in ("return", "deny"):
            assert response.text == ("bad origin" if how == "return" else "denied")
    with client.websocket_connect("/ws", headers={"Origin": "https://good.example"}) as ws:
        assert ws.receive() == "welcome"


def test_an_exception_after_accept_closes_1011_and_is_logged(client_for, caplog):
    app = App()

    @app.websocket("/ws")
    async def handler(ws):
        await ws.accept()
        await ws.receive()
        raise RuntimeError("boom")

    client = client_for(app)
    with caplog.at_level(logging.ERROR, "fasthttp.error"):
        with client.websocket_connect("/ws") as ws:
            ws.send("x")
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive()
    assert closed.value.code == 1011
    assert "boom" in caplog.text and "error in websocket handler" in caplog.text


def test_receive_text_on_binary_closes_1003_and_bad_json_1007(client_for):
    app = App()

    @app.websocket("/text")
    async def text(ws):
        await ws.accept()
        await ws.receive_text()

    @app.websocket("/json")
    async def as_json(ws):
        await ws.accept()
        await ws.receive_json()

    client = client_for(app)
    for path, message, code in (("/text", b"bin", 1003), ("/json", "{not json", 1007)):
        with client.websocket_connect(path) as ws:
            ws.send(message)
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive()
            assert closed.value.code == code


def test_close_validates_its_code_and_reason(client_for):
    errors = []
    app = App()

    @app.websocket("/ws")
    async def handler(ws):
        await ws.accept()
        for code, reason in ((1005, ""), (1006, ""), (999, ""), (1000, "x" * 124)):
            try:
                await ws.close(code, reason)
            except ValueError as exc:
                errors.append(str(exc))
        await ws.close(3000, "app")

    client = client_for(app)
    with client.websocket_connect("/ws") as ws:
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive()
    assert len(errors) == 4
    assert (closed.value.code, closed.value.reason) == (3000, "app")


def test_send_after_the_client_closed_raises_disconnect(client_for):
    outcome = []
    app = App()

    @app.websocket("/ws")
    async def handler(ws):
        await ws.accept()
        with pytest.raises(WebSocketDisconnect):
            await ws.receive()
        try:
            await ws.send("late")
        except WebSocketDisconnect as exc:
            outcome.append(exc.code)

    client = client_for(app)
    with client.websocket_connect("/ws") as ws:
        ws.close(1001)
    assert outcome == [1001]


def test_receive_before_accept_is_an_error(client_for):
    app = App()

    @app.websocket("/ws")
    async def handler(ws):
        await ws.receive()

    client = client_for(app)
    with pytest.raises(WebSocketDenied) as denied:
        client.websocket_connect("/ws")
    assert denied.value.response.status == 500


# -- routing, middleware, resources ------------------------------------------------------------------


def test_host_routing_and_middleware_apply_to_websocket_routes(client_for):
    marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")
    app = App()

    @app.middleware
    async def token(request, call_next):
        if request.query_params.get("token") != "s3cret":
            return Response("no token", 401)
        marker.set("through middleware")
        return await call_next(request)

    @app.websocket("/ws", host="chat.example")
    async def chat(ws):
        await ws.accept()
        await ws.send(marker.get())

    client = client_for(app)
    with pytest.raises(WebSocketDenied) as denied:
        client.websocket_connect("http://chat.example/ws")
    assert denied.value.response.status == 401
    with pytest.raises(WebSocketDenied) as other_host:
        client.websocket_connect("http://other.example/ws?token=s3cret")
    assert other_host.value.response.status == 404
    with client.websocket_connect("http://chat.example/ws?token=s3cret") as ws:
        assert ws.receive() == "through middleware"


def test_websocket_routes_are_listed_and_mounted():
    sub = App()

    @sub.websocket("/feed/:id", name="feed")
    async def feed(ws):
        await ws.accept()
        await ws.send(ws.request.params["id"])

    app = App()
    app.mount("/api", sub)
    (route,) = app.routes()
    assert (route.pattern, route.methods, route.name) == ("/api/feed/:id", ("GET",), "feed")
    with TestClient(app) as client, client.websocket_connect("/api/feed/7") as ws:
        assert ws.receive() == "7"


class Chat(Resource):
    path = "/chat"

    def __init__(self):
        self.calls = []

    @get("/history")
    def history(self, request):
        return len(self.calls)

    @websocket("/ws")
    def callback(self, request, opcode, payload):
        # The HTTP/TCP module's message callback: OPEN, each message, CLOSE.
        self.calls.append((opcode, payload))
        if opcode == WebSocketOpCode.OPEN:
            return "hello " + request.params.get("room", "all")
        if opcode in (WebSocketOpCode.TEXT, WebSocketOpCode.BINARY):
            return payload
        return None

    @websocket("/room/:room", name="room")
    async def room(self, ws):
        await ws.accept()
        await ws.send("room " + ws.request.params["room"])


def test_resource_websocket_methods_both_styles(client_for):
    chat = Chat()
    app = App()
    added = app.add(chat)
    assert [r.pattern for r in added] == ["/chat/history", "/chat/ws", "/chat/room/:room"]
    client = client_for(app)
    with client.websocket_connect("/chat/ws") as ws:
        assert ws.receive() == "hello all"
        ws.send("ping")
        assert ws.receive() == "ping"
        ws.send(b"\x01")
        assert ws.receive() == b"\x01"
    assert chat.calls == [
        (WebSocketOpCode.OPEN, ""),
        (WebSocketOpCode.TEXT, "ping"),
        (WebSocketOpCode.BINARY, b"\x01"),
        (WebSocketOpCode.CLOSE, ""),
    ]
    with client.websocket_connect("/chat/room/blue") as ws:
        assert ws.receive() == "room blue"


def test_resource_websocket_decorator_takes_only_name():
    with pytest.raises(TypeError, match="only the name"):
        websocket("/ws", max_body_size=1)


# -- frames: fragmentation, UTF-8, protocol errors (RFC 6455 §5) ----------------------------------------


def recorder_app(**options):
    """An app whose /ws handler records every message and the close code."""
    app = App(**options)
    app.state.messages = []
    app.state.codes = []

    @app.websocket("/ws")
    async def record(ws):
        await ws.accept()
        async for message in ws:
            app.state.messages.append(message)
            await ws.send(message)
        app.state.codes.append(ws.close_code)

    return app


def expect_close(ws, code):
    with pytest.raises(WebSocketDisconnect) as closed:
        while True:
            ws.receive()
    assert closed.value.code == code, closed.value


def test_fragments_are_joined_and_pings_between_them_answered(client_for):
    app = recorder_app()
    client = client_for(app)
    with client.websocket_connect("/ws") as ws:
        # "κόσμε" split inside a two-byte character, with a ping between the fragments.
        text = "κόσμε".encode()
        ws.send_raw(frame(TEXT, text[:3], fin=False) + frame(PING, b"hi") + frame(CONTINUATION, text[3:7], fin=False))
        ws.send_raw(frame(CONTINUATION, text[7:]))
        ws.send_raw(frame(BINARY, b"ab", fin=False) + frame(CONTINUATION, b"", fin=False) + frame(CONTINUATION, b"cd"))
        assert ws.receive() == "κόσμε"
        assert ws.receive() == b"abcd"
    assert app.state.messages == ["κόσμε", b"abcd"]


@pytest.mark.parametrize(
    "data, code",
    [
        (frame(TEXT, b"unmasked", mask=False), 1002),  # RFC 6455 §5.1
        (frame(TEXT, b"x", rsv=4), 1002),  # RSV1 without an extension (§5.2)
        (frame(TEXT, b"x", rsv=1), 1002),  # RSV3
        (frame(0x3, b"x"), 1002),  # reserved non-control opcode
        (frame(0xB, b"x"), 1002),  # reserved control opcode
        (frame(PING, b"x" * 126), 1002),  # control frame over 125 bytes (§5.5)
        (frame(PING, b"x", fin=False), 1002),  # fragmented control frame
        (frame(CONTINUATION, b"x"), 1002),  # nothing to continue
        (frame(TEXT, b"a", fin=False) + frame(TEXT, b"b"), 1002),  # a new message inside one
        (frame(BINARY, b"", length=1 << 63), 1002),  # a length with the most significant bit set
        (frame(CLOSE, b"\x03"), 1002),  # a one-byte close payload
        (frame(CLOSE, close_payload(1005)), 1002),  # a code that is never sent
        (frame(CLOSE, close_payload(999)), 1002),
        (frame(CLOSE, close_payload(2000)), 1002),
        (frame(TEXT, b"\xff"), 1007),  # not UTF-8 (§8.1)
        (frame(TEXT, b"\xed\xa0\x80"), 1007),  # a surrogate
        (frame(CLOSE, close_payload(1000) + b"\xff"), 1007),  # a close reason that is not UTF-8
        # Invalid UTF-8 split across fragments, found before the message ends (fail fast).
        (frame(TEXT, "hello κ".encode()[:-1], fin=False) + frame(CONTINUATION, b"\x41", fin=False), 1007),
    ],
)
def test_protocol_errors_fail_the_connection(client_for, data, code):
    app = recorder_app()
    client = client_for(app)
    with client.websocket_connect("/ws") as ws:
        ws.send_raw(data)
        expect_close(ws, code)
    assert app.state.codes == [code]
    assert app.state.messages == []


# The same rules hold on both read paths: the wsframe kernel (no extension) and wsproto (with
# permessage-deflate agreed, where frames sent uncompressed are still legal, RFC 7692 §6).
@pytest.mark.parametrize("compress", [False, True], ids=["kernel", "wsproto"])
@pytest.mark.parametrize(
    "data, code",
    [
        (frame(TEXT, b"unmasked", mask=False), 1002),
        (frame(TEXT, b"x", rsv=2), 1002),  # RSV2: no extension defines it
        (frame(0x3, b"x"), 1002),
        (frame(PING, b"x" * 126), 1002),
        (frame(CONTINUATION, b"x"), 1002),
        (frame(BINARY, b"", length=1 << 63), 1002),
        (frame(CLOSE, close_payload(1004)), 1002),  # reserved (§7.4.1)
        (frame(CLOSE, close_payload(1015)), 1002),  # never on the wire (§7.4.1)
        (frame(TEXT, b"\xed\xa0\x80"), 1007),
        (frame(TEXT, "hello κ".encode()[:-1], fin=False) + frame(CONTINUATION, b"\x41", fin=False), 1007),
        (frame(BINARY, b"big" * 400), 1009),
        (frame(BINARY, b"a" * 900, fin=False) + frame(PING, b"p") + frame(CONTINUATION, b"a" * 900), 1009),
    ],
)
def test_both_read_paths_fail_alike_after_delivering_what_came_first(client_for, compress, data, code):
    app = recorder_app()
    client = client_for(app, ws_max_frame_size=1000, ws_max_message_size=1500)
    with client.websocket_connect("/ws", compress=compress) as ws:
        # Messages before the bad frame, in the same read, reach the handler first.
        ws.send_raw(frame(TEXT, b"first") + frame(PING, b"p") + data)
        expect_close(ws, code)  # the connection fails at once: the handler's echo is too late
    assert app.state.messages == ["first"]


@pytest.mark.parametrize("compress", [False, True], ids=["kernel", "wsproto"])
def test_both_read_paths_answer_pings_and_echo_closes_alike(client_for, compress):
    app = App()
    app.state.messages, app.state.codes = [], []

    @app.websocket("/ws")
    async def record(ws):  # reads only: the close arrives in the same read as the message
        await ws.accept()
        async for message in ws:
            app.state.messages.append(message)
        app.state.codes.append(ws.close_code)

    client = client_for(app)
    # NOTE: 1013, not 1014 (IANA-registered too, accepted by the kernel): wsproto, on the compressed
    # path and in the TestClient, does not know 1014.
    for payload, code in ((close_payload(1013, "κ"), 1013), (close_payload(3000), 3000), (b"", 1005)):
        with client.websocket_connect("/ws", compress=compress) as ws:
            ws.send_raw(frame(PING, b"ping") + frame(BINARY, b"\x00\x01") + frame(CLOSE, payload) + frame(TEXT, b"late"))
            expect_close(ws, code)
        assert app.state.codes[-1] == code
    assert app.state.messages == [b"\x00\x01"] * 3  # nothing after a close frame is read


def test_message_and_frame_limits_close_1009(client_for):
    app = recorder_app()
    client = client_for(app, ws_max_message_size=1000, ws_max_frame_size=600)
    with client.websocket_connect("/ws") as ws:
        ws.send(b"x" * 600)
        assert ws.receive() == b"x" * 600
        ws.send("é" * 300)  # 600 bytes of UTF-8
        assert ws.receive() == "é" * 300
        ws.send_raw(frame(BINARY, b"y" * 500, fin=False) + frame(CONTINUATION, b"y" * 500))
        assert ws.receive() == b"y" * 1000
        ws.send_raw(frame(BINARY, b"z" * 601))
        expect_close(ws, 1009)
    with client.websocket_connect("/ws") as ws:
        ws.send_raw(frame(TEXT, b"z" * 500, fin=False) + frame(CONTINUATION, b"z" * 501))
        expect_close(ws, 1009)
    with client.websocket_connect("/ws") as ws:
        # A huge declared length: refused once the limit is passed, never buffered whole.
        ws.send_raw(frame(BINARY, b"", length=1 << 40)[:10] + b"\x00\x00\x00\x00" + b"w" * 700)
        expect_close(ws, 1009)


def test_remote_close_is_echoed_with_its_code(client_for):
    app = recorder_app()
    client = client_for(app)
    with client.websocket_connect("/ws") as ws:
        ws.send_raw(frame(CLOSE, close_payload(4321, "done")))
        expect_close(ws, 4321)
    assert app.state.codes == [4321]
    with client.websocket_connect("/ws") as ws:
        ws.send_raw(frame(CLOSE, b""))  # no code: 1005 for the application, an empty echo
        with pytest.raises(WebSocketDisconnect):
            ws.receive()
    assert app.state.codes[-1] == 1005


# -- permessage-deflate (RFC 7692) ------------------------------------------------------------------------


def test_parse_extensions():
    assert parse_extensions(['permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits="10"', "x-other"]) == [
        ("permessage-deflate", [("client_max_window_bits", None)]),
        ("permessage-deflate", [("server_max_window_bits", "10")]),
        ("x-other", []),
    ]
    assert parse_extensions([""]) == []
    assert parse_extensions(["permessage-deflate; ="]) is None
    assert parse_extensions(["a b"]) is None


@pytest.mark.parametrize(
    "offer, answer",
    [
        ("permessage-deflate", "permessage-deflate"),
        ("permessage-deflate; client_max_window_bits", "permessage-deflate"),
        ("permessage-deflate; client_max_window_bits=10", "permessage-deflate; client_max_window_bits=10"),
        ("permessage-deflate; client_max_window_bits=8", "permessage-deflate; client_max_window_bits=8"),
        ("permessage-deflate; server_max_window_bits=12", "permessage-deflate; server_max_window_bits=12"),
        (
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        ),
        ('permessage-deflate; server_max_window_bits="9"', "permessage-deflate; server_max_window_bits=9"),
        # declined offers (RFC 7692 §7): the next acceptable one is taken, else none
        # zlib cannot deflate with 8: accepted, and the server sends uncompressed (RFC 7692 §6)
        ("permessage-deflate; server_max_window_bits=8", "permessage-deflate; server_max_window_bits=8"),
        ("permessage-deflate; server_max_window_bits", None),
        ("permessage-deflate; server_max_window_bits=16", None),
        ("permessage-deflate; server_max_window_bits=010", None),
        ("permessage-deflate; client_max_window_bits=7", None),
        ("permessage-deflate; server_no_context_takeover=1", None),
        ("permessage-deflate; unknown", None),
        ("permessage-deflate; client_no_context_takeover; client_no_context_takeover", None),
        ("permessage-deflate; unknown, permessage-deflate", "permessage-deflate"),
        ("x-webkit-deflate-frame", None),
    ],
)
def test_negotiate_deflate(offer, answer):
    agreed = negotiate_deflate([offer])
    assert (agreed[0] if agreed else None) == answer


def test_compressed_messages_fragmented_with_pings_between(client_for):
    app = recorder_app()
    client = client_for(app)
    with client.websocket_connect("/ws", compress=True) as ws:
        assert ws.extensions == "permessage-deflate"
        ws.send("hello " * 1000)
        assert ws.receive() == "hello " * 1000
        ws.send(b"\x00" * 100000)
        assert ws.receive() == b"\x00" * 100000
    # A compressed message in three fragments with a ping between them (RFC 6455 §5.4, RFC 7692
    # §6.1: RSV1 on the first fragment only).
    import zlib

    compressor = zlib.compressobj(wbits=-15)
    data = compressor.compress("fragmented κόσμε".encode() * 50) + compressor.flush(zlib.Z_SYNC_FLUSH)
    data = data[:-4]
    third = len(data) // 3
    with client.websocket_connect("/ws", compress=True) as ws:
        ws.send_raw(
            frame(TEXT, data[:third], fin=False, rsv=4)
            + frame(PING, b"p")
            + frame(CONTINUATION, data[third : 2 * third], fin=False)
            + frame(PONG, b"")
            + frame(CONTINUATION, data[2 * third :])
        )
        assert ws.receive() == "fragmented κόσμε" * 50
        ws.send_raw(frame(PING, b"p", rsv=4))  # a compressed control frame
        expect_close(ws, 1002)


def test_decompression_bomb_is_stopped_at_the_message_limit(client_for):
    import zlib

    app = recorder_app()
    client = client_for(app, ws_max_message_size=100_000)
    compressor = zlib.compressobj(wbits=-15)
    bomb = compressor.compress(b"\x00" * 50_000_000) + compressor.flush(zlib.Z_SYNC_FLUSH)
    bomb = bomb[:-4]
    assert len(bomb) < 60_000
    with client.websocket_connect("/ws", compress=True) as ws:
        ws.send_raw(frame(BINARY, bomb, rsv=4))
        expect_close(ws, 1009)
    assert app.state.messages == []


def test_compression_can_be_turned_off(client_for):
    client = client_for(echo_app(), ws_compression=False)
    with client.websocket_connect("/ws", compress=True) as ws:
        assert ws.extensions is None
        ws.send("plain")
        assert ws.receive() == "plain"


# -- config and CLI --------------------------------------------------------------------------------------


def test_config_validates_the_websocket_limits():
    for bad in (
        {"ws_close_timeout": 0},
        {"ws_max_queue": 0},
        {"ws_max_message_size": 0},
        {"ws_ping_interval": -1},
    ):
        with pytest.raises(ValueError):
            Config(**bad)
    cfg = Config(ws_ping_interval=None, ws_ping_timeout=None, ws_max_message_size=None)
    assert cfg.ws_max_frame_size == 16 << 20 and cfg.ws_compression


def test_cli_websocket_options():
    from fasthttp.cli import _options, build_parser

    args = build_parser().parse_args(
        ["m:app", "--ws-max-message-size", "64k", "--ws-max-frame-size", "none", "--ws-max-queue", "4",
         "--ws-ping-interval", "5", "--ws-ping-timeout", "none", "--ws-idle-timeout", "60",
         "--ws-close-timeout", "2", "--no-ws-compression"]
    )
    options = _options(args)
    assert options["ws_max_message_size"] == 65536 and options["ws_max_frame_size"] is None
    assert options["ws_max_queue"] == 4 and options["ws_ping_interval"] == 5.0
    assert options["ws_ping_timeout"] is None and options["ws_idle_timeout"] == 60.0
    assert options["ws_close_timeout"] == 2.0 and options["ws_compression"] is False
    Config(**{k: v for k, v in options.items() if k.startswith("ws_")})
    defaults = _options(build_parser().parse_args(["m:app"]))
    assert defaults["ws_max_message_size"] == Config().ws_max_message_size
    assert defaults["ws_compression"] is True and defaults["ws_ping_interval"] == Config().ws_ping_interval


# -- real sockets: the websockets library and raw peers -----------------------------------------------------


def url(server, path="/ws"):
    host, port = server.addresses[0][:2]
    return f"ws://{host}:{port}{path}"


@pytest.mark.parametrize("compression", ["deflate", None])
def test_the_websockets_library_talks_to_the_server(loop, compression):
    app = App()

    @app.websocket("/echo/:name")
    async def echo(ws):
        await ws.accept(subprotocol="chat")
        await ws.send("hi " + ws.request.params["name"])
        async for message in ws:
            await ws.send(message)

    async def scenario():
        async with serving(app) as server:
            async with websockets.connect(url(server, "/echo/ada"), subprotocols=["chat"], compression=compression) as ws:
                assert ws.subprotocol == "chat"
                assert (ws.response.headers.get("sec-websocket-extensions") is not None) == (compression is not None)
                assert await ws.recv() == "hi ada"
                for message in ("small", "κόσμε" * 10000, b"\x00\xff" * 40000, b""):
                    await ws.send(message)
                    assert await ws.recv() == message
                await ws.send(["frag", "mented"])  # a fragmented message
                assert await ws.recv() == "fragmented"
                pong = await ws.ping(b"data")
                await asyncio.wait_for(pong, 5)
            assert ws.close_code == 1000

    run(loop, scenario())


def test_the_websockets_library_over_tls(loop, tls):
    async def scenario():
        async with serving(echo_app(), certfile=tls.cert_file, keyfile=tls.key_file) as server:
            host, port = server.addresses[0][:2]
            async with websockets.connect(f"wss://localhost:{port}/ws", ssl=tls.client_context()) as ws:
                await ws.send("secure")
                assert await ws.recv() == "secure"

    run(loop, scenario())


def test_a_raw_peer_gets_pong_for_ping_and_errors_over_a_socket(loop):
    async def scenario():
        async with serving(recorder_app()) as server:
            raw = await RawWebSocket.connect(server)
            await raw.send(frame(PING, b"are you there"))
            pong = await raw.read_frame()
            assert (pong.opcode, pong.payload) == (PONG, b"are you there")
            await raw.send(frame(TEXT, b"x", mask=False))
            close = await raw.read_frame()
            assert close.opcode == CLOSE and close.close_code == 1002
            assert await raw.closed()
            await raw.close()

    run(loop, scenario())


def test_server_closes_the_tcp_connection_after_the_close_handshake(loop):
    async def scenario():
        async with serving(recorder_app()) as server:
            raw = await RawWebSocket.connect(server)
            await raw.send(frame(CLOSE, close_payload(1000, "bye")))
            echo = await raw.read_frame()
            assert echo.opcode == CLOSE and echo.close_code == 1000
            assert await raw.closed()  # RFC 6455 §7.1.1: the server closes first
            await raw.close()
            assert not server.manager.connections

    run(loop, scenario())


def test_a_peer_that_never_sends_close_is_dropped_after_the_close_timeout(loop):
    app = App()
    done = []

    @app.websocket("/ws")
    async def handler(ws):
        await ws.accept()
        await ws.close(1000, "go")
        done.append(ws.close_code)

    async def scenario():
        async with serving(app, ws_close_timeout=0.2) as server:
            raw = await RawWebSocket.connect(server)
            close = await raw.read_frame()
            assert close.close_code == 1000
            # never answer: the server drops the connection
            assert await raw.closed()
            await raw.close()
            for _ in range(100):
                if done:
                    break
                await asyncio.sleep(0.01)
            assert done == [1000]

    run(loop, scenario())


def test_a_peer_that_never_reads_blocks_send_and_is_dropped(loop):
    app = App()
    sent = []
    outcome = []

    @app.websocket("/ws")
    async def flood(ws):
        await ws.accept()
        try:
            while True:
                await ws.send(b"x" * 65536)
                sent.append(1)
        except WebSocketDisconnect as exc:
            outcome.append(exc.code)

    async def scenario():
        async with serving(app, write_high_water=65536, write_timeout=0.3) as server:
            raw = await RawWebSocket.connect(server)
            # Do not read. send() waits above the high-water mark, so the server holds a bounded
            # amount; after write_timeout the connection is dropped.
            for _ in range(500):
                if outcome:
                    break
                await asyncio.sleep(0.01)
            assert outcome == [1006]
            # What was written is bounded by the socket buffers and one high-water mark, not by
            # the time the peer stayed silent.
            assert len(sent) < 500
            await raw.close()

    run(loop, scenario())


@pytest.mark.parametrize("size", [1, 40_000])  # many small messages, or few over the byte bound
def test_a_full_receive_queue_pauses_reading(loop, size):
    app = App()
    release = asyncio.Event()
    received = []

    @app.websocket("/ws")
    async def slow(ws):
        await ws.accept()
        await release.wait()
        async for message in ws:
            received.append(message)
            if message == "last":
                await ws.send("got all")

    async def scenario():
        async with serving(app, ws_max_queue=4 if size == 1 else 100, read_high_water=65536) as server:
            raw = await RawWebSocket.connect(server)
            await raw.send(b"".join(frame(TEXT, str(i).encode() * size) for i in range(10)))
            conn = None
            for _ in range(200):
                conns = [c for c in server.manager.connections if hasattr(c, "ws")]
                if conns and not conns[0].transport.is_reading():
                    conn = conns[0]
                    break
                await asyncio.sleep(0.01)
            assert conn is not None, "reading never paused"
            release.set()
            await raw.send_text("last")
            reply = await raw.read_frame()
            assert reply.payload == b"got all"
            assert received == [str(i) * size for i in range(10)] + ["last"]
            await raw.close()

    run(loop, scenario())


def test_ping_interval_and_pong_timeout(loop):
    async def scenario():
        async with serving(echo_app(), ws_ping_interval=0.05, ws_ping_timeout=0.2) as server:
            # The websockets library answers pings: the connection stays up across several.
            async with websockets.connect(url(server), ping_interval=None) as ws:
                for _ in range(3):
                    await asyncio.sleep(0.1)
                    await ws.send("still here")
                    assert await ws.recv() == "still here"
            # A raw peer that never answers is closed with 1011.
            raw = await RawWebSocket.connect(server)
            ping = await raw.read_frame()
            assert ping.opcode == PING and len(ping.payload) == 4
            close = await raw.read_close()
            assert close.close_code == 1011
            assert await raw.closed()
            await raw.close()

    run(loop, scenario())


def test_idle_timeout_closes_1001(loop):
    async def scenario():
        async with serving(echo_app(), ws_idle_timeout=0.1, ws_ping_interval=None) as server:
            raw = await RawWebSocket.connect(server)
            close = await raw.read_close()
            assert close.close_code == 1001
            await raw.close()

    run(loop, scenario())


def test_graceful_shutdown_sends_1001_and_waits(loop):
    app = App()
    codes = []

    @app.websocket("/ws")
    async def handler(ws):
        await ws.accept()
        async for message in ws:
            await ws.send(message)
        codes.append(ws.close_code)

    async def scenario():
        server = Server(app, "127.0.0.1:0")
        await server.start()
        ws = await websockets.connect(url(server))
        await ws.send("before")
        assert await ws.recv() == "before"
        shutdown = asyncio.ensure_future(server.shutdown(timeout=5.0))
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()
        assert ws.close_code == 1001
        await shutdown
        assert codes == [1001]
        assert not server.manager.connections

    run(loop, scenario())


def test_websocket_connections_count_against_max_connections(loop):
    async def scenario():
        async with serving(echo_app(), max_connections=1) as server:
            async with websockets.connect(url(server)) as ws:
                await ws.send("x")
                assert await ws.recv() == "x"
                assert len(server.manager.connections) == 1
                other = await Client.connect(server)
                await other.send(build_request("GET", "/"))
                assert (await other.read_response()).status == 503
                await other.close()
            for _ in range(100):
                if not server.manager.connections:
                    break
                await asyncio.sleep(0.01)
            assert not server.manager.connections

    run(loop, scenario())


def test_access_log_records_the_101_with_the_connection_duration(loop):
    out = io.StringIO()

    async def scenario():
        async with serving(echo_app(), access_log=AccessLog(out, "%r %s %B %D")) as server:
            async with websockets.connect(url(server), compression=None) as ws:
                await ws.send("abc")
                assert await ws.recv() == "abc"
                # Twice the bound below: uvloop's timers run on a millisecond clock read at the
                # start of a loop turn, so a sleep may end up to a millisecond short of its
                # length in the access log's perf_counter time (CI: 49,989 µs for 0.05 s).
                await asyncio.sleep(0.1)
        return out.getvalue()

    text = run(loop, scenario())
    (line,) = [ln for ln in text.splitlines() if ln]
    request_line, status, sent, micros = line.rsplit(" ", 3)
    assert request_line == "GET /ws HTTP/1.1" and status == "101"
    assert int(sent) >= 5  # the echo frame and the close frame
    assert int(micros) >= 50_000  # the whole connection, not the handshake


def test_struct_helpers_sanity():
    # The raw frame builder declares 64-bit lengths as the RFC lays them out.
    data = frame(BINARY, b"", length=1 << 40, mask=False)
    assert data[1] == 127 and struct.unpack("!Q", data[2:10])[0] == 1 << 40


# -- the take-over's edges ----------------------------------------------------------------------------


def test_frames_sent_with_the_handshake_reach_the_handler(loop):
    from helpers_websocket import handshake

    async def scenario():
        async with serving(echo_app()) as server:
            client = await Client.connect(server)
            request, key = handshake("/ws")
            await client.send(request + frame(TEXT, b"early") + frame(BINARY, b"bird"))
            response = await client.read_head()
            assert response.status == 101 and response.header("sec-websocket-accept") == accept_key(key)
            raw = RawWebSocket(client, response)
            assert (await raw.read_frame()).payload == b"early"
            assert (await raw.read_frame()).payload == b"bird"
            await raw.close()

    run(loop, scenario())


def test_accept_fails_when_the_client_left_before_it(loop):
    app = App()
    gate = asyncio.Event()
    outcome = []

    @app.websocket("/ws")
    async def late(ws):
        await gate.wait()
        try:
            # NOTE: reading is paused after an upgrade request, so the server learns that the
            # client left only once the connection is a websocket: accept() may succeed, and the
            # first receive() then reports the drop.
            await ws.accept()
            await ws.receive()
        except WebSocketDisconnect as exc:
            outcome.append(exc.code)

    async def scenario():
        from helpers_websocket import handshake

        async with serving(app) as server:
            client = await Client.connect(server)
            await client.send(handshake("/ws")[0])
            await asyncio.sleep(0.05)
            await client.close()
            await asyncio.sleep(0.05)
            gate.set()
            for _ in range(200):
                if outcome:
                    break
                await asyncio.sleep(0.01)
            assert outcome == [1006]
            assert not server.manager.connections

    run(loop, scenario())


def test_accept_fails_when_a_middleware_replaces_the_upgrade(client_for):
    outcome = []
    app = App()

    @app.middleware
    async def veto(request, call_next):
        await call_next(request)
        return Response("vetoed", 409)

    @app.websocket("/ws")
    async def handler(ws):
        try:
            await ws.accept()
        except WebSocketDisconnect as exc:
            outcome.append(exc.code)

    client = client_for(app)
    with pytest.raises(WebSocketDenied) as denied:
        client.websocket_connect("/ws")
    assert denied.value.response.status == 409
    client._run(asyncio.sleep(0.01))
    assert outcome == [1006]


def test_server_max_window_bits_8_is_accepted_and_answered_uncompressed(loop):
    from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

    async def scenario():
        async with serving(echo_app()) as server:
            factory = ClientPerMessageDeflateFactory(server_max_window_bits=8, client_max_window_bits=True)
            async with websockets.connect(url(server), extensions=[factory], compression=None) as ws:
                assert ws.response.headers["sec-websocket-extensions"] == "permessage-deflate; server_max_window_bits=8"
                for message in ("abc" * 1000, b"\x00" * 100000):
                    await ws.send(message)
                    assert await ws.recv() == message

    run(loop, scenario())


@pytest.mark.parametrize("compress", [False, True])
def test_message_sizes_at_the_frame_length_boundaries(client_for, compress):
    # The server writes uncompressed frames itself (PERF) and compressed ones through wsproto:
    # both framings are read back by wsproto's client at every length encoding (RFC 6455 §5.2).
    client = client_for(echo_app())
    with client.websocket_connect("/ws", compress=compress) as ws:
        for n in (0, 1, 125, 126, 127, 65535, 65536, 70000):
            ws.send(b"\x07" * n)
            assert ws.receive() == b"\x07" * n
            text = ("é" * n)[: n // 2]
            ws.send(text)
            assert ws.receive() == text


@pytest.mark.parametrize(
    "params",
    [
        {"server_no_context_takeover": True},
        {"client_no_context_takeover": True},
        {"server_no_context_takeover": True, "client_no_context_takeover": True},
        {"server_max_window_bits": 9},
        {"server_max_window_bits": 12, "client_max_window_bits": 10},
        {"client_max_window_bits": 9},
    ],
)
def test_permessage_deflate_parameters_with_the_websockets_library(loop, params):
    from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

    async def scenario():
        async with serving(echo_app()) as server:
            factory = ClientPerMessageDeflateFactory(**params)
            async with websockets.connect(url(server), extensions=[factory], compression=None) as ws:
                agreed = ws.response.headers["sec-websocket-extensions"]
                for key, value in params.items():
                    assert (key if value is True else f"{key}={value}") in agreed
                # Several messages: context takeover (or not) carries across them (RFC 7692 §7.1.1).
                for i in range(5):
                    for message in (f"message {i} " * 200, bytes([i]) * 30000):
                        await ws.send(message)
                        assert await ws.recv() == message

    run(loop, scenario())


# -- Autobahn-style conformance matrix (issue 17 audit): the App and the ASGI adapter alike ---------------


async def asgi_echo(scope, receive, send):
    """A raw ASGI websocket echo: what the ASGI adapter's users write."""
    assert scope["type"] == "websocket"
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})


def conformance_target(kind, **options):
    if kind == "asgi":
        from fasthttp.asgi import AsgiApplication

        return AsgiApplication(asgi_echo, lifespan="off"), options
    return echo_app(), options


def deflated(data):
    """*data* as one permessage-deflate message payload (RFC 7692 §7.2.1: the trailing
    ``00 00 ff ff`` of a sync flush removed)."""
    import zlib

    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return (c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]


# Failures: (frames, close code, compress). Autobahn's case groups 3 (reserved bits), 4 (opcodes),
# 2 (pings), 5 (fragmentation), 6 (UTF-8), 7 (close), 12/13 (permessage-deflate).
CONFORMANCE_FAILURES = {
    **{f"reserved-opcode-{op:x}": (frame(op, b""), 1002, False) for op in (3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF)},
    "rsv2-with-deflate": (frame(TEXT, deflated(b"a"), rsv=6), 1002, True),
    "rsv1-on-a-control-frame": (frame(PING, deflated(b"x"), rsv=4), 1002, True),  # RFC 7692 §6.1
    "rsv1-on-a-continuation": (frame(TEXT, deflated(b"ab"), fin=False, rsv=4) + frame(CONTINUATION, b"", rsv=4), 1002, True),
    "corrupt-deflate-data": (frame(TEXT, b"\xff\xff\xff\xff garbage", rsv=4), 1007, True),
    "deflated-text-not-utf8": (frame(TEXT, deflated(b"\xff\xfe"), rsv=4), 1007, True),
    "utf8-fail-fast-first-fragment": (frame(TEXT, b"ab\xf4\x90\x80", fin=False), 1007, False),  # > U+10FFFF
    "utf8-fail-fast-with-deflate": (frame(TEXT, b"\xff", fin=False), 1007, True),
    "close-payload-126": (frame(CLOSE, close_payload(1000) + b"a" * 124), 1002, False),
    **{f"close-code-{code}": (frame(CLOSE, close_payload(code)), 1002, False) for code in (0, 1006, 1016, 1100, 2999, 5000, 65535)},
    "close-code-1005-with-deflate": (frame(CLOSE, close_payload(1005)), 1002, True),
    "continuation-without-start-with-deflate": (frame(CONTINUATION, b"x"), 1002, True),
}


@pytest.mark.parametrize("kind", ["app", "asgi"])
@pytest.mark.parametrize("name", list(CONFORMANCE_FAILURES))
def test_conformance_failures_close_with_their_code(client_for, kind, name):
    data, code, compress = CONFORMANCE_FAILURES[name]
    app, options = conformance_target(kind)
    client = client_for(app, **options)
    with client.websocket_connect("/ws", compress=compress) as ws:
        ws.send_raw(data)
        expect_close(ws, code)


@pytest.mark.parametrize("kind", ["app", "asgi"])
@pytest.mark.parametrize("compress", [False, True], ids=["plain", "deflate"])
def test_conformance_successes(client_for, kind, compress):
    app, options = conformance_target(kind)
    client = client_for(app, **options)
    with client.websocket_connect("/ws", compress=compress) as ws:
        # A valid 4-byte sequence split over three fragments (Autobahn 6.2.4).
        emoji = "\U0001f600".encode()
        ws.send_raw(frame(TEXT, emoji[:2], fin=False) + frame(CONTINUATION, emoji[2:3], fin=False) + frame(CONTINUATION, emoji[3:]))
        assert ws.receive() == "\U0001f600"
        # An unsolicited pong is ignored (RFC 6455 §5.5.3).
        ws.send_raw(frame(PONG, b"unasked") + frame(TEXT, b"after"))
        assert ws.receive() == "after"
        if compress:
            # A compressed message in fragments, with a ping between them (RFC 7692 §6.1).
            payload = deflated(b"hello world")
            ws.send_raw(frame(TEXT, payload[:3], fin=False, rsv=4) + frame(PING, b"z") + frame(CONTINUATION, payload[3:]))
            assert ws.receive() == "hello world"
    # NOTE: 1014 is over a socket below: the TestClient's wsproto does not know it.
    for code in (3000, 4999, 1013):
        with client.websocket_connect("/ws", compress=compress) as ws:
            ws.send_raw(frame(CLOSE, close_payload(code, "κ" * 61)))  # 124 bytes: the 125 limit
            expect_close(ws, code)


@pytest.mark.parametrize("kind", ["app", "asgi"])
def test_conformance_over_a_socket_pings_closes_and_the_tcp_close(loop, kind):
    # Over a real socket: a 125-byte ping's pong carries the exact payload (§5.5.3); an invalid
    # close is answered 1002, a valid one echoed; nothing follows the server's close frame, and
    # the server closes the TCP connection (§7.1.1).
    app, options = conformance_target(kind)

    async def scenario():
        async with serving(app, **options) as server:
            raw = await RawWebSocket.connect(server)
            await raw.send(frame(PING, bytes(range(125))))
            pong = await raw.read_frame()
            assert (pong.opcode, pong.payload) == (PONG, bytes(range(125)))
            await raw.send(frame(CLOSE, close_payload(1000)) + frame(TEXT, b"late") + frame(PING, b"late"))
            echo = await raw.read_frame()
            assert (echo.opcode, echo.close_code) == (CLOSE, 1000)
            assert await raw.client.reader.read() == b""  # nothing after the close frame, then EOF
            await raw.close()
            for code in (1004, 1016, 2999):
                raw = await RawWebSocket.connect(server)
                await raw.send(frame(CLOSE, close_payload(code)))
                close = await raw.read_frame()
                assert (close.opcode, close.close_code) == (CLOSE, 1002)
                assert await raw.closed()
                await raw.close()

    run(loop, scenario())


@pytest.mark.parametrize("compress", [False, True], ids=["kernel", "wsproto"])
def test_close_code_1014_is_echoed_on_both_read_paths(loop, compress):
    # RFC 6455 §7.4.2 defers to the IANA registry, which has 1014 (Bad Gateway). wsproto's reader
    # (the path of a connection with permessage-deflate) refused it with 1002 while the wsframe
    # kernel echoed it; both echo it now, and still refuse the unassigned 1016.
    headers = [("Sec-WebSocket-Extensions", "permessage-deflate")] if compress else None

    async def scenario():
        async with serving(echo_app()) as server:
            for code, answer in ((1014, 1014), (1016, 1002)):
                raw = await RawWebSocket.connect(server, headers=headers)
                assert (raw.response.header("sec-websocket-extensions") is not None) == compress
                await raw.send(frame(CLOSE, close_payload(code, "gateway")))
                close = await raw.read_frame()
                assert (close.opcode, close.close_code) == (CLOSE, answer)
                assert await raw.closed()
                await raw.close()
            raw = await RawWebSocket.connect(server, headers=headers)
            await raw.send(frame(CLOSE, close_payload(1014) + b"\xff"))  # reason not UTF-8 (§8.1)
            assert (await raw.read_frame()).close_code == 1007
            await raw.close()

    run(loop, scenario())
