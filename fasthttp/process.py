"""The serving process's identity: its pid file, and the switch to an unprivileged user, group
and umask once the listening sockets are bound.

Strategy
--------
A server started as root binds its privileged ports (80, 443) first, then gives root up: the
runner (``fasthttp.runners.run``, ``fasthttp.workers``) binds, writes the pid file, and calls
:meth:`ProcessIdentity.drop` before any request is served. With workers the master stays root,
as gunicorn's arbiter does (it binds the SO_REUSEPORT sockets of the workers it respawns: the
kernel shares a port only between sockets of the same user), and each worker drops after binding
its own sockets. The order is the one that cannot be undone half-way: supplementary groups, then
the group, then the user (after ``setuid`` the process can no longer change its groups).
"""

from __future__ import annotations

import grp
import logging
import os
import pwd
from dataclasses import dataclass

__all__ = ("ProcessIdentity", "PidFile", "resolve_user", "resolve_group", "parse_umask")

log = logging.getLogger("fasthttp.server")


def resolve_user(user: str | int) -> pwd.struct_passwd:
    """The password entry of *user* (a name, or a numeric uid as ``int`` or digits)."""
    try:
        if isinstance(user, int) or user.isdigit():
            return pwd.getpwuid(int(user))
        return pwd.getpwnam(user)
    except KeyError:
        raise ValueError(f"no such user: {user!r}") from None


def resolve_group(group: str | int) -> int:
    """The gid of *group* (a name, or a numeric gid as ``int`` or digits)."""
    if isinstance(group, int) or group.isdigit():
        return int(group)
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise ValueError(f"no such group: {group!r}") from None


def parse_umask(text: str | int) -> int:
    """A umask given in octal (``"027"``, ``"0o027"``) or as an ``int``."""
    if isinstance(text, int):
        value = text
    else:
        try:
            value = int(text, 8)
        except ValueError:
            raise ValueError(f"not an octal umask: {text!r}") from None
    if not 0 <= value <= 0o777:
        raise ValueError(f"a umask is between 0 and 0o777, not {oct(value)}")
    return value


@dataclass(frozen=True)
class ProcessIdentity:
    """Who the serving process becomes once bound: *user* and *group* (names or ids; the user's
    own group when only *user* is given) and *umask*. Names are checked at construction, so a
    typo fails before anything is bound."""

    user: str | int | None = None
    group: str | int | None = None
    umask: int | None = None

    def __post_init__(self) -> None:
        if self.user is not None:
            resolve_user(self.user)
        if self.group is not None:
            resolve_group(self.group)
        if self.umask is not None:
            parse_umask(self.umask)

    @property
    def changes_user(self) -> bool:
        return self.user is not None or self.group is not None

    def drop(self) -> None:
        """Apply the umask, then switch group and user (see the module docstring). Raises
        ``PermissionError`` when the process may not switch (not root)."""
        if self.umask is not None:
            os.umask(parse_umask(self.umask))
        if not self.changes_user:
            return
        entry = resolve_user(self.user) if self.user is not None else None
        gid = resolve_group(self.group) if self.group is not None else entry.pw_gid if entry is not None else os.getgid()
        if entry is not None and entry.pw_uid == os.geteuid() and gid == os.getegid():
            return  # already that user: nothing to give up
        if os.geteuid() == 0:
            # APPSEC: drop root's supplementary groups too, or the process keeps group 0.
            if entry is not None:
                os.initgroups(entry.pw_name, gid)
            else:
                os.setgroups([gid])
        os.setgid(gid)
        if entry is not None:
            os.setuid(entry.pw_uid)
        log.info("running as uid %d, gid %d", os.getuid(), os.getgid())


class PidFile:
    """The pid file at *path*: :meth:`write` once bound, :meth:`remove` at exit (only if it
    still names this process: a newer server may have taken the path)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self.pid: int | None = None

    def write(self) -> None:
        pid = os.getpid()
        tmp = f"{self.path}.{pid}.tmp"
        with open(tmp, "w") as f:
            f.write(f"{pid}\n")
        os.replace(tmp, self.path)  # never a half-written pid file
        self.pid = pid

    def remove(self) -> None:
        if self.pid is None or self.pid != os.getpid():
            return  # not written, or a forked child
        try:
            with open(self.path) as f:
                if f.read().strip() != str(self.pid):
                    return
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        except OSError as exc:  # e.g. the user we switched to may not write its directory
            log.warning("cannot remove the pid file %s: %s", self.path, exc)
        self.pid = None
