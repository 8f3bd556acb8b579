"""``SecurityHeaders``: the security header fields on every response, as middleware.

Strategy: the fields are those of ``fasthttp.responses.security_headers`` (their one home: the
values, their checks and their RFCs are there), computed once when the middleware is built.
Per response, the fields the response does not set itself are appended to a copy (a handler's
own ``Content-Security-Policy`` or ``X-Frame-Options`` wins; responses may be shared constants,
so none is changed in place). ``Strict-Transport-Security`` goes on HTTPS responses only
(RFC 6797 §7.2: a user agent ignores it over plain HTTP, and it says nothing true there);
``request.is_secure`` reflects a trusted proxy's ``Forwarded: proto=https``
(``fasthttp.forwarded``). A websocket upgrade passes through unchanged.
"""

from __future__ import annotations

import types
from typing import TYPE_CHECKING, Any

from ..responses import FieldMethods, Response, lower_name, security_headers, with_fields
from .stack import AppendFields, CallNext

if TYPE_CHECKING:
    from ..requests import Request

__all__ = ("SecurityHeaders",)

_CORO = types.CoroutineType
_HSTS = b"strict-transport-security"


class SecurityHeaders:
    """Security header fields on every response: HSTS (HTTPS only), ``X-Content-Type-Options:
    nosniff``, ``X-Frame-Options``, ``Content-Security-Policy`` (when *csp* is given),
    ``Referrer-Policy``, ``Permissions-Policy`` (when *permissions_policy* is given) and
    ``X-Permitted-Cross-Domain-Policies``. The options and their defaults are those of
    :func:`fasthttp.responses.security_headers`.
    """

    def __init__(
        self,
        *,
        hsts: bool = True,
        hsts_max_age: int = 31536000,
        include_subdomains: bool = True,
        preload: bool = False,
        content_type_options: bool = True,
        frame_options: str | None = "DENY",
        csp: str | None = None,
        referrer_policy: str | None = "strict-origin-when-cross-origin",
        cross_domain_policies: str | None = "none",
        permissions_policy: str | None = None,
    ) -> None:
        fields = security_headers(
            hsts=hsts,
            hsts_max_age=hsts_max_age,
            include_subdomains=include_subdomains,
            preload=preload,
            content_type_options=content_type_options,
            frame_options=frame_options,
            csp=csp,
            referrer_policy=referrer_policy,
            cross_domain_policies=cross_domain_policies,
            permissions_policy=permissions_policy,
        )
        #: The fields of a plain-HTTP response, and those of an HTTPS one (with HSTS).
        self.http_fields = [(n, v) for n, v in fields if lower_name(n) != _HSTS]
        self.https_fields = fields
        self._names = {lower_name(n) for n, _ in fields}
        self._sizes = {len(n) for n in self._names}
        # PERF: what before() answers, built once (benchmarks/bench_middleware.py).
        self._http_plan = AppendFields(self.http_fields)
        self._https_plan = AppendFields(self.https_fields)

    #: No request field changes what this middleware does (the scheme does: see :meth:`quiet`).
    triggers = ()

    def quiet(self, secure: bool) -> AppendFields:
        """What :meth:`before` answers for every request on an HTTPS (*secure*) or plain HTTP
        connection: the stack asks once, at start-up, and appends the fields of the scheme's
        plan, joined with the other quiet middleware's, as one block the writer serialized
        once (``fasthttp.middleware.stack``; PERF: ``benchmarks/bench_middleware.py``)."""
        return self._https_plan if secure else self._http_plan

    def before(self, request: Request) -> AppendFields:
        """The stack's split form (``fasthttp.middleware.stack``): these fields, appended by the
        stack itself when the response sets none of them."""
        return self._https_plan if request.is_secure else self._http_plan

    def after(self, request: Request, response: Any, plan: AppendFields) -> Any:
        """The response, when it sets some of the fields itself: only the others are added."""
        return self._finish(response, plan is self._https_plan)

    def __call__(self, request: Request, call_next: CallNext) -> Any:
        result = call_next(request)
        secure = request.is_secure
        if type(result) is _CORO:
            return self._finish_async(result, secure)
        return self._finish(result, secure)

    def _finish(self, response: Any, secure: bool) -> Any:
        if type(response) is not Response and not isinstance(response, FieldMethods):
            return response  # an Upgrade: the new protocol's business
        fields = self.https_fields if secure else self.http_fields
        names = self._names
        sizes = self._sizes
        for name, _ in response.fields:
            # PERF: the length first (names are ASCII), so a Content-Type is never lower-cased.
            if len(name) in sizes and lower_name(name) in names:
                # The handler set some itself: add only the others.
                present = {lower_name(n) for n, _ in response.fields}
                return with_fields(response, [(n, v) for n, v in fields if lower_name(n) not in present])
        return with_fields(response, fields)

    async def _finish_async(self, result: Any, secure: bool) -> Any:
        return self._finish(await result, secure)

    def __repr__(self) -> str:
        return f"<SecurityHeaders {[n for n, _ in self.https_fields]}>"
