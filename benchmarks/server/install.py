"""Finding or installing what the harness needs: the peer servers (pip), wrk (apt), matplotlib (pip).

Each step is skipped when the thing is already importable / on PATH, and bounded in time. A
failure here disables only what depends on it (one server, or the chart); wrk is the exception,
as nothing can be measured without it.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys

__all__ = ("missing_modules", "missing_programs", "pip_install", "ensure_program", "ensure_wrk", "ensure_matplotlib", "version_of", "program_version")

PIP_TIMEOUT_S = 600
APT_TIMEOUT_S = 600


def missing_modules(modules: tuple[str, ...]) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def pip_install(requirements: tuple[str, ...] | list[str], log=print) -> str | None:
    """``python -m pip install`` *requirements*; None on success, else the error's last line."""
    cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", *requirements]
    log(f"  $ {' '.join(cmd)}")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"pip install timed out after {PIP_TIMEOUT_S}s"
    importlib.invalidate_caches()
    if proc.returncode != 0:
        lines = [line for line in (proc.stderr or proc.stdout).splitlines() if line.strip()]
        return "pip install failed: " + (lines[-1] if lines else f"status {proc.returncode}")
    return None


def _apt(args: list[str], log) -> bool:
    prefix = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    if prefix is None or not shutil.which("apt-get"):
        return False
    cmd = prefix + ["apt-get", *args]
    log(f"  $ {' '.join(cmd)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=APT_TIMEOUT_S, env=env)
    except subprocess.TimeoutExpired:
        log(f"  apt-get timed out after {APT_TIMEOUT_S}s")
        return False
    if proc.returncode != 0:
        tail = [line for line in proc.stderr.splitlines() if line.strip()][-1:]
        log(f"  apt-get failed: {tail[0] if tail else proc.returncode}")
    return proc.returncode == 0


def ensure_program(program: str, packages: tuple[str, ...], allow_install: bool, log=print) -> str | None:
    """Path to *program*, installing the Debian *packages* (``apt-get install -y ...``) when missing."""
    path = shutil.which(program)
    if path or not allow_install or not packages:
        return path
    log(f"{program} not found: installing the Debian package{'s' if len(packages) > 1 else ''} {' '.join(packages)}")
    if not _apt(["install", "-y", *packages], log):
        # The package lists may be missing or stale: refresh them once and retry.
        _apt(["update"], log)
        _apt(["install", "-y", *packages], log)
    return shutil.which(program)


def missing_programs(programs: tuple[str, ...]) -> list[str]:
    return [p for p in programs if shutil.which(p) is None]


def ensure_wrk(allow_install: bool, log=print) -> str | None:
    """Path to wrk, installing the Debian package (``apt-get install -y wrk``) when missing."""
    return ensure_program("wrk", ("wrk",), allow_install, log)


def ensure_matplotlib(allow_install: bool, log=print) -> bool:
    if importlib.util.find_spec("matplotlib") is not None:
        return True
    if not allow_install:
        return False
    log("matplotlib not found: installing it for the chart")
    problem = pip_install(["matplotlib"], log)
    if problem:
        log(f"  {problem}")
    return importlib.util.find_spec("matplotlib") is not None


def program_version(program: str) -> str:
    """The first line ``PROGRAM -v`` prints (nginx and wrk print their version there)."""
    path = shutil.which(program)
    if path is None:
        return "not installed"
    try:
        proc = subprocess.run([path, "-v"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    lines = (proc.stderr + proc.stdout).strip().splitlines()
    return lines[0].strip() if lines else "unknown"


def version_of(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"
