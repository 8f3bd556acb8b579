"""The HTTP/TCP protocol module's ``Resource`` example: users at ``/user/:username`` (GET, POST,
DELETE) and file uploads at ``/file/:name`` (PUT), on one resource class.

Each method is a route relative to the resource; ``request.params`` holds the matched path
components (the module's ``request.matches``). JSON in, JSON out: ``await request.json()``
(415 unless the body is JSON, 400 if it does not parse), a ``dict`` return value, and
``HttpError(404, {...})`` for the module's ``ErrorResponse``; error bodies follow ``Accept``.
The upload route has the module's ``max_content_length`` as its ``max_body_size`` (5 MiB;
413 past it, before a byte is read).

File names: the router never gives a ``:name`` parameter a "/" (even encoded as ``%2F``) and
refuses ``.``/``..`` segments (400), so a name cannot leave the upload directory; ``safe_join``
(the module's ``path_join_safe``) checks it again, as defence in depth.

The module's ``@websocket("/ws")`` is an echo here, written as the module writes it: a message
callback ``(request, opcode, payload)`` called with ``OPEN`` once the socket is open, with
``TEXT``/``BINARY`` for each message (what it returns is sent back) and with ``CLOSE`` at the
end; the framework runs the websocket's life cycle (handshake, pings, the close handshake).

    python examples/resource_users.py --files /tmp/uploads --bind 127.0.0.1:8000
    curl -X POST -H 'Content-Type: application/json' -d '{"name": "Ada"}' localhost:8000/user/ada
    python -m websockets ws://localhost:8000/ws
"""

from __future__ import annotations

import argparse
import asyncio
import os

from fasthttp import App, HttpError
from fasthttp.responses import JSONResponse
from fasthttp.resources import Resource, delete, get, post, put, websocket
from fasthttp.websocket import WebSocketOpCode


def safe_join(root: str, name: str) -> str:
    """``root/name``, refused (ValueError) unless it stays inside *root*."""
    root = os.path.realpath(root)
    path = os.path.realpath(os.path.join(root, name))
    if os.path.commonpath([root, path]) != root or path == root:
        raise ValueError(f"{name!r} leaves {root!r}")
    return path


class UserResource(Resource):
    def __init__(self, files_dir: str) -> None:
        self.users: dict[str, dict] = {}
        self.files_dir = files_dir

    @get("/user/:username")
    def get_user(self, request):
        name = request.params["username"]
        user = self.users.get(name)
        if user is None:
            raise HttpError(404, {"error": "no such user", "username": name})
        return user

    @post("/user/:username", max_body_size=64 * 1024)
    async def create_user(self, request):
        name = request.params["username"]
        self.users[name] = {"username": name, **(await request.json())}
        return JSONResponse(self.users[name], status=201)

    @delete("/user/:username")
    def delete_user(self, request):
        if self.users.pop(request.params["username"], None) is None:
            raise HttpError(404, {"error": "no such user"})

    @put("/file/:name", max_body_size=5 * 1024 * 1024)
    async def put_file(self, request):
        try:
            path = safe_join(self.files_dir, request.params["name"])
        except ValueError:
            raise HttpError(400, "invalid file name") from None
        data = await request.body()
        await asyncio.to_thread(_write, path, data)
        return {"name": request.params["name"], "size": len(data)}


    @websocket("/ws")
    def echo(self, request, opcode, payload):
        if opcode in (WebSocketOpCode.TEXT, WebSocketOpCode.BINARY):
            return payload
        return None  # OPEN and CLOSE: nothing to send


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


def create_app(files_dir: str) -> App:
    os.makedirs(files_dir, exist_ok=True)
    app = App()
    app.add(UserResource(files_dir))
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", default="uploads", help="directory for uploaded files")
    parser.add_argument("--bind", default="127.0.0.1:8000", help="HOST:PORT to listen on")
    args = parser.parse_args()
    create_app(args.files).run(args.bind)
