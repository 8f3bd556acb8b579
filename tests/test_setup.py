"""The build policy in setup.py: compile the kernels, or fall back loudly, or fail when required.

A compiler that always fails (``CC=/bin/false``) stands in for a platform that cannot build the
extensions. The build runs in a snapshot of the package, never in this tree, and needs the
source checkout and Cython, so it skips where the suite runs against an installed wheel.
"""

from __future__ import annotations

import importlib.machinery
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from fasthttp._compat import KERNELS, NO_EXTENSIONS

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.skipif(not (ROOT / "setup.py").is_file(), reason="needs the source checkout"),
    pytest.mark.skipif(NO_EXTENSIONS, reason="the build is exercised once, in the compiled run"),
]


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    pytest.importorskip("Cython")
    root = tmp_path_factory.mktemp("build")
    shutil.copy2(ROOT / "setup.py", root / "setup.py")
    shutil.copy2(ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(
        ROOT / "fasthttp",
        root / "fasthttp",
        ignore=shutil.ignore_patterns("*.so", "*.c", "*.html", "__pycache__"),
    )
    return root


def build(root: Path, **env_changes: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FASTHTTP_")}
    env.update(CC="/bin/false", **env_changes)
    return subprocess.run(
        [sys.executable, "setup.py", "build_ext", "--inplace"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_compile_failure_falls_back_to_the_pure_twins_with_a_loud_warning(snapshot):
    result = build(snapshot)
    assert result.returncode == 0, result.stderr[-2000:]
    for kernel in KERNELS:
        assert f"WARNING: fasthttp could not compile fasthttp._speedups.{kernel}" in result.stderr
    assert not list((snapshot / "fasthttp" / "_speedups").glob("*.so"))


def test_a_compile_failure_is_fatal_when_extensions_are_required(snapshot):
    result = build(snapshot, FASTHTTP_REQUIRE_EXTENSIONS="1")
    assert result.returncode != 0
    assert "WARNING: fasthttp could not compile" not in result.stderr


def test_no_extensions_builds_nothing(snapshot):
    result = build(snapshot, FASTHTTP_NO_EXTENSIONS="1")
    assert result.returncode == 0
    assert "could not compile" not in result.stderr
    assert not list((snapshot / "fasthttp" / "_speedups").glob("*.so"))


def test_the_two_switches_contradict_each_other(snapshot):
    result = build(snapshot, FASTHTTP_NO_EXTENSIONS="1", FASTHTTP_REQUIRE_EXTENSIONS="1")
    assert result.returncode != 0
    assert "contradict" in result.stderr


def test_a_fallback_build_never_reuses_stale_compiled_objects(snapshot, tmp_path):
    # issue 11: a build directory left by a compiled build made `CC=/bin/false pip install .`
    # reuse the compiled objects (build_ext skips an extension whose output is newer).
    root = tmp_path / "tree"
    shutil.copytree(snapshot, root, ignore=shutil.ignore_patterns("*.so", "build"))
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    build_lib = root / "build" / f"lib.{sysconfig.get_platform()}-{sys.implementation.cache_tag}" / "fasthttp" / "_speedups"
    build_lib.mkdir(parents=True)
    future = time.time() + 3600  # newer than any source: build_ext would skip the compile
    stale = [build_lib / f"{k}{suffix}" for k in KERNELS] + [root / "fasthttp" / "_speedups" / f"{k}{suffix}" for k in KERNELS]
    for path in stale:
        path.write_bytes(b"stale")
        os.utime(path, (future, future))
    result = build(root)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "the C compiler does not work" in result.stderr
    assert not list(root.rglob(f"*{suffix}")), "a stale compiled object survived the fallback"
