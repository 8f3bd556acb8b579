"""Readers of /proc (Linux) for the processes a server runs: tree, CPU time, RSS, sockets, CPUs.

A server may be one process (uvicorn with one worker) or a supervisor with a worker (granian), so
CPU time is summed over the whole process tree, while memory is read from the worker alone: the
process that holds the connections (``busiest``), never the supervisor.

CPU time is ``utime + stime + cutime + cstime`` from ``/proc/PID/stat`` (proc(5)): the first two
cover every thread of the process, dead threads included; the last two cover children that exited
and were reaped, so a worker that dies mid-run still counts through its parent.
"""

from __future__ import annotations

import ctypes
import os
import signal

__all__ = (
    "die_with_parent",
    "orphans_of_dead_harnesses",
    "CLOCK_TICKS",
    "process_tree",
    "cpu_seconds",
    "rss_kib",
    "socket_count",
    "busiest",
    "cpus_allowed",
    "alive",
)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
HARNESS_MARK = "BENCH_HARNESS_PID"  # set in the environment of every process the harness starts
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """``preexec_fn``: have the kernel SIGKILL this child if the harness dies, even by SIGKILL.

    NOTE: it covers direct children only; a grandchild (granian's worker) is orphaned instead,
    which ``orphans_of_dead_harnesses`` finds on the next run.
    """
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except Exception:
        pass


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def orphans_of_dead_harnesses() -> list[int]:
    """Processes started by a harness that is no longer running (killed before it could clean up).

    Recognised by ``HARNESS_MARK`` in their environment: only processes this harness started carry
    it, so nothing else is ever picked.
    """
    mark = HARNESS_MARK.encode() + b"="
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = f.read()
        except OSError:
            continue
        for item in environ.split(b"\0"):
            if item.startswith(mark):
                owner = int(item[len(mark):] or 0)
                if owner != os.getpid() and not (alive(owner) and b"benchmarks" in _cmdline(owner)):
                    found.append(int(entry))
                break
    return found


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("latin-1")
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    return data[data.rindex(")") + 2 :].split()


def alive(pid: int) -> bool:
    """True if *pid* exists and is not a zombie."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def process_tree(root: int) -> list[int]:
    """*root* and all its live descendants, parents before children (breadth first)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields is None or fields[0] in ("Z", "X"):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))  # field 4: ppid
    if not alive(root):
        return []
    order, queue = [], [root]
    while queue:
        pid = queue.pop(0)
        order.append(pid)
        queue.extend(sorted(children.get(pid, ())))
    return order


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of *pids*, including their reaped children."""
    ticks = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            # proc(5) fields 14-17 (utime, stime, cutime, cstime); index 0 here is field 3.
            ticks += sum(int(v) for v in fields[11:15])
    return ticks / CLOCK_TICKS


def _status_value(pid: int | str, key: str) -> str | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def rss_kib(pid: int) -> int | None:
    """Resident set size (VmRSS) of *pid* in KiB, None if it is gone."""
    value = _status_value(pid, "VmRSS")
    return int(value.split()[0]) if value else None


def socket_count(pid: int) -> int:
    """Number of socket file descriptors *pid* holds (listeners and connections)."""
    count = 0
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return 0
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                count += 1
        except OSError:
            pass
    return count


def busiest(pids: list[int]) -> int | None:
    """The process of *pids* holding the most sockets: the worker, when connections are open.

    Ties go to the deepest process (the last in ``process_tree`` order), which is the worker in a
    supervisor/worker pair that both hold only the listener.
    """
    best, best_count = None, -1
    for pid in pids:
        count = socket_count(pid)
        if count >= best_count:
            best, best_count = pid, count
    return best


def cpus_allowed(pid: int) -> set[str]:
    """The CPU lists (``Cpus_allowed_list``) of every thread of *pid*, as strings."""
    lists = set()
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return lists
    for tid in tids:
        value = _status_value(f"{pid}/task/{tid}", "Cpus_allowed_list")
        if value:
            lists.add(value)
    return lists
