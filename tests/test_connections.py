"""``fasthttp.connections``: admission, the coarse clock, the periodic sweep and shutdown, with
fake connections (the :class:`fasthttp.connections.ManagedConnection` protocol)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from fasthttp.config import Config
from fasthttp.connections import ConnectionManager, error_bytes

from helpers_server import run

pytestmark = pytest.mark.filterwarnings("error")


class FakeConnection:
    def __init__(self) -> None:
        self.checked: list[float] = []
        self.shutdowns = 0
        self.aborted = False

    def check_deadlines(self, now: float) -> None:
        self.checked.append(now)

    def start_shutdown(self) -> None:
        self.shutdowns += 1

    def abort(self) -> None:
        self.aborted = True


def handler(request):
    return "unused"


def test_admission_stops_at_max_connections_and_when_closing(loop):
    manager = ConnectionManager(loop, handler, Config(max_connections=2))
    a, b, c = FakeConnection(), FakeConnection(), FakeConnection()
    assert manager.admit(a) and manager.admit(b) and not manager.admit(c)
    manager.release(a)
    assert manager.admit(c)
    manager.release(c)
    # a graceful shutdown drains: a connection the loop accepted just before the listener
    # closed still comes in (it is served once, then closed), but not after close()
    manager.closing = True
    assert manager.admit(FakeConnection())
    manager.close()
    assert not manager.admit(FakeConnection())


def test_the_busy_response_is_a_503_that_closes(loop):
    manager = ConnectionManager(loop, handler, Config())
    assert manager.busy_response == error_bytes(503, False, Config().server_header)
    assert manager.busy_response.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    assert b"Connection: close\r\n" in manager.busy_response


def test_the_sweep_interval_is_a_quarter_of_the_shortest_deadline_within_bounds(loop):
    assert ConnectionManager(loop, handler, Config(header_timeout=0.4)).interval == pytest.approx(0.1)
    assert ConnectionManager(loop, handler, Config(header_timeout=0.01)).interval == 0.05
    assert ConnectionManager(loop, handler, Config(header_timeout=100, body_timeout=100, keep_alive_timeout=100, write_timeout=100, linger_timeout=100)).interval == 1.0


def test_the_sweep_advances_the_clock_checks_every_connection_and_flushes(loop):
    manager = ConnectionManager(loop, handler, Config(header_timeout=0.2))
    conn = FakeConnection()
    manager.admit(conn)
    flushed = []
    manager.add_periodic(lambda: flushed.append(1))

    async def scenario():
        start = manager.now
        manager.start()
        await asyncio.sleep(manager.interval * 2.5)
        manager.close()
        return start

    start = run(loop, scenario())
    assert len(conn.checked) >= 2 and conn.checked[0] > start
    assert manager.now == conn.checked[-1]
    assert manager.head_deadline == manager.now + 0.2
    assert len(flushed) >= 3  # every sweep, and once more on close
    assert conn.aborted


def test_the_deadlines_list_follows_the_clock_in_place(loop):
    # PERF (issue 17): each connection keeps the manager's deadlines list (connection_settings)
    # and reads the idle deadline from it per response: the sweep must update that very list.
    manager = ConnectionManager(loop, handler, Config(header_timeout=0.2, body_timeout=3, keep_alive_timeout=7))
    kept = manager.connection_settings[-1]
    assert kept is manager.deadlines
    manager._tick(1000.0)
    assert manager.deadlines is kept
    assert kept == [manager.head_deadline, manager.body_deadline, manager.idle_deadline] == [1000.2, 1003.0, 1007.0]


def test_the_level_of_connection_logging_is_looked_up_at_each_sweep(loop):
    # PERF (issue 17): a connection reads manager.log_connections, not the logger, to choose the
    # protocol's full path (which logs its opening and end at DEBUG); the sweep refreshes it.
    logger = logging.getLogger("fasthttp.server")
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        manager = ConnectionManager(loop, handler, Config(header_timeout=0.2))
        assert manager.log_connections is False
        logger.setLevel(logging.DEBUG)

        async def scenario():
            swept = asyncio.Event()
            manager.add_periodic(swept.set)
            manager.start()
            await swept.wait()
            manager.close()

        run(loop, scenario())
        assert manager.log_connections is True
    finally:
        logger.setLevel(level)


def test_shutdown_asks_connections_to_finish_then_aborts_what_is_left(loop):
    manager = ConnectionManager(loop, handler, Config())
    conn = FakeConnection()
    manager.admit(conn)
    run(loop, manager.shutdown(0.05))
    assert conn.shutdowns >= 2 and conn.aborted and manager.closing


def test_handed_over_transports_are_aborted_on_close(loop):
    class Transport:
        aborted = False

        def is_closing(self) -> bool:
            return False

        def abort(self) -> None:
            self.aborted = True

    manager = ConnectionManager(loop, handler, Config())
    conn, transport = FakeConnection(), Transport()
    manager.admit(conn)
    manager.hand_over(conn, transport)  # type: ignore[arg-type]
    assert not manager.connections
    manager.close()
    assert transport.aborted and not conn.aborted and not manager.upgraded


def test_a_managed_successor_takes_the_place_of_the_connection_it_replaces(loop):
    # A websocket connection (fasthttp.websocket) still counts, is swept and is shut down.
    from fasthttp.connections import ManagedConnection

    manager = ConnectionManager(loop, handler, Config(max_connections=1))
    conn, successor = FakeConnection(), FakeConnection()
    assert isinstance(successor, ManagedConnection)
    manager.admit(conn)
    manager.hand_over(conn, object(), successor)  # type: ignore[arg-type]
    assert manager.connections == {successor} and not manager.upgraded
    assert not manager.admit(FakeConnection())  # still counted against max_connections
    manager.close()
    assert successor.aborted


def test_the_sweep_interval_follows_the_websocket_timers(loop):
    assert ConnectionManager(loop, handler, Config(ws_ping_interval=0.2)).interval == 0.05
    assert ConnectionManager(loop, handler, Config(ws_close_timeout=0.4)).interval == pytest.approx(0.1)


def test_each_connection_gets_a_fresh_parser_with_the_configured_limits(loop):
    from fasthttp.errors import HttpProtocolError
    from fasthttp.parser import RequestParser

    default = ConnectionManager(loop, handler, Config())
    assert default.new_parser is RequestParser  # the default limits need no keywords
    a, b = default.new_parser(), default.new_parser()
    assert a is not b and type(a) is RequestParser
    assert (a.max_request_line, a.max_header_count, a.max_body_size) == (8190, 100, None)

    strict = ConnectionManager(loop, handler, Config(max_request_line=64, max_header_count=3, max_header_size=1024))
    parser = strict.new_parser()
    assert (parser.max_request_line, parser.max_header_count, parser.max_header_size) == (64, 3, 1024)
    assert parser.max_body_size is None  # bodies are bounded by the body reader (fasthttp.body)
    with pytest.raises(HttpProtocolError):
        parser.feed(b"GET /" + b"a" * 100 + b" HTTP/1.1\r\n\r\n")
    assert strict.new_parser() is not parser
