"""Chunked transfer coding (fasthttp.chunked): the bounded decoder and the encoder (RFC 9112 §7.1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fasthttp.errors import BadRequest, ContentTooLarge, HeaderFieldsTooLarge


def decode(impl, data: bytes, step: int | None = None, **limits):
    dec = impl.chunked.ChunkedDecoder(**limits)
    events = []
    if step is None:
        events += dec.feed(data)
    else:
        for i in range(0, len(data), step):
            events += dec.feed(data[i : i + step])
    body = b"".join(e for e in events if isinstance(e, bytes))
    ends = [e for e in events if not isinstance(e, bytes)]
    return dec, body, ends


def test_decodes_chunks_and_ends_with_end_of_message(impl):
    dec, body, ends = decode(impl, b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    assert body == b"hello world"
    assert len(ends) == 1 and ends[0].trailers is None
    assert dec.done


def test_the_decoder_hands_on_one_piece_per_chunk_unless_told_to_coalesce(impl):
    # The request parser keeps one event per chunk; the response parser coalesces (one bytes per
    # decode call, tests/test_responseparser.py).
    dec = impl.chunked.ChunkedDecoder()
    assert not dec.coalesce
    assert dec.feed(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")[:2] == [b"abc", b"de"]
    dec = impl.chunked.ChunkedDecoder()
    dec.coalesce = True
    events = dec.feed(b"3\r\nabc\r\n2\r\nde\r\n" + b"1\r\nx\r\n" * 70 + b"0\r\n\r\n")
    assert b"".join(events[:-1]) == b"abcde" + b"x" * 70 and type(events[-1]).__name__ == "EndOfMessage"
    assert [len(e) for e in events[:-1]] == [3 + 2 + 62, 8]  # 72 pieces: joined 64 at a time


@pytest.mark.parametrize("step", [1, 2, 3, 7])
def test_any_split_gives_the_same_body(impl, step):
    data = b"a;ext=1\r\n0123456789\r\n3\r\nabc\r\n0\r\nX-Sum: 9\r\n\r\n"
    dec, body, ends = decode(impl, data, step)
    assert body == b"0123456789abc"
    assert ends[0].trailers.get("x-sum") == "9"


def test_hex_sizes_are_case_insensitive_with_leading_zeros(impl):
    _, body, _ = decode(impl, b"000A\r\n" + b"x" * 10 + b"\r\n0\r\n\r\n")
    assert body == b"x" * 10


def test_trailers_are_returned_as_headers(impl):
    _, _, ends = decode(impl, b"0\r\nExpires: never\r\nX-A: 1\r\nx-a: 2\r\n\r\n")
    trailers = ends[0].trailers
    assert trailers.get("expires") == "never"
    assert trailers.getall("X-A") == ["1", "2"]


def test_bytes_after_the_end_are_kept_as_unused(impl):
    dec, body, _ = decode(impl, b"1\r\nx\r\n0\r\n\r\nGET / HTTP/1.1\r\n")
    assert body == b"x"
    assert dec.unused == b"GET / HTTP/1.1\r\n"
    dec.feed(b"more")
    assert dec.unused == b"GET / HTTP/1.1\r\nmore"


@pytest.mark.parametrize(
    "ext",
    [b";a", b";a=b", b' ; a = "q\\"uoted"', b";a;b=c;d=\"\"", b"\t;\tname\t=\ttoken"],
)
def test_valid_chunk_extensions_are_accepted_and_ignored(impl, ext):
    _, body, _ = decode(impl, b"2" + ext + b"\r\nok\r\n0\r\n\r\n")
    assert body == b"ok"


@pytest.mark.parametrize(
    "data",
    [
        b"\r\nx\r\n0\r\n\r\n",  # empty size
        b"g\r\n",  # not hex
        b"+1\r\nx\r\n",  # sign
        b"0x1\r\nx\r\n",  # C-style prefix
        b"1 \r\nx\r\n",  # trailing whitespace without an extension
        b"1;\r\nx\r\n",  # extension without a name
        b"1;a=\r\nx\r\n",  # extension without a value
        b'1;a="open\r\nx\r\n',  # unterminated quoted string
        b"1;a=b c\r\nx\r\n",  # junk after a value
        b"1;a\rb\r\nx\r\n",  # bare CR inside the line
        b"1\nx\r\n",  # bare LF ending the size line
        b"1\r\nxy\r\n",  # data longer than the size: no CRLF after it
        b"1\r\nx\n0\r\n\r\n",  # bare LF after data
        b"1\r\nx\r\n0\r\n\n",  # bare LF ending the trailer section
        b"0\r\nBad Name: x\r\n\r\n",  # trailer field name with a space
        b"0\r\nA: 1\r\n folded\r\n\r\n",  # obs-fold in the trailer section
        b"11111111111111111\r\n",  # 17 hex digits: larger than any body we accept
    ],
)
def test_malformed_input_is_a_bad_request(impl, data):
    with pytest.raises(BadRequest):
        decode(impl, data)
    with pytest.raises(BadRequest):
        decode(impl, data, step=1)


def test_chunk_size_line_is_bounded(impl):
    line = b"1;" + b"a" * 100 + b"\r\nx\r\n0\r\n\r\n"
    with pytest.raises(BadRequest):
        decode(impl, line, max_chunk_line=50)
    with pytest.raises(BadRequest):  # refused before the line completes
        impl.chunked.ChunkedDecoder(max_chunk_line=50).feed(b"1;" + b"a" * 100)


def test_body_size_is_bounded_before_the_data_arrives(impl):
    dec = impl.chunked.ChunkedDecoder(max_body_size=10)
    assert dec.feed(b"5\r\nhello\r\n") == [b"hello"]
    with pytest.raises(ContentTooLarge):
        dec.feed(b"6\r\n")


def test_trailer_section_is_bounded_in_size_and_count(impl):
    with pytest.raises(HeaderFieldsTooLarge):
        decode(impl, b"0\r\nA: " + b"x" * 100 + b"\r\n\r\n", max_trailer_size=50)
    with pytest.raises(HeaderFieldsTooLarge):
        decode(impl, b"0\r\n" + b"A: 1\r\n" * 5 + b"\r\n", max_trailer_count=4)


class TestEncoder:
    def test_encode_chunk_frames_data_with_its_hex_size(self, impl):
        assert impl.chunked.encode_chunk(b"hello") == b"5\r\nhello\r\n"
        assert impl.chunked.encode_chunk(b"x" * 255) == b"ff\r\n" + b"x" * 255 + b"\r\n"
        assert impl.chunked.encode_chunk(memoryview(b"ab")) == b"2\r\nab\r\n"

    def test_empty_data_encodes_to_nothing(self, impl):
        # A zero-size chunk would end the body early (RFC 9112 §7.1).
        assert impl.chunked.encode_chunk(b"") == b""

    def test_last_chunk_without_and_with_trailers(self, impl):
        assert impl.chunked.encode_last_chunk() == b"0\r\n\r\n"
        assert impl.chunked.encode_last_chunk([("X-Sum", "9")]) == b"0\r\nX-Sum: 9\r\n\r\n"

    def test_trailers_are_validated_against_injection(self, impl):
        from fasthttp.errors import InvalidResponseHeader

        with pytest.raises(InvalidResponseHeader):
            impl.chunked.encode_last_chunk([("X", "a\r\nInjected: 1")])

    @pytest.mark.parametrize("name", ["Content-Length", "transfer-encoding", b"Set-Cookie", "HOST", "Authorization"])
    def test_a_field_that_may_not_be_a_trailer_is_not_sent(self, impl, name):
        # RFC 9110 §6.5.1: framing, routing, authentication... fields are never trailers.
        assert impl.chunked.encode_last_chunk([(name, "5"), ("X-Sum", "9")]) == b"0\r\nX-Sum: 9\r\n\r\n"
        assert impl.chunked.encode_last_chunk({name: "5"}) == b"0\r\n\r\n"


@given(
    pieces=st.lists(st.binary(min_size=0, max_size=300), max_size=8),
    step=st.integers(min_value=1, max_value=64),
)
def test_encoder_output_decodes_to_the_same_body_at_any_split(impl, pieces, step):
    wire = b"".join(impl.chunked.encode_chunk(p) for p in pieces)
    wire += impl.chunked.encode_last_chunk([("X-Count", str(len(pieces)))])
    dec, body, ends = decode(impl, wire, step)
    assert body == b"".join(pieces)
    assert ends[0].trailers.get("x-count") == str(len(pieces))
    assert dec.unused == b""


@pytest.mark.parametrize("zeros", [1, 16, 40])
def test_leading_zeros_do_not_count_against_the_size_bound(impl, zeros):
    # Before: "00000000000000005" (17 digits) was a 400; 1*HEXDIG allows the zeros.
    _, body, _ = decode(impl, b"0" * zeros + b"5\r\nhello\r\n" + b"0" * zeros + b"\r\n\r\n")
    assert body == b"hello"


def test_seventeen_significant_digits_are_still_refused(impl):
    with pytest.raises(BadRequest):
        decode(impl, b"000" + b"1" * 17 + b"\r\n")


def test_limit_refuses_what_was_announced_at_once(impl):
    dec = impl.chunked.ChunkedDecoder()
    assert dec.feed(b"FFFFFFFFFFFFFFFF\r\n") == []
    with pytest.raises(ContentTooLarge):
        dec.limit(1 << 20)


def test_limit_applies_to_the_next_size_line(impl):
    dec = impl.chunked.ChunkedDecoder()
    dec.feed(b"3\r\nabc\r\n")
    dec.limit(5)
    with pytest.raises(ContentTooLarge):
        dec.feed(b"3\r\n")


def test_the_announced_total_saturates_instead_of_wrapping(impl):
    # 1 + (2**64 - 1) would wrap to 0 in 64 bits, under any limit.
    dec = impl.chunked.ChunkedDecoder()
    dec.feed(b"1\r\nx\r\nFFFFFFFFFFFFFFFF\r\n")
    with pytest.raises(ContentTooLarge):
        dec.limit(10)


@pytest.mark.parametrize(
    "name", [b"Content-Length", b"HOST", b"transfer-encoding", b"Trailer", b"Authorization", b"Content-Type"]
)
def test_fields_forbidden_in_trailers_are_dropped(impl, name):
    # Before: "Content-Length: 5" and the like came out in request.trailers (RFC 9110 §6.5.1).
    _, body, ends = decode(impl, b"1\r\nx\r\n0\r\n" + name + b": 5\r\nX-Checksum: abc\r\n\r\n")
    trailers = ends[0].trailers
    assert body == b"x"
    assert trailers.get(name.decode()) is None and trailers.get("x-checksum") == "abc"


def test_a_trailer_section_of_forbidden_fields_only_is_none(impl):
    _, _, ends = decode(impl, b"0\r\nHost: evil\r\nContent-Length: 0\r\n\r\n")
    assert ends[0].trailers is None
