"""degu's hello world, embedded: the server runs in its own process, on a port the kernel picks,
and reports the address it is bound to.

degu's ``hello_world_app(session, request, bodies)`` answers every path with "hello, world" to
GET and HEAD and 405 to anything else. Here the catch-all pattern ``/:path*`` does that (HEAD
comes with GET, 405 with ``Allow`` for other methods), and ``start_server`` plays
``degu.start_server``: it starts the server in a new process and returns it with the bound
addresses once it listens. ``process.terminate()`` drains and stops it.

degu's per-connection *session* and ``app.on_connect`` hook are here too: ``on_connect``
accepts each connection (it could refuse one) and marks its session, and ``/session`` counts
the requests made on the connection (degu's convention: keys set by the request handler start
with ``__``, keys set by ``on_connect`` with ``_``).

    python examples/degu_hello_world.py          # starts, requests, prints, stops
"""

from __future__ import annotations

import http.client

from fasthttp import App, Response, start_server


def on_connect(transport, session):
    session["_accepted"] = True
    return True


app = App(on_connect=on_connect)


@app.get("/session")
def session_counter(request):
    session = request.session
    session["__requests"] = session.get("__requests", 0) + 1
    return f"request {session['__requests']} on this connection (accepted: {session['_accepted']})"


@app.get("/:path*")
def hello_world(request):
    return Response(b"hello, world", content_type="text/plain")


def main() -> None:
    # Port 0: the kernel picks a free port; start_server reports it. ("::1", 0, 0, 0) binds IPv6.
    process, addresses = start_server("degu_hello_world:app", ("127.0.0.1", 0))
    try:
        host, port = addresses[0][:2]
        conn = http.client.HTTPConnection(host, port, timeout=5)
        conn.request("GET", "/")
        print(conn.getresponse().read())
        conn.close()
    finally:
        process.terminate()
        process.join()


if __name__ == "__main__":
    main()
