"""Content codings (RFC 9110 §8.4): gzip, deflate, br and zstd, to encode responses and decode request content.

Strategy: one small table maps each coding this process can handle to its library: ``gzip`` and
``deflate`` through the standard library's ``zlib`` (encoded through ``zlib-ng`` when it is
installed, see :data:`DEFLATE_BACKEND`); ``br`` through ``brotli`` and ``zstd``
through the standard library's ``compression.zstd`` (Python 3.14+) or its backport
``backports.zstd``, both optional (``pip install fasthttp[compression]``): a coding whose library
is missing is simply not offered (:data:`AVAILABLE`).

- Encoding: :func:`encode` compresses a whole body in one call (the in-memory response path);
  :func:`encoder` gives a streaming :class:`Encoder` whose :meth:`~Encoder.chunk` compresses a
  piece *and flushes it* (``Z_SYNC_FLUSH``, brotli's ``flush``, zstd's ``FLUSH_BLOCK``), so a
  client decodes each piece as it arrives (server-sent events, MJPEG), and
  :meth:`~Encoder.finish` ends the stream.
- Decoding: :class:`DecodedBody` wraps the engine's body reader of a request whose
  ``Content-Encoding`` lists codings (applied in order, so decoded in reverse, RFC 9110 §8.4).
  Every decompression call is given an output bound: the room left under the body limit plus
  one byte, so the decoded size is checked *as it is produced* and a decompression bomb is a
  413 after at most ``limit + 1`` bytes of output, whatever its ratio (APPSEC). Truncated or
  corrupt content is a 400. ``deflate`` is the zlib format (RFC 9110 §8.4.1.2); the raw deflate
  some clients send instead is accepted too, as the RFC's note recommends.
"""

from __future__ import annotations

import importlib
import sys
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import BadRequest, ContentTooLarge

if TYPE_CHECKING:
    from .headers import Headers

try:  # optional: br (pip install brotli)
    import brotli as _brotli
except ImportError:  # pragma: no cover - depends on the environment
    _brotli = None

def _import_zstd() -> Any:
    """The standard library's zstd module (3.14+), else its backport, else None."""
    try:
        return importlib.import_module("compression.zstd")
    except ImportError:  # pragma: no cover - depends on the Python version
        pass
    try:
        return importlib.import_module("backports.zstd")
    except ImportError:  # pragma: no cover - depends on the environment
        return None


_zstd: Any = _import_zstd()  # optional: zstd


def _import_deflate() -> Any:
    """The ``zlib_ng`` module of the ``zlib-ng`` package (a faster DEFLATE encoder, optional:
    ``pip install fasthttp[compression]``), else the standard library's ``zlib``."""
    try:
        return importlib.import_module("zlib_ng.zlib_ng")
    except ImportError:  # pragma: no cover - depends on the environment
        return zlib


_deflate: Any = _import_deflate()
_ZLIB_WBITS = sys.version_info >= (3, 11)  # the standard library's zlib.compress takes wbits

#: What encodes gzip and deflate: ``"zlib-ng"`` (the ``zlib-ng`` package's ``zlib_ng`` module,
#: the same DEFLATE format, RFC 1951/1952, from SIMD-accelerated code) when installed, else
#: ``"zlib"`` (the standard library). PERF: on the 10 KB JSON document of ``benchmarks/server``
#: (``gzip-json``), level 6 takes about 49 µs with zlib-ng against 71 µs with zlib (1,014
#: against 1,001 bytes; CPU time, best of 15 runs of 200). Decoding stays with the standard
#: library's ``zlib`` (its errors are the ones :class:`Decoder` answers with a 400).
DEFLATE_BACKEND: str = "zlib" if _deflate is zlib else "zlib-ng"

__all__ = (
    "AVAILABLE",
    "DEFLATE_BACKEND",
    "DEFAULT_LEVELS",
    "LEVEL_RANGES",
    "Encoder",
    "encoder",
    "encode",
    "Decoder",
    "decoder",
    "parse_codings",
    "DecodedBody",
    "raw_limit",
)

#: The codings this process can encode and decode, in the server's order of preference
#: (a client's tie goes to the first): zstd and br compress better than gzip at equal speed.
AVAILABLE: tuple[str, ...] = tuple(
    name
    for name, present in (("zstd", _zstd is not None), ("br", _brotli is not None), ("gzip", True), ("deflate", True))
    if present
)

#: Default compression levels: fast settings that still beat gzip -6 on ratio (br 4, zstd 3).
#: gzip and deflate stay at 6, zlib's own default, by these figures for the 10 KB JSON document
#: of ``benchmarks/server`` (zlib-ng, CPU µs to encode and bytes out, best of 9 runs): level 1
#: 12 µs, 1,617 B (zlib-ng's level 1 is a different, quick algorithm: 59% larger than level 6);
#: level 2 24 µs, 1,193 B; level 4 43 µs, 1,071 B; level 6 47 µs, 1,014 B; level 9 90 µs, 979 B
#: (the standard library's zlib: level 1 27 µs, 1,206 B; level 6 70 µs, 1,001 B). With zlib-ng,
#: level 6 costs about a tenth more than level 4 for 5% fewer bytes, and nginx's default of 1
#: would send half as many bytes again; a server that would rather spend less CPU per response
#: than bytes on the wire sets ``Compression(levels={"gzip": 2})`` (half the CPU, 18% more).
DEFAULT_LEVELS: dict[str, int] = {"gzip": 6, "deflate": 6, "br": 4, "zstd": 3}

#: The levels each coding's library takes (zlib: -1 is its default; zstd: negative levels are
#: its fast modes, down to -7 here).
LEVEL_RANGES: dict[str, tuple[int, int]] = {"gzip": (-1, 9), "deflate": (-1, 9), "br": (0, 11), "zstd": (-7, 22)}

# Output bound of one decompression step when no body limit applies.
_STEP = 64 * 1024


def _check(coding: str) -> None:
    if coding not in AVAILABLE:
        raise ValueError(f"content coding {coding!r} is not available here; available: {', '.join(AVAILABLE)}")


# -- encoding --------------------------------------------------------------------------------------


def encode(coding: str, data: bytes, level: int | None = None) -> bytes:
    """*data* encoded with *coding* (one of :data:`AVAILABLE`) at *level* (its default if None)."""
    if level is None:
        level = DEFAULT_LEVELS[coding]
    if coding == "gzip" or coding == "deflate":
        wbits = 31 if coding == "gzip" else 15
        if _deflate is not zlib or _ZLIB_WBITS:
            # PERF: one call, no compressor object and no join of its two outputs (a copy).
            return _deflate.compress(data, level, wbits)  # type: ignore[no-any-return]
        z = zlib.compressobj(level, zlib.DEFLATED, wbits)
        return z.compress(data) + z.flush()
    if coding == "br" and _brotli is not None:
        return bytes(_brotli.compress(data, quality=level))
    if coding == "zstd" and _zstd is not None:
        return bytes(_zstd.compress(data, level))
    _check(coding)
    raise AssertionError(coding)  # pragma: no cover


class Encoder:
    """A streaming encoder: :meth:`chunk` compresses and flushes one piece, :meth:`finish` ends."""

    __slots__ = ("coding", "_process", "_flush", "_finish")

    def __init__(self, coding: str, process: Callable[[bytes], bytes], flush: Callable[[], bytes], finish: Callable[[], bytes]) -> None:
        self.coding = coding
        self._process = process
        self._flush = flush
        self._finish = finish

    def chunk(self, data: bytes) -> bytes:
        """*data* compressed and flushed: the client can decode all of it on arrival."""
        return self._process(data) + self._flush()

    def finish(self) -> bytes:
        """The end of the coded stream (trailer, checksum)."""
        return self._finish()


def encoder(coding: str, level: int | None = None) -> Encoder:
    """A streaming :class:`Encoder` for *coding* (one of :data:`AVAILABLE`)."""
    _check(coding)
    if level is None:
        level = DEFAULT_LEVELS[coding]
    if coding == "gzip" or coding == "deflate":
        z = _deflate.compressobj(level, _deflate.DEFLATED, 31 if coding == "gzip" else 15)
        return Encoder(coding, z.compress, lambda: z.flush(_deflate.Z_SYNC_FLUSH), z.flush)
    if coding == "br":
        assert _brotli is not None
        b = _brotli.Compressor(quality=level)
        return Encoder(coding, b.process, b.flush, b.finish)
    assert _zstd is not None
    c = _zstd.ZstdCompressor(level)
    return Encoder(coding, c.compress, lambda: c.flush(c.FLUSH_BLOCK), lambda: c.flush(c.FLUSH_FRAME))


# -- decoding --------------------------------------------------------------------------------------


def _too_large(limit: int) -> ContentTooLarge:
    return ContentTooLarge(f"the decoded content is larger than {limit} bytes")


def _corrupt(coding: str) -> BadRequest:
    return BadRequest(f"the request content is not valid {coding} (corrupt or truncated)")


class Decoder:
    """Decodes one content coding, with a bound on the output of every step.

    :meth:`step` ``(data, bound)`` returns up to *bound* bytes of output and whether more
    output is pending for the input already given (then call it again with ``b""``);
    :meth:`end` raises a 400 unless the coded stream ended where the content did.
    Concatenated members (gzip) and frames (zstd) are decoded one after the other.
    """

    __slots__ = ("coding", "_obj", "_started")

    def __init__(self, coding: str) -> None:
        _check(coding)
        self.coding = coding
        self._obj: Any = None
        self._started = False

    def _new(self, first: bytes) -> Any:
        coding = self.coding
        if coding == "gzip":
            return zlib.decompressobj(31)
        if coding == "deflate":
            # RFC 9110 §8.4.1.2: the zlib format; raw deflate (no zlib header) is what some
            # clients send, recognised by a header that fails the zlib check (RFC 1950 §2.2).
            zlib_header = len(first) >= 2 and first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0
            return zlib.decompressobj(15 if zlib_header else -15)
        if coding == "br":
            assert _brotli is not None
            return _brotli.Decompressor()
        return _zstd.ZstdDecompressor()

    def step(self, data: bytes, bound: int) -> tuple[bytes, bool]:
        """Decode *data* into at most *bound* bytes; ``(output, more pending)``."""
        try:
            return self._step(data, bound)
        except (zlib.error, EOFError) as exc:
            raise _corrupt(self.coding) from exc
        except Exception as exc:  # brotli.error, ZstdError
            if _brotli is not None and isinstance(exc, _brotli.error) or _zstd is not None and isinstance(exc, _zstd.ZstdError):
                raise _corrupt(self.coding) from exc
            raise

    def _step(self, data: bytes, bound: int) -> tuple[bytes, bool]:
        obj = self._obj
        if obj is None:
            if not data:
                return b"", False
            obj = self._obj = self._new(data)
            self._started = True
        coding = self.coding
        if coding == "br":
            out = obj.process(data, output_buffer_limit=bound)
            # NOTE: output may still be pending inside the decoder once its input is taken:
            # ask again (with no input) while a step yields something and the stream goes on.
            return out, not obj.can_accept_more_data() or bool(out) and not obj.is_finished()
        if coding == "zstd":
            if obj.eof:
                return self._next_member(obj.unused_data + data, bound)
            out = obj.decompress(data, bound)
            if obj.eof and obj.unused_data:
                return out, True
            return out, not obj.eof and not obj.needs_input
        # zlib: the tail the bound left unconsumed is fed again on the next step
        if obj.eof:
            return self._next_member(obj.unused_data + data, bound)
        tail = obj.unconsumed_tail
        out = obj.decompress(tail + data if tail else data, bound)
        if obj.eof and obj.unused_data:
            return out, True
        return out, bool(obj.unconsumed_tail)

    def _next_member(self, rest: bytes, bound: int) -> tuple[bytes, bool]:
        if not rest:
            return b"", False
        if self.coding == "deflate":
            raise _corrupt(self.coding)  # one zlib stream only: anything after it is garbage
        self._obj = None
        return self._step(rest, bound)

    def end(self) -> None:
        """The content ended: raise a 400 unless the coded stream is complete."""
        obj = self._obj
        if obj is None:
            if self._started:
                return
            raise _corrupt(self.coding)  # empty content is not a valid coded stream
        done = obj.is_finished() if self.coding == "br" else obj.eof
        if not done:
            raise _corrupt(self.coding)


def decoder(coding: str) -> Decoder:
    """A :class:`Decoder` for *coding* (one of :data:`AVAILABLE`)."""
    return Decoder(coding)


def parse_codings(values: list[str]) -> list[str]:
    """The content codings of ``Content-Encoding`` field values in the order applied, lower-case,
    ``x-gzip`` read as ``gzip`` (RFC 9110 §8.4.1.3) and ``identity`` left out."""
    out = []
    for value in values:
        for item in value.split(","):
            name = item.strip(" \t").lower()
            if name == "x-gzip":
                name = "gzip"
            if name and name != "identity":
                out.append(name)
    return out


def raw_limit(limit: int | None) -> int | None:
    """The limit on *coded* bytes for a decoded limit of *limit*: a little more, since coding
    incompressible content adds a few bytes (deflate: 5 per 16 KiB block, plus framing)."""
    return None if limit is None else limit + limit // 256 + 1024


class DecodedBody:
    """A request body reader that decodes the content codings of the engine's reader *inner*.

    It is what ``request.body_reader`` becomes (:class:`fasthttp.requests.BodyReader`, and the
    engine's own calls: ``complete``, ``drain``, ``answered``, ``settle``, ``fail``, delegated); its :attr:`limit` is the
    limit on the *decoded* size (RFC 9110 §15.5.14), enforced on each decompression step.
    """

    __slots__ = ("_inner", "_decoders", "_limit", "_produced", "_cached", "_error", "_ended")

    def __init__(self, inner: Any, codings: list[str]) -> None:
        for coding in codings:
            _check(coding)
        self._inner = inner
        # applied in order, so undone in reverse (RFC 9110 §8.4)
        self._decoders = [Decoder(c) for c in reversed(codings)]
        self._limit: int | None = inner.limit
        self._produced = 0
        self._cached: bytes | None = None
        self._error: BaseException | None = None
        self._ended = False

    @property
    def limit(self) -> int | None:
        return self._limit

    def set_limit(self, limit: int | None) -> None:
        self._limit = limit
        self._inner.set_limit(raw_limit(limit))

    def check_size(self) -> None:
        self._inner.check_size()

    @property
    def cached(self) -> bytes | None:
        return self._cached

    @property
    def complete(self) -> bool:
        return bool(self._inner.complete)

    @property
    def trailers(self) -> Headers | None:
        return self._inner.trailers  # type: ignore[no-any-return]

    @property
    def discarding(self) -> bool:
        return bool(self._inner.discarding)

    def fail(self, exc: BaseException) -> None:
        self._inner.fail(exc)

    def drain(self, max_rest: int) -> bool:
        return bool(self._inner.drain(max_rest))

    def settle(self) -> None:
        self._inner.settle()

    def answered(self, max_rest: int) -> bool:
        return bool(self._inner.answered(max_rest))

    def _run(self, data: bytes, index: int, out: list[bytes]) -> None:
        """Feed *data* to decoder *index* and everything it yields on down the chain."""
        dec = self._decoders[index]
        last = index == len(self._decoders) - 1
        more = True
        while more:
            limit = self._limit
            if last:
                bound = _STEP if limit is None else limit - self._produced + 1
            else:
                bound = _STEP if limit is None else min(limit + 1, 1 << 20)
            piece, more = dec.step(data, bound)
            data = b""
            if not piece:
                if more:
                    continue
                break
            if last:
                self._produced += len(piece)
                if limit is not None and self._produced > limit:
                    raise _too_large(limit)
                out.append(piece)
            else:
                self._run(piece, index + 1, out)

    async def read(self) -> bytes:
        """The next decoded piece, or ``b""`` at the end (400 if the coded stream is truncated,
        413 once the decoded size passes the limit)."""
        if self._error is not None:
            raise self._error
        if self._ended:
            return b""
        try:
            while True:
                chunk = await self._inner.read()
                out: list[bytes] = []
                if not chunk:
                    for i in range(len(self._decoders)):
                        self._run(b"", i, out)  # flush what each stage still holds
                        self._decoders[i].end()
                    self._ended = True
                    return b"".join(out)
                self._run(chunk, 0, out)
                if out:
                    return out[0] if len(out) == 1 else b"".join(out)
        except (BadRequest, ContentTooLarge) as exc:
            self._error = exc
            raise

    async def read_all(self) -> bytes:
        """The whole decoded body, cached for later calls."""
        if self._cached is not None:
            return self._cached
        parts = []
        while True:
            piece = await self.read()
            if not piece:
                break
            parts.append(piece)
        data = b"".join(parts)
        self._cached = data
        return data
