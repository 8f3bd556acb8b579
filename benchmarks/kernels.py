"""Run the kernel benchmarks once and report the c/py/httptools ratios as a markdown table.

    python -m benchmarks.kernels            # writes benchmarks/results/kernels.md and prints it

Every ``bench_*.py`` case runs in one pytest-benchmark session; rows of the same group (the same
input, the same collected output) are compared: ``py / c`` is how many times faster the compiled
twin is than the pure one, ``httptools / c`` how many times faster our compiled parser is than
httptools doing the same work. Figures are medians; the machine and the command are recorded.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def _row_kind(bench: dict) -> str:
    params = bench.get("params") or {}
    if "impl" in params:
        return params["impl"]
    return "httptools" if "httptools" in bench["name"] else "other"


def run(extra_args: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        cmd = [
            sys.executable, "-m", "pytest", str(HERE), "-q", "-p", "no:cacheprovider",
            "--ignore", str(HERE / "server"), f"--benchmark-json={out}",
            # NOTE: rounds of at least 0.2 ms, so a sub-microsecond call is timed over many
            # iterations and pytest-benchmark's own per-round cost does not flatten the ratios.
            "--benchmark-min-time=0.0002", *extra_args,
        ]
        subprocess.run(cmd, check=True, cwd=HERE.parent)
        return {"command": " ".join(cmd[1:]), "data": json.loads(out.read_text())}


def table(data: dict) -> list[str]:
    groups: dict[str, dict[str, float]] = {}
    for bench in data["benchmarks"]:
        # A case that answers several requests per call (the pipelined connection) reports
        # its figure per request.
        per_call = (bench.get("extra_info") or {}).get("requests", 1)
        groups.setdefault(bench["group"] or bench["name"], {})[_row_kind(bench)] = bench["stats"]["median"] / per_call
    lines = [
        "| benchmark | c | py | httptools | py / c | httptools / c |",
        "|---|---:|---:|---:|---:|---:|",
    ]

    def fmt(seconds: float | None) -> str:
        if seconds is None:
            return ""
        return f"{seconds * 1e6:.2f} µs" if seconds >= 1e-6 else f"{seconds * 1e9:.0f} ns"

    others = []
    for name in sorted(groups):
        rows = groups[name]
        c, py, ht = rows.get("c"), rows.get("py"), rows.get("httptools")
        if c is None and py is None:
            others.append(f"| {name} | {fmt(rows.get('other'))} |")  # framework code: no twins
            continue
        lines.append(
            f"| {name} | {fmt(c)} | {fmt(py)} | {fmt(ht)} | "
            f"{f'{py / c:.1f}x' if c and py else ''} | {f'{ht / c:.2f}x' if c and ht else ''} |"
        )
    if others:
        lines += ["", "Framework code (pure Python, no twins):", "", "| benchmark | median |", "|---|---:|", *others]
    return lines


def main(argv: list[str] | None = None) -> int:
    result = run(list(argv if argv is not None else sys.argv[1:]))
    info = result["data"]["machine_info"]
    import fasthttp

    report = [
        "# Kernel benchmarks",
        "",
        f"- machine: {info.get('cpu', {}).get('brand_raw', platform.processor())}, "
        f"{os.cpu_count()} cores, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}; compiled kernels in use: {fasthttp.speedups_enabled()}",
        f"- command: `python {result['command']}`",
        f"- figures: pytest-benchmark medians, {result['data']['datetime']}",
        "",
        *table(result["data"]),
        "",
    ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "kernels.md").write_text("\n".join(report))
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
