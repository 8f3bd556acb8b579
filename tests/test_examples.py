"""The seed examples in ``examples/`` (issue 4, bullet 7): each one runs and answers as its seed
program does.

Examples about an app run in process through ``fasthttp.testing.TestClient``; the ones about
serving (degu's embedded server, uHTTP's HTTP/HTTPS pair) run real servers: in a child process
on port 0, or on the test's loop (asyncio and uvloop) with TLS certificates from trustme.
"""

from __future__ import annotations

import http.client
import importlib
import json
import os
import pathlib
import subprocess
import sys

import pytest

from fasthttp import start_server
from fasthttp.testing import TestClient, WebSocketDenied

from helpers_server import Client, ipv6_available, run, serving

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"

# NOTE: the examples live beside tests/ in the source tree; a run against an installed wheel
# (wheels/suite.py copies tests/ alone) has none to run.
pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="examples/ is not beside tests/ (installed-wheel run)")


@pytest.fixture
def examples(monkeypatch):
    """Import an example module by name (examples/ is put on sys.path)."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    return importlib.import_module


# -- circuits.http ---------------------------------------------------------------------------------


def test_circuits_hello_world_serves_its_resource_on_localhost(examples):
    app = examples("circuits_hello_world").app
    with TestClient(app, base_url="http://localhost:8090") as client:
        resp = client.get("/")
        head = client.head("/")
        other_host = client.get("/", headers={"Host": "example.com"})
        refused = client.get("/", headers={"Accept": "application/json"})
        wrong_method = client.post("/", data=b"")
    assert (resp.status, resp.text, resp.headers["content-type"]) == (200, "Hello World!", "text/plain; charset=utf-8")
    assert head.status == 200 and head.body == b"" and head.headers["content-length"] == "12"
    assert other_host.status == 404
    assert refused.status == 406
    assert wrong_method.status == 405 and wrong_method.headers["allow"] == "GET, HEAD, OPTIONS"


# -- picohttp --------------------------------------------------------------------------------------


def test_picohttp_words_answers_its_words_and_404_otherwise(examples):
    app = examples("picohttp_words").app
    with TestClient(app) as client:
        hello = client.get("/hello")
        goodbye = client.get("/goodbye")
        unknown = client.get("/whatever")
        deeper = client.get("/a/b")
    assert (hello.status, hello.text) == (200, "Hello world!")
    assert goodbye.text == "Goodbye cruel world"
    assert (unknown.status, unknown.text) == (404, "I don't know what to say")
    assert (deeper.status, deeper.text) == (404, "I don't know what to say")


def test_picohttp_rest_store_creates_updates_and_deletes_items_in_a_json_file(examples, tmp_path):
    store = examples("picohttp_rest_store")
    data_file = tmp_path / "test.json"
    with TestClient(store.create_app(data_file)) as client:
        assert client.get("/").json() == {}
        assert client.put("/item1", data="first value").status == 204
        assert client.put("/item2", data="second").status == 204
        assert client.put("/item1", data="updated").status == 204
        assert client.get("/item1").text == "updated"
        assert client.get("/").json() == {"item1": "updated", "item2": "second"}
        assert json.loads(data_file.read_text()) == {"item1": "updated", "item2": "second"}
        assert client.delete("/item2").status == 204
        assert client.delete("/item2").status == 404
        assert client.get("/item2").status == 404
        assert client.put("/", data="no name").status == 400
        assert client.post("/item1", data="x").status == 405
    assert json.loads(data_file.read_text()) == {"item1": "updated"}
    # A new server on the same file finds the items.
    with TestClient(store.create_app(data_file)) as client:
        assert client.get("/item1").text == "updated"


# -- degu ------------------------------------------------------------------------------------------


def _get(address, path="/", method="GET", conn=None):
    own = conn is None
    if own:
        conn = http.client.HTTPConnection(address[0], address[1], timeout=5)
    conn.request(method, path)
    resp = conn.getresponse()
    body = resp.read()
    if own:
        conn.close()
    return resp, body


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_degu_hello_world_runs_in_its_own_process_on_port_0(examples, family):
    if family == "ipv6" and not ipv6_available():
        pytest.skip("no IPv6 loopback")
    examples("degu_hello_world")  # importable by name in the child (spawn)
    bind = ("127.0.0.1", 0) if family == "ipv4" else ("::1", 0, 0, 0)
    process, addresses = start_server("degu_hello_world:app", bind)
    try:
        address = addresses[0]
        assert address[1] != 0 and len(address) == len(bind)
        resp, body = _get(address, "/any/path")
        assert (resp.status, body, resp.getheader("content-type")) == (200, b"hello, world", "text/plain")
        resp, body = _get(address, "/", "HEAD")
        assert (resp.status, body, resp.getheader("content-length")) == (200, b"", "12")
        resp, _ = _get(address, "/", "POST")
        assert resp.status == 405 and resp.getheader("allow") == "GET, HEAD, OPTIONS"
        conn = http.client.HTTPConnection(address[0], address[1], timeout=5)
        first = _get(address, "/session", conn=conn)[1]
        second = _get(address, "/session", conn=conn)[1]
        conn.close()
        assert first == b"request 1 on this connection (accepted: True)"
        assert second.startswith(b"request 2 on this connection")
    finally:
        process.terminate()
        process.join(10)
    assert process.exitcode == 0


def test_degu_example_script_starts_requests_and_stops_its_server():
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "degu_hello_world.py")],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, PYTHONWARNINGS="error"),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "b'hello, world'"


# -- uHTTP -----------------------------------------------------------------------------------------


def test_uhttp_server_answers_html_json_and_not_found(examples):
    app = examples("uhttp_server").app
    with TestClient(app) as client:
        html = client.get("/")
        rpc = client.get("/rpc?name=value&other=1", headers={"X-Custom": "yes"})
        missing = client.get("/nothing/here")
    assert html.text == "<h1>hello</h1><p>uHTTP</p>" and html.headers["content-type"] == "text/html; charset=utf-8"
    data = rpc.json()
    assert data["message"] == "hello" and data["success"] is True
    assert data["query"] == {"name": "value", "other": "1"} and data["headers"]["x-custom"] == "yes"
    assert (missing.status, missing.text) == (404, "Not found")


def test_uhttp_server_enforces_its_limits(examples):
    app = examples("uhttp_server").app
    with TestClient(app) as client:
        big_head = client.get("/", headers={"X-Big": "x" * 5000})
    with TestClient(app) as client:
        big_body = client.post("/rpc", data=b"x" * (512 * 1024 + 1))
    assert big_head.status == 431
    assert big_body.status == 413


def test_uhttp_https_redirect_pair(examples, loop, tls):  # noqa: F811
    pair = examples("uhttp_https_redirect")

    async def scenario():
        async with serving(pair.secure_app(), certfile=tls.cert_file, keyfile=tls.key_file) as secure:
            https_port = secure.addresses[0][1]
            async with serving(pair.redirect_app(https_port)) as plain:
                http_port = plain.addresses[0][1]
                client = await Client.connect(plain)
                resp = await client.request("GET", "/page?x=1", headers=[("Host", f"localhost:{http_port}")])
                assert resp.status == 301
                assert resp.header("location") == f"https://localhost:{https_port}/page?x=1"
                resp = await client.request("POST", "/form", body=b"a=1", headers=[("Host", "localhost")])
                assert resp.status == 301 and resp.header("location") == f"https://localhost:{https_port}/form"
                await client.close()
            client = await Client.connect(secure, ssl_context=tls.client_context(), server_hostname="localhost")
            resp = await client.request("GET", "/page?x=1")
            assert json.loads(resp.body) == {"message": "Secure content", "path": "/page"}
            assert resp.header("strict-transport-security").startswith("max-age=")
            await client.close()

    run(loop, scenario())


def test_uhttp_redirect_can_name_one_canonical_host(examples):
    pair = examples("uhttp_https_redirect")
    with TestClient(pair.redirect_app(443, canonical_host="example.com")) as client:
        resp = client.get("/x", headers={"Host": "evil.test"})
    assert resp.status == 301 and resp.headers["location"] == "https://example.com/x"


# -- uHTTP on the poll-driven server ------------------------------------------------------------------


class _Looping:
    """Run an example's own select loop in a thread until the block ends (the test's code has no
    asyncio; the clients are plain http.client connections)."""

    def __init__(self, target, *args, **kwargs):
        import threading

        self._stop = threading.Event()
        self._thread = threading.Thread(target=target, args=args, kwargs={**kwargs, "running": lambda: not self._stop.is_set()})

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)


def test_uhttp_poll_server_answers_html_json_later_camera_and_not_found(examples):
    mod = examples("uhttp_poll_server")
    from fasthttp.poll import PollServer

    with PollServer("127.0.0.1", 0, **mod.LIMITS) as server, _Looping(mod.serve, server, mod.Handler(delay=0.05, frame_interval=0.01, frames=3)):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", "/")
        resp = conn.getresponse()
        assert (resp.status, resp.read(), resp.getheader("content-type")) == (200, b"<h1>hello</h1><p>uHTTP</p>", "text/html; charset=utf-8")
        conn.request("POST", "/rpc?name=value", body=b'{"n": 1}', headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = json.loads(resp.read())
        assert data["query"] == {"name": "value"} and data["body"] == {"n": 1} and data["success"] is True
        conn.request("GET", "/later")
        assert json.loads(conn.getresponse().read()) == {"message": "sorry for the wait"}
        conn.request("GET", "/nothing")
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (404, b"Not found")
        conn.request("GET", "/", headers={"X-Big": "x" * 5000})
        resp = conn.getresponse()
        assert resp.status == 431
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", "/camera")
        resp = conn.getresponse()
        body = resp.read()
        assert resp.getheader("content-type").startswith("multipart/x-mixed-replace; boundary=")
        assert body.count(b"Content-Type: image/jpeg") == 3 and body.endswith(b"--\r\n")
        conn.close()


def test_uhttp_poll_https_redirect_pair_in_one_select_loop(examples, tls):
    pair = examples("uhttp_poll_https_redirect")
    from fasthttp.listeners import make_ssl_context
    from fasthttp.poll import PollServer

    context = make_ssl_context(tls.cert_file, tls.key_file)
    with PollServer("127.0.0.1", 0) as plain, PollServer("127.0.0.1", 0, context) as secure, _Looping(pair.serve, plain, secure):
        conn = http.client.HTTPConnection("127.0.0.1", plain.port, timeout=10)
        conn.request("GET", "/page?x=1", headers={"Host": "localhost:8080"})
        resp = conn.getresponse()
        assert resp.status == 301 and resp.getheader("location") == f"https://localhost:{secure.port}/page?x=1"
        conn.close()
        sconn = http.client.HTTPSConnection("localhost", secure.port, timeout=10, context=tls.client_context())
        sconn.request("GET", "/page?x=1")
        resp = sconn.getresponse()
        assert json.loads(resp.read()) == {"message": "Secure content", "path": "/page"}
        assert resp.getheader("strict-transport-security").startswith("max-age=")
        sconn.close()
        wrong = http.client.HTTPConnection("127.0.0.1", secure.port, timeout=10)
        wrong.request("GET", "/")
        resp = wrong.getresponse()
        assert resp.status == 400 and b"https://" in resp.read()
        wrong.close()


# -- circuits.http's CONNECT: a forward proxy --------------------------------------------------------


def test_forward_proxy_tunnels_a_tls_client_to_allowed_ports_only(examples, tls):
    from fasthttp.testing import TempServer

    from helpers_engine import hello_app
    from helpers_tls import connect, read_head, read_response

    proxy_example = examples("forward_proxy")
    with TempServer(hello_app(), certfile=tls.cert_file, keyfile=tls.key_file) as site:
        port = site.address[1]
        with TempServer(proxy_example.create_app(frozenset({port}))) as proxy:
            with connect(proxy.address) as raw:
                raw.sendall(f"CONNECT localhost:{port} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n".encode())
                assert read_head(raw).startswith(b"HTTP/1.1 200")
                with tls.client_context().wrap_socket(raw, server_hostname="localhost") as sock:
                    sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    head, body = read_response(sock)
            assert head.startswith(b"HTTP/1.1 200") and body == b"hello"
            with connect(proxy.address) as raw:
                raw.sendall(b"CONNECT localhost:22 HTTP/1.1\r\nHost: localhost:22\r\n\r\n")
                assert read_response(raw)[0].startswith(b"HTTP/1.1 403")


# -- the Resource module ---------------------------------------------------------------------------


def test_resource_users_create_read_delete(examples, tmp_path):
    users = examples("resource_users")
    with TestClient(users.create_app(str(tmp_path))) as client:
        created = client.post("/user/ada", json={"name": "Ada Lovelace"})
        read = client.get("/user/ada")
        missing = client.get("/user/bob", headers={"Accept": "application/json"})
        not_json = client.post("/user/eve", data="name=Eve", headers={"Content-Type": "text/plain"})
        deleted = client.delete("/user/ada")
        gone = client.get("/user/ada")
    assert created.status == 201 and created.json() == {"username": "ada", "name": "Ada Lovelace"}
    assert read.json() == {"username": "ada", "name": "Ada Lovelace"}
    assert missing.status == 404
    assert missing.json()["error"]["detail"] == {"error": "no such user", "username": "bob"}
    assert not_json.status == 415
    assert deleted.status == 204 and gone.status == 404


def test_resource_users_uploads_stay_in_their_directory(examples, tmp_path):
    users = examples("resource_users")
    app = users.create_app(str(tmp_path / "up"))
    with TestClient(app) as client:
        stored = client.put("/file/notes.txt", data=b"some notes")
        climbing = client.put("/file/..", data=b"x")
        encoded = client.put("/file/..%2F..%2Fetc", data=b"x")
        too_big = client.put("/file/big.bin", data=b"x" * (5 * 1024 * 1024 + 1))
    assert stored.json() == {"name": "notes.txt", "size": 10}
    assert (tmp_path / "up" / "notes.txt").read_bytes() == b"some notes"
    assert climbing.status == 400
    assert encoded.status == 404  # a :name never holds a "/"
    assert too_big.status == 413
    assert sorted(p.name for p in (tmp_path / "up").iterdir()) == ["notes.txt"]
    with pytest.raises(ValueError):
        users.safe_join(str(tmp_path), "../x")


def test_resource_users_websocket_echo_is_the_modules_message_callback(examples, tmp_path):
    users = examples("resource_users")
    with TestClient(users.create_app(str(tmp_path))) as client:
        with client.websocket_connect("/ws") as ws:
            ws.send("hello")
            assert ws.receive() == "hello"
            ws.send(b"\x00\x01")
            assert ws.receive() == b"\x00\x01"
        refused = client.get("/ws")
    assert refused.status == 426


# -- websockets ------------------------------------------------------------------------------------


def test_chat_room_broadcasts_to_the_members_of_a_room(examples):
    chat = examples("chat_room")
    app = chat.create_app(allowed_origin="http://chat.example")
    with TestClient(app) as client:
        assert "<script>" in client.get("/").text
        with pytest.raises(WebSocketDenied) as nameless:
            client.websocket_connect("/rooms/lobby")
        assert nameless.value.response.status == 400
        with pytest.raises(WebSocketDenied) as foreign:
            client.websocket_connect("/rooms/lobby?name=eve", headers={"Origin": "http://evil.example"})
        assert foreign.value.response.status == 403
        with client.websocket_connect("/rooms/lobby?name=ada") as ada:
            assert ada.receive_json() == {"event": "join", "name": "ada"}
            with client.websocket_connect("/rooms/lobby?name=bob") as bob, client.websocket_connect("/rooms/other?name=cy") as cy:
                assert ada.receive_json() == {"event": "join", "name": "bob"}
                assert bob.receive_json() == {"event": "join", "name": "bob"}
                assert cy.receive_json() == {"event": "join", "name": "cy"}
                assert client.get("/rooms").json() == {"lobby": ["ada", "bob"], "other": ["cy"]}
                bob.send("hi all")
                assert ada.receive_json() == {"from": "bob", "text": "hi all"}
                assert bob.receive_json() == {"from": "bob", "text": "hi all"}
                cy.send("anyone?")
                assert cy.receive_json() == {"from": "cy", "text": "anyone?"}
            assert ada.receive_json() == {"event": "leave", "name": "bob"}
        assert client.get("/rooms").json() == {}


def test_chat_room_over_a_real_socket_with_the_websockets_library(examples, loop):
    websockets = pytest.importorskip("websockets")
    chat = examples("chat_room")

    async def scenario():
        async with serving(chat.create_app()) as server:
            host, port = server.addresses[0][:2]
            base = f"ws://{host}:{port}/rooms/lobby"
            async with websockets.connect(base + "?name=ada") as ada, websockets.connect(base + "?name=bob") as bob:
                assert json.loads(await ada.recv()) == {"event": "join", "name": "ada"}
                assert json.loads(await ada.recv()) == {"event": "join", "name": "bob"}
                assert json.loads(await bob.recv()) == {"event": "join", "name": "bob"}
                await ada.send("hello bob")
                assert json.loads(await bob.recv()) == {"from": "ada", "text": "hello bob"}

    run(loop, scenario())


def test_every_example_has_a_test_and_a_readme_entry():
    names = sorted(p.stem for p in EXAMPLES.glob("*.py"))
    readme = (EXAMPLES / "README.md").read_text()
    source = pathlib.Path(__file__).read_text()
    for name in names:
        assert f"`{name}.py`" in readme, name
        assert f'"{name}"' in source, name


# -- the seed clients ------------------------------------------------------------------------------


def _run_example(name: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py")],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, PYTHONWARNINGS="error"),
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()


def test_degu_client_keeps_one_connection_over_tcp_and_unix():
    lines = _run_example("degu_client")
    one = [
        "hello, world",
        "request 1 on this connection (accepted: True)",
        "request 2 on this connection (accepted: True)",
        "connections opened: 1",
    ]
    assert lines == one + one


def test_uhttp_client_calls_the_uhttp_server_example():
    assert _run_example("uhttp_client") == [
        "200 text/html; charset=utf-8: <h1>hello</h1><p>uHTTP</p>",
        "rpc: message=hello query={'x': '1'} x-test=yes",
        "missing: 404",
        "limited: ResponseTooLarge",
    ]


def test_resource_client_batches_against_the_resource_example():
    lines = _run_example("resource_client")
    assert lines[:2] == ["pending: 5", "created: [201, 201, 201, 201, 201]"]
    assert lines[2] == "GET /user/ada: 200 {'username': 'ada', 'name': 'Ada'}"
    assert lines[7].startswith("GET /user/nobody: 404") and lines[8] == "callbacks: 6"
