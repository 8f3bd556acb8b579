"""Worker processes: a master that forks N workers on SO_REUSEPORT sockets and keeps them alive.

The master binds each TCP address N times with SO_REUSEPORT, one listening socket per worker
*slot* (the first resolves port 0; on uvloop a group of ``accept_listeners`` sockets per slot,
see ``fasthttp.listeners.accept_listeners``), so the kernel spreads connections across the slots. Each
worker inherits its slot's sockets and closes the others'. The master holds every slot open for
its lifetime: a worker that stops or dies only lets go of its copy, and the connections the
kernel queued on that slot wait for the slot's next worker instead of being reset (closing the
last copy of an SO_REUSEPORT listener resets its accept queue unless net.ipv4.tcp_migrate_req
is on). AF_UNIX listeners are one socket shared by every worker. A worker that dies is
replaced; SIGTERM/SIGINT are forwarded and the master exits 0 once every worker has drained.

Replacements never refuse a connection: on SIGHUP (a new generation of every worker) and when a
worker reaches its request limit (it asks, instead of stopping), the master forks the new worker
first, waits until it reports that it listens, and only then sends the old one SIGTERM, a graceful
shutdown that finishes what it accepted. Workers report on one pipe to the master, a line per
event (``R<pid>`` listening, ``X<pid>`` wants replacing; a line is below PIPE_BUF, so atomic).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
from types import FrameType
from typing import Any

from .application import Application, Handler
from .config import Config, split_options
from .listeners import DEFAULT_BIND, BindSpec, accept_listeners, check_port_free, format_address, make_listeners, make_socket, parse_bind
from .loops import new_event_loop, uses_uvloop
from .metrics import MetricsStore
from .process import PidFile, ProcessIdentity
from .server import Server, announce_listening, serve_with_signals

__all__ = ("Supervisor",)

# Worker deaths and failures are server events: they go to the server's logger.
log = logging.getLogger("fasthttp.server")


class Supervisor:
    """The master of N forked workers (see the module docstring).

    *options* are :class:`~fasthttp.server.Server` keywords (Config fields included), given to
    each worker's server. :meth:`run` blocks until every worker has exited after a signal.
    """

    def __init__(
        self,
        app: Application | Handler,
        bind: BindSpec | list[BindSpec] | None,
        workers: int,
        use_uvloop: bool | None,
        announce: bool,
        options: dict[str, Any],
        *,
        identity: ProcessIdentity | None = None,
        pid_file: PidFile | None = None,
    ) -> None:
        self.app = app
        self.identity = identity  # applied by each worker after it binds (fasthttp.process)
        self.pid_file = pid_file  # the master's, written once bound
        self.binds: list[BindSpec] = bind if isinstance(bind, list) else [bind if bind is not None else DEFAULT_BIND]
        self.workers = workers
        self.use_uvloop = use_uvloop
        self.announce = announce
        self.options = options
        self.config = Config(**split_options(options)[0])
        self.children: dict[int, float] = {}  # pid -> monotonic start time
        self.stopping = False
        self.stop_deadline = 0.0
        self.slots: list[list[socket.socket]] = [[] for _ in range(workers)]  # TCP, per worker slot
        self.slot_of: dict[int, int] = {}  # worker pid -> its slot
        self.shared: list[socket.socket] = []  # AF_UNIX: inherited by every worker
        self.metrics_store: MetricsStore | None = None
        self.replacing: dict[int, int] = {}  # new worker's pid -> the pid it replaces once listening
        self.retiring: set[int] = set()  # sent SIGTERM to be replaced: not respawned
        self.reload_requested = False
        self.events_r = -1  # the master's end of the workers' report pipe
        self.events_w = -1
        self.events_buf = b""

    def run(self) -> None:
        """Bind, fork the workers, keep them alive, and return once they have drained."""
        # Bind here, before any fork: resolves port 0, fails early on a taken port, and the
        # master's copies keep every slot's queue alive across its workers (module docstring).
        held: list[socket.socket] = []
        announced: list[socket.socket] = []  # a socket per address
        listeners = accept_listeners(self.config.accept_listeners, uses_uvloop(self.use_uvloop))
        try:
            for spec in self.binds:
                family, _ = parse_bind(spec)
                if family == socket.AF_UNIX:
                    sock = make_socket(spec, backlog=self.config.backlog)
                    self.shared.append(sock)
                else:
                    # A second worker group on a served port must fail, not share it: the
                    # SO_REUSEPORT bind below would succeed next to another group's sockets.
                    check_port_free(spec)
                    # Each slot gets its worker's group of listening sockets (accept_listeners:
                    # several on uvloop, so a worker accepts several connections per loop turn).
                    group = make_listeners(spec, listeners, reuse_port=True, backlog=self.config.backlog)
                    sock = group[0]
                    self.slots[0].extend(group)
                    held.extend(group[1:])
                    for others in self.slots[1:]:
                        group = make_listeners(sock.getsockname(), listeners, reuse_port=True, backlog=self.config.backlog)
                        others.extend(group)
                        held.extend(group)
                held.append(sock)
                announced.append(sock)
            if self.options.get("metrics") is not None:
                # One metrics address for every worker (port 0 resolved here), and one store
                # they all write to (fasthttp.metrics).
                sock = make_socket(self.options["metrics"], reuse_port=True)
                held.append(sock)
                announced.append(sock)
                self.metrics_store = MetricsStore(rows=max(64, self.workers * 4))
                self.options = dict(self.options, metrics=sock.getsockname(), metrics_store=self.metrics_store)
            if self.pid_file is not None:
                self.pid_file.write()
            tls = bool(self.options.get("ssl") or self.options.get("certfile"))
            if self.announce:
                announce_listening([format_address(s.getsockname(), tls) for s in announced])
            self.events_r, self.events_w = os.pipe()
            os.set_blocking(self.events_r, False)
            previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
            previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, self._on_reload)
            try:
                for slot in range(self.workers):
                    self._spawn(slot)
                self._supervise()
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
        finally:
            for fd in (self.events_r, self.events_w):
                if fd >= 0:
                    os.close(fd)
            if self.pid_file is not None:
                self.pid_file.remove()
            for sock in held:
                name = sock.getsockname() if sock.family == socket.AF_UNIX else None
                sock.close()
                if isinstance(name, str) and name:
                    try:
                        os.unlink(name)
                    except OSError:
                        pass

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if not self.stopping:
            self.stopping = True
            self.stop_deadline = time.monotonic() + self.config.shutdown_timeout + 5
            for pid in list(self.children):
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass

    def _on_reload(self, signum: int, frame: FrameType | None) -> None:
        self.reload_requested = True  # acted on by _supervise, outside the signal handler

    def _report(self, kind: bytes) -> None:
        """In a worker: tell the master (see the module docstring)."""
        try:
            os.write(self.events_w, kind + str(os.getpid()).encode() + b"\n")
        except OSError:
            pass

    def _on_ready(self, server: Server) -> None:
        server.on_recycle = lambda: self._report(b"X")
        self._report(b"R")

    def _replace(self, old: int) -> None:
        """Start *old*'s replacement; *old* is stopped once the new worker listens."""
        if old in self.retiring or old in self.replacing.values() or old not in self.children:
            return
        if self.metrics_store is not None:
            self.metrics_store.add_restart()
        self.replacing[self._spawn(self.slot_of[old])] = old

    def _read_events(self) -> None:
        try:
            while True:
                chunk = os.read(self.events_r, 4096)
                if not chunk:
                    break
                self.events_buf += chunk
        except BlockingIOError:
            pass
        *lines, self.events_buf = self.events_buf.split(b"\n")
        for line in lines:
            kind, pid = line[:1], int(line[1:])
            if kind == b"R":
                old = self.replacing.pop(pid, None)
                if old is not None:
                    self._retire(old)
            elif kind == b"X" and not self.stopping:
                self._replace(pid)

    def _retire(self, pid: int) -> None:
        self.retiring.add(pid)
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    def _spawn(self, slot: int) -> int:
        """Fork a worker on *slot*'s listeners (see the module docstring)."""
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, signal.SIG_DFL)
                signal.signal(signal.SIGHUP, signal.SIG_IGN)  # the master's to act on
                os.close(self.events_r)
                for other, socks in enumerate(self.slots):
                    if other != slot:
                        for sock in socks:
                            sock.close()
                sockets = self.shared + self.slots[slot]
                if self.identity is not None:
                    self.identity.drop()
                loop = new_event_loop(self.use_uvloop)
                asyncio.set_event_loop(loop)
                loop.run_until_complete(
                    serve_with_signals(
                        self.app, None, False, dict(self.options, sockets=sockets, shared_listeners=True), on_ready=self._on_ready
                    )
                )
                code = 0
            except BaseException:
                log.exception("worker %d failed", os.getpid())
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.children[pid] = time.monotonic()
        self.slot_of[pid] = slot
        return pid

    def _supervise(self) -> None:
        while self.children:
            self._read_events()
            if self.reload_requested and not self.stopping:
                self.reload_requested = False
                log.info("SIGHUP: starting a new generation of %d workers", self.workers)
                for old in list(self.children):
                    if old not in self.replacing:  # a replacement in progress is already new
                        self._replace(old)
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                if self.stopping and time.monotonic() > self.stop_deadline:
                    for child in list(self.children):
                        try:
                            os.kill(child, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                time.sleep(0.05)
                continue
            started = self.children.pop(pid, None)
            slot = self.slot_of.pop(pid, 0)
            if pid in self.retiring:  # replaced: its successor already listens
                self.retiring.discard(pid)
                continue
            replaced = self.replacing.pop(pid, None)  # a replacement that died before listening
            if self.stopping or started is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            if code == 0:
                log.info("worker %d stopped (recycled); starting a new one", pid)
            else:
                log.warning("worker %d exited with %d; starting a new one", pid, code)
            if time.monotonic() - started < 1.0:
                time.sleep(1.0)  # a crash loop: do not spin
            if not self.stopping:
                if self.metrics_store is not None and replaced is None:
                    self.metrics_store.add_restart()
                new = self._spawn(slot)
                if replaced is not None:
                    self.replacing[new] = replaced
