"""Worker processes: N workers share one port through SO_REUSEPORT, a dead worker is replaced,
and SIGTERM drains them all (the master exits 0). Each test runs the master in a subprocess."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

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


def _env() -> dict[str, str]:
    """The environment of a master started here: it imports the tests' helper apps."""
    return dict(os.environ, PYTHONPATH=TESTS + os.pathsep + os.environ.get("PYTHONPATH", ""))


@contextlib.contextmanager
def _master(script: str) -> Iterator[subprocess.Popen]:
    """A master process running *script* (stderr piped, for ``_wait_for_listening``), killed
    on the way out if the test did not end it."""
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True, env=_env())
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()


def _two_worker_pids(address: tuple[str, int]) -> set[int]:
    """The pids of the two workers answering on *address* (each answers ``/pid``)."""
    pids: set[int] = set()
    deadline = time.monotonic() + 10
    while len(pids) < 2 and time.monotonic() < deadline:
        try:  # the master announces the address before the workers listen on it
            pids.add(int(http_get(address, "/pid")[1]))
        except OSError:
            time.sleep(0.05)
    return pids


def test_workers_share_the_port_and_are_respawned():
    script = "import fasthttp, helpers_apps; fasthttp.run(helpers_apps.app, '127.0.0.1:0', workers=2, shutdown_timeout=2)"
    with _master(script) as proc:
        address = _wait_for_listening(proc)
        pids = _two_worker_pids(address)
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


def _listening_sockets(port: int) -> int:
    """Listening TCP sockets on 127.0.0.1:*port* (Linux: /proc/net/tcp, state 0A)."""
    with open("/proc/net/tcp") as f:
        rows = [line.split() for line in f.readlines()[1:]]
    return sum(1 for row in rows if row[1] == f"0100007F:{port:04X}" and row[3] == "0A")


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="counts sockets in Linux's /proc/net/tcp")
def test_each_worker_slot_listens_on_a_group_of_sockets():
    # accept_listeners (issue 17): a group of SO_REUSEPORT sockets per worker slot, all held by
    # the master, every slot served by its worker.
    script = "import fasthttp, helpers_apps; fasthttp.run(helpers_apps.app, '127.0.0.1:0', workers=2, accept_listeners=3, shutdown_timeout=2)"
    with _master(script) as proc:
        address = _wait_for_listening(proc)
        assert _listening_sockets(address[1]) == 6
        pids = _two_worker_pids(address)
        assert len(pids) == 2 and proc.pid not in pids
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0


def test_a_second_worker_group_on_a_served_port_fails_with_address_in_use():
    # issue 11: two different apps started on one port with --workers 2 both started, and the
    # kernel spread the requests between them (SO_REUSEPORT). Now the second fails at start,
    # and the first group's workers still share the port.
    with _master("import fasthttp, helpers_apps; fasthttp.run(helpers_apps.app, '127.0.0.1:0', workers=2, shutdown_timeout=2)") as first:
        host, port = _wait_for_listening(first)
        for workers in (2, 1):  # a second group, and a single server
            second = subprocess.run(
                [sys.executable, "-c", f"import fasthttp, helpers_apps; fasthttp.run(helpers_apps.app, '{host}:{port}', workers={workers})"],
                capture_output=True, text=True, env=_env(), timeout=30,
            )
            assert second.returncode != 0 and f"address in use: {host}:{port}" in second.stderr, second.stderr[-800:]
        pids = _two_worker_pids((host, port))
        assert len(pids) == 2 and first.pid not in pids  # both workers of the first group serve
        first.send_signal(signal.SIGTERM)
        assert first.wait(15) == 0


def _start_master(tmp_path, *args):
    """The CLI master with *args*, its stderr in a file (workers log each recycle: a pipe could
    fill); returns (process, (host, port), log path) once a worker answers."""
    log_path = tmp_path / "master.log"
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "fasthttp", "helpers_apps:app", "--bind", "127.0.0.1:0", *args],
            stderr=log_file, stdout=subprocess.DEVNULL, text=True, env=_env(), cwd=TESTS,
        )
    deadline = time.monotonic() + 20
    address = None
    while address is None and time.monotonic() < deadline and proc.poll() is None:
        m = re.search(r"listening on http://([\d.]+):(\d+)", log_path.read_text())
        if m:
            address = (m.group(1), int(m.group(2)))
        else:
            time.sleep(0.05)
    assert address, log_path.read_text()
    while time.monotonic() < deadline:
        try:  # the master announces the address before the workers listen on it
            http_get(address, "/pid")
            return proc, address, log_path
        except OSError:
            time.sleep(0.05)
    raise AssertionError("no worker answered: " + log_path.read_text())


class _Client:
    """A bounded loopback client: each round sends one request on a fresh connection and one on
    a kept-alive connection. A fresh connection must never be refused or reset; a kept-alive one
    that the server closed while idle (a draining worker may) is reopened, as RFC 9112 §9.3.1
    lets a client retry when no byte of a response came."""

    def __init__(self, address):
        import http.client

        self.http = http.client
        self.address = address
        self.kept = None
        self.statuses = []
        self.pids = set()

    def _get(self, conn):
        conn.request("GET", "/pid")
        resp = conn.getresponse()
        body = resp.read()
        self.statuses.append(resp.status)
        if resp.status == 200:
            self.pids.add(int(body))

    def round(self):
        fresh = self.http.HTTPConnection(*self.address, timeout=10)
        try:
            self._get(fresh)  # any error here fails the test
        finally:
            fresh.close()
        if self.kept is None:
            self.kept = self.http.HTTPConnection(*self.address, timeout=10)
            self._get(self.kept)
            return
        try:
            self._get(self.kept)
        except (ConnectionResetError, BrokenPipeError, self.http.RemoteDisconnected):
            self.kept.close()
            self.kept = self.http.HTTPConnection(*self.address, timeout=10)
            self._get(self.kept)


def test_sighup_and_recycling_refuse_no_connection(tmp_path):
    """SIGHUP starts a new generation of workers and drains the old one only once it listens;
    --limit-max-requests replaces a worker the same way: under continuous traffic, every request
    gets a 200 and no connection is refused or reset."""
    proc, address, log_path = _start_master(tmp_path, "--workers", "2", "--limit-max-requests", "40", "--shutdown-timeout", "5")
    try:
        client = _Client(address)
        deadline = time.monotonic() + 90
        hups = 0
        rounds = 0
        # At least 400 rounds, and on until workers of several generations have answered (a
        # loaded machine starts the new generations late; the deadline still bounds the test).
        while (rounds < 400 or len(client.pids) < 4) and time.monotonic() < deadline:
            client.round()
            rounds += 1
            if rounds in (100, 250):
                proc.send_signal(signal.SIGHUP)
                hups += 1
        if client.kept is not None:
            client.kept.close()
        assert rounds >= 400 and hups == 2
        assert client.statuses and set(client.statuses) == {200}
        log = log_path.read_text()
        assert log.count("SIGHUP: starting a new generation") == 2
        assert "recycling" in log
        assert len(client.pids) >= 4  # workers of several generations served
        assert proc.pid not in client.pids
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_limit_max_rss_replaces_workers_without_refusing(tmp_path):
    """--limit-max-rss 1 (MiB: every worker is above it): each worker is replaced at its first
    check, the replacement listening first; requests keep getting 200s throughout."""
    proc, address, log_path = _start_master(tmp_path, "--workers", "2", "--limit-max-rss", "1", "--shutdown-timeout", "5")
    try:
        client = _Client(address)
        deadline = time.monotonic() + 60
        while len(client.pids) < 6 and time.monotonic() < deadline:
            client.round()
        if client.kept is not None:
            client.kept.close()
        assert len(client.pids) >= 6, log_path.read_text()[-2000:]
        assert set(client.statuses) == {200}
        assert "above --limit-max-rss 1: recycling" in log_path.read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_resident_bytes_is_this_process():
    from fasthttp.server import resident_bytes

    assert 1 << 20 < resident_bytes() < 1 << 40


def test_connections_queued_for_a_dead_worker_are_served_by_its_successor(tmp_path):
    """The master holds every worker slot's listening socket: connections the kernel queued for
    a worker that then dies wait for the slot's next worker instead of being reset. One of two
    workers is frozen (SIGSTOP) so that the connections hashed to its slot queue, then killed."""
    import socket

    proc, address, log_path = _start_master(tmp_path, "--workers", "2", "--shutdown-timeout", "2")
    clients = []
    try:
        pids = set()
        deadline = time.monotonic() + 10
        while len(pids) < 2 and time.monotonic() < deadline:
            pids.add(int(http_get(address, "/pid")[1]))
        assert len(pids) == 2 and proc.pid not in pids
        victim = min(pids)
        os.kill(victim, signal.SIGSTOP)
        for _ in range(16):  # each lands on the frozen slot with odds 1/2
            conn = socket.create_connection(address, timeout=15)
            conn.sendall(b"GET /pid HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            clients.append(conn)
        os.kill(victim, signal.SIGKILL)
        served_by = set()
        for conn in clients:
            answer = b""
            while chunk := conn.recv(4096):
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200 "), answer
            served_by.add(int(answer.rpartition(b"\r\n\r\n")[2]))
        assert victim not in served_by
        assert len(served_by - pids) == 1  # the frozen slot's queue went to its new worker
        assert f"worker {victim} exited with -9" in log_path.read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        for conn in clients:
            conn.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
