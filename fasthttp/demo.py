"""The demo application: ``fasthttp --demo`` (the README's first command), an httpbin-style target
for load generators and HTTP clients.

Strategy: one :class:`~fasthttp.app.App` built by :func:`create_app` from :class:`DemoLimits`.
Every endpoint that a request can make expensive is bounded by those limits before any work is
done: no request makes the server allocate more than ``max_bytes`` at once, stream more than
``max_stream_bytes``, sleep longer than ``max_delay`` seconds, follow more than
``max_redirects`` hops, or send more than ``max_events`` events; a request past a limit gets a
400 naming it. Request bodies are bounded by the server's ``max_body_size``. ``app`` is the
demo with the default limits (what ``fasthttp.demo:app`` names); the command line builds one
from ``--demo-max-*`` options.

``/gzip`` is gzip whatever the request's ``Accept-Encoding`` says (httpbin's contract: a client's
decoder is what it tests), so it compresses by hand rather than through ``Compression``; ``/sse``
is an :class:`~fasthttp.responses.EventSourceResponse`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import json
import random
from collections.abc import AsyncIterator
from typing import Any

from .app import App
from .conditional import conditional_response
from .errors import HttpError
from .requests import Request
from .responses import EventSourceResponse, RedirectResponse, Response, ServerSentEvent, StreamingResponse
from .websocket import WebSocket

__all__ = ("app", "create_app", "DemoLimits", "ENDPOINTS")


@dataclasses.dataclass(frozen=True)
class DemoLimits:
    """The bounds of the demo's endpoints (sizes in bytes, times in seconds)."""

    max_bytes: int = 10 * 1024 * 1024  # /bytes, /range, /drip: bytes held at once
    max_stream_bytes: int = 1024 * 1024 * 1024  # /stream-bytes: bytes streamed in one response
    max_chunk: int = 64 * 1024  # /stream-bytes: the largest piece
    max_delay: float = 10.0  # /delay, /drip, /sse: the longest a response may take
    max_redirects: int = 20  # /redirect
    max_events: int = 1000  # /sse

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            if not getattr(self, field.name) > 0:
                raise ValueError(f"{field.name} must be positive")


#: ``(method, path, what it does)`` for the index page, ``--help`` and the README.
ENDPOINTS: tuple[tuple[str, str, str], ...] = (
    ("GET", "/", "this list"),
    ("GET", "/json", "a JSON document"),
    ("GET", "/echo?a=1", "the request line, query parameters and headers, as JSON"),
    ("POST", "/upload", "the size of the body you send"),
    ("GET", "/stream", "a chunked response, one line every 100 ms"),
    ("ANY", "/anything[/...]", "the request echoed as JSON: method, url, args, headers, origin, body, json, form"),
    ("GET", "/get", "the same for GET"),
    ("GET", "/headers", "the request headers"),
    ("GET", "/ip", "the client address"),
    ("GET", "/bytes/:n?seed=", "n random bytes (at most max_bytes)"),
    ("GET", "/stream-bytes/:n?chunk_size=&seed=", "n random bytes, chunked (at most max_stream_bytes)"),
    ("ANY", "/delay/:ms", "the request echoed after ms milliseconds (at most max_delay)"),
    ("ANY", "/status/:codes", "that status (200-599); a comma-separated list picks one at random"),
    ("GET", "/drip?numbytes=&duration=&delay=&code=", "numbytes bytes spread over duration seconds"),
    ("GET", "/redirect/:n", "n redirects (302) to /get (at most max_redirects)"),
    ("GET", "/cookies", "the cookies sent; /cookies/set?k=v and /cookies/delete?k set or delete them"),
    ("GET", "/gzip", "a gzip-encoded JSON document"),
    ("GET", "/range/:n", "n bytes (a-z repeated) that answer Range requests (206, 416)"),
    ("GET", "/sse?count=&interval=", "server-sent events, count of them, interval ms apart"),
    ("WS", "/ws/echo", "a websocket that echoes each message"),
)


def index_text() -> str:
    lines = ["fasthttp demo", ""]
    lines += [f"  {method:<5}{path:<40}{what}" for method, path, what in ENDPOINTS]
    return "\n".join(lines) + "\n"


_ANY = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _int_param(request: Request, name: str, default: int, low: int, high: int, unit: str = "") -> int:
    """An integer query parameter in [low, high], else a 400 that names the bound."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        value = default
    else:
        try:
            value = int(raw)
        except ValueError:
            raise HttpError(400, f"{name} must be an integer") from None
    return _bounded(name, value, low, high, unit)


def _ms_param(request: Request, name: str, default: float) -> int:
    """A duration query parameter in seconds (a decimal number), as whole milliseconds; a 400
    for what is not a finite non-negative number ("nan" and "1e308" were 500s)."""
    raw = request.query_params.get(name)
    try:
        seconds = default if raw is None or raw == "" else float(raw)
        ms = int(seconds * 1000)
    except (ValueError, OverflowError):
        raise HttpError(400, f"{name} must be a number of seconds") from None
    if ms < 0:
        raise HttpError(400, f"{name} must not be negative")
    return ms


def _bounded(name: str, value: int, low: int, high: int, unit: str = "") -> int:
    if not low <= value <= high:
        raise HttpError(400, f"{name} must be between {low} and {high}{unit}")
    return value


def _rng(request: Request) -> random.Random:
    seed = request.query_params.get("seed")
    return random.Random(seed) if seed else random.Random()


async def _echo(request: Request) -> dict[str, Any]:
    """httpbin's request echo; the body is read within the server's max_body_size."""
    body = await request.body()
    data: Any = body.decode("utf-8", "replace")
    parsed: Any = None
    form: dict[str, Any] = {}
    ctype = request.content_type
    if body and ctype == "application/json":
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
    elif body and ctype == "application/x-www-form-urlencoded":
        from urllib.parse import parse_qsl

        for k, v in parse_qsl(data, keep_blank_values=True):
            form.setdefault(k, v)
    query = request.query_params
    return {
        "method": request.method,
        "url": f"{request.scheme}://{request.host or 'localhost'}{request.target.decode('latin-1')}",
        "args": {k: query.getall(k) if len(query.getall(k)) > 1 else query.get(k) for k in query.keys()},
        "headers": dict(request.headers.items()),
        "origin": _origin(request),
        "data": data,
        "json": parsed,
        "form": form,
    }


def _origin(request: Request) -> str:
    client = request.client
    if isinstance(client, tuple):
        return str(client[0])
    return str(client)


def create_app(limits: DemoLimits | None = None, **server_options: Any) -> App:
    """The demo app with *limits* (default :class:`DemoLimits`); *server_options* go to
    :class:`~fasthttp.app.App` (``max_body_size``, ...)."""
    lim = limits if limits is not None else DemoLimits()
    demo = App(**server_options)
    max_delay_ms = int(lim.max_delay * 1000)

    @demo.get("/")
    def index(request: Request) -> str:
        return index_text()

    @demo.get("/json")
    def json_message(request: Request) -> dict[str, str]:
        return {"message": "Hello, World!"}

    @demo.get("/echo")
    def echo(request: Request) -> dict[str, Any]:
        return {
            "method": request.method,
            "path": request.path,
            "query": request.query_params.items(),
            "headers": request.headers.items(),
            "client": str(request.client),
        }

    @demo.post("/upload")
    async def upload(request: Request) -> Response:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return Response(f"received {size} bytes\n", status=201)

    @demo.get("/stream")
    def stream(request: Request) -> StreamingResponse:
        async def lines() -> AsyncIterator[str]:
            for i in range(1, 6):
                yield f"line {i}\n"
                await asyncio.sleep(0.1)

        return StreamingResponse(lines(), content_type="text/plain; charset=utf-8")

    # -- httpbin ---------------------------------------------------------------------------------

    @demo.route("/anything", methods=_ANY)
    async def anything(request: Request) -> dict[str, Any]:
        return await _echo(request)

    @demo.route("/anything/:rest+", methods=_ANY)
    async def anything_more(request: Request) -> dict[str, Any]:
        return await _echo(request)

    @demo.get("/get")
    async def get(request: Request) -> dict[str, Any]:
        return await _echo(request)

    @demo.get("/headers")
    def headers(request: Request) -> dict[str, Any]:
        return {"headers": dict(request.headers.items())}

    @demo.get("/ip")
    def ip(request: Request) -> dict[str, Any]:
        return {"origin": _origin(request)}

    @demo.get("/bytes/:n<int>")
    def random_bytes(request: Request) -> Response:
        n = _bounded("n", request.params["n"], 0, lim.max_bytes, " bytes")
        return Response(_rng(request).randbytes(n), content_type="application/octet-stream")

    @demo.get("/stream-bytes/:n<int>")
    def stream_bytes(request: Request) -> StreamingResponse:
        n = _bounded("n", request.params["n"], 0, lim.max_stream_bytes, " bytes")
        chunk = _int_param(request, "chunk_size", min(10 * 1024, lim.max_chunk), 1, lim.max_chunk, " bytes")
        rng = _rng(request)

        def pieces() -> Any:
            left = n
            while left > 0:
                size = min(chunk, left)
                left -= size
                yield rng.randbytes(size)

        return StreamingResponse(pieces(), content_type="application/octet-stream")

    @demo.route("/delay/:ms<int>", methods=_ANY)
    async def delay(request: Request) -> dict[str, Any]:
        ms = _bounded("ms", request.params["ms"], 0, max_delay_ms, " ms")
        await asyncio.sleep(ms / 1000)
        return await _echo(request)

    @demo.route("/status/:codes", methods=_ANY)
    def status(request: Request) -> Response:
        try:
            codes = [int(c) for c in request.params["codes"].split(",")]
        except ValueError:
            raise HttpError(400, "codes are integers, comma-separated") from None
        for code in codes:
            _bounded("code", code, 200, 599)
        code = random.choice(codes)
        if code in (301, 302, 303, 307, 308):
            return RedirectResponse("/redirect/1", code)
        return Response(b"", code)

    @demo.get("/drip")
    def drip(request: Request) -> StreamingResponse:
        numbytes = _int_param(request, "numbytes", 10, 0, lim.max_bytes, " bytes")
        duration_ms = _ms_param(request, "duration", 2)
        delay_ms = _ms_param(request, "delay", 0)
        _bounded("duration + delay", duration_ms + delay_ms, 0, max_delay_ms, " ms")
        code = _int_param(request, "code", 200, 200, 599)
        pause = duration_ms / 1000 / numbytes if numbytes else 0.0

        async def drops() -> AsyncIterator[bytes]:
            if delay_ms:
                await asyncio.sleep(delay_ms / 1000)
            for _ in range(numbytes):
                yield b"*"
                if pause:
                    await asyncio.sleep(pause)

        return StreamingResponse(drops(), code, content_type="application/octet-stream", content_length=numbytes)

    @demo.get("/redirect/:n<int>")
    def redirect(request: Request) -> Response:
        n = _bounded("n", request.params["n"], 1, lim.max_redirects)
        return RedirectResponse("/get" if n == 1 else f"/redirect/{n - 1}", 302)

    @demo.get("/cookies")
    def cookies(request: Request) -> dict[str, Any]:
        return {"cookies": dict(request.cookies)}

    @demo.get("/cookies/set")
    def cookies_set(request: Request) -> Response:
        resp = RedirectResponse("/cookies", 302)
        try:
            for name in request.query_params.keys():
                resp.set_cookie(name, request.query_params.get(name) or "", path="/")
        except ValueError:  # the client's name or value is not a cookie's: its error, not ours
            raise HttpError(400, "invalid cookie name or value (RFC 6265 §4.1.1)") from None
        return resp

    @demo.get("/cookies/delete")
    def cookies_delete(request: Request) -> Response:
        resp = RedirectResponse("/cookies", 302)
        try:
            for name in request.query_params.keys():
                resp.delete_cookie(name, path="/")
        except ValueError:
            raise HttpError(400, "invalid cookie name (RFC 6265 §4.1.1)") from None
        return resp

    @demo.get("/gzip")
    def gzipped(request: Request) -> Response:
        document = {"gzipped": True, "method": request.method, "headers": dict(request.headers.items()), "origin": _origin(request)}
        body = gzip.compress(json.dumps(document).encode(), mtime=0)
        return Response(body, headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}, content_type="application/json")

    @demo.get("/range/:n<int>")
    def ranged(request: Request) -> Response:
        n = _bounded("n", request.params["n"], 0, lim.max_bytes, " bytes")
        whole = Response(_letters(0, n), 200, [("ETag", f'"range{n}"')], "application/octet-stream")
        # RFC 9110 §14 and §13 through the one implementation the file responses use: a Range
        # only on GET (§14.2), If-Range compared strongly (§13.1.5: before, a weak or stale
        # If-Range still got a 206), several ranges as multipart/byteranges, 304/412, 416.
        return conditional_response(request.method, request.headers, whole, ranges=True)

    @demo.get("/sse")
    def sse(request: Request) -> EventSourceResponse:
        count = _int_param(request, "count", 10, 0, lim.max_events)
        interval = _int_param(request, "interval", 1000, 0, max_delay_ms, " ms")
        _bounded("count * interval", count * interval, 0, max_delay_ms, " ms")

        async def events() -> AsyncIterator[ServerSentEvent]:
            for i in range(count):
                if i and interval:
                    await asyncio.sleep(interval / 1000)
                yield ServerSentEvent(json.dumps({"id": i}), event="tick", id=str(i))

        return EventSourceResponse(events(), ping=None)

    @demo.websocket("/ws/echo")
    async def ws_echo(ws: WebSocket) -> None:
        await ws.accept()
        async for message in ws:
            await ws.send(message)

    return demo


_ALPHABET = bytes(range(ord("a"), ord("z") + 1))


def _letters(start: int, end: int) -> bytes:
    """Bytes ``start`` to ``end`` of "abc...zabc..." (httpbin's /range body)."""
    if end <= start:
        return b""
    first = start % 26
    whole = (_ALPHABET * ((end - start + first) // 26 + 1))[first : first + end - start]
    return whole


_app: App | None = None
app: App  # built on first use by __getattr__ below


def __getattr__(name: str) -> Any:
    """``app``: the demo with the default limits (``fasthttp.demo:app``), built on first use so
    that the command line can read :data:`ENDPOINTS` without building it."""
    global _app
    if name == "app":
        if _app is None:
            _app = create_app()
        return _app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
