"""Chunked coding benchmarks, ``py`` and ``c`` twins: decode a 64 KiB body, encode chunks."""

from __future__ import annotations

BODY_64K = (b"1000;ext=v\r\n" + b"x" * 4096 + b"\r\n") * 16 + b"0\r\nX-Sum: 1\r\n\r\n"
SMALL_CHUNKS = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in [b"hello, world"] * 64) + b"0\r\n\r\n"


def _decode(impl, data):
    dec = impl.chunked.ChunkedDecoder()
    events = dec.feed(data)
    return sum(len(e) for e in events if isinstance(e, bytes)), dec.done


def test_decode_64k(benchmark, impl):
    benchmark.group = "chunked:decode-64k"
    assert benchmark(_decode, impl, BODY_64K) == (65536, True)


def test_decode_64_small_chunks(benchmark, impl):
    benchmark.group = "chunked:decode-64-small"
    assert benchmark(_decode, impl, SMALL_CHUNKS) == (64 * 12, True)


def test_encode_chunk(benchmark, impl):
    benchmark.group = "chunked:encode-4k"
    data = b"y" * 4096
    assert benchmark(impl.chunked.encode_chunk, data)[:6] == b"1000\r\n"


def test_encode_last_chunk_with_trailers(benchmark, impl):
    benchmark.group = "chunked:encode-last"
    out = benchmark(impl.chunked.encode_last_chunk, [("X-Checksum", "abc"), ("X-Count", 3)])
    assert out == b"0\r\nX-Checksum: abc\r\nX-Count: 3\r\n\r\n"
