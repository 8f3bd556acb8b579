"""The one switch between compiled kernels and their pure-Python twins.

Only this module reads ``FASTHTTP_NO_EXTENSIONS`` (STYLE.md, habit 1). Every facade module
(``fasthttp.parser``, ``fasthttp.headers``, ...) picks its implementation with the same idiom::

    from ._compat import NO_EXTENSIONS
    if not NO_EXTENSIONS:
        try:
            from ._speedups import parser as _impl
        except ImportError:  # no compiled wheel for this platform
            from ._pure import parser as _impl
    else:
        from ._pure import parser as _impl

and records which one it got with :func:`register`, so :func:`fasthttp.speedups_enabled` can tell
the truth about every kernel, not only the first one imported.
"""

from __future__ import annotations

import os

__all__ = ("NO_EXTENSIONS", "register", "kernel_implementations")


def _flag(name: str) -> bool:
    # "0", "false", "no" and the empty string mean off, so `FASTHTTP_NO_EXTENSIONS=0` does what it says.
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


NO_EXTENSIONS: bool = _flag("FASTHTTP_NO_EXTENSIONS")

_KERNELS: dict[str, str] = {}


def register(kernel: str, module: object) -> None:
    """Record which twin the facade for *kernel* is using ("c" or "py")."""
    _KERNELS[kernel] = "c" if module.__name__.startswith("fasthttp._speedups.") else "py"


def kernel_implementations() -> dict[str, str]:
    """Map each kernel name to the twin in use, ``"c"`` or ``"py"``."""
    # Import every facade so the answer covers all kernels even before first use.
    from . import chunked, headers, parser, ranges, writer  # noqa: F401

    return dict(_KERNELS)


def twins(family: str):
    """The kernel modules of one family, ``"_speedups"`` or ``"_pure"``, as a namespace.

    Used by the test and benchmark fixtures (``impl.parser``, ``impl.headers``, ...) and by the
    guard tests; importing a missing compiled family raises ImportError on purpose.
    """
    import importlib
    import types

    ns = types.SimpleNamespace(name="c" if family == "_speedups" else "py")
    for kernel in KERNELS:
        setattr(ns, kernel, importlib.import_module(f"fasthttp.{family}.{kernel}"))
    return ns


KERNELS = ("headers", "chunked", "parser", "ranges", "writer")
