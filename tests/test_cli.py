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


def test_demo_limits_come_from_the_command_line_and_help_lists_the_endpoints():
    served = Served("--demo", "--bind", "127.0.0.1:0", "--demo-max-bytes", "10", "--demo-max-delay", "0.5")
    try:
        assert served.get("/bytes/10")[0] == 200
        status, body = served.get("/bytes/11")
        assert status == 400 and b"10" in body
        assert served.get("/delay/600")[0] == 400
    finally:
        assert served.stop() == 0
    from fasthttp.cli import build_parser

    text = build_parser().format_help()
    for path in ("/bytes/:n", "/stream-bytes/:n", "/delay/:ms", "/status/:codes", "/drip", "/redirect/:n", "/cookies", "/headers", "/ip", "/anything", "/gzip", "/range/:n", "/sse", "/ws/echo"):
        assert path in text, path


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


def _refused_then_served(option: str, bad: str, message: str, good: str) -> None:
    """*option* reaches Config, which refuses *bad* (exit 2, *message*); *good* serves."""
    result = run_cli("helpers_apps:app", "--bind", "127.0.0.1:0", option, bad)
    assert result.returncode == 2 and message in result.stderr
    served = Served("helpers_apps:app", "--bind", "127.0.0.1:0", option, good)
    try:
        assert served.get("/")[0] == 200
    finally:
        assert served.stop() == 0


def test_accept_listeners_option_reaches_the_config():
    # The option reaches Config (which refuses 0); a valid count serves as before.
    _refused_then_served("--accept-listeners", "0", "accept_listeners must be at least 1", "2")


def test_defer_accept_option_reaches_the_config():
    from fasthttp.cli import _options

    parser = build_parser()
    assert "defer_accept" not in _options(parser.parse_args(["x:app"]))  # Config's default
    assert _options(parser.parse_args(["--defer-accept", "0", "x:app"]))["defer_accept"] == 0  # off
    assert _options(parser.parse_args(["--defer-accept", "3", "x:app"]))["defer_accept"] == 3
    _refused_then_served("--defer-accept", "-1", "defer_accept must be", "3")


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


# -- a newcomer's first hour (issue 11) -----------------------------------------------------------


def cli_in(directory, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fasthttp", *args], capture_output=True, text=True, env=ENV, cwd=directory, timeout=timeout)


def test_version():
    result = run_cli("--version")
    assert result.returncode == 0 and re.fullmatch(r"fasthttp \d+\.\d+\.\d+ \(Python [\d.]+\w*, (compiled|pure Python|mixed) kernels\)\n", result.stdout)


def test_host_and_port_compose_the_bind_in_any_order():
    # Before: "--port 9000 x:app" took 9000 as the app.
    served = Served("--port", "0", "helpers_apps:app", "--host", "127.0.0.1")
    try:
        assert served.urls[0].startswith("http://127.0.0.1:") and served.get("/")[0] == 200
    finally:
        assert served.stop() == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (("--bind", "http://127.0.0.1:8000", "helpers_apps:app"), "--bind http://127.0.0.1:8000: a bind has no scheme: write '127.0.0.1:8000'"),
        (("--port", "99999", "helpers_apps:app"), "a port is a number from 0 to 65535"),
        (("--port", "1", "--bind", "127.0.0.1:0", "helpers_apps:app"), "give --bind, or --host and --port, not both"),
        (("--no-such-option", "helpers_apps:app"), "unrecognized arguments: --no-such-option"),
        ((), "give either MODULE:APP or --demo"),
    ],
)
def test_usage_errors_are_two_lines_the_error_and_a_short_usage(args, message):
    # Before: every argparse error reprinted 13 lines of usage.
    result = run_cli(*args)
    lines = result.stderr.splitlines()
    assert result.returncode == 2 and len(lines) == 2, result.stderr
    assert lines[0].startswith("fasthttp: error: ") and message in lines[0]
    assert lines[1].startswith("usage: fasthttp MODULE:APP [--host HOST] [--port PORT]")


def test_a_taken_port_names_the_address_and_says_what_to_do():
    # Before: "fasthttp: [Errno 98] Address already in use".
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = run_cli("helpers_apps:app", "--port", str(port))
    assert result.returncode == 1
    assert f"fasthttp: address in use: 127.0.0.1:{port} is already served by another process" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "files, spec, expected",
    [
        ({"mymodule.py": "import time\n"}, "mymodule:time", "mymodule:time is module <module 'time'"),
        ({"mymodule.py": "import time\n"}, "./mymodule.py", "is a file path; fasthttp takes a module name: mymodule:app"),
        ({"mymodule.py": "from fasthttp import App\nweb = App()\n"}, "mymodule", "module 'mymodule' has no attribute 'app'; it has web"),
        ({}, "missing_module_xyz:app", "no module named 'missing_module_xyz'"),
    ],
)
def test_user_mistakes_in_the_app_spec_are_one_line_without_traceback(tmp_path, files, spec, expected):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = cli_in(tmp_path, spec, "--port", "0")
    assert result.returncode == 2 and expected in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    "source, line, error",
    [
        ("import os\n\nx = undefined_name + 1\n", 3, "NameError: name 'undefined_name' is not defined"),
        ("def f(:\n    pass\n", 1, "SyntaxError"),
        ("import json\nimport no_such_dependency_xyz\n", 2, "ModuleNotFoundError: No module named 'no_such_dependency_xyz'"),
    ],
)
def test_a_module_that_fails_to_import_shows_its_own_file_and_line(tmp_path, source, line, error):
    # Before: the import error hid the module's file and line.
    (tmp_path / "broken.py").write_text(source)
    result = cli_in(tmp_path, "broken:app", "--port", "0")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("fasthttp: cannot import broken:\n")
    assert f'File "{tmp_path / "broken.py"}", line {line}' in result.stderr and error in result.stderr
    assert "importlib" not in result.stderr and "fasthttp/" not in result.stderr


def test_a_module_that_calls_app_run_at_import_is_told_to_guard_it(tmp_path):
    # Before: the README's sample served on 8000 at import, ignored --bind, needed two Ctrl-C.
    (tmp_path / "sample.py").write_text(
        "from fasthttp import App\napp = App()\n\n@app.get('/')\ndef hello(request):\n    return 'hi'\n\napp.run()\n"
    )
    result = cli_in(tmp_path, "sample:app", "--port", "0")
    assert result.returncode == 2 and "listening" not in result.stderr
    assert 'sample.py", line 8' in result.stderr and 'guard it with `if __name__ == "__main__":`' in result.stderr


def test_log_level_debug_shows_connections_and_refused_requests_are_logged_with_their_reason():
    # Before: --log-level debug added nothing; a refused 400 was only an access-log line with
    # "method": null and no reason.
    proc = subprocess.Popen(
        [sys.executable, "-m", "fasthttp", "helpers_apps:app", "--port", "0", "--log-level", "debug"],
        stderr=subprocess.PIPE, text=True, env=ENV, cwd=TESTS,
    )
    try:
        for _ in range(100):
            m = re.search(r"listening on http://([\d.]+):(\d+)", proc.stderr.readline())
            if m:
                break
        assert m, "the server did not start"
        address = (m.group(1), int(m.group(2)))
        with socket.create_connection(address, timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.1 400")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        log = proc.stderr.read()
        proc.stderr.close()
    assert re.search(r"DEBUG fasthttp.server: connection from \('127.0.0.1', \d+\)\n", log), log
    assert re.search(r"DEBUG fasthttp.server: connection from \('127.0.0.1', \d+\) closed", log), log
    assert re.search(r"INFO fasthttp.server: refused a request from \('127.0.0.1', \d+\): 400 both Transfer-Encoding and Content-Length", log), log


def test_the_kernels_in_use_are_logged_once_at_start():
    env = dict(ENV, FASTHTTP_NO_EXTENSIONS="1")
    proc = subprocess.Popen([sys.executable, "-m", "fasthttp", "helpers_apps:app", "--port", "0"], stderr=subprocess.PIPE, text=True, env=env, cwd=TESTS)
    try:
        lines = []
        for _ in range(50):
            line = proc.stderr.readline()
            lines.append(line)
            if "listening on" in line or not line:
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
        proc.stderr.close()
    text = "".join(lines)
    assert text.count("kernels: ") == 1 and "kernels: pure Python (FASTHTTP_NO_EXTENSIONS is set)" in text


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


# -- the process options: --pid, --user, --group, --umask (fasthttp.process) --------------------------


def _shared_dir() -> str:
    """A directory the user the server switches to may write (to remove its pid file)."""
    import tempfile

    path = tempfile.mkdtemp(prefix="fasthttp-pid-")
    os.chmod(path, 0o777)
    return path


@pytest.mark.parametrize("workers", ["1", "2"])
def test_pid_file_is_written_once_bound_and_removed_at_exit(workers):
    import shutil

    directory = _shared_dir()
    pid_file = os.path.join(directory, "server.pid")
    try:
        served = Served("helpers_apps:app", "--bind", "127.0.0.1:0", "--workers", workers, "--pid", pid_file, "--umask", "027")
        try:
            assert served.get("/")[0] == 200
            with open(pid_file) as f:
                assert f.read() == f"{served.proc.pid}\n"  # the master's, with workers
            assert served.get("/whoami")[1].decode().split()[-1] == "027"
        finally:
            assert served.stop() == 0
        assert not os.path.exists(pid_file)
    finally:
        shutil.rmtree(directory)


@pytest.mark.skipif(os.geteuid() != 0, reason="switching user needs root")
@pytest.mark.parametrize("workers", ["1", "2"])
def test_user_and_group_apply_after_binding_a_privileged_port(workers):
    import pwd
    import shutil

    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no 'nobody' user")
    port = next((p for p in range(900, 1000) if _free(p)), None)
    if port is None:
        pytest.skip("no free port below 1024")
    directory = _shared_dir()
    pid_file = os.path.join(directory, "server.pid")
    try:
        served = Served("helpers_apps:app", "--bind", f"127.0.0.1:{port}", "--workers", workers, "--user", "nobody", "--group", str(nobody.pw_gid), "--pid", pid_file)
        try:
            status, body = served.get("/whoami")
            assert status == 200
            assert body.decode().split(" ")[:3] == [str(nobody.pw_uid), str(nobody.pw_gid), f"[{nobody.pw_gid}]"]
        finally:
            assert served.stop() == 0
        assert not os.path.exists(pid_file)
    finally:
        shutil.rmtree(directory)


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_unknown_user_and_bad_umask_are_errors():
    result = run_cli("helpers_apps:app", "--bind", "127.0.0.1:0", "--user", "no-such-user-fasthttp")
    assert result.returncode == 2 and "no such user" in result.stderr
    result = run_cli("helpers_apps:app", "--bind", "127.0.0.1:0", "--umask", "999")
    assert result.returncode == 2 and "umask" in result.stderr


def test_uvicorns_timeout_graceful_shutdown_is_the_shutdown_timeout():
    from fasthttp.cli import build_parser

    args = build_parser().parse_args(["--timeout-graceful-shutdown", "7", "x:app"])
    assert args.shutdown_timeout == 7


def test_sendfile_lowat_option_reaches_the_config_and_refuses_bad_sizes():
    from fasthttp.cli import _options

    parser = build_parser()
    assert _options(parser.parse_args(["x:app"]))["sendfile_lowat"] == "auto"
    assert _options(parser.parse_args(["--sendfile-lowat", "auto", "x:app"]))["sendfile_lowat"] == "auto"
    assert _options(parser.parse_args(["--sendfile-lowat", "16k", "x:app"]))["sendfile_lowat"] == 16 * 1024
    assert _options(parser.parse_args(["--sendfile-lowat", "none", "x:app"]))["sendfile_lowat"] is None
    for bad in ("0", "-5", "lots"):
        result = run_cli("helpers_apps:app", "--sendfile-lowat", bad)
        assert result.returncode == 2 and "--sendfile-lowat" in result.stderr, (bad, result.stderr)
