"""fasthttp.codings: the content codings, streaming encoders and bounded decoders."""

from __future__ import annotations

import asyncio
import gzip
import zlib

import pytest

from fasthttp import codings
from fasthttp.codings import AVAILABLE, DecodedBody, Decoder, encode, encoder, parse_codings, raw_limit
from fasthttp.errors import BadRequest, ContentTooLarge


def test_the_optional_codings_are_installed_for_the_tests():
    assert set(AVAILABLE) == {"zstd", "br", "gzip", "deflate"}
    assert codings.DEFLATE_BACKEND == "zlib-ng"  # the compression extra's faster encoder


@pytest.mark.parametrize("backend", ["zlib-ng", "zlib"])
@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_gzip_and_deflate_are_the_same_format_from_either_encoder(monkeypatch, backend, coding):
    # zlib-ng writes the DEFLATE format (RFC 1951, in gzip RFC 1952 or zlib RFC 1950 framing):
    # the standard library decodes it; without zlib-ng the standard library encodes.
    if backend == "zlib":
        monkeypatch.setattr(codings, "_deflate", zlib)
    data = b'{"id": 1, "name": "user-0001", "bio": "Lorem ipsum dolor sit amet"}' * 200
    for level in (1, 6, 9):
        coded = encode(coding, data, level)
        assert (gzip.decompress(coded) if coding == "gzip" else zlib.decompress(coded)) == data
    enc = encoder(coding, 6)
    stream = enc.chunk(data) + enc.chunk(b"tail") + enc.finish()
    assert (gzip.decompress(stream) if coding == "gzip" else zlib.decompress(stream)) == data + b"tail"
    if backend == "zlib":  # and the compressobj path of Pythons whose zlib.compress has no wbits
        monkeypatch.setattr(codings, "_ZLIB_WBITS", False)
        coded = encode(coding, data)
        assert (gzip.decompress(coded) if coding == "gzip" else zlib.decompress(coded)) == data


@pytest.mark.parametrize("coding", AVAILABLE)
def test_encode_then_decode(coding):
    data = b"hello world " * 1000
    coded = encode(coding, data)
    assert len(coded) < len(data) // 10
    d = Decoder(coding)
    out, more = d.step(coded, 1 << 20)
    assert out == data and not more
    d.end()


@pytest.mark.parametrize("coding", AVAILABLE)
def test_the_streaming_encoder_flushes_each_piece(coding):
    enc = encoder(coding, 1)
    d = Decoder(coding)
    for piece in (b"first piece", b"second", b"x" * 10000):
        out, more = d.step(enc.chunk(piece), 1 << 20)
        while more:
            extra, more = d.step(b"", 1 << 20)
            out += extra
        assert out == piece  # decodable on arrival, before the stream ends
    d.step(enc.finish(), 1 << 20)
    d.end()


@pytest.mark.parametrize("coding", AVAILABLE)
def test_each_step_respects_its_bound(coding):
    coded = encode(coding, bytes(1 << 20))
    d = Decoder(coding)
    total, data, steps = 0, coded, 0
    more = True
    while more:
        out, more = d.step(data, 4096)
        data = b""
        steps += 1
        assert len(out) <= 4096 + 65536  # brotli's bound is soft by one output block at most
        total += len(out)
        if not more and total < 1 << 20:
            break
    assert total == 1 << 20 and steps > 2


@pytest.mark.parametrize("coding", AVAILABLE)
def test_truncated_and_corrupt(coding):
    coded = encode(coding, b"abc" * 1000)
    d = Decoder(coding)
    d.step(coded[: len(coded) // 2], 1 << 20)
    with pytest.raises(BadRequest):
        d.end()
    with pytest.raises(BadRequest):
        Decoder(coding).end()  # empty content is no coded stream
    with pytest.raises(BadRequest):
        d = Decoder(coding)
        d.step(b"\xff" * 64, 1 << 20)
        d.end()


def test_concatenated_members_and_frames():
    d = Decoder("gzip")
    out, more = d.step(gzip.compress(b"a") + gzip.compress(b"b"), 100)
    while more:
        extra, more = d.step(b"", 100)
        out += extra
    assert out == b"ab"
    d.end()
    d = Decoder("zstd")
    out, more = d.step(encode("zstd", b"a") + encode("zstd", b"b"), 100)
    while more:
        extra, more = d.step(b"", 100)
        out += extra
    assert out == b"ab"


def test_parse_codings_and_raw_limit():
    assert parse_codings(["gzip, identity", "X-Gzip,br"]) == ["gzip", "gzip", "br"]
    assert parse_codings(["", " , "]) == []
    assert raw_limit(None) is None and raw_limit(1 << 20) > 1 << 20
    with pytest.raises(ValueError):
        encoder("compress")


class FakeReader:
    """The engine's body reader reduced to what DecodedBody calls (read, limit, ...)."""

    def __init__(self, pieces, limit=None):
        self.pieces = list(pieces)
        self.limit = limit
        self.complete = False
        self.trailers = None
        self.discarding = False

    def set_limit(self, limit):
        self.limit = limit

    def check_size(self):
        pass

    async def read(self):
        if not self.pieces:
            self.complete = True
            return b""
        return self.pieces.pop(0)


def test_decoded_body_limits_the_decoded_size():
    coded = zlib.compress(bytes(100_000))
    body = DecodedBody(FakeReader([coded[:10], coded[10:]], limit=50_000), ["deflate"])
    with pytest.raises(ContentTooLarge):
        asyncio.run(body.read_all())
    with pytest.raises(ContentTooLarge):  # and stays failed
        asyncio.run(body.read())
    ok = DecodedBody(FakeReader([coded]), ["deflate"])
    ok.set_limit(100_000)
    assert asyncio.run(ok.read_all()) == bytes(100_000)
    assert ok.cached == bytes(100_000) and ok.limit == 100_000


def test_a_decoded_body_forwards_answered_and_settle_to_the_engines_reader():
    # The engine's calls at answer time (ConnectionCore._keep_alive) reach the reader it made.
    from fasthttp.codings import DecodedBody

    class Inner:
        limit = None
        calls: list[tuple[str, int | None]] = []

        def answered(self, max_rest: int) -> bool:
            self.calls.append(("answered", max_rest))
            return True

        def settle(self) -> None:
            self.calls.append(("settle", None))

    inner = Inner()
    decoded = DecodedBody(inner, ["gzip"])
    assert decoded.answered(7) is True
    decoded.settle()
    assert inner.calls == [("answered", 7), ("settle", None)]
