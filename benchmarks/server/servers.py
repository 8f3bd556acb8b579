"""The servers under test: how each is started, found ready, observed and killed.

Every server runs one worker pinned to the server CPU (``taskset -c CPU``; threads and child
processes inherit the mask), listens on 127.0.0.1 only, and writes its output to a log file in the
run's raw directory. Each is started in its own session (process group), with the parent-death
signal set, so that ``stop`` (and the harness's exit, normal or not) can kill exactly the
processes this harness started and nothing else.

A server that fails to start (missing package, import error, port never answers) is skipped with
the reason taken from its log; the rest of the run goes on.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

from . import httpcheck, nginx, procstat

__all__ = ("ServerSpec", "SERVERS", "WS_SERVERS", "HOSTING_SERVERS", "GROUPS", "by_name", "ServerProcess", "stop_all", "reap_orphans", "free_port")

HOST = "127.0.0.1"
APPS = "benchmarks.server.apps"


@dataclass(frozen=True)
class ServerSpec:
    name: str
    description: str
    command: Callable[[int], list[str]]  # port -> argv (after the taskset prefix)
    requirements: tuple[str, ...] = ()  # pip requirement specs installed when missing
    modules: tuple[str, ...] = ()  # importable when the requirements are present
    packages: tuple[str, ...] = ()  # distributions whose versions are reported
    known_gaps: dict[str, str] = field(default_factory=dict)  # scenario -> why it may fail
    executables: tuple[str, ...] = ()  # programs that must be on PATH (installed with apt_packages)
    apt_packages: tuple[str, ...] = ()  # Debian packages installed (apt-get install -y) when missing
    # True: the server is pinned to the server and the client CPUs, and wrk runs there too with one
    # thread per CPU (the --workers 2 row: every process shares both cores). False: one server CPU.
    shared_cpus: bool = False
    no_memory: str = ""  # why the memory test does not apply to this server ("" = it does)


def _uvicorn(app: str) -> Callable[[int], list[str]]:
    def command(port: int) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", f"{APPS}.{app}:app",
            "--host", HOST, "--port", str(port), "--workers", "1",
            "--loop", "uvloop", "--http", "httptools",
            "--lifespan", "off", "--no-access-log", "--log-level", "warning",
            # NOTE: uvicorn closes idle keep-alive connections after 5 s by default, which would
            # empty the idle-connection memory test; 60 s outlasts it.
            "--timeout-keep-alive", "60", "--backlog", "4096",
        ]  # fmt: skip

    return command


def _uvicorn_ws(port: int) -> list[str]:
    # The websocket scenarios' peer: uvicorn with the websockets library (wsbench.py).
    return _uvicorn("uvicorn_ws")(port) + ["--ws", "websockets", "--ws-per-message-deflate", "false"]


def _granian(port: int) -> list[str]:
    return [
        sys.executable, "-m", "granian", "--interface", "rsgi",
        "--host", HOST, "--port", str(port), "--workers", "1", "--runtime-threads", "1",
        "--loop", "uvloop", "--http", "1", "--no-ws", "--no-access-log",
        "--log-level", "warning", "--backlog", "4096",
        # NOTE: granian caps concurrent connections per worker at --backpressure (default
        # backlog/workers) and drops the oldest beyond it: the 5,000-connection memory test
        # would measure a server holding 4,096. The cap is raised so every server holds them all.
        "--backpressure", "16384",
        f"{APPS}.granian_rsgi:app",
    ]  # fmt: skip


def _socketify(port: int) -> list[str]:
    return [sys.executable, "-m", f"{APPS}.socketify_app", "--host", HOST, "--port", str(port)]


def _fasthttp(port: int) -> list[str]:
    return [
        sys.executable, "-m", "fasthttp", f"{APPS}.fasthttp_app:app",
        "--bind", f"{HOST}:{port}", "--workers", "1",
    ]  # fmt: skip


def _fasthttp_compression(port: int) -> list[str]:
    return [
        sys.executable, "-m", "fasthttp", f"{APPS}.fasthttp_compression_app:app",
        "--bind", f"{HOST}:{port}", "--workers", "1",
    ]  # fmt: skip


def _fasthttp_security(port: int) -> list[str]:
    return [
        sys.executable, "-m", "fasthttp", f"{APPS}.fasthttp_security_app:app",
        "--bind", f"{HOST}:{port}", "--workers", "1",
    ]  # fmt: skip


def _fasthttp_bare(port: int) -> list[str]:
    return [
        sys.executable, "-m", "fasthttp", f"{APPS}.fasthttp_bare:handler",
        "--bind", f"{HOST}:{port}", "--workers", "1",
    ]  # fmt: skip


#: A source tree of another revision of fasthttp (a ``git worktree`` with its kernels built in
#: place). When set, the server ``fasthttp-baseline`` serves the same app from that tree, so a
#: change's before/after figures come from one run, measured under the same conditions.
BASELINE_ENV = "FASTHTTP_BASELINE_TREE"


def _fasthttp_baseline(port: int) -> list[str]:
    # -P: no current directory on sys.path, so PYTHONPATH's tree provides both fasthttp and the
    # benchmark app (each revision serves its own copy of the app).
    tree = os.path.abspath(os.environ[BASELINE_ENV])
    return [
        "env", f"PYTHONPATH={tree}", sys.executable, "-P", "-m", "fasthttp", f"{APPS}.fasthttp_app:app",
        "--bind", f"{HOST}:{port}", "--workers", "1",
    ]  # fmt: skip


def _fasthttp_pure(port: int) -> list[str]:
    # Issue 17's pure-path target: the pure-Python twins of every kernel and the connection core,
    # on the standard asyncio loop, as a platform with no compiled wheel and no uvloop runs us.
    return [
        "env", "FASTHTTP_NO_EXTENSIONS=1", sys.executable, "-m", "fasthttp", f"{APPS}.fasthttp_app:app",
        "--bind", f"{HOST}:{port}", "--workers", "1", "--no-uvloop",
    ]  # fmt: skip


def _fasthttp_pure_baseline(port: int) -> list[str]:
    # fasthttp-pure (above) from the tree of BASELINE_ENV, as fasthttp-baseline serves fasthttp.
    return ["env", "FASTHTTP_NO_EXTENSIONS=1", *_fasthttp_baseline(port), "--no-uvloop"]


def _fasthttp_workers(workers: int) -> Callable[[int], list[str]]:
    def command(port: int) -> list[str]:
        return [
            sys.executable, "-m", "fasthttp", f"{APPS}.fasthttp_app:app",
            "--bind", f"{HOST}:{port}", "--workers", str(workers),
        ]  # fmt: skip

    return command


SERVERS: tuple[ServerSpec, ...] = (
    ServerSpec(
        "uvicorn-raw",
        "uvicorn (httptools, uvloop) serving a raw ASGI callable: the baseline",
        _uvicorn("uvicorn_raw"),
        requirements=("uvicorn", "httptools", "uvloop"),
        modules=("uvicorn", "httptools", "uvloop"),
        packages=("uvicorn", "httptools", "uvloop"),
    ),
    ServerSpec(
        "starlette",
        "Starlette on uvicorn (httptools, uvloop)",
        _uvicorn("starlette_app"),
        requirements=("uvicorn", "httptools", "uvloop", "starlette"),
        modules=("uvicorn", "httptools", "uvloop", "starlette"),
        packages=("starlette",),
    ),
    ServerSpec(
        "granian-rsgi",
        "granian (Rust HTTP core) serving a raw RSGI application, uvloop",
        _granian,
        requirements=("granian", "uvloop"),
        modules=("granian", "uvloop"),
        packages=("granian",),
    ),
    ServerSpec(
        "socketify",
        "socketify (uWebSockets C++ core through CFFI)",
        _socketify,
        requirements=("socketify",),
        modules=("socketify",),
        packages=("socketify",),
    ),
    ServerSpec(
        "fasthttp",
        "fasthttp (this repository), one worker",
        _fasthttp,
        modules=("fasthttp",),
        packages=("fasthttp", "uvloop"),
    ),
    ServerSpec(
        "fasthttp-compression",
        "fasthttp with the Compression middleware installed app-wide: its cost when not asked for",
        _fasthttp_compression,
        modules=("fasthttp",),
        packages=("fasthttp", "uvloop"),
    ),
    ServerSpec(
        "fasthttp-security",
        "fasthttp with CORS, SecurityHeaders and Sessions installed app-wide: their cost on a plain request",
        _fasthttp_security,
        modules=("fasthttp",),
        packages=("fasthttp", "uvloop"),
    ),
    ServerSpec(
        "fasthttp-bare",
        "fasthttp's engine serving one plain handler that routes by hand (no App): the framework's baseline",
        _fasthttp_bare,
        modules=("fasthttp",),
        packages=("fasthttp", "uvloop"),
        known_gaps={s: "the bare handler serves GET /plaintext, /json and /routeN/:id only" for s in ("post", "file", "gzip-json")},
    ),
    ServerSpec(
        "fasthttp-pure",
        "fasthttp on its pure-Python twins and the asyncio loop (FASTHTTP_NO_EXTENSIONS=1, --no-uvloop)",
        _fasthttp_pure,
        modules=("fasthttp",),
        packages=("fasthttp",),
    ),
    ServerSpec(
        "nginx",
        "nginx, one worker, `return 200` with the same bodies, access log off: the kernel's floor",
        nginx.command,
        executables=(nginx.EXECUTABLE,),
        apt_packages=(nginx.APT_PACKAGE,),
        known_gaps={"post": "a stock nginx cannot echo a request body (that needs the echo or njs module)"},
    ),
    ServerSpec(
        "fasthttp-w2",
        "fasthttp, --workers 2 (SO_REUSEPORT), server and wrk (-t2) sharing both CPUs",
        _fasthttp_workers(2),
        modules=("fasthttp",),
        packages=("fasthttp", "uvloop"),
        shared_cpus=True,
        no_memory="two workers share the connections (see the fasthttp row for one worker's figures)",
    ),
)

#: The peers of the websocket scenarios only (``python -m benchmarks.server.wsbench``).
WS_SERVERS: tuple[ServerSpec, ...] = (
    ServerSpec(
        "uvicorn-websockets",
        "uvicorn (httptools, uvloop) with the websockets library, a raw ASGI echo",
        _uvicorn_ws,
        requirements=("uvicorn", "httptools", "uvloop", "websockets"),
        modules=("uvicorn", "httptools", "uvloop", "websockets"),
        packages=("uvicorn", "websockets"),
    ),
)

if os.environ.get(BASELINE_ENV):
    SERVERS += (
        ServerSpec(
            "fasthttp-baseline",
            f"fasthttp from {os.environ[BASELINE_ENV]} (another revision, for before/after figures)",
            _fasthttp_baseline,
            modules=("fasthttp",),
            packages=("fasthttp", "uvloop"),
        ),
        ServerSpec(
            "fasthttp-pure-baseline",
            f"fasthttp-pure from {os.environ[BASELINE_ENV]} (another revision, for before/after figures)",
            _fasthttp_pure_baseline,
            modules=("fasthttp",),
            packages=("fasthttp",),
        ),
    )

# --- hosting: the same ASGI and WSGI applications on fasthttp and on their usual servers ------------

#: Threads running the WSGI application, the same on every WSGI server.
WSGI_THREADS = 8


def _fasthttp_hosted(app: str, interface: str) -> Callable[[int], list[str]]:
    def command(port: int) -> list[str]:
        argv = [
            sys.executable, "-m", "fasthttp", f"{APPS}.{app}:app", "--interface", interface,
            "--bind", f"{HOST}:{port}", "--workers", "1",
        ]  # fmt: skip
        if interface == "asgi":
            argv += ["--lifespan", "off"]  # as uvicorn and granian (asginl) run them
        else:
            argv += ["--wsgi-threads", str(WSGI_THREADS)]
        return argv

    return command


def _granian_hosted(app: str, interface: str) -> Callable[[int], list[str]]:
    def command(port: int) -> list[str]:
        argv = [
            sys.executable, "-m", "granian", "--interface", interface,
            "--host", HOST, "--port", str(port), "--workers", "1", "--runtime-threads", "1",
            "--http", "1", "--no-ws", "--no-access-log", "--log-level", "warning",
            "--backlog", "4096", "--backpressure", "16384",
        ]  # fmt: skip
        if interface == "wsgi":
            argv += ["--blocking-threads", str(WSGI_THREADS)]
        else:
            argv += ["--loop", "uvloop"]
        return argv + [f"{APPS}.{app}:app"]

    return command


def _gunicorn_gthread(app: str) -> Callable[[int], list[str]]:
    def command(port: int) -> list[str]:
        return [
            sys.executable, "-m", "gunicorn", f"{APPS}.{app}:app",
            "--bind", f"{HOST}:{port}", "--workers", "1",
            "--worker-class", "gthread", "--threads", str(WSGI_THREADS),
            "--keep-alive", "60", "--backlog", "4096", "--log-level", "warning",
        ]  # fmt: skip

    return command


#: The hosting comparisons (issue 13): not in the default run (``all`` is :data:`SERVERS`); select
#: them with ``--servers hosting-asgi`` or ``--servers hosting-wsgi`` (see :data:`GROUPS`).
HOSTING_SERVERS: tuple[ServerSpec, ...] = (
    ServerSpec(
        "fasthttp-asgi",
        "fasthttp serving the raw ASGI callable of uvicorn-raw (--interface asgi)",
        _fasthttp_hosted("uvicorn_raw", "asgi"),
        modules=("fasthttp",),
        packages=("fasthttp", "uvloop"),
    ),
    ServerSpec(
        "granian-asgi",
        "granian serving the raw ASGI callable of uvicorn-raw (ASGI interface, no lifespan), uvloop",
        _granian_hosted("uvicorn_raw", "asginl"),
        requirements=("granian", "uvloop"),
        modules=("granian", "uvloop"),
        packages=("granian",),
    ),
    ServerSpec(
        "fasthttp-starlette",
        "fasthttp serving the Starlette app of the starlette row (--interface asgi)",
        _fasthttp_hosted("starlette_app", "asgi"),
        requirements=("starlette",),
        modules=("fasthttp", "starlette"),
        packages=("fasthttp", "starlette"),
    ),
    ServerSpec(
        "granian-starlette",
        "granian serving the Starlette app (ASGI interface, no lifespan), uvloop",
        _granian_hosted("starlette_app", "asginl"),
        requirements=("granian", "uvloop", "starlette"),
        modules=("granian", "uvloop", "starlette"),
        packages=("granian", "starlette"),
    ),
    ServerSpec(
        "gunicorn-flask",
        f"gunicorn, gthread worker with {WSGI_THREADS} threads, serving the Flask app",
        _gunicorn_gthread("flask_app"),
        requirements=("gunicorn", "flask"),
        modules=("gunicorn", "flask"),
        packages=("gunicorn", "flask"),
    ),
    ServerSpec(
        "fasthttp-flask",
        f"fasthttp serving the Flask app (--interface wsgi, {WSGI_THREADS} threads)",
        _fasthttp_hosted("flask_app", "wsgi"),
        requirements=("flask",),
        modules=("fasthttp", "flask"),
        packages=("fasthttp", "flask"),
    ),
    ServerSpec(
        "granian-flask",
        f"granian serving the Flask app (WSGI interface, {WSGI_THREADS} blocking threads)",
        _granian_hosted("flask_app", "wsgi"),
        requirements=("granian", "flask"),
        modules=("granian", "flask"),
        packages=("granian", "flask"),
    ),
)

#: Named selections for ``--servers``: the same application on each server, fasthttp against the
#: servers its users would otherwise run (raw ASGI and Starlette: uvicorn and granian; Flask:
#: gunicorn and granian). Pair them with ``--scenarios plaintext,json`` (see the README).
GROUPS: dict[str, tuple[str, ...]] = {
    "hosting-asgi": ("uvicorn-raw", "fasthttp-asgi", "granian-asgi", "starlette", "fasthttp-starlette", "granian-starlette"),
    "hosting-wsgi": ("gunicorn-flask", "fasthttp-flask", "granian-flask"),
}

_BY_NAME = {s.name: s for s in SERVERS + WS_SERVERS + HOSTING_SERVERS}


def by_name(name: str) -> ServerSpec:
    return _BY_NAME[name]


def free_port() -> int:
    """A loopback port free right now (the kernel's pick for port 0)."""
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


_RUNNING: list["ServerProcess"] = []


class ServerProcess:
    """One running server: its Popen, port, log file and process tree."""

    def __init__(self, spec: ServerSpec, *, cpu: int | str | None, log_path: str, env: dict[str, str], cwd: str):
        self.spec = spec
        self.cpu = cpu
        self.log_path = log_path
        self.env = env
        self.cwd = cwd
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.argv: list[str] = []
        self.failure: str | None = None  # why it is not (or no longer) usable
        self._known: set[int] = set()  # every pid seen in its tree, for the final kill

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, ready_timeout: float = 30.0) -> bool:
        """Start the server and wait until GET /plaintext answers 200; False (with ``failure``) if not."""
        self.port = free_port()
        self.argv = self.spec.command(self.port)
        if self.cpu is not None:
            self.argv = ["taskset", "-c", str(self.cpu)] + self.argv
        log = open(self.log_path, "ab")
        log.write(f"$ {' '.join(self.argv)}\n".encode())
        log.flush()
        try:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                env=self.env,
                start_new_session=True,
                preexec_fn=procstat.die_with_parent,
            )
        except OSError as exc:
            self.failure = f"could not execute: {exc}"
            return False
        finally:
            log.close()
        _RUNNING.append(self)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.failure = f"exited with status {self.proc.returncode} at start: {self.log_tail()}"
                return False
            self.remember_tree()
            try:
                responses, _ = httpcheck.exchange(HOST, self.port, self._probe(), 1, timeout=2)
                if responses[0].status == 200:
                    time.sleep(0.2)  # let a supervisor finish spawning before the tree is read
                    self.remember_tree()
                    return True
            except (OSError, httpcheck.HttpCheckError):
                pass
            time.sleep(0.1)
        self.failure = f"did not answer GET /plaintext within {ready_timeout:g}s: {self.log_tail()}"
        self.stop()
        return False

    def _probe(self) -> bytes:
        return f"GET /plaintext HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n\r\n".encode()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the process group, SIGKILL whatever is left after *grace* seconds."""
        if self.proc is None:
            return
        self.remember_tree()
        self._signal_all(signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(procstat.alive(p) for p in self._known):
            time.sleep(0.05)
        self._signal_all(signal.SIGKILL)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        if self in _RUNNING:
            _RUNNING.remove(self)

    def _signal_all(self, sig: int) -> None:
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, sig)  # the session this harness created for the server
        except (ProcessLookupError, PermissionError):
            pass
        # A worker that left the group (setsid) is still one of ours: signal it by pid.
        for pid in self._known:
            if pid != self.proc.pid and procstat.alive(pid):
                try:
                    os.kill(pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass

    # -- observation --------------------------------------------------------------------------

    def remember_tree(self) -> list[int]:
        pids = self.tree()
        self._known.update(pids)
        return pids

    def tree(self) -> list[int]:
        if self.proc is None:
            return []
        return procstat.process_tree(self.proc.pid)

    def cpu_seconds(self) -> float:
        return procstat.cpu_seconds(self.remember_tree())

    def affinity(self) -> list[str]:
        """``pid: cpus`` for each process of the tree (every thread's mask), to prove the pinning."""
        return [f"{pid}:{','.join(sorted(procstat.cpus_allowed(pid)))}" for pid in self.tree()]

    def log_tail(self, lines: int = 3) -> str:
        try:
            with open(self.log_path, "rb") as f:
                text = f.read()[-4000:].decode(errors="replace")
        except OSError:
            return "(no log)"
        kept = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("$ ")]
        return " | ".join(kept[-lines:]) or "(empty log)"


def reap_orphans(log=print) -> None:
    """Kill servers left behind by an earlier harness that was itself killed (SIGKILL)."""
    for pid in procstat.orphans_of_dead_harnesses():
        log(f"killing process {pid}, left over by an earlier run that was killed")
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def stop_all() -> None:
    """Kill every server still running (called from ``finally``, atexit and signal handlers)."""
    for server in list(_RUNNING):
        try:
            server.stop(grace=2.0)
        except Exception:
            pass
