"""One bounded wrk run, pinned to the client CPU, and its parsed summary.

wrk is started as ``taskset -c CPU wrk -t1 -cN -dDs --timeout Ts --latency -s SCRIPT [-H ...] URL``.
Its summary comes from the ``WRKJSON`` line the scenario script's ``done()`` prints (see
``scenarios.DONE_LUA``): counters and the latency percentiles p50, p99, p99.9 from wrk's
histogram; if that line is missing, the human-readable output is parsed instead (``--latency``'s
"Latency Distribution" gives p50 and p99 there), so a wrk built without Lua ``done()`` support
still reports requests, the "Non-2xx" count and the latency.
The process is killed if it outlives its duration by more than ``GRACE_S``.
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
from dataclasses import dataclass, field

from . import procstat

__all__ = ("WrkResult", "command", "run", "parse_output", "GRACE_S")

GRACE_S = 20.0


@dataclass
class WrkResult:
    requests: int = 0
    duration_s: float = 0.0
    bytes: int = 0
    errors: dict[str, int] = field(default_factory=dict)  # connect/read/write/status/timeout
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None
    latency_p999_ms: float | None = None
    latency_max_ms: float | None = None
    client_cpu_s: float | None = None  # wrk's own user + system CPU time over the run
    returncode: int | None = None
    output: str = ""
    failure: str | None = None  # why the run produced no usable summary

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def non_2xx(self) -> int:
        return self.errors.get("status", 0)

    @property
    def socket_errors(self) -> int:
        return sum(self.errors.get(k, 0) for k in ("connect", "read", "write", "timeout"))


def command(
    url: str,
    *,
    duration_s: float,
    connections: int,
    script: str,
    headers: tuple[str, ...] = (),
    timeout_s: int = 4,
    cpu: int | str | None = None,  # a CPU or a taskset CPU list ("0,1")
    threads: int = 1,
) -> list[str]:
    cmd = [] if cpu is None else ["taskset", "-c", str(cpu)]
    cmd += [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{int(duration_s)}s",
        f"--timeout={timeout_s}s",
        "--latency",
        "-s",
        script,
    ]
    for header in headers:
        cmd += ["-H", header]
    cmd.append(url)
    return cmd


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], duration_s: float) -> WrkResult:
    # wrk's CPU time: what the waited-for children used (the servers are waited for only when
    # they are stopped, so during a run the only child that ends is this wrk and its taskset).
    before = _children_cpu_s()
    try:
        proc = subprocess.run(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=duration_s + GRACE_S,
            preexec_fn=procstat.die_with_parent,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout
        return WrkResult(output=out or "", failure=f"wrk did not finish within {duration_s + GRACE_S:g}s")
    result = parse_output(proc.stdout)
    result.client_cpu_s = _children_cpu_s() - before
    result.returncode = proc.returncode
    if proc.returncode != 0 and result.failure is None:
        result.failure = f"wrk exited with status {proc.returncode}"
    return result


_SIZE = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3, "tb": 1024**4}


def _duration_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1, "s": 1e3, "m": 60e3, "h": 3600e3}[unit]


def parse_output(output: str) -> WrkResult:
    """Parse wrk's output, preferring the ``WRKJSON`` line printed by ``done()``."""
    result = WrkResult(output=output)
    match = re.search(r"^WRKJSON (\{.*\})\s*$", output, re.M)
    if match:
        data = json.loads(match.group(1))
        result.requests = data["requests"]
        result.duration_s = data["duration_us"] / 1e6
        result.bytes = data["bytes"]
        result.errors = {k: data[k] for k in ("connect", "read", "write", "status", "timeout")}
        if data["requests"]:
            # NOTE: wrk's percentile() answers 0 when its histogram cannot place the rank (seen
            # for the pipelined scenario, where wrk records one latency per batch, on slower
            # servers): 0 means "no figure", never "0 µs".
            result.latency_p50_ms = data["lat_p50_us"] / 1e3 or None
            result.latency_p99_ms = data["lat_p99_us"] / 1e3 or None
            result.latency_p999_ms = data.get("lat_p999_us", 0) / 1e3 or None
            result.latency_max_ms = data["lat_max_us"] / 1e3
        return result
    # Fallback: "N requests in 5.00s, 12.34MB read", "Non-2xx or 3xx responses: N",
    # "Socket errors: connect A, read B, write C, timeout D".
    match = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m), ([\d.]+)([KMGT]?B) read", output)
    if not match:
        result.failure = "wrk printed no summary: " + (output.strip().splitlines() or ["(nothing)"])[-1]
        return result
    result.requests = int(match.group(1))
    result.duration_s = _duration_ms(match.group(2) + match.group(3)) / 1e3
    result.bytes = int(float(match.group(4)) * _SIZE[match.group(5).lower()])
    errors = {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0}
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if match:
        errors.update(zip(("connect", "read", "write", "timeout"), map(int, match.groups())))
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if match:
        errors["status"] = int(match.group(1))
    result.errors = errors
    # --latency: "  Latency Distribution\n     50%  635.91us\n ... 99%    1.99ms"
    for percent, attr in (("50", "latency_p50_ms"), ("99", "latency_p99_ms")):
        match = re.search(rf"^\s+{percent}%\s+([\d.]+(?:us|ms|s|m))\s*$", output, re.M)
        if match:
            setattr(result, attr, _duration_ms(match.group(1)))
    return result
