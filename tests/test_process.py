"""The serving process's identity (fasthttp.process): the pid file, and the switch of user,
group and umask after binding (run as root only: each switch in a subprocess of its own, and the
command line's --pid/--user/--group/--umask in tests/test_cli.py)."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys

import pytest

from fasthttp.process import PidFile, ProcessIdentity, parse_umask, resolve_group, resolve_user

TESTS = os.path.dirname(os.path.abspath(__file__))
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(TESTS), TESTS, os.environ.get("PYTHONPATH", "")]))

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="switching user needs root")


def nobody() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no 'nobody' user")


def test_parse_umask():
    assert parse_umask("027") == 0o27 and parse_umask("0o077") == 0o77 and parse_umask(0o22) == 0o22
    for bad in ("8", "abc", "1000", -1):
        with pytest.raises(ValueError):
            parse_umask(bad)


def test_unknown_user_and_group_fail_at_construction():
    with pytest.raises(ValueError, match="no such user"):
        ProcessIdentity(user="no-such-user-fasthttp")
    with pytest.raises(ValueError, match="no such group"):
        ProcessIdentity(group="no-such-group-fasthttp")
    assert resolve_user("0").pw_uid == 0 and resolve_user(0).pw_name == pwd.getpwuid(0).pw_name
    assert resolve_group("0") == 0


def test_pid_file_is_written_whole_and_removed_only_if_it_is_still_ours(tmp_path):
    path = tmp_path / "server.pid"
    pid = PidFile(path)
    pid.write()
    assert path.read_text() == f"{os.getpid()}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["server.pid"]  # no temporary file left
    pid.remove()
    assert not path.exists()
    pid.remove()  # twice is harmless
    # A newer server took the path: its pid file stays.
    other = PidFile(path)
    other.write()
    path.write_text("999999\n")
    other.remove()
    assert path.read_text() == "999999\n"


def test_without_a_user_or_group_drop_only_sets_the_umask():
    code = "from fasthttp.process import ProcessIdentity\nimport os\nProcessIdentity(umask=0o27).drop()\nm = os.umask(0)\nprint(os.getuid(), oct(m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=30, check=True).stdout.split()
    assert out == [str(os.getuid()), "0o27"]


SWITCH = """
import json, os, socket, sys
from fasthttp.process import ProcessIdentity
sock = socket.socket()
sock.bind(("127.0.0.1", int(sys.argv[3])))  # a privileged port, bound as root
ProcessIdentity(user=sys.argv[1] or None, group=sys.argv[2] or None).drop()
try:
    os.setuid(0)
    regained = True
except PermissionError:
    regained = False
ids = [os.getuid(), os.geteuid(), os.getgid(), os.getegid()]
print(json.dumps({"ids": ids, "groups": sorted(os.getgroups()), "port": sock.getsockname()[1], "regained": regained}))
"""


def free_privileged_port() -> int:
    import socket

    for port in range(900, 1000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port below 1024")


def switch(user: str, group: str) -> dict:
    import json

    port = free_privileged_port()
    result = subprocess.run([sys.executable, "-c", SWITCH, user, group, str(port)], capture_output=True, text=True, env=ENV, timeout=30)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["port"] == port
    return out


@root_only
@pytest.mark.parametrize("by_gid", [False, True])
def test_drop_switches_user_and_group_after_binding_a_privileged_port(by_gid):
    entry = nobody()
    out = switch("nobody", str(entry.pw_gid) if by_gid else "")
    assert out["ids"] == [entry.pw_uid, entry.pw_uid, entry.pw_gid, entry.pw_gid]
    assert 0 not in out["groups"]  # root's supplementary group is gone too
    assert out["regained"] is False


@root_only
def test_drop_to_a_group_alone_keeps_the_user():
    entry = nobody()
    out = switch("", str(entry.pw_gid))
    assert out["ids"] == [0, 0, entry.pw_gid, entry.pw_gid] and out["groups"] == [entry.pw_gid]


def test_switching_user_without_root_is_a_permission_error():
    if os.geteuid() == 0:
        pytest.skip("as root the switch succeeds (the tests above)")
    other = "root"
    with pytest.raises(PermissionError):
        ProcessIdentity(user=other).drop()
