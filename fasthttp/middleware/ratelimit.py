"""``RateLimit``: at most N requests per period per client (or per key), else ``429``.

Strategy
--------
A token bucket per key, kept as GCRA (``fasthttp.middleware.stores.gcra``: one number per key,
bursts of up to *requests*, refilled at *requests* per *per* seconds). The key is the client's
address by default (``request.client``, which is the address a trusted proxy forwarded, see
``fasthttp.forwarded``): an IPv4 address as is, an IPv6 address by its /64 network (one
subscriber usually holds a whole /64, and would otherwise have 2**64 keys to spray), a Unix
socket peer by its name; or whatever *key* ``(request) -> str | None`` returns (None: not
limited).

The counters live in a store: by default a bounded :class:`~fasthttp.middleware.stores.
MemoryStore` of this process (at most *max_entries* keys; a client spraying addresses evicts the
least recently seen keys, it never grows the table: APPSEC), or a shared
:class:`~fasthttp.middleware.stores.RedisStore`, where each check is one atomic Lua script on the
server's clock, so a limit holds across every instance behind a load balancer.

A refused request is ``429 Too Many Requests`` (RFC 6585 §4) with ``Retry-After`` in seconds
(RFC 9110 §10.2.3); every response carries the ``RateLimit-Limit``, ``RateLimit-Remaining``,
``RateLimit-Reset`` and ``RateLimit-Policy`` fields of the IETF draft
(draft-ietf-httpapi-ratelimit-headers-07) unless ``headers=False``.

When the store fails (Redis gone, or slower than its timeout): ``fail_open=True`` (the default)
lets the request through, without ``RateLimit-*`` fields, and logs a warning (a rate limit
protects capacity; an outage of its store should not become an outage of the site);
``fail_open=False`` answers ``503`` with ``Retry-After`` (for limits that guard something
costly, such as login attempts). Either way the wait is bounded by the store's timeout.

NOTE: ``name`` keeps the counters of two limits apart in one store; two instances (processes,
machines) of the same app share counters because the same configuration gives the same name.
Give each route-level limit its own *name* when two have the same numbers.
"""

from __future__ import annotations

import inspect
import ipaddress
import logging
import math
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import HttpError
from ..responses import with_fields
from .stack import CallNext
from .stores import Decision, MemoryStore, RateLimitStore, StoreUnavailable

if TYPE_CHECKING:
    from ..requests import Request

__all__ = ("RateLimit", "client_key")

log = logging.getLogger("fasthttp.ratelimit")

_CORO = types.CoroutineType


def client_key(request: Request) -> str | None:
    """The default key: the client's address (after trusted-proxy resolution), an IPv6
    address by its /64 network; None (not limited) when the peer has no address."""
    client = request.client
    host = client[0] if isinstance(client, tuple) else client
    if not host:
        return None
    host = str(host)
    if ":" not in host:
        return host  # IPv4 (or a name): the common case, no parsing
    try:
        ip = ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class RateLimit:
    """At most *requests* per *per* seconds for each key (see the module docstring).

    *key*: ``(request) -> str | None`` (default :func:`client_key`). *store*: a
    :class:`~fasthttp.middleware.stores.RateLimitStore` (default: a ``MemoryStore`` of
    *max_entries* keys). *name*: the counters' name in the store. *headers*: send the
    ``RateLimit-*`` fields on every response. *fail_open*: when the store fails, let the
    request through (True) or answer 503 (False).
    """

    def __init__(
        self,
        requests: int,
        per: float,
        key: Callable[[Request], str | None] | None = None,
        *,
        store: RateLimitStore | None = None,
        name: str | None = None,
        headers: bool = True,
        fail_open: bool = True,
        max_entries: int = 100_000,
    ) -> None:
        if not isinstance(requests, int) or isinstance(requests, bool) or requests < 1:
            raise ValueError(f"requests is a positive int, not {requests!r}")
        if not isinstance(per, (int, float)) or isinstance(per, bool) or not per > 0 or math.isinf(per):
            raise ValueError(f"per is a positive number of seconds, not {per!r}")
        if key is not None and not callable(key):
            raise TypeError("key is a callable(request) -> str | None")
        self.requests = requests
        self.per = float(per)
        self.key = key or client_key
        self.store: RateLimitStore = store if store is not None else MemoryStore(max_entries)
        self.name = name or f"{requests}/{per:g}s"
        self.headers = headers
        self.fail_open = fail_open
        self._prefix = self.name + ":"
        self._async = inspect.iscoroutinefunction(self.store.hit)
        self._policy = ("RateLimit-Policy", f"{requests};w={math.ceil(self.per)}")

    def __call__(self, request: Request, call_next: CallNext) -> Any:
        key = self.key(request)
        if key is None:
            return call_next(request)
        if self._async:
            return self._check_async(request, call_next, self._prefix + key)
        decision = self.store.hit(self._prefix + key, self.requests, self.per)
        assert isinstance(decision, Decision)
        return self._apply(request, call_next, decision)

    async def _check_async(self, request: Request, call_next: CallNext, key: str) -> Any:
        try:
            decision = await self.store.hit(key, self.requests, self.per)  # type: ignore[misc]
        except StoreUnavailable as exc:
            if not self.fail_open:
                log.warning("rate-limit store unavailable, failing closed (503): %s", exc)
                raise HttpError(503, "rate limit store unavailable", [("Retry-After", "5")]) from None
            log.warning("rate-limit store unavailable, failing open: %s", exc)
            result = call_next(request)
            if type(result) is _CORO:
                result = await result
            return result
        result = self._apply(request, call_next, decision)
        if type(result) is _CORO:
            result = await result
        return result

    def fields(self, decision: Decision) -> list[tuple[str, str]]:
        """The ``RateLimit-*`` fields for *decision* (draft-ietf-httpapi-ratelimit-headers-07)."""
        return [
            ("RateLimit-Limit", str(self.requests)),
            ("RateLimit-Remaining", str(decision.remaining)),
            ("RateLimit-Reset", str(math.ceil(decision.reset))),
            self._policy,
        ]

    def _apply(self, request: Request, call_next: CallNext, decision: Decision) -> Any:
        if not decision.allowed:
            # RFC 9110 §10.2.3: delay-seconds, a whole number; at least 1 (0 would invite a retry
            # that is refused again).
            retry = max(1, math.ceil(decision.retry_after))
            fields = [("Retry-After", str(retry)), *self.fields(decision)] if self.headers else [("Retry-After", str(retry))]
            log.debug("rate limit %s exceeded by %s %s", self.name, request.method, request.path)
            raise HttpError(429, f"Too Many Requests: at most {self.requests} per {self.per:g} seconds; retry in {retry} s", fields)
        result = call_next(request)
        if not self.headers:
            return result
        fields = self.fields(decision)
        if type(result) is _CORO:
            return _finish_async(result, fields)
        return with_fields(result, fields)

    def __repr__(self) -> str:
        return f"<RateLimit {self.name} store={self.store!r}>"


async def _finish_async(result: Any, fields: list[tuple[str, str]]) -> Any:
    return with_fields(await result, fields)
