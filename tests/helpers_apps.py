"""A small application for the tests that run the server in another process
(``start_server``, workers, the CLI): importable as ``helpers_apps:app``."""

from __future__ import annotations

import asyncio
import os

from fasthttp import App

app = App()


@app.get("/")
def index(request):
    return "hello from helpers_apps"


@app.get("/pid")
def pid(request):
    return str(os.getpid())


@app.get("/sleep")
async def sleep(request):
    await asyncio.sleep(float(request.query_params.get("t", "0.5")))
    return "slept"
