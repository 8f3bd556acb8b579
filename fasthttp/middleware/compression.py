"""``Compression``: response content codings chosen by ``Accept-Encoding``, and request content decoded.

Strategy: one middleware, both directions, the codings themselves being ``fasthttp.codings``'.

- Requests: a body with ``Content-Encoding`` gets its reader wrapped in a
  :class:`~fasthttp.codings.DecodedBody` before the route runs, so every body reader
  (``body()``, ``json()``, ``form()``, ``stream()``) sees decoded bytes, and the route's body
  limit (set later by the route's runner) applies to the *decoded* size: a decompression bomb
  is a 413 after at most the limit's worth of output. A coding we do not decode is a 415 whose
  ``Accept-Encoding`` lists those we do (RFC 9110 §15.5.16, §12.5.3).
- Responses: the coding is the best of ours for the client's ``Accept-Encoding``
  (``fasthttp.negotiation.negotiate_encoding``: q-values, ``*``, ``identity;q=0``). An
  in-memory body is encoded in one call; a :class:`~fasthttp.responses.StreamingResponse` is
  encoded piece by piece with a flush after each, so server-sent events and MJPEG frames still
  arrive when they are sent. Left alone: 1xx/204/206/304 responses, a body already coded,
  ``Cache-Control: no-transform`` (RFC 9111 §5.2.2.6), media types outside *media_types*,
  and files (sent with zero-copy ``sendfile``; ``static_files`` serves precompressed
  siblings instead). Below *minimum_size* the body goes as is unless the client refuses
  ``identity``. Every response whose coding depended on the header carries
  ``Vary: Accept-Encoding`` (RFC 9110 §12.5.5), and a strong ``ETag`` becomes weak on an
  encoded body (RFC 9110 §8.8.3: the bytes differ from the identity representation's).

PERF: a request without ``Accept-Encoding`` and without content costs one header look-up,
made by the App itself before its route table (:attr:`Compression.triggers`,
``MiddlewareStack.bypass``; elsewhere :meth:`Compression.applies` lets the stack skip the
middleware): ``benchmarks/server`` ``fasthttp-compression`` plaintext, 13.8 against 14.3 server
CPU µs per request without it (6 repetitions on a loaded 2-CPU machine,
``benchmarks/results/mw-middleware.md``); in process, the engine fed GET /plaintext through a
memory transport, +0.06 to +0.10 µs on 2.4 µs. The response is returned untouched: identity is
acceptable to every client, so a cache that stores it may serve it to anyone. An encoded body
costs the encoder (zlib-ng when installed, ``fasthttp.codings``) and about 2 µs besides.
"""

from __future__ import annotations

import copy
import types
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..codings import AVAILABLE, DEFAULT_LEVELS, LEVEL_RANGES, DecodedBody, Encoder, encode, encoder, parse_codings
from ..errors import HttpError
from ..media import first_match
from ..negotiation import negotiate_encoding
from ..responses import Response, StreamingResponse, field_text, iterate_content, lower_name, to_response
from .stack import CallNext

if TYPE_CHECKING:
    from ..requests import Request

__all__ = ("Compression", "COMPRESSIBLE_TYPES")

#: Media types worth compressing by default: text, and the structured-syntax formats of APIs.
COMPRESSIBLE_TYPES: tuple[str, ...] = (
    "text/*",
    "application/json",
    "application/*+json",
    "application/javascript",
    "application/ecmascript",
    "application/xml",
    "application/*+xml",
    "application/x-www-form-urlencoded",
    "application/wasm",
    "application/x-ndjson",
    "image/svg+xml",
    "image/bmp",
    "font/ttf",
    "font/otf",
    "multipart/x-mixed-replace",
)

_CORO = types.CoroutineType
_VARY = ("Vary", "Accept-Encoding")
_NOT_CODED = frozenset((204, 206, 304))
# The response fields encode_response looks at, and the lengths of their names.
_REWORKED = frozenset((b"vary", b"etag", b"content-length"))
_SIZES = frozenset(len(n) for n in (b"content-encoding", b"cache-control", b"content-type", *_REWORKED))
_CACHED = 256  # Accept-Encoding values and Content-Type values remembered per middleware


class Compression:
    """Response compression and request decompression (``app.add_middleware(Compression())``).

    *minimum_size*: bodies smaller than this many bytes go uncompressed (unless the client
    refuses ``identity``). *codings*: the codings offered, in the server's order of preference
    (default: every one available, ``zstd``, ``br``, ``gzip``, ``deflate``; ``br`` and ``zstd``
    need the ``compression`` extra). *levels*: a level per coding (``{"gzip": 9}``), the others
    keep :data:`fasthttp.codings.DEFAULT_LEVELS`. *media_types*: the compressible media type
    patterns (``type/*``, ``type/*+suffix``; default :data:`COMPRESSIBLE_TYPES`).
    *streaming*: compress streamed responses too (a flush per piece). *decompress_requests*:
    decode request content (gzip, deflate, br, zstd).
    """

    __slots__ = ("minimum_size", "codings", "levels", "media_types", "streaming", "decompress_requests", "_offered", "_accept_encoding", "_choices", "_types")

    def __init__(
        self,
        minimum_size: int = 500,
        *,
        codings: Iterable[str] | None = None,
        levels: Mapping[str, int] | None = None,
        media_types: Iterable[str] = COMPRESSIBLE_TYPES,
        streaming: bool = True,
        decompress_requests: bool = True,
    ) -> None:
        if not isinstance(minimum_size, int) or minimum_size < 0:
            raise ValueError(f"minimum_size is a non-negative int, not {minimum_size!r}")
        if isinstance(codings, str):
            codings = (codings,)
        chosen = tuple(AVAILABLE if codings is None else (c.lower() for c in codings))
        for coding in chosen:
            if coding not in AVAILABLE:
                raise ValueError(f"content coding {coding!r} is not available; available: {', '.join(AVAILABLE)} (br and zstd need fasthttp[compression])")
        if not chosen:
            raise ValueError("codings lists at least one coding")
        merged = dict(DEFAULT_LEVELS)
        for coding, level in (levels or {}).items():
            low, high = LEVEL_RANGES.get(coding, (0, -1))
            if isinstance(level, bool) or not isinstance(level, int) or not low <= level <= high:
                raise ValueError(f"levels maps a coding to its level ({', '.join(f'{c}: {a}..{b}' for c, (a, b) in LEVEL_RANGES.items())}), not {coding!r}: {level!r}")
            merged[coding] = level
        self.minimum_size = minimum_size
        self.codings = chosen
        self.levels = merged
        self.media_types = tuple(p.lower() for p in media_types)
        self.streaming = streaming
        self.decompress_requests = decompress_requests
        self._offered = (*chosen, "identity")
        self._accept_encoding = ", ".join(AVAILABLE)
        self._choices: dict[str, tuple[str, bool]] = {}
        self._types: dict[Any, bool] = {}

    #: The request field that makes :meth:`applies` true besides content: the App checks it
    #: itself, before entering the middleware stack (``MiddlewareStack.bypass``).
    triggers = ("accept-encoding",)

    def applies(self, request: Request) -> bool:
        """Whether this request has anything for the middleware: content (to decode) or an
        ``Accept-Encoding`` (the stack skips the middleware otherwise)."""
        return request.body_reader is not None or "accept-encoding" in request.head.headers

    def __call__(self, request: Request, call_next: CallNext) -> Any:
        if request.body_reader is not None and self.decompress_requests:
            self.decode_request(request)
        accept = request.head.headers.get("accept-encoding")
        result = call_next(request)
        if accept is None:
            return result  # PERF: nothing asked, nothing done (see the module docstring)
        if type(result) is _CORO:
            return self._later(request.method, accept, result)
        return self.encode_response(request.method, accept, result)

    async def _later(self, method: str, accept: str, result: Any) -> Any:
        return self.encode_response(method, accept, to_response(await result))

    # -- requests --------------------------------------------------------------------------------

    def decode_request(self, request: Request) -> None:
        """Wrap the body reader of *request* to decode its ``Content-Encoding``; 415 (with
        ``Accept-Encoding``) for a coding that is not one of ours."""
        codings = parse_codings(request.head.headers.getall("content-encoding"))
        if not codings:
            return
        for coding in codings:
            if coding not in AVAILABLE:
                raise HttpError(
                    415,
                    f"Unsupported Media Type; content coding {coding!r} is not supported",
                    [("Accept-Encoding", self._accept_encoding)],
                )
        reader = request.body_reader
        if not isinstance(reader, DecodedBody):
            request.body_reader = DecodedBody(reader, codings)

    # -- responses -------------------------------------------------------------------------------

    def encode_response(self, method: str, accept: str, response: Any) -> Any:
        """*response* in the coding *accept* (an ``Accept-Encoding`` value) prefers."""
        exact = type(response) is Response
        streamed = not exact and isinstance(response, StreamingResponse)
        if not (exact or streamed and self.streaming or isinstance(response, Response)):
            return response
        status = response.status
        if status < 200 or status in _NOT_CODED:
            return response
        ctype: Any = None
        rework = False  # a Vary, an ETag or a Content-Length: the fields are rewritten below
        sizes = _SIZES
        for name, value in response.fields:
            # PERF: the length first (names are ASCII): most fields are never lower-cased.
            if len(name) not in sizes:
                continue
            key = lower_name(name)
            if key == b"content-encoding":
                return response  # already coded (RFC 9110 §8.4)
            if key == b"cache-control" and "no-transform" in field_text(value).lower():
                return response
            if key == b"content-type":
                if ctype is None:
                    ctype = value
            elif key in _REWORKED:
                rework = True
        if ctype is None or not self._compressible(ctype):
            return response
        coding, small_ok = self._choice(accept)
        if coding != "identity" and not streamed and small_ok and len(response.body) < self.minimum_size:
            coding = "identity"  # small, and the client takes identity
        fields = _with_vary(response.fields) if rework else [*response.fields, _VARY]
        if coding == "identity":
            return _copy(response, fields)
        if rework:
            fields = [_weak(n, v) for n, v in fields if lower_name(n) != b"content-length"]
        fields.append(("Content-Encoding", coding))
        level = self.levels[coding]
        if not streamed:
            # PERF: no copy of a bytes body, and the new Response without its constructor's
            # checks (the fields are the checked ones plus ours; benchmarks/server gzip-json).
            body = response.body
            coded = Response.__new__(Response)
            coded.status = status
            coded.body = encode(coding, body if type(body) is bytes else bytes(body), level)
            coded.fields = fields
            return coded
        clone = copy.copy(response)
        clone.fields = fields
        if method != "HEAD":
            clone.content = _encoded_stream(response.content, encoder(coding, level))
        clone.content_length = None
        return clone

    def _choice(self, accept: str) -> tuple[str, bool]:
        """``(coding, identity acceptable)`` for an ``Accept-Encoding`` value, remembered per
        value (PERF: clients send a handful of distinct values; bounded)."""
        choice = self._choices.get(accept)
        if choice is None:
            coding = negotiate_encoding(accept, self._offered)
            if coding is None:
                coding = "identity"  # nothing acceptable: RFC 9110 §12.5.3 lets identity go
            choice = (coding, negotiate_encoding(accept, ("identity",)) is not None)
            if len(self._choices) < _CACHED:
                self._choices[accept] = choice
        return choice

    def _compressible(self, ctype: Any) -> bool:
        """Whether a ``Content-Type`` value names a media type of *media_types* (remembered per
        value, bounded)."""
        known = self._types.get(ctype)
        if known is None:
            mtype = field_text(ctype).partition(";")[0].strip(" \t").lower()
            known = first_match(mtype, self.media_types) is not None
            if len(self._types) < _CACHED:
                self._types[ctype] = known
        return known


def _with_vary(fields: Iterable[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """*fields* with ``Accept-Encoding`` in ``Vary`` (merged into one there), as a new list."""
    out = list(fields)
    for i, (name, value) in enumerate(out):
        if lower_name(name) == b"vary":
            present = [p.strip() for p in field_text(value).split(",")]
            if "*" not in present and "accept-encoding" not in (p.lower() for p in present):
                out[i] = (name, field_text(value) + ", Accept-Encoding")
            return out
    out.append(_VARY)
    return out


def _weak(name: Any, value: Any) -> tuple[Any, Any]:
    """A strong ``ETag`` made weak: the coded bytes are not the identity representation's."""
    if lower_name(name) == b"etag":
        text = field_text(value)
        if not text.startswith("W/"):
            return name, "W/" + text
    return name, value


def _copy(response: Any, fields: list[tuple[Any, Any]]) -> Any:
    if type(response) is Response:
        return Response(response.body, response.status, fields)
    clone = copy.copy(response)
    clone.fields = fields
    return clone


async def _encoded_stream(content: Any, enc: Encoder) -> AsyncIterator[bytes]:
    """*content* (an async iterable or iterable of bytes/str) coded piece by piece, each piece
    flushed so that the client can decode it on arrival."""
    pieces = iterate_content(content)
    try:
        async for piece in pieces:
            if isinstance(piece, str):
                piece = piece.encode()
            if piece:
                yield enc.chunk(bytes(piece))
        yield enc.finish()
    finally:
        await pieces.aclose()
