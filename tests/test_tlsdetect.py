"""TLS listeners that look before they handshake (``fasthttp.tlsdetect``): plain HTTP on the TLS
port gets a plaintext 400 saying to use https (as nginx does); TLS clients are served as before.
Raw sockets and ``ssl``, on the asyncio and uvloop loops."""

from __future__ import annotations

import asyncio
import socket
import time

from helpers_engine import hello_app
from helpers_server import run, serving
from helpers_tls import connect, read_all, read_response

from fasthttp.listeners import PLAIN_ON_TLS


def test_plain_http_on_the_tls_port_gets_a_plaintext_400(loop, tls):
    async def scenario():
        async with serving(hello_app(), certfile=tls.cert_file, keyfile=tls.key_file) as server:
            def client():
                with connect(server.addresses[0]) as sock:
                    sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    return read_all(sock)

            data = await asyncio.get_running_loop().run_in_executor(None, client)
            head, _, body = data.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n")
            assert b"Connection: close" in head and body == PLAIN_ON_TLS

    run(loop, scenario())


def test_tls_clients_are_served_after_the_peek(loop, tls):
    async def scenario():
        async with serving(hello_app(), certfile=tls.cert_file, keyfile=tls.key_file) as server:
            def client():
                ctx = tls.client_context()
                with connect(server.addresses[0]) as raw, ctx.wrap_socket(raw, server_hostname="localhost") as sock:
                    out = []
                    for _ in range(2):  # keep-alive over TLS
                        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
                        out.append(read_response(sock))
                    return out

            (head1, body1), (head2, body2) = await asyncio.get_running_loop().run_in_executor(None, client)
            assert head1.startswith(b"HTTP/1.1 200") and head2.startswith(b"HTTP/1.1 200") and body1 == body2

    run(loop, scenario())


def test_a_client_that_sends_the_first_byte_alone_is_still_told_apart(loop, tls):
    async def scenario():
        async with serving(hello_app(), certfile=tls.cert_file, keyfile=tls.key_file) as server:
            def client():
                with connect(server.addresses[0]) as sock:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    sock.sendall(b"\x16")  # a TLS record type, and nothing more for a while
                    time.sleep(0.05)
                    sock.sendall(b"\x01garbage")  # not a TLS version: the handshake refuses it
                    return read_all(sock)

            data = await asyncio.get_running_loop().run_in_executor(None, client)
            assert not data.startswith(b"HTTP/")  # refused by TLS, not answered as HTTP

    run(loop, scenario())


def test_a_connection_silent_past_the_header_timeout_is_closed(loop, tls):
    async def scenario():
        async with serving(hello_app(), certfile=tls.cert_file, keyfile=tls.key_file, header_timeout=0.1) as server:
            def client():
                with connect(server.addresses[0]) as sock:
                    return read_all(sock)

            assert await asyncio.get_running_loop().run_in_executor(None, client) == b""

    run(loop, scenario())
