"""Starlette on uvicorn: the framework-level peer, written the way Starlette's docs show.

The static routes come first; the 100 parameterized routes follow, so Starlette's linear route
scan pays for the table only in the routing scenario. The file goes through ``FileResponse``.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from . import common


async def plaintext(request):
    return PlainTextResponse(common.PLAINTEXT)


async def json_message(request):
    return JSONResponse(common.JSON_MESSAGE)


async def json_10k(request):
    return JSONResponse(common.JSON_10K)


async def echo(request):
    return Response(await request.body(), media_type="application/octet-stream")


async def file(request):
    return FileResponse(common.FILE_PATH, media_type="application/octet-stream")


async def param(request):
    return PlainTextResponse(request.path_params["id"])


routes = [
    Route("/plaintext", plaintext),
    Route("/json", json_message),
    # GZipMiddleware around this route only (an ASGI app as the endpoint), at fasthttp's level
    Route("/json10k", GZipMiddleware(Starlette(routes=[Route("/json10k", json_10k)]), compresslevel=common.GZIP_LEVEL)),
    Route("/echo", echo, methods=["POST"]),
    Route("/file", file),
]
routes += [Route(f"/{prefix}/{{id}}", param) for prefix in common.ROUTE_PREFIXES]

app = Starlette(routes=routes)
