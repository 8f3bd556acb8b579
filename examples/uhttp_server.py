"""uHTTP's usage example: HTML at ``/``, JSON at ``/rpc`` (a greeting with the request's headers
and query), and ``Not found`` (404) for anything else; with uHTTP's strict limits.

uHTTP loops over ``server.wait()`` and branches on ``client.path``; here each branch is a route
and the last one is the app's 404 handler. uHTTP's limits map onto the engine's options:
``max_headers_length`` 4 KiB (431 past it), ``max_content_length`` 512 KiB (413),
``keep_alive_timeout`` 30 s and ``keep_alive_max_requests`` 100. uHTTP's TODO list is done in
the engine: ``Expect: 100-continue``, streamed and chunked bodies.

    python examples/uhttp_server.py --bind 0.0.0.0:9980
    curl http://localhost:9980/rpc?name=value
"""

from __future__ import annotations

import argparse

from fasthttp import App
from fasthttp.responses import HTMLResponse

app = App(
    max_header_size=4 * 1024,
    max_body_size=512 * 1024,
    keep_alive_timeout=30,
    max_requests_per_connection=100,
)


@app.get("/")
def index(request):
    return HTMLResponse("<h1>hello</h1><p>uHTTP</p>")


@app.route("/rpc", methods=["GET", "POST"])
def rpc(request):
    query = request.query_params
    return {
        "message": "hello",
        "success": True,
        "headers": dict(request.headers.items()),
        "query": {name: query.get(name) for name in query.keys()},
    }


@app.exception_handler(404)
def not_found(request, exc):
    return "Not found"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="0.0.0.0:9980", help="HOST:PORT to listen on")
    app.run(parser.parse_args().bind)
