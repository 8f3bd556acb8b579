"""The connection core's twins (``fasthttp._core_c.connection`` compiled from
``fasthttp._core_py.connection``): one behaviour, checked as the parser twins are.

Parity: every case of the request corpus (tests/data), and a few pipelined and body-carrying
exchanges, goes through a real :class:`~fasthttp.protocol.HttpProtocol` on each twin of the
core, fed whole and split in two at every byte; the bytes the connection writes (and whether it
half-closes or closes) must be the same for every split and for both twins. The application
answers each request with what it saw (method, target, body, trailers), reading bodies with
``await``, so a body split over reads also exercises the Task the handler then needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import re
import socket
import threading
import types
from collections.abc import Iterator
from typing import Any

import pytest

from fasthttp import Response
from fasthttp._compat import NO_EXTENSIONS
from fasthttp.config import Config
from fasthttp.connections import ConnectionManager
from fasthttp.protocol import HttpProtocol, protocol_class
from fasthttp.responses import json_dumps

from test_corpus import INVALID, VALID

_DATE = re.compile(rb"\r\nDate: [^\r]*\r\n")
_END = re.compile(rb"(?:<eof>|<close>)+")
_TWINS = ["py"] if NO_EXTENSIONS else ["py", "c"]

EXCHANGES = [
    b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b?q=1 HTTP/1.1\r\nHost: x\r\n\r\nHEAD /c HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /after HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n"
    b"PUT /d HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok",
    b"POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    b"GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\nGET /never HTTP/1.1\r\n\r\n",
    b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\nGET /bad HTTP/1.1\r\nHost x\r\n\r\n",
    b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: y\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 300\r\n\r\n" + b"z" * 300,
    # Pipelined POST and GET mixes (issue 17, POST echo): whole bodies delivered with their
    # heads, a handler not reading its body, one reading it twice, chunked among them.
    b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
    b"POST /noread HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nwxyz"
    b"GET /g HTTP/1.1\r\nHost: x\r\n\r\n"
    b"POST /twice HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n12345"
    b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"
    b"POST /z HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
    b"GET /last HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /twice HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n2\r\nbc\r\n0\r\n\r\n"
    b"POST /noread HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
    b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc"
    b"POST /twice HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
    b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"
    b"GET /never HTTP/1.1\r\nHost: x\r\n\r\n",
]

# Requests with content past the server's body limit (413), pipelined with ones within it.
LIMITED = [
    b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n123456789GET /next HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /noread HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\n12345678GET /next HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n"
    b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 9\r\n\r\n123456789",
]


_MANAGERS: dict[Any, ConnectionManager] = {}


class Transport:
    """Records what the connection does to the peer, in order."""

    def __init__(self) -> None:
        self.out: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.out.append(bytes(data))

    def write_eof(self) -> None:
        self.out.append(b"<eof>")

    def close(self) -> None:
        self.out.append(b"<close>")

    def abort(self) -> None:
        self.out.append(b"<abort>")

    def can_write_eof(self) -> bool:
        return True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 50000) if name == "peername" else default

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def is_closing(self) -> bool:
        return False

    def set_protocol(self, protocol: Any) -> None:
        pass


async def echo(request: Any) -> Response:
    if request.path == "/noread":
        return Response(b"not read")  # leaves the body unread
    body = await request.body() if request.body_reader is not None else b""
    if request.path == "/twice":
        again = await request.body()  # cached: the same bytes
        assert again is body
        pieces = [piece async for piece in request.stream()]  # after body(): that one piece
        assert pieces == ([body] if body else [])
    trailers = request.trailers.raw() if request.trailers is not None else None
    return Response(b"%s %s %d %r %r" % (request.method.encode(), request.target, len(body), body[:8], trailers))


@pytest.fixture(scope="module")
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def core_class(twin: str) -> type[HttpProtocol]:
    core = importlib.import_module(f"fasthttp.{'_core_c' if twin == 'c' else '_core_py'}.connection")
    return protocol_class(core.ConnectionCore)


def exchange(loop: Any, cls: type[HttpProtocol], pieces: list[bytes], options: dict[str, Any]) -> bytes:
    """What the connection writes for *pieces* (Date values blanked)."""
    key = (id(loop), tuple(sorted(options.items())))
    manager = _MANAGERS.get(key)
    if manager is None:
        manager = _MANAGERS[key] = ConnectionManager(loop, echo, Config(**options))
    proto = cls(manager)
    transport = Transport()
    proto.connection_made(transport)
    for piece in pieces:
        proto.data_received(piece)
        # Let a handler that waits for the rest of its body (a Task) and a declined upgrade's
        # resumption run before the next read.
        for _ in range(16):
            if proto._task is None and not (proto._parser is not None and proto._parser.paused):
                break
            loop.run_until_complete(asyncio.sleep(0))
    proto.connection_lost(None)
    out = _DATE.sub(b"\r\nDate: -\r\n", b"".join(transport.out))
    # Closing now or after a lingering half-close depends on whether the client had sent all
    # of its request when the last response went out (RFC 9112 §9.6): a matter of timing, the
    # same bytes precede it either way.
    return _END.sub(b"<end>", out)


def _parity(loop: Any, data: bytes, options: dict[str, Any]) -> None:
    classes = {twin: core_class(twin) for twin in _TWINS}
    expected = exchange(loop, classes["py"], [data], options)
    for twin, cls in classes.items():
        assert exchange(loop, cls, [data], options) == expected, twin
        for cut in range(1, len(data)):
            got = exchange(loop, cls, [data[:cut], data[cut:]], options)
            assert got == expected, (twin, cut)


def _options(case: Any) -> dict[str, Any]:
    # The corpus limits are the parser's options; the server's Config has the same names.
    return {k: v for k, v in case.options.items()}


@pytest.mark.parametrize("data", EXCHANGES, ids=range(len(EXCHANGES)))
def test_both_twins_write_the_same_bytes_at_every_split(loop, data):
    _parity(loop, data, {})


@pytest.mark.parametrize("data", LIMITED, ids=range(len(LIMITED)))
def test_both_twins_refuse_a_body_past_the_limit_alike_at_every_split(loop, data):
    _parity(loop, data, {"max_body_size": 5})


@pytest.mark.parametrize("twin", _TWINS)
@pytest.mark.parametrize("path", [b"/noread", b"/a", b"/twice"])
def test_bodies_left_unread_do_not_pause_a_keep_alive_connection(loop, twin, path):
    # A handler that never reads the body it was sent: once its request is answered, those
    # bytes no longer count against read_high_water (RequestBody.settle), so a keep-alive
    # connection carrying many such requests never stops reading (it did: a POST handler that
    # ignored its body stalled each connection after 16 requests of 4 KiB).
    manager = ConnectionManager(loop, echo, Config(read_high_water=8192))
    proto = core_class(twin)(manager)
    transport = Transport()
    proto.connection_made(transport)
    request = b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n" + b"q" * 4096
    for n in range(1, 41):
        proto.data_received(request)
        assert proto._body_buffered == 0 and proto._pause_mask == 0, n
    for n in range(4):  # a body split over reads: received, then answered
        proto.data_received(request[:2000])
        proto.data_received(request[2000:])
        for _ in range(16):
            if proto._task is None:
                break
            loop.run_until_complete(asyncio.sleep(0))
        assert proto._body_buffered == 0 and proto._pause_mask == 0, n
    proto.connection_lost(None)
    assert b"".join(transport.out).count(b"HTTP/1.1 200 OK\r\n") == 44


@pytest.mark.parametrize("twin", _TWINS)
def test_pipelined_bodies_waiting_for_their_turn_still_pause_reading(loop, twin):
    # The accounting the settle must not lose: whole bodies of requests queued behind one
    # that is running count until each is answered, so a client pipelining large bodies is
    # paused past read_high_water.
    manager = ConnectionManager(loop, echo, Config(read_high_water=8192))
    proto = core_class(twin)(manager)
    transport = Transport()
    proto.connection_made(transport)
    gate = loop.create_future()

    async def slow(request: Any) -> Response:
        await gate
        return Response(b"ok")

    proto._handler = slow
    request = b"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n" + b"q" * 4096
    proto.data_received(request * 4)
    assert proto._body_buffered == 4 * 4096 and proto._pause_mask  # paused: 16 KiB held
    proto._handler = echo
    gate.set_result(None)
    for _ in range(64):
        if proto._task is None and not proto._queue:
            break
        loop.run_until_complete(asyncio.sleep(0))
    assert proto._body_buffered == 0 and proto._pause_mask == 0
    proto.connection_lost(None)
    assert b"".join(transport.out).count(b"HTTP/1.1 200 OK\r\n") == 4


@pytest.mark.parametrize("case", VALID + INVALID, ids=[c.name for c in VALID + INVALID])
def test_both_twins_answer_the_corpus_alike_at_every_split(loop, case):
    _parity(loop, case.raw, _options(case))


def test_the_core_in_use_is_compiled_unless_extensions_are_off():
    from fasthttp.protocol import ConnectionCore

    assert ConnectionCore.__module__ == ("fasthttp._core_py.connection" if NO_EXTENSIONS else "fasthttp._core_c.connection")


def test_rare_paths_are_the_protocols():
    # The core names the rare paths; the protocol implements every one of them.
    from fasthttp._core_py.connection import ConnectionCore

    rare = [name for name, f in vars(ConnectionCore).items() if callable(f) and f.__code__.co_names == ("NotImplementedError",)]
    assert "_fail" in rare and "_take_over" in rare
    for name in rare:
        assert name in vars(HttpProtocol), name


def _answer(request: Any) -> Any:
    path = request.path
    if path == "/text":
        return "text"
    if path == "/json":
        return {"a": 1}
    return Response(b"own", 200, [("X-Own", "1")])


def _answers_with_fields(request: Any) -> Any:
    return _answer(request)


_answers_with_fields.answer_fields = (  # type: ignore[attr-defined]
    ((b"Content-Type", b"text/plain; charset=utf-8"), (b"X-Quiet", b"text")),
    ((b"Content-Type", b"application/json"), (b"X-Quiet", b"json")),
)


def _written(loop: Any, cls: type[HttpProtocol], handler: Any, data: bytes) -> bytes:
    proto = cls(ConnectionManager(loop, handler, Config()))
    transport = Transport()
    proto.connection_made(transport)
    proto.data_received(data)
    proto.connection_lost(None)
    return _DATE.sub(b"\r\nDate: -\r\n", b"".join(transport.out))


@pytest.mark.parametrize("twin", _TWINS)
def test_a_handlers_answer_fields_are_written_with_its_text_and_json_answers(loop, twin):
    # ConnectionManager.answer_fields: a handler that carries answer_fields (the App's quiet
    # path, fasthttp.middleware.stack.QuietForm) has its str and dict/list answers written with
    # them instead of the Content-Type alone; a Response keeps its own fields; the engine's own
    # answers (a malformed request's 400) are as they were.
    cls = core_class(twin)
    data = b"".join(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % p for p in (b"/text", b"/json", b"/own")) + b"GET /bad HTTP/1.1\r\nHost x\r\n\r\n"
    quiet = _written(loop, cls, _answers_with_fields, data)
    plain = _written(loop, cls, _answer, data)
    assert quiet.count(b"HTTP/1.1 200 OK") == plain.count(b"HTTP/1.1 200 OK") == 3
    assert b"Content-Type: text/plain; charset=utf-8\r\nX-Quiet: text\r\nContent-Length: 4\r\n\r\ntext" in quiet
    assert b'Content-Type: application/json\r\nX-Quiet: json\r\nContent-Length: 7\r\n\r\n{"a":1}' in quiet
    assert quiet.count(b"X-Quiet") == 2 and b"X-Quiet" not in plain
    assert quiet.replace(b"X-Quiet: text\r\n", b"").replace(b"X-Quiet: json\r\n", b"") == plain
    assert b"HTTP/1.1 400 Bad Request" in quiet
    assert _written(loop, core_class("py"), _answers_with_fields, data) == quiet


def _answer_json_orjson_refuses(request: Any) -> Any:
    if request.path == "/int-keys":
        return {1: "a", 2: [True, None]}  # non-str keys: orjson raises TypeError
    if request.path == "/big":
        return [2**70]  # beyond 64 bits: the same
    if request.path == "/bad":
        return {"x": object()}  # nothing encodes it: a 500
    return {"plain": "é"}


@pytest.mark.parametrize("twin", _TWINS)
def test_dict_and_list_answers_are_the_json_encoders_bytes_whatever_orjson_refuses(loop, twin):
    # The core calls orjson directly (responses.ORJSON_DUMPS) and falls back to the standard
    # library for what orjson refuses, so the bytes are json_dumps's on either backend; a value
    # neither encodes is the handler's failure (500), and the connection carries on.
    data = b"".join(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % p for p in (b"/int-keys", b"/big", b"/bad", b"/plain"))
    out = _written(loop, core_class(twin), _answer_json_orjson_refuses, data)
    bodies = [json_dumps({1: "a", 2: [True, None]}), json_dumps([2**70]), json_dumps({"plain": "é"})]
    assert bodies[0] == b'{"1":"a","2":[true,null]}' and bodies[1] == b"[1180591620717411303424]"
    for body in bodies:
        assert b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body) in out
    assert out.count(b"HTTP/1.1 200 OK") == 3 and out.count(b"HTTP/1.1 500 Internal Server Error") == 1
    assert out.index(b"HTTP/1.1 500") < out.index(b'{"plain"')


@pytest.mark.parametrize("twin", _TWINS)
def test_a_pipelined_batch_past_read_high_water_is_written_in_order_and_never_touched_again(loop, twin):
    # The responses of one read are batched and written once; past read_high_water the batch
    # is written early (_flush) and the rest follow at the end of the read. A transport may keep
    # what it was given without copying it (uvloop keeps a view): nothing written may change
    # afterwards.
    def handler(request: Any) -> str:
        return "r" * 100 + request.path

    manager = ConnectionManager(loop, handler, Config(read_high_water=1024))
    proto = core_class(twin)(manager)
    kept: list[Any] = []
    transport = Transport()
    transport.write = lambda data: kept.append((data, bytes(data)))  # type: ignore[method-assign]
    proto.connection_made(transport)
    proto.data_received(b"".join(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(40)))
    proto.connection_lost(None)
    assert len(kept) > 1  # flushed past read_high_water, then the rest at the end of the read
    assert all(bytes(data) == copy for data, copy in kept)
    out = b"".join(copy for _, copy in kept)
    assert out.count(b"HTTP/1.1 200 OK\r\n") == 40
    assert re.findall(rb"r{100}(/\d+)", out) == [b"/%d" % i for i in range(40)]


def _fast_table_handler(calls: list[str]) -> Any:
    """A handler with a fast_routes table (fasthttp.application) and an on_error: what each of
    them was called for goes to *calls*."""
    import contextvars

    from fasthttp.errors import HttpError

    var = contextvars.ContextVar("fast_route_leak", default="unset")

    def handler(request: Any) -> Any:
        calls.append(f"handler {request.method} {request.path} {var.get()}")
        return "from the handler"

    def hit(request: Any) -> Any:
        calls.append(f"hit {request.method} {request.path}")
        var.set("leaked")
        return "hit " + request.method

    def refused(request: Any) -> Any:
        calls.append("refused")
        raise HttpError(409, "refused here")

    def broken(request: Any) -> Any:
        calls.append("broken")
        raise ValueError("broken here")

    async def late(request: Any) -> Any:
        calls.append("late")
        return {"late": True}

    def on_error(request: Any, exc: Exception) -> Any:
        calls.append(f"on_error {type(exc).__name__}")
        if isinstance(exc, ValueError):
            raise exc  # the engine's own answer: a 500
        return Response(f"answered {exc}".encode(), 418)

    handler.on_error = on_error  # type: ignore[attr-defined]
    handler.fast_routes = {  # type: ignore[attr-defined]
        "/hit": {"GET": hit, "HEAD": hit, "POST": hit},
        "/refused": {"GET": refused},
        "/broken": {"GET": broken},
    }
    return handler, late


@pytest.mark.parametrize("twin", _TWINS)
def test_the_engine_calls_a_handlers_fast_route_in_the_requests_context_and_answers_its_errors_with_on_error(loop, twin, caplog):
    # fasthttp.application's fast_routes: a path-and-method hit calls the entry (not the
    # handler) in the request's own context (what it sets does not leak into later requests);
    # a miss, by path or by method, calls the handler; an entry's exception, and a body past
    # the limit, go to on_error (whose own failure is the engine's 500); the table is read
    # when a request comes, so an entry added after the connection opened is hit.
    calls: list[str] = []
    handler, late = _fast_table_handler(calls)
    manager = ConnectionManager(loop, handler, Config(max_body_size=5))
    assert manager.fast_routes is handler.fast_routes
    proto = core_class(twin)(manager)
    transport = Transport()
    proto.connection_made(transport)
    caplog.set_level(logging.CRITICAL, logger="fasthttp")  # the 500's traceback
    reqs = [
        b"GET /hit HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /miss HTTP/1.1\r\nHost: x\r\n\r\n",
        b"HEAD /hit HTTP/1.1\r\nHost: x\r\n\r\n",
        b"PUT /hit HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /hit HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
        b"POST /hit HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabcdef",
        b"GET /refused HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /broken HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /late HTTP/1.1\r\nHost: x\r\n\r\n",
    ]
    proto.data_received(b"".join(reqs[:-1]))
    handler.fast_routes["/late"] = {"GET": late}
    proto.data_received(reqs[-1])
    proto.connection_lost(None)
    assert calls == [
        "hit GET /hit",
        "handler GET /miss unset",
        "hit HEAD /hit",
        "handler PUT /hit unset",
        "hit POST /hit",
        "on_error ContentTooLarge",  # checked before the entry runs: it never sees the request
        "refused",
        "on_error HttpError",
        "broken",
        "on_error ValueError",
        "late",
    ]
    out = _DATE.sub(b"\r\nDate: -\r\n", b"".join(transport.out))
    statuses = re.findall(rb"HTTP/1.1 (\d+)", out)
    assert statuses == [b"200", b"200", b"200", b"200", b"200", b"418", b"418", b"500", b"200"]
    assert b"Content-Length: 8\r\n\r\nHTTP/1.1 200" in out and b"hit HEAD" not in out  # HEAD: no body
    assert b"answered refused here" in out and out.endswith(b'{"late":true}')
    if twin != "py":
        proto_py = core_class("py")(manager)
        transport_py = Transport()
        calls.clear()
        proto_py.connection_made(transport_py)
        proto_py.data_received(b"".join(reqs))
        proto_py.connection_lost(None)
        assert _DATE.sub(b"\r\nDate: -\r\n", b"".join(transport_py.out)) == out


def test_a_fast_routes_attribute_that_is_not_a_dict_is_not_used(loop):
    # The core looks the table up with C dict calls: anything else is ignored (the handler
    # answers every request, as for a handler without one).
    def handler(request: Any) -> str:
        return "handler"

    handler.fast_routes = types.MappingProxyType({"/": {"GET": lambda request: "fast"}})  # type: ignore[attr-defined]
    assert ConnectionManager(loop, handler, Config()).fast_routes is None
    assert b"\r\n\r\nhandler" in _written(loop, core_class(_TWINS[-1]), handler, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")


@pytest.mark.parametrize("twin", _TWINS)
def test_the_idle_deadline_after_a_pipelined_read_is_the_managers_and_a_later_response_reads_it_again(loop, twin):
    # The core reads the manager's idle_deadline once per pipelined read (PERF: its coarse
    # clock moves only in the sweep); a response written later, from a handler's Task, reads
    # the value of its own time.
    gate = loop.create_future()

    async def handler(request: Any) -> str:
        if request.path == "/wait":
            await gate
        return "ok"

    manager = ConnectionManager(loop, handler, Config())
    proto = core_class(twin)(manager)
    transport = Transport()
    proto.connection_made(transport)
    manager._tick(1000.0)
    proto.data_received(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n" * 3)
    assert proto._deadline == manager.idle_deadline == 1000.0 + manager.config.keep_alive_timeout
    proto.data_received(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n" * 2 + b"GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
    assert proto._task is not None
    manager._tick(2000.0)  # the sweep moved the clock while the handler waited
    gate.set_result(None)
    for _ in range(16):
        if proto._task is None:
            break
        loop.run_until_complete(asyncio.sleep(0))
    assert proto._task is None and b"".join(transport.out).count(b"HTTP/1.1 200 OK") == 6
    assert proto._deadline == 2000.0 + manager.config.keep_alive_timeout
    proto.connection_lost(None)


@pytest.mark.parametrize("twin", _TWINS)
def test_a_read_leaves_the_connection_on_the_deadline_of_where_it_stopped(loop, twin):
    # A read on an idle connection stamps the header-read deadline only when it ends inside a
    # head (PERF: a read bringing whole requests never reads it); the keep-alive one when it
    # ends between requests. The manager's clock moves between reads, as its sweep moves it.
    from fasthttp._core_py.connection import K_HEAD, K_IDLE

    manager = ConnectionManager(loop, lambda request: "ok", Config())
    cfg = manager.config
    proto = core_class(twin)(manager)
    transport = Transport()
    proto.connection_made(transport)
    reads = [  # (the manager's clock, the read, where the connection is left, its timeout)
        (1000.0, b"GET /a HTT", K_HEAD, cfg.header_timeout),
        (2000.0, b"P/1.1\r\nHost: x\r\n\r\n", K_IDLE, cfg.keep_alive_timeout),
        (3000.0, b"GET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c", K_HEAD, cfg.header_timeout),
        (4000.0, b" HTTP/1.1\r\nHost: x\r\n\r\n", K_IDLE, cfg.keep_alive_timeout),
        (5000.0, b"GET /d HTTP/1.1\r\nHost: x\r\n\r\n", K_IDLE, cfg.keep_alive_timeout),
    ]
    for now, data, kind, timeout in reads:
        manager._tick(now)
        proto.data_received(data)
        assert (proto._kind, proto._deadline) == (kind, now + timeout), data
    assert b"".join(transport.out).count(b"HTTP/1.1 200 OK") == 4
    proto.connection_lost(None)


@pytest.mark.parametrize("logged", [False, True])
@pytest.mark.parametrize("twin", _TWINS)
def test_a_str_answer_goes_out_as_utf8_and_the_access_log_counts_its_bytes(loop, twin, logged):
    # The writer copies a str answer's UTF-8 itself (PERF: no bytes object of its own); with an
    # access log the core encodes it, as the log counts the body's bytes, not its characters.
    seen: list[int] = []
    log = (lambda request, status, size, connection: seen.append(size)) if logged else None
    manager = ConnectionManager(loop, lambda request: "caf\u00e9 \u20ac", Config(), access_log=log)
    proto = core_class(twin)(manager)
    transport = Transport()
    proto.connection_made(transport)
    proto.data_received(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.1\r\nHost: x\r\n\r\n")
    first, second = b"".join(transport.out).split(b"HTTP/1.1 200 OK\r\n")[1:]
    assert b"Content-Length: 9\r\n" in first and first.endswith(b"\r\n\r\ncaf\xc3\xa9 \xe2\x82\xac")
    assert b"Content-Length: 9\r\n" in second and second.endswith(b"\r\n\r\n")  # HEAD: no body
    assert seen == ([9, 0] if logged else [])
    proto.connection_lost(None)


@pytest.mark.parametrize("twin", _TWINS)
def test_a_lone_post_and_pipelined_posts_each_go_out_in_one_write(loop, twin):
    # A POST whose head, body and end arrive in one read is one request: its response is written
    # straight, not through a batch (PERF, issue 17); two POSTs in one read are a batch, one
    # write; the bytes are the same either way (the parity tests above, at every split).
    def handler(request: Any) -> str:
        return "got " + request.path

    post = b"POST /%d HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
    for count in (1, 2, 3):
        proto = core_class(twin)(ConnectionManager(loop, handler, Config()))
        transport = Transport()
        proto.connection_made(transport)
        proto.data_received(b"".join(post % i for i in range(count)))
        assert len(transport.out) == 1, count
        out = bytes(transport.out[0])
        assert out.count(b"HTTP/1.1 200 OK\r\n") == count
        assert re.findall(rb"got (/\d+)", out) == [b"/%d" % i for i in range(count)]
        proto.connection_lost(None)


# -- the write: straight to the socket when nothing waits before it (ConnectionCore._write) -------


class SocketTransport(Transport):
    """A transport over one end of a real socket pair, as the loops' are to the core: its
    descriptor (``get_extra_info("socket")``), its unsent buffer, whether it closes; what it is
    given to write it keeps (its buffer), in order."""

    def __init__(self, sock: socket.socket, sslcontext: Any = None) -> None:
        super().__init__()
        self.sock = sock
        self.sslcontext = sslcontext
        self.closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "socket":
            return self.sock
        if name == "sslcontext":
            return self.sslcontext
        return super().get_extra_info(name, default)

    def get_write_buffer_size(self) -> int:
        return sum(map(len, self.out))

    def is_closing(self) -> bool:
        return self.closing


def _big_answers(request: Any) -> Any:
    # A large answer for /big (more than a small socket holds), a short one otherwise: each
    # says which request it answers.
    if request.path.startswith("/big"):
        return Response(request.path.encode() * 20000)
    return "answer " + request.path


@contextlib.contextmanager
def _socket_connection(loop: Any, twin: str, **extra: Any) -> Iterator[tuple[Any, SocketTransport, socket.socket]]:
    """A core of *twin* over one end of a socketpair, the test's *peer* the other; lost and
    closed after the block."""
    ours, peer = socket.socketpair()
    ours.setblocking(False)
    peer.settimeout(10)  # bounded: a test that waits wrongly fails instead of hanging
    proto = core_class(twin)(ConnectionManager(loop, _big_answers, Config()))
    transport = SocketTransport(ours, **extra)
    proto.connection_made(transport)
    try:
        yield proto, transport, peer
    finally:
        proto.connection_lost(None)
        ours.close()
        peer.close()


def _received(peer: socket.socket, size: int) -> bytes:
    got = bytearray()
    while len(got) < size:
        chunk = peer.recv(65536)
        assert chunk, f"EOF after {len(got)} of {size} bytes"
        got += chunk
    return bytes(got)


def _nothing_waits(peer: socket.socket) -> bool:
    peer.setblocking(False)
    try:
        peer.recv(1)
    except BlockingIOError:
        return True
    finally:
        peer.settimeout(10)
    return False


@pytest.fixture
def direct_writes(monkeypatch):
    # The pure twin writes through the transport (DIRECT_WRITES, PERF); these tests run the
    # direct path's logic on it too, so both twins meet the same cases.
    from fasthttp._core_py import connection as pure_core

    monkeypatch.setattr(pure_core, "DIRECT_WRITES", True)


def test_the_pure_twin_writes_through_the_transport_and_the_compiled_one_to_the_socket(loop):
    from fasthttp._core_py import connection as pure_core

    assert pure_core.DIRECT_WRITES is False
    for twin in _TWINS:
        with _socket_connection(loop, twin) as (proto, transport, peer):
            proto.data_received(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
            if twin == "py":
                (data,) = transport.out
                assert data.endswith(b"\r\n\r\nanswer /a") and _nothing_waits(peer)
            else:
                assert transport.out == [] and peer.recv(65536).endswith(b"\r\n\r\nanswer /a")


@pytest.mark.usefixtures("direct_writes")
@pytest.mark.parametrize("twin", _TWINS)
def test_a_response_goes_straight_to_the_socket_when_the_transport_holds_nothing(loop, twin):
    with _socket_connection(loop, twin) as (proto, transport, peer):
        proto.data_received(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        assert transport.out == []  # the transport was not used
        first = _DATE.sub(b"\r\nDate: -\r\n", peer.recv(65536))
        assert first.startswith(b"HTTP/1.1 200 OK\r\n") and first.endswith(b"\r\n\r\nanswer /a")
        # A pipelined batch: one send, the responses in request order.
        proto.data_received(b"".join(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(16)))
        assert transport.out == []
        out = bytearray()
        while out.count(b"HTTP/1.1 200 OK") < 16 or not out.endswith(b"answer /15"):
            out += peer.recv(65536)
        assert re.findall(rb"answer (/\d+)", out) == [b"/%d" % i for i in range(16)]


@pytest.mark.usefixtures("direct_writes")
@pytest.mark.parametrize("twin", _TWINS)
def test_what_the_socket_does_not_take_goes_to_the_transport_and_later_writes_follow_it(loop, twin):
    # The peer reads late: the socket takes the start of the large response, the transport
    # queues the rest, and every response after it goes to the transport too (it holds bytes
    # that must go first): the peer gets every byte once, in order.
    with _socket_connection(loop, twin) as (proto, transport, peer):
        transport.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        proto.data_received(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        assert len(transport.out) == 1  # the rest of the large response
        early = peer.recv(65536)  # room in the socket again, while the transport holds the rest
        proto.data_received(b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n")
        proto.data_received(b"GET /0 HTTP/1.1\r\nHost: x\r\n\r\nGET /1 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert len(transport.out) == 3
        queued = b"".join(transport.out)
        assert queued.endswith(b"answer /1") and queued.index(b"answer /after") < queued.index(b"answer /0")
        # The peer starts reading; the transport drains its buffer (what the loop does once
        # the socket is writable).
        got = bytearray(early)

        def read(until: bytes) -> None:
            while not got.endswith(until):
                chunk = peer.recv(65536)
                assert chunk, "EOF"
                got.extend(chunk)

        reader = threading.Thread(target=read, args=(b"answer /1",))
        reader.start()
        transport.sock.settimeout(10)
        transport.sock.sendall(queued)
        transport.sock.setblocking(False)
        transport.out.clear()
        reader.join(10)
        proto.data_received(b"GET /last HTTP/1.1\r\nHost: x\r\n\r\n")
        assert transport.out == []  # nothing waits: straight to the socket again
        read(b"answer /last")
        out = _DATE.sub(b"\r\nDate: -\r\n", bytes(got))
        body = b"/big" * 20000
        assert out.count(body) == 1
        assert re.findall(rb"answer (/(?:after|last|\d+))", out) == [b"/after", b"/0", b"/1", b"/last"]
        assert out.index(body) < out.index(b"answer /after")
        assert _nothing_waits(peer)


@pytest.mark.usefixtures("direct_writes")
@pytest.mark.parametrize("twin", _TWINS)
def test_a_send_to_a_peer_that_is_gone_is_the_transports_write_to_meet_and_report(loop, twin):
    # The send fails (EPIPE): the whole response goes to the transport's write, which meets the
    # same error and reports it (connection_lost), as without the direct path.
    with _socket_connection(loop, twin) as (proto, transport, peer):
        peer.close()
        proto.data_received(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        (data,) = transport.out
        assert data.startswith(b"HTTP/1.1 200 OK\r\n") and data.endswith(b"\r\n\r\nanswer /a")


@pytest.mark.usefixtures("direct_writes")
@pytest.mark.parametrize("twin", _TWINS)
@pytest.mark.parametrize("how", ["tls", "closing", "lost"])
def test_tls_a_closing_transport_and_a_lost_connection_are_written_through_the_transport(loop, twin, how):
    # TLS: the bytes must go through the TLS layer (get_extra_info("socket") still answers with
    # the raw socket). Closing (close, abort) or lost: the transport decides what happens to
    # them (dropped after an abort), and a lost connection's descriptor may be another's.
    with _socket_connection(loop, twin, sslcontext=object() if how == "tls" else None) as (proto, transport, peer):
        if how == "closing":
            transport.closing = True
        elif how == "lost":
            proto.data_received(b"GET /first HTTP/1.1\r\nHost: x\r\n\r\n")  # the descriptor known
            assert transport.out == []
            first = b""
            while not first.endswith(b"answer /first"):
                first += peer.recv(65536)
            proto._closed = True  # connection_lost, without ending the test's connection
        proto._send(b"interim")  # a lost connection's _send writes nothing
        proto.data_received(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        assert transport.out[:-1] == ([] if how == "lost" else [b"interim"])
        assert transport.out[-1].endswith(b"\r\n\r\nanswer /a")
        assert _nothing_waits(peer)
