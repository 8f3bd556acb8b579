"""Small pieces shared by the engine tests that serve a real socket (test_listeners,
test_server, test_accesslog, test_config, test_runners, test_workers).

- :func:`hello_app`: an :class:`~fasthttp.App` answering ``GET /`` with ``hello`` and
  ``GET /whoami`` with what the request knows of its connection (TLS, client certificate).
- :func:`http_get`: a blocking ``GET`` with ``http.client``, for servers running in another
  thread or process.
"""

from __future__ import annotations

import http.client
from typing import Any

from fasthttp import App
from fasthttp.requests import Request


def hello_app() -> App:
    app = App()

    @app.get("/")
    def index(request: Request) -> str:
        return "hello"

    @app.get("/whoami")
    def whoami(request: Request) -> dict[str, Any]:
        cert = request.peercert
        subject = dict(x[0] for x in cert["subject"]) if cert else None
        return {"secure": request.is_secure, "scheme": request.scheme, "subject": subject, "client": repr(request.client)}

    return app


def http_get(address: Any, path: str = "/", timeout: float = 5.0) -> tuple[int, bytes]:
    """``(status, body)`` of ``GET path`` on a TCP *address* (``(host, port, ...)``)."""
    conn = http.client.HTTPConnection(address[0], address[1], timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()
