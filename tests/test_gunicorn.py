"""fasthttp.gunicorn.Worker under a real gunicorn arbiter (subprocess, loopback)."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("gunicorn")

TESTS = os.path.dirname(os.path.abspath(__file__))
ENV = dict(os.environ, PYTHONPATH=TESTS + os.pathsep + os.environ.get("PYTHONPATH", ""))


class Gunicorn:
    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-k", "fasthttp.gunicorn.Worker", "-b", "127.0.0.1:0", "--graceful-timeout", "5", *args],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env=ENV,
            cwd=TESTS,
        )
        self.lines: list[str] = []
        self.port = 0
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.lines.append(line)
            m = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                return
        self.stop()
        raise AssertionError("gunicorn did not start:\n" + "".join(self.lines))

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        for _ in range(200):  # the workers may not serve yet
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                conn.request("GET", path, headers=headers or {})
                resp = conn.getresponse()
                return resp.status, resp.read()
            except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected):
                time.sleep(0.05)
            finally:
                conn.close()
        raise AssertionError("no answer")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc.stderr.close()
        return code


@pytest.mark.parametrize(
    ("app", "expected"),
    [("helpers_hosting:wsgi_app", b"wsgi  /a"), ("helpers_hosting:asgi_app", b"asgi  /a yes"), ("helpers_hosting:handler", b"fasthttp handler")],
    ids=["wsgi", "asgi", "fasthttp"],
)
def test_worker_serves_each_interface(app, expected):
    g = Gunicorn(app, "-w", "2")
    try:
        for _ in range(4):
            assert g.get("/a") == (200, expected)
    finally:
        assert g.stop() == 0
