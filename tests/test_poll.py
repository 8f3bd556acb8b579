"""The poll-driven server (``fasthttp.poll``, uHTTP's model): driven by a plain ``select`` loop
in the test itself, with no asyncio in the test's code. Run on both kernel paths (the suite runs
once with the compiled kernels and once with ``FASTHTTP_NO_EXTENSIONS=1``)."""

from __future__ import annotations

import http.client
import json
import os
import select
import socket
import ssl
import threading
import time

import pytest
from helpers_poll import LIMIT, RawClient, exchange, parse_response, pump

from fasthttp.errors import HttpError
from fasthttp.poll import PollRequest, PollServer
from fasthttp.responses import Response, StreamingResponse
from fasthttp.runners import start_in_thread

GET = b"GET /hello?x=1 HTTP/1.1\r\nHost: t\r\n\r\n"


@pytest.fixture(autouse=True)
def _close_clients():
    yield
    RawClient.close_all()


@pytest.fixture
def server():
    srv = PollServer("127.0.0.1", 0)
    yield srv
    srv.close()


def hello(req: PollRequest) -> None:
    req.respond({"path": req.path, "query": dict(req.query_params.items())})


def test_a_request_from_a_plain_select_loop(server):
    client = RawClient(server)
    client.send(GET)
    seen = []
    while not client.responses:
        readable, writable, _ = select.select(server.read_sockets + [client.sock], server.write_sockets, [], 0.05)
        req = server.process_events(readable, writable)
        if req is not None:
            seen.append(req)
            req.respond("hi", headers={"X-Seen": "1"})
        client.read()
    resp = client.responses[0]
    assert resp.status == 200 and resp.body == b"hi" and resp.header("x-seen") == "1"
    assert resp.header("content-type") == "text/plain; charset=utf-8"
    assert seen[0].method == "GET" and seen[0].path == "/hello" and seen[0].url == "/hello?x=1"
    assert seen[0].client[0] == "127.0.0.1" and not seen[0].is_secure


def test_keep_alive_carries_several_requests(server):
    client = RawClient(server)
    for n in range(3):
        client.send(GET)
        pump([server], lambda n=n: len(client.responses) > n, hello, [client])
    assert [json.loads(r.body)["query"] for r in client.responses] == [{"x": "1"}] * 3
    assert server.connections == 1


def test_wait_returns_requests_and_none_on_timeout(server):
    assert server.wait(0.01) is None
    results = []

    def get() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=LIMIT)
        conn.request("POST", "/items", body=b'{"a": 1}', headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        results.append((resp.status, resp.read()))
        conn.close()

    t = threading.Thread(target=get)
    t.start()
    deadline = time.monotonic() + LIMIT
    while not results and time.monotonic() < deadline:
        req = server.wait(0.1)
        if req is not None:
            assert req.data == b'{"a": 1}'
            req.respond(req.sync(req.json()), status=201)
    t.join(LIMIT)
    assert results == [(201, b'{"a":1}')]


def test_pipelined_requests_are_answered_in_order_even_when_delayed(server):
    client = RawClient(server)
    client.send(b"GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\nGET /3 HTTP/1.1\r\nHost: t\r\n\r\n")
    held: list[PollRequest] = []
    # The second request is not handed out while the first waits for its (delayed) answer.
    pump([server], lambda: len(held) == 1, held.append, [client])
    for _ in range(5):
        pump([server], lambda: True, held.append, [client])
    assert [r.path for r in held] == ["/1"]
    held[0].respond("one")
    pump([server], lambda: len(client.responses) == 3, lambda r: r.respond(r.path[1:] * 2), [client])
    assert [r.body for r in client.responses] == [b"one", b"22", b"33"]


def test_a_delayed_response_outlives_the_idle_and_header_deadlines():
    with PollServer("127.0.0.1", 0, keep_alive_timeout=0.05, header_timeout=0.05) as server:
        client = RawClient(server)
        client.send(GET)
        held: list[PollRequest] = []
        pump([server], lambda: bool(held), held.append, [client])
        start = time.monotonic()
        while time.monotonic() - start < 0.3:  # six times the deadlines: not a timing assertion
            pump([server], lambda: True, None, [client])
            time.sleep(0.01)
        assert not client.eof
        held[0].respond("late")
        pump([server], lambda: bool(client.responses), None, [client])
        assert client.responses[0].body == b"late"


def test_an_idle_connection_is_closed_after_keep_alive_timeout():
    with PollServer("127.0.0.1", 0, keep_alive_timeout=0.05) as server:
        client = RawClient(server)
        client.send(GET)
        pump([server], lambda: client.eof, hello, [client])
        assert len(client.responses) == 1 and server.connections == 0


def test_a_slow_head_gets_408():
    with PollServer("127.0.0.1", 0, header_timeout=0.05) as server:
        client = RawClient(server)
        client.send(b"GET / HTTP/1.1\r\nHost:")
        pump([server], lambda: client.eof, hello, [client])
        assert client.responses[0].status == 408
        assert client.responses[0].header("connection") == "close"


def test_bodies_content_length_and_chunked(server):
    def handler(req: PollRequest) -> None:
        req.respond({"data": req.data.decode(), "trailers": dict(req.trailers.items()) if req.trailers else None})

    _, (resp,) = exchange(server, b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello", handler)
    assert json.loads(resp.body) == {"data": "hello", "trailers": None}
    body = b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n"
    _, (resp,) = exchange(server, body, handler)
    assert json.loads(resp.body) == {"data": "abcde", "trailers": {"x-t": "1"}}


def test_expect_100_continue_is_answered_before_the_body(server):
    client = RawClient(server)
    client.send(b"PUT /f HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
    pump([server], lambda: bool(client.responses), hello, [client])
    assert client.responses[0].status == 100
    client.send(b"abc")
    pump([server], lambda: len(client.responses) == 2, lambda r: r.respond(r.data), [client])
    assert client.responses[1].body == b"abc"


def test_body_decoders_raise_the_framework_errors(server):
    def handler(req: PollRequest) -> None:
        try:
            req.sync(req.json())
        except HttpError as exc:
            req.respond_error(exc)

    _, (resp,) = exchange(server, b"POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\n{x}", handler)
    assert resp.status == 400
    _, (resp,) = exchange(server, b"POST / HTTP/1.1\r\nHost: t\r\nContent-Type: text/csv\r\nContent-Length: 3\r\n\r\na,b", handler)
    assert resp.status == 415


BAD = [
    pytest.param(b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400, id="cl-and-te"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: t\r\nX: a\rb\r\n\r\n", 400, id="bare-cr"),
    pytest.param(b"GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400, id="space-before-colon"),
    pytest.param(b"GET / HTTP/1.1\r\n\r\n", 400, id="no-host"),
    pytest.param(b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505, id="version"),
    pytest.param(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414, id="long-target"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: t\r\nX: " + b"a" * 40000 + b"\r\n\r\n", 431, id="big-head"),
    pytest.param(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\n", 413, id="big-body"),
    pytest.param(b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, id="te-gzip"),
    pytest.param(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nExpect: magic\r\n\r\nx", 417, id="expect"),
]


def _without_date(head: bytes) -> bytes:
    return b"\r\n".join(line for line in head.split(b"\r\n") if not line.lower().startswith(b"date:"))


def _raw(address: tuple[str, int], data: bytes) -> bytes:
    with socket.create_connection(address, timeout=LIMIT) as sock:
        sock.sendall(data)
        out = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
    return out


async def _reads_the_body(request):
    await request.body()
    return "unused"


@pytest.mark.parametrize(("data", "status"), BAD)
def test_bad_input_gets_the_engines_answer(server, data, status):
    client, responses = exchange(server, data, hello)
    pump([server], lambda: client.eof, hello, [client])
    assert [r.status for r in responses] == [status]
    assert responses[0].header("connection") == "close"
    # The engine, serving the same bytes, answers with the same head (but its Date) and body.
    engine = start_in_thread(_reads_the_body, "127.0.0.1:0")
    try:
        theirs = parse_response(_raw(engine.addresses[0], data))
    finally:
        engine.stop(1.0)
    assert theirs is not None
    assert theirs[0].status == status and theirs[0].header("connection") == "close"
    if status != 413:  # the engine's 413 comes from the handler's read, rendered by the framework
        assert _without_date(theirs[0].head) == _without_date(responses[0].head)
        assert theirs[0].body == responses[0].body


def test_a_bad_request_after_good_ones_is_answered_after_them(server):
    client, responses = exchange(server, GET + b"GET / HTTP/1.1\r\nHost : t\r\n\r\n", hello, count=2)
    assert [r.status for r in responses] == [200, 400]


def test_connection_close_and_max_requests():
    with PollServer("127.0.0.1", 0, max_requests_per_connection=2) as server:
        client, responses = exchange(server, GET * 3, hello, count=2)
        pump([server], lambda: client.eof, hello, [client])
        assert [r.status for r in client.responses] == [200, 200]
        assert client.responses[0].header("connection") is None
        assert client.responses[1].header("connection") == "close"


def test_max_connections_answers_503():
    with PollServer("127.0.0.1", 0, max_connections=1) as server:
        first = RawClient(server)
        first.send(GET)
        pump([server], lambda: bool(first.responses), hello, [first])
        second = RawClient(server)
        pump([server], lambda: second.eof, hello, [second])
        assert second.responses[0].status == 503


def test_head_and_response_objects(server):
    client = RawClient(server)
    client.send(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n")
    pump([server], lambda: b"\r\n\r\n" in client.data, lambda r: r.respond(b"12345"), [client])
    resp, used = parse_response(bytes(client.data), head_only=True)
    assert resp.header("content-length") == "5" and used == len(client.data)  # no body sent
    _, (resp,) = exchange(server, GET, lambda r: r.respond(Response("gone", 410)))
    assert resp.status == 410 and resp.body == b"gone"
    _, (resp,) = exchange(server, GET, lambda r: r.respond_redirect("/there", 301))
    assert resp.status == 301 and resp.header("location") == "/there"


def test_streaming_response_from_a_sync_iterable(server):
    stream = StreamingResponse(iter([b"a", "b", b"c"]), trailers={"X-Sum": "3"})
    _, (resp,) = exchange(server, GET, lambda r: r.respond(stream))
    assert resp.body == b"abc" and resp.header("transfer-encoding") == "chunked" and resp.trailers == [("X-Sum", "3")]


def test_an_async_stream_is_refused_with_a_clear_error(server):
    async def gen():
        yield b"x"

    errors = []

    def handler(req: PollRequest) -> None:
        content = gen()
        try:
            req.respond(StreamingResponse(content))
        except TypeError as exc:
            errors.append(str(exc))
            req.answered = False
            req.respond("fallback", 500)
        finally:
            run_close = content.aclose()
            try:
                run_close.send(None)
            except StopIteration:
                pass

    _, (resp,) = exchange(server, GET, handler)
    assert resp.status == 500 and "sync iterable" in errors[0]


def test_a_pushed_multipart_stream(server):
    client = RawClient(server)
    client.send(GET)
    streams = []

    def start(req: PollRequest) -> None:
        streams.append(req.respond_multipart())

    pump([server], lambda: bool(streams), start, [client])
    stream = streams[0]
    for n in range(3):
        stream.frame(b"jpeg%d" % n)
    stream.end()
    pump([server], lambda: bool(client.responses), None, [client])
    resp = client.responses[0]
    ctype = resp.header("content-type")
    assert ctype.startswith("multipart/x-mixed-replace; boundary=")
    boundary = ctype.split("=", 1)[1].encode()
    parts = resp.body.split(b"--" + boundary)
    assert parts[-1] == b"--\r\n"
    assert [p.split(b"\r\n\r\n", 1)[1].rstrip(b"\r\n") for p in parts[1:-1]] == [b"jpeg0", b"jpeg1", b"jpeg2"]
    assert b"Content-Type: image/jpeg" in parts[1]


def test_a_pushed_stream_after_the_client_left_raises(server):
    client = RawClient(server)
    client.send(GET)
    streams = []
    pump([server], lambda: bool(streams), lambda r: streams.append(r.respond_stream()), [client])
    client.close()
    with pytest.raises(BrokenPipeError):
        for _ in range(1000):
            pump([server], lambda: True)
            streams[0].write(b"x" * 65536)


def test_a_large_file_streams_without_blocking_and_in_bounded_memory(tmp_path):
    path = tmp_path / "big.bin"
    data = os.urandom(3 * 1024 * 1024)
    path.write_bytes(data)
    high = 64 * 1024
    with PollServer("127.0.0.1", 0, write_high_water=high) as server:
        client = RawClient(server)
        client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        client.send(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        held = []
        pump([server], lambda: bool(held), lambda r: (held.append(r), r.respond_file(path)), [client])
        peak = 0
        other = RawClient(server)
        other.send(GET)
        # While the file is sent, the loop keeps serving another connection (nothing blocks).
        pump([server], lambda: bool(other.responses), hello, [other])
        while not client.responses:
            pump([server], lambda: True, None, [client])
            peak = max(peak, held[0].connection.buffered)  # type: ignore[attr-defined]
        assert client.responses[0].body == data
        assert peak <= high + 256 * 1024  # the high-water mark plus one file read, never the file


def test_file_range_and_conditional(tmp_path, server):
    path = tmp_path / "f.txt"
    path.write_bytes(b"0123456789")
    _, (resp,) = exchange(server, b"GET / HTTP/1.1\r\nHost: t\r\nRange: bytes=2-4\r\n\r\n", lambda r: r.respond_file(path))
    assert resp.status == 206 and resp.body == b"234" and resp.header("content-range") == "bytes 2-4/10"
    etag = resp.header("etag")
    req = b"GET / HTTP/1.1\r\nHost: t\r\nIf-None-Match: " + etag.encode() + b"\r\n\r\n"
    _, (resp,) = exchange(server, req, lambda r: r.respond_file(path))
    assert resp.status == 304
    _, (resp,) = exchange(server, GET, lambda r: r.respond_file(tmp_path / "missing"))
    assert resp.status == 404


def test_answering_twice_is_an_error(server):
    errors = []

    def twice(req: PollRequest) -> None:
        req.respond("one")
        try:
            req.respond("two")
        except RuntimeError as exc:
            errors.append(exc)

    exchange(server, GET, twice)
    assert errors


def test_on_connect_may_refuse_and_fills_the_session():
    seen = []

    def on_connect(sock, session):
        session["_user"] = "admin"
        seen.append(sock)
        return len(seen) == 1

    with PollServer("127.0.0.1", 0, on_connect=on_connect) as server:
        _, (resp,) = exchange(server, GET, lambda r: r.respond(r.session["_user"]))
        assert resp.body == b"admin"
        client = RawClient(server)
        pump([server], lambda: client.eof, hello, [client])
        assert not client.responses


def _tls_server_context(tls) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tls.cert_file, tls.key_file)
    return ctx


def test_http_and_https_servers_in_one_select_loop(tls):
    plain = PollServer("127.0.0.1", 0)
    secure = PollServer("127.0.0.1", 0, ssl_context=_tls_server_context(tls))
    results: dict[str, object] = {}

    def clients() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", plain.port, timeout=LIMIT)
        conn.request("GET", "/page?x=1", headers={"Host": "localhost"})
        resp = conn.getresponse()
        results["redirect"] = (resp.status, resp.getheader("location"))
        conn.close()
        sconn = http.client.HTTPSConnection("localhost", secure.port, timeout=LIMIT, context=tls.client_context())
        for n in range(2):  # keep-alive over TLS
            sconn.request("GET", f"/page{n}")
            resp = sconn.getresponse()
            results[f"secure{n}"] = (resp.status, resp.read())
        sconn.close()

    t = threading.Thread(target=clients)
    t.start()
    try:
        deadline = time.monotonic() + LIMIT
        while t.is_alive() and time.monotonic() < deadline:
            r, w, _ = select.select(plain.read_sockets + secure.read_sockets, plain.write_sockets + secure.write_sockets, [], 0.05)
            req = plain.process_events(r, w)
            if req is not None:
                req.respond_redirect(f"https://localhost:{secure.port}{req.url}", 301)
            req = secure.process_events(r, w)
            if req is not None:
                req.respond({"secure": req.is_secure, "path": req.path})
        t.join(LIMIT)
    finally:
        plain.close()
        secure.close()
    assert results["redirect"] == (301, f"https://localhost:{secure.port}/page?x=1")
    assert results["secure0"] == (200, b'{"secure":true,"path":"/page0"}')
    assert results["secure1"] == (200, b'{"secure":true,"path":"/page1"}')


def test_plain_http_on_the_tls_port_gets_a_plaintext_400(tls):
    with PollServer("127.0.0.1", 0, ssl_context=_tls_server_context(tls)) as server:
        client = RawClient(server)
        client.send(GET)
        pump([server], lambda: client.eof, hello, [client])
        resp = client.responses[0]
        assert resp.status == 400 and b"https://" in resp.body and resp.header("connection") == "close"


def test_dual_stack_and_unix_sockets(tmp_path):
    with PollServer(f"unix:{tmp_path / 's.sock'}", None) as server:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(str(tmp_path / "s.sock"))
        client = RawClient(server, sock)
        client.send(GET)
        pump([server], lambda: bool(client.responses), hello, [client])
        assert client.responses[0].status == 200
    if not socket.has_ipv6:
        return
    try:
        server = PollServer("::", 0)
    except OSError:
        pytest.skip("no IPv6 here")
    with server:
        client = RawClient(("127.0.0.1", server.port))
        client.send(GET)
        pump([server], lambda: bool(client.responses), hello, [client])
        assert client.responses[0].status == 200


def test_unknown_options_are_refused():
    with pytest.raises(TypeError, match="max_waiting"):
        PollServer("127.0.0.1", 0, max_waiting_clients=5)


def test_peer_credentials_on_af_unix(tmp_path):
    if not hasattr(socket, "SO_PEERCRED"):
        pytest.skip("no SO_PEERCRED on this system")
    with PollServer(f"unix:{tmp_path / 'c.sock'}", None) as server:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(str(tmp_path / "c.sock"))
        client = RawClient(server, sock)
        client.send(GET)
        pump([server], lambda: bool(client.responses), lambda r: r.respond(list(r.peer_credentials) + list(r.session["credentials"])), [client])
        assert json.loads(client.responses[0].body) == [os.getpid(), os.getuid(), os.getgid()] * 2
