"""Build policy for fasthttp's compiled kernels.

* Normal install: compile every kernel in ``fasthttp/_speedups`` with Cython. If the compiler is
  missing or a module fails to build, warn loudly and install the pure-Python twins instead, so
  ``pip install`` still works on platforms without a compiled wheel (as MarkupSafe does).
* ``FASTHTTP_REQUIRE_EXTENSIONS=1`` (wheel builds, CI): a compile failure is fatal.
* ``FASTHTTP_NO_EXTENSIONS=1``: build nothing; a pure install (and the ``py3-none-any`` wheel).

Metadata and dependencies live in pyproject.toml; this file only declares the extensions.
"""

import os
import sys
import traceback

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.extension import Extension

KERNELS = ("headers", "chunked", "parser", "ranges", "writer", "wsframe")


def _flag(name):
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


NO_EXTENSIONS = _flag("FASTHTTP_NO_EXTENSIONS")
REQUIRE_EXTENSIONS = _flag("FASTHTTP_REQUIRE_EXTENSIONS")
if NO_EXTENSIONS and REQUIRE_EXTENSIONS:
    sys.exit("FASTHTTP_NO_EXTENSIONS and FASTHTTP_REQUIRE_EXTENSIONS contradict each other")


def _warn(message):
    bar = "*" * 78
    sys.stderr.write(f"\n{bar}\n{message}\n{bar}\n\n")


class OptionalBuildExt(build_ext):
    """build_ext that degrades to a pure install unless extensions are required."""

    def run(self):
        try:
            super().run()
        except Exception:
            self._fail("the build step")

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception:
            self._fail(ext.name)

    def _fail(self, what):
        if REQUIRE_EXTENSIONS:
            raise
        traceback.print_exc()
        _warn(
            f"WARNING: fasthttp could not compile {what}.\n"
            "It will run on its pure-Python kernels, which are several times slower.\n"
            "Set FASTHTTP_REQUIRE_EXTENSIONS=1 to make this failure fatal."
        )


def _extensions():
    if NO_EXTENSIONS:
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        if REQUIRE_EXTENSIONS:
            raise
        _warn("WARNING: Cython is not installed; installing fasthttp without compiled kernels.")
        return []
    exts = [
        Extension(f"fasthttp._speedups.{name}", [f"fasthttp/_speedups/{name}.pyx"])
        for name in KERNELS
    ]
    try:
        return cythonize(
            exts,
            language_level=3,
            compiler_directives={
                "boundscheck": False,
                "wraparound": False,
                "cdivision": True,
                "embedsignature": True,
            },
        )
    except Exception:
        if REQUIRE_EXTENSIONS:
            raise
        traceback.print_exc()
        _warn("WARNING: Cython failed to translate fasthttp's kernels; installing the pure twins.")
        return []


setup(
    ext_modules=_extensions(),
    cmdclass={"build_ext": OptionalBuildExt},
)
