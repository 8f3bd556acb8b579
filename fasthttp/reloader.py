"""Development reloading (``fasthttp --reload``): restart the server process when its source changes.

The reloader does not import the app: it runs the same command line without ``--reload`` as a
child process, watches the source directories, and on a change stops the child gracefully
(SIGTERM, then SIGKILL after a deadline) and starts a new one, so every restart imports fresh code.
A child that exits on its own (an import error after an edit) is restarted at the next change.
The watcher is ``watchfiles`` when installed (the ``reload`` extra: inotify/FSEvents through a
Rust core), else :class:`Poller`, our own scan of ``*.py`` modification times.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any, Protocol

__all__ = ("Poller", "Watcher", "make_watcher", "run_with_reload", "strip_reload_options")

log = logging.getLogger("fasthttp.server")

#: Directories never scanned: caches, virtual environments, version control.
SKIP_DIRS = frozenset({"__pycache__", ".git", ".hg", ".svn", ".venv", "venv", "node_modules", ".mypy_cache", ".pytest_cache", ".tox", "build"})


class Watcher(Protocol):
    def wait(self, timeout: float) -> bool:
        """Block up to *timeout* seconds; True if a watched file changed."""
        ...

    def close(self) -> None: ...


class Poller:
    """Our fallback watcher: compares the (mtime, size) of every ``*.py`` file under *dirs*
    each *interval* seconds; a new, changed or removed file is a change."""

    def __init__(self, dirs: list[str], interval: float = 0.5) -> None:
        self.dirs = dirs
        self.interval = interval
        self.stop = threading.Event()
        self.snapshot = self.scan()

    def scan(self) -> dict[str, tuple[int, int]]:
        seen: dict[str, tuple[int, int]] = {}
        for top in self.dirs:
            for root, dirnames, filenames in os.walk(top):
                dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".")]
                for name in filenames:
                    if name.endswith(".py"):
                        path = os.path.join(root, name)
                        try:
                            st = os.stat(path)
                        except OSError:
                            continue
                        seen[path] = (st.st_mtime_ns, st.st_size)
        return seen

    def wait(self, timeout: float) -> bool:
        waited = 0.0
        while waited < timeout and not self.stop.is_set():
            step = min(self.interval, timeout - waited)
            self.stop.wait(step)
            waited += step
            current = self.scan()
            if current != self.snapshot:
                self.snapshot = current
                return True
        return False

    def close(self) -> None:
        self.stop.set()


class _WatchfilesWatcher:
    """watchfiles' ``watch`` generator, yielding on a timeout too, so the loop can look at its
    child and its signals between changes."""

    def __init__(self, dirs: list[str], watchfiles: Any) -> None:
        self.stop = threading.Event()
        self.changes: Iterator[set[Any]] = watchfiles.watch(
            *dirs,
            watch_filter=watchfiles.PythonFilter(),
            stop_event=self.stop,
            rust_timeout=500,
            yield_on_timeout=True,
            raise_interrupt=False,
        )

    def wait(self, timeout: float) -> bool:
        # rust_timeout bounds each step; a stopped watcher ends the generator.
        return bool(next(self.changes, set()))

    def close(self) -> None:
        self.stop.set()


def make_watcher(dirs: list[str]) -> Watcher:
    """watchfiles when installed, else :class:`Poller`."""
    try:
        import watchfiles
    except ImportError:
        log.info("reload: watchfiles is not installed (pip install 'fasthttp[reload]'): polling every 0.5 s")
        return Poller(dirs)
    return _WatchfilesWatcher(dirs, watchfiles)


def strip_reload_options(argv: list[str]) -> list[str]:
    """*argv* without ``--reload`` and ``--reload-dir DIR`` (the child's command line)."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--reload":
            pass
        elif arg == "--reload-dir":
            skip = True
        elif not arg.startswith("--reload-dir="):
            out.append(arg)
    return out


def run_with_reload(argv: list[str], dirs: list[str], stop_timeout: float) -> int:
    """Serve ``fasthttp *argv*`` in a child process, restarted whenever a ``*.py`` file under
    *dirs* changes, until SIGTERM or SIGINT; returns 0."""
    command = [sys.executable, "-m", "fasthttp", *strip_reload_options(argv)]
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    watcher = make_watcher(dirs)
    log.info("reload: watching %s", ", ".join(dirs))
    child = subprocess.Popen(command)
    try:
        while not stopping.is_set():
            if watcher.wait(0.5) and not stopping.is_set():
                log.info("reload: a source file changed; restarting")
                _stop(child, stop_timeout)
                child = subprocess.Popen(command)
    finally:
        watcher.close()
        _stop(child, stop_timeout)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _stop(child: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM (a graceful shutdown), then SIGKILL after *timeout* (+ a margin)."""
    if child.poll() is not None:
        return
    child.send_signal(signal.SIGTERM)
    try:
        child.wait(timeout + 5)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
