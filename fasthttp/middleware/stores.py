"""Where middleware keeps shared state: server-side sessions and rate-limit counters, in this
process's memory or in Redis.

Strategy
--------
Two stores, one interface each for the two middleware that keep state:

- sessions (``fasthttp.middleware.sessions``): ``await load(id)``, ``await save(id, data,
  max_age)``, ``await delete(id)``, the session being JSON bytes;
- rate limits (``fasthttp.middleware.ratelimit``): ``hit(key, limit, period)``, one atomic
  check-and-count that returns a :class:`Decision`.

:class:`MemoryStore` keeps both in one bounded table (at most ``max_entries`` entries: past
that the least recently used one goes), so a client spraying addresses or session cookies
costs a bounded amount of memory (APPSEC). It is per process: with N workers each has its own.

:class:`RedisStore` keeps them in Redis (the asyncio client of redis-py), so that several
instances behind a load balancer share sessions and limits. A rate-limit check is one Lua
script, run atomically by the server with the server's clock (``TIME``), never a read then a
write from here (two instances would race). Every command is bounded by *timeout* (the client's
socket timeouts, no retries, and ``asyncio.wait_for`` around each call), and any failure is a
:class:`StoreUnavailable`: the middleware decide what that means (fail open or closed, see
theirs). The client is made lazily, once per event loop, so a store built before a fork or
shared by several loops never uses a connection across loops.

The rate-limit rule is GCRA, the generic cell rate algorithm (ITU-T I.371; a token bucket of
*limit* tokens refilled at *limit* per *period*, kept as one number, the theoretical arrival
time ``tat``): :func:`gcra` here, and its twin in :data:`GCRA_LUA` for Redis. Each names the
other; change both together.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple, Protocol

__all__ = (
    "Decision",
    "gcra",
    "SessionStore",
    "RateLimitStore",
    "MemoryStore",
    "RedisStore",
    "StoreUnavailable",
    "GCRA_LUA",
)

# Floating-point slack when counting whole tokens ((limit - 1) * interval / interval may come
# out a hair below limit - 1).
_EPSILON = 1e-9


class Decision(NamedTuple):
    """The outcome of one rate-limit check. Times are in seconds from now."""

    #: True when the request may go on (and was counted).
    allowed: bool
    #: Requests still allowed right now, after this one.
    remaining: int
    #: When the bucket is full again (the quota entirely restored).
    reset: float
    #: For a refused request, when the next one would be allowed; 0 for an allowed one.
    retry_after: float


def gcra(tat: float | None, now: float, limit: int, period: float) -> tuple[float | None, Decision]:
    """One GCRA step: the new theoretical arrival time to store (None: refused, store nothing)
    and the decision, for a bucket of *limit* requests per *period* seconds whose stored time is
    *tat* (None: unknown key, a full bucket). Twin: the Lua script :data:`GCRA_LUA`."""
    interval = period / limit
    if tat is None or tat < now:
        tat = now
    new_tat = tat + interval
    allow_at = new_tat - period
    if now < allow_at:
        return None, Decision(False, 0, tat - now, allow_at - now)
    remaining = math.floor((period - (new_tat - now)) / interval + _EPSILON)
    return new_tat, Decision(True, remaining, new_tat - now, 0.0)


#: The Redis twin of :func:`gcra`, in milliseconds, on the Redis server's clock. KEYS[1]: the
#: counter; ARGV[1]: limit; ARGV[2]: period (ms). Returns {allowed, remaining, reset ms,
#: retry-after ms}, the times as strings (Redis turns a Lua number into an integer reply).
GCRA_LUA = """
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = period / limit
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - period
if now < allow_at then
  return {0, 0, tostring(tat - now), tostring(allow_at - now)}
end
redis.call('SET', KEYS[1], string.format('%.3f', new_tat), 'PX', math.ceil(new_tat - now))
local remaining = math.floor((period - (new_tat - now)) / interval + 1e-9)
return {1, remaining, tostring(new_tat - now), '0'}
"""


class StoreUnavailable(RuntimeError):
    """The store did not answer (connection refused or lost, a timeout): the middleware using
    it decide whether that fails open or closed."""


class SessionStore(Protocol):
    """Where server-side sessions live (``Sessions(store=...)``); the session is JSON bytes."""

    async def load(self, session_id: str) -> bytes | None:
        """The session saved under *session_id*, or None (never saved, expired, deleted)."""
        ...

    async def save(self, session_id: str, data: bytes, max_age: int) -> None:
        """Keep *data* under *session_id* for *max_age* seconds."""
        ...

    async def delete(self, session_id: str) -> None:
        """Forget *session_id* (logout): a replayed cookie then finds nothing."""
        ...


class RateLimitStore(Protocol):
    """Where rate-limit counters live (``RateLimit(store=...)``): one atomic check per request,
    a plain call (:class:`MemoryStore`) or a coroutine (:class:`RedisStore`)."""

    def hit(self, key: str, limit: int, period: float) -> Decision | Awaitable[Decision]:
        """Count one request against *key* if *limit* per *period* seconds allows it."""
        ...


class MemoryStore:
    """Sessions and rate-limit counters in this process's memory, at most *max_entries* of them
    together: past that, the least recently used goes (an expired entry goes when it is next
    looked up, or when it is the least recently used: it is never touched again). *clock*:
    monotonic seconds (``time.monotonic``).

    NOTE: per process. With several workers, or several machines, use :class:`RedisStore`.
    """

    __slots__ = ("max_entries", "_entries", "_clock")

    def __init__(self, max_entries: int = 100_000, *, clock: Callable[[], float] = time.monotonic) -> None:
        if not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError(f"max_entries is a positive int, not {max_entries!r}")
        self.max_entries = max_entries
        # key -> (expires at, monotonic seconds; value). Oldest use first.
        self._entries: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._clock = clock

    def __len__(self) -> int:
        """The number of entries held (sessions and counters), expired ones not yet dropped
        included: at most ``max_entries``."""
        return len(self._entries)

    def _get(self, key: str, now: float) -> Any:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= now:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def _put(self, key: str, value: Any, expires: float) -> None:
        entries = self._entries
        if key not in entries and len(entries) >= self.max_entries:
            # Room first (the table never holds more than max_entries): the least recently used
            # entry is the first one.
            entries.popitem(last=False)
        entries[key] = (expires, value)
        entries.move_to_end(key)

    # -- rate limits ---------------------------------------------------------------------------

    def hit(self, key: str, limit: int, period: float) -> Decision:
        """One GCRA check of *key* (:func:`gcra`); an allowed request is counted."""
        now = self._clock()
        new_tat, decision = gcra(self._get("r:" + key, now), now, limit, period)
        if new_tat is not None:
            # The entry is useless once the bucket is full again: it expires then.
            self._put("r:" + key, new_tat, new_tat)
        return decision

    # -- sessions ------------------------------------------------------------------------------

    async def load(self, session_id: str) -> bytes | None:
        value: bytes | None = self._get("s:" + session_id, self._clock())
        return value

    async def save(self, session_id: str, data: bytes, max_age: int) -> None:
        self._put("s:" + session_id, bytes(data), self._clock() + max_age)

    async def delete(self, session_id: str) -> None:
        self._entries.pop("s:" + session_id, None)

    def __repr__(self) -> str:
        return f"<MemoryStore {len(self._entries)}/{self.max_entries} entries>"


class RedisStore:
    """Sessions and rate-limit counters in Redis, shared by every instance that uses the same
    server (and *prefix*), through the asyncio client of redis-py (``pip install
    'fasthttp[redis]'``).

    *url*: ``redis://host:port/db`` (``rediss://`` for TLS, ``unix:///path``). *timeout*
    bounds every command, connecting included (seconds); a failure or a timeout is a
    :class:`StoreUnavailable`. *prefix* starts every key this store writes. The rate-limit
    script reads the server's clock before it writes, which needs Redis 5 or later (script
    effects replication). *options* go to
    ``redis.asyncio.Redis.from_url`` (``password=...``, ``ssl_ca_certs=...``).
    """

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", *, prefix: str = "fasthttp:", timeout: float = 1.0, **options: Any) -> None:
        try:
            import redis.asyncio  # noqa: F401  (checked now, used per loop in _client)
        except ImportError:
            raise RuntimeError("RedisStore needs redis-py: pip install 'fasthttp[redis]'") from None
        if not timeout or timeout <= 0:
            raise ValueError(f"timeout is a positive number of seconds, not {timeout!r}")
        self.url = url
        self.prefix = prefix
        self.timeout = float(timeout)
        self._options = options
        # One client (and its registered GCRA script) per event loop.
        self._clients: dict[asyncio.AbstractEventLoop, tuple[Any, Any]] = {}

    def _client(self) -> Any:
        return self._connection()[0]

    def _connection(self) -> tuple[Any, Any]:
        loop = asyncio.get_running_loop()
        pair = self._clients.get(loop)
        if pair is None:
            from redis.asyncio import Redis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            for old in [lp for lp in self._clients if lp.is_closed()]:
                del self._clients[old]  # a loop that is gone (a finished TestClient, a fork)
            options = {
                "socket_timeout": self.timeout,
                "socket_connect_timeout": self.timeout,
                # Bounded: one attempt per command (a retry would multiply the wait).
                "retry": Retry(NoBackoff(), 0),
                "retry_on_timeout": False,
                **self._options,
            }
            client = Redis.from_url(self.url, **options)
            pair = self._clients[loop] = (client, client.register_script(GCRA_LUA))
        return pair

    async def _call(self, what: str, awaitable: Awaitable[Any]) -> Any:
        from redis.exceptions import RedisError

        try:
            return await asyncio.wait_for(awaitable, self.timeout)
        except (RedisError, OSError, asyncio.TimeoutError) as exc:
            raise StoreUnavailable(f"Redis at {self.url} did not answer {what}: {exc or type(exc).__name__}") from exc

    async def hit(self, key: str, limit: int, period: float) -> Decision:
        """One atomic GCRA check of *key* on the server (:data:`GCRA_LUA`)."""
        script = self._connection()[1]
        reply = await self._call(
            "a rate-limit check", script(keys=[f"{self.prefix}rate:{key}"], args=[limit, period * 1000.0])
        )
        allowed, remaining, reset, retry_after = reply
        return Decision(bool(int(allowed)), int(remaining), float(reset) / 1000.0, float(retry_after) / 1000.0)

    async def load(self, session_id: str) -> bytes | None:
        value: bytes | None = await self._call("a session load", self._client().get(f"{self.prefix}session:{session_id}"))
        return value

    async def save(self, session_id: str, data: bytes, max_age: int) -> None:
        await self._call("a session save", self._client().set(f"{self.prefix}session:{session_id}", data, ex=max(1, max_age)))

    async def delete(self, session_id: str) -> None:
        await self._call("a session delete", self._client().delete(f"{self.prefix}session:{session_id}"))

    async def aclose(self) -> None:
        """Close this loop's connections (an ``on_shutdown`` hook may call it)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # pragma: no cover - called outside a loop
            return
        pair = self._clients.pop(loop, None)
        if pair is not None:
            await pair[0].aclose()

    def __repr__(self) -> str:
        return f"<RedisStore {self.url} prefix={self.prefix!r}>"
