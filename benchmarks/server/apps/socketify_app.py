"""socketify (uWebSockets through CFFI): the C-core peer. Runs itself: ``python -m ... --port P``.

Routes use socketify's own router (``/route{N}/:id``). The POST body is read with ``on_data`` and the
file is read per request and sent whole: socketify's async helpers for both (``res.get_data()``,
``helpers.sendfile``) crashed the server under load here (see the NOTEs below).
"""

from __future__ import annotations

import argparse

from socketify import App, AppListenOptions, CompressOptions

from . import common

_TEXT = b"text/plain"
_JSON = b"application/json"
_OCTETS = b"application/octet-stream"


def plaintext(res, req):
    res.send(common.PLAINTEXT, content_type=_TEXT)


def json_message(res, req):
    res.send(common.json_body(), content_type=_JSON)


def param(res, req):
    res.send(req.get_parameter(0), content_type=_TEXT)


# NOTE: socketify 0.0.31's ``await res.get_data()`` crashed the process under load here ("ffi.from_handle()
# ... points to garbage": the response object was collected while uWS still held its handle). The
# body is read with ``on_data`` instead, and each response is kept referenced until its body is
# complete or the request is aborted.
_IN_FLIGHT: set = set()


def echo(res, req):
    chunks: list[bytes] = []
    _IN_FLIGHT.add(res)

    def on_data(res, chunk, is_end):
        if chunk:
            chunks.append(chunk)
        if is_end:
            _IN_FLIGHT.discard(res)
            res.send(b"".join(chunks), content_type=_OCTETS)

    res.on_aborted(lambda res: _IN_FLIGHT.discard(res))
    res.on_data(on_data)


def file(res, req):
    # NOTE: socketify's ``helpers.sendfile`` crashed the process here the same way (its on_writable
    # handle outlived the response object when wrk closed connections mid-transfer), so the file is
    # read per request and handed to uWS whole; uWS buffers what the socket does not take at once.
    res.send(common.read_file(), content_type=_OCTETS)


def ws_message(ws, message, opcode):
    # The websocket scenarios (benchmarks/server/wsbench.py): every message back as it came.
    ws.send(message, opcode)


def build() -> App:
    app = App(lifespan=False)
    app.ws(
        "/ws",
        {
            "compression": CompressOptions.DISABLED,
            "max_payload_length": 16 * 1024 * 1024,
            "idle_timeout": 120,
            "message": ws_message,
        },
    )
    app.get("/plaintext", plaintext)
    app.get("/json", json_message)
    app.post("/echo", echo)
    app.get("/file", file)
    for prefix in common.ROUTE_PREFIXES:
        app.get(f"/{prefix}/:id", param)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = build()

    def listening(config):
        print(f"socketify listening on {args.host}:{config.port}", flush=True)

    app.listen(AppListenOptions(port=args.port, host=args.host), listening)
    app.run()


if __name__ == "__main__":
    main()
