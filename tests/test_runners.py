"""The ways to run a server besides the CLI: in a background thread (start_in_thread,
ServerThread), in its own process (start_server), and loading an app by name (load_app)."""

from __future__ import annotations

import http.client
import socket
import time

import pytest

from fasthttp import start_in_thread, start_server
from fasthttp.runners import ServerThread, load_app

from helpers_engine import hello_app, http_get


def test_start_in_thread_returns_once_listening():
    handle = start_in_thread(hello_app(), "127.0.0.1:0")
    try:
        assert http_get(handle.addresses[0]) == (200, b"hello")
    finally:
        handle.stop()
    with pytest.raises(OSError):
        http_get(handle.addresses[0], timeout=1)


def test_start_server_runs_in_its_own_process_and_drains_on_sigterm():
    process, addresses = start_server("helpers_apps:app", "127.0.0.1:0")
    try:
        address = addresses[0]
        assert http_get(address) == (200, b"hello from helpers_apps")
        assert http_get(address, "/pid")[1] == str(process.pid).encode()
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


def test_a_serving_process_freezes_what_the_app_made_while_loading():
    """After start-up the serving process moves the objects alive then (modules, routes, what
    the startup hooks made) out of the collector's generations (gc.freeze)."""
    process, addresses = start_server("helpers_apps:app", "127.0.0.1:0")
    try:
        status, body = http_get(addresses[0], "/frozen")
        assert status == 200 and int(body) > 10_000
    finally:
        process.terminate()
        process.join(10)
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
        assert http_get(addresses[0]) == (200, b"ready")
        process.terminate()
        process.join(10)
        assert process.exitcode == 0
    finally:
        if process.is_alive():
            process.kill()
            process.join()
    assert record.read_text().split() == ["startup", str(process.pid), "shutdown", str(process.pid)]


def test_a_server_thread_is_a_context_manager_and_reports_its_urls():
    with ServerThread(hello_app(), "127.0.0.1:0") as handle:
        host, port = handle.addresses[0]
        assert handle.urls == [f"http://127.0.0.1:{port}"]
        assert http_get((host, port)) == (200, b"hello")
    assert not handle.loop.is_running() and handle.loop.is_closed()


def test_a_server_thread_that_cannot_listen_raises_in_the_caller():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            start_in_thread(hello_app(), f"127.0.0.1:{taken.getsockname()[1]}")
    with pytest.raises(TypeError):
        start_in_thread(hello_app(), "127.0.0.1:0", no_such_option=1)


def test_load_app_imports_module_attribute():
    import helpers_apps

    assert load_app("helpers_apps:app") is helpers_apps.app
    assert load_app("helpers_apps") is helpers_apps.app  # MODULE alone means MODULE:app
    assert load_app("fasthttp.demo:app.on_connect") is None  # dotted attributes
    with pytest.raises(ValueError):
        load_app(":app")
    with pytest.raises(AttributeError):
        load_app("helpers_apps:no_such_app")
