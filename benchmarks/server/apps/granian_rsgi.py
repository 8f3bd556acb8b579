"""A raw RSGI application for granian: its fastest Python interface.

Routing is by hand as in ``uvicorn_raw``; the file goes through RSGI's ``response_file`` (served by
granian's Rust side).
"""

from __future__ import annotations

from . import common

_TEXT = [("content-type", "text/plain")]
_JSON = [("content-type", "application/json")]
_OCTETS = [("content-type", "application/octet-stream")]


async def app(scope, proto):
    if scope.proto != "http":
        return
    path = scope.path
    if path == "/plaintext":
        proto.response_bytes(200, _TEXT, common.PLAINTEXT)
    elif path == "/json":
        proto.response_bytes(200, _JSON, common.json_body())
    elif path == "/echo" and scope.method == "POST":
        proto.response_bytes(200, _OCTETS, await proto())
    elif path == "/file":
        proto.response_file(200, _OCTETS, common.FILE_PATH)
    else:
        param = common.route_param(path)
        if param is None:
            proto.response_empty(404, [])
        else:
            proto.response_str(200, _TEXT, param)
