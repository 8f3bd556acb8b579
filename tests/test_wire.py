"""fasthttp._wire: the strict, sans-IO response reader every test tool reads responses with.

Users import it from ``fasthttp.testing``; the TestClient (tests/test_testing.py), the socket
tests' raw client (tests/helpers_server.py) and the benchmark checks
(benchmarks/server/httpcheck.py) all use it. These tests state its framing rules (RFC 9112 §6.3)
and what it refuses.
"""

from __future__ import annotations

import pytest

from fasthttp.testing import IncompleteResponse, ResponseReader

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
        # RFC 9112 §4: the SP after the status code is there even without a reason phrase.
        b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
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
        "no-sp-after-status", "status-range", "space-before-colon", "obs-fold", "bare-cr",
        "nul", "signed-length", "other-coding", "chunk-without-crlf", "chunk-size-space",
        "trailer",
    ],
)
def test_the_reader_refuses_malformed_responses(data):
    with pytest.raises(ValueError):
        read_all(data, ["GET"])


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
    reader.feed(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi")
    response = reader.next_response()
    assert response.status == 101 and reader.switched
    assert reader.take_buffered() == b"\x81\x02hi"
    assert reader.take_buffered() == b"" and reader.buffered == 0
