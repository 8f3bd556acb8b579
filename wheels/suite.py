#!/usr/bin/env python3
"""Run fasthttp's test suite against the *installed* package, never the source tree.

    python wheels/suite.py [--source DIR] [--pure] [-- PYTEST_ARGS...]

Used by wheels/check.py inside each fresh venv and by cibuildwheel's test-command.

How the source tree is kept out: ``DIR/tests`` and ``DIR/pyproject.toml`` (for the pytest
configuration: strict markers, warnings as errors) are copied into an empty temporary directory,
and pytest runs there, in this process. Nothing in that directory is a ``fasthttp`` package, so
neither pytest's rootdir/conftest ``sys.path`` insertion nor the current directory can shadow the
installed one. After the run, the ``fasthttp`` that the tests actually imported is checked to come
from site-packages; if it did not, the run fails whatever pytest said.

``--pure`` runs with ``FASTHTTP_NO_EXTENSIONS=1`` (the configuration ``.ci/run`` already uses for
the pure pass), which the conftest reads to drop the compiled (``c``) runs: the pure wheel has no
compiled kernels to test. A suite that collects no test fails: a wheel check that ran nothing
proved nothing. So does one whose tests skip because a module is missing
(``pytest.importorskip``): every test dependency belongs in the ``test`` extra that the wheel
venvs install.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


class ImportSkips:
    """pytest plugin: the modules whose absence made tests skip (``pytest.importorskip``).

    A test dependency missing from the ``test`` extra would otherwise turn whole groups of tests
    (TLS, say) into quiet skips in every wheel venv, while passing on a developer's machine.
    """

    def __init__(self) -> None:
        self.missing: set[str] = set()

    def pytest_runtest_logreport(self, report) -> None:
        self._note(report)

    def pytest_collectreport(self, report) -> None:  # importorskip at module level
        self._note(report)

    def _note(self, report) -> None:
        if report.skipped and isinstance(report.longrepr, tuple):
            found = re.search(r"could not import '([^']+)'", str(report.longrepr[2]))
            if found:
                self.missing.add(found.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the test suite against installed fasthttp.")
    parser.add_argument(
        "--source",
        type=Path,
        default=HERE.parent,
        help="folder holding tests/ and pyproject.toml (default: the parent of wheels/)",
    )
    parser.add_argument("--pure", action="store_true", help="set FASTHTTP_NO_EXTENSIONS=1")
    parser.add_argument(
        "--allow-import-skips",
        action="store_true",
        help="do not fail when tests skip because a module cannot be imported",
    )
    parser.add_argument(
        "--allow-missing",
        action="append",
        default=[],
        metavar="MODULE",
        help="do not fail when tests skip because this module is absent on purpose (repeatable)",
    )
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    source = args.source.resolve()

    if args.pure:
        # Before anything imports fasthttp: _compat reads the switch once, at import.
        os.environ["FASTHTTP_NO_EXTENSIONS"] = "1"
    else:
        os.environ.pop("FASTHTTP_NO_EXTENSIONS", None)

    # This script's folder is sys.path[0]; it holds no package, but drop it and the source root
    # anyway so nothing but site-packages can provide `fasthttp`.
    banned = {HERE, source}
    sys.path[:] = [p for p in sys.path if not p or Path(p).resolve() not in banned]

    import pytest

    with tempfile.TemporaryDirectory(prefix="fasthttp-suite-") as tmp:
        work = Path(tmp)
        shutil.copytree(
            source / "tests",
            work / "tests",
            ignore=shutil.ignore_patterns("__pycache__", ".hypothesis", ".pytest_cache"),
        )
        shutil.copy2(source / "pyproject.toml", work / "pyproject.toml")
        if (source / "examples").is_dir():  # tests/test_examples.py runs them
            shutil.copytree(source / "examples", work / "examples", ignore=shutil.ignore_patterns("__pycache__"))
        os.chdir(work)
        try:
            print(f"suite: {source / 'tests'} copied to {work}, pytest runs there", flush=True)
            skips = ImportSkips()
            code = pytest.main(["-p", "no:cacheprovider", *args.pytest_args], plugins=[skips])
        finally:
            os.chdir(HERE)  # leave the directory so it can be removed (Windows)

    fasthttp = sys.modules.get("fasthttp")
    roots = {Path(sysconfig.get_paths()[k]).resolve() for k in ("purelib", "platlib")}
    where = Path(fasthttp.__file__).resolve() if fasthttp else None
    if where is None or not any(root in where.parents for root in roots):
        print(f"suite: FAILED: the tests imported fasthttp from {where}, not from site-packages")
        return 1
    print(f"suite: the tests ran against {where.parent}")
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        print("suite: FAILED: no test was collected")
        return 1
    missing = skips.missing - set(args.allow_missing)
    if missing and not args.allow_import_skips:
        print(
            "suite: FAILED: tests were skipped for want of "
            + ", ".join(sorted(missing))
            + ": add it to the `test` extra in pyproject.toml (or pass --allow-import-skips)"
        )
        return 1
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
