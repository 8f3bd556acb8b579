"""Chunked transfer coding (RFC 9112 §7.1): a bounded decoder and an encoder with trailers.

Facade: the compiled twin (``fasthttp._speedups.chunked``) unless it is missing or
``FASTHTTP_NO_EXTENSIONS`` is set, then the pure twin (``fasthttp._pure.chunked``).
"""

from ._compat import NO_EXTENSIONS, register

if not NO_EXTENSIONS:
    try:
        from ._speedups import chunked as _impl
    except ImportError:  # no compiled wheel for this platform
        from ._pure import chunked as _impl
else:
    from ._pure import chunked as _impl

register("chunked", _impl)

__all__ = _impl.__all__
globals().update({n: getattr(_impl, n) for n in __all__})
