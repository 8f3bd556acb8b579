"""The command line, ``python -m fasthttp`` (the ``fasthttp`` script runs the same ``main``):
every server is a subprocess on loopback, stopped with SIGTERM, which must exit 0."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time

import pytest

from fasthttp.cli import build_parser, main


TESTS = os.path.dirname(os.path.abspath(__file__))
ENV = dict(os.environ, PYTHONPATH=TESTS + os.pathsep + os.environ.get("PYTHONPATH", ""))


class Served:
    """``python -m fasthttp ARGS`` until it announces where it listens."""

    def __init__(self, *args: str, timeout: float = 15.0) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fasthttp", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
            cwd=TESTS,
        )
        self.urls: list[str] = []
        self.lines: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.lines.append(line)
            m = re.search(r"listening on (\S+)", line)
            if m:
                self.urls.append(m.group(1))
                if len(self.urls) == self.expected(args):
                    return
        self.stop()
        raise AssertionError("the server did not start:\n" + "".join(self.lines))

    @staticmethod
    def expected(args: tuple[str, ...]) -> int:
        return max(1, sum(1 for a in args if a in ("--bind", "-b")))

    def address(self, index: int = 0) -> tuple[str, int]:
        m = re.match(r"https?://([\d.]+):(\d+)", self.urls[index])
        return m.group(1), int(m.group(2))

    def get(self, path: str = "/", *, index: int = 0, context: ssl.SSLContext | None = None, attempts: int = 100) -> tuple[int, bytes]:
        host, port = self.address(index)
        for _ in range(attempts):
            if context is None:
                conn = http.client.HTTPConnection(host, port, timeout=5)
            else:
                conn = http.client.HTTPSConnection("localhost", port, timeout=5, context=context)
            try:
                conn.request("GET", path)
                resp = conn.getresponse()
                return resp.status, resp.read()
            except ConnectionRefusedError:  # workers may not listen yet
                time.sleep(0.05)
            finally:
                conn.close()
        raise AssertionError("no answer")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.stdout = self.proc.stdout.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code


def run_cli(*args: str, timeout: float = 15.0) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fasthttp", *args], capture_output=True, text=True, env=ENV, cwd=TESTS, timeout=timeout)


def test_help_documents_every_option():
    result = run_cli("--help")
    assert result.returncode == 0
    for action in build_parser()._actions:
        for option in action.option_strings:
            assert option in result.stdout, option
        assert action.help, f"{action.option_strings or action.dest} has no help text"
    for documented in ("--bind", "--workers", "--certfile", "--keyfile", "--ca-certs", "--access-log", "--log-format", "--no-uvloop", "--header-timeout", "--max-body-size"):
        assert documented in result.stdout


def test_demo_serves_and_exits_0_on_sigterm():
    served = Served("--demo", "--bind", "127.0.0.1:0")
    try:
        status, body = served.get("/")
        assert status == 200 and body.startswith(b"fasthttp demo")
        assert served.get("/json") == (200, b'{"message":"Hello, World!"}')
        status, body = served.get("/stream")
        assert body.decode().splitlines() == [f"line {i}" for i in range(1, 6)]
        status, body = served.get("/echo?a=1")
        assert b'"path":"/echo"' in body
    finally:
        assert served.stop() == 0


def test_module_app_with_access_log_on_stdout_the_stdlib_loop_and_sigint():
    served = Served("helpers_apps:app", "--bind", "127.0.0.1:0", "--access-log", "-", "--log-format", "%m %U %s", "--no-uvloop")
    try:
        assert served.get("/") == (200, b"hello from helpers_apps")
    finally:
        assert served.stop(signal.SIGINT) == 0  # Ctrl-C drains like SIGTERM
    assert "GET / 200" in served.stdout


def test_several_binds_including_a_unix_socket(tmp_path):
    path = str(tmp_path / "cli.sock")
    served = Served("helpers_apps:app", "--bind", "127.0.0.1:0", "--bind", f"unix:{path}")
    try:
        assert served.urls[1] == f"unix:{path}"
        assert served.get("/")[0] == 200
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(path)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
        assert data.startswith(b"HTTP/1.1 200 OK") and data.endswith(b"hello from helpers_apps")
    finally:
        assert served.stop() == 0


def test_workers_option():
    served = Served("helpers_apps:app", "--bind", "127.0.0.1:0", "--workers", "2", "--shutdown-timeout", "2")
    try:
        assert served.get("/")[0] == 200
    finally:
        assert served.stop() == 0


def test_tls_options(tls):
    served = Served("helpers_apps:app", "--bind", "127.0.0.1:0", "--certfile", tls.cert_file, "--keyfile", tls.key_file)
    try:
        assert served.urls[0].startswith("https://")
        assert served.get("/", context=tls.client_context()) == (200, b"hello from helpers_apps")
    finally:
        assert served.stop() == 0


def test_limit_options_reach_the_server():
    served = Served("helpers_apps:app", "--bind", "127.0.0.1:0", "--max-request-line", "100")
    try:
        assert served.get("/" + "a" * 200)[0] == 414
    finally:
        assert served.stop() == 0


def test_unknown_module_exits_2():
    result = run_cli("no_such_module_xyz:app")
    assert result.returncode == 2 and "cannot load" in result.stderr


def test_app_or_demo_is_required(capsys):
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2


def test_a_taken_port_exits_1():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        result = run_cli("helpers_apps:app", "--bind", f"127.0.0.1:{sock.getsockname()[1]}")
    assert result.returncode == 1 and "fasthttp:" in result.stderr


# --- application interfaces (issue 13) -------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("helpers_hosting:asgi_app",), b"asgi  /a yes"),
        (("helpers_hosting:wsgi_app", "--root-path", "/pre"), b"wsgi /pre /a"),
        (("helpers_hosting:make_asgi_app", "--factory", "--root-path", "/p", "--lifespan", "off"), b"asgi /p /p/a None"),
        (("helpers_hosting:handler", "--interface", "fasthttp"), b"fasthttp handler"),
    ],
    ids=["asgi-auto", "wsgi-root-path", "asgi-factory", "fasthttp-forced"],
)
def test_interfaces(args, expected):
    served = Served(*args, "--bind", "127.0.0.1:0")
    try:
        assert served.get("/a") == (200, expected)
    finally:
        assert served.stop() == 0


def test_root_path_with_a_fasthttp_app_exits_2():
    result = run_cli("helpers_hosting:handler", "--root-path", "/x")
    assert result.returncode == 2 and "root-path" in result.stderr


def test_proxy_headers_option():
    served = Served("helpers_hosting:asgi_app", "--bind", "127.0.0.1:0", "--proxy-headers", "--forwarded-allow-ips", "127.0.0.1")
    try:
        host, port = served.address()
        conn = http.client.HTTPConnection(host, port, timeout=5)
        conn.request("GET", "/a", headers={"X-Forwarded-For": "198.51.100.7"})
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        assert served.stop() == 0
    result = run_cli("helpers_hosting:asgi_app", "--forwarded-allow-ips", "not-an-address", "--bind", "127.0.0.1:0")
    assert result.returncode == 2 and "not-an-address" in result.stderr
