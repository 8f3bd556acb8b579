"""``Config``: every limit, deadline and behaviour switch of the engine, with safe defaults.

The connection engine (``fasthttp.protocol``) and the server read it; the command line
(``fasthttp.cli``) exposes each field as an option. Validation happens at construction, so a
bad value fails where it is written, not at the first request.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

__all__ = ("Config", "split_options", "async_mode", "sendfile_lowat", "INLINE", "EAGER", "TASK")

# How an ``async def`` handler is run (Config.async_handlers).
INLINE = 0  # first step inline with coro.send(None); a Task only if it suspends
EAGER = 1  # an eager-start Task (Python 3.12+): same inline first step, real task semantics
TASK = 2  # always a Task, scheduled on the next loop iteration
_EAGER_OK = sys.version_info >= (3, 12)


def async_mode(name: str) -> int:
    """The mode for ``Config.async_handlers``: "auto", "inline", "eager" or "task"."""
    if name == "auto":
        return EAGER if _EAGER_OK else INLINE
    modes = {"inline": INLINE, "eager": EAGER, "task": TASK}
    if name not in modes:
        raise ValueError(f"async_handlers is auto, inline, eager or task, not {name!r}")
    if modes[name] == EAGER and not _EAGER_OK:
        raise ValueError("eager tasks need Python 3.12 or later")
    return modes[name]


#: What ``Config.sendfile_lowat = "auto"`` means on uvloop (measured best of 16 KiB-256 KiB).
AUTO_SENDFILE_LOWAT = 64 * 1024


def sendfile_lowat(value: int | str | None, uvloop: bool) -> int | None:
    """The bound ``Config.sendfile_lowat`` *value* sets on a loop (*uvloop* or the stdlib's)."""
    if value == "auto":
        return AUTO_SENDFILE_LOWAT if uvloop else None
    return value  # type: ignore[return-value]


@dataclasses.dataclass
class Config:
    """Every limit and deadline of the engine (sizes in bytes, times in seconds).

    ``None`` or ``0`` turns a count limit off; a rate of ``0`` disables the minimum body rate.
    """

    # Request limits (RFC 9112 §2.3, §3, §5; RFC 6585 §5)
    max_request_line: int = 8190  # 414 past this
    max_header_size: int = 32768  # 431 past this (whole header section)
    max_header_count: int = 100  # 431 past this
    max_body_size: int | None = 1 << 20  # 413 past this; a route may override
    max_chunk_line: int = 4096  # chunk-size line with extensions
    max_trailer_size: int = 8192
    require_content_length: bool = False  # 411 for chunked request bodies when True
    # Deadlines
    header_timeout: float = 10.0  # from the first byte of a request to the end of its head (408)
    body_timeout: float = 20.0  # longest silence while a body is arriving (408)
    min_body_rate: float = 500.0  # bytes/s a body must average over each window (408)
    body_rate_window: float = 10.0
    keep_alive_timeout: float = 5.0  # idle time between requests before a silent close
    write_timeout: float = 30.0  # longest time the peer may leave our output unread (abort)
    linger_timeout: float = 2.0  # input discarded this long after an error response
    shutdown_timeout: float = 10.0  # graceful shutdown: in-flight requests get this long
    # Counts
    max_requests_per_connection: int | None = 1000
    max_connections: int | None = 10000  # per server (per worker); 503 past this
    backlog: int = 1024
    # Listening sockets per TCP address in each server (SO_REUSEPORT): uvloop accepts one
    # connection per socket per loop iteration, so several sockets accept several connections
    # per iteration (fasthttp.listeners.accept_listeners). None: 8 on uvloop on Linux, else 1.
    accept_listeners: int | None = None
    # TCP_DEFER_ACCEPT on TCP listening sockets, in seconds (0: off): a connection is handed to
    # the server only once its first bytes arrive (or, silent, after about this long), so a new
    # connection costs one wake-up (accept and read in one turn) instead of two, and a client
    # that connects and sends nothing holds no descriptor meanwhile. Every protocol served here
    # has the client speak first (HTTP, TLS, the PROXY preface). Measured (issue 17, wrk -c64
    # with Connection: close, same run): server 44.9 -> 37.9 µs per connection, 16.0k -> 18.8k
    # req/s. On by default since uvloop's listeners have a backstop for bursts
    # (fasthttp.listeners.AcceptBackstop): before it, 1,000 connections opened together on a
    # busy server waited in the accept queue (libuv accepts one per socket per loop iteration,
    # and deferred connections are queued only once their requests arrive, while the earlier
    # ones are served): p99 0.2-1.8 s against 18-90 ms without the option. What is left (issue
    # 17, c1000): each connection's accept and set-up (about 20 µs) is paid after its request
    # arrived, inside that request's latency, where without the option the server accepts while
    # the client is still connecting; so a burst's first requests are the slowest 0.3% of a 4 s
    # run: p99.9 1.2-1.9x the off setting's after the backstop's fixes (two loaded runs: 93 vs
    # 76 ms, 134 vs 72 ms). Kept on for the stream of new connections (session 7, quiet: 37.8
    # vs 47.6 µs per connection; a tie on a machine loaded to 6-8, where the server rarely sleeps).
    defer_accept: int = 1
    # Buffers (flow control)
    read_high_water: int = 64 * 1024  # unconsumed request body held before reading pauses
    write_high_water: int = 64 * 1024  # transport buffer above which producing pauses
    # Behaviour
    server_header: str | None = None  # a Server field value, or None to send none
    sendfile: bool = True  # zero-copy file responses on plain TCP
    # Unsent bytes a TCP socket may hold while a file is sendfile'd (TCP_NOTSENT_LOWAT, set for
    # file bodies larger than this; None: the kernel's default, no bound; "auto": 64 KiB on
    # uvloop, None on the stdlib loop). Without a bound the whole file is queued at once and
    # much of its transmit work runs when the peer's ACKs are processed: on loopback, in the
    # client's own read() (wrk paid ~2x per 1 MiB response). Bounded, the server pushes the
    # rest from its writability wake-ups: on uvloop that costs the server little, on the
    # stdlib loop (dearer wake-ups) about as much as the client saves, hence "auto". It bounds
    # only the queue behind the congestion window, not the bytes in flight (SO_SNDBUF would,
    # capping a distant peer at buffer/RTT and turning autotuning off), so it is safe for WAN
    # peers too; AF_UNIX sockets are left alone (no such option).
    sendfile_lowat: int | str | None = "auto"
    # How async handlers run: "inline" drives the first step with coro.send(None) and makes a
    # Task only if the handler suspends (fastest; but asyncio.current_task() is None until then,
    # so asyncio.timeout() must come after an await); "eager" uses an eager-start Task (3.12+:
    # the same inline first step with real task semantics, ~0.5 us more); "task" always
    # schedules a Task; "auto" is "eager" on 3.12+ (where wait_for needs a task) else "inline".
    async_handlers: str = "auto"
    # WebSockets (fasthttp.websocket; RFC 6455). Sizes count bytes (a text message's UTF-8 bytes).
    # NOTE: 16 MiB (uvicorn's default) lets the largest messages of the Autobahn suite through;
    # memory stays bounded by the receive queue's byte bound (read_high_water), not by this.
    ws_max_message_size: int | None = 16 << 20  # close 1009 past this (after any decompression)
    ws_max_frame_size: int | None = 16 << 20  # close 1009 for a frame larger than this
    ws_max_queue: int = 16  # messages held for the handler (at most read_high_water bytes past one) before reading pauses
    ws_ping_interval: float | None = 20.0  # server pings this often (None: never)
    ws_ping_timeout: float | None = 20.0  # no pong within this after a ping: close 1011
    ws_idle_timeout: float | None = None  # no message either way for this long: close 1001
    ws_close_timeout: float = 5.0  # wait this long for the peer's close frame, then drop it
    ws_compression: bool = True  # permessage-deflate (RFC 7692) when the client offers it
    # Behind proxies (fasthttp.forwarded): believe Forwarded and X-Forwarded-For/-Proto/-Host
    # (request.client, request.scheme, request.host) from these peers only. Off by default; when
    # on, loopback is trusted unless told otherwise (as uvicorn does), and AF_UNIX peers are.
    proxy_headers: bool = False
    forwarded_allow_ips: str = "127.0.0.1,::1"  # addresses and networks, comma-separated; "*": any
    # Every connection starts with a PROXY protocol v1/v2 preface (fasthttp.preface); without
    # one, or with a bad one, within header_timeout, it is closed. Its client address is
    # believed from forwarded_allow_ips peers only (others keep their own address).
    proxy_protocol: bool = False
    # Recycling (fasthttp.server): after this many responses (plus a random 0..jitter), the server
    # drains and stops; under the master a new worker replaces it. None: never.
    max_requests: int | None = None
    max_requests_jitter: int = 0
    # The same above this resident set size, in MiB, checked on every connection sweep (at most
    # a second apart). None: never.
    max_rss: int | None = None
    # Trace every connection's events to the "fasthttp.trace" logger at DEBUG (fasthttp --debug).
    debug: bool = False

    def __post_init__(self) -> None:
        for name in ("header_timeout", "body_timeout", "keep_alive_timeout", "write_timeout", "linger_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        if self.min_body_rate and not self.body_rate_window > 0:
            raise ValueError("body_rate_window must be positive")
        for name in ("max_request_line", "max_header_size", "max_header_count", "read_high_water", "write_high_water"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.accept_listeners is not None and self.accept_listeners < 1:
            raise ValueError("accept_listeners must be at least 1 (or None: the default)")
        if type(self.defer_accept) is not int or self.defer_accept < 0:
            raise ValueError(f"defer_accept must be a whole number of seconds, 0 for off; got {self.defer_accept!r}")
        async_mode(self.async_handlers)  # validates
        self._check_sendfile_lowat()
        self._check_websocket()

    def _check_sendfile_lowat(self) -> None:
        lowat = self.sendfile_lowat
        if lowat is None or lowat == "auto":
            return
        if type(lowat) is not int:
            raise TypeError(f"sendfile_lowat must be an int (bytes), 'auto' or None, not {lowat!r}")
        if not 0 < lowat < 1 << 31:
            raise ValueError(f"sendfile_lowat must be between 1 and {(1 << 31) - 1} bytes, 'auto' or None; got {lowat}")

    def _check_websocket(self) -> None:
        if not self.ws_close_timeout > 0:
            raise ValueError("ws_close_timeout must be positive")
        if self.ws_max_queue < 1:
            raise ValueError("ws_max_queue must be at least 1")
        for name in ("ws_max_message_size", "ws_max_frame_size", "ws_ping_interval", "ws_ping_timeout", "ws_idle_timeout"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be positive or None")


_CONFIG_FIELDS = frozenset(f.name for f in dataclasses.fields(Config))


def split_options(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """*options* split in two: the :class:`Config` fields, and the rest (server keywords)."""
    config = {k: v for k, v in options.items() if k in _CONFIG_FIELDS}
    rest = {k: v for k, v in options.items() if k not in _CONFIG_FIELDS}
    return config, rest
