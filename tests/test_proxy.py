"""Tunnels and the reverse proxy (``fasthttp.proxy``): a real TLS client through a CONNECT tunnel,
flow control and the idle timeout; the reverse proxy against a real upstream fasthttp server
(hop-by-hop fields, Forwarded, streaming both ways, pooling, 502/504). Raw sockets, on the
asyncio and uvloop loops."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time

import pytest
from helpers_server import run, serving
from helpers_tls import connect, read_all, read_head, read_response

from fasthttp import App, StreamingResponse
from fasthttp.client import Client
from fasthttp.proxy import ReverseProxy, open_tunnel, parse_authority
from fasthttp.testing import TempServer


def upstream_app() -> App:
    app = App()

    @app.route("/echo", methods=["GET", "POST", "PUT", "HEAD"])
    async def echo(request):
        body = await request.body()
        return {
            "method": request.method,
            "target": request.target.decode(),
            "headers": dict(request.headers.items()),
            "size": len(body),
            "client_port": request.client[1] if isinstance(request.client, tuple) else None,
            "secure": request.is_secure,
        }

    @app.get("/chunks")
    def chunks(request):
        return StreamingResponse(iter([b"a" * 1000, b"b" * 1000, b"c"]), headers={"X-Up": "1"})

    @app.get("/slow")
    async def slow(request):
        await asyncio.sleep(2)
        return "late"

    return app


def proxy_app(upstream: str, **options) -> App:
    app = App()
    proxy = ReverseProxy(upstream, **options)

    @app.route("/", methods=["CONNECT"])
    async def tunnel(request):
        return await open_tunnel(request, idle_timeout=options.get("timeout", 30.0))

    app.route("/:path*", methods=["GET", "HEAD", "POST", "PUT", "DELETE"])(proxy)
    app.on_shutdown(proxy.close)  # the idle upstream connections go with the server
    return app


def test_parse_authority():
    assert parse_authority(b"example.com:443") == ("example.com", 443)
    assert parse_authority("[::1]:8443") == ("::1", 8443)
    for bad in ("example.com", ":443", "a:0", "a:99999", "[::1]"):
        with pytest.raises(ValueError):
            parse_authority(bad)


def test_a_tls_client_through_a_connect_tunnel(loop, tls):
    with TempServer(upstream_app(), certfile=tls.cert_file, keyfile=tls.key_file) as upstream:
        port = upstream.address[1]

        async def scenario():
            async with serving(proxy_app("http://127.0.0.1:1")) as proxy:
                def client():
                    with connect(proxy.addresses[0]) as raw:
                        raw.sendall(f"CONNECT localhost:{port} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n".encode())
                        established = read_head(raw)
                        with tls.client_context().wrap_socket(raw, server_hostname="localhost") as sock:
                            out = []
                            for n in range(2):
                                body = b"x" * (300_000 if n else 10)  # flow control: more than the buffers
                                sock.sendall(b"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
                                out.append(read_response(sock))
                            return established, out

                return await asyncio.get_running_loop().run_in_executor(None, client)

        established, responses = run(loop, scenario())
    assert established.startswith(b"HTTP/1.1 200 ")
    assert b"content-length" not in established.lower() and b"transfer-encoding" not in established.lower()
    for (head, body), size in zip(responses, (10, 300_000)):
        data = json.loads(body)
        assert head.startswith(b"HTTP/1.1 200") and data["secure"] is True and data["size"] == size


def test_connect_failures_are_502_and_bad_targets_400(loop):
    async def scenario():
        async with serving(proxy_app("http://127.0.0.1:1")) as proxy:
            def client(target):
                with connect(proxy.addresses[0]) as raw:
                    raw.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
                    return read_response(raw)[0]

            closed = socket.socket()
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
            closed.close()  # nobody listens there now
            run_in = asyncio.get_running_loop().run_in_executor
            return await run_in(None, client, f"127.0.0.1:{port}")

    head = run(loop, scenario())
    assert head.startswith(b"HTTP/1.1 502")


def test_an_idle_tunnel_is_closed_and_a_busy_one_is_not(loop):
    echo_server = socket.socket()
    echo_server.bind(("127.0.0.1", 0))
    echo_server.listen(1)
    port = echo_server.getsockname()[1]

    def echo():
        conn, _ = echo_server.accept()
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)

    thread = threading.Thread(target=echo, daemon=True)
    thread.start()

    async def scenario():
        app = App(keep_alive_timeout=0.2)  # the engine's idle timeout must not cut the tunnel

        @app.route("/", methods=["CONNECT"])
        async def tunnel(request):
            return await open_tunnel(request, idle_timeout=0.5)

        async with serving(app, keep_alive_timeout=0.2) as proxy:
            def client():
                with connect(proxy.addresses[0]) as raw:
                    raw.sendall(f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                    head = read_head(raw)
                    echoed = b""
                    for i in range(6):  # 0.6 s of steady traffic: longer than both timeouts
                        raw.sendall(b"%d" % i)
                        echoed += raw.recv(16)
                        time.sleep(0.1)
                    rest = read_all(raw)  # then silence: the tunnel's idle timeout closes it
                    return head, echoed, rest

            return await asyncio.get_running_loop().run_in_executor(None, client)

    try:
        head, echoed, rest = run(loop, scenario())
    finally:
        echo_server.close()
    assert head.startswith(b"HTTP/1.1 200") and echoed == b"012345" and rest == b""


def _proxied(loop, requests, **options):
    """Serve the proxy in front of a real upstream; send each raw request on one client
    connection; return the parsed responses (head, body)."""
    with TempServer(upstream_app()) as upstream:
        async def scenario():
            async with serving(proxy_app(upstream.url, **options)) as proxy:
                def client():
                    out = []
                    with connect(proxy.addresses[0]) as raw:
                        for data in requests:
                            raw.sendall(data)
                            out.append(read_response(raw, data.split(b" ", 1)[0].decode()))
                    return out

                return await asyncio.get_running_loop().run_in_executor(None, client)

        return run(loop, scenario())


def test_reverse_proxy_forwards_and_strips_hop_by_hop_fields(loop):
    req = b"GET /echo?q=1 HTTP/1.1\r\nHost: site.test\r\nConnection: X-Secret\r\nX-Secret: 1\r\nX-Kept: 2\r\nTE: trailers\r\nForwarded: for=10.0.0.1\r\n\r\n"
    ((head, body),) = _proxied(loop, [req])
    data = json.loads(body)
    assert head.startswith(b"HTTP/1.1 200") and b"Via: 1.1 fasthttp" in head
    assert data["target"] == "/echo?q=1" and data["headers"]["host"] == "site.test"
    assert data["headers"]["x-kept"] == "2"
    assert "x-secret" not in data["headers"] and "te" not in data["headers"]
    assert data["headers"]["forwarded"] == 'for=10.0.0.1, for=127.0.0.1;proto=http;host="site.test"'


def test_reverse_proxy_streams_bodies_both_ways_and_pools_connections(loop):
    big = b"z" * 500_000
    chunked = b"PUT /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    responses = _proxied(
        loop,
        [
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(big) + big,
            chunked,
            b"GET /chunks HTTP/1.1\r\nHost: t\r\n\r\n",
            b"HEAD /echo HTTP/1.1\r\nHost: t\r\n\r\n",
            b"GET /echo HTTP/1.1\r\nHost: t\r\n\r\n",
        ],
    )
    (h1, b1), (h2, b2), (h3, b3), (h4, b4), (h5, b5) = responses
    assert json.loads(b1)["size"] == 500_000 and json.loads(b2)["size"] == 3
    assert b3 == b"a" * 1000 + b"b" * 1000 + b"c" and b"x-up: 1" in h3.lower()
    assert b4 == b"" and h4.startswith(b"HTTP/1.1 200")
    # One upstream connection served them all (the pool keeps it between requests).
    assert json.loads(b1)["client_port"] == json.loads(b5)["client_port"]


def test_reverse_proxy_upstream_errors_are_502_and_504(loop):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead = f"http://127.0.0.1:{closed.getsockname()[1]}"
    closed.close()

    async def scenario():
        async with serving(proxy_app(dead)) as proxy:
            def client():
                with connect(proxy.addresses[0]) as raw:
                    raw.sendall(b"GET /echo HTTP/1.1\r\nHost: t\r\n\r\n")
                    return read_response(raw)

            return await asyncio.get_running_loop().run_in_executor(None, client)

    head, _ = run(loop, scenario())
    assert head.startswith(b"HTTP/1.1 502")
    ((head, _),) = _proxied(loop, [b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"], timeout=0.2)
    assert head.startswith(b"HTTP/1.1 504")


def test_reverse_proxy_refuses_a_bad_upstream_url():
    with pytest.raises(ValueError):
        ReverseProxy("ftp://example.com/")


def test_reverse_proxy_strips_hop_by_hop_fields_of_the_response(loop):
    upstream = socket.socket()
    upstream.bind(("127.0.0.1", 0))
    upstream.listen(1)
    port = upstream.getsockname()[1]

    def serve_one():
        conn, _ = upstream.accept()
        with conn:
            read_head(conn)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nConnection: X-Up, keep-alive\r\nX-Up: 1\r\nKeep-Alive: timeout=5\r\n"
                b"X-Other: 2\r\nContent-Length: 2\r\n\r\nok"
            )
            read_all(conn)

    thread = threading.Thread(target=serve_one, daemon=True)
    thread.start()

    async def scenario():
        async with serving(proxy_app(f"http://127.0.0.1:{port}")) as proxy:
            def client():
                with connect(proxy.addresses[0]) as raw:
                    raw.sendall(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
                    return read_response(raw)

            return await asyncio.get_running_loop().run_in_executor(None, client)

    try:
        head, body = run(loop, scenario())
    finally:
        upstream.close()
    assert body == b"ok" and b"x-other: 2" in head.lower()
    assert b"x-up" not in head.lower() and b"keep-alive" not in head.lower()


# -- the reverse proxy on fasthttp.client: framing, field case, trailers, AF_UNIX ----------------------


def _scripted_upstream(replies):
    """A raw upstream on one port: each accepted connection reads request heads and answers each
    with ``replies[path]`` (bytes, or a list of bytes sent with a pause between: a streamed
    body). Returns (url, heads seen, close)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(5)
    seen = []

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=one, args=(conn,), daemon=True).start()

    def one(conn):
        with conn:
            buf = b""
            conn.settimeout(5)
            while True:
                while b"\r\n\r\n" not in buf:
                    try:
                        data = conn.recv(65536)
                    except OSError:
                        return
                    if not data:
                        return
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                seen.append(head)
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                while len(buf) < length:
                    buf += conn.recv(65536)
                seen.append(buf[:length])
                buf = buf[length:]
                path = head.split(b" ")[1].decode()
                reply = replies[path]
                for n, piece in enumerate(reply if isinstance(reply, list) else [reply]):
                    if n:
                        time.sleep(0.1)
                    conn.sendall(piece)

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}", seen, listener.close


def _through(loop, replies, requests):
    """Send the raw *requests* on one client connection through a proxy to a scripted upstream;
    return (responses, what the upstream saw)."""
    url, seen, close = _scripted_upstream(replies)

    async def scenario():
        async with serving(proxy_app(url)) as proxy:
            def client():
                out = []
                with connect(proxy.addresses[0]) as raw:
                    for data in requests:
                        raw.sendall(data)
                        out.append(read_response(raw, data.split(b" ", 1)[0].decode()))
                return out

            return await asyncio.get_running_loop().run_in_executor(None, client)

    try:
        return run(loop, scenario()), seen
    finally:
        close()


def test_reverse_proxy_keeps_field_name_case_and_the_request_framing(loop):
    replies = {"/x": b"HTTP/1.1 200 OK\r\nX-Mixed-Case: 1\r\nETag: \"v1\"\r\nContent-Length: 2\r\n\r\nok"}
    req = b"POST /x HTTP/1.1\r\nHost: t\r\nX-Kept-Case: 2\r\nContent-Length: 5\r\n\r\nhello"
    ((head, body),), seen = _through(loop, replies, [req])
    assert body == b"ok" and b"\r\nX-Mixed-Case: 1\r\n" in head and b'\r\nETag: "v1"\r\n' in head
    upstream_head, upstream_body = seen
    # the client's names in their case; its length, not chunked coding (RFC 9112 §6.2)
    assert b"\r\nX-Kept-Case: 2\r\n" in upstream_head and b"\r\nContent-Length: 5" in upstream_head
    assert b"transfer-encoding" not in upstream_head.lower() and upstream_body == b"hello"
    assert upstream_head.startswith(b"POST /x HTTP/1.1\r\nHost: t\r\n")


def test_reverse_proxy_relays_bodyless_responses_without_inventing_fields(loop):
    replies = {
        "/204": b"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n",
        "/304": b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 1234\r\n\r\n',
        "/head": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1234\r\n\r\n",
        "/after": b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext",
    }
    requests = [
        b"GET /204 HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET /304 HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"v1\"\r\n\r\n",
        b"HEAD /head HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET /after HTTP/1.1\r\nHost: t\r\n\r\n",
    ]
    (r204, r304, rhead, rafter), _ = _through(loop, replies, requests)
    # a 304 updates a cache's stored fields (RFC 9111 §4.3.4): a Content-Type added here would
    # overwrite the stored one; 204 and 304 never carry framing (RFC 9110 §8.6, §6.4.1)
    for head, _ in (r204, r304):
        assert b"content-type" not in head.lower() and b"transfer-encoding" not in head.lower()
    assert r204[0].startswith(b"HTTP/1.1 204") and b"x-a: 1" in r204[0].lower() and b"content-length" not in r204[0].lower()
    assert r304[0].startswith(b"HTTP/1.1 304") and b'etag: "v1"' in r304[0].lower()
    # HEAD: the length the GET would have had (RFC 9110 §9.3.2), and no content sent
    assert b"content-length: 1234" in rhead[0].lower() and rhead[1] == b""
    assert rafter[1] == b"next"  # the client connection is still in step


def test_reverse_proxy_relays_chunked_content_with_its_trailers(loop):
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
    replies = {
        "/whole": head + b"3\r\nabc\r\n0\r\nX-Sum: 42\r\n\r\n",  # arrives with the head
        "/streamed": [head + b"3\r\nabc\r\n", b"2\r\nde\r\n0\r\nX-Sum: 43\r\nContent-Length: 9\r\n\r\n"],
        "/close": [b"HTTP/1.0 200 OK\r\n\r\nuntil", b" close"],
    }
    url, seen, close = _scripted_upstream(replies)

    async def scenario():
        async with serving(proxy_app(url)) as proxy:
            host, port = proxy.addresses[0][:2]
            async with Client(base_url=f"http://{host}:{port}") as client:
                out = []
                for path in ("/whole", "/streamed", "/close"):
                    r = await client.get(path)
                    out.append((r.headers, await r.read(), r.trailers))
                return out

    try:
        (h1, b1, t1), (h2, b2, t2), (h3, b3, t3) = run(loop, scenario())
    finally:
        close()
    assert (b1, t1.get("x-sum"), h1.get("trailer")) == (b"abc", "42", "X-Sum")
    # a framing field never comes from trailers (RFC 9110 §6.5.1)
    assert (b2, t2.get("x-sum"), "content-length" in t2) == (b"abcde", "43", False)
    assert b3 == b"until close" and h3.get("via") == "1.0 fasthttp"


def test_reverse_proxy_refuses_responses_it_cannot_relay(loop):
    replies = {
        "/both": b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        "/switch": b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n",
        "/ok": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    }
    requests = [
        b"GET /both HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET /switch HTTP/1.1\r\nHost: t\r\n\r\n",
        b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        b"GET /ok HTTP/1.1\r\nHost: t\r\n\r\n",
    ]

    def proxy_only(url):
        app = App()
        proxy = ReverseProxy(url)
        app.route("/:path*", methods=["GET"])(proxy)
        app.route("/", methods=["CONNECT"])(proxy)
        app.on_shutdown(proxy.close)
        return app

    url, seen, close = _scripted_upstream(replies)

    async def scenario():
        async with serving(proxy_only(url)) as proxy:
            def client():
                with connect(proxy.addresses[0]) as raw:
                    out = []
                    for data in requests:
                        raw.sendall(data)
                        out.append(read_response(raw)[0])
                    return out

            return await asyncio.get_running_loop().run_in_executor(None, client)

    try:
        both, switch, tunnel, ok = run(loop, scenario())
    finally:
        close()
    assert both.startswith(b"HTTP/1.1 502") and switch.startswith(b"HTTP/1.1 502")
    assert tunnel.startswith(b"HTTP/1.1 405") and ok.startswith(b"HTTP/1.1 200")


def test_reverse_proxy_to_an_af_unix_upstream(loop, tmp_path):
    path = str(tmp_path / "up.sock")

    async def scenario():
        async with serving(upstream_app(), bind=f"unix:{path}"):
            async with serving(proxy_app(f"unix:{path}")) as proxy:
                def client():
                    with connect(proxy.addresses[0]) as raw:
                        out = []
                        for _ in range(2):
                            raw.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
                            out.append(json.loads(read_response(raw)[1]))
                        return out

                return await asyncio.get_running_loop().run_in_executor(None, client)

    first, second = run(loop, scenario())
    assert first["size"] == 3 and first["headers"]["host"] == "t"
    assert first["headers"]["forwarded"] == 'for=127.0.0.1;proto=http;host="t"'
    assert second["size"] == 3


# -- upgrades through the reverse proxy (RFC 9110 §7.8, RFC 6455) ---------------------------------------


def websocket_upstream() -> App:
    app = App()

    @app.websocket("/ws")
    async def echo(ws):
        await ws.accept(subprotocol="chat" if "chat" in ws.subprotocols else None)
        await ws.send("via " + (ws.request.headers.get("via") or "") + "; " + (ws.request.headers.get("forwarded") or ""))
        async for message in ws:
            await ws.send(message)

    @app.get("/plain")
    def plain(request):
        return "not a websocket"

    return app


def test_a_websocket_client_talks_to_the_upstream_through_the_proxy(loop):
    """The `websockets` library as the client: the handshake (with its subprotocol) and every
    message go through the proxy to a real upstream websocket, and back."""
    import websockets

    async def scenario():
        async with serving(websocket_upstream()) as upstream:
            url = "http://%s:%d" % upstream.addresses[0][:2]
            async with serving(proxy_app(url)) as proxy:
                host, port = proxy.addresses[0][:2]
                async with websockets.connect(f"ws://{host}:{port}/ws", subprotocols=["chat"], open_timeout=5) as ws:
                    assert ws.subprotocol == "chat"
                    greeting = await asyncio.wait_for(ws.recv(), 5)
                    assert greeting.startswith("via 1.1 fasthttp; for=127.0.0.1;proto=http")
                    for message in ("hello", b"\x00\x01binary", "x" * 200_000):
                        await ws.send(message)
                        assert await asyncio.wait_for(ws.recv(), 5) == message

    run(loop, scenario())


def test_an_upgrade_the_upstream_refuses_is_relayed_as_its_answer(loop):
    async def scenario():
        async with serving(websocket_upstream()) as upstream:
            url = "http://%s:%d" % upstream.addresses[0][:2]
            async with serving(proxy_app(url)) as proxy:
                def client():
                    with connect(proxy.addresses[0]) as raw:
                        raw.sendall(
                            b"GET /plain HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                            b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
                        )
                        head, body = read_response(raw)
                        # the connection stays HTTP: a second request on it is answered
                        raw.sendall(b"GET /plain HTTP/1.1\r\nHost: t\r\n\r\n")
                        return head, body, read_response(raw)

                return await asyncio.get_running_loop().run_in_executor(None, client)

    head, body, again = run(loop, scenario())
    assert head.startswith(b"HTTP/1.1 200 ") and body == b"not a websocket"
    assert b"\r\nupgrade:" not in head.lower()
    assert again[0].startswith(b"HTTP/1.1 200 ") and again[1] == b"not a websocket"


def _upgrade_through(loop, reply, request, then=b""):
    """A raw client's upgrade *request* through the proxy to a scripted upstream answering
    *reply*; after the head, *then* is sent and whatever comes back within a second is read.
    Returns (what the client read, what the upstream read)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(10)
    seen = []

    def upstream():
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            seen.append(data)
            conn.sendall(reply)
            try:
                while chunk := conn.recv(65536):  # the tunnel: echo in upper case
                    seen.append(chunk)
                    conn.sendall(chunk.upper())
            except OSError:
                pass

    thread = threading.Thread(target=upstream, daemon=True)
    thread.start()

    async def scenario():
        async with serving(proxy_app("http://127.0.0.1:%d" % listener.getsockname()[1])) as proxy:
            def client():
                with connect(proxy.addresses[0]) as raw:
                    raw.sendall(request)
                    got = read_head(raw)
                    if then:
                        raw.sendall(then)
                    raw.settimeout(1)
                    try:
                        while chunk := raw.recv(65536):
                            got += chunk
                    except OSError:
                        pass
                    return got

            return await asyncio.get_running_loop().run_in_executor(None, client)

    try:
        return run(loop, scenario()), seen
    finally:
        listener.close()


WS_REQUEST = b"GET /chat HTTP/1.1\r\nHost: t\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nX-App: 1\r\n\r\n"


def test_the_bytes_after_the_upstreams_101_reach_the_client_first(loop):
    reply = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Up: 2\r\n\r\nhello-after"
    got, seen = _upgrade_through(loop, reply, WS_REQUEST, then=b"ping")
    head, _, rest = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 ")
    lower = head.lower()
    assert b"\r\nupgrade: websocket" in lower and b"\r\nconnection: upgrade" in lower and b"\r\nx-up: 2" in lower
    assert rest == b"hello-afterPING"
    sent = seen[0].lower()
    # what the upstream was asked: the upgrade, the end-to-end fields, this hop; not keep-alive
    assert b"\r\nupgrade: websocket" in sent and b"\r\nconnection: upgrade" in sent and b"\r\nx-app: 1" in sent
    assert b"keep-alive" not in sent and b"\r\nforwarded: for=127.0.0.1" in sent
    assert seen[1:] == [b"ping"]


def test_a_101_to_a_protocol_nobody_asked_for_is_a_502(loop):
    reply = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"
    got, _ = _upgrade_through(loop, reply, WS_REQUEST)
    assert got.startswith(b"HTTP/1.1 502 ")


def test_an_upgrade_the_proxy_does_not_pass_on_is_forwarded_without_it(loop):
    """h2c (and any protocol not in *upgrades*) is not passed on: the request goes upstream as
    an ordinary one, its Upgrade field dropped as hop-by-hop (RFC 9110 §7.6.1)."""
    replies = {"/x": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}
    req = b"GET /x HTTP/1.1\r\nHost: t\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n"
    (resp,), seen = _through(loop, replies, [req])
    assert resp[0].startswith(b"HTTP/1.1 200 ") and resp[1] == b"ok"
    assert b"upgrade" not in seen[0].lower() and b"http2-settings" not in seen[0].lower()
    with pytest.raises(ValueError, match="h2c"):
        ReverseProxy("http://127.0.0.1:1", upgrades=["websocket", "h2c"])


def test_an_upgrade_to_a_dead_upstream_is_a_502(loop):
    async def scenario():
        async with serving(proxy_app("http://127.0.0.1:1")) as proxy:
            def client():
                with connect(proxy.addresses[0]) as raw:
                    raw.sendall(WS_REQUEST)
                    return read_response(raw)

            return await asyncio.get_running_loop().run_in_executor(None, client)

    head, _ = run(loop, scenario())
    assert head.startswith(b"HTTP/1.1 502 ")
