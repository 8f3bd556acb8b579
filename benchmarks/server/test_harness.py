"""The harness's own parts, tested without load: parsing, validation, statistics, reports, apps.

Run by CI's ``pytest benchmarks`` so the harness cannot rot between the (long, manual) load runs.
Nothing here starts a server, runs wrk or measures time.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time

import pytest

from . import httpcheck, nginx, procstat, report, run, scenarios, servers, wrk
from .apps import common, uvicorn_raw

WRK_TEXT = """Running 2s test @ http://127.0.0.1:8000/plaintext
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.10ms  200.00us   5.00ms   90.00%
  20000 requests in 2.00s, 2.50MB read
  Socket errors: connect 0, read 3, write 0, timeout 1
  Non-2xx or 3xx responses: 12
Requests/sec:  10000.00
Transfer/sec:      1.25MB
"""


def _record(**overrides):
    record = {
        "requests": 1000,
        "bytes": 1000 * 150,
        "errors": {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0},
        "failure": None,
    }
    record.update(overrides)
    return record


# --- wrk ----------------------------------------------------------------------------------------


def test_wrk_summary_is_read_from_the_done_callback_json_line():
    line = ('WRKJSON {"requests":500,"duration_us":2000000,"bytes":75000,"connect":0,"read":1,'
            '"write":0,"status":2,"timeout":0,"lat_mean_us":900.0,"lat_p50_us":800,'
            '"lat_p99_us":4000,"lat_max_us":9000}')
    result = wrk.parse_output("Running 2s test\n" + line + "\n")
    assert (result.requests, result.rps, result.bytes) == (500, 250.0, 75000)
    assert result.non_2xx == 2 and result.socket_errors == 1
    assert result.latency_p99_ms == 4.0 and result.failure is None


def test_wrk_text_output_is_parsed_when_no_json_line_is_printed():
    result = wrk.parse_output(WRK_TEXT)
    assert result.requests == 20000 and result.duration_s == 2.0
    assert result.errors == {"connect": 0, "read": 3, "write": 0, "status": 12, "timeout": 1}
    assert result.bytes == int(2.5 * 1024**2)


def test_wrk_output_without_a_summary_is_a_failure():
    assert wrk.parse_output("unable to connect to 127.0.0.1:1 Connection refused\n").failure


def test_wrk_command_is_pinned_bounded_and_whole_seconds():
    cmd = wrk.command("http://127.0.0.1:1/x", duration_s=5, connections=64, script="s.lua",
                      headers=("Connection: close",), timeout_s=4, cpu=1)
    assert cmd[:3] == ["taskset", "-c", "1"]
    assert "-d5s" in cmd and "-c64" in cmd and "-t1" in cmd and "--timeout=4s" in cmd
    assert cmd[cmd.index("-H") + 1] == "Connection: close" and cmd[-1] == "http://127.0.0.1:1/x"


# --- validation and statistics ------------------------------------------------------------------


def test_a_run_with_error_statuses_is_invalid():
    record = _record(errors={"connect": 0, "read": 0, "write": 0, "status": 5, "timeout": 0})
    assert "non-2xx" in report.validate(record, 13)


def test_a_run_with_socket_errors_over_one_percent_is_invalid():
    record = _record(errors={"connect": 0, "read": 0, "write": 11, "status": 0, "timeout": 0})
    assert "socket errors" in report.validate(record, 13)


def test_a_run_whose_responses_are_shorter_than_the_body_is_invalid():
    assert "bytes" in report.validate(_record(bytes=1000 * 100), 4096)


def test_eof_after_each_response_is_tolerated_only_where_connections_are_closed_on_purpose():
    errors = {"connect": 0, "read": 1000, "write": 0, "status": 0, "timeout": 0}
    assert report.validate(_record(errors=errors), 13) is not None
    record = _record(errors=errors)
    assert report.validate(record, 13, closes_connections=True) is None
    assert "Connection: close" in record["note"]


def test_rows_report_median_min_max_and_ratios_to_the_baseline():
    records = []
    for server, values in (("uvicorn-raw", (100, 110, 90)), ("fast", (300, 330, 270))):
        for rep, rps in enumerate(values):
            records.append({"scenario": "plaintext", "server": server, "rep": rep, "rps": rps,
                            "cpu_us_per_req": 1e6 / rps / 10, "p99_ms": 1.0, "invalid": None})
    table = report.summarize(records, ["plaintext"], ["uvicorn-raw", "fast"], {})
    row = table["plaintext"]["fast"]
    assert row.status == "ok" and row.rps == (300, 270, 330)
    assert row.rps_ratio == pytest.approx(3.0) and row.cpu_ratio == pytest.approx(1 / 3)


def test_a_row_with_one_invalid_repetition_gets_no_figure():
    records = [
        {"scenario": "json", "server": "uvicorn-raw", "rps": 100, "cpu_us_per_req": 40, "invalid": None},
        {"scenario": "json", "server": "cheat", "rps": 900, "cpu_us_per_req": 4, "invalid": None},
        {"scenario": "json", "server": "cheat", "rps": 990, "cpu_us_per_req": 4, "invalid": "5 non-2xx/3xx responses"},
    ]
    row = report.summarize(records, ["json"], ["uvicorn-raw", "cheat"], {})["json"]["cheat"]
    assert row.status == "invalid" and row.rps is None and row.rps_ratio is None


def test_skipped_rows_keep_their_reason():
    table = report.summarize([], ["route"], ["fasthttp"], {("route", "fasthttp"): "answered 404"})
    assert table["route"]["fasthttp"].status == "skipped"
    assert table["route"]["fasthttp"].reason == "answered 404"


def _meta():
    return {"date": "today", "elapsed_s": 1.0, "command": "python -m benchmarks.server --quick", "quick": True,
            "reps": 1, "duration_s": 2, "warmup_s": 0, "server_cpu": 0, "client_cpu": 1,
            "machine": {"CPU": "test"}, "servers": {"uvicorn-raw": "baseline"}}


def test_markdown_has_a_table_per_scenario_the_memory_table_and_the_command():
    records = [{"scenario": "plaintext", "server": "uvicorn-raw", "rps": 1234.0, "cpu_us_per_req": 40.0,
                "p99_ms": 2.0, "invalid": None}]
    table = report.summarize(records, ["plaintext"], ["uvicorn-raw"], {})
    memory = {"uvicorn-raw": {"connections": 10, "open_connections": 10, "idle_rss_kib": 20480,
                              "loaded_rss_kib": 20560, "per_connection_kib": 8.0, "processes": 1}}
    text = report.markdown(table, {"plaintext": ("Plaintext", "GET /plaintext")}, memory, _meta())
    assert "| uvicorn-raw | 1,234 [1,234–1,234] | 1.00× | 40.0 [40.0–40.0] | 1.00× |" in text
    assert "| uvicorn-raw | 20.0 MiB | 20.1 MiB | 8.0 KiB | 10 | 1 | ok |" in text
    assert "python -m benchmarks.server --quick" in text


def test_chart_is_written_as_png(tmp_path):
    pytest.importorskip("matplotlib")
    records = [{"scenario": s, "server": n, "rps": r, "cpu_us_per_req": 1e6 / r, "p99_ms": 1.0, "invalid": None}
               for s in ("plaintext", "json") for n, r in (("uvicorn-raw", 100.0), ("other", 250.0))]
    table = report.summarize(records, ["plaintext", "json"], ["uvicorn-raw", "other", "absent"],
                             {("plaintext", "absent"): "x", ("json", "absent"): "x"})
    info = {"plaintext": ("Plaintext", ""), "json": ("JSON", "")}
    memory = {"uvicorn-raw": {"connections": 10, "idle_rss_kib": 20480, "per_connection_kib": 8.0},
              "other": {"connections": 10, "idle_rss_kib": 20480, "per_connection_kib": 90.0,
                        "failure": "only 2/10 connections stayed open"}}
    path = tmp_path / "chart.png"
    report.chart(table, info, memory, str(path), "test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- HTTP checks (read by fasthttp.testing.ResponseReader) --------------------------------------


def test_response_reader_reads_pipelined_responses_split_at_every_byte():
    wire = (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=1\r\nde\r\n0\r\nT: 1\r\n\r\n"
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
    for split in range(len(wire) + 1):
        reader = httpcheck.ResponseReader()
        reader.expect(3)
        reader.feed(wire[:split])
        reader.feed(wire[split:])
        assert [(r.status, r.body) for r in reader.responses] == [(200, b"hello"), (200, b"abcde"), (404, b"")]


def test_response_without_framing_ends_at_eof():
    reader = httpcheck.ResponseReader()
    reader.expect()
    reader.feed(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\npart")
    reader.feed(b"ial")
    assert reader.responses == []
    reader.feed_eof()
    assert reader.responses[0].body == b"partial"


def test_a_malformed_status_line_is_an_error():
    reader = httpcheck.ResponseReader()
    reader.expect()
    with pytest.raises(httpcheck.HttpCheckError):
        reader.feed(b"garbage\r\n\r\n")


def test_a_response_no_request_claims_is_an_error_at_the_close():
    reader = httpcheck.ResponseReader()
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert reader.responses == []
    with pytest.raises(httpcheck.HttpCheckError):
        reader.feed_eof()


def test_a_response_cut_short_by_the_close_is_an_error():
    reader = httpcheck.ResponseReader()
    reader.expect()
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab")
    with pytest.raises(httpcheck.HttpCheckError):
        reader.feed_eof()


# --- scenarios and apps -------------------------------------------------------------------------


def test_every_scenario_script_reports_its_summary_as_json():
    for scenario in scenarios.SCENARIOS:
        script = scenarios.lua_script(scenario)
        assert "WRKJSON" in script and "done = function" in script
        assert scenario.checker is not None


def test_routing_scenario_covers_all_one_hundred_routes():
    assert len(set(scenarios.ROUTE_PATHS)) == common.ROUTE_COUNT == 100
    assert all(common.route_param(p) == p.rsplit("/", 1)[1] for p in scenarios.ROUTE_PATHS)


def test_hand_routing_rejects_unknown_prefixes_and_extra_segments():
    assert common.route_param("/route100/1") is None
    assert common.route_param("/route1/a/b") is None
    assert common.route_param("/route1/") is None


def _asgi(path: str, method: str = "GET", body: bytes = b""):
    sent = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "path": path, "method": method}
    asyncio.run(uvicorn_raw.app(scope, receive, send))
    headers = dict(sent[0].get("headers", []))
    return sent[0]["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])


def test_raw_asgi_baseline_answers_every_route():
    assert _asgi("/plaintext") == (200, {b"content-type": b"text/plain", b"content-length": b"13"}, common.PLAINTEXT)
    status, _, body = _asgi("/json")
    assert status == 200 and json.loads(body) == common.JSON_MESSAGE
    assert _asgi("/route99/694")[2] == b"694"
    assert _asgi("/echo", "POST", b"x" * 4096)[2] == b"x" * 4096
    assert _asgi("/nowhere")[0] == 404


# --- hosting: the ASGI and WSGI comparisons ------------------------------------------------------


def test_flask_app_answers_every_route():
    pytest.importorskip("flask")
    from .apps import flask_app

    client = flask_app.app.test_client()
    r = client.get("/plaintext")
    assert (r.status_code, r.content_type, r.data) == (200, "text/plain", common.PLAINTEXT)
    r = client.get("/json")
    assert r.content_type == "application/json" and json.loads(r.data) == common.JSON_MESSAGE
    assert client.get("/route0/1").data == b"1" and client.get("/route99/694").data == b"694"
    assert client.post("/echo", data=b"x" * 4096).data == b"x" * 4096
    r = client.get("/file")
    assert r.content_type == "application/octet-stream" and r.get_data() == common.read_file()
    r.close()
    assert client.get("/nowhere").status_code == 404


def test_hosting_groups_name_known_servers_and_each_serves_one_app_on_several_servers():
    from .run import _parse_list

    known = [s.name for s in servers.SERVERS + servers.HOSTING_SERVERS]
    for group, names in servers.GROUPS.items():
        assert set(names) <= set(known), group
        assert _parse_list(group, known, "servers", servers.GROUPS) == [n for n in known if n in names]
    assert _parse_list("hosting-wsgi,fasthttp", known, "servers", servers.GROUPS) == ["fasthttp", "gunicorn-flask", "fasthttp-flask", "granian-flask"]
    with pytest.raises(SystemExit):
        _parse_list("hosting-nope", known, "servers", servers.GROUPS)
    # Same application within a comparison: the raw ASGI callable, the Starlette app, the Flask app.
    apps = {spec.name: next(a for a in spec.command(8000) if a.startswith("benchmarks.server.apps.")) for spec in servers.HOSTING_SERVERS}
    assert apps["fasthttp-asgi"] == apps["granian-asgi"] == "benchmarks.server.apps.uvicorn_raw:app"
    assert apps["fasthttp-starlette"] == apps["granian-starlette"] == "benchmarks.server.apps.starlette_app:app"
    assert apps["fasthttp-flask"] == apps["gunicorn-flask"] == apps["granian-flask"] == "benchmarks.server.apps.flask_app:app"
    assert "gthread" in servers.by_name("gunicorn-flask").command(8000)


def test_the_default_run_leaves_the_hosting_rows_out():
    from .run import build_parser

    args = build_parser("x").parse_args([])
    assert args.servers == "all"  # main() expands "all" to servers.SERVERS only
    assert not {s.name for s in servers.HOSTING_SERVERS} & {s.name for s in servers.SERVERS}


# --- /proc --------------------------------------------------------------------------------------


def test_proc_readers_see_this_process():
    me = os.getpid()
    assert procstat.process_tree(me)[0] == me
    assert procstat.cpu_seconds([me]) > 0
    assert procstat.rss_kib(me) > 0
    assert procstat.cpus_allowed(me)


def test_every_server_listens_on_loopback_only():
    for spec in servers.SERVERS + servers.HOSTING_SERVERS:
        argv = spec.command(8000)
        text = " ".join(argv)
        if "-c" in argv and argv[argv.index("-c") + 1].endswith(".conf"):  # nginx: its generated file
            with open(argv[argv.index("-c") + 1]) as f:
                text = f.read()
        assert "127.0.0.1" in text and "0.0.0.0" not in text


# --- soak -----------------------------------------------------------------------------------------


def test_every_soak_step_sends_the_requests_it_expects_answers_for():
    from fasthttp._pure.parser import RequestHead, RequestParser
    from fasthttp.errors import BadRequest

    from . import soak

    assert {s.name for s in soak.STEPS} >= {"plaintext", "post", "pipeline", "not-found", "malformed", "disconnect"}
    for step in soak.STEPS:
        parser = RequestParser()
        try:
            heads = [e for e in parser.feed(step.payload("127.0.0.1:1")) if isinstance(e, RequestHead)]
        except BadRequest:
            assert step.name == "malformed" and step.statuses == (400,) and step.server_closes
            continue
        assert len(heads) == len(step.statuses), step.name


def test_the_soak_mix_follows_the_weights():
    from . import soak

    choose = soak.plan(random.Random(1))
    counts: dict[str, int] = {}
    for _ in range(10000):
        name = choose().name
        counts[name] = counts.get(name, 0) + 1
    total = sum(s.weight for s in soak.STEPS)
    for step in soak.STEPS:
        assert abs(counts[step.name] / 10000 - step.weight / total) < 0.02, step.name


def test_the_soak_verdict_is_rss_within_five_percent_and_descriptors_back():
    from . import soak

    ok = soak.SoakResult(requests=10, rss_warm_kib=100_000, rss_after_kib=104_999, fds_start=12, fds_after=12)
    assert soak.verdict(ok) is None and ok.as_dict()["passed"]
    grown = soak.SoakResult(requests=10, rss_warm_kib=100_000, rss_after_kib=105_001, fds_start=12, fds_after=12)
    assert "RSS grew" in soak.verdict(grown)
    leaked = soak.SoakResult(requests=10, rss_warm_kib=100_000, rss_after_kib=100_000, fds_start=12, fds_after=13)
    assert "descriptors" in soak.verdict(leaked)
    assert "unexpected" in soak.verdict(soak.SoakResult(errors=1, error_samples=["x"], rss_warm_kib=1, rss_after_kib=1))
    assert soak.fd_count(os.getpid()) > 0


def test_a_soak_exchange_reads_pipelined_answers_and_hangs_up_on_purpose():
    import socket

    from . import soak
    from .httpcheck import ResponseReader

    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    ours, theirs = socket.socketpair()
    try:
        conn = soak._Conn.__new__(soak._Conn)
        conn.sock, conn.reader = ours, ResponseReader()
        theirs.sendall(ok * soak.PIPELINE)
        step = next(s for s in soak.STEPS if s.name == "pipeline")
        statuses, usable = soak.exchange(conn, step, "h", deadline=time.monotonic() + 5)
        assert statuses == [200] * soak.PIPELINE and usable
        theirs.recv(1 << 20)
        theirs.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 2048)
        step = next(s for s in soak.STEPS if s.name == "disconnect")
        statuses, usable = soak.exchange(conn, step, "h", deadline=time.monotonic() + 5)
        assert statuses == [200] and not usable
    finally:
        ours.close()
        theirs.close()


def test_soak_is_a_command_line_mode():
    from . import run

    args = run.build_parser("x").parse_args(["--soak", "--soak-requests", "1000"])
    assert args.soak and args.soak_requests == 1000


# -- the websocket scenarios (wsbench.py) ------------------------------------------------------------


def test_ws_client_frames_are_masked_frames_a_server_reads_back():
    from wsproto.connection import Connection, ConnectionType
    from wsproto.events import BytesMessage, TextMessage

    from . import wsbench

    for scenario in wsbench.WS_SCENARIOS:
        data = wsbench.payload(scenario)
        assert len(data) == scenario.size
        server = Connection(ConnectionType.SERVER)
        server.receive_data(wsbench.client_frame(scenario.opcode, data) * 2)
        events = list(server.events())
        kind = TextMessage if scenario.opcode == 1 else BytesMessage
        assert [type(e) for e in events] == [kind, kind]
        assert all(e.message_finished for e in events)
        assert b"".join(e.data.encode() if kind is TextMessage else e.data for e in events) == data * 2
    for n in (0, 1, 3, 125, 126, 65535, 65536):
        server = Connection(ConnectionType.SERVER)
        server.receive_data(wsbench.client_frame(2, bytes(range(256)) * (n // 256) + bytes(n % 256)))
        (event,) = list(server.events())
        assert len(event.data) == n


def test_ws_frame_counter_counts_server_frames_split_at_every_byte():
    from wsproto.connection import Connection, ConnectionType
    from wsproto.events import BytesMessage, TextMessage

    from . import wsbench

    server = Connection(ConnectionType.SERVER)
    stream = server.send(TextMessage("hi")) + server.send(BytesMessage(b"x" * 300)) + server.send(BytesMessage(b"y" * 70000))
    for cut in range(0, len(stream), 997):
        counter = wsbench.FrameCounter(keep=True)
        total = counter.feed(stream[:cut]) + sum(counter.feed(stream[i : i + 1]) for i in range(cut, min(len(stream), cut + 20)))
        total += counter.feed(stream[min(len(stream), cut + 20) :])
        assert total == 3
        assert counter.frames == [(1, b"hi"), (2, b"x" * 300), (2, b"y" * 70000)]
        assert not counter.buffer


def test_ws_handshake_request_is_one_fasthttp_accepts_and_the_apps_echo():
    from fasthttp.testing import TestClient

    from . import wsbench
    from .apps import fasthttp_app

    head = wsbench.handshake_request("127.0.0.1", 8000).decode()
    fields = dict(line.split(": ", 1) for line in head.split("\r\n")[1:] if line)
    with TestClient(fasthttp_app.app) as client:
        assert client.get("/ws", headers=fields).status == 101
        with client.websocket_connect(wsbench.PATH) as ws:
            for scenario in wsbench.WS_SCENARIOS:
                message = wsbench.payload(scenario)
                ws.send(message.decode() if scenario.opcode == 1 else message)
                assert ws.receive() == (message.decode() if scenario.opcode == 1 else message)


def test_ws_uvicorn_peer_echoes_text_and_bytes():
    from .apps import uvicorn_ws

    incoming = [{"type": "websocket.connect"}, {"type": "websocket.receive", "text": "t"},
                {"type": "websocket.receive", "bytes": b"b"}, {"type": "websocket.disconnect", "code": 1000}]
    sent = []

    async def receive():
        return incoming.pop(0)

    async def send(message):
        sent.append(message)

    asyncio.run(uvicorn_ws.app({"type": "websocket", "path": "/ws"}, receive, send))
    assert sent == [{"type": "websocket.accept"}, {"type": "websocket.send", "text": "t"}, {"type": "websocket.send", "bytes": b"b"}]


def test_ws_report_has_a_row_per_server_and_scenario():
    from . import wsbench

    results = {
        "fasthttp": {"ws-text": {"messages": 10, "messages_per_s": 1000.0, "server_cpu_s": 0.01, "cpu_us_per_message": 10.0}, "ws-64k": "did not start"},
    }
    text = wsbench.markdown(results)
    assert "| fasthttp | 1,000 | 10.0 |" in text and "did not start" in text
    assert "### ws-64k" in text
    args = wsbench.build_parser().parse_args([])
    assert set(args.servers.split(",")) <= {s.name for s in servers.SERVERS + servers.WS_SERVERS}


def test_ws_peers_listen_on_loopback_only():
    for spec in servers.WS_SERVERS:
        argv = " ".join(spec.command(8000))
        assert "127.0.0.1" in argv and "0.0.0.0" not in argv and "--ws websockets" in argv


# --- nginx: the floor row -------------------------------------------------------------------------


def test_nginx_config_serves_the_same_bodies_on_loopback_with_one_worker_and_no_access_log(tmp_path):
    text = nginx.config(8123, "/data/file-1MiB.bin", str(tmp_path))
    assert "listen 127.0.0.1:8123 backlog=4096;" in text and text.count("listen ") == 1
    assert "worker_processes 1;" in text and "access_log off;" in text and "daemon off;" in text
    assert f"return 200 '{common.PLAINTEXT.decode()}';" in text
    assert f"return 200 '{common.json_body().decode()}';" in text
    assert 'alias "/data/file-1MiB.bin";' in text and "default_type application/octet-stream;" in text
    # Every state file nginx writes is inside the temporary directory.
    for line in text.splitlines():
        if "_temp_path" in line or line.startswith("pid "):
            assert str(tmp_path) in line


def test_nginx_route_expression_matches_exactly_the_hundred_routes(tmp_path):
    import re

    text = nginx.config(8123, "/f", str(tmp_path))
    expression = re.search(r'location ~ "([^"]+)"', text).group(1).replace("(?<id>", "(?P<id>")
    for path in scenarios.ROUTE_PATHS:
        match = re.match(expression, path)
        assert match and match.group("id") == path.rsplit("/", 1)[1]
    for path in ("/route100/1", "/route07/1", "/route5/1/2", "/route5/", "/other/1"):
        assert re.match(expression, path) is None


def test_nginx_command_writes_its_config_into_a_fresh_temporary_directory(monkeypatch, tmp_path):
    monkeypatch.setenv(common.FILE_ENV, str(tmp_path / "f.bin"))
    argv = nginx.command(8124)
    conf = argv[argv.index("-c") + 1]
    prefix = argv[argv.index("-p") + 1]
    assert os.path.dirname(conf) + os.sep == prefix and os.path.basename(prefix.rstrip(os.sep)).startswith("bench-nginx-")
    assert argv[-2:] == ["-e", "stderr"]
    with open(conf) as f:
        assert str(tmp_path / "f.bin") in f.read()


def test_nginx_accepts_the_generated_config_when_installed(tmp_path):
    import shutil
    import subprocess

    if shutil.which("nginx") is None:
        pytest.skip("nginx is not installed (the harness installs it with apt-get install -y nginx)")
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx.config(servers.free_port(), str(tmp_path / "f"), str(tmp_path)))
    # -t parses and checks the file; nothing listens.
    proc = subprocess.run(["nginx", "-t", "-p", str(tmp_path) + "/", "-c", str(conf), "-e", "stderr"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr


def test_nginx_row_is_installed_with_apt_and_skips_only_the_echo():
    spec = servers.by_name("nginx")
    assert spec.executables == ("nginx",) and spec.apt_packages == ("nginx",)
    assert set(spec.known_gaps) == {"post"}
    assert "nginx" in [s.name for s in servers.SERVERS]


# --- latency --------------------------------------------------------------------------------------


def test_wrk_reports_p50_p99_and_p999_from_the_done_callback():
    line = ('WRKJSON {"requests":500,"duration_us":2000000,"bytes":75000,"connect":0,"read":0,'
            '"write":0,"status":0,"timeout":0,"lat_mean_us":900.0,"lat_p50_us":800,'
            '"lat_p99_us":4000,"lat_p999_us":12500,"lat_max_us":19000}')
    result = wrk.parse_output(line + "\n")
    assert (result.latency_p50_ms, result.latency_p99_ms, result.latency_p999_ms) == (0.8, 4.0, 12.5)
    assert all("latency:percentile(99.9)" in scenarios.lua_script(s) for s in scenarios.SCENARIOS)


def test_a_percentile_wrk_cannot_place_is_no_figure_rather_than_zero():
    line = ('WRKJSON {"requests":500,"duration_us":2000000,"bytes":75000,"connect":0,"read":0,'
            '"write":0,"status":0,"timeout":0,"lat_mean_us":900.0,"lat_p50_us":39851,'
            '"lat_p99_us":0,"lat_p999_us":0,"lat_max_us":90000}')
    result = wrk.parse_output(line + "\n")
    assert result.latency_p50_ms == 39.851 and result.latency_p99_ms is None and result.latency_p999_ms is None


def test_wrk_latency_distribution_is_parsed_from_text_output():
    text = WRK_TEXT.replace("  20000 requests", "  Latency Distribution\n     50%  635.91us\n     75%  712.85us\n"
                            "     90%    1.04ms\n     99%    1.99s\n  20000 requests")
    result = wrk.parse_output(text)
    assert result.latency_p50_ms == pytest.approx(0.63591) and result.latency_p99_ms == pytest.approx(1990)
    assert result.latency_p999_ms is None and result.requests == 20000


def test_wrk_cpu_is_measured_from_the_finished_child():
    import sys

    result = wrk.run([sys.executable, "-c", "sum(range(3_000_000)); print('no summary')"], 5)
    assert result.client_cpu_s is not None and result.client_cpu_s > 0
    assert result.failure  # no wrk summary in that output


def test_rows_carry_wrk_cpu_per_response():
    records = [dict(_latency_records("uvicorn-raw", "file", 1.0, 2.0, 3.0), client_cpu_us_per_req=v) for v in (500.0, 700.0)]
    table = report.summarize(records, ["file"], ["uvicorn-raw"], {})
    assert table["file"]["uvicorn-raw"].client_cpu_us == 600.0
    text = report.markdown(table, {"file": ("File", "GET /file")}, {}, _meta())
    assert "wrk CPU µs/resp" in text and "| 600 | ok (2 runs) |" in text


def test_wrk_runs_with_latency_statistics():
    assert "--latency" in wrk.command("http://127.0.0.1:1/", duration_s=1, connections=1, script="s.lua")


def _latency_records(server, scenario, p50, p99, p999, rps=1000.0):
    return {"scenario": scenario, "server": server, "rps": rps, "cpu_us_per_req": 10.0, "invalid": None,
            "p50_ms": p50, "p99_ms": p99, "p999_ms": p999}


def test_rows_carry_p50_p99_p999_and_the_markdown_shows_them():
    records = [_latency_records("uvicorn-raw", "plaintext", 0.5, 2.0, 12.0),
               _latency_records("uvicorn-raw", "plaintext", 0.7, 3.0, 14.0)]
    table = report.summarize(records, ["plaintext"], ["uvicorn-raw"], {})
    row = table["plaintext"]["uvicorn-raw"]
    assert (row.p50_ms, row.p99_ms, row.p999_ms) == (0.6, 2.5, 13.0)
    text = report.markdown(table, {"plaintext": ("Plaintext", "GET /plaintext")}, {}, _meta())
    assert "latency p50 / p99 / p99.9" in text and "| 600 µs / 2.50 ms / 13.00 ms |" in text


def test_tail_check_measures_growth_against_the_load_generators_own():
    records = []
    for server, spreads in (("nginx", (4, 6, 8)), ("steady", (5, 8, 9)), ("bursty", (5, 30, 40))):
        for scenario, spread in zip(("plaintext", "pipeline", "c1000"), spreads):
            records.append(_latency_records(server, scenario, 1.0, spread / 2, float(spread)))
    table = report.summarize(records, ["plaintext", "pipeline", "c1000"], ["nginx", "steady", "bursty"], {})
    checks = {(c["scenario"], c["server"]): c for c in report.tail_check(table)}
    assert checks[("pipeline", "nginx")]["growth"] == pytest.approx(1.5)
    assert checks[("pipeline", "steady")]["verdict"] == "ok" and checks[("c1000", "steady")]["verdict"] == "ok"
    assert checks[("pipeline", "bursty")]["verdict"] == "grows"
    assert checks[("c1000", "bursty")]["reference"] == "nginx"
    text = report.markdown(table, {s: (s, s) for s in table}, {}, _meta())
    assert "## Latency tail" in text and "| c1000 | bursty |" in text


def test_tail_check_without_nginx_takes_the_least_growing_server_as_reference():
    records = [_latency_records(n, s, 1.0, 2.0, v) for n, vals in (("a", (4, 4)), ("b", (4, 8)))
               for s, v in zip(("plaintext", "c1000"), vals)]
    table = report.summarize(records, ["plaintext", "c1000"], ["a", "b"], {})
    checks = {c["server"]: c for c in report.tail_check(table)}
    assert checks["b"]["reference"] == "a" and checks["b"]["verdict"] == "grows"


# --- --workers 2 ----------------------------------------------------------------------------------


def _harness(tmp_path, **overrides):
    import argparse

    args = argparse.Namespace(results_dir=str(tmp_path), quick=True, server_cpu=0, client_cpu=1)
    vars(args).update(overrides)
    return run.Harness(args, "test")


def test_the_two_worker_row_shares_both_cpus_with_a_two_thread_wrk(tmp_path):
    spec = servers.by_name("fasthttp-w2")
    argv = spec.command(8000)
    assert argv[argv.index("--workers") + 1] == "2" and spec.shared_cpus and spec.no_memory
    assert "fasthttp-w2" in [s.name for s in servers.SERVERS]
    harness = _harness(tmp_path)
    assert harness.cpus_of(spec) == "0,1" and harness.wrk_placement(spec) == ("0,1", 2)
    one = servers.by_name("fasthttp")
    assert harness.cpus_of(one) == "0" and harness.wrk_placement(one) == ("1", 1)
    cmd = wrk.command("http://127.0.0.1:1/", duration_s=1, connections=16, script="s", cpu="0,1", threads=2)
    assert cmd[:3] == ["taskset", "-c", "0,1"] and "-t2" in cmd


def test_unpinned_runs_pin_nothing_for_either_row(tmp_path):
    harness = _harness(tmp_path, server_cpu=None, client_cpu=None)
    assert harness.cpus_of(servers.by_name("fasthttp-w2")) is None
    assert harness.wrk_placement(servers.by_name("fasthttp")) == (None, 1)
