"""``fasthttp.body``: the request-body reader and the body-size rule, over a fake connection.

The fake implements :class:`fasthttp.body.BodyConnection` and records what the reader asks of
it, so each test states one promise of the reader: the limit (RFC 9110 §15.5.14), the
``100 Continue`` (RFC 9110 §10.1.1), the flow-control accounting, draining an unread body.
"""

from __future__ import annotations

import asyncio

import pytest

from fasthttp.body import ClientDisconnected, RequestBody
from fasthttp.errors import ContentTooLarge
from fasthttp.parser import RequestParser
from fasthttp.requests import BodyReader, Request

from helpers_server import build_request

pytestmark = pytest.mark.filterwarnings("error")


class FakeConnection:
    """A :class:`fasthttp.body.BodyConnection` that records the calls."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.closed = False
        self.buffered = 0
        self.interim: list[bytes] = []
        self.keep_alive = True

    def body_buffered(self, n: int) -> None:
        self.buffered += n

    def body_consumed(self, n: int) -> None:
        self.buffered -= n

    def send_interim(self, data: bytes) -> None:
        self.interim.append(data)

    def refuse_keep_alive(self) -> None:
        self.keep_alive = False

    def limit_body(self, limit: int | None) -> None:
        self.body_limit = limit


def head_of(headers: list[tuple[str, str]], body: bytes | None = None):
    return RequestParser().feed(build_request("POST", "/", headers=headers, body=body))[0]


def reader(headers=(), limit=None, body=None):
    loop = asyncio.new_event_loop()
    conn = FakeConnection(loop)
    return RequestBody(conn, head_of(list(headers), body), limit), conn, loop


def call(loop, coro):
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


# -- the limit on the reader ----------------------------------------------------------------------


def test_the_reader_satisfies_the_request_contract():
    body, _, loop = reader([("Content-Length", "3")])
    loop.close()
    assert isinstance(body, RequestBody)
    contract: BodyReader = body  # checked by the type checker
    assert contract.limit is None and not contract.complete and contract.cached is None


def test_setting_a_limit_below_the_announced_length_refuses_at_once():
    body, _, loop = reader([("Content-Length", "100")], limit=1000)
    loop.close()
    with pytest.raises(ContentTooLarge):
        body.set_limit(99)
    assert body.limit == 99  # recorded all the same
    with pytest.raises(ContentTooLarge):
        body.check_size()


def test_the_first_read_refuses_an_announced_length_past_the_limit_and_sends_no_100():
    body, conn, loop = reader([("Content-Length", "100"), ("Expect", "100-continue")], limit=10)

    async def scenario():
        for _ in range(2):  # refused again: a refused read starts nothing
            with pytest.raises(ContentTooLarge):
                await body.read()

    call(loop, scenario())
    assert conn.interim == []


def test_a_chunked_body_past_the_limit_fails_and_refuses_keep_alive():
    body, conn, loop = reader([("Transfer-Encoding", "chunked")], limit=5)
    body.feed(b"abc")
    body.feed(b"def")
    assert not conn.keep_alive and body.discarding and conn.buffered == 0

    async def scenario():
        with pytest.raises(ContentTooLarge):
            await body.read()

    call(loop, scenario())


def test_request_max_body_size_is_the_readers():
    head = head_of([("Content-Length", "4")], None)
    body = RequestBody(FakeConnection(None), head, 10)  # type: ignore[arg-type]
    request = Request(head, None, 10)  # type: ignore[arg-type]
    request.body_reader = body
    assert request.max_body_size == 10
    request.max_body_size = 4
    assert body.limit == 4
    with pytest.raises(ContentTooLarge):
        request.max_body_size = 3
    with pytest.raises(ContentTooLarge):
        request.check_body_size()


# -- reading --------------------------------------------------------------------------------------


def test_the_first_read_sends_100_continue_when_asked_and_nothing_came_yet():
    body, conn, loop = reader([("Content-Length", "4"), ("Expect", "100-continue")])

    async def scenario():
        pending = asyncio.ensure_future(body.read())
        await asyncio.sleep(0)
        assert conn.interim == [b"HTTP/1.1 100 Continue\r\n\r\n"]
        body.feed(b"data")
        body.end(None)
        return await pending, await body.read()

    assert call(loop, scenario()) == (b"data", b"")


def test_no_100_continue_once_the_body_is_arriving():
    body, conn, loop = reader([("Content-Length", "4"), ("Expect", "100-continue")])
    body.feed(b"da")

    async def scenario():
        return await body.read()

    assert call(loop, scenario()) == b"da" and conn.interim == []


def test_buffered_bytes_are_reported_and_released_as_they_are_read():
    body, conn, loop = reader([("Content-Length", "6")])
    body.feed(b"abc")
    body.feed(b"def")
    body.end(None)
    assert conn.buffered == 6

    async def scenario():
        first = await body.read()
        held = conn.buffered
        return first, held, await body.read_all()

    first, held, rest = call(loop, scenario())
    assert (first, held, rest, conn.buffered) == (b"abc", 3, b"def", 0)
    assert body.complete and body.cached == b"def"


def test_read_all_takes_a_body_received_whole_without_waiting():
    # The whole body came before the handler read it (the POST echo case): read_all joins the
    # pieces, releases what they held and never waits on the connection.
    body, conn, loop = reader([("Content-Length", "6")])
    body.feed(b"abc")
    body.feed(b"def")
    body.end(None)
    conn.closed = True  # a wait would raise ClientDisconnected

    assert call(loop, body.read_all()) == b"abcdef"
    assert conn.buffered == 0 and body.cached == b"abcdef"


def test_read_all_of_a_drained_or_failed_whole_body():
    body, conn, loop = reader([("Content-Length", "2")])
    body.feed(b"ok")
    body.end(None)
    assert body.drain(64)  # the response went first: what is held is dropped
    assert call(loop, body.read_all()) == b"" and conn.buffered == 0

    body, conn, loop = reader([("Content-Length", "2")])
    body.feed(b"o")
    body.fail(ClientDisconnected("gone"))
    body.end(None)

    async def scenario():
        with pytest.raises(ClientDisconnected):
            await body.read_all()

    call(loop, scenario())


def test_read_all_is_cached():
    body, _, loop = reader([("Content-Length", "2")])
    body.feed(b"ok")
    body.end(None)

    async def scenario():
        return await body.read_all(), await body.read_all()

    assert call(loop, scenario()) == (b"ok", b"ok")


def test_read_all_of_a_received_one_piece_body_is_that_piece():
    body, conn, loop = reader([("Content-Length", "2")])
    piece = b"ok"
    body.feed(piece)
    body.end(None)
    assert call(loop, body.read_all()) is piece and conn.buffered == 0


def test_read_all_of_a_received_empty_chunked_body_is_empty():
    body, conn, loop = reader([("Transfer-Encoding", "chunked")])
    body.end(None)
    assert call(loop, body.read_all()) == b"" and conn.buffered == 0


def test_read_all_of_a_received_body_still_refuses_past_the_limit():
    body, conn, loop = reader([("Content-Length", "5")], limit=4)
    body.feed(b"hello")
    body.end(None)
    with pytest.raises(ContentTooLarge):
        call(loop, body.read_all())


def test_a_closed_connection_is_client_disconnected():
    body, conn, loop = reader([("Content-Length", "2")])
    conn.closed = True

    async def scenario():
        with pytest.raises(ClientDisconnected):
            await body.read()

    call(loop, scenario())


def test_fail_wakes_the_reader_and_drops_what_is_held():
    body, conn, loop = reader([("Content-Length", "10")])

    async def scenario():
        pending = asyncio.ensure_future(body.read_all())
        await asyncio.sleep(0)
        body.feed(b"abc")
        body.fail(ClientDisconnected("gone"))
        with pytest.raises(ClientDisconnected):
            await pending

    call(loop, scenario())
    assert conn.buffered == 0 and body.discarding


# -- an unread body after the response --------------------------------------------------------------


def test_a_small_announced_rest_is_drained():
    body, conn, loop = reader([("Content-Length", "100")])
    loop.close()
    body.feed(b"x" * 40)
    assert body.drain(60) and body.discarding and conn.buffered == 0
    body.feed(b"y")
    assert conn.buffered == 0  # discarded


@pytest.mark.parametrize(
    "headers",
    [[("Content-Length", "100")], [("Transfer-Encoding", "chunked")], [("Content-Length", "10"), ("Expect", "100-continue")]],
    ids=["too-much-left", "unannounced", "awaiting-100"],
)
def test_no_drain_for_a_large_unannounced_or_not_yet_sent_rest(headers):
    body, _, loop = reader(headers)
    loop.close()
    assert not body.drain(50)


# -- a body that came whole with its head (issue 17, POST echo) ----------------------------------


def whole_reader(data=b"hello", limit=None):
    loop = asyncio.new_event_loop()
    conn = FakeConnection(loop)
    head = head_of([("Content-Length", str(len(data)))], data)
    conn.buffered = len(data)  # the connection counts what it hands over (ConnectionCore._open)
    return RequestBody(conn, head, limit, data), conn, loop


def test_a_whole_body_reader_is_complete_and_reads_without_waiting():
    body, conn, loop = whole_reader(b"hello")
    assert body.complete and body.cached is None and not body.discarding

    async def run():
        return await body.read(), await body.read()

    assert call(loop, run()) == (b"hello", b"")
    assert conn.buffered == 0 and conn.interim == []


def test_a_whole_body_read_all_is_the_piece_itself_and_cached():
    data = b"x" * 4096
    body, conn, loop = whole_reader(data)

    async def run():
        return await body.read_all(), await body.read_all()

    first, second = call(loop, run())
    assert first is data and second is data and body.cached is data and conn.buffered == 0


def test_a_route_limit_below_a_whole_body_is_refused_at_once_and_on_every_read():
    body, conn, loop = whole_reader(b"123456789", limit=100)
    body.check_size()  # within the server's limit
    with pytest.raises(ContentTooLarge):
        body.set_limit(4)

    async def run():
        with pytest.raises(ContentTooLarge):
            await body.read_all()
        with pytest.raises(ContentTooLarge):
            await body.read()

    call(loop, run())
    with pytest.raises(ContentTooLarge):
        body.check_size()
    body.set_limit(None)  # raised again: readable
    assert call(asyncio.new_event_loop(), body.read_all()) == b"123456789"


def test_answered_settles_what_a_handler_left_unread_and_it_stays_readable():
    body, conn, loop = whole_reader(b"unread")
    assert body.answered(0) is True and conn.buffered == 0
    assert body.answered(0) is True and conn.buffered == 0  # once

    async def run():
        return await body.read_all()

    assert call(loop, run()) == b"unread" and conn.buffered == 0  # not released twice


def test_answered_after_a_partial_read_releases_only_the_rest():
    body, conn, loop = reader([("Content-Length", "6")])
    body.feed(b"abc")
    body.feed(b"def")
    body.end(None)

    async def run():
        return await body.read()

    assert call(loop, run()) == b"abc" and conn.buffered == 3
    assert body.answered(0) and conn.buffered == 0


def test_answered_drains_a_body_not_yet_complete_as_drain_does():
    body, conn, loop = reader([("Content-Length", "10")])
    loop.close()
    body.feed(b"abc")
    assert body.answered(100) is True and body.discarding and conn.buffered == 0
    body2, conn2, loop2 = reader([("Transfer-Encoding", "chunked")])
    loop2.close()
    body2.feed(b"abc")
    assert body2.answered(100) is False and conn2.buffered == 3

