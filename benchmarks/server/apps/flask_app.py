"""Flask (WSGI), written the way Flask's docs show: the peer of the WSGI hosting comparison,
served unchanged by fasthttp (``--interface wsgi``), gunicorn (gthread) and granian (WSGI).

The static routes come first, then the 100 ``/route{N}/<id>`` routes (Werkzeug's router matches
them by state machine). The file goes through ``send_file`` (``wsgi.file_wrapper``: sendfile where
the server maps it).
"""

from __future__ import annotations

from flask import Flask, Response, request, send_file

from . import common

app = Flask(__name__)


@app.get("/plaintext")
def plaintext():
    return Response(common.PLAINTEXT, content_type="text/plain")


@app.get("/json")
def json_message():
    return Response(common.json_body(), content_type="application/json")


@app.post("/echo")
def echo():
    return Response(request.get_data(), content_type="application/octet-stream")


@app.get("/file")
def file():
    return send_file(common.FILE_PATH, mimetype="application/octet-stream", etag=False, conditional=False)


def param(id):
    return Response(id, content_type="text/plain")


for _prefix in common.ROUTE_PREFIXES:
    app.add_url_rule(f"/{_prefix}/<id>", f"param_{_prefix}", param)
