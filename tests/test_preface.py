"""fasthttp.preface: listeners that take a PROXY protocol preface before HTTP (real sockets)."""

from __future__ import annotations

import ipaddress
import json
import struct

from helpers_server import Client, build_request, run, serving

from fasthttp import App
from fasthttp.proxyprotocol import V2_SIGNATURE


def client_app() -> App:
    app = App()

    @app.get("/")
    def info(request):
        return {"client": list(request.client) if isinstance(request.client, tuple) else request.client}

    return app


def test_v1_and_v2_set_the_client(loop):
    block = ipaddress.IPv4Address("192.0.2.9").packed + ipaddress.IPv4Address("198.51.100.2").packed + struct.pack("!HH", 4711, 80)
    v2 = V2_SIGNATURE + bytes([0x21, 0x11]) + struct.pack("!H", len(block)) + block

    async def main():
        async with serving(client_app(), proxy_protocol=True) as server:
            c = await Client.connect(server)
            await c.send(b"PROXY TCP4 192.0.2.1 198.51.100.2 1234 80\r\n" + build_request("GET", "/"))
            r1 = await c.read_response()
            r1b = await c.request("GET", "/")  # the whole connection is that client's
            await c.close()
            c = await Client.connect(server)
            # The preface split over writes, the request in the same write as its end.
            await c.send(v2[:10])
            await c.send(v2[10:] + build_request("GET", "/"))
            r2 = await c.read_response()
            await c.close()
            c = await Client.connect(server)
            await c.send(b"PROXY UNKNOWN\r\n" + build_request("GET", "/"))
            r3 = await c.read_response()
            await c.close()
        return r1, r1b, r2, r3

    r1, r1b, r2, r3 = run(loop, main())
    assert json.loads(r1.body) == {"client": ["192.0.2.1", 1234]} == json.loads(r1b.body)
    assert json.loads(r2.body) == {"client": ["192.0.2.9", 4711]}
    assert json.loads(r3.body)["client"][0] == "127.0.0.1"


def test_the_preface_of_a_peer_that_is_not_a_trusted_proxy_does_not_set_the_client(loop):
    # APPSEC: whoever reaches the port could claim any address; the preface is still consumed.
    async def main():
        async with serving(client_app(), proxy_protocol=True, forwarded_allow_ips="192.0.2.77") as server:
            c = await Client.connect(server)
            await c.send(b"PROXY TCP4 192.0.2.1 198.51.100.2 1234 80\r\n" + build_request("GET", "/"))
            r = await c.read_response()
            await c.close()
            return r

    r = run(loop, main())
    assert r.status == 200 and json.loads(r.body)["client"][0] == "127.0.0.1"


def test_missing_or_bad_preface_closes_without_an_answer(loop):
    async def main():
        results = []
        async with serving(client_app(), proxy_protocol=True) as server:
            for data in (build_request("GET", "/"), b"PROXY TCP4 300.0.0.1 1.2.3.4 1 2\r\n", V2_SIGNATURE + b"\x31\x11\x00\x00"):
                c = await Client.connect(server)
                await c.send(data)
                results.append(await c.reader.read())  # EOF (or reset), no response
                await c.close()
        return results

    assert run(loop, main()) == [b"", b"", b""]


def test_a_silent_connection_is_closed_at_the_deadline(loop):
    async def main():
        async with serving(client_app(), proxy_protocol=True, header_timeout=0.2) as server:
            c = await Client.connect(server)
            await c.send(b"PROXY TCP4 192.0.2.1")  # never finished
            data = await c.reader.read()
            await c.close()
            return data

    assert run(loop, main()) == b""


def test_off_by_default(loop):
    async def main():
        async with serving(client_app()) as server:
            c = await Client.connect(server)
            await c.send(b"PROXY TCP4 192.0.2.1 198.51.100.2 1234 80\r\n\r\n")
            r = await c.read_response()
            await c.close()
            return r

    assert run(loop, main()).status == 400  # not HTTP
