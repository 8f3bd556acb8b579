"""The command line and the schedule: ``python -m benchmarks.server [--quick] [options]``.

Schedule (every step bounded in time, all traffic on 127.0.0.1):

1. find or install wrk (apt), the peers (pip) and matplotlib (pip); make the 1 MiB file;
2. start every selected server at once, each one worker pinned to the server CPU; a server that
   fails to start is skipped with its reason, the others go on;
3. check each server's answers for each scenario (``scenarios.check``); a failed check skips that
   row, saying why;
4. memory: idle RSS and RSS per idle keep-alive connection, per server (``memory``);
5. load: for each repetition, for each scenario, each server in turn (the order rotates every
   time, so drift hits all servers alike): wrk pinned to the client CPU, with the server tree's
   CPU time read from /proc before and after; a warm-up run precedes the first repetition;
6. write ``benchmarks/results/NAME.md``, ``NAME.png`` and ``NAME.json``, and the raw per-run
   files under ``benchmarks/results/raw/STAMP/``.

Every server is killed at the end, on error and on Ctrl-C/SIGTERM too (``servers.stop_all``).
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import random
import resource
import shlex
import signal
import sys
import time

if __name__ == "__main__" and not __package__:  # run as a script: python benchmarks/server/run.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    from benchmarks.server.run import main as _main

    raise SystemExit(_main(prog="python benchmarks/server/run.py"))

from . import install, memory, procstat, report, scenarios, servers, soak, wrk  # noqa: E402

__all__ = ("main",)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RESULTS = os.path.join(REPO, "benchmarks", "results")
LOOPBACK = servers.HOST  # the only address any traffic goes to

# NOTE: wrk takes whole seconds only (-d1s, not -d0.5s).
FULL = {"duration": 4, "reps": 3, "warmup": 1, "memory_connections": 5000, "budget_s": 20 * 60}
QUICK = {"duration": 2, "reps": 1, "warmup": 0, "memory_connections": 1000, "budget_s": 4 * 60}
RUN_OVERHEAD_S = 0.6  # wrk start-up and connection set-up, /proc reads, the pause between runs
PAUSE_S = 0.2


def _parse_list(value: str, known: list[str], what: str, groups: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    """*value* ("all", or names and *groups* names, comma-separated) as names of *known*, in
    *known*'s order; "all" is every name of *known*."""
    if value == "all":
        return list(known)
    names = []
    for v in value.split(","):
        v = v.strip()
        if v:
            names.extend((groups or {}).get(v, (v,)))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(unknown)} (choose from {', '.join(known)})")
    return [n for n in known if n in names]  # canonical order


def build_parser(prog: str) -> argparse.ArgumentParser:
    server_names = [s.name for s in servers.SERVERS]
    scenario_names = [s.name for s in scenarios.SCENARIOS]
    p = argparse.ArgumentParser(
        prog=prog,
        description="Load-test fasthttp and its peers with wrk on loopback; write a markdown table "
        "and a PNG chart to benchmarks/results/.",
    )
    p.add_argument("--quick", action="store_true",
                   help=f"short run (under 4 minutes): {QUICK['reps']} repetition of {QUICK['duration']:g} s, "
                   f"{QUICK['memory_connections']} idle connections")
    p.add_argument("--duration", type=int, help=f"seconds per wrk run (default {FULL['duration']:g}, quick {QUICK['duration']:g})")
    p.add_argument("--reps", type=int, help=f"repetitions per scenario and server (default {FULL['reps']}, quick {QUICK['reps']})")
    p.add_argument("--warmup", type=int, help=f"warm-up seconds before the first repetition (default {FULL['warmup']:g}, quick {QUICK['warmup']:g})")
    p.add_argument("--servers", default="all", help=f"comma-separated subset of: {', '.join(server_names)}; or a group: {', '.join(servers.GROUPS)} (the hosting comparisons, not in 'all')")
    p.add_argument("--scenarios", default="all", help=f"comma-separated subset of: {', '.join(scenario_names)}")
    p.add_argument("--memory-connections", type=int,
                   help=f"idle keep-alive connections for the memory test (default {FULL['memory_connections']}, quick {QUICK['memory_connections']})")
    p.add_argument("--no-memory", action="store_true", help="skip the memory test")
    p.add_argument("--no-install", action="store_true", help="never pip/apt-get install anything; skip what is missing")
    p.add_argument("--no-chart", action="store_true", help="do not draw the PNG chart")
    p.add_argument("--server-cpu", type=int, default=0, help="CPU the servers are pinned to (default 0)")
    p.add_argument("--client-cpu", type=int, default=1, help="CPU wrk and the harness are pinned to (default 1)")
    p.add_argument("--name", help="base name of the result files (default: server, server-quick or server-custom)")
    p.add_argument("--results-dir", default=RESULTS, help="where results go (default benchmarks/results)")
    p.add_argument("--list", action="store_true", help="list servers and scenarios and exit")
    p.add_argument("--soak", action="store_true",
                   help="instead of the load runs: soak one fasthttp worker (see soak.py) and check RSS and descriptors")
    p.add_argument("--soak-requests", type=int, default=2_000_000, help="requests in the soak (default 2,000,000)")
    return p


class Harness:
    def __init__(self, args: argparse.Namespace, command: str) -> None:
        self.args = args
        self.command = command
        self.stamp = time.strftime("%Y%m%d-%H%M%S")
        self.raw_dir = os.path.join(args.results_dir, "raw", self.stamp + ("-quick" if args.quick else ""))
        self.records: list[dict] = []
        self.skipped: dict[tuple[str, str], str] = {}  # (scenario, server) -> why
        self.memory: dict[str, dict] = {}
        self.running: dict[str, servers.ServerProcess] = {}
        self.server_info: dict[str, str] = {}
        self.restarts: dict[str, int] = {}
        self.file_path = os.path.join(self.raw_dir, "file-1MiB.bin")  # deleted at the end
        self.file_bytes = b""
        self.server_cpu: int | None = args.server_cpu
        self.client_cpu: int | None = args.client_cpu
        self.started = time.monotonic()
        self.load_at_start = os.getloadavg()

    def log(self, message: str) -> None:
        print(message, flush=True)

    # -- preparation --------------------------------------------------------------------------

    def prepare(self) -> None:
        os.makedirs(os.path.join(self.raw_dir, "lua"), exist_ok=True)
        os.makedirs(os.path.join(self.raw_dir, "wrk"), exist_ok=True)
        os.makedirs(os.path.join(self.raw_dir, "logs"), exist_ok=True)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = max(soft, min(hard, 1 << 16)) if hard != resource.RLIM_INFINITY else max(soft, 1 << 16)
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        need = max(self.args.memory_connections, 1000) + 200
        if want < need:
            self.args.memory_connections = max(100, want - 1200)
            self.log(f"note: open-file limit {want}: memory test reduced to {self.args.memory_connections} connections")
        available = os.sched_getaffinity(0)
        if self.server_cpu not in available or self.client_cpu not in available or self.server_cpu == self.client_cpu:
            self.log(f"warning: CPUs {sorted(available)} cannot host server CPU {self.server_cpu} and client CPU "
                     f"{self.client_cpu} apart: running unpinned, figures are not comparable")
            self.server_cpu = self.client_cpu = None
        else:
            # The harness's own work (checks, the idle-connection client) stays off the server CPU.
            os.sched_setaffinity(0, {self.client_cpu})
        self.file_bytes = random.Random(20240101).randbytes(scenarios.FILE_SIZE)
        with open(self.file_path, "wb") as f:
            f.write(self.file_bytes)
        # Servers configured by the harness itself (nginx) read the file's path from here too.
        os.environ[scenarios.common.FILE_ENV] = self.file_path
        for scenario in self.scenarios:
            with open(self.lua_path(scenario), "w") as f:
                f.write(scenarios.lua_script(scenario))

    def lua_path(self, scenario: scenarios.Scenario) -> str:
        return os.path.join(self.raw_dir, "lua", f"{scenario.name}.lua")

    @property
    def scenarios(self) -> list[scenarios.Scenario]:
        return [scenarios.by_name(n) for n in self.args.scenario_names]

    @property
    def specs(self) -> list[servers.ServerSpec]:
        return [servers.by_name(n) for n in self.args.server_names]

    def skip_server(self, name: str, reason: str) -> None:
        self.log(f"  {name}: SKIPPED: {reason}")
        short = reason.split(":", 1)[0] + " (see Servers below)"
        for scenario in self.scenarios:
            self.skipped.setdefault((scenario.name, name), short)
        self.memory.setdefault(name, {"skipped": short})
        self.server_info[name] += f"; **not measured**: {reason}"

    def start_servers(self) -> None:
        self.log("Starting servers")
        env = dict(os.environ)
        env[scenarios.common.FILE_ENV] = self.file_path
        env["PYTHONPATH"] = REPO + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env["PYTHONUNBUFFERED"] = "1"
        env[procstat.HARNESS_MARK] = str(os.getpid())
        for spec in self.specs:
            versions = ", ".join([f"{p} {install.version_of(p)}" for p in spec.packages]
                                 + [install.program_version(p) for p in spec.executables])
            self.server_info[spec.name] = f"{spec.description} ({versions})"
            missing = install.missing_modules(spec.modules)
            if missing and spec.requirements and not self.args.no_install:
                self.log(f"  {spec.name}: installing {', '.join(spec.requirements)}")
                problem = install.pip_install(spec.requirements, self.log)
                if problem:
                    self.log(f"  {problem}")
                missing = install.missing_modules(spec.modules)
                versions = ", ".join(f"{p} {install.version_of(p)}" for p in spec.packages)
                self.server_info[spec.name] = f"{spec.description} ({versions})"
            if missing:
                self.skip_server(spec.name, f"not importable: {', '.join(missing)}")
                continue
            for program in install.missing_programs(spec.executables):
                if install.ensure_program(program, spec.apt_packages, not self.args.no_install, self.log):
                    self.server_info[spec.name] = f"{spec.description} ({install.program_version(program)})"
            absent = install.missing_programs(spec.executables)
            if absent:
                self.skip_server(spec.name, f"not installed: {', '.join(absent)}")
                continue
            server = servers.ServerProcess(
                spec, cpu=self.cpus_of(spec), log_path=os.path.join(self.raw_dir, "logs", f"{spec.name}.log"),
                env=env, cwd=REPO,
            )
            if server.start():
                self.running[spec.name] = server
                self.server_info[spec.name] += f"; command: `{' '.join(self._shown(server.argv))}`"
                self.log(f"  {spec.name}: ready on port {server.port}, pids/CPUs {' '.join(server.affinity())}")
            else:
                self.skip_server(spec.name, f"failed to start: {server.failure}")

    def cpus_of(self, spec: servers.ServerSpec) -> str | None:
        """The CPU list *spec*'s server is pinned to: the server CPU, or both CPUs when shared."""
        if self.server_cpu is None:
            return None
        return f"{self.server_cpu},{self.client_cpu}" if spec.shared_cpus else str(self.server_cpu)

    def wrk_placement(self, spec: servers.ServerSpec) -> tuple[str | None, int]:
        """(CPU list, threads) of wrk for *spec*: the client CPU and one thread, or, for a server
        sharing both CPUs, both CPUs and one thread per CPU."""
        if spec.shared_cpus:
            return self.cpus_of(spec), 2
        return (None if self.client_cpu is None else str(self.client_cpu)), 1

    def _shown(self, argv: list[str]) -> list[str]:
        shown = [("python" if a == sys.executable else a) for a in argv]
        return [a.replace(REPO + os.sep, "") for a in shown]

    def restart(self, server: servers.ServerProcess, why: str) -> bool:
        """Replace a server that died; False (and the server marked dead) if it will not come back."""
        name = server.spec.name
        self.restarts[name] = self.restarts.get(name, 0) + 1
        self.log(f"  {name}: {why}; restarting ({self.restarts[name]})")
        server.stop(grace=2.0)
        if self.restarts[name] <= 3 and server.start():
            return True
        self.running.pop(name, None)
        self.log(f"  {name}: will not restart: {server.failure}")
        return False

    def check_all(self) -> None:
        self.log("Checking answers")
        for scenario in self.scenarios:
            for name, server in list(self.running.items()):
                if (scenario.name, name) in self.skipped:
                    continue
                problem = scenarios.check(scenario, LOOPBACK, server.port, self.file_bytes)
                if problem and not server.alive() and self.restart(server, f"exited during the {scenario.name} check"):
                    problem = f"server crashed on this scenario's check ({server.log_tail(1)})"
                if problem:
                    hint = server.spec.known_gaps.get(scenario.name)
                    reason = f"{problem}" + (f" ({hint})" if hint else "")
                    self.skipped[(scenario.name, name)] = reason
                    self.log(f"  {scenario.name:10} {name:13} SKIPPED: {reason}")

    def measure_memory(self) -> None:
        if self.args.no_memory:
            return
        self.log(f"Memory: idle RSS, then {self.args.memory_connections} idle keep-alive connections")
        for name, server in list(self.running.items()):
            if server.spec.no_memory:
                self.memory[name] = {"skipped": server.spec.no_memory}
                continue
            if not server.alive() and not self.restart(server, "exited before the memory test"):
                self.memory[name] = {"skipped": f"server exited: {server.failure}"}
                continue
            result = memory.measure(server, LOOPBACK, self.args.memory_connections)
            self.memory[name] = result.as_dict()
            idle = "n/a" if result.idle_rss_kib is None else f"{result.idle_rss_kib / 1024:.1f} MiB"
            per = "n/a" if result.per_connection_kib is None else f"{result.per_connection_kib:.1f} KiB"
            self.log(f"  {name:13} idle {idle}, per connection {per}, {result.open_connections} open"
                     + (f" [{result.failure}]" if result.failure else ""))
            time.sleep(PAUSE_S)

    # -- load ---------------------------------------------------------------------------------

    def run_one(self, server: servers.ServerProcess, scenario: scenarios.Scenario, duration: float,
                rep: int | None, position: int = 0) -> dict:
        url = f"http://{LOOPBACK}:{server.port}{scenario.path}"
        cpus, threads = self.wrk_placement(server.spec)
        cmd = wrk.command(url, duration_s=duration, connections=scenario.connections,
                          script=self.lua_path(scenario), headers=scenario.headers,
                          timeout_s=scenario.timeout_s, cpu=cpus, threads=threads)
        cpu_before = server.cpu_seconds()
        result = wrk.run(cmd, duration)
        cpu_after = server.cpu_seconds()
        alive = server.alive()
        label = f"rep{rep + 1}" if rep is not None else "warmup"
        with open(os.path.join(self.raw_dir, "wrk", f"{scenario.name}-{server.spec.name}-{label}.txt"), "w") as f:
            f.write("$ " + " ".join(shlex.quote(a) for a in cmd) + "\n" + result.output)
        record = {
            "scenario": scenario.name,
            "server": server.spec.name,
            "rep": rep,
            "position": position,
            "requests": result.requests,
            "duration_s": result.duration_s,
            "rps": result.rps,
            "bytes": result.bytes,
            "errors": result.errors,
            # Latency percentiles from wrk's histogram. Pipelined, wrk records one latency per
            # batch of requests (write to last response): a batch's latency, not a request's.
            "p50_ms": result.latency_p50_ms,
            "p99_ms": result.latency_p99_ms,
            "p999_ms": result.latency_p999_ms,
            # A tree that lost a process mid-run has no meaningful CPU delta.
            "cpu_s": cpu_after - cpu_before if alive else None,
            "cpu_us_per_req": (cpu_after - cpu_before) / result.requests * 1e6 if result.requests and alive else None,
            # The load generator's CPU per response: on loopback the kernel delivers data in the
            # sender's system call, so some of the receiver's work is counted on the server's side
            # or on wrk's depending on how the server sends (see the README, 1 MiB file).
            "client_cpu_us_per_req": (result.client_cpu_s / result.requests * 1e6
                                      if result.requests and result.client_cpu_s is not None else None),
            "failure": result.failure or (None if alive else f"server exited during the run: {server.log_tail(1)}"),
            "command": " ".join(self._shown(cmd)),
        }
        record["invalid"] = report.validate(record, scenario.min_body, scenario.closes_connections)
        return record

    def run_load(self) -> None:
        reps, duration, warmup = self.args.reps, self.args.duration, self.args.warmup
        self.log(f"Load: {reps} repetition(s) × {len(self.scenarios)} scenario(s), {duration:g} s each")
        for rep in range(reps):
            for index, scenario in enumerate(self.scenarios):
                names = [n for n in self.args.server_names if (scenario.name, n) not in self.skipped]
                shift = (rep + index) % len(names) if names else 0
                for position, name in enumerate(names[shift:] + names[:shift]):
                    server = self.running.get(name)
                    if server is None:
                        self.skipped.setdefault((scenario.name, name), "server died earlier in the run")
                        continue
                    if not server.alive() and not self.restart(server, "found dead"):
                        self.skipped.setdefault((scenario.name, name), f"server died earlier: {server.failure}")
                        continue
                    if rep == 0 and warmup > 0:
                        self.run_one(server, scenario, warmup, None)
                        time.sleep(PAUSE_S)
                    record = self.run_one(server, scenario, duration, rep, position)
                    self.records.append(record)
                    cpu = "n/a" if record["cpu_us_per_req"] is None else f"{record['cpu_us_per_req']:7.1f}"
                    self.log(f"  [{rep + 1}/{reps}] {scenario.name:10} {name:13} {record['rps']:11,.0f} req/s "
                             f"{cpu} µs/req  " + (f"INVALID: {record['invalid']}" if record["invalid"] else "ok"))
                    if not server.alive():
                        self.restart(server, "exited during the run")
                    time.sleep(PAUSE_S)

    # -- output -------------------------------------------------------------------------------

    def write(self) -> dict[str, str]:
        args = self.args
        names = [s.name for s in self.scenarios]
        table = report.summarize(self.records, names, args.server_names, self.skipped)
        info = {s.name: (s.title, s.notes) for s in self.scenarios}
        packages = {p: install.version_of(p) for p in
                    ("uvicorn", "httptools", "uvloop", "starlette", "granian", "socketify", "fasthttp", "zlib-ng")}
        elapsed = time.monotonic() - self.started
        os.makedirs(args.results_dir, exist_ok=True)
        base = os.path.join(args.results_dir, args.name)
        meta = {
            "date": report.now(),
            "elapsed_s": elapsed,
            "command": self.command,
            "quick": args.quick,
            "reps": args.reps,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "server_cpu": self.server_cpu if self.server_cpu is not None else "any (unpinned)",
            "client_cpu": self.client_cpu if self.client_cpu is not None else "any (unpinned)",
            "machine": report.machine(packages, REPO, self.load_at_start),
            "servers": self.server_info,
            "raw": os.path.relpath(self.raw_dir, args.results_dir),
        }
        load = os.getloadavg()
        meta["machine"]["load average at end (1/5/15 min)"] = f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"
        if args.quick:
            meta["warning"] = ("Quick mode: one short repetition; indicative only, not for publication.")
        if self.restarts:
            meta["machine"]["server restarts"] = ", ".join(f"{k} {v}" for k, v in self.restarts.items())
        written = {}
        if not args.no_chart and table and install.ensure_matplotlib(not args.no_install, self.log):
            try:
                subtitle = f"{meta['date']}, {meta['machine']['CPU']}" + (" — quick mode" if args.quick else "")
                report.chart(table, info, self.memory, base + ".png", subtitle)
                meta["chart"] = os.path.basename(base) + ".png"
                written["chart"] = base + ".png"
            except Exception as exc:  # a broken matplotlib must not lose the measurements
                self.log(f"chart failed: {type(exc).__name__}: {exc}")
        with open(base + ".md", "w") as f:
            f.write(report.markdown(table, info, self.memory, meta))
        written["table"] = base + ".md"
        summary = {
            "meta": meta,
            "rows": {s: {n: vars(r) for n, r in rows.items()} for s, rows in table.items()},
            "memory": self.memory,
            "latency_tail": report.tail_check(table),
        }
        with open(base + ".json", "w") as f:
            json.dump(summary, f, indent=1, default=str)
        written["json"] = base + ".json"
        with open(os.path.join(self.raw_dir, "runs.json"), "w") as f:
            json.dump({"meta": meta, "records": self.records, "skipped": {f"{k[0]}/{k[1]}": v for k, v in self.skipped.items()},
                       "memory": self.memory}, f, indent=1, default=str)
        written["raw"] = self.raw_dir
        return written

    def cleanup(self) -> None:
        servers.stop_all()
        try:
            os.remove(self.file_path)
        except OSError:
            pass


def estimate_seconds(args: argparse.Namespace) -> float:
    pairs = len(args.server_names) * len(args.scenario_names)
    warmup = args.warmup + RUN_OVERHEAD_S if args.warmup else 0
    load = pairs * (args.reps * (args.duration + RUN_OVERHEAD_S) + warmup)
    mem = 0 if args.no_memory else len(args.server_names) * (2 * memory.SETTLE_S + 1 + args.memory_connections / 2000)
    return load + mem + 3 * len(args.server_names) + 10


def _on_signal(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None, prog: str = "python -m benchmarks.server") -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(prog).parse_args(argv)
    if args.list:
        for s in servers.SERVERS + servers.HOSTING_SERVERS:
            print(f"server    {s.name:14} {s.description}")
        for group, names in servers.GROUPS.items():
            print(f"group     {group:14} {', '.join(names)}")
        for s in scenarios.SCENARIOS:
            print(f"scenario  {s.name:14} {s.title}: {s.notes}")
        return 0
    mode = QUICK if args.quick else FULL
    for key in ("duration", "reps", "warmup", "memory_connections"):
        if getattr(args, key) is None:
            setattr(args, key, mode[key])
    if args.duration <= 0 or args.reps < 1 or args.warmup < 0 or args.memory_connections < 1:
        raise SystemExit("--duration, --reps and --memory-connections must be positive, --warmup >= 0")
    all_servers = servers.SERVERS + servers.HOSTING_SERVERS
    args.server_names = _parse_list(args.servers, [s.name for s in all_servers], "servers", servers.GROUPS)
    if args.servers == "all":
        args.server_names = [s.name for s in servers.SERVERS]  # the hosting rows only on request
    args.scenario_names = _parse_list(args.scenarios, [s.name for s in scenarios.SCENARIOS], "scenarios")
    if args.name is None:
        default_selection = args.servers == "all" and args.scenarios == "all"
        args.name = "server-quick" if args.quick else ("server" if default_selection else "server-custom")
    command = " ".join([prog] + [shlex.quote(a) for a in argv])

    estimate = estimate_seconds(args)
    print(f"{command}\nestimated time: {estimate / 60:.1f} min (budget {mode['budget_s'] / 60:.0f} min)", flush=True)
    if estimate > mode["budget_s"]:
        print("warning: this selection is expected to exceed the time budget", flush=True)

    if args.soak:
        args.server_names = ["fasthttp"]
        return soak_main(Harness(args, command), args)
    harness = Harness(args, command)
    atexit.register(servers.stop_all)
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        if not install.ensure_wrk(not args.no_install, harness.log):
            print("error: wrk is not installed and could not be installed (apt-get install -y wrk)", file=sys.stderr)
            return 2
        servers.reap_orphans(harness.log)
        harness.prepare()
        harness.start_servers()
        if not harness.running:
            print("error: no server could be started", file=sys.stderr)
        else:
            harness.check_all()
            harness.measure_memory()
            harness.run_load()
    except KeyboardInterrupt:
        print("\ninterrupted: stopping servers, writing what was measured", file=sys.stderr)
        harness.cleanup()
        if harness.records:
            harness.write()
        return 130
    finally:
        harness.cleanup()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    written = harness.write()
    elapsed = time.monotonic() - harness.started
    print(f"\ndone in {elapsed / 60:.1f} min")
    for what, path in written.items():
        print(f"  {what:6} {os.path.relpath(path, os.getcwd()) if path.startswith(os.getcwd()) else path}")
    return 0 if harness.running or harness.records else 1



def soak_main(harness: Harness, args: argparse.Namespace) -> int:
    """``--soak``: start the fasthttp server (one worker), soak it, write and judge the result."""
    atexit.register(servers.stop_all)
    try:
        harness.prepare()
        harness.start_servers()
        server = harness.running.get("fasthttp")
        if server is None:
            print("error: the fasthttp server could not be started", file=sys.stderr)
            return 1
        worker = procstat.busiest(server.tree()) or (server.proc.pid if server.proc else None)
        if worker is None:
            print("error: no worker process found", file=sys.stderr)
            return 1
        result = soak.run_soak(servers.HOST, server.port, worker, requests=args.soak_requests)
    finally:
        harness.cleanup()
    os.makedirs(args.results_dir, exist_ok=True)
    path = os.path.join(args.results_dir, "soak.json")
    with open(path, "w") as f:
        json.dump(result.as_dict(), f, indent=2)
    problem = soak.verdict(result)
    print(f"soak: {result.requests} requests in {result.seconds:.0f} s; RSS {result.rss_warm_kib} -> "
          f"{result.rss_after_kib} KiB; descriptors {result.fds_start} -> {result.fds_after}: "
          f"{'passed' if problem is None else 'FAILED: ' + problem}\n  {path}")
    return 0 if problem is None else 1
