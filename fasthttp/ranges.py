"""Byte ranges (RFC 9110 §14): Range parsing, Content-Range and multipart/byteranges framing.

Facade: the compiled twin (``fasthttp._speedups.ranges``) unless it is missing or
``FASTHTTP_NO_EXTENSIONS`` is set, then the pure twin (``fasthttp._pure.ranges``).
"""

from ._compat import NO_EXTENSIONS, register

if not NO_EXTENSIONS:
    try:
        from ._speedups import ranges as _impl
    except ImportError:  # no compiled wheel for this platform
        from ._pure import ranges as _impl
else:
    from ._pure import ranges as _impl

register("ranges", _impl)

__all__ = _impl.__all__
globals().update({n: getattr(_impl, n) for n in __all__})
