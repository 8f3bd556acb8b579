"""Packaging: what the sdist and the pure-Python wheel carry.

The sdist must be able to build every wheel on its own (every kernel's ``.pyx``, ``.pxd`` and
stub, the build files), and must not ship generated C or compiled objects: Cython is a build
requirement. A wheel ships the package's Python modules and stubs only: no ``.pyx``, ``.pxd`` or
``.c``, and the pure wheel no compiled module at all.

Strategy: snapshot this checkout the way ``wheels/build.py`` does (``git ls-files``), plant the
build leftovers a developer's tree really holds (Cython's ``.c``, an in-place ``.so``, byte code),
and build the sdist and the pure wheel there through setuptools' PEP 517 hooks in a subprocess,
without build isolation and with ``FASTHTTP_NO_EXTENSIONS=1``: no network, no compiler, a few
seconds. The compiled wheel is checked by ``wheels/check.py``, which builds it from the sdist.

These tests need the source checkout, so they skip where the suite runs from a copy of ``tests/``
against an installed wheel (``wheels/suite.py``).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from fasthttp._compat import KERNELS

ROOT = Path(__file__).resolve().parent.parent
IN_CHECKOUT = (ROOT / "setup.py").is_file() and (ROOT / "wheels" / "build.py").is_file()

pytestmark = pytest.mark.skipif(
    not IN_CHECKOUT, reason="needs the source checkout (the suite runs from a copy of tests/)"
)

# Build leftovers planted in the snapshot, as `cythonize -i` and an interpreter leave them.
LEFTOVERS = (
    "fasthttp/_speedups/parser.c",
    "fasthttp/_speedups/parser.cpython-311-x86_64-linux-gnu.so",
    "fasthttp/_speedups/parser.html",
    "fasthttp/__pycache__/parser.cpython-311.pyc",
)

BUILD = """
import sys
from setuptools import build_meta
out = sys.argv[1]
sdist = build_meta.build_sdist(out)
wheel = build_meta.build_wheel(out)
print("BUILT", sdist, wheel)
"""


def _recipe():
    spec = importlib.util.spec_from_file_location(
        "_fasthttp_wheels_build", ROOT / "wheels" / "build.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _package_files(*suffixes: str | None) -> list[PurePosixPath]:
    """Files of the package in this checkout with one of *suffixes* (``None``: every file)."""
    return [
        PurePosixPath(name)
        for name in _recipe().source_files(ROOT)
        if name.startswith("fasthttp/")
        and (None in suffixes or PurePosixPath(name).suffix in suffixes)
    ]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Build the sdist and the pure wheel of a snapshot of this checkout, once per module."""
    base = tmp_path_factory.mktemp("packaging")
    tree = _recipe().snapshot(ROOT, base / "tree")
    for name in LEFTOVERS:
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text("leftover\n")
    out = base / "dist"
    out.mkdir()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("FASTHTTP_") and k != "PYTHONPATH"
    }
    env["FASTHTTP_NO_EXTENSIONS"] = "1"
    result = subprocess.run(
        [sys.executable, "-c", BUILD, str(out)],
        check=False,
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    sdist_name, wheel_name = result.stdout.rsplit("BUILT ", 1)[1].split()
    with tarfile.open(out / sdist_name) as tar:
        sdist = {
            PurePosixPath(*PurePosixPath(m.name).parts[1:]) for m in tar.getmembers() if m.isfile()
        }
    with zipfile.ZipFile(out / wheel_name) as zf:
        wheel = {PurePosixPath(n) for n in zf.namelist() if not n.endswith("/")}
        (meta,) = [n for n in zf.namelist() if n.endswith(".dist-info/WHEEL")]
        wheel_meta = zf.read(meta).decode()
        (metadata,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        wheel_metadata = zf.read(metadata).decode()
    return {"sdist": sdist, "wheel_name": wheel_name, "wheel": wheel, "wheel_meta": wheel_meta, "metadata": wheel_metadata}


def test_sdist_contains_a_pyx_for_every_kernel(built):
    missing = [
        k for k in KERNELS if PurePosixPath(f"fasthttp/_speedups/{k}.pyx") not in built["sdist"]
    ]
    assert missing == []


def test_sdist_contains_every_file_of_the_package(built):
    wanted = _package_files(None)
    assert {".py", ".pyx", ".typed"} <= {f.suffix for f in wanted}
    assert [f for f in wanted if f not in built["sdist"]] == []


def test_sdist_contains_the_build_files_and_the_tests(built):
    wanted = [
        "setup.py",
        "pyproject.toml",
        "MANIFEST.in",
        "tests/conftest.py",
        "tests/test_packaging.py",
    ]
    assert [f for f in wanted if PurePosixPath(f) not in built["sdist"]] == []


def test_sdist_leaves_out_generated_c_compiled_modules_and_byte_code(built):
    assert [f for f in LEFTOVERS if PurePosixPath(f) in built["sdist"]] == []


def test_pure_wheel_is_tagged_for_any_python_3_platform(built):
    assert built["wheel_name"].endswith("-py3-none-any.whl")
    assert "Root-Is-Purelib: true" in built["wheel_meta"]


def test_pure_wheel_contains_every_file_of_the_package_but_the_build_inputs(built):
    build_inputs = {".pyx", ".pxd", ".c", ".h"}
    wanted = [f for f in _package_files(None) if f.suffix not in build_inputs]
    assert PurePosixPath("fasthttp/py.typed") in wanted
    assert [f for f in wanted if f not in built["wheel"]] == []


def test_pure_wheel_contains_no_kernel_sources_generated_c_or_compiled_modules(built):
    banned = {".pyx", ".pxd", ".c", ".h", ".so", ".pyd", ".o", ".pyc"}
    found = [f for f in built["wheel"] if f.suffix in banned]
    found += [
        f
        for f in built["wheel"]
        if f.suffix == ".html" and f.parts[:2] == ("fasthttp", "_speedups")
    ]
    assert sorted(map(str, found)) == []


def test_pure_wheel_installs_only_the_fasthttp_package(built):
    tops = {f.parts[0] for f in built["wheel"]}
    assert {t for t in tops if t != "fasthttp" and not t.endswith(".dist-info")} == set()


def test_the_license_file_is_in_the_sdist_and_the_wheel(built):
    # issue 11: MIT was declared and MANIFEST.in included LICENSE*, but there was no file.
    assert PurePosixPath("LICENSE") in built["sdist"]
    assert [f for f in built["wheel"] if f.parts[0].endswith(".dist-info") and f.name.startswith("LICENSE")]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_the_metadata_has_full_classifiers_and_no_invented_urls(built):
    classifiers = [line.split(": ", 1)[1] for line in built["metadata"].splitlines() if line.startswith("Classifier: ")]
    for wanted in (
        "Development Status :: 3 - Alpha",
        "License :: OSI Approved :: MIT License",
        "Programming Language :: Python :: 3.10",
        "Typing :: Typed",
    ):
        assert wanted in classifiers
    # No public home exists yet: no Project-URL rather than a made-up host.
    assert "Project-URL:" not in built["metadata"]
