"""The HTTP client (fasthttp.client): against our server, http.server, uvicorn, and hostile
raw-socket servers; async Client on both loops, SyncClient on blocking sockets."""

from __future__ import annotations

import asyncio
import json
import http.server
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
from helpers_client import answering, connect_proxy, make_app, raw_server, read_head
from helpers_server import run, serving

from fasthttp.client import (
    BasicAuth,
    Client,
    ClientTimeout,
    ConnectError,
    ConnectionPool,
    CookieJar,
    DigestAuth,
    IncompleteResponseError,
    Limits,
    Prepared,
    ResponseProtocolError,
    ResponseTooLarge,
    SyncClient,
    Timeouts,
    TooManyRedirects,
)
from fasthttp.errors import ClientError, HttpError


def on_server(loop, body):
    """Run ``body(client, base_url)`` against our App on *loop*."""

    async def main():
        async with serving(make_app()) as server:
            host, port = server.addresses[0][:2]
            async with Client(base_url=f"http://{host}:{port}") as client:
                return await body(client, f"http://{host}:{port}")

    return run(loop, main())


class TestAgainstOurServer:
    def test_get_text_headers_and_keep_alive(self, loop):
        async def body(client, base):
            r1 = await client.get("/hello")
            r2 = await client.get(base + "/hello")
            assert (r1.status, await r1.text(), r1.headers.get("content-type")) == (200, "hello, world", "text/plain; charset=utf-8")
            assert await r2.read() == b"hello, world"
            assert client.pool.stats() == {"connections": 1, "idle": 1}

        on_server(loop, body)

    def test_json_params_and_base_headers(self, loop):
        async def body(client, base):
            client.headers.append(("X-Base", "1"))
            r = await client.post("/echo", json={"a": [1, 2]}, params={"q": "v w"}, headers={"X-Call": "2"})
            got = await r.json()
            assert got["body"] == '{"a":[1,2]}' and got["query"] == {"q": "v w"}
            assert got["headers"]["content-type"] == "application/json"
            assert got["headers"]["x-base"] == "1" and got["headers"]["x-call"] == "2"

        on_server(loop, body)

    def test_streamed_upload_is_chunked_and_streamed_download(self, loop):
        async def body(client, base):
            async def pieces():
                for p in (b"ab", b"", b"cd"):
                    yield p

            r = await client.put("/echo", content=pieces())
            assert (await r.json())["body"] == "abcd"
            r = await client.get("/big", stream=True)
            got = b"".join([p async for p in r.stream()])
            assert got == b"x" * 100_000
            assert client.pool.stats()["idle"] == 1

        on_server(loop, body)

    def test_expect_100_continue(self, loop):
        async def body(client, base):
            r = await client.post("/echo", content=b"z" * 10, expect_continue=True)
            assert (await r.json())["body"] == "z" * 10

        on_server(loop, body)

    def test_redirects_and_method_rewriting(self, loop):
        async def body(client, base):
            r = await client.get("/redirect/3")
            assert r.status == 200 and r.url == base + "/hello" and len(r.history) == 3
            r = await client.post("/see-other", content=b"x")
            assert (await r.json())["method"] == "GET"  # RFC 9110 §15.4.4
            r = await client.post("/temporary", content=b"x")
            got = await r.json()
            assert (got["method"], got["body"]) == ("POST", "x")  # §15.4.8
            r = await client.get("/redirect/2", follow_redirects=False)
            assert r.status == 302
            client.max_redirects = 2
            with pytest.raises(TooManyRedirects) as info:
                await client.get("/redirect/5")
            assert len(info.value.history) == 3 and isinstance(info.value, ClientError)
            assert not isinstance(info.value, HttpError)

        on_server(loop, body)

    def test_cookie_jar(self, loop):
        async def body(client, base):
            await client.get("/set-cookie")
            got = await (await client.get("/echo")).json()
            assert got["headers"]["cookie"] == "session=abc"

        on_server(loop, body)

    def test_batch_collects_as_they_complete(self, loop):
        async def body(client, base):
            items = [("GET", "/hello")] * 6 + [("GET", "http://127.0.0.1:1/")]
            batch = client.batch(items, concurrency=3)
            seen = []
            batch.start("POST", "/echo", json={"n": 7}, callback=seen.append)
            assert batch.pending == 8
            results = {r.index: r async for r in batch}
            assert sorted(results) == list(range(8)) and batch.pending == 0
            assert all(results[i].response.status == 200 for i in range(6))
            assert isinstance(results[6].error, ConnectError) and not results[6].ok
            assert (await results[7].response.json())["body"] == '{"n":7}' and seen == [results[7]]
            again = client.batch([("GET", "/hello"), ("GET", "/big")], concurrency=1)
            assert [r.index for r in await again.results()] == [0, 1]

        on_server(loop, body)

    def test_range_request(self, loop):
        async def body(client, base):
            r = await client.get("/echo", byte_range=(0, 9))
            assert (await r.json())["headers"]["range"] == "bytes=0-9"

        on_server(loop, body)

    def test_unix_socket(self, loop, tmp_path):
        path = str(tmp_path / "s.sock")

        async def main():
            async with serving(make_app(), bind=f"unix:{path}"):
                async with Client(unix_socket=path) as client:
                    return await (await client.get("http://localhost/hello")).text()

        assert run(loop, main()) == "hello, world"

    def test_tls_verified_with_a_custom_ca(self, loop, tls):
        async def main():
            async with serving(make_app(), certfile=tls.cert_file, keyfile=tls.key_file) as server:
                port = server.addresses[0][1]
                async with Client(verify=tls.ca_file) as client:
                    ok = await (await client.get(f"https://localhost:{port}/hello")).text()
                async with Client() as client:
                    with pytest.raises(ConnectError):
                        await client.get(f"https://localhost:{port}/hello")
                return ok

        assert run(loop, main()) == "hello, world"


class TestConnections:
    def test_http_and_https_through_a_connect_proxy(self, loop, tls):
        seen: list[bytes] = []
        with raw_server(connect_proxy(seen)) as proxy:
            async def main():
                async with serving(make_app()) as plain, serving(make_app(), certfile=tls.cert_file, keyfile=tls.key_file) as secure:
                    p1, p2 = plain.addresses[0][1], secure.addresses[0][1]
                    async with Client(proxy=proxy.replace("http://", "http://user:pw@"), verify=tls.ca_file) as client:
                        a = await (await client.get(f"http://127.0.0.1:{p1}/hello")).text()
                        b = await (await client.get(f"https://localhost:{p2}/hello")).text()
                    return a, b, p1, p2

            a, b, p1, p2 = run(loop, main())
        assert a == b == "hello, world"
        assert seen[0].startswith(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\n" % p1)
        assert b"Proxy-Authorization: Basic dXNlcjpwdw==" in seen[0]
        assert seen[1].startswith(b"CONNECT localhost:%d " % p2)

    def test_sync_client_through_a_connect_proxy(self, loop):
        seen: list[bytes] = []
        with raw_server(connect_proxy(seen)) as proxy:
            async def main():
                async with serving(make_app()) as server:
                    port = server.addresses[0][1]

                    def work():
                        with SyncClient(proxy=proxy) as client:
                            return client.get(f"http://127.0.0.1:{port}/hello").text()

                    return await asyncio.get_running_loop().run_in_executor(None, work)

            assert run(loop, main()) == "hello, world"
        assert seen and seen[0].startswith(b"CONNECT 127.0.0.1:")

    def test_client_certificate_and_on_connect(self, loop, tls):
        peers = []

        async def main():
            async with serving(make_app(), certfile=tls.cert_file, keyfile=tls.key_file, ca_certs=tls.ca_file) as server:
                url = f"https://localhost:{server.addresses[0][1]}/hello"
                async with Client(verify=tls.ca_file, cert=(tls.client_cert_file, tls.client_key_file), on_connect=lambda t: peers.append(t.get_extra_info("peercert"))) as client:
                    ok = (await client.get(url)).status
                async with Client(verify=tls.ca_file) as client:
                    with pytest.raises(ClientError):
                        await client.get(url)
                async with Client(verify=tls.ca_file, cert=(tls.client_cert_file, tls.client_key_file), on_connect=lambda t: False) as client:
                    with pytest.raises(ConnectError, match="on_connect"):
                        await client.get(url)

                def work():
                    opened = []
                    with SyncClient(verify=tls.ca_file, cert=(tls.client_cert_file, tls.client_key_file), on_connect=opened.append) as client:
                        texts = {client.get(url).text() for _ in range(3)}
                    assert len(opened) == 1  # the TLS connection is reused
                    return texts.pop()

                return ok, await asyncio.get_running_loop().run_in_executor(None, work)

        assert run(loop, main()) == (200, "hello, world")
        assert peers and peers[0]["subjectAltName"]

    def test_the_connection_pool_on_its_own(self, loop):
        # what a reverse proxy does: its own request bytes, the kernel's events, the pool's reuse
        async def main():
            async with serving(make_app()) as server:
                origin = ("http", "127.0.0.1", server.addresses[0][1])
                pool = ConnectionPool(limits=Limits(max_per_host=2))
                for expected_reuse in (False, True):
                    conn, reused = await pool.acquire(origin, timeout=5)
                    assert reused is expected_reuse
                    conn.parser.request("GET")
                    conn.write(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                    events = [await conn.next_event(5)]
                    # the pool's parsers put a content that came with its head on the head (body_on_head)
                    while events[0].body is None and type(events[-1]).__name__ != "EndOfMessage":
                        events.append(await conn.next_event(5))
                    body = events[0].body if events[0].body is not None else b"".join(e for e in events if type(e) is bytes)
                    assert events[0].status == 200 and body == b"hello, world"
                    pool.release(conn)
                assert pool.stats() == {"connections": 1, "idle": 1}
                async with Client(pool=pool) as client:  # a client may share it
                    assert await (await client.get(f"http://127.0.0.1:{origin[2]}/hello")).text() == "hello, world"
                    assert pool.stats() == {"connections": 1, "idle": 1}

        run(loop, main())

    def test_idle_expiry_and_the_total_limit(self, loop):
        async def main():
            async with serving(make_app()) as a, serving(make_app()) as b:
                ua = f"http://127.0.0.1:{a.addresses[0][1]}/hello"
                ub = f"http://127.0.0.1:{b.addresses[0][1]}/hello"
                async with Client(limits=Limits(max_connections=1, idle_expiry=0.1)) as client:
                    await client.get(ua)
                    first = client.pool._idle[("http", "127.0.0.1", a.addresses[0][1])][0]
                    await client.get(ub)  # the idle connection to a is closed to make room
                    assert client.pool.stats() == {"connections": 1, "idle": 1}
                    await asyncio.sleep(0.2)
                    await client.get(ub)  # the idle one expired: a new connection
                    assert first.transport.is_closing()
                    assert client.pool.stats() == {"connections": 1, "idle": 1}

        run(loop, main())


class TestSend:
    """``Client.send``: one prepared request as it is, for intermediaries (fasthttp.proxy)."""

    @staticmethod
    def prepared(base, method, target, headers=(), body=None, **options):
        parts = urlsplit(base)
        return Prepared(method, base + target, parts.scheme, parts.hostname, parts.port, target, list(headers), body, **options)

    def test_host_field_and_a_counted_streamed_body(self, loop):
        async def body(client, base):
            async def pieces():
                yield b"hel"
                yield b"lo"

            req = self.prepared(base, "POST", "/echo", [("X-Case", "1")], pieces(), host_header="site.test", content_length=5)
            r = await client.send(req)
            got = await r.json()
            assert got["body"] == "hello" and got["headers"]["host"] == "site.test"
            assert got["headers"]["content-length"] == "5" and "transfer-encoding" not in got["headers"]
            assert "user-agent" not in got["headers"]  # nothing added: the fields are the caller's
            assert client.pool.stats() == {"connections": 1, "idle": 1}

        on_server(loop, body)

    def test_a_content_of_the_wrong_length_or_failing_never_reaches_the_pool(self, loop):
        async def body(client, base):
            async def short():
                yield b"abc"

            async def failing():
                yield b"a"
                raise ConnectionResetError("the proxied client went away")

            with pytest.raises(ValueError):
                await client.send(self.prepared(base, "POST", "/echo", body=short(), content_length=5))
            assert client.pool.stats()["connections"] == 0
            # the content's own error comes out as it is, not as a connection error
            with pytest.raises(ConnectionResetError, match="went away"):
                await client.send(self.prepared(base, "PUT", "/echo", body=failing()))
            assert client.pool.stats()["connections"] == 0

        on_server(loop, body)

    def test_read_ready_takes_a_content_that_came_with_the_head(self, loop):
        def handler(conn):
            read_head(conn)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            read_head(conn)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabc")
            time.sleep(0.2)
            conn.sendall(b"def")
            time.sleep(0.2)

        with raw_server(handler) as url:
            async def main():
                async with Client() as client:
                    r = await client.send(self.prepared(url, "GET", "/a"))
                    assert r.read_ready() == b"ok" and await r.read() == b"ok"
                    assert client.pool.stats() == {"connections": 1, "idle": 1}
                    r = await client.send(self.prepared(url, "GET", "/b"))
                    assert r.read_ready() is None and r.content_length == 6 and not r.chunked
                    assert await r.read() == b"abcdef"

            run(loop, main())

    def test_max_idle_per_host(self, loop):
        async def main():
            async with serving(make_app()) as server:
                host, port = server.addresses[0][:2]
                async with Client(f"http://{host}:{port}", limits=Limits(max_idle_per_host=1)) as client:
                    responses = await asyncio.gather(*(client.get("/hello", stream=True) for _ in range(3)))
                    for r in responses:
                        await r.read()
                    return client.pool.stats()

        assert run(loop, main()) == {"connections": 1, "idle": 1}


class TestHostileServers:
    def test_json_nested_past_the_recursion_limit_is_a_json_decode_error(self):
        # Before: RecursionError, which neither ``except ValueError`` nor ClientError catches.
        body = b"[" * 100_000 + b"]" * 100_000
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
        with raw_server(answering(head + body)) as url, SyncClient() as client:
            with pytest.raises(json.JSONDecodeError, match="nested too deeply"):
                client.get(url).json()

    @pytest.mark.parametrize("charset", [b"no-such-codec", b"hex", b"zlib", b"rot13"])
    def test_a_charset_that_is_not_a_known_text_encoding_reads_as_utf8(self, charset):
        # Before: LookupError (or a bytes-to-bytes codec's TypeError) escaped text().
        response = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=" + charset + b"\r\nContent-Length: 5\r\n\r\ncaf\xc3\xa9"
        with raw_server(answering(response)) as url, SyncClient() as client:
            assert client.get(url).text() == "caf\u00e9"

    @pytest.mark.parametrize("location", [b"file:///etc/passwd", b"javascript:alert(1)", b"/a b", b"http://a\x80b/"])
    def test_a_redirect_that_cannot_be_followed_is_the_answer(self, location):
        # Before: the ValueError of the URL check escaped, past callers that catch ClientError.
        response = b"HTTP/1.1 302 Found\r\nLocation: " + location + b"\r\nContent-Length: 0\r\n\r\n"
        with raw_server(answering(response)) as url, SyncClient() as client:
            resp = client.get(url)
            assert resp.status == 302 and resp.headers["location"] == location.decode("latin-1") and resp.history == []

    def test_content_length_and_chunked(self, loop):
        def handler(conn):
            read_head(conn)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
            time.sleep(0.2)

        with raw_server(handler) as url:
            async def main():
                async with Client() as client:
                    with pytest.raises(ResponseProtocolError) as info:
                        await client.get(url)
                    assert b"Transfer-Encoding" in info.value.data
                    assert client.pool.stats()["connections"] == 0

            run(loop, main())

    def test_truncated_body(self, loop):
        def handler(conn):
            read_head(conn)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")

        with raw_server(handler) as url:
            async def main():
                async with Client() as client:
                    with pytest.raises(IncompleteResponseError):
                        await client.get(url)

            run(loop, main())

    def test_a_one_gigabyte_content_length_past_the_limit(self, loop):
        def handler(conn):
            read_head(conn)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n" + b"x" * 65536)
            time.sleep(0.5)

        with raw_server(handler) as url:
            async def main():
                async with Client(limits=Limits(max_response_size=1_000_000)) as client:
                    with pytest.raises(ResponseTooLarge):
                        await client.get(url)

            run(loop, main())

    def test_slow_drip_hits_the_read_timeout(self, loop):
        stop = threading.Event()

        def handler(conn):
            read_head(conn)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
            for _ in range(30):
                if stop.wait(0.5):
                    return
                conn.sendall(b"x")

        with raw_server(handler) as url:
            async def main():
                async with Client(timeout=Timeouts(read=0.2)) as client:
                    with pytest.raises(ClientTimeout) as info:
                        await client.get(url)
                    assert info.value.phase == "read"
                async with Client(timeout=Timeouts(read=5, total=0.8)) as client:
                    with pytest.raises(ClientTimeout) as info:
                        await client.get(url)
                    assert info.value.phase == "total"

            try:
                run(loop, main())
            finally:
                stop.set()

    def test_pooled_connection_closed_by_the_server_is_retried_for_get_never_post(self, loop):
        with raw_server(answer_once_then_drop) as url:
            async def main():
                async with Client() as client:
                    assert await (await client.get(url)).read() == b"ok"
                    # reused connection: the server reads the request and closes unanswered
                    assert await (await client.get(url)).read() == b"ok"  # retried on a new one
                    with pytest.raises(IncompleteResponseError):
                        await client.post(url, content=b"data")  # never replayed

            run(loop, main())

    def test_retry_on_a_silently_dead_pooled_connection(self, loop):
        # The server closes right after answering; the client may still see the connection as
        # healthy for a moment. A GET is retried once on a new connection.
        def handler(conn):
            if read_head(conn):
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

        with raw_server(handler) as url:
            async def main():
                async with Client() as client:
                    for _ in range(3):
                        assert await (await client.get(url)).read() == b"ok"

            run(loop, main())

    def test_a_final_answer_to_expect_100_continue_skips_the_content(self, loop):
        heads = []

        def handler(conn):
            heads.append(read_head(conn))
            conn.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\nHTTP/1.1 413 Content Too Large\r\nContent-Length: 4\r\n\r\nnope")
            time.sleep(0.3)

        with raw_server(handler) as url:
            async def main():
                async with Client() as client:
                    r = await client.post(url, content=b"x" * 1000, expect_continue=True)
                    assert (r.status, await r.text()) == (413, "nope")
                    assert client.pool.stats()["connections"] == 0  # not reused: the server may wait

            run(loop, main())
            with SyncClient() as client:
                r = client.post(url, content=b"x" * 1000, expect_continue=True)
                assert (r.status, r.text()) == (413, "nope")
        assert all(h.endswith(b"\r\n\r\n") and b"Expect: 100-continue" in h for h in heads)

    def test_connect_error(self, loop):
        async def main():
            async with Client(timeout=2) as client:
                with pytest.raises(ConnectError):
                    await client.get("http://127.0.0.1:1/")

        run(loop, main())

    def test_pool_wait_timeout(self, loop):
        def handler(conn):
            read_head(conn)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")
            time.sleep(1)

        with raw_server(handler) as url:
            async def main():
                async with Client(limits=Limits(max_per_host=1), timeout=Timeouts(pool=0.2)) as client:
                    r = await client.get(url, stream=True)
                    with pytest.raises(ClientTimeout) as info:
                        await client.get(url)
                    assert info.value.phase == "pool"
                    await r.aclose()

            run(loop, main())


def answer_once_then_drop(conn):
    """Answer the first request on a connection; read the second and close without a word."""
    if read_head(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        read_head(conn)


class TestAuth:
    def test_basic_and_digest_retry_on_401(self, loop):
        seen = []

        def handler(conn):
            while True:
                head = read_head(conn)
                if not head:
                    return
                seen.append(head)
                auth = [line for line in head.split(b"\r\n") if line.lower().startswith(b"authorization:")]
                if not auth:
                    conn.sendall(b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm="r", nonce="n1", qop="auth"\r\nContent-Length: 0\r\n\r\n')
                else:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(auth[0]), auth[0]))

        with raw_server(handler) as url:
            async def main():
                async with Client(auth=DigestAuth("u", "p")) as client:
                    r = await client.get(url + "/x")
                    text = await r.text()
                    assert r.status == 200 and 'username="u"' in text and 'uri="/x"' in text and "qop=auth" in text
                async with Client(auth=BasicAuth("u", "p")) as client:
                    r = await client.get(url)
                    assert (await r.text()).endswith("Basic dTpw")

            run(loop, main())

    def test_credentials_dropped_on_a_cross_origin_redirect(self, loop):
        heads = []

        def target(conn):
            heads.append(read_head(conn))
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

        with raw_server(target) as other:
            def redirector(conn):
                read_head(conn)
                conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: %s/landing\r\nContent-Length: 0\r\n\r\n" % other.encode())

            with raw_server(redirector) as url:
                async def main():
                    async with Client(auth=("u", "p")) as client:
                        r = await client.get(url, headers={"Authorization": "Bearer secret"})
                        assert r.status == 200

                run(loop, main())
        assert heads and b"authorization" not in heads[0].lower()


class TestCookieJar:
    def test_policies(self):
        jar = CookieJar()
        jar.extract("http://a.site.example/x", "http", "a.site.example", "/x/y", ["s=1; Path=/", "d=2; Domain=site.example; Path=/", "bad=3; Domain=other.test"])
        assert jar.header("http", "a.site.example", "/") == "s=1; d=2"
        assert jar.header("http", "b.site.example", "/") == "d=2"
        same = CookieJar("same-host")
        same.extract("http://a.site.example/", "http", "a.site.example", "/", ["d=2; Domain=site.example", "h=1"])
        assert same.header("http", "a.site.example", "/") == "h=1"
        none = CookieJar("none")
        none.extract("http://a.example/", "http", "a.example", "/", ["h=1"])
        assert len(none) == 0
        custom = CookieJar(lambda cookie, url: cookie.name != "track")
        custom.extract("http://a.example/", "http", "a.example", "/", ["track=1", "keep=2"])
        assert custom.header("http", "a.example", "/") == "keep=2"

    def test_a_domain_attribute_naming_a_public_suffix_is_refused(self):
        # RFC 6265 §5.3 step 5 (a single label stands for a public suffix): a cookie for "com"
        # would go to every .com site; on the host of that very name it is host-only.
        jar = CookieJar()
        jar.extract("http://evil.com/", "http", "evil.com", "/", ["fix=1; Domain=com", "dot=1; Domain=.com"])
        assert len(jar) == 0 and jar.header("http", "bank.com", "/") is None
        jar.extract("http://localhost/", "http", "localhost", "/", ["h=1; Domain=localhost"])
        assert jar.header("http", "localhost", "/") == "h=1" and jar.header("http", "a.localhost", "/") is None

    def test_a_plain_http_response_cannot_replace_a_secure_cookie(self):
        # RFC 6265bis §5.7 step 16: before, http://a.example/ could overwrite the https session.
        jar = CookieJar()
        jar.extract("https://a.example/", "https", "a.example", "/", ["sid=good; Secure; Path=/"])
        jar.extract("http://a.example/", "http", "a.example", "/", ["sid=evil; Path=/", "other=1"])
        jar.extract("http://b.a.example/", "http", "b.a.example", "/", ["sid=evil; Domain=a.example"])
        assert jar.header("https", "a.example", "/") == "sid=good; other=1"
        jar.extract("https://a.example/", "https", "a.example", "/", ["sid=new; Path=/"])  # https may
        assert jar.header("http", "a.example", "/") == "sid=new; other=1"

    def test_expiry_secure_and_paths(self):
        jar = CookieJar()
        jar.extract("https://a.example/", "https", "a.example", "/", ["s=1; Secure", "gone=1; Max-Age=0", "p=1; Path=/api"])
        assert jar.header("http", "a.example", "/") is None
        assert jar.header("https", "a.example", "/api/v1") == "p=1; s=1"
        assert jar.get("gone") is None


class TestOtherServers:
    def test_http_server_from_the_standard_library(self, loop):
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                body = b"from http.server"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_HEAD(self):
                self.send_response(200)
                self.send_header("Content-Length", "999")
                self.end_headers()

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        try:
            async def main():
                async with Client() as client:
                    assert await (await client.get(url)).read() == b"from http.server"
                    r = await client.head(url)
                    assert r.headers.get("content-length") == "999" and await r.read() == b""
                    assert await (await client.get(url)).read() == b"from http.server"

            run(loop, main())
            with SyncClient() as client:
                assert client.get(url).read() == b"from http.server"
                assert client.head(url).read() == b""
        finally:
            server.shutdown()
            server.server_close()

    def test_uvicorn(self, loop):
        uvicorn = pytest.importorskip("uvicorn")

        async def app(scope, receive, send):
            if scope["type"] != "http":
                return
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"uvi", "more_body": True})
            await send({"type": "http.response.body", "body": b"corn"})

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="error", lifespan="off")
        server = uvicorn.Server(config)

        async def main():
            task = asyncio.ensure_future(server.serve(sockets=[sock]))
            while not server.started:
                await asyncio.sleep(0.02)
            try:
                async with Client() as client:
                    for _ in range(2):
                        r = await client.get(f"http://127.0.0.1:{port}/")
                        assert await r.read() == b"uvicorn"
            finally:
                server.should_exit = True
                await task

        run(loop, main())
        sock.close()


class TestSyncClient:
    def test_the_same_api_without_await(self, loop):
        results = {}

        async def main():
            async with serving(make_app()) as server:
                host, port = server.addresses[0][:2]

                def work():
                    with SyncClient(base_url=f"http://{host}:{port}") as client:
                        results["text"] = client.get("/hello").text()
                        results["json"] = client.post("/echo", json={"a": 1}).json()["body"]
                        results["redirects"] = len(client.get("/redirect/2").history)
                        results["stream"] = sum(len(p) for p in client.get("/big", stream=True).stream())
                        results["chunked"] = client.put("/echo", content=iter([b"a", b"b"])).json()["body"]
                        results["cookie"] = (client.get("/set-cookie"), client.get("/echo").json()["headers"].get("cookie"))[1]

                await asyncio.get_running_loop().run_in_executor(None, work)

        run(loop, main())
        assert results == {"text": "hello, world", "json": '{"a":1}', "redirects": 2, "stream": 100_000, "chunked": "ab", "cookie": "session=abc"}

    def test_hostile_servers(self):
        def both(conn):
            read_head(conn)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n")

        def drip(conn):
            read_head(conn)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
            time.sleep(1)

        def huge(conn):
            read_head(conn)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n")

        with raw_server(both) as url, SyncClient() as client:
            with pytest.raises(ResponseProtocolError):
                client.get(url)
        with raw_server(drip) as url, SyncClient(timeout=Timeouts(read=0.2)) as client:
            with pytest.raises(ClientTimeout) as info:
                client.get(url)
            assert info.value.phase == "read"
        with raw_server(huge) as url, SyncClient(limits=Limits(max_response_size=10)) as client:
            with pytest.raises(ResponseTooLarge):
                client.get(url)

    def test_retry_of_a_get_on_a_closed_pooled_connection(self):
        with raw_server(answer_once_then_drop) as url, SyncClient() as client:
            assert client.get(url).read() == b"ok"
            assert client.get(url).read() == b"ok"
            with pytest.raises(IncompleteResponseError):
                client.post(url, content=b"data")


class TestRequestHead:
    @pytest.mark.parametrize("url", ["http://127.0.0.1\x00:80/", "http://evil\x00.example/", "http://a b/", "http://a\x7f/", "http://a%00b/", "http://a\tb\x01/"])
    def test_a_host_outside_the_uri_host_grammar_is_refused_before_connecting(self, url):
        # RFC 3986 §3.2.2. Before: "127.0.0.1\x00:80" connected to 127.0.0.1 and sent the NUL
        # in its Host field.
        with SyncClient() as client, pytest.raises(ValueError, match="invalid host"):
            client.get(url)

    @pytest.mark.parametrize("method", ["GET / HTTP/1.1\r\nX: 1\r\n\r\nGET", "G ET", "", "GE\x00T"])
    def test_a_method_that_is_not_a_token_is_refused_before_connecting(self, method):
        # RFC 9110 §9.1. Before: the CRLFs went out, a second request smuggled in the first.
        with SyncClient() as client, pytest.raises(ValueError, match="invalid method"):
            client.request(method, "http://127.0.0.1:1/")

    @pytest.mark.parametrize("value", ["a\x01b", "a\x7fb", "a\x0bb", "a\rb"])
    def test_a_header_value_with_a_control_character_is_refused(self, value):
        # RFC 9110 §5.5: field-vchar and HTAB/SP only; our server answers such a field 400.
        with SyncClient() as client, pytest.raises(ValueError, match="control character"):
            client.get("http://127.0.0.1:1/", headers={"X": value})

    def test_an_internationalized_host_is_connected_to_and_sent_in_its_ascii_form(self):
        from fasthttp.client._flow import split_url

        assert split_url("http://caf\u00e9.example:8080/x") == ("http", "xn--caf-dma.example", 8080, "/x")
        assert split_url("http://[::1]:8080/") == ("http", "::1", 8080, "/")


class TestCommandLine:
    def _serve(self, loop, argv_list, tmp_path=None):
        import subprocess
        import sys

        async def main():
            async with serving(make_app()) as server:
                host, port = server.addresses[0][:2]
                outs = []
                for argv in argv_list:
                    argv = [a.replace("BASE", f"http://{host}:{port}") for a in argv]
                    proc = await asyncio.create_subprocess_exec(
                        sys.executable, "-m", "fasthttp.client", *argv,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    )
                    out, err = await proc.communicate()
                    outs.append((proc.returncode, out, err.decode()))
                return outs

        return run(loop, main(), timeout=30)

    def test_get_post_json_headers_verbose_and_output(self, loop, tmp_path):
        target = tmp_path / "out.txt"
        (r1, r2, r3, r4, r5) = self._serve(loop, [
            ["BASE/hello"],
            ["BASE/echo", "-X", "PUT", "-d", "abc", "-H", "X-One: 1"],
            ["BASE/echo", "--json", '{"a": 1}'],
            ["BASE/redirect/1", "-v", "-o", str(target)],
            ["BASE/missing"],
        ])
        assert r1[0] == 0 and r1[1] == b"hello, world"
        got = json.loads(r2[1])
        assert (got["method"], got["body"], got["headers"]["x-one"]) == ("PUT", "abc", "1")
        got = json.loads(r3[1])
        assert (got["method"], got["body"]) == ("POST", '{"a":1}')
        assert r4[0] == 0 and target.read_bytes() == b"hello, world"
        assert "> GET /redirect/1 HTTP/1.1" in r4[2] and "< HTTP/1.1 302" in r4[2] and "< HTTP/1.1 200 OK" in r4[2]
        assert r5[0] == 22

    def test_unix_socket_and_errors(self, loop, tmp_path):
        import subprocess
        import sys

        path = str(tmp_path / "s.sock")

        async def main():
            async with serving(make_app(), bind=f"unix:{path}"):
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "fasthttp.client", "http://localhost/hello", "--unix-socket", path,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                )
                return await proc.communicate()

        out, _ = run(loop, main(), timeout=30)
        assert out == b"hello, world"
        done = subprocess.run([sys.executable, "-m", "fasthttp.client", "http://127.0.0.1:1/", "--timeout", "2"], capture_output=True, text=True, timeout=30)
        assert done.returncode == 1 and "ConnectError" in done.stderr
