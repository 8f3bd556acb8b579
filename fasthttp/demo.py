"""The demo application: ``fasthttp --demo`` (the README's first command).

It shows the return types a handler may use: text, JSON, an echo of the request, a body read
from the client, and a response streamed from an async generator.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from .app import App
from .requests import Request
from .responses import Response, StreamingResponse

__all__ = ("app",)

app = App()

_INDEX = """fasthttp demo

  GET  /            this page
  GET  /json        a JSON document
  GET  /echo?a=1    the request line, query parameters and headers, as JSON
  POST /upload      the size of the body you send
  GET  /stream      a chunked response, one line every 100 ms
"""


@app.get("/")
def index(request: Request) -> str:
    return _INDEX


@app.get("/json")
def json_message(request: Request) -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/echo")
def echo(request: Request) -> dict[str, Any]:
    return {
        "method": request.method,
        "path": request.path,
        "query": request.query_params.items(),
        "headers": request.headers.items(),
        "client": str(request.client),
    }


@app.post("/upload")
async def upload(request: Request) -> Response:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return Response(f"received {size} bytes\n", status=201)


@app.get("/stream")
def stream(request: Request) -> StreamingResponse:
    async def lines() -> AsyncIterator[str]:
        for i in range(1, 6):
            yield f"line {i}\n"
            await asyncio.sleep(0.1)

    return StreamingResponse(lines(), content_type="text/plain; charset=utf-8")
