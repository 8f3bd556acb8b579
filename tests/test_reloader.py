"""Development reloading: the polling watcher sees changes, the child's command line drops the
reload options, and ``fasthttp --reload`` serves the new code after an edit (a subprocess)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time

from fasthttp.reloader import Poller, make_watcher, strip_reload_options

APP = """from fasthttp import App

app = App()


@app.get("/")
def index(request):
    return {text!r}
"""


def test_strip_reload_options():
    argv = ["m:app", "--reload", "--reload-dir", "src", "--reload-dir=lib", "--workers", "2"]
    assert strip_reload_options(argv) == ["m:app", "--workers", "2"]


def test_poller_sees_new_changed_and_removed_files_but_not_caches(tmp_path):
    (tmp_path / "__pycache__").mkdir()
    module = tmp_path / "mod.py"
    module.write_text("x = 1\n")
    poller = Poller([str(tmp_path)], interval=0.01)
    assert not poller.wait(0.05)
    (tmp_path / "__pycache__" / "mod.py").write_text("cache")
    (tmp_path / "notes.txt").write_text("not python")
    assert not poller.wait(0.05)
    module.write_text("x = 22\n")
    assert poller.wait(5)
    (tmp_path / "new.py").write_text("")
    assert poller.wait(5)
    module.unlink()
    assert poller.wait(5)
    poller.close()


def test_make_watcher_prefers_watchfiles(tmp_path):
    import pytest

    pytest.importorskip("watchfiles")  # the test extra installs it
    watcher = make_watcher([str(tmp_path)])
    try:
        assert type(watcher).__name__ == "_WatchfilesWatcher"
    finally:
        watcher.close()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/")
        return conn.getresponse().read().decode()
    finally:
        conn.close()


def _wait_for_body(port, expected, proc, timeout):
    deadline = time.monotonic() + timeout
    body = None
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            body = _get(port)
        except OSError:
            body = None
        if body is not None and expected in body:
            return
        time.sleep(0.1)
    raise AssertionError(f"never served {expected!r} (last {body!r}, exit {proc.poll()})")


def test_reload_serves_the_edited_code(tmp_path):
    (tmp_path / "reload_app.py").write_text(APP.format(text="first version"))
    port = _free_port()
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "fasthttp", "reload_app:app", "--bind", f"127.0.0.1:{port}", "--reload", "--shutdown-timeout", "2"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_body(port, "first version", proc, 30)
        (tmp_path / "reload_app.py").write_text(APP.format(text="the second version"))
        _wait_for_body(port, "the second version", proc, 30)
        (tmp_path / "reload_app.py").write_text("raise RuntimeError('broken edit')\n")
        time.sleep(1)  # the broken child exits; the reloader waits for the next change
        (tmp_path / "reload_app.py").write_text(APP.format(text="fixed again"))
        _wait_for_body(port, "fixed again", proc, 30)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
