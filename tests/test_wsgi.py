"""The WSGI adapter (fasthttp.wsgi): raw PEP 3333 apps and a Flask app over real sockets, on both
loops."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import sys
import threading

import pytest
from helpers_server import Client, build_request, get_each, run, serving

from fasthttp.wsgi import WsgiApplication, is_wsgi_application


def environ_app(environ, start_response):
    body = environ["wsgi.input"].read()
    out = {k: v for k, v in environ.items() if isinstance(v, (str, int, tuple))}
    out["body"] = body.decode("latin-1")
    data = json.dumps(out).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def test_environ(loop):
    async def main():
        async with serving(WsgiApplication(environ_app, root_path="/app")) as server:
            c = await Client.connect(server)
            r = await c.request(
                "POST",
                "/a%20b/%C3%A9?x=1",
                headers=[("Content-Type", "text/plain"), ("X-Twice", "1"), ("x-twice", "2"), ("X_Sneaky", "no")],
                body=b"hello",
            )
            await c.close()
            return server.addresses[0], r

    address, r = run(loop, main())
    assert r.status == 200
    env = json.loads(r.body)
    assert env["REQUEST_METHOD"] == "POST"
    assert env["SCRIPT_NAME"] == "/app"
    assert env["PATH_INFO"] == "/a b/\xc3\xa9"  # PEP 3333: bytes as latin-1
    assert env["QUERY_STRING"] == "x=1"
    assert env["CONTENT_TYPE"] == "text/plain" and env["CONTENT_LENGTH"] == "5"
    assert env["SERVER_NAME"] == address[0] and env["SERVER_PORT"] == str(address[1])
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["REMOTE_ADDR"] == "127.0.0.1" and env["REMOTE_PORT"].isdigit()
    assert env["HTTP_HOST"] == "test"
    assert env["HTTP_X_TWICE"] == "1,2"
    assert "HTTP_X_SNEAKY" not in env
    assert env["wsgi.url_scheme"] == "http"
    assert env["wsgi.version"] == [1, 0]
    assert env["wsgi.multithread"] is True and env["wsgi.run_once"] is False
    assert env["body"] == "hello"


def test_detects_wsgi_callables():
    async def asgi(scope, receive, send):
        pass

    assert is_wsgi_application(environ_app)
    assert not is_wsgi_application(asgi)
    assert not is_wsgi_application(WsgiApplication)


def echo_app(environ, start_response):
    """Stream the request body back as it is read (full duplex)."""
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    stream = environ["wsgi.input"]
    pieces = [0]

    def gen():
        while True:
            data = stream.read(65536)
            if not data:
                return
            pieces[0] += 1
            yield data

    return gen()


@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
def test_streaming_both_directions(loop, chunked):
    size = 4 * 1024 * 1024
    payload = os.urandom(size)

    async def main():
        async with serving(WsgiApplication(echo_app), max_body_size=None) as server:
            c = await Client.connect(server)
            if chunked:
                head = b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                pieces = [b"%x\r\n%s\r\n" % (len(p), p) for p in (payload[i : i + 65536] for i in range(0, size, 65536))]
                data = head + b"".join(pieces) + b"0\r\n\r\n"
            else:
                data = build_request("POST", "/", body=payload)
            writer = asyncio.ensure_future(c.send(data))
            r = await c.read_response()
            await writer
            await c.close()
            return r

    r = run(loop, main(), timeout=30)
    assert r.status == 200 and r.header("transfer-encoding") == "chunked"
    assert r.body == payload


def test_input_readline_and_iteration(loop):
    def app(environ, start_response):
        stream = environ["wsgi.input"]
        first = stream.readline()
        rest = list(stream)
        data = json.dumps([first.decode(), [line.decode() for line in rest]]).encode()
        start_response("200 OK", [("Content-Length", str(len(data)))])
        return [data]

    async def main():
        async with serving(WsgiApplication(app)) as server:
            c = await Client.connect(server)
            r = await c.request("POST", "/", body=b"one\ntwo\nthree")
            await c.close()
            return r

    assert json.loads(run(loop, main()).body) == ["one\n", ["two\n", "three"]]


def test_write_callable_and_close_is_called(loop):
    closed = threading.Event()

    class Body:
        def __iter__(self):
            yield b"-iter"

        def close(self):
            closed.set()

    def app(environ, start_response):
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written")
        return Body()

    async def main():
        async with serving(WsgiApplication(app)) as server:
            c = await Client.connect(server)
            r = await c.request("GET", "/")
            r2 = await c.request("GET", "/")
            await c.close()
            return r, r2

    r, r2 = run(loop, main())
    assert r.body == b"written-iter" and r2.status == 200
    assert closed.is_set()


def test_response_stream_waits_for_the_client(loop):
    chunk = b"x" * (1024 * 1024)
    total = 48
    produced = [0]

    def app(environ, start_response):
        start_response("200 OK", [])

        def gen():
            for _ in range(total):
                yield chunk
                produced[0] += len(chunk)

        return gen()

    async def main():
        async with serving(WsgiApplication(app)) as server:
            c = await Client.connect(server)
            await c.send(build_request("GET", "/"))
            consumed = 0
            ahead = 0
            while consumed <= total * len(chunk):
                data = await c.reader.read(65536)
                if not data:
                    break
                consumed += len(data)
                ahead = max(ahead, produced[0] - consumed)
                await asyncio.sleep(0)
            await c.close()
            return ahead, consumed

    ahead, consumed = run(loop, main(), timeout=30)
    assert consumed > total * len(chunk)
    assert ahead < 24 * len(chunk)


def test_client_leaving_stops_the_iteration_and_closes(loop):
    closed = threading.Event()
    produced = [0]

    def app(environ, start_response):
        start_response("200 OK", [])

        def gen():
            try:
                while True:
                    produced[0] += 1
                    yield b"y" * 65536
            finally:
                closed.set()

        return gen()

    async def main():
        async with serving(WsgiApplication(app)) as server:
            c = await Client.connect(server)
            await c.send(build_request("GET", "/"))
            await c.read_head()
            await c.close()
            while not closed.is_set():
                await asyncio.sleep(0.01)

    run(loop, main())
    assert closed.is_set()


def test_start_response_exc_info(loop, caplog):
    def app(environ, start_response):
        start_response("200 OK", [("X-A", "1")])
        try:
            raise ValueError("first")
        except ValueError:
            start_response("503 Service Unavailable", [("X-B", "2")], sys.exc_info())
        return [b"sorry"]

    def late(environ, start_response):
        write = start_response("200 OK", [])
        write(b"partial")
        try:
            raise ValueError("late")
        except ValueError:
            start_response("500 Internal Server Error", [], sys.exc_info())  # re-raises
        return [b""]

    async def main():
        async with serving(WsgiApplication(app)) as server:
            c = await Client.connect(server)
            r = await c.request("GET", "/")
            await c.close()
        async with serving(WsgiApplication(late)) as server:
            c = await Client.connect(server)
            await c.send(build_request("GET", "/"))
            try:
                await c.read_response()
                complete = True
            except (asyncio.IncompleteReadError, ConnectionResetError):
                complete = False
            await c.close()
        return r, complete

    with caplog.at_level(logging.ERROR, logger="fasthttp.error"):
        r, complete = run(loop, main())
    assert r.status == 503 and r.header("x-b") == "2" and r.header("x-a") is None and r.body == b"sorry"
    assert complete is False
    assert any(rec.exc_info and "late" in str(rec.exc_info[1]) for rec in caplog.records)


def test_exception_before_the_response_is_500_and_logged(loop, caplog):
    def app(environ, start_response):
        raise ValueError("boom")

    def silent(environ, start_response):
        return []

    async def main():
        async with serving(WsgiApplication(app)) as server:
            c = await Client.connect(server)
            r = await c.request("GET", "/")
            r2 = await c.request("GET", "/")
            await c.close()
        async with serving(WsgiApplication(silent)) as server:
            c = await Client.connect(server)
            r3 = await c.request("GET", "/")
            await c.close()
        return r, r2, r3

    with caplog.at_level(logging.ERROR, logger="fasthttp.error"):
        r, r2, r3 = run(loop, main())
    assert r.status == r2.status == r3.status == 500
    assert any(rec.exc_info and "boom" in str(rec.exc_info[1]) for rec in caplog.records)


def test_file_wrapper_uses_the_file_sender(loop, tmp_path, monkeypatch):
    from fasthttp.files import FileResponse

    planned = []
    plan = FileResponse.plan
    monkeypatch.setattr(FileResponse, "plan", lambda self, *args: planned.append(self.path) or plan(self, *args))
    path = tmp_path / "f.bin"
    data = os.urandom(500_000)
    path.write_bytes(data)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/x-test"), ("Content-Length", str(len(data)))])
        if environ["PATH_INFO"] == "/memory":
            return environ["wsgi.file_wrapper"](io.BytesIO(data), 8192)
        return environ["wsgi.file_wrapper"](open(path, "rb"))

    async def main():
        async with serving(WsgiApplication(app)) as server:
            c = await Client.connect(server)
            r = await c.request("GET", "/")
            m = await c.request("GET", "/memory")
            h = await c.request("HEAD", "/")
            await c.close()
            return r, m, h

    r, m, h = run(loop, main())
    assert r.status == 200 and r.body == data and r.headers_named("content-length") == [str(len(data))]
    assert m.body == data
    assert planned == [str(path), str(path)]  # the regular file (GET, HEAD); BytesIO is iterated
    assert h.headers_named("content-length") == [str(len(data))] and h.body == b""


def test_pool_is_bounded(loop):
    active = [0]
    peak = [0]
    lock = threading.Lock()
    release = threading.Event()

    def app(environ, start_response):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        release.wait(10)
        with lock:
            active[0] -= 1
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    async def main():
        async with serving(WsgiApplication(app, threads=2)) as server:
            clients = [await Client.connect(server) for _ in range(4)]
            for c in clients:
                await c.send(build_request("GET", "/"))
            while active[0] < 2:
                await asyncio.sleep(0.01)
            release.set()
            responses = [await c.read_response() for c in clients]
            for c in clients:
                await c.close()
            return responses

    responses = run(loop, main())
    assert [r.status for r in responses] == [200] * 4
    assert peak[0] == 2


def test_flask_app(loop, tmp_path):
    flask = pytest.importorskip("flask")
    app = flask.Flask(__name__)
    (tmp_path / "page.txt").write_bytes(b"page\n" * 5000)

    @app.get("/hello/<name>")
    def hello(name):
        return flask.jsonify(hello=name, q=flask.request.args.get("q"))

    @app.post("/upload")
    def upload():
        total = 0
        pieces = 0
        while True:
            data = flask.request.stream.read(65536)
            if not data:
                break
            total += len(data)
            pieces += 1
        return {"total": total, "pieces": pieces}

    @app.get("/stream")
    def stream():
        def gen():
            for i in range(500):
                yield f"{i}\n"

        return flask.Response(flask.stream_with_context(gen()), mimetype="text/plain")

    @app.get("/file")
    def file():
        return flask.send_file(tmp_path / "page.txt")

    @app.get("/fail")
    def fail():
        raise RuntimeError("flask boom")

    big = os.urandom(3 * 1024 * 1024)

    async def main():
        async with serving(WsgiApplication(app), max_body_size=None) as server:
            c = await Client.connect(server)
            r_hello = await c.request("GET", "/hello/world?q=1")
            r_upload = await c.request("POST", "/upload", body=big)
            r_stream = await c.request("GET", "/stream")
            r_file = await c.request("GET", "/file")
            r_missing = await c.request("GET", "/nope")
            r_fail = await c.request("GET", "/fail")
            await c.close()
            return r_hello, r_upload, r_stream, r_file, r_missing, r_fail

    logging.getLogger(app.name).disabled = True
    r_hello, r_upload, r_stream, r_file, r_missing, r_fail = run(loop, main(), timeout=30)
    assert json.loads(r_hello.body) == {"hello": "world", "q": "1"}
    result = json.loads(r_upload.body)
    assert result["total"] == len(big) and result["pieces"] > 1
    assert r_stream.body == "".join(f"{i}\n" for i in range(500)).encode()
    assert r_file.status == 200 and r_file.body == b"page\n" * 5000
    assert r_missing.status == 404
    assert r_fail.status == 500


@pytest.mark.parametrize("size", [2, 400_000], ids=["whole", "streamed"])
def test_a_body_longer_than_its_content_length_is_refused(loop, caplog, size):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", str(size))])
        return iter([b"x" * size, b"extra"])

    async def main():
        async with serving(WsgiApplication(app)) as server:
            c = await Client.connect(server)
            await c.send(build_request("GET", "/", headers=[("Connection", "close")]))
            data = b""
            while chunk := await c.reader.read(65536):
                data += chunk
            await c.close()
            return data

    with caplog.at_level(logging.ERROR, logger="fasthttp.error"):
        data = run(loop, main())
    assert b"extra" not in data
    if size == 2:
        assert data.startswith(b"HTTP/1.1 500")
    else:  # the head was out: the connection is cut after the announced bytes at most
        assert data.startswith(b"HTTP/1.1 200") and len(data.partition(b"\r\n\r\n")[2]) <= size


def test_two_different_content_lengths_from_the_app_are_a_500_and_equal_ones_one(loop, caplog):
    # RFC 9110 §8.6, RFC 9112 §6.3: which one was meant is unknown. Before: the last one won.
    def app(environ, start_response):
        second = "6" if environ["PATH_INFO"] == "/two" else "3"
        start_response("200 OK", [("Content-Length", "3"), ("Content-Length", second)])
        return [b"abc"]

    with caplog.at_level(logging.ERROR, logger="fasthttp.error"):
        two, same = run(loop, get_each(WsgiApplication(app), "/two", "/same"))
    assert two.status == 500 and "conflicting Content-Length" in caplog.text
    assert same.status == 200 and same.body == b"abc" and same.headers_named("content-length") == ["3"]


def test_thread_messages_reach_the_loop_in_order_with_one_wake_up_per_batch(loop):
    # PERF contract of the hand-off: what threads send while the loop is busy arrives in one
    # batch (one call_soon_threadsafe), in the order sent.
    from fasthttp.wsgi import _Inbox

    async def main():
        inbox = _Inbox(asyncio.get_running_loop())
        got = []
        wakeups = []
        drain = inbox.drain

        def counting_drain():
            wakeups.append(len(inbox.items))
            drain()

        inbox.drain = counting_drain  # type: ignore[method-assign]

        def send(n):
            for i in range(n):
                inbox.call(got.append, i)

        thread = threading.Thread(target=send, args=(50,))
        thread.start()
        thread.join()  # the loop was not running: everything waits for one drain
        await asyncio.sleep(0.05)
        assert got == list(range(50)) and wakeups == [50]
        inbox.call(got.append, "again")  # a later message schedules a new drain
        await asyncio.sleep(0.05)
        assert got[-1] == "again" and wakeups == [50, 1]

    run(loop, main())


def test_pool_threads_start_as_needed_and_end_at_shutdown(loop):
    started = threading.Event()

    def app(environ, start_response):
        started.set()
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    async def main():
        adapter = WsgiApplication(app, threads=4)
        async with serving(adapter) as server:
            client = await Client.connect(server)
            for _ in range(3):
                resp = await client.request("GET", "/")
                assert resp.status == 200 and resp.body == b"ok"
            await client.close()
            pool = adapter._pool
            assert pool is not None and 1 <= len(pool.threads) <= 4
        return pool

    pool = run(loop, main())
    for thread in pool.threads:
        thread.join(5)
        assert not thread.is_alive()


@pytest.mark.parametrize("status", ["100 Continue", "101 Switching Protocols", "103 Early Hints", "199 X", "000 X", "099 X", "\u0662\u0660\u0660 OK"])
def test_a_status_that_is_not_final_is_500_never_written(loop, caplog, status):
    # RFC 9110 §15.2: a 1xx is interim: written as the answer, the client would take the next
    # response on the connection for this one's (a desync); 101 would switch protocols. A
    # status is three ASCII digits (RFC 9112 §4; "٢٠٠" passes str.isdigit()).
    def app(environ, start_response):
        if environ["PATH_INFO"] == "/next":
            start_response("200 OK", [])
            return [b"next"]
        start_response(status, [])
        return [b"BODY"]

    async def main():
        async with serving(WsgiApplication(app)) as server:
            c = await Client.connect(server)
            await c.send(build_request("GET", "/") + build_request("GET", "/next"))
            r = await c.read_response()
            r2 = await c.read_response()
            await c.close()
            return r, r2

    with caplog.at_level(logging.ERROR, logger="fasthttp.error"):
        r, r2 = run(loop, main())
    assert (r.status, r2.status, r2.body) == (500, 200, b"next")


@pytest.mark.parametrize("body", [b"", b"abc"], ids=["empty", "with-a-body"])
def test_head_announces_the_apps_length_even_with_a_body(loop, body):
    # RFC 9110 §9.3.2: a HEAD response carries the fields the GET would; a body the application
    # returns anyway is discarded, and the length it announced (10) goes out, not 3.
    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", "10")])
        return [body]

    async def main():
        async with serving(WsgiApplication(app)) as server:
            c = await Client.connect(server)
            r = await c.request("HEAD", "/")
            r2 = await c.request("HEAD", "/")
            await c.close()
            return r, r2

    r, r2 = run(loop, main())
    assert r.status == r2.status == 200
    assert r.headers_named("content-length") == r2.headers_named("content-length") == ["10"]
    assert r.body == r2.body == b""


@pytest.mark.parametrize("how", ["iterable", "write"])
@pytest.mark.parametrize("piece", ["text", 5], ids=["str", "int"])
def test_a_body_piece_that_is_not_bytes_is_500_before_the_head(loop, caplog, how, piece):
    # PEP 3333: the body is bytes. A str used to send the 200 head and then abort the
    # connection; an int went out as that many NUL bytes (bytes(5)).
    def app(environ, start_response):
        if environ["PATH_INFO"] == "/next":
            start_response("200 OK", [])
            return [b"next"]
        write = start_response("200 OK", [])
        if how == "write":
            write(piece)
            return []
        return iter([piece])

    async def main():
        async with serving(WsgiApplication(app)) as server:
            c = await Client.connect(server)
            r = await c.request("GET", "/")
            r2 = await c.request("GET", "/next")
            await c.close()
            return r, r2

    with caplog.at_level(logging.ERROR, logger="fasthttp.error"):
        r, r2 = run(loop, main())
    assert (r.status, r2.status, r2.body) == (500, 200, b"next")
    assert any("is bytes, not" in str(rec.exc_info[1]) for rec in caplog.records if rec.exc_info)
