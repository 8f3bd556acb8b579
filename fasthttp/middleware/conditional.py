"""``ConditionalRequests``: ETags, 304 and 412 for every in-memory response of GET and HEAD.

Strategy: the rules are ``fasthttp.conditional``'s, the same code that
:class:`~fasthttp.files.FileResponse` runs: after the route answered, a 2xx
:class:`~fasthttp.responses.Response` gets its validators (the ``ETag`` the handler set, else
the digest of its body; the ``Last-Modified`` the handler set) and the request's
``If-Match``/``If-None-Match``/``If-Modified-Since``/``If-Unmodified-Since`` are evaluated in
the order of RFC 9110 §13.2.2, so a client revalidating gets a bodiless 304 and a cache keeps
its copy. With *ranges*, the body is also served in byte ranges (``Accept-Ranges: bytes``, 206,
``multipart/byteranges``, 416, ``If-Range``).

Only safe methods are answered here: for PUT, POST, DELETE and PATCH the preconditions must
hold *before* the method acts (RFC 9110 §13.2.1), which the route option ``preconditions=``
(validators of the current state, evaluated before the handler) and ``require_preconditions=
True`` (428, RFC 6585 §3) provide. Streams and files are left alone (files answer for
themselves). Install it outside ``Compression`` (added first) so the tag describes the bytes
sent, or inside it: both are correct, since weak comparison ignores the ``W/`` that coding adds.
"""

from __future__ import annotations

import types
from typing import TYPE_CHECKING, Any

from ..conditional import conditional_response
from ..responses import Response, to_response
from .stack import CallNext

if TYPE_CHECKING:
    from ..requests import Request

__all__ = ("ConditionalRequests",)

_CORO = types.CoroutineType


class ConditionalRequests:
    """ETags and 304/412 for every in-memory response (``app.add_middleware(ConditionalRequests())``).

    *etag*: tag bodies that carry no ``ETag`` (a BLAKE2b digest; *weak* makes it ``W/``).
    *ranges*: serve byte ranges of every such body (*max_ranges* per request; more and the
    ``Range`` is ignored, RFC 9110 §14.2).
    """

    __slots__ = ("etag", "weak", "ranges", "max_ranges")

    def __init__(self, *, etag: bool = True, weak: bool = False, ranges: bool = False, max_ranges: int = 16) -> None:
        if not isinstance(max_ranges, int) or max_ranges < 1:
            raise ValueError(f"max_ranges is a positive int, not {max_ranges!r}")
        self.etag = etag
        self.weak = weak
        self.ranges = ranges
        self.max_ranges = max_ranges

    def applies(self, request: Request) -> bool:
        """GET and HEAD only (the stack skips the middleware for other methods)."""
        method = request.head.method
        return method == "GET" or method == "HEAD"

    def __call__(self, request: Request, call_next: CallNext) -> Any:
        result = call_next(request)
        method = request.method
        if method != "GET" and method != "HEAD":
            return result
        if type(result) is _CORO:
            return self._later(request, result)
        return self.apply(request, result)

    async def _later(self, request: Request, result: Any) -> Any:
        return self.apply(request, to_response(await result))

    def apply(self, request: Request, response: Any) -> Any:
        """*response* as the request's conditional fields (and ``Range``) make it."""
        if not isinstance(response, Response):
            return response
        return conditional_response(
            request.method,
            request.head.headers,
            response,
            etag=self.etag,
            weak=self.weak,
            ranges=self.ranges,
            max_ranges=self.max_ranges,
        )
