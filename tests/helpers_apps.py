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


@app.get("/frozen")
def frozen(request):
    import gc

    return str(gc.get_freeze_count())


@app.get("/whoami")
def whoami(request):
    """The process's uid, gid, supplementary groups and umask (the --user/--group/--umask tests)."""
    mask = os.umask(0)
    os.umask(mask)
    return f"{os.getuid()} {os.getgid()} {sorted(os.getgroups())} {mask:03o}"


@app.get("/sleep")
async def sleep(request):
    await asyncio.sleep(float(request.query_params.get("t", "0.5")))
    return "slept"


# An app with life-cycle hooks: they record themselves in the file FASTHTTP_TEST_HOOKS names.
hooked = App()


def _record(event: str) -> None:
    with open(os.environ["FASTHTTP_TEST_HOOKS"], "a") as f:
        f.write(f"{event} {os.getpid()}\n")


@hooked.on_startup
async def _started():
    _record("startup")
    hooked.state.ready = True


@hooked.on_shutdown
def _stopped():
    _record("shutdown")


@hooked.get("/")
def hooked_index(request):
    return "ready" if hooked.state.ready else "not ready"
