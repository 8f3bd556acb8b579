"""The server: listeners, TLS, the on_connect hook and sessions, the access log, graceful
shutdown, and the ways to run it (thread, process, workers). Loopback addresses only."""

from __future__ import annotations

import asyncio
import http.client
import io
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
import warnings

import pytest

from fasthttp import App, Server, start_in_thread, start_server
from fasthttp.accesslog import AccessLog
from fasthttp.config import Config
from fasthttp.listeners import format_address, make_socket, make_ssl_context, parse_bind
from fasthttp.loops import new_event_loop

from helpers_server import Client, build_request, ipv6_available, loop, run, serving, tls  # noqa: F401

TESTS = os.path.dirname(os.path.abspath(__file__))


def hello_app() -> App:
    app = App()

    @app.get("/")
    def index(request):
        return "hello"

    @app.get("/whoami")
    def whoami(request):
        cert = request.peercert
        subject = dict(x[0] for x in cert["subject"]) if cert else None
        return {"secure": request.is_secure, "scheme": request.scheme, "subject": subject, "client": repr(request.client)}

    return app


# -- bind specs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, family, address",
    [
        ("127.0.0.1:8000", socket.AF_INET, ("127.0.0.1", 8000)),
        ("8000", socket.AF_INET, ("127.0.0.1", 8000)),
        ((("127.0.0.1", 0)), socket.AF_INET, ("127.0.0.1", 0)),
        ("unix:/tmp/x.sock", socket.AF_UNIX, "/tmp/x.sock"),
        ("unix:@name", socket.AF_UNIX, b"\0name"),
        (b"\0name", socket.AF_UNIX, b"\0name"),
        (("::1", 0, 0, 0), socket.AF_INET6, ("::1", 0, 0, 0)),
    ],
)
def test_parse_bind_understands_each_form(spec, family, address):
    assert parse_bind(spec) == (family, address)


def test_parse_bind_resolves_an_ipv6_scope_id():
    index = socket.if_nametoindex("lo")
    family, address = parse_bind("[fe80::1%lo]:8080")
    assert family == socket.AF_INET6
    assert address[0].startswith("fe80::1") and address[1] == 8080 and address[3] == index


@pytest.mark.parametrize("spec", ["nonsense", "::1:80", "[::1]80", "unix:", "127.0.0.1:99999"])
def test_parse_bind_refuses_malformed_specs(spec):
    with pytest.raises(ValueError):
        parse_bind(spec)


def test_format_address_gives_urls_and_unix_names():
    assert format_address(("127.0.0.1", 80)) == "http://127.0.0.1:80"
    assert format_address(("::1", 443, 0, 0), tls=True) == "https://[::1]:443"
    assert format_address("/run/x.sock") == "unix:/run/x.sock"
    assert format_address(b"\0abc") == "unix:@abc"


# -- listeners ------------------------------------------------------------------------------------


def test_port_zero_reports_the_bound_port_and_serves_it(loop):
    async def scenario():
        async with serving(hello_app(), "127.0.0.1:0") as server:
            host, port = server.addresses[0]
            assert host == "127.0.0.1" and port > 0
            assert server.urls == [f"http://127.0.0.1:{port}"]
            client = await Client.connect(server)
            assert (await client.request()).body == b"hello"
            await client.close()

    run(loop, scenario())


def test_several_listeners_in_one_server(loop, tmp_path):
    path = str(tmp_path / "s.sock")

    async def scenario():
        async with serving(hello_app(), ["127.0.0.1:0", "127.0.0.1:0", f"unix:{path}"]) as server:
            assert len(server.addresses) == 3 and server.addresses[2] == path
            for address in server.addresses:
                client = await Client.connect(address=address)
                assert (await client.request()).body == b"hello"
                await client.close()
        assert not os.path.exists(path)  # removed on shutdown

    run(loop, scenario())


@pytest.mark.skipif(not ipv6_available(), reason="no ::1 on this machine")
def test_ipv6_listener_reports_a_4_tuple(loop):
    async def scenario():
        async with serving(hello_app(), "[::1]:0") as server:
            address = server.addresses[0]
            assert len(address) == 4 and address[0] == "::1"
            client = await Client.connect(server)
            resp = await client.request("GET", "/whoami")
            assert "::1" in json.loads(resp.body)["client"]
            await client.close()

    run(loop, scenario())


@pytest.mark.skipif(not ipv6_available(), reason="no ::1 on this machine")
def test_ipv6_listener_with_a_scope_id(loop):
    async def scenario():
        async with serving(hello_app(), ("::1", 0, 0, socket.if_nametoindex("lo"))) as server:
            client = await Client.connect(address=("::1", server.addresses[0][1]))
            assert (await client.request()).body == b"hello"
            await client.close()

    run(loop, scenario())


@pytest.mark.skipif(not ipv6_available(), reason="no ::1 on this machine")
def test_dual_stack_listener_serves_ipv4_clients(loop):
    # "[::]" is dual-stack; to stay on loopback the test binds an IPv4-mapped address, which
    # takes the same path (IPV6_V6ONLY off).
    unspecified = make_socket("[::]:0")
    try:
        assert unspecified.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 0
    finally:
        unspecified.close()
    only6 = make_socket("[::1]:0")
    try:
        assert only6.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 1
    finally:
        only6.close()

    async def scenario():
        async with serving(hello_app(), "[::ffff:127.0.0.1]:0") as server:
            client = await Client.connect(address=("127.0.0.1", server.addresses[0][1]))
            assert (await client.request()).body == b"hello"
            await client.close()

    run(loop, scenario())


def test_unix_socket_path(loop, tmp_path):
    path = str(tmp_path / "http.sock")

    async def scenario():
        async with serving(hello_app(), f"unix:{path}") as server:
            assert server.urls == [f"unix:{path}"]
            client = await Client.connect(address=path)
            assert (await client.request()).body == b"hello"
            await client.close()

    run(loop, scenario())


def test_linux_abstract_unix_name(loop):
    name = f"fasthttp-test-{uuid.uuid4().hex}"

    async def scenario():
        async with serving(hello_app(), f"unix:@{name}") as server:
            assert server.addresses == [b"\0" + name.encode()]
            assert server.urls == [f"unix:@{name}"]
            client = await Client.connect(address="\0" + name)
            assert (await client.request()).body == b"hello"
            await client.close()

    run(loop, scenario())


# -- TLS -----------------------------------------------------------------------------------------


def test_tls_context_has_secure_defaults(tls):
    ctx = make_ssl_context(tls.cert_file, tls.key_file)
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    assert ctx.options & ssl.OP_NO_COMPRESSION
    assert ctx.verify_mode == ssl.CERT_NONE
    assert make_ssl_context(tls.cert_file, tls.key_file, ca_certs=tls.ca_file).verify_mode == ssl.CERT_REQUIRED
    with pytest.raises(ValueError):
        make_ssl_context(tls.cert_file, tls.key_file, client_cert="required")  # no CA to verify with


def test_https_request(loop, tls):
    async def scenario():
        async with serving(hello_app(), certfile=tls.cert_file, keyfile=tls.key_file) as server:
            assert server.urls[0].startswith("https://")
            client = await Client.connect(server, ssl_context=tls.client_context(), server_hostname="localhost")
            resp = await client.request("GET", "/whoami")
            info = json.loads(resp.body)
            assert info["secure"] is True and info["scheme"] == "https" and info["subject"] is None
            await client.close()

    run(loop, scenario())


def test_tls_below_1_2_is_refused(loop, tls):
    async def scenario():
        async with serving(hello_app(), certfile=tls.cert_file, keyfile=tls.key_file) as server:
            # A client that offers only TLS 1.1 (its security level lowered so it really does).
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                ctx = tls.client_context()
                ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
                ctx.minimum_version = ssl.TLSVersion.TLSv1
                ctx.maximum_version = ssl.TLSVersion.TLSv1_1
            with pytest.raises((ssl.SSLError, ConnectionError)):
                await Client.connect(server, ssl_context=ctx, server_hostname="localhost")

    run(loop, scenario())


def test_required_client_certificate_is_visible_to_the_handler(loop, tls):
    async def scenario():
        async with serving(hello_app(), certfile=tls.cert_file, keyfile=tls.key_file, ca_certs=tls.ca_file) as server:
            client = await Client.connect(server, ssl_context=tls.client_context(with_cert=True), server_hostname="localhost")
            resp = await client.request("GET", "/whoami")
            assert json.loads(resp.body)["subject"]["commonName"] == "test client"
            await client.close()

    run(loop, scenario())


def test_required_client_certificate_missing_is_refused(loop, tls):
    async def scenario():
        async with serving(hello_app(), certfile=tls.cert_file, keyfile=tls.key_file, ca_certs=tls.ca_file) as server:
            # TLS 1.3 reports the refusal after the handshake, at the first read.
            with pytest.raises((ssl.SSLError, ConnectionError, asyncio.IncompleteReadError)):
                client = await Client.connect(server, ssl_context=tls.client_context(), server_hostname="localhost")
                try:
                    await client.request()
                finally:
                    client.writer.transport.abort()

    run(loop, scenario())


def test_optional_client_certificate(loop, tls):
    async def scenario():
        async with serving(
            hello_app(), certfile=tls.cert_file, keyfile=tls.key_file, ca_certs=tls.ca_file, client_cert="optional"
        ) as server:
            client = await Client.connect(server, ssl_context=tls.client_context(), server_hostname="localhost")
            assert json.loads((await client.request("GET", "/whoami")).body)["subject"] is None
            await client.close()
            client = await Client.connect(server, ssl_context=tls.client_context(with_cert=True), server_hostname="localhost")
            assert json.loads((await client.request("GET", "/whoami")).body)["subject"]["commonName"] == "test client"
            await client.close()

    run(loop, scenario())


def test_user_ssl_context_is_used_as_given(loop, tls):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tls.cert_file, tls.key_file)

    async def scenario():
        async with serving(hello_app(), ssl=ctx) as server:
            client = await Client.connect(server, ssl_context=tls.client_context(), server_hostname="localhost")
            assert (await client.request()).body == b"hello"
            await client.close()

    run(loop, scenario())


# -- on_connect and the session ------------------------------------------------------------------


def test_on_connect_can_refuse_a_connection(loop):
    seen = []

    def on_connect(transport, session):
        seen.append(transport.get_extra_info("peername"))
        return False

    async def scenario():
        async with serving(hello_app(), on_connect=on_connect) as server:
            client = await Client.connect(server)
            await client.send(build_request())
            assert await client.closed()
            await client.close()
        assert seen and seen[0][0] == "127.0.0.1"

    run(loop, scenario())


def test_session_is_shared_by_on_connect_and_the_requests_of_one_connection(loop):
    app = App()

    def on_connect(transport, session):
        session["_user"] = "alice"
        return True

    app.on_connect = on_connect

    @app.get("/")
    def index(request):
        session = request.session
        session["__hits"] = session.get("__hits", 0) + 1
        return f"{session['_user']} {session['__hits']} {session['client'][0]}"

    async def scenario():
        async with serving(app) as server:
            first = await Client.connect(server)
            assert (await first.request()).body == b"alice 1 127.0.0.1"
            assert (await first.request()).body == b"alice 2 127.0.0.1"
            second = await Client.connect(server)
            assert (await second.request()).body == b"alice 1 127.0.0.1"
            await first.close()
            await second.close()

    run(loop, scenario())


# -- access log ----------------------------------------------------------------------------------


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


# -- graceful shutdown ---------------------------------------------------------------------------


def test_graceful_shutdown_finishes_in_flight_requests_and_closes_idle_ones(loop):
    release = asyncio.Event()
    started = asyncio.Event()
    app = App()

    @app.get("/wait")
    async def wait(request):
        started.set()
        await release.wait()
        return "finished"

    @app.get("/")
    def index(request):
        return "hello"

    async def scenario():
        server = Server(app, "127.0.0.1:0")
        await server.start()
        busy = await Client.connect(server)
        idle = await Client.connect(server)
        assert (await idle.request()).status == 200
        await busy.send(build_request("GET", "/wait"))
        await started.wait()
        shutdown = asyncio.ensure_future(server.shutdown(timeout=5))
        assert await idle.closed()  # idle keep-alive connections go at once
        with pytest.raises(OSError):  # no longer accepting
            await asyncio.open_connection(*server.addresses[0])
        assert not shutdown.done()
        release.set()
        resp = await busy.read_response()
        assert resp.body == b"finished" and resp.header("connection") == "close"
        await shutdown
        assert not server.manager.connections
        await busy.close()
        await idle.close()

    run(loop, scenario())


def test_shutdown_deadline_aborts_requests_that_do_not_finish(loop):
    app = App()

    @app.get("/forever")
    async def forever(request):
        await asyncio.sleep(60)

    async def scenario():
        server = Server(app, "127.0.0.1:0")
        await server.start()
        client = await Client.connect(server)
        await client.send(build_request("GET", "/forever"))
        await asyncio.sleep(0.05)
        await server.shutdown(timeout=0.2)
        assert await client.closed()
        await client.close()

    run(loop, scenario())


def test_serve_forever_drains_when_cancelled(loop):
    async def scenario():
        server = Server(hello_app(), "127.0.0.1:0")
        task = asyncio.ensure_future(server.serve_forever())
        while not server.started:
            await asyncio.sleep(0.01)
        client = await Client.connect(server)
        assert (await client.request()).body == b"hello"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await client.closed()
        await client.close()

    run(loop, scenario())


# -- thread, process, workers --------------------------------------------------------------------


def _get(address, path="/", timeout=5.0):
    conn = http.client.HTTPConnection(address[0], address[1], timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_start_in_thread_returns_once_listening():
    handle = start_in_thread(hello_app(), "127.0.0.1:0")
    try:
        assert _get(handle.addresses[0]) == (200, b"hello")
    finally:
        handle.stop()
    with pytest.raises(OSError):
        _get(handle.addresses[0], timeout=1)


def test_start_server_runs_in_its_own_process_and_drains_on_sigterm():
    process, addresses = start_server("helpers_apps:app", "127.0.0.1:0")
    try:
        address = addresses[0]
        assert _get(address) == (200, b"hello from helpers_apps")
        assert _get(address, "/pid")[1] == str(process.pid).encode()
        # A request in flight when SIGTERM arrives still gets its answer.
        conn = http.client.HTTPConnection(*address, timeout=5)
        conn.request("GET", "/sleep?t=0.5")
        time.sleep(0.1)
        process.terminate()
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (200, b"slept")
        conn.close()
        process.join(10)
        assert process.exitcode == 0
    finally:
        if process.is_alive():
            process.kill()
            process.join()


def test_an_apps_startup_and_shutdown_hooks_run_in_the_server_process(tmp_path, monkeypatch):
    # The server itself runs the hooks, so they run however the app is served (here: in its own
    # process, as with the CLI and each worker).
    record = tmp_path / "hooks.txt"
    monkeypatch.setenv("FASTHTTP_TEST_HOOKS", str(record))
    process, addresses = start_server("helpers_apps:hooked", "127.0.0.1:0")
    try:
        assert _get(addresses[0]) == (200, b"ready")
        process.terminate()
        process.join(10)
        assert process.exitcode == 0
    finally:
        if process.is_alive():
            process.kill()
            process.join()
    assert record.read_text().split() == ["startup", str(process.pid), "shutdown", str(process.pid)]


def _wait_for_listening(proc, timeout=15.0):
    deadline = time.monotonic() + timeout
    lines = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        m = re.search(r"listening on http://([\d.]+):(\d+)", line)
        if m:
            return (m.group(1), int(m.group(2)))
    raise AssertionError("server did not start: " + "".join(lines))


def test_workers_share_the_port_and_are_respawned():
    script = "import fasthttp, helpers_apps; fasthttp.run(helpers_apps.app, '127.0.0.1:0', workers=2, shutdown_timeout=2)"
    env = dict(os.environ, PYTHONPATH=TESTS + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True, env=env)
    try:
        address = _wait_for_listening(proc)
        pids = set()
        deadline = time.monotonic() + 10
        while len(pids) < 2 and time.monotonic() < deadline:
            try:  # the master announces the address before the workers listen on it
                pids.add(int(_get(address, "/pid")[1]))
            except OSError:
                time.sleep(0.05)
        assert len(pids) == 2 and proc.pid not in pids
        victim = pids.pop()
        os.kill(victim, signal.SIGKILL)
        fresh = set()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                pid = int(_get(address, "/pid")[1])
            except OSError:
                time.sleep(0.05)
                continue
            if pid not in pids and pid != victim:
                fresh.add(pid)
                break
        assert fresh, "the dead worker was not replaced"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()


def test_config_refuses_nonsense():
    with pytest.raises(ValueError):
        Config(header_timeout=0)
    with pytest.raises(TypeError):
        Server(hello_app(), no_such_option=1)


def test_uvloop_is_used_unless_the_environment_says_no(monkeypatch):
    pytest.importorskip("uvloop")
    monkeypatch.delenv("FASTHTTP_NO_UVLOOP", raising=False)
    loop = new_event_loop()
    try:
        assert type(loop).__module__.startswith("uvloop")
    finally:
        loop.close()
    monkeypatch.setenv("FASTHTTP_NO_UVLOOP", "1")
    loop = new_event_loop()
    try:
        assert isinstance(loop, asyncio.BaseEventLoop)
    finally:
        loop.close()
