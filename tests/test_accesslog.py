"""The access log: off by default, the combined, JSON and custom formats, refused fields, and
durations measured to the microsecond."""

from __future__ import annotations

import io
import json
import logging
import re
from types import SimpleNamespace

import pytest

from fasthttp import accesslog
from fasthttp.accesslog import AccessLog

from helpers_engine import hello_app
from helpers_server import Client, run, serving


def test_access_log_is_off_by_default(loop):
    async def scenario():
        async with serving(hello_app()) as server:
            assert server.manager.access_log is None

    run(loop, scenario())


def test_access_log_combined_format(loop):
    out = io.StringIO()

    async def scenario():
        async with serving(hello_app(), access_log=out) as server:
            client = await Client.connect(server)
            await client.request("GET", "/?q=1", headers=[("User-Agent", "tester/1.0"), ("Referer", "http://r/")])
            await client.close()

    run(loop, scenario())
    line = out.getvalue().strip()
    assert re.fullmatch(
        r'127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET /\?q=1 HTTP/1\.1" 200 5 "http://r/" "tester/1\.0"',
        line,
    ), line


def test_access_log_json_lines(loop):
    out = io.StringIO()

    async def scenario():
        async with serving(hello_app(), access_log=out, log_format="json") as server:
            client = await Client.connect(server)
            await client.request("GET", "/")
            await client.request("GET", "/missing")
            await client.close()

    run(loop, scenario())
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["method"], r["path"], r["status"], r["bytes"]) for r in records] == [("GET", "/", 200, 5), ("GET", "/missing", 404, 9)]
    assert records[0]["client"] == "127.0.0.1" and records[0]["duration_ms"] >= 0


def test_access_log_custom_fields(loop):
    out = io.StringIO()

    async def scenario():
        async with serving(hello_app(), access_log=AccessLog(out, "%m %U%q %s %B %{X-Trace}i %D")) as server:
            client = await Client.connect(server)
            await client.request("GET", "/?a=b", headers=[("X-Trace", "abc")])
            await client.close()

    run(loop, scenario())
    method, path, status, size, trace, micros = out.getvalue().split()
    assert (method, path, status, size, trace) == ("GET", "/?a=b", "200", "5", "abc")
    assert int(micros) >= 0


def test_access_log_rejects_unknown_fields():
    with pytest.raises(ValueError):
        AccessLog(io.StringIO(), "%Z")


# -- durations and client addresses, on stand-ins for the engine's request and connection ------


def _request(received_at=0.0):
    return SimpleNamespace(
        method="GET", path="/p", query="", target=b"/p", version="1.1", headers={}, received_at=received_at
    )


def _connection(client=("127.0.0.1", 50000)):
    return SimpleNamespace(client=client)


def test_durations_have_microsecond_resolution(monkeypatch):
    # %D is documented in microseconds and duration_ms to the microsecond: a request 244.140625
    # microseconds long (2**-12 s, exact in binary) must not read as 0 or as a whole millisecond.
    monkeypatch.setattr(accesslog, "perf_counter", lambda: 1000.0 + 2**-12)
    out = io.StringIO()
    log = AccessLog(out, "%D %T")
    log(_request(received_at=1000.0), 200, 5, _connection())
    json_out = io.StringIO()
    json_log = AccessLog(json_out, "json")
    json_log(_request(received_at=1000.0), 200, 5, _connection())
    log.close()
    json_log.close()
    assert out.getvalue() == "244 0.000244\n"
    assert json.loads(json_out.getvalue())["duration_ms"] == 0.244


def test_sub_millisecond_requests_are_not_rounded_to_milliseconds(loop):
    # The engine stamps the head on the clock the log reads (time.perf_counter). A loop clock in
    # whole milliseconds (uvloop's loop.time()) would make every %D a multiple of 1000; with five
    # requests, all five landing on a multiple by chance has a probability of 1e-15.
    out = io.StringIO()

    async def scenario():
        async with serving(hello_app(), access_log=AccessLog(out, "%D")) as server:
            client = await Client.connect(server)
            for _ in range(5):
                await client.request("GET", "/")
            await client.close()

    run(loop, scenario())
    micros = [int(line) for line in out.getvalue().split()]
    assert len(micros) == 5 and all(m >= 0 for m in micros)
    assert any(m % 1000 for m in micros), micros


def test_a_response_without_a_request_logs_dashes_and_no_duration():
    out = io.StringIO()
    log = AccessLog(out, '%h "%r" %m %U%q %H %s %b %D %{User-Agent}i')
    log(None, 400, 11, _connection())
    log.close()
    assert out.getvalue() == '127.0.0.1 "-" - - - 400 11 0 -\n'


@pytest.mark.parametrize(
    "client, logged",
    [
        (("127.0.0.1", 50000), "127.0.0.1"),
        (("::1", 50000, 0, 0), "::1"),
        ("/run/app.sock", "unix:/run/app.sock"),
        (b"\0app", "unix:@app"),
        ("", "unix"),
        (b"", "unix"),
        (None, "unix"),
    ],
)
def test_client_addresses_of_each_family(client, logged):
    out = io.StringIO()
    log = AccessLog(out, "%h")
    log(_request(), 200, 0, _connection(client))
    log.close()
    assert out.getvalue() == logged + "\n"


def test_lines_are_buffered_until_flushed_and_a_logger_gets_info_records(caplog):
    logger = logging.getLogger("fasthttp.test.access")
    log = AccessLog(logger, "%s")
    with caplog.at_level(logging.INFO, logger="fasthttp.test.access"):
        log(_request(), 204, 0, _connection())
        assert caplog.messages == []
        log.flush()
        assert caplog.messages == ["204"]


def test_a_path_target_is_appended_to(tmp_path):
    path = tmp_path / "access.log"
    path.write_text("earlier\n")
    log = AccessLog(str(path), "%m %s")
    log(_request(), 200, 5, _connection())
    log.close()
    assert path.read_text() == "earlier\nGET 200\n"


def test_quotes_and_backslashes_in_the_request_line_are_escaped(loop):
    # Before: GET /a"b\c ended the quoted %r early ("GET /a"b\c HTTP/1.1"), so a client could
    # forge the fields after it. After: escaped as the header fields are (Apache's \" and \\).
    out = io.StringIO()

    async def scenario():
        async with serving(hello_app(), access_log=out) as server:
            client = await Client.connect(server)
            await client.send(b'GET /a"b\\c?x="\\ HTTP/1.1\r\nHost: t\r\nUser-Agent: a"b\r\n\r\n')
            await client.read_response()
            await client.close()

    run(loop, scenario())
    line = out.getvalue().strip()
    assert '"GET /a\\"b\\\\c?x=\\"\\\\ HTTP/1.1"' in line, line
    assert line.endswith('"-" "a\\"b"'), line
    # Every quoted field parses back: no unescaped quote inside one.
    fields = re.findall(r'"((?:[^"\\]|\\.)*)"', line)
    assert fields[0] == 'GET /a\\"b\\\\c?x=\\"\\\\ HTTP/1.1' and len(fields) == 3


def test_path_and_query_fields_are_escaped_too():
    out = io.StringIO()
    log = AccessLog(out, '"%U%q"')
    req = _request()
    req.path, req.query = '/a"b\\', 'q="'
    log(req, 200, 0, _connection())
    log.close()
    assert out.getvalue() == '"/a\\"b\\\\?q=\\""\n'
