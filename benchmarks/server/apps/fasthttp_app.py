"""The fasthttp application, written the way a user would write it against ``fasthttp.App``.

Served by ``python -m fasthttp benchmarks.server.apps.fasthttp_app:app --bind 127.0.0.1:PORT
--workers 1``. Handlers return what a user would: ``str`` for text, ``dict`` for JSON, and a
``fasthttp.Response`` where the content type matters.

The static routes come first, then the 100 ``/route{N}/:id`` routes: the static ones are the
App's fast table (one dict hit, no router call), the parameterized ones go through
``fasthttp.routing.Router`` (its generated matcher dispatches on the literal first segment, so
the 100 entries cost little), and the handler reads the value from ``request.params``.
"""

from __future__ import annotations

import fasthttp
import fasthttp.middleware

from . import common

app = fasthttp.App()


@app.get("/plaintext")
def plaintext(request):
    return common.PLAINTEXT_STR


@app.get("/json")
def json_message(request):
    return common.JSON_MESSAGE


@app.get("/json10k", middleware=[fasthttp.middleware.Compression(levels={"gzip": common.GZIP_LEVEL})])
def json_10k(request):
    return common.JSON_10K


@app.post("/echo")
async def echo(request):
    return fasthttp.Response(await request.body(), content_type="application/octet-stream")


@app.get("/file")
def file(request):
    return fasthttp.FileResponse(common.FILE_PATH, content_type="application/octet-stream")


def param(request):
    return request.params["id"]


for _prefix in common.ROUTE_PREFIXES:
    app.get(f"/{_prefix}/:id")(param)


@app.websocket("/ws")
async def ws_echo(ws):
    # The websocket scenarios (benchmarks/server/wsbench.py): every message is sent back as is.
    await ws.accept()
    async for message in ws:
        await ws.send(message)
