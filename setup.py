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
import tempfile
import traceback

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.extension import Extension

KERNELS = ("headers", "chunked", "parser", "responseparser", "ranges", "writer", "wsframe", "sockio", "contextcall", "jsontext")
# The engine's compiled modules: fasthttp/_core_py/<name>.py (the pure twin) compiled by Cython's
# pure-Python mode, with its .pxd, into fasthttp._core_c.<name> (see fasthttp/_core_py/connection.py).
CORES = ("connection",)
# The message model's compiled modules, the same way: fasthttp/_model_py/<name>.py with its .pxd
# into fasthttp._model_c.<name> (fasthttp/_model_py/request.py).
MODELS = ("request",)


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
    """build_ext that degrades to a pure install unless extensions are required.

    A fallback never keeps compiled objects: build_ext skips an extension whose output in build/
    (or, --inplace, in the package) is newer than its sources, so a tree built once with a
    compiler would otherwise ship those stale objects from a build without one. The compiler is
    probed first; when it does not work, or an extension fails, its outputs are deleted."""

    def run(self):
        try:
            super().run()
        except Exception:
            self._fail("the build step")

    def build_extensions(self):
        if self.extensions and not self._compiler_works():
            for ext in self.extensions:
                self._discard(ext)
                self._fail(f"{ext.name} (the C compiler does not work)")
            return
        super().build_extensions()

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception:
            self._discard(ext)
            self._fail(ext.name)

    def _compiler_works(self):
        with tempfile.TemporaryDirectory() as tmp:
            probe = os.path.join(tmp, "probe.c")
            with open(probe, "w") as f:
                f.write("int fasthttp_probe(void) { return 0; }\n")
            try:
                self.compiler.compile([probe], output_dir=tmp)
            except Exception:
                return False
        return True

    def _discard(self, ext):
        inplace = self.inplace
        try:
            for self.inplace in (0, 1):
                path = self.get_ext_fullpath(ext.name)
                if os.path.exists(path):
                    os.remove(path)
        finally:
            self.inplace = inplace

    def _fail(self, what):
        if REQUIRE_EXTENSIONS:
            if sys.exc_info()[1] is not None:
                raise
            raise RuntimeError(f"fasthttp could not compile {what}")
        if sys.exc_info()[1] is not None:
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
    ] + [
        Extension(f"fasthttp._core_c.{name}", [f"fasthttp/_core_py/{name}.py"])
        for name in CORES
    ] + [
        Extension(f"fasthttp._model_c.{name}", [f"fasthttp/_model_py/{name}.py"])
        for name in MODELS
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
                # Annotations are for mypy: the .pxd files give Cython its types.
                "annotation_typing": False,
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
