"""Type stubs for the compiled small-JSON encoder (twin of ``fasthttp._pure.jsontext``)."""

__all__ = ("MAX_ITEMS", "MAX_DEPTH", "MAX_BYTES", "FASTER_THAN_ORJSON", "encode_simple")

MAX_ITEMS: int
MAX_DEPTH: int
MAX_BYTES: int
FASTER_THAN_ORJSON: bool

def encode_simple(value: object) -> bytes | None:
    """*value* as compact JSON bytes if it is simple (see the pure twin), else None."""
