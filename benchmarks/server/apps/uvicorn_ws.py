"""A raw ASGI callable for uvicorn with the ``websockets`` library (``--ws websockets``): the peer
of the websocket scenarios (``benchmarks/server/wsbench.py``).

``GET /plaintext`` answers the harness's readiness probe; ``/ws`` echoes every message as it
came (text as text, binary as binary).
"""

from __future__ import annotations

from . import common

_TEXT = [(b"content-type", b"text/plain"), (b"content-length", str(len(common.PLAINTEXT)).encode())]


async def app(scope, receive, send):
    kind = scope["type"]
    if kind == "http":
        await send({"type": "http.response.start", "status": 200 if scope["path"] == "/plaintext" else 404, "headers": _TEXT})
        await send({"type": "http.response.body", "body": common.PLAINTEXT})
        return
    if kind != "websocket":
        return
    message = await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] != "websocket.receive":
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})
