"""Worker processes: N workers share one port through SO_REUSEPORT, a dead worker is replaced,
and SIGTERM drains them all (the master exits 0). Each test runs the master in a subprocess."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

from helpers_engine import http_get

TESTS = os.path.dirname(os.path.abspath(__file__))


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
                pids.add(int(http_get(address, "/pid")[1]))
            except OSError:
                time.sleep(0.05)
        assert len(pids) == 2 and proc.pid not in pids
        victim = pids.pop()
        os.kill(victim, signal.SIGKILL)
        fresh = set()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                pid = int(http_get(address, "/pid")[1])
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


def test_a_second_worker_group_on_a_served_port_fails_with_address_in_use():
    # issue 11: two different apps started on one port with --workers 2 both started, and the
    # kernel spread the requests between them (SO_REUSEPORT). Now the second fails at start,
    # and the first group's workers still share the port.
    env = dict(os.environ, PYTHONPATH=TESTS + os.pathsep + os.environ.get("PYTHONPATH", ""))
    first = subprocess.Popen(
        [sys.executable, "-c", "import fasthttp, helpers_apps; fasthttp.run(helpers_apps.app, '127.0.0.1:0', workers=2, shutdown_timeout=2)"],
        stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        host, port = _wait_for_listening(first)
        for workers in (2, 1):  # a second group, and a single server
            second = subprocess.run(
                [sys.executable, "-c", f"import fasthttp, helpers_apps; fasthttp.run(helpers_apps.app, '{host}:{port}', workers={workers})"],
                capture_output=True, text=True, env=env, timeout=30,
            )
            assert second.returncode != 0 and f"address in use: {host}:{port}" in second.stderr, second.stderr[-800:]
        pids = set()
        deadline = time.monotonic() + 10
        while len(pids) < 2 and time.monotonic() < deadline:
            try:
                pids.add(int(http_get((host, port), "/pid")[1]))
            except OSError:
                time.sleep(0.05)
        assert len(pids) == 2 and first.pid not in pids  # both workers of the first group serve
        first.send_signal(signal.SIGTERM)
        assert first.wait(15) == 0
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        first.stderr.close()
