"""A raw ASGI 3 callable for uvicorn (httptools + uvloop): the baseline every ratio divides by.

No framework: routes are an ``if`` chain and a hand split (``common.route_param``), headers are
pre-encoded constants, and each response is two ``send`` calls with an explicit Content-Length
(without one uvicorn would fall back to chunked coding).
"""

from __future__ import annotations

from . import common

_TEXT = [(b"content-type", b"text/plain"), (b"content-length", str(len(common.PLAINTEXT)).encode())]
_OCTETS = b"application/octet-stream"
_NOT_FOUND = {"type": "http.response.start", "status": 404, "headers": [(b"content-length", b"0")]}


async def _reply(send, status: int, content_type: bytes, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive) -> bytes:
    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def app(scope, receive, send):
    if scope["type"] != "http":  # run with --lifespan off; nothing else is expected
        return
    path = scope["path"]
    if path == "/plaintext":
        await send({"type": "http.response.start", "status": 200, "headers": _TEXT})
        await send({"type": "http.response.body", "body": common.PLAINTEXT})
    elif path == "/json":
        await _reply(send, 200, b"application/json", common.json_body())
    elif path == "/echo" and scope["method"] == "POST":
        await _reply(send, 200, _OCTETS, await _read_body(receive))
    elif path == "/file":
        await _reply(send, 200, _OCTETS, common.read_file())
    else:
        param = common.route_param(path)
        if param is None:
            await send(_NOT_FOUND)
            await send({"type": "http.response.body", "body": b""})
        else:
            await _reply(send, 200, b"text/plain", param.encode())
