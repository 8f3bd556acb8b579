"""Prometheus metrics of the server, aggregated across worker processes.

Strategy
--------
Counters live in one shared anonymous ``mmap`` (:class:`MetricsStore`) made before the workers
fork, so every process sees the same memory. Each process claims one *row* (under a lock made
before the fork) and is the only writer of that row: no counter is ever written by two processes,
so no atomic operation is needed. A row whose process died keeps its counts, and the next process
to claim it goes on adding to them, so the totals never go down (Prometheus counters). The master
counts worker restarts in the header of the store.

Per response (only when metrics are on) the engine's response hook (the one the access log uses)
calls :meth:`MetricsStore.record`: the request count by method and status, the latency histogram,
the response body bytes, the announced request body bytes. Open connections and open websockets
are gauges each process refreshes on the engine's periodic sweep, which also adds the websockets
opened since the previous sweep to a counter (the connection manager counts them as their
protocol opens and closes).

Rendering sums every row into the Prometheus text exposition format (version 0.0.4). The metrics
listener (``--metrics ADDRESS``) is a second fasthttp server in each process, bound with
``SO_REUSEPORT`` to the same address: whichever worker answers, it reads every row, so the answer
is the aggregate.
"""

from __future__ import annotations

import mmap
import multiprocessing
import os
import struct
from time import perf_counter
from typing import Any

__all__ = ("MetricsStore", "METHODS", "BUCKETS")

METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "OTHER")
_METHOD_INDEX = {m: i for i, m in enumerate(METHODS)}
#: Latency histogram bucket upper bounds, in seconds (+Inf is implied).
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_STATUSES = 500  # 100..599
# Row layout, in doubles.
_PID, _OPEN, _BYTES_OUT, _BYTES_IN, _DURATION_SUM, _WS_OPEN, _WS_TOTAL = range(7)
_HIST = 7  # len(BUCKETS) + 1 per-bucket (not cumulative) counts
_REQUESTS = _HIST + len(BUCKETS) + 1  # len(METHODS) * _STATUSES counts
_ROW = _REQUESTS + len(METHODS) * _STATUSES
_HEADER = 8  # doubles before the first row: [0] worker restarts
_D = 8  # bytes per double


class MetricsStore:
    """The shared counters (see the module docstring). *rows*: how many processes may hold a
    row at once (workers, and their replacements while the old ones drain)."""

    def __init__(self, rows: int = 64) -> None:
        self.rows = rows
        self._mem = mmap.mmap(-1, (_HEADER + rows * _ROW) * _D)  # anonymous, MAP_SHARED
        # memoryviews of doubles (typeshed types item assignment for bytes only)
        self._all: Any = memoryview(self._mem).cast("d")
        self._lock = multiprocessing.Lock()
        self._row: Any = None
        self._row_pid = 0

    # -- writing (one process, one row) ----------------------------------------------------------

    def claim(self) -> None:
        """Take a row for this process (once per process; a forked child claims its own)."""
        pid = os.getpid()
        if self._row is not None and self._row_pid == pid:
            return
        with self._lock:
            chosen = None
            for i in range(self.rows):
                start = _HEADER + i * _ROW
                owner = int(self._all[start + _PID])
                if owner == pid:
                    chosen = i
                    break
                if owner == 0 or not _alive(owner):
                    if chosen is None:
                        chosen = i
            if chosen is None:
                raise RuntimeError(f"no free metrics row (more than {self.rows} processes)")
            start = _HEADER + chosen * _ROW
            self._all[start + _PID] = float(pid)
            self._all[start + _OPEN] = 0.0
            self._all[start + _WS_OPEN] = 0.0
            self._row = self._all[start : start + _ROW]
            self._row_pid = pid

    def record(self, req: Any, status: int, nbytes: int, conn: Any) -> None:
        """One response went out (the engine's response hook; *req* is None for an error answered
        before a request was complete)."""
        row = self._row
        if row is None:
            return
        method = _METHOD_INDEX.get(req.method, 7) if req is not None else 7
        code = status - 100 if 100 <= status <= 599 else 499
        row[_REQUESTS + method * _STATUSES + code] += 1.0
        row[_BYTES_OUT] += nbytes
        if req is not None:
            length = req.head.content_length
            if length:
                row[_BYTES_IN] += length
            started = req.received_at
            if started:
                elapsed = perf_counter() - started
                row[_DURATION_SUM] += elapsed
                i = 0
                for bound in BUCKETS:
                    if elapsed <= bound:
                        break
                    i += 1
                row[_HIST + i] += 1.0

    def set_open_connections(self, n: int) -> None:
        row = self._row
        if row is not None:
            row[_OPEN] = float(n)

    def set_websockets(self, open_now: int, opened: int) -> None:
        """*open_now* websockets are open in this process; *opened* more were opened since the
        last call."""
        row = self._row
        if row is not None:
            row[_WS_OPEN] = float(open_now)
            row[_WS_TOTAL] += opened

    def add_restart(self) -> None:
        """The master replaced a worker."""
        self._all[0] += 1.0

    # -- reading (any process) -------------------------------------------------------------------

    def totals(self) -> dict[str, Any]:
        """Every counter summed over the rows."""
        raw = self._mem[_HEADER * _D :]
        values = struct.unpack(f"{self.rows * _ROW}d", raw[: self.rows * _ROW * _D])
        requests: dict[tuple[str, int], float] = {}
        hist = [0.0] * (len(BUCKETS) + 1)
        open_connections = bytes_out = bytes_in = duration = ws_open = ws_total = 0.0
        processes = 0
        for r in range(self.rows):
            base = r * _ROW
            pid = int(values[base + _PID])
            if pid == 0:
                continue
            if _alive(pid):
                processes += 1
                open_connections += values[base + _OPEN]
                ws_open += values[base + _WS_OPEN]
            ws_total += values[base + _WS_TOTAL]
            bytes_out += values[base + _BYTES_OUT]
            bytes_in += values[base + _BYTES_IN]
            duration += values[base + _DURATION_SUM]
            for b in range(len(hist)):
                hist[b] += values[base + _HIST + b]
            start = base + _REQUESTS
            counts = values[start : start + len(METHODS) * _STATUSES]
            for i, n in enumerate(counts):
                if n:
                    key = (METHODS[i // _STATUSES], i % _STATUSES + 100)
                    requests[key] = requests.get(key, 0.0) + n
        return {
            "requests": requests,
            "histogram": hist,
            "duration_sum": duration,
            "open_connections": open_connections,
            "bytes_out": bytes_out,
            "bytes_in": bytes_in,
            "websockets": ws_open,
            "websockets_total": ws_total,
            "restarts": self._all[0],
            "processes": processes,
        }

    def render(self) -> str:
        """The Prometheus text exposition format (version 0.0.4)."""
        t = self.totals()
        lines = [
            "# HELP fasthttp_requests_total Responses sent, by request method and status.",
            "# TYPE fasthttp_requests_total counter",
        ]
        for (method, status), n in sorted(t["requests"].items()):
            lines.append(f'fasthttp_requests_total{{method="{method}",status="{status}"}} {n:g}')
        lines += [
            "# HELP fasthttp_request_duration_seconds Time from the request head to the response.",
            "# TYPE fasthttp_request_duration_seconds histogram",
        ]
        cumulative = 0.0
        for bound, n in zip((*BUCKETS, float("inf")), t["histogram"], strict=True):
            cumulative += n
            le = "+Inf" if bound == float("inf") else f"{bound:g}"
            lines.append(f'fasthttp_request_duration_seconds_bucket{{le="{le}"}} {cumulative:g}')
        lines.append(f"fasthttp_request_duration_seconds_sum {t['duration_sum']:.6f}")
        lines.append(f"fasthttp_request_duration_seconds_count {cumulative:g}")
        for name, kind, text, value in (
            ("fasthttp_open_connections", "gauge", "Open HTTP connections.", t["open_connections"]),
            ("fasthttp_open_websockets", "gauge", "Open websocket connections.", t["websockets"]),
            ("fasthttp_websockets_total", "counter", "Websocket connections opened.", t["websockets_total"]),
            ("fasthttp_response_body_bytes_total", "counter", "Response body bytes sent.", t["bytes_out"]),
            ("fasthttp_request_body_bytes_total", "counter", "Request body bytes announced (Content-Length).", t["bytes_in"]),
            ("fasthttp_worker_restarts_total", "counter", "Workers replaced by the master.", t["restarts"]),
            ("fasthttp_processes", "gauge", "Serving processes.", t["processes"]),
        ):
            lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}", f"{name} {value:g}"]
        return "\n".join(lines) + "\n"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - another user's process
        return True
    return True
