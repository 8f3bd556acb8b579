"""fasthttp.forwarded: Forwarded (RFC 7239) and X-Forwarded-*, believed only from trusted proxies;
and the engine applying it (request.client, scheme, host; the access log; the ASGI scope), plus
Request.host for absolute-form targets (RFC 9112 §3.2.2)."""

from __future__ import annotations

import io
import json

import pytest
from helpers_server import Client, run, serving

from fasthttp import App
from fasthttp.accesslog import AccessLog
from fasthttp.asgi import AsgiApplication
from fasthttp.forwarded import ProxyTrust, parse_forwarded
from fasthttp.headers import Headers

LOCAL = ("127.0.0.1", 5000)


def resolve(trust: ProxyTrust, peer, *fields: tuple[str, str]):
    return trust.resolve(peer, Headers(list(fields)))


# --- parsing ----------------------------------------------------------------------------------


def test_parse_forwarded_elements_and_quoting():
    assert parse_forwarded(['for=192.0.2.60;proto=http;by=203.0.113.43', 'For="[2001:db8:cafe::17]:4711", for=unknown']) == [
        {"for": "192.0.2.60", "proto": "http", "by": "203.0.113.43"},
        {"for": "[2001:db8:cafe::17]:4711"},
        {"for": "unknown"},
    ]
    # A comma or semicolon inside quotes does not split; a malformed element keeps its place.
    assert parse_forwarded(['for="a,b;c" , garbage, host="x\\"y"']) == [{"for": "a,b;c"}, {}, {"host": 'x"y'}]


# --- trust ------------------------------------------------------------------------------------


def test_untrusted_peer_is_taken_as_it_is():
    trust = ProxyTrust()
    assert resolve(trust, ("203.0.113.9", 1), ("X-Forwarded-For", "1.2.3.4")) is None
    assert resolve(trust, ("203.0.113.9", 1), ("Forwarded", "for=1.2.3.4")) is None


def test_x_forwarded_for_walks_from_the_right():
    trust = ProxyTrust("127.0.0.1, 10.0.0.0/8")
    # A client-supplied (spoofed) left part is never reached: 198.51.100.7 is the first untrusted hop.
    fwd = resolve(trust, LOCAL, ("X-Forwarded-For", "6.6.6.6, 198.51.100.7, 10.1.2.3"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "example.com"))
    assert fwd.client == ("198.51.100.7", 0)
    assert fwd.scheme == "https" and fwd.host == "example.com"
    # Every hop trusted: the leftmost is the client.
    assert resolve(trust, LOCAL, ("X-Forwarded-For", "10.0.0.1, 10.0.0.2")).client == ("10.0.0.1", 0)
    # Several header lines form one list.
    assert resolve(trust, LOCAL, ("X-Forwarded-For", "198.51.100.1"), ("X-Forwarded-For", "10.0.0.2")).client == ("198.51.100.1", 0)


def test_per_hop_proto_and_host_follow_the_client_hop():
    trust = ProxyTrust("127.0.0.1, 10.0.0.0/8")
    fwd = resolve(
        trust,
        LOCAL,
        ("X-Forwarded-For", "198.51.100.7, 10.1.2.3"),
        ("X-Forwarded-Proto", "https, http"),
        ("X-Forwarded-Host", "public.example, internal.example"),
    )
    assert fwd.scheme == "https" and fwd.host == "public.example"


def test_forwarded_wins_and_carries_ports_and_ipv6():
    trust = ProxyTrust()
    fwd = resolve(trust, LOCAL, ("Forwarded", 'for="[2001:db8::1]:4711";proto=https;host=api.example:8443'), ("X-Forwarded-For", "9.9.9.9"))
    assert fwd.client == ("2001:db8::1", 4711)
    assert fwd.scheme == "https" and fwd.host == "api.example:8443"
    assert resolve(trust, LOCAL, ("Forwarded", "for=192.0.2.1:80")).client == ("192.0.2.1", 80)


def test_malformed_values_are_ignored():
    trust = ProxyTrust()
    # A malformed hop ends the walk: nothing left of it is believed.
    assert resolve(trust, LOCAL, ("X-Forwarded-For", "not-an-ip")) is None
    fwd = resolve(trust, LOCAL, ("X-Forwarded-For", "198.51.100.7"), ("X-Forwarded-Proto", "gopher"), ("X-Forwarded-Host", "evil.example/path"))
    assert fwd.client == ("198.51.100.7", 0) and fwd.scheme is None and fwd.host is None
    assert resolve(trust, LOCAL, ("Forwarded", "for=unknown")).client == ("unknown", 0)
    assert resolve(trust, LOCAL, ("Forwarded", "for=_hidden;proto=wss")).scheme == "https"


def test_trust_settings():
    assert ProxyTrust("*").trusts("203.0.113.1")
    assert ProxyTrust().trusts("::ffff:127.0.0.1")  # IPv4-mapped
    assert not ProxyTrust().trusts("10.0.0.1")
    assert ProxyTrust().trusts_peer("/run/proxy.sock")  # AF_UNIX: local by construction
    assert not ProxyTrust(unix=False).trusts_peer("/run/proxy.sock")
    with pytest.raises(ValueError):
        ProxyTrust("10.0.0.0/33")


# --- through the engine -----------------------------------------------------------------------


def info_app() -> App:
    app = App()

    @app.get("/")
    def info(request):
        return {"client": list(request.client), "scheme": request.scheme, "host": request.host}

    return app


def test_request_reflects_trusted_proxy_and_access_log(loop):
    out = io.StringIO()

    async def main():
        async with serving(info_app(), proxy_headers=True, access_log=AccessLog(out, "%h %s")) as server:
            c = await Client.connect(server)
            r = await c.request("GET", "/", headers=[("X-Forwarded-For", "198.51.100.7"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "shop.example")])
            await c.close()
        return r

    r = run(loop, main())
    assert json.loads(r.body) == {"client": ["198.51.100.7", 0], "scheme": "https", "host": "shop.example"}
    assert "198.51.100.7 200" in out.getvalue()


def test_forwarding_fields_are_ignored_when_off_or_untrusted(loop):
    async def main():
        results = []
        for options in ({}, {"proxy_headers": True, "forwarded_allow_ips": "10.0.0.0/8"}):
            async with serving(info_app(), **options) as server:
                c = await Client.connect(server)
                results.append(await c.request("GET", "/", headers=[("X-Forwarded-For", "198.51.100.7"), ("X-Forwarded-Host", "shop.example")]))
                await c.close()
        return results

    for r in run(loop, main()):
        body = json.loads(r.body)
        assert body["client"][0] == "127.0.0.1" and body["scheme"] == "http" and body["host"] == "test"


def test_asgi_scope_reflects_the_proxy(loop):
    async def app(scope, receive, send):
        headers = dict(scope["headers"])
        data = json.dumps({"client": scope["client"], "scheme": scope["scheme"], "host": headers[b"host"].decode()}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": data})

    async def main():
        async with serving(AsgiApplication(app, lifespan="off"), proxy_headers=True) as server:
            c = await Client.connect(server)
            r = await c.request("GET", "/", headers=[("Forwarded", 'for="198.51.100.7:1234";proto=https;host=shop.example')])
            await c.close()
        return r

    assert json.loads(run(loop, main()).body) == {"client": ["198.51.100.7", 1234], "scheme": "https", "host": "shop.example"}


# --- Request.host: absolute-form beats Host (RFC 9112 §3.2.2) ---------------------------------------


def test_absolute_form_authority_routes_and_is_what_the_handler_sees(loop):
    app = App()

    @app.get("/", host="api.example")
    def api(request):
        return f"api {request.host}"

    @app.get("/")
    def default(request):
        return f"default {request.host}"

    async def main():
        async with serving(app) as server:
            c = await Client.connect(server)
            await c.send(b"GET http://api.example/ HTTP/1.1\r\nHost: other.example\r\n\r\n")
            r1 = await c.read_response()
            r2 = await c.request("GET", "/", headers=[("Host", "api.example")])
            r3 = await c.request("GET", "/", headers=[("Host", "other.example")])
            await c.close()
        return r1, r2, r3

    r1, r2, r3 = run(loop, main())
    assert r1.body == b"api api.example"
    assert r2.body == b"api api.example"
    assert r3.body == b"default other.example"


def test_forwarded_host_routes(loop):
    app = App()

    @app.get("/", host="shop.example")
    def shop(request):
        return "shop"

    @app.get("/")
    def default(request):
        return "default"

    async def main():
        async with serving(app, proxy_headers=True) as server:
            c = await Client.connect(server)
            r = await c.request("GET", "/", headers=[("X-Forwarded-For", "198.51.100.7"), ("X-Forwarded-Host", "shop.example")])
            await c.close()
        return r

    assert run(loop, main()).body == b"shop"


def test_wsgi_environ_reflects_the_proxy(loop):
    from fasthttp.wsgi import WsgiApplication

    def app(environ, start_response):
        data = json.dumps([environ["REMOTE_ADDR"], environ["wsgi.url_scheme"], environ["HTTP_HOST"]]).encode()
        start_response("200 OK", [("Content-Length", str(len(data)))])
        return [data]

    async def main():
        async with serving(WsgiApplication(app), proxy_headers=True) as server:
            c = await Client.connect(server)
            r = await c.request("GET", "/", headers=[("X-Forwarded-For", "198.51.100.7"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "shop.example")])
            await c.close()
        return r

    assert json.loads(run(loop, main()).body) == ["198.51.100.7", "https", "shop.example"]
