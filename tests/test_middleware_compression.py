"""fasthttp.middleware.compression: response codings by Accept-Encoding, request content decoded.

Real peers: curl --compressed and urllib3 (decoding br and zstd) against a server on loopback.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import tracemalloc
import zlib

import brotli
import pytest
import urllib3

from fasthttp import App
from fasthttp.codings import AVAILABLE
from fasthttp.middleware import Compression
from fasthttp.responses import JSONResponse, Response, StreamingResponse
from fasthttp.testing import TestClient

DATA = os.path.join(os.path.dirname(__file__), "data")
BIG = {"items": [{"id": i, "name": f"item {i}", "tags": ["a", "b"]} for i in range(200)]}


def make_app(**options):
    app = App()
    app.add_middleware(Compression(**options))

    @app.get("/json")
    def json_(request):
        return BIG

    @app.get("/async")
    async def json_async(request):
        return BIG

    @app.get("/small")
    def small(request):
        return {"a": 1}

    @app.get("/png")
    def png(request):
        return Response(b"\x89PNG" + bytes(5000), content_type="image/png")

    @app.get("/coded")
    def coded(request):
        return Response(gzip.compress(b"x" * 5000), headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"})

    @app.get("/etag")
    def etag(request):
        return JSONResponse(BIG, headers={"ETag": '"v1"'})

    @app.get("/notransform")
    def notransform(request):
        return JSONResponse(BIG, headers={"Cache-Control": "no-transform"})

    @app.get("/partial")
    def partial(request):
        return Response(b"x" * 5000, 206, {"Content-Range": "bytes 0-4999/10000", "Content-Type": "text/plain"})

    @app.get("/stream")
    def stream(request):
        return StreamingResponse(iter([b"data: one\n\n", "data: two\n\n"]), content_type="text/event-stream")

    @app.post("/echo")
    async def echo(request):
        return Response(await request.body(), content_type="application/octet-stream")

    @app.post("/json", max_body_size=1 << 20)
    async def post_json(request):
        return {"got": await request.json()}

    return app


@pytest.fixture
def client():
    with TestClient(make_app()) as c:
        yield c


# -- responses ---------------------------------------------------------------------------------


@pytest.mark.parametrize("coding", AVAILABLE)
def test_each_coding_round_trips(client, coding):
    for path in ("/json", "/async"):
        r = client.get(path, headers={"Accept-Encoding": coding})
        assert r.status == 200
        assert r.headers["content-encoding"] == coding
        assert r.headers["vary"] == "Accept-Encoding"
        assert len(r.content) < 2000
        decoded = _decode(coding, r.content)
        assert JSONResponse(BIG).body == decoded


def _decode(coding, data):
    if coding == "gzip":
        return gzip.decompress(data)
    if coding == "deflate":
        return zlib.decompress(data)
    if coding == "br":
        return brotli.decompress(data)
    from fasthttp.codings import _zstd

    return _zstd.decompress(data)


def test_q_values_choose_the_coding(client):
    r = client.get("/json", headers={"Accept-Encoding": "gzip;q=0.5, br;q=0.9, deflate;q=0.1"})
    assert r.headers["content-encoding"] == "br"
    r = client.get("/json", headers={"Accept-Encoding": "br;q=0, *;q=0.3"})
    assert r.headers["content-encoding"] == next(c for c in AVAILABLE if c != "br")
    r = client.get("/json", headers={"Accept-Encoding": "x-gzip"})
    assert r.headers["content-encoding"] == "gzip"


def test_no_header_no_change_and_no_vary(client):
    r = client.get("/json")
    assert "content-encoding" not in r.headers and "vary" not in r.headers
    assert r.content == JSONResponse(BIG).body


def test_identity_preferred_or_only(client):
    r = client.get("/json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in r.headers
    assert r.headers["vary"] == "Accept-Encoding"
    r = client.get("/json", headers={"Accept-Encoding": ""})  # empty: identity only
    assert "content-encoding" not in r.headers


def test_identity_refused_compresses_even_small_bodies(client):
    r = client.get("/small", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in r.headers  # below minimum_size
    r = client.get("/small", headers={"Accept-Encoding": "gzip, identity;q=0"})
    assert r.headers["content-encoding"] == "gzip"
    assert gzip.decompress(r.content) == b'{"a":1}'
    # nothing acceptable at all: identity goes anyway (RFC 9110 §12.5.3)
    r = client.get("/small", headers={"Accept-Encoding": "compress, identity;q=0"})
    assert r.status == 200 and "content-encoding" not in r.headers


def test_left_alone(client):
    ae = {"Accept-Encoding": "gzip"}
    assert "content-encoding" not in client.get("/png", headers=ae).headers
    r = client.get("/coded", headers=ae)
    assert r.headers.getall("content-encoding") == ["gzip"]
    assert gzip.decompress(r.content) == b"x" * 5000  # not coded twice
    assert "content-encoding" not in client.get("/notransform", headers=ae).headers
    r = client.get("/partial", headers=ae)
    assert r.status == 206 and "content-encoding" not in r.headers


def test_strong_etag_becomes_weak(client):
    r = client.get("/etag", headers={"Accept-Encoding": "gzip"})
    assert r.headers["etag"] == 'W/"v1"'
    assert client.get("/etag").headers["etag"] == '"v1"'


def test_head_matches_get(client):
    get = client.get("/json", headers={"Accept-Encoding": "gzip"})
    head = client.head("/json", headers={"Accept-Encoding": "gzip"})
    assert head.content == b""
    assert head.headers["content-encoding"] == "gzip"
    assert head.headers["content-length"] == get.headers["content-length"]
    head = client.head("/stream", headers={"Accept-Encoding": "gzip"})
    assert head.headers["content-encoding"] == "gzip" and head.content == b""


def test_streams_are_coded_with_a_flush_per_piece(client):
    r = client.get("/stream", headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["transfer-encoding"] == "chunked"
    assert gzip.decompress(r.content) == b"data: one\n\ndata: two\n\n"


def test_each_streamed_piece_decodes_on_arrival():
    from fasthttp.middleware.compression import _encoded_stream
    from fasthttp.codings import encoder

    import asyncio

    async def pieces():
        return [p async for p in _encoded_stream(iter([b"data: one\n\n", b"data: two\n\n"]), encoder("gzip"))]

    out = asyncio.run(pieces())
    d = zlib.decompressobj(31)
    assert d.decompress(out[0]) == b"data: one\n\n"  # decodable before the next piece exists
    assert d.decompress(out[1]) == b"data: two\n\n"
    d.decompress(out[2])
    assert d.eof


def test_a_thousand_codings_and_malformed_q_values(client):
    many = ", ".join(f"c{i};q=0.{i % 10}" for i in range(1000)) + ", gzip;q=0.001"
    r = client.get("/json", headers={"Accept-Encoding": many})
    assert r.status == 200 and r.headers["content-encoding"] == "gzip"
    for bad in ("gzip;q=2", "gzip;q=-1", "gzip;q=abc", "gzip;q=0.0001", "gzip;q", ";;;,,,"):
        r = client.get("/json", headers={"Accept-Encoding": bad})
        assert r.status == 200
        assert "content-encoding" not in r.headers, bad  # the malformed element is ignored
        assert r.content == JSONResponse(BIG).body


def test_options_are_checked():
    with pytest.raises(ValueError):
        Compression(minimum_size=-1)
    with pytest.raises(ValueError):
        Compression(codings=["compress"])
    with pytest.raises(ValueError):
        Compression(levels={"gzip": "max"})
    for bad in ({"gzip": 10}, {"br": 12}, {"zstd": 23}, {"lzma": 1}, {"gzip": True}):
        with pytest.raises(ValueError):
            Compression(levels=bad)
    assert Compression(codings="gzip").codings == ("gzip",)
    assert Compression(levels={"br": 11, "zstd": -7, "deflate": -1}).levels["br"] == 11
    app = make_app(codings=["gzip"], levels={"gzip": 1})
    with TestClient(app) as c:
        assert c.get("/json", headers={"Accept-Encoding": "br, gzip;q=0.1"}).headers["content-encoding"] == "gzip"


def test_route_level_middleware():
    app = App()

    @app.get("/a", middleware=[Compression()])
    def a(request):
        return BIG

    @app.get("/b")
    def b(request):
        return BIG

    with TestClient(app) as c:
        assert c.get("/a", headers={"Accept-Encoding": "gzip"}).headers["content-encoding"] == "gzip"
        assert "content-encoding" not in c.get("/b", headers={"Accept-Encoding": "gzip"}).headers


# -- request content ---------------------------------------------------------------------------


@pytest.mark.parametrize("coding", AVAILABLE)
def test_request_content_is_decoded(client, coding):
    from fasthttp.codings import encode

    body = b'{"hello": "' + b"w" * 3000 + b'"}'
    r = client.post("/json", data=encode(coding, body), headers={"Content-Encoding": coding, "Content-Type": "application/json"})
    assert r.status == 200, r.content
    assert r.json() == {"got": {"hello": "w" * 3000}}


def test_raw_deflate_and_stacked_codings(client):
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    data = raw.compress(b"abc" * 100) + raw.flush()
    r = client.post("/echo", data=data, headers={"Content-Encoding": "deflate"})
    assert r.content == b"abc" * 100
    twice = gzip.compress(zlib.compress(b"abc" * 100))
    r = client.post("/echo", data=twice, headers={"Content-Encoding": "deflate, gzip"})
    assert r.content == b"abc" * 100
    members = gzip.compress(b"one") + gzip.compress(b"two")
    assert client.post("/echo", data=members, headers={"Content-Encoding": "gzip"}).content == b"onetwo"


def test_chunked_request_content_is_decoded(client):
    data = gzip.compress(b"piece" * 1000)
    pieces = [data[i : i + 100] for i in range(0, len(data), 100)]
    r = client.post("/echo", data=iter(pieces), headers={"Content-Encoding": "gzip"})
    assert r.content == b"piece" * 1000


def test_truncated_or_corrupt_content_is_400(client):
    data = gzip.compress(b"x" * 10000)
    for bad in (data[:-8], data[: len(data) // 2], b"not gzip at all", data + b"garbage"):
        r = client.post("/echo", data=bad, headers={"Content-Encoding": "gzip"})
        assert r.status == 400, bad[:20]
    r = client.post("/echo", data=b"\x00" * 10, headers={"Content-Encoding": "br"})
    assert r.status == 400
    # the connection is still usable afterwards
    assert client.get("/small").status == 200


def test_unknown_coding_is_415_listing_ours(client):
    r = client.post("/echo", data=b"x", headers={"Content-Encoding": "compress"})
    assert r.status == 415
    assert r.headers["accept-encoding"] == ", ".join(AVAILABLE)


def test_without_the_middleware_coded_content_is_415():
    app = App()

    @app.post("/json")
    async def post_json(request):
        return await request.json()

    with TestClient(app) as c:
        r = c.post("/json", data=gzip.compress(b"{}"), headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
        assert r.status == 415 and r.headers["accept-encoding"] == "identity"


def test_a_decompression_bomb_is_413_with_bounded_memory(client):
    # 1.8 KB of gzip-in-gzip that inflates to 1 GiB of zeros (tests/data/bomb_1gb.gz.gz:
    # gzip -9 of gzip -9 of 1 GiB of NUL bytes).
    with open(os.path.join(DATA, "bomb_1gb.gz.gz"), "rb") as f:
        bomb = f.read()
    assert len(bomb) < 2048
    tracemalloc.start()
    try:
        r = client.post("/json", data=bomb, headers={"Content-Encoding": "gzip, gzip", "Content-Type": "application/json"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.status == 413
    assert peak < 16 << 20  # the route's limit is 1 MiB: nowhere near the 1 GiB
    assert client.get("/small").status == 200


def test_a_bomb_past_the_server_limit_on_a_plain_route():
    app = App(max_body_size=64 * 1024)
    app.add_middleware(Compression())

    @app.post("/echo")
    async def echo(request):
        return await request.body()

    with TestClient(app) as c:
        r = c.post("/echo", data=gzip.compress(bytes(1 << 20)), headers={"Content-Encoding": "gzip"})
        assert r.status == 413
        r = c.post("/echo", data=gzip.compress(bytes(60000)), headers={"Content-Encoding": "gzip"})
        assert r.status == 200 and r.content == bytes(60000)


# -- real clients --------------------------------------------------------------------------------


@pytest.fixture
def server():
    with make_app().start("127.0.0.1:0") as handle:
        host, port = handle.addresses[0][:2]
        yield f"http://{host}:{port}"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_compressed(server):
    out = subprocess.run(
        ["curl", "-sS", "--compressed", "--max-time", "10", "-D", "-", server + "/json"],
        capture_output=True,
        timeout=20,
        check=True,
    ).stdout
    head, _, body = out.partition(b"\r\n\r\n")
    assert b"content-encoding: " in head.lower()
    assert body == JSONResponse(BIG).body


def test_urllib3_decodes_br_and_zstd(server):
    http = urllib3.PoolManager(timeout=urllib3.Timeout(10))
    try:
        for coding in ("br", "zstd", "gzip", "deflate"):
            if coding not in AVAILABLE:
                continue
            r = http.request("GET", server + "/json", headers={"Accept-Encoding": coding})
            assert r.headers["Content-Encoding"] == coding
            assert r.data == JSONResponse(BIG).body
            r = http.request("GET", server + "/stream", headers={"Accept-Encoding": coding})
            assert r.headers["Content-Encoding"] == coding
            assert r.data == b"data: one\n\ndata: two\n\n"
    finally:
        http.clear()


def test_a_compressed_event_stream_arrives_live_over_a_socket():
    # The second event is produced only after the client has decoded the first: without a flush
    # per piece the client would wait forever (bounded here by the socket timeout).
    import asyncio
    import socket
    import threading

    from fasthttp import EventSourceResponse

    first_seen = threading.Event()
    app = App()
    app.add_middleware(Compression())

    @app.get("/events")
    def events(request):
        async def gen():
            yield {"data": "one", "id": "1"}
            for _ in range(500):
                if first_seen.is_set():
                    break
                await asyncio.sleep(0.01)
            yield {"data": "two", "id": "2"}

        return EventSourceResponse(gen(), ping=None)

    with app.start("127.0.0.1:0") as handle:
        host, port = handle.addresses[0][:2]
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                data += sock.recv(65536)
            head, _, rest = data.partition(b"\r\n\r\n")
            assert b"content-encoding: gzip" in head.lower() and b"transfer-encoding: chunked" in head.lower()
            decoder = zlib.decompressobj(31)
            state = {"buf": rest}

            def decoded_so_far():
                # the complete chunks received so far (size line, data, CRLF), decoded
                out, buf = b"", state["buf"]
                while b"\r\n" in buf:
                    size_line, _, after = buf.partition(b"\r\n")
                    size = int(size_line, 16)
                    if len(after) < size + 2:
                        break
                    out += decoder.decompress(after[:size])
                    buf = after[size + 2 :]
                state["buf"] = buf
                return out

            def receive():
                chunk = sock.recv(65536)
                assert chunk, "the server closed the stream"
                state["buf"] += chunk

            text = decoded_so_far()
            while b"data: one\n\n" not in text:
                receive()
                text += decoded_so_far()
            assert text == b"id: 1\ndata: one\n\n"  # decoded before the second event exists
            first_seen.set()
            while b"data: two" not in text:
                receive()
                text += decoded_so_far()
            assert text.endswith(b"id: 2\ndata: two\n\n")


@pytest.mark.parametrize("coding", AVAILABLE)
def test_every_coding_is_bounded_by_the_decoded_limit(client, coding):
    from fasthttp.codings import encode

    bomb = encode(coding, bytes(32 << 20), 9)  # 32 MiB of zeros; the route takes 1 MiB
    assert len(bomb) < 200_000
    r = client.post("/json", data=bomb, headers={"Content-Encoding": coding, "Content-Type": "application/json"})
    assert r.status == 413
    fits = encode(coding, b'"' + b"a" * 1000 + b'"')
    r = client.post("/json", data=fits, headers={"Content-Encoding": coding, "Content-Type": "application/json"})
    assert r.json() == {"got": "a" * 1000}


def test_the_choices_remembered_per_header_value_are_bounded_and_right():
    # PERF caches (Accept-Encoding value -> coding, Content-Type value -> compressible): a client
    # spraying distinct values grows neither past its bound, and each answer is still its own.
    mw = Compression(minimum_size=0, codings=["gzip", "deflate"])
    body = b'{"a": "' + b"x" * 2000 + b'"}'
    for i in range(1000):
        accept = f"deflate;q=0.{i % 9 + 1}, gzip;q=0.5, x-{i}"
        response = mw.encode_response("GET", accept, Response(body, headers=[("Content-Type", f"application/json; v={i}")]))
        coding = dict(response.fields)["Content-Encoding"]
        assert coding == ("deflate" if i % 9 + 1 > 5 else "gzip")
    assert len(mw._choices) <= 256 and len(mw._types) <= 256
    plain = mw.encode_response("GET", "gzip", Response(body, headers=[("Content-Type", "image/png")]))
    assert not any(n == "Content-Encoding" for n, _ in plain.fields)
