"""Applications of each interface for the command-line tests (tests/test_cli.py, test_hosting.py)."""

from __future__ import annotations


async def asgi_app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                scope["state"]["started"] = "yes"
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = f"asgi {scope['root_path']} {scope['path']} {scope['state'].get('started')}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


def wsgi_app(environ, start_response):
    body = f"wsgi {environ['SCRIPT_NAME']} {environ['PATH_INFO']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def make_asgi_app():
    """A factory (``--factory``)."""
    return asgi_app


def handler(request):
    return "fasthttp handler"
