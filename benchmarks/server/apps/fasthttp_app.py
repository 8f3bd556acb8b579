"""The fasthttp application, written against the engine's public contract (issue 3).

Served by ``python -m fasthttp benchmarks.server.apps.fasthttp_app:app --bind 127.0.0.1:PORT
--workers 1``. Handlers return what a user would: ``str`` for text, ``dict`` for JSON, and a
``fasthttp.Response`` where the content type matters.

Path parameters need the router (issue 4). Until it lands, the 100 ``/route{N}/:id`` routes are
registered as written; an engine that matches exact paths answers them 404, the harness's
correctness check sees that and skips the scenario for fasthttp, saying why. If registration
itself refuses the pattern, the routes are left out (``PARAM_ROUTES`` says which happened).

NOTE: the file route uses ``fasthttp.FileResponse`` when the package offers one (zero-copy
``sendfile`` is in issue 3's scope), and reads the file per request until then.
"""

from __future__ import annotations

import fasthttp

from . import common

app = fasthttp.App()

_FileResponse = getattr(fasthttp, "FileResponse", None)


@app.get("/plaintext")
def plaintext(request):
    return common.PLAINTEXT_STR


@app.get("/json")
def json_message(request):
    return common.JSON_MESSAGE


def _post(path):
    # @app.post is in issue 3's API; fall back to the general form if this build only has route().
    if hasattr(app, "post"):
        return app.post(path)
    return app.route(path, methods=["POST"])


@_post("/echo")
async def echo(request):
    return fasthttp.Response(await request.body(), content_type="application/octet-stream")


@app.get("/file")
def file(request):
    if _FileResponse is not None:
        return _FileResponse(common.FILE_PATH, content_type="application/octet-stream")
    return fasthttp.Response(common.read_file(), content_type="application/octet-stream")


def param(request):
    return request.params["id"]


try:
    for _prefix in common.ROUTE_PREFIXES:
        app.get(f"/{_prefix}/:id")(param)
    PARAM_ROUTES = "registered"
except Exception as exc:  # an exact-path-only engine may refuse the pattern outright
    PARAM_ROUTES = f"refused: {exc!r}"
