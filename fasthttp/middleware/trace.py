"""TRACE (RFC 9110 §9.3.8): the request echoed back as ``message/http``, off unless installed.

Strategy: :class:`Trace` is a middleware that answers every TRACE request before routing with
the request line and header fields as received, leaving out the fields likely to carry secrets
(RFC 9110 §9.3.8 asks the final recipient to exclude them: credentials, cookies, tokens) and
those an application names. A TRACE with content is a 400 (a client MUST NOT send it). Without
the middleware, TRACE gets what any unrouted method gets (405 with ``Allow``): cross-site
tracing needs it on, and it is off by default.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..responses import Response, error_response
from .stack import CallNext

if TYPE_CHECKING:
    from ..requests import Request

__all__ = ("Trace", "SENSITIVE_FIELDS")

#: Fields never echoed (lower-case names).
SENSITIVE_FIELDS = frozenset(
    ("authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token", "x-csrf-token", "x-xsrf-token")
)


class Trace:
    """Answer TRACE with the request, minus :data:`SENSITIVE_FIELDS` and *exclude*."""

    def __init__(self, exclude: Iterable[str] = ()) -> None:
        self.hidden = SENSITIVE_FIELDS | {name.lower() for name in exclude}

    def __call__(self, request: Request, call_next: CallNext) -> Any:
        if request.method != "TRACE":
            return call_next(request)
        if request.body_reader is not None:
            return error_response(400, "a TRACE request has no content (RFC 9110 §9.3.8)")
        lines = [f"TRACE {request.target.decode('latin-1')} HTTP/{request.version}"]
        lines += [f"{name}: {value}" for name, value in request.headers.items() if name.lower() not in self.hidden]
        return Response(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), 200, content_type="message/http")
