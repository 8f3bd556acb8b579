"""The one switch between compiled kernels and their pure-Python twins.

Only this module reads ``FASTHTTP_NO_EXTENSIONS`` (STYLE.md, habit 1). Every facade module
(``fasthttp.parser``, ``fasthttp.headers``, ...) picks its implementation with :func:`load`,
behind a ``TYPE_CHECKING`` branch that shows type checkers the pure twin's names (STYLE.md,
habit 12)::

    from ._compat import load

    __all__ = ("RequestParser", ...)

    if TYPE_CHECKING:
        from ._pure.parser import RequestParser, ...
    else:
        _impl = load("parser")
        RequestParser = _impl.RequestParser
        ...

:func:`load` imports the compiled module, or the pure twin when extensions are off or the
compiled one cannot be imported, and records which one it got with :func:`register`, so
:func:`fasthttp.speedups_enabled` can tell the truth about every kernel, not only the first one
imported.

The facades import this module, never the reverse: importing ``fasthttp`` imports every facade
(the package and the layers above use them all), so by the time anyone can ask
:func:`kernel_implementations`, each facade has registered itself.
"""

from __future__ import annotations

import importlib
import os
import types

__all__ = ("NO_EXTENSIONS", "NO_ORJSON", "KERNELS", "CORES", "MODELS", "compiled_module", "pure_module", "load", "register", "kernel_implementations", "kernel_report", "twins")


def _flag(name: str) -> bool:
    # "0", "false", "no" and the empty string mean off, so `FASTHTTP_NO_EXTENSIONS=0` does what it says.
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


NO_EXTENSIONS: bool = _flag("FASTHTTP_NO_EXTENSIONS")

#: ``FASTHTTP_NO_ORJSON=1``: serialise JSON with the standard library even where orjson is
#: installed (``fasthttp.responses.json_dumps``), to run or test the path of platforms without it.
NO_ORJSON: bool = _flag("FASTHTTP_NO_ORJSON")

#: The byte-level kernels, each a facade ``fasthttp.<name>`` over ``_speedups.<name>`` and
#: ``_pure.<name>`` (wheels/check.py reads this tuple without importing the tree).
KERNELS = ("headers", "chunked", "parser", "responseparser", "ranges", "writer", "wsframe", "sockio", "contextcall", "jsontext")

#: The engine's compiled modules: ``fasthttp._core_c.<name>``, compiled from the pure twin
#: ``fasthttp._core_py.<name>`` (one source, Cython's pure-Python mode), picked by the engine
#: module that uses it with the same switch and recorded with :func:`register` like a kernel.
CORES = ("connection",)

#: The message model's compiled modules: ``fasthttp._model_c.<name>``, compiled from the pure
#: twin ``fasthttp._model_py.<name>`` the same way (``request``: the storage of a Request).
MODELS = ("request",)

_COMPILED_PACKAGES = ("fasthttp._speedups.", "fasthttp._core_c.", "fasthttp._model_c.")


def compiled_module(name: str) -> str:
    """The compiled module of the kernel or core *name*: ``fasthttp._speedups.parser``,
    ``fasthttp._core_c.connection``, ``fasthttp._model_c.request``."""
    if name in CORES:
        return f"fasthttp._core_c.{name}"
    if name in MODELS:
        return f"fasthttp._model_c.{name}"
    return f"fasthttp._speedups.{name}"

_IN_USE: dict[str, str] = {}


def load(name: str) -> types.ModuleType:
    """The twin of the kernel, core or model *name* this process uses, recorded with
    :func:`register`: the compiled module (:func:`compiled_module`) unless extensions are off or
    it cannot be imported (no compiled wheel for this platform), else its pure twin
    (``fasthttp._pure.<name>``, ``fasthttp._core_py.<name>``, ``fasthttp._model_py.<name>``)."""
    module: types.ModuleType | None = None
    if not NO_EXTENSIONS:
        try:
            module = importlib.import_module(compiled_module(name))
        except ImportError:  # no compiled wheel for this platform: kernel_report says so
            pass
    if module is None:
        module = importlib.import_module(pure_module(name))
    register(name, module)
    return module


def pure_module(name: str) -> str:
    """The pure twin of the kernel, core or model *name* (the executable specification)."""
    if name in CORES:
        return f"fasthttp._core_py.{name}"
    if name in MODELS:
        return f"fasthttp._model_py.{name}"
    return f"fasthttp._pure.{name}"


def register(kernel: str, module: types.ModuleType) -> None:
    """Record which twin the facade for *kernel* (a kernel or a core) is using ("c" or "py")."""
    _IN_USE[kernel] = "c" if module.__name__.startswith(_COMPILED_PACKAGES) else "py"


def kernel_implementations() -> dict[str, str]:
    """Map each kernel and core name to the twin in use, ``"c"`` or ``"py"``.

    Complete once ``fasthttp`` is imported (see the module docstring); ``tests/test_compat.py``
    checks that every name of :data:`KERNELS`, :data:`CORES` and :data:`MODELS` is there in a fresh process.
    """
    return dict(_IN_USE)


def kernel_report() -> tuple[bool, str]:
    """``(degraded, sentence)``: which kernels run, and why the pure twins if they do.
    *degraded* is True when a compiled kernel was wanted but could not be imported (a build that
    fell back, a missing wheel): the server logs that as a warning at start."""
    used = kernel_implementations()
    pure = sorted(k for k, v in used.items() if v == "py")
    if not pure:
        return False, "kernels: compiled (Cython)"
    if NO_EXTENSIONS:
        return False, "kernels: pure Python (FASTHTTP_NO_EXTENSIONS is set)"
    reasons = []
    for kernel in pure:
        try:
            importlib.import_module(compiled_module(kernel))
        except ImportError as exc:
            reasons.append(f"{kernel}: {exc}")
    why = "; ".join(reasons) or "not importable"
    return True, (
        f"kernels: pure Python for {', '.join(pure)}, several times slower: the compiled modules "
        f"cannot be imported ({why}); reinstall with a C compiler and Cython "
        "(FASTHTTP_REQUIRE_EXTENSIONS=1 makes a failed build fatal)"
    )


def twins(family: str) -> types.SimpleNamespace:
    """The kernel modules of one family, ``"_speedups"`` or ``"_pure"``, as a namespace.

    Used by the test and benchmark fixtures (``impl.parser``, ``impl.headers``, ...) and by the
    guard tests; importing a missing compiled family raises ImportError on purpose.
    """
    ns = types.SimpleNamespace(name="c" if family == "_speedups" else "py")
    for kernel in KERNELS:
        setattr(ns, kernel, importlib.import_module(f"fasthttp.{family}.{kernel}"))
    return ns

