"""fasthttp: a fast, strict HTTP/1.1 server framework.

Byte-level kernels (parser, header index, chunked coding, ranges, response-head writer) are
compiled with Cython; each has a pure-Python twin used where no compiled wheel exists or when
``FASTHTTP_NO_EXTENSIONS=1`` is set.
"""

from __future__ import annotations

from . import chunked, headers, parser, ranges, responseparser, writer, wsframe  # noqa: F401  (each facade registers its twin)
from ._compat import kernel_implementations
from .errors import HttpError, HttpProtocolError
from .app import App
from .forms import FormData, FormLimits, UploadFile
from .requests import Request
from .validation import UnprocessableContent, ValidationError
from .resources import Resource
from .routing import Route
from .files import FileResponse
from .responses import (
    EventSourceResponse,
    HTMLResponse,
    JSONResponse,
    MultipartStreamResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
    Upgrade,
    render_error,
)
from .static import static_files
from .websocket import WebSocket, WebSocketDisconnect
from .config import Config
from .runners import run, start_in_thread, start_server
from .server import Server, serve

__version__ = "0.1.0"

__all__ = (
    "__version__",
    "speedups_enabled",
    "kernel_implementations",
    "HttpProtocolError",
    "App",
    "Route",
    "Resource",
    "Request",
    "FormData",
    "FormLimits",
    "UploadFile",
    "ValidationError",
    "UnprocessableContent",
    "Response",
    "PlainTextResponse",
    "HTMLResponse",
    "JSONResponse",
    "RedirectResponse",
    "StreamingResponse",
    "EventSourceResponse",
    "MultipartStreamResponse",
    "FileResponse",
    "Upgrade",
    "WebSocket",
    "WebSocketDisconnect",
    "HttpError",
    "render_error",
    "static_files",
    "Config",
    "Server",
    "run",
    "serve",
    "start_in_thread",
    "start_server",
)


def __getattr__(name: str) -> object:
    # The old spelling of the error root (fasthttp.errors), kept one release for code written
    # against 0.1; it warns.
    if name == "HTTPError":
        from . import errors

        return errors.__getattr__(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def speedups_enabled() -> bool:
    """True when every kernel runs its compiled twin, False when any runs pure Python."""
    impls = kernel_implementations()
    return bool(impls) and all(v == "c" for v in impls.values())
