"""Results: per-row statistics, the markdown report, the chart and the machine description.

A row is one (scenario, server) pair over all repetitions. It is *ok* only if every repetition is
valid (no non-2xx/3xx answer, socket errors under 1% of requests, responses at least as long as the
correct body, server alive throughout); otherwise it is *invalid* and gets no figure, ratio or bar,
so a server that answers errors quickly cannot win. A *skipped* row never ran, and says why.
Figures are medians over the repetitions with [min-max]; ratios divide by the baseline
(uvicorn-raw) row of the same scenario.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass

__all__ = ("Row", "summarize", "markdown", "chart", "machine", "BASELINE", "validate", "latency_cell",
           "tail_spread", "tail_check")

BASELINE = "uvicorn-raw"
MAX_SOCKET_ERROR_RATE = 0.01


def validate(record: dict, min_body: int, closes_connections: bool = False) -> str | None:
    """Why a single run's record is invalid, or None (a benign oddity goes to ``record["note"]``)."""
    if record.get("failure"):
        return record["failure"]
    requests = record["requests"]
    if requests <= 0:
        return "no responses"
    errors = record["errors"]
    if errors.get("status", 0):
        return f"{errors['status']} non-2xx/3xx responses"
    kinds = ["connect", "read", "write", "timeout"]
    if closes_connections and 0 < errors.get("read", 0) <= requests:
        # One EOF per response at most: the server closed as asked, without saying so in its
        # response (RFC 9112 §9.6 makes "Connection: close" there a SHOULD), and wrk, expecting
        # keep-alive, counted the EOF as a read error. Responses were complete and counted.
        kinds.remove("read")
        record["note"] = "closes without a 'Connection: close' header (wrk counts each EOF as a read error)"
    socket_errors = sum(errors.get(k, 0) for k in kinds)
    if socket_errors > MAX_SOCKET_ERROR_RATE * requests:
        parts = ", ".join(f"{k} {errors[k]}" for k in kinds if errors.get(k))
        return f"socket errors ({parts}) over {MAX_SOCKET_ERROR_RATE:.0%} of {requests} requests"
    if record["bytes"] < requests * min_body:
        return f"responses average {record['bytes'] / requests:.0f} bytes, body alone is {min_body}"
    return None


@dataclass
class Row:
    scenario: str
    server: str
    status: str  # "ok", "invalid", "skipped"
    reason: str = ""
    rps: tuple[float, float, float] | None = None  # median, min, max
    cpu_us: tuple[float, float, float] | None = None
    p99_ms: float | None = None
    p50_ms: float | None = None
    p999_ms: float | None = None
    client_cpu_us: float | None = None  # wrk's CPU µs per response, median
    runs: int = 0
    note: str = ""
    rps_ratio: float | None = None  # median / baseline median (higher is better)
    cpu_ratio: float | None = None  # median / baseline median (lower is better)


def _spread(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def summarize(
    records: list[dict], scenarios: list[str], servers: list[str], skipped: dict[tuple[str, str], str]
) -> dict[str, dict[str, Row]]:
    """Rows by scenario then server, from run records and (scenario, server) -> skip reasons."""
    table: dict[str, dict[str, Row]] = {}
    for scenario in scenarios:
        table[scenario] = {}
        for server in servers:
            mine = [r for r in records if r["scenario"] == scenario and r["server"] == server]
            if (scenario, server) in skipped:
                row = Row(scenario, server, "skipped", skipped[(scenario, server)])
            elif not mine:
                row = Row(scenario, server, "skipped", "not run")
            else:
                problems = [r["invalid"] for r in mine if r.get("invalid")]
                if problems:
                    row = Row(scenario, server, "invalid", "; ".join(dict.fromkeys(problems)), runs=len(mine))
                else:
                    notes = [r["note"] for r in mine if r.get("note")]
                    row = Row(scenario, server, "ok", runs=len(mine), note="; ".join(dict.fromkeys(notes)))
                    row.rps = _spread([r["rps"] for r in mine])
                    cpus = [r["cpu_us_per_req"] for r in mine if r.get("cpu_us_per_req") is not None]
                    row.cpu_us = _spread(cpus) if cpus else None
                    for key in ("p50_ms", "p99_ms", "p999_ms"):
                        values = [r[key] for r in mine if r.get(key)]
                        setattr(row, key, statistics.median(values) if values else None)
                    clients = [r["client_cpu_us_per_req"] for r in mine if r.get("client_cpu_us_per_req") is not None]
                    row.client_cpu_us = statistics.median(clients) if clients else None
            table[scenario][server] = row
        base = table[scenario].get(BASELINE)
        if base is not None and base.status == "ok":
            for row in table[scenario].values():
                if row.status == "ok":
                    row.rps_ratio = row.rps[0] / base.rps[0] if base.rps[0] else None
                    if row.cpu_us and base.cpu_us and base.cpu_us[0]:
                        row.cpu_ratio = row.cpu_us[0] / base.cpu_us[0]
    return table


# --- markdown -----------------------------------------------------------------------------------


def _num(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _cell_spread(spread: tuple[float, float, float] | None, unit: str = "") -> str:
    if spread is None:
        return "n/a"
    med, lo, hi = spread
    return f"{_num(med)}{unit} [{_num(lo)}–{_num(hi)}]"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}×"


def _kib(value: int | float | None, unit: str = "MiB") -> str:
    if value is None:
        return "n/a"
    return f"{value / 1024:,.1f} MiB" if unit == "MiB" else f"{value:,.1f} KiB"


def markdown(
    table: dict[str, dict[str, Row]],
    scenario_info: dict[str, tuple[str, str]],
    memory: dict[str, dict],
    meta: dict,
) -> str:
    """The whole report: header, machine, overview, one table per scenario, memory, servers."""
    out = []
    title = "Server benchmark" + (" (quick mode)" if meta.get("quick") else "")
    out.append(f"# {title}\n")
    out.append(f"Generated by `benchmarks/server` on {meta['date']} in {meta['elapsed_s']:.0f} s.\n")
    if meta.get("warning"):
        out.append(f"> **{meta['warning']}**\n")
    out.append("Command:\n\n```\n" + meta["command"] + "\n```\n")
    warm = f"after a {meta['warmup_s']:g} s warm-up run" if meta["warmup_s"] else "no warm-up run"
    out.append(
        f"Each server runs one worker pinned to CPU {meta['server_cpu']}; wrk (`-t1`) is pinned to "
        f"CPU {meta['client_cpu']}. {meta['reps']} repetition(s) of {meta['duration_s']:g} s per "
        f"scenario and server ({warm}), servers alternating in "
        "rotated order. Figures: median [min–max]. *CPU µs/req*: the server process tree's user + "
        "system CPU time over the run divided by the responses wrk received. Ratios divide by "
        f"{BASELINE} (req/s: higher is better; CPU: lower is better). Rows marked *invalid* had "
        "error statuses, socket errors or short bodies and get no figure.\n"
    )
    out.append("## Machine\n")
    for key, value in meta["machine"].items():
        out.append(f"- **{key}**: {value}")
    out.append("")
    servers = list(next(iter(table.values())).keys()) if table else []

    if table:
        out.append("## Overview: requests per second (× " + BASELINE + ")\n")
        out.append("| server | " + " | ".join(scenario_info[s][0] for s in table) + " |")
        out.append("|---|" + "---:|" * len(table))
        for server in servers:
            cells = []
            for scenario in table:
                row = table[scenario][server]
                if row.status == "ok":
                    ratio = f" ({row.rps_ratio:.2f}×)" if row.rps_ratio is not None else ""
                    cells.append(f"{_num(row.rps[0])}{ratio}")
                else:
                    cells.append(row.status)
            out.append(f"| {server} | " + " | ".join(cells) + " |")
        out.append("")
        out.append("## Overview: server CPU µs per request (lower is better)\n")
        out.append("| server | " + " | ".join(scenario_info[s][0] for s in table) + " |")
        out.append("|---|" + "---:|" * len(table))
        for server in servers:
            cells = []
            for scenario in table:
                row = table[scenario][server]
                cells.append(_num(row.cpu_us[0]) if row.status == "ok" and row.cpu_us else row.status)
            out.append(f"| {server} | " + " | ".join(cells) + " |")
        out.append("")

    for scenario, rows in table.items():
        name, notes = scenario_info[scenario]
        out.append(f"## {name}\n")
        out.append(f"{notes}.\n")
        out.append(
            f"| server | req/s median [min–max] | req/s ÷ {BASELINE} | CPU µs/req median [min–max] "
            f"| CPU ÷ {BASELINE} | latency p50 / p99 / p99.9 | wrk CPU µs/resp | status |"
        )
        out.append("|---|---:|---:|---:|---:|---:|---:|---|")
        for server, row in rows.items():
            if row.status == "ok":
                note = f"; {row.note}" if row.note else ""
                out.append(
                    f"| {server} | {_cell_spread(row.rps)} | {_ratio(row.rps_ratio)} | "
                    f"{_cell_spread(row.cpu_us)} | {_ratio(row.cpu_ratio)} | {latency_cell(row)} | "
                    f"{'n/a' if row.client_cpu_us is None else _num(row.client_cpu_us)} | ok ({row.runs} run{'s' if row.runs > 1 else ''}){note} |"
                )
            else:
                reason = row.reason.replace("|", "/")
                out.append(f"| {server} | — | — | — | — | — | — | **{row.status}**: {reason} |")
        out.append("")

    out.extend(tail_section(table))

    if memory:
        n = max((m.get("connections") or 0) for m in memory.values())
        out.append("## Memory\n")
        out.append(
            f"Worker RSS (VmRSS of the process holding the connections, not a supervisor's) after "
            f"start-up and a few requests, then with {n:,} idle keep-alive connections open (each has "
            "served one request). Per connection = growth / connections still open.\n"
        )
        out.append(f"| server | RSS idle | RSS with {n:,} connections | per connection | connections open | processes | status |")
        out.append("|---|---:|---:|---:|---:|---:|---|")
        for server in [s for s in servers if s in memory] + [s for s in memory if s not in servers]:
            m = memory[server]
            if m.get("skipped"):
                out.append(f"| {server} | — | — | — | — | — | **skipped**: {m['skipped']} |")
                continue
            status = "ok" if not m.get("failure") else f"**invalid**: {m['failure']}"
            out.append(
                f"| {server} | {_kib(m.get('idle_rss_kib'))} | {_kib(m.get('loaded_rss_kib'))} | "
                f"{_kib(m.get('per_connection_kib'), 'KiB')} | {m.get('open_connections', 0):,} | "
                f"{m.get('processes', 0)} | {status} |"
            )
        out.append("")

    out.append("## Servers\n")
    for server, info in meta["servers"].items():
        out.append(f"- **{server}**: {info}")
    out.append("")
    if meta.get("chart"):
        out.append(f"![chart]({meta['chart']})\n")
    return "\n".join(out)


# --- latency -----------------------------------------------------------------------------------

#: The load generator's own tail is read from this server's rows (nginx adds almost no latency of
#: its own); without it, from the server whose tail grows least.
TAIL_REFERENCE = "nginx"
#: The scenarios that raise the pipelining depth (1 -> 16) and the connection count (64 -> 1,000)
#: from the plaintext scenario, the same request otherwise.
TAIL_SCENARIOS = ("pipeline", "c1000")
TAIL_BASE = "plaintext"
#: A server's tail growth may exceed the reference's by this factor before it counts as growing.
TAIL_TOLERANCE = 1.5


def _ms(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value * 1000:,.0f} µs" if value < 1 else f"{value:,.2f} ms"


def latency_cell(row: Row) -> str:
    """``p50 / p99 / p99.9`` of a row, in µs below a millisecond."""
    return " / ".join(_ms(v) for v in (row.p50_ms, row.p99_ms, row.p999_ms))


def tail_spread(row: Row | None) -> float | None:
    """How far a row's tail reaches past its median: p99.9 (else p99) ÷ p50.

    Ratios, not milliseconds: with more connections (or deeper pipelines) every request waits
    longer in proportion to the work ahead of it (Little's law), for every server alike; the tail
    *growing* means some requests wait far longer than the rest (unfair scheduling, accept bursts,
    a stalled loop)."""
    if row is None or row.status != "ok" or not row.p50_ms:
        return None
    top = row.p999_ms or row.p99_ms
    return top / row.p50_ms if top else None


def tail_check(table: dict[str, dict[str, Row]]) -> list[dict]:
    """For each server and each of :data:`TAIL_SCENARIOS`: its tail spread there and in
    :data:`TAIL_BASE`, the growth (the ratio of the two), the reference growth (the load
    generator's own: :data:`TAIL_REFERENCE`'s, else the least of any server) and the verdict:
    ``ok`` when the growth is at most ``TAIL_TOLERANCE`` × max(1, reference growth), else
    ``grows``. Scenarios or servers without latency figures are left out."""
    base = table.get(TAIL_BASE)
    if not base:
        return []
    out = []
    for scenario in TAIL_SCENARIOS:
        rows = table.get(scenario)
        if not rows:
            continue
        growth = {}
        for server, row in rows.items():
            before, after = tail_spread(base.get(server)), tail_spread(row)
            if before and after:
                growth[server] = (before, after, after / before)
        if not growth:
            continue
        if TAIL_REFERENCE in growth:
            ref_name, ref = TAIL_REFERENCE, growth[TAIL_REFERENCE][2]
        else:
            ref_name, ref = min(growth.items(), key=lambda item: item[1][2])
            ref = ref[2]
        for server, (before, after, g) in growth.items():
            out.append({
                "scenario": scenario, "server": server, "base_spread": before, "spread": after,
                "growth": g, "reference": ref_name, "reference_growth": ref,
                "verdict": "ok" if g <= TAIL_TOLERANCE * max(1.0, ref) else "grows",
            })
    return out


def tail_section(table: dict[str, dict[str, Row]]) -> list[str]:
    checks = tail_check(table)
    if not checks:
        return []
    out = ["## Latency tail: does it grow with pipelining depth or connection count?\n"]
    out.append(
        f"Tail spread = p99.9 ÷ p50 (p99 where wrk gave no p99.9) in each scenario; growth = the "
        f"spread in the scenario ÷ the spread in `{TAIL_BASE}` (depth 1, 64 connections). The load "
        f"generator's own growth is read from `{TAIL_REFERENCE}` (else the least-growing server). "
        f"*ok*: growth at most {TAIL_TOLERANCE:g}× max(1, the reference's). Pipelined latency is per "
        "batch of 16. A report, not a pass/fail test: one short run on a shared machine is noisy.\n"
    )
    out.append("| scenario | server | spread in plaintext | spread here | growth | reference growth | verdict |")
    out.append("|---|---|---:|---:|---:|---:|---|")
    for c in checks:
        out.append(
            f"| {c['scenario']} | {c['server']} | {c['base_spread']:.1f} | {c['spread']:.1f} | "
            f"{c['growth']:.2f}× | {c['reference_growth']:.2f}× ({c['reference']}) | {c['verdict']} |"
        )
    out.append("")
    return out


# --- chart --------------------------------------------------------------------------------------


def chart(
    table: dict[str, dict[str, Row]],
    scenario_info: dict[str, tuple[str, str]],
    memory: dict[str, dict],
    path: str,
    subtitle: str,
) -> None:
    """A grouped bar chart: req/s relative to the baseline, CPU µs per request, memory."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = list(table)
    every = list(next(iter(table.values())).keys()) if table else []
    # A server with no valid row (it did not start, or failed everywhere) gets no group of bars.
    servers = [s for s in every if any(table[sc][s].status == "ok" for sc in scenarios)]
    absent = [s for s in every if s not in servers]
    mem_servers = [s for s in every if s in memory and memory[s].get("idle_rss_kib") is not None]
    palette = {s: i for i, s in enumerate(every)}
    colors = plt.get_cmap("tab10").colors
    fig = plt.figure(figsize=(14, 12 if mem_servers else 9), constrained_layout=True)
    grid = fig.add_gridspec(3 if mem_servers else 2, 2)
    fig.suptitle("fasthttp and peers: one worker on one core, wrk on the other\n" + subtitle, fontsize=12)
    width = 0.8 / max(1, len(servers))
    xs = range(len(scenarios))
    labels = [scenario_info[s][0].replace(", ", ",\n") for s in scenarios]

    def bars(ax, value_of, error_of, label_of):
        labelled = set()
        for i, server in enumerate(servers):
            color = colors[palette[server] % 10]
            for j, scenario in enumerate(scenarios):
                row = table[scenario][server]
                x = j - 0.4 + width * (i + 0.5)
                value = value_of(row) if row.status == "ok" else None
                if value is None:
                    ax.text(x, 0, "×" if row.status == "invalid" else "–", ha="center", va="bottom",
                            fontsize=8, color=color, transform=ax.get_xaxis_transform())
                    continue
                lo, hi = error_of(row)
                ax.bar(x, value, width, color=color, label=None if server in labelled else server)
                labelled.add(server)
                ax.errorbar(x, value, yerr=[[value - lo], [hi - value]], color="black", linewidth=0.8, capsize=2)
                ax.annotate(label_of(row), (x, hi), xytext=(0, 2), textcoords="offset points",
                            ha="center", va="bottom", fontsize=6, rotation=90)
        ax.set_xticks(list(xs))
        ax.set_xticklabels(labels, fontsize=8)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)

    ax1 = fig.add_subplot(grid[0, :])

    def rel(row):
        return row.rps_ratio

    def rel_err(row):
        base = row.rps[0] / row.rps_ratio
        return row.rps[1] / base, row.rps[2] / base

    def short(value: float) -> str:
        return f"{value / 1000:.0f}k" if value >= 9950 else (f"{value / 1000:.1f}k" if value >= 1000 else f"{value:.0f}")

    bars(ax1, rel, rel_err, lambda r: short(r.rps[0]))
    ax1.margins(y=0.12)
    ax1.axhline(1.0, color="gray", linewidth=0.8, linestyle="--")
    ax1.set_ylabel(f"requests/s ÷ {BASELINE}\n(higher is better)")
    ax1.set_title("Throughput relative to " + BASELINE
                  + " (bars: median, whiskers: min–max, labels: median req/s)", fontsize=10)
    handles, names = ax1.get_legend_handles_labels()
    if handles:
        ax1.legend(handles, names, ncol=len(servers), fontsize=8, loc="upper left")

    ax2 = fig.add_subplot(grid[1, :])
    bars(ax2, lambda r: r.cpu_us[0] if r.cpu_us else None, lambda r: (r.cpu_us[1], r.cpu_us[2]),
         lambda r: f"{r.cpu_us[0]:.0f}" if r.cpu_us[0] >= 10 else f"{r.cpu_us[0]:.1f}")
    ax2.margins(y=0.15)
    ax2.set_yscale("log")
    ax2.set_ylabel("server CPU µs per request\n(log scale, lower is better)")
    ax2.set_title("Server CPU time per request (× = invalid, – = skipped)", fontsize=10)

    if mem_servers:
        ax3 = fig.add_subplot(grid[2, 0])
        ax4 = fig.add_subplot(grid[2, 1])
        idle = [memory[s]["idle_rss_kib"] / 1024 for s in mem_servers]
        # An invalid memory result (connections dropped, worker not found) gets no bar.
        per = [0 if memory[s].get("failure") else (memory[s].get("per_connection_kib") or 0) for s in mem_servers]
        cs = [colors[palette[s] % 10] for s in mem_servers]
        ax3.bar(mem_servers, idle, color=cs)
        ax3.bar_label(ax3.containers[0], fmt="%.1f", fontsize=7)
        ax3.set_ylabel("worker RSS idle (MiB)")
        ax3.set_title("Idle memory", fontsize=10)
        n = max(memory[s].get("connections", 0) for s in mem_servers)
        ax4.bar(mem_servers, per, color=cs)
        ax4.bar_label(ax4.containers[0], fontsize=7, labels=[
            "invalid" if memory[s].get("failure") else f"{v:.1f}" for s, v in zip(mem_servers, per)])
        ax4.set_ylabel("KiB per idle connection")
        ax4.set_title(f"Memory per idle keep-alive connection ({n:,} open)", fontsize=10)
        for ax in (ax3, ax4):
            ax.tick_params(axis="x", labelsize=8)
            ax.grid(axis="y", alpha=0.3)
            ax.set_axisbelow(True)
    if absent:
        fig.text(0.01, 0.002, "No valid result (see the table for why): " + ", ".join(absent), fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --- machine ------------------------------------------------------------------------------------


def _first_line(cmd: list[str]) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (proc.stdout or proc.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unknown"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_total() -> str:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _os_name() -> str:
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.system()


def machine(packages: dict[str, str], repo: str, load: tuple[float, float, float]) -> dict[str, str]:
    """What the figures were measured on: CPU, cores, kernel, Python, versions, load at start."""
    commit = _first_line(["git", "-C", repo, "rev-parse", "--short", "HEAD"])
    info = {
        "CPU": f"{_cpu_model()}, {os.cpu_count()} logical CPUs",
        "memory": _memory_total(),
        "kernel": f"{platform.system()} {platform.release()} ({_os_name()})",
        "Python": f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        "wrk": _first_line(["wrk", "-v"]),
        "packages": ", ".join(f"{k} {v}" for k, v in sorted(packages.items())),
        "fasthttp commit": commit if len(commit) < 20 and " " not in commit else "unknown (no commit)",
        "load average at start (1/5/15 min)": f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}",
    }
    try:
        import importlib

        import fasthttp

        for kernel in ("parser", "responseparser", "headers", "chunked", "ranges", "writer", "wsframe"):
            try:  # facades register their twin on import; one still being written may not import
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    importlib.import_module(f"fasthttp.{kernel}")
            except Exception:
                pass
        impls = fasthttp.kernel_implementations()
        info["fasthttp kernels"] = ", ".join(f"{k}={v}" for k, v in sorted(impls.items())) or "none loaded"
    except Exception as exc:  # the harness still runs the peers without a working fasthttp
        info["fasthttp kernels"] = f"unavailable ({type(exc).__name__}: {exc})"
    return info


def now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
