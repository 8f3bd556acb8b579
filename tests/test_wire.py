"""fasthttp._wire: the strict, sans-IO response reader every test tool reads responses with.

Users import it from ``fasthttp.testing``; the TestClient (tests/test_testing.py), the socket
tests' raw client (tests/helpers_server.py) and the benchmark checks
(benchmarks/server/httpcheck.py) all use it. It reads with the client's response-parser kernel
(tests/test_responseparser.py states the grammar); these tests state how it collects the
kernel's events, on both kernel paths, and the five points where it used to differ from the
kernel: bytes no request claims, the error types, next_head, strictness, interim heads.
"""

from __future__ import annotations

import pytest

from fasthttp import _wire
from fasthttp.errors import IncompleteResponseError, ResponseProtocolError
from fasthttp.testing import IncompleteResponse, ResponseReader


@pytest.fixture(autouse=True)
def kernel(impl, monkeypatch):
    # the reader on each twin of the kernel (ids py/c)
    monkeypatch.setattr(_wire, "ResponseParser", impl.responseparser.ResponseParser)
    monkeypatch.setattr(_wire, "ResponseHead", impl.responseparser.ResponseHead)
    monkeypatch.setattr(_wire, "EndOfMessage", impl.responseparser.EndOfMessage)

_STREAM = (
    b"HTTP/1.1 100 Continue\r\n\r\n"
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello"
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-T: t\r\n\r\n"
    b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"  # a HEAD response: no content
    b"HTTP/1.1 204 No Content\r\n\r\n"
)


def read_all(data, methods, split=None):
    reader = ResponseReader()
    for method in methods:
        reader.expect(method)
    pieces = [data] if split is None else [data[:split], data[split:]]
    out = []
    for piece in pieces:
        reader.feed(piece)
        while (resp := reader.next_response()) is not None:
            out.append(resp)
    return out


def test_the_reader_parses_every_framing_whole_and_split_at_every_byte():
    methods = ["PUT", "GET", "HEAD", "GET"]
    expected = [(200, b"hello", [100]), (200, b"abc", []), (200, b"", []), (204, b"", [])]
    for split in [None, *range(len(_STREAM))]:
        got = read_all(_STREAM, methods, split)
        assert [(r.status, r.body, r.interim) for r in got] == expected, split
        assert got[1].trailers.get("x-t") == "t" and got[0].headers["x-a"] == "1"


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/2 200 OK\r\n\r\n",
        b"HTTP/1.1 20 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 600 Odd\r\nContent-Length: 0\r\n\r\n",
        # RFC 9112 §5.1: no whitespace between the field name and the colon.
        b"HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n",
        # RFC 9112 §5.2: obs-fold.
        b"HTTP/1.1 200 OK\r\nX-A: 1\r\n  2\r\nContent-Length: 0\r\n\r\n",
        # RFC 9110 §5.5: no bare CR or other control in a field value.
        b"HTTP/1.1 200 OK\r\nX-A: 1\r2\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-A: 1\x002\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\na",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n 3\r\nabc\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer\r\n\r\n",
    ],
    ids=[
        "version", "status", "field", "cl-and-te", "two-lengths", "chunk-size",
        "status-range", "space-before-colon", "obs-fold", "bare-cr",
        "nul", "signed-length", "other-coding", "chunk-without-crlf", "chunk-size-space",
        "trailer",
    ],
)
def test_the_reader_refuses_malformed_responses(data):
    with pytest.raises(ResponseProtocolError) as info:
        read_all(data, ["GET"])
    assert info.value.data  # (b) the kernel's error, with the bytes where it broke


def test_the_reader_reports_a_response_cut_short():
    reader = ResponseReader()
    reader.expect("GET")
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    assert reader.next_response() is None
    reader.feed_eof()
    with pytest.raises(IncompleteResponse):
        reader.next_response()


def test_a_close_before_the_expected_response_is_incomplete_and_a_close_after_it_is_not():
    reader = ResponseReader()
    reader.feed_eof()
    assert reader.next_response() is None  # nothing was asked
    reader = ResponseReader()
    reader.expect("GET")
    reader.feed_eof()
    with pytest.raises(IncompleteResponse):
        reader.next_response()


def test_without_framing_the_content_runs_to_the_close():
    # RFC 9112 §6.3 (8); the same repeated Content-Length is one length (RFC 9110 §8.6).
    reader = ResponseReader()
    reader.expect("GET")
    reader.feed(b"HTTP/1.0 200 OK\r\n\r\npart")
    assert reader.next_response() is None
    reader.feed(b"ial")
    reader.feed_eof()
    resp = reader.next_response()
    assert (resp.version, resp.status, resp.body) == ("1.0", 200, b"partial")
    assert read_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", ["GET"])[0].body == b"ok"


def test_a_switch_of_protocols_or_a_tunnel_ends_the_responses():
    # RFC 9110 §15.2.2 and RFC 9112 §6.3 (2): what follows is not HTTP/1.1.
    for method, head in (("GET", b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\n\r\n"),
                         ("CONNECT", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")):
        reader = ResponseReader()
        reader.expect(method)
        reader.feed(head + b"not http")
        resp = reader.next_response()
        assert resp.body == b"" and reader.switched and reader.interim_seen == []
        assert reader.next_response() is None and reader.buffered == len(b"not http")


def test_next_head_reads_one_head_and_leaves_what_follows():
    reader = ResponseReader()
    reader.expect("POST")
    reader.feed(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n")
    interim = reader.next_head()
    assert (interim.status, reader.next_head()) == (100, None)
    reader.feed(b"\r\nabc")
    final = reader.next_head()
    assert (final.status, final.body, final.interim, reader.buffered) == (200, b"", [100], 3)
    assert reader.interim_seen == [100]


def test_take_buffered_returns_what_follows_a_101():
    reader = ResponseReader()
    reader.expect("GET")
    reader.feed(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi")
    response = reader.next_response()
    assert response.status == 101 and reader.switched
    assert reader.take_buffered() == b"\x81\x02hi"
    assert reader.take_buffered() == b"" and reader.buffered == 0


# -- the five behaviours settled when the reader moved onto the kernel -----------------------------


def test_a_bytes_no_request_claims_wait_for_one_and_are_an_error_at_the_close():
    # (a) never read as the answer to a GET nobody sent (the client refuses them too).
    reader = ResponseReader()
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert reader.next_response() is None and reader.buffered == 40
    reader.expect("HEAD")  # announced late, as a raw client that sent first: read in turn
    assert reader.next_response().body == b"" and reader.buffered == 2
    reader.feed_eof()
    with pytest.raises(ResponseProtocolError, match="response without a request") as info:
        reader.next_response()
    assert info.value.data == b"ok" and not isinstance(info.value, ValueError)


def test_a_pipelined_responses_are_parsed_only_as_their_requests_are_announced():
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    reader = ResponseReader()
    reader.feed(ok * 3)
    got = []
    for _ in range(3):
        reader.expect("GET")
        got.append(reader.next_response().body)
    assert got == [b"ok"] * 3 and reader.buffered == 0 and reader.pending == 0


def test_b_errors_are_the_kernels_and_the_events_before_them_are_not_lost():
    reader = ResponseReader()
    reader.expect("GET")
    reader.expect("GET")
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nBad\r\n\r\n")
    assert reader.next_response().body == b"ok"  # the response before the bad bytes
    with pytest.raises(ResponseProtocolError):
        reader.next_response()
    with pytest.raises(ResponseProtocolError):  # and the reader stays failed
        reader.next_response()
    assert IncompleteResponse is IncompleteResponseError


def test_c_next_head_pauses_after_the_head_and_the_reader_goes_on_after_the_content():
    reader = ResponseReader()
    reader.expect("GET")
    reader.expect("GET")
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 204 No Content\r\n\r\n")
    head = reader.next_head()
    assert (head.status, head.body, reader.pending) == (200, b"", 1)
    assert reader.take_buffered() == b"abcHTTP/1.1 204 No Content\r\n\r\n"  # the caller's to read
    reader.feed(b"HTTP/1.1 204 No Content\r\n\r\n")  # the caller read the content, and hands back the rest
    assert reader.next_response().status == 204 and reader.buffered == 0


def test_c_next_head_of_a_101_switches():
    reader = ResponseReader()
    reader.expect("GET")
    reader.feed(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\nraw")
    assert reader.next_head().status == 101 and reader.switched
    assert reader.take_buffered() == b"raw" and reader.next_response() is None


@pytest.mark.parametrize(
    ("data", "accepted"),
    [
        # (d) the kernel's strictness is the reader's. Chunk extensions follow their grammar
        # (RFC 9112 §7.1.1): a malformed one is refused, as the server refuses it in a request.
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;a=\"q\";b\r\nabc\r\n0\r\n\r\n", True),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;=x\r\nabc\r\n0\r\n\r\n", False),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3; a=b c\r\nabc\r\n0\r\n\r\n", False),
        # RFC 9110 §8.6, §6.4.1: a 1xx or 204 announcing content is refused (the old reader read
        # a 204 as empty whatever it announced): a server that sends it would desync the next.
        (b"HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n", False),
        (b"HTTP/1.1 100 Continue\r\nTransfer-Encoding: chunked\r\n\r\n", False),
        (b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", True),
        (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 30\r\n\r\n", True),
        # RFC 9112 §4 asks for the SP before an empty reason, and a client SHOULD ignore the
        # reason: its absence changes no framing, so it is read (as by llhttp and every client).
        (b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", True),
        # RFC 9110 §2.5: a higher minor version reads as the highest one implemented.
        (b"HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n", True),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok", True),
    ],
    ids=["ext-ok", "ext-no-name", "ext-space", "204-with-length", "100-chunked", "204-zero",
         "304-length", "no-sp-after-status", "minor-2", "length-list"],
)
def test_d_strictness_is_the_kernels(data, accepted):
    if accepted:
        assert len(read_all(data, ["GET"])) == 1
    else:
        with pytest.raises(ResponseProtocolError):
            read_all(data, ["GET"])


def test_e_interim_heads_collect_on_the_final_response_in_order():
    reader = ResponseReader()
    reader.expect("POST")
    reader.expect("GET")
    reader.feed(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n")
    assert reader.next_response() is None and reader.interim_seen == [100, 103]
    reader.feed(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    first, second = reader.next_response(), reader.next_response()
    assert (first.status, first.interim, second.interim) == (201, [100, 103], [])
    assert reader.interim_seen == [100, 103]
