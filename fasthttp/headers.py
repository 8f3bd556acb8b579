"""The header index: case-insensitive, multi-valued look-ups over the received bytes.

Facade: the compiled twin (``fasthttp._speedups.headers``) unless it is missing or
``FASTHTTP_NO_EXTENSIONS`` is set, then the pure twin (``fasthttp._pure.headers``).
"""

from ._compat import NO_EXTENSIONS, register

if not NO_EXTENSIONS:
    try:
        from ._speedups import headers as _impl
    except ImportError:  # no compiled wheel for this platform
        from ._pure import headers as _impl
else:
    from ._pure import headers as _impl

register("headers", _impl)

__all__ = _impl.__all__
globals().update({n: getattr(_impl, n) for n in __all__})
