"""Servers for the client tests: our App, and hostile raw-socket servers scripted per test.

:func:`raw_server` runs a blocking socket server in a thread; each accepted connection is given
to the test's ``handler(conn)`` (a plain function reading and writing bytes), so a test can send
exactly the bytes a broken or malicious server would. Everything listens on 127.0.0.1 and is
bounded in time.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

from fasthttp import App, Response


def read_head(conn: socket.socket) -> bytes:
    """Read one request head (up to the blank line) and whatever body bytes came with it."""
    data = b""
    conn.settimeout(5)
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    return data


@contextlib.contextmanager
def raw_server(handler: Callable[[socket.socket], None]) -> Iterator[str]:
    """``http://127.0.0.1:port`` of a thread serving each connection with *handler*."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()
    threads = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (socket.timeout, OSError):
                continue
            t = threading.Thread(target=_run, args=(handler, conn), daemon=True)
            t.start()
            threads.append(t)

    def _run(h: Callable[[socket.socket], None], conn: socket.socket) -> None:
        try:
            h(conn)
        except OSError:
            pass
        finally:
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        listener.close()
        for t in threads:
            t.join(5)


def answering(response: bytes) -> Callable[[socket.socket], None]:
    """A :func:`raw_server` handler that reads one request head and answers *response*, bytes
    exactly as given, then lingers a moment so the client reads them before the close."""

    def handler(conn: socket.socket) -> None:
        read_head(conn)
        conn.sendall(response)
        time.sleep(0.2)

    return handler


def make_app() -> App:
    """The endpoints the client tests call on our own server."""
    app = App()

    @app.get("/hello")
    def hello(request):
        return Response.text("hello, world")

    @app.route("/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def echo(request):
        body = await request.body()
        return {
            "method": request.method,
            "query": dict(request.query_params.items()) if hasattr(request.query_params, "items") else {},
            "body": body.decode("latin-1"),
            "headers": {k: v for k, v in request.headers.items()},
        }

    @app.get("/redirect/:n")
    def redirect(request):
        n = int(request.params["n"])
        return Response.redirect(f"/redirect/{n - 1}" if n > 1 else "/hello", status=302)

    @app.post("/see-other")
    def see_other(request):
        return Response.redirect("/echo", status=303)

    @app.post("/temporary")
    def temporary(request):
        return Response.redirect("/echo", status=307)

    @app.get("/set-cookie")
    def set_cookie(request):
        response = Response.text("set")
        response.set_cookie("session", "abc")
        return response

    @app.get("/big")
    def big(request):
        return Response.text("x" * 100_000)

    return app


def connect_proxy(seen: list[bytes]) -> Callable[[socket.socket], None]:
    """A raw CONNECT proxy handler (RFC 9110 §9.3.6): records each CONNECT head in *seen*,
    connects to the authority, answers 200, then relays bytes both ways until either side ends."""

    def handler(conn: socket.socket) -> None:
        head = read_head(conn)
        seen.append(head)
        line = head.split(b"\r\n", 1)[0].split()
        if len(line) != 3 or line[0] != b"CONNECT":
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return
        host, _, port = line[1].decode().rpartition(":")
        upstream = socket.create_connection((host.strip("[]"), int(port)), 5)
        conn.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        conn.settimeout(5)
        upstream.settimeout(5)

        def pump(src: socket.socket, dst: socket.socket) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                with contextlib.suppress(OSError):
                    dst.shutdown(socket.SHUT_WR)

        back = threading.Thread(target=pump, args=(upstream, conn), daemon=True)
        back.start()
        pump(conn, upstream)
        back.join(5)
        upstream.close()

    return handler
