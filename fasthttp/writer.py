"""Response-head serialization (RFC 9112 §4, RFC 9110 §6.6).

Facade: the compiled twin (``fasthttp._speedups.writer``) unless it is missing or
``FASTHTTP_NO_EXTENSIONS`` is set, then the pure twin (``fasthttp._pure.writer``).
"""

from ._compat import NO_EXTENSIONS, register

if not NO_EXTENSIONS:
    try:
        from ._speedups import writer as _impl
    except ImportError:  # no compiled wheel for this platform
        from ._pure import writer as _impl
else:
    from ._pure import writer as _impl

register("writer", _impl)

__all__ = _impl.__all__
globals().update({n: getattr(_impl, n) for n in __all__})
