#!/usr/bin/env python3
"""Check the artifacts that wheels/build.py made, as a user would meet them.

    python wheels/check.py [--out DIR] [--keep] [-- PYTEST_ARGS...]

Checks, in order (each prints PASS/FAIL and its time; the last line counts them):

1. Contents. The sdist holds every file of the package in this tree (``.py``, ``.pyx``,
   ``.pxd``, ``.pyi``, ``py.typed``, data), a ``.pyx`` for every kernel, the build files and the
   tests, and no generated C, objects or byte code. Each wheel holds every file of the package
   that is not build input, and no ``.pyx``, ``.pxd``, ``.c``, ``.h``, objects, byte code or
   tests; the compiled wheel has one extension module per kernel and is platlib, the pure wheel
   has none and is purelib.
2. The compiled wheel (for the running interpreter), installed with its dependencies (uvloop) and
   the ``test`` extra into a fresh venv: ``wheels/smoke.py --expect compiled``, then the whole test
   suite through ``wheels/suite.py``.
3. The pure wheel, installed with ``--no-deps`` into another fresh venv, then only the test
   requirements (read from the wheel's own ``test`` extra), so uvloop is absent:
   ``wheels/smoke.py --expect pure --no-uvloop``, then the suite with ``--pure``.

The venvs live in a temporary directory outside the source tree, and every command runs from a
directory that holds no ``fasthttp`` package; smoke.py and suite.py both verify that the
``fasthttp`` they used came from the venv's site-packages. Output of each step goes to
``wheels/out/logs/check-<step>.log`` and is replayed in full for suite runs and on failure.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path, PurePosixPath

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DIST = "fasthttp"


def _load_build_module():
    # Loaded by path under a private name: "build" would clash with PyPA's build package.
    spec = importlib.util.spec_from_file_location("_fasthttp_wheels_build", HERE / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


recipe = _load_build_module()

# What a wheel must never carry: kernel sources, generated C, objects, byte code, tests.
WHEEL_FORBIDDEN_SUFFIXES = {".pyx", ".pxd", ".c", ".h", ".o", ".obj", ".pyc", ".pyo"}
# What an sdist must never carry: generated C, objects, byte code.
SDIST_FORBIDDEN_SUFFIXES = {".so", ".pyd", ".o", ".obj", ".pyc", ".pyo"}
# Files of the package that are build input only; every other file under fasthttp/ is shipped.
BUILD_INPUT_SUFFIXES = {".pyx", ".pxd", ".c", ".h"}


class Check:
    """Collects PASS/FAIL lines and times."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0
        self.timings: list[tuple[str, float]] = []

    def record(self, name: str, problems: list[str], seconds: float) -> bool:
        self.timings.append((name, seconds))
        if problems:
            self.failed += 1
            print(f"FAIL  {name} ({seconds:.1f}s)", flush=True)
            for problem in problems:
                print(f"        - {problem}", flush=True)
            return False
        self.passed += 1
        print(f"PASS  {name} ({seconds:.1f}s)", flush=True)
        return True


# --------------------------------------------------------------------------------------------
# Artifacts and their contents


def kernels(source: Path, name: str = "KERNELS") -> tuple[str, ...]:
    """The kernel names (or, with *name* ``"CORES"`` or ``"MODELS"``, the engine's and the message
    model's compiled modules), read from
    fasthttp/_compat.py without importing the source tree."""
    import ast

    tree = ast.parse((source / "fasthttp" / "_compat.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return tuple(ast.literal_eval(node.value))
    raise RuntimeError(f"fasthttp/_compat.py defines no {name}")


def tree_package_files(source: Path) -> list[PurePosixPath]:
    return [PurePosixPath(n) for n in recipe.source_files(source) if n.startswith(f"{DIST}/")]


def find_artifacts(out: Path) -> dict[str, Path | None]:
    tag = recipe.interpreter_tag()

    def one(pattern: str) -> Path | None:
        found = sorted(out.glob(pattern))
        return found[-1] if found else None

    return {
        "sdist": one(f"{DIST}-*.tar.gz"),
        "compiled": one(f"{DIST}-*-{tag}-{tag}-*.whl"),
        "pure": one(f"{DIST}-*-py3-none-any.whl"),
    }


def sdist_problems(sdist: Path, source: Path) -> list[str]:
    with tarfile.open(sdist) as tar:
        members = [
            PurePosixPath(*PurePosixPath(m.name).parts[1:]) for m in tar.getmembers() if m.isfile()
        ]
    names = set(members)
    problems = []
    required = [
        PurePosixPath(n)
        for n in ("setup.py", "pyproject.toml", "MANIFEST.in", "PKG-INFO", "tests/conftest.py")
    ]
    if (source / "README.md").exists():
        required.append(PurePosixPath("README.md"))
    required += tree_package_files(source)
    required += [PurePosixPath(f"{DIST}/_speedups/{k}.pyx") for k in kernels(source)]
    problems += [f"missing {f}" for f in dict.fromkeys(required) if f not in names]
    problems += [
        f"carries build output {m}"
        for m in members
        if m.suffix in SDIST_FORBIDDEN_SUFFIXES or "__pycache__" in m.parts
    ]
    problems += [
        f"carries generated C {m}" for m in members if m.suffix == ".c" and m.parts[:1] == (DIST,)
    ]
    return problems


def wheel_problems(wheel: Path, source: Path, compiled: bool) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        members = [PurePosixPath(n) for n in zf.namelist() if not n.endswith("/")]
        (wheel_meta,) = [n for n in zf.namelist() if n.endswith(".dist-info/WHEEL")]
        purelib = "Root-Is-Purelib: true" in zf.read(wheel_meta).decode()
    names = set(members)
    problems = []
    for m in members:
        top = m.parts[0]
        if m.suffix in WHEEL_FORBIDDEN_SUFFIXES or "__pycache__" in m.parts:
            problems.append(f"carries {m}")
        elif m.suffix == ".html" and m.parts[:2] == (DIST, "_speedups"):
            problems.append(f"carries Cython annotation {m}")
        elif top not in (DIST, f"{DIST}.libs") and not top.endswith(".dist-info"):
            problems.append(f"installs outside the package: {m}")
    shipped = [f for f in tree_package_files(source) if f.suffix not in BUILD_INPUT_SUFFIXES]
    problems += [f"missing {f}" for f in shipped if f not in names]
    extensions = [m for m in members if m.suffix in (".so", ".pyd")]
    if compiled:
        if purelib:
            problems.append("WHEEL says Root-Is-Purelib: true for a compiled wheel")
        for k in kernels(source):
            found = [
                m
                for m in extensions
                if m.parent == PurePosixPath(DIST, "_speedups") and m.name.split(".")[0] == k
            ]
            if len(found) != 1:
                problems.append(f"expected one extension module for kernel {k!r}, found {found}")
        for k in kernels(source, "CORES"):
            found = [
                m
                for m in extensions
                if m.parent == PurePosixPath(DIST, "_core_c") and m.name.split(".")[0] == k
            ]
            if len(found) != 1:
                problems.append(f"expected one extension module for core {k!r}, found {found}")
        for k in kernels(source, "MODELS"):
            found = [
                m
                for m in extensions
                if m.parent == PurePosixPath(DIST, "_model_c") and m.name.split(".")[0] == k
            ]
            if len(found) != 1:
                problems.append(f"expected one extension module for model {k!r}, found {found}")
    else:
        if not purelib:
            problems.append("WHEEL says Root-Is-Purelib: false for the pure wheel")
        problems += [f"carries a compiled module {m}" for m in extensions]
    return problems


def test_requirements(wheel: Path, without: tuple[str, ...] = ()) -> list[str]:
    """The wheel's runtime requirements and its ``test`` extra, read from its METADATA, leaving
    out the distributions named in *without* (absent from a venv on purpose)."""
    with zipfile.ZipFile(wheel) as zf:
        (meta,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        lines = zf.read(meta).decode().splitlines()
    reqs = []
    for line in lines:
        if not line.startswith("Requires-Dist:"):
            continue
        requirement, _, marker = line.split(":", 1)[1].partition(";")
        requirement, marker = requirement.strip(), marker.strip()
        name = re.split(r"[\s<>=!~\[(]", requirement, maxsplit=1)[0].lower()
        if name in without:
            continue
        if "extra" in marker:
            if "'test'" in marker or '"test"' in marker:
                reqs.append(requirement)
        else:
            reqs.append(f"{requirement}; {marker}" if marker else requirement)
    return reqs


# --------------------------------------------------------------------------------------------
# Venvs


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def step(name: str, cmd: list, logs: Path, cwd: Path, env: dict, show: bool = False) -> list[str]:
    """Run one command; return [] or a one-line problem. *show* replays its output."""
    log_path = logs / f"check-{name}.log"
    with log_path.open("w") as out:
        out.write("$ " + " ".join(map(str, cmd)) + "\n")
        out.flush()
        rc = subprocess.call(
            [str(c) for c in cmd], stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env
        )
    text = log_path.read_text(errors="replace")
    if show or rc != 0:
        lines = text.splitlines()[1:]
        if not show:
            lines = lines[-60:]
        print("\n".join("    | " + line for line in lines), flush=True)
    return (
        [] if rc == 0 else [f"`{' '.join(map(str, cmd[1:4]))} ...` exited {rc} (log: {log_path})"]
    )


def make_venv(
    name: str, where: Path, installs: list[list[str]], logs: Path, env: dict
) -> tuple[Path, list[str]]:
    venv = where / name
    problems = step(f"{name}-venv", [sys.executable, "-m", "venv", venv], logs, where, env)
    python = venv_python(venv)
    for i, args in enumerate(installs):
        if problems:
            break
        cmd = [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", *args]
        problems = step(f"{name}-install{i}", cmd, logs, where, env)
    return python, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Install and test each built artifact.")
    parser.add_argument(
        "--out", type=Path, default=recipe.DEFAULT_OUT, help="artifact folder (default: wheels/out)"
    )
    parser.add_argument(
        "--source", type=Path, default=ROOT, help="source tree (default: this checkout)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the venvs (their folder is printed)"
    )
    parser.add_argument(
        "pytest_args", nargs="*", help="extra pytest arguments for the suite (after --)"
    )
    args = parser.parse_args(argv)
    out, source = args.out.resolve(), args.source.resolve()
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)

    started = time.monotonic()
    check = Check()
    artifacts = find_artifacts(out)
    print(f"wheels check on {sys.implementation.name} {sys.version.split()[0]} ({sys.executable})")
    for kind, path in artifacts.items():
        size = f"{path.stat().st_size / 1024:8.1f} KiB  {path.name}" if path else "MISSING"
        print(f"  {kind:8s} {size}")

    # 1. Contents.
    for kind, path in artifacts.items():
        t0 = time.monotonic()
        if path is None:
            check.record(
                f"{kind}: contents",
                [f"no {kind} artifact in {out}: run `python wheels/build.py all`"],
                0.0,
            )
            continue
        if kind == "sdist":
            problems = sdist_problems(path, source)
        else:
            problems = wheel_problems(path, source, compiled=(kind == "compiled"))
        check.record(f"{kind}: contents of {path.name}", problems, time.monotonic() - t0)

    # 2 and 3. Install each wheel into a fresh venv and test it there.
    # FASTHTTP_* and PYTHONPATH from the caller (.ci/run exports FASTHTTP_REQUIRE_EXTENSIONS) must
    # not leak into the venvs: the smoke test and the suite set what they need themselves.
    env = recipe.clean_env()
    env.pop("PYTHONHOME", None)
    work = Path(tempfile.mkdtemp(prefix="fasthttp-check-"))
    run_dir = work / "run"  # an empty cwd: nothing here can be imported as fasthttp
    run_dir.mkdir()
    plans = []  # (kind, how it is installed, pip install argument lists, smoke args, suite args)
    if artifacts["compiled"]:
        wheel = artifacts["compiled"]
        how = "with its dependencies and the test extra"
        plans.append(("compiled", how, [[f"{wheel}[test]"]], ["--expect", "compiled"], []))
    if artifacts["pure"]:
        wheel = artifacts["pure"]
        how = "--no-deps, then its requirements but uvloop, and the test extra"
        installs = [["--no-deps", str(wheel)], test_requirements(wheel, without=("uvloop",))]
        # uvloop is left out of this venv on purpose: its loop-parametrized tests skip.
        plans.append(("pure", how, installs, ["--expect", "pure", "--no-uvloop"], ["--pure", "--allow-missing", "uvloop"]))
    try:
        for kind, how, installs, smoke_args, suite_args in plans:
            t0 = time.monotonic()
            python, problems = make_venv(f"venv-{kind}", work, installs, logs, env)
            label = f"{kind}: fresh venv, pip install {how}"
            if not check.record(label, problems, time.monotonic() - t0):
                continue
            t0 = time.monotonic()
            problems = step(
                f"{kind}-smoke",
                [python, HERE / "smoke.py", *smoke_args],
                logs,
                run_dir,
                env,
                show=True,
            )
            check.record(f"{kind}: smoke test", problems, time.monotonic() - t0)
            t0 = time.monotonic()
            suite = [
                python,
                HERE / "suite.py",
                "--source",
                source,
                *suite_args,
                "--",
                "-q",
                "--tb=short",
                *args.pytest_args,
            ]
            problems = step(f"{kind}-suite", suite, logs, run_dir, env, show=True)
            check.record(
                f"{kind}: test suite against the installed wheel", problems, time.monotonic() - t0
            )
    finally:
        if args.keep:
            print(f"venvs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    total = time.monotonic() - started
    print(f"\nwheels check took {total:.0f}s:")
    for name, seconds in check.timings:
        print(f"  {seconds:6.1f}s  {name}")
    print(f"wheels check: {check.passed} passed, {check.failed} failed")
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
