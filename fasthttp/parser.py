"""The incremental, strict HTTP/1.1 request parser (RFC 9112).

Facade: the compiled twin (``fasthttp._speedups.parser``) unless it is missing or
``FASTHTTP_NO_EXTENSIONS`` is set, then the pure twin (``fasthttp._pure.parser``).
"""

from ._compat import NO_EXTENSIONS, register

if not NO_EXTENSIONS:
    try:
        from ._speedups import parser as _impl
    except ImportError:  # no compiled wheel for this platform
        from ._pure import parser as _impl
else:
    from ._pure import parser as _impl

register("parser", _impl)

__all__ = _impl.__all__
globals().update({n: getattr(_impl, n) for n in __all__})
