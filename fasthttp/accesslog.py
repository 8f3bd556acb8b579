"""The access log: one line per response, Apache/gunicorn-style fields or JSON lines.

Strategy: a format string is compiled once into a list of literal strings and field getters,
so a line is one ``join`` over that list. Lines are buffered and flushed once per sweep of the
connection manager (and on close), not written per response. When the log is off the engine
does not even read the clock: it stamps ``Request.received_at`` (``time.perf_counter()`` at the
arrival of the head) only when a log is on, and the log measures durations on the same clock,
to the microsecond.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable
from time import perf_counter
from typing import TYPE_CHECKING, Protocol, TextIO, Union

from ._grammar import MONTHS

if TYPE_CHECKING:
    from .requests import Request

__all__ = ("AccessLog", "FORMATS", "LogTarget", "LoggedConnection")


#: Named formats; any other format string is compiled field by field (see :class:`AccessLog`).
FORMATS = {
    "combined": '%h %l %u %t "%r" %s %b "%{Referer}i" "%{User-Agent}i"',
    "common": '%h %l %u %t "%r" %s %b',
}

#: Where lines go: ``"-"`` (stdout), a path, a ``logging.Logger`` or a writable text file.
LogTarget = Union[str, "os.PathLike[str]", logging.Logger, TextIO]


class LoggedConnection(Protocol):
    """What the log reads of the connection a response went out on."""

    @property
    def client(self) -> object:
        """The peer address: ``(host, port, ...)`` for TCP, ``str``/``bytes`` for AF_UNIX."""
        ...


# A compiled field: (log, request or None, status, body bytes, connection, seconds) -> text.
_Field = Callable[["AccessLog", "Request | None", int, int, LoggedConnection, float], str]


class AccessLog:
    """One line per response, formatted with Apache ``LogFormat`` fields or as JSON lines.

    *target*: ``"-"`` (stdout), a path (appended to), a ``logging.Logger`` (INFO records), or a
    writable text file. *fmt*: ``"combined"`` (default), ``"common"``, ``"json"``, or a format
    string with these fields:

    ``%h`` client address, ``%l`` and ``%u`` ("-"), ``%t`` time (``[10/Oct/2000:13:55:36
    +0000]``), ``%r`` request line, ``%m`` method, ``%U`` path, ``%q`` query (with "?"), ``%H``
    protocol, ``%s`` status, ``%b`` body bytes ("-" for none), ``%B`` body bytes, ``%D``
    duration in microseconds, ``%T`` duration in seconds, ``%{Name}i`` a request header,
    ``%%`` a percent sign.

    JSON lines carry ``time`` (ISO 8601, UTC), ``client``, ``method``, ``path``, ``query``,
    ``version``, ``status``, ``bytes``, ``duration_ms`` (milliseconds, to the microsecond),
    ``referer`` and ``user_agent``.

    A duration runs from the arrival of the request head until its whole response has been
    queued for the transport. A response to a request that could not be parsed
    has no request: its fields are "-" (JSON ``null``) and its duration 0.

    Lines are buffered and written once per engine sweep (at most a second later) and on close.
    The engine calls the log as ``log(request, status, body_bytes, connection)``.
    """

    def __init__(self, target: LogTarget = "-", fmt: str = "combined") -> None:
        self._owned: TextIO | None = None
        self._logger: logging.Logger | None = None
        self._file: TextIO | None = None
        if isinstance(target, logging.Logger):
            self._logger = target
        elif isinstance(target, (str, os.PathLike)):
            if os.fspath(target) == "-":
                self._file = sys.stdout
            else:
                self._file = self._owned = open(target, "a", encoding="utf-8")
        else:
            self._file = target
        self._buffer: list[str] = []
        fmt = FORMATS.get(fmt, fmt)
        #: True for JSON lines, False for a field format.
        self.json = fmt == "json"
        self._parts: list[str | _Field] = [] if self.json else _compile_format(fmt)
        self._stamp_second = -1
        self._stamp = ""

    def _clf_time(self) -> str:
        """The current time as ``%t`` writes it (formatted once per second)."""
        now = time.time()
        second = int(now)
        if second != self._stamp_second:
            t = time.gmtime(second)
            self._stamp = "[%02d/%s/%04d:%02d:%02d:%02d +0000]" % (
                t.tm_mday, MONTHS[t.tm_mon - 1], t.tm_year, t.tm_hour, t.tm_min, t.tm_sec
            )
            self._stamp_second = second
        return self._stamp

    def __call__(self, req: Request | None, status: int, nbytes: int, conn: LoggedConnection) -> None:
        """Log one response: *status*, *nbytes* of body sent, on *conn*, for *req* (or None)."""
        duration = perf_counter() - req.received_at if req is not None else 0.0
        if self.json:
            line = self._json_line(req, status, nbytes, conn, duration)
        else:
            line = "".join(
                part if isinstance(part, str) else part(self, req, status, nbytes, conn, duration)
                for part in self._parts
            )
        self._buffer.append(line)

    def _json_line(self, req: Request | None, status: int, nbytes: int, conn: LoggedConnection, duration: float) -> str:
        record = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "client": _client_host(_seen_by(req, conn)),
            "method": req.method if req is not None else None,
            "path": req.path if req is not None else None,
            "query": req.query if req is not None else None,
            "version": req.version if req is not None else None,
            "status": status,
            "bytes": nbytes,
            "duration_ms": round(duration * 1000, 3),
            "referer": req.headers.get("referer") if req is not None else None,
            "user_agent": req.headers.get("user-agent") if req is not None else None,
        }
        return json.dumps(record, separators=(",", ":"))

    def flush(self) -> None:
        """Write the buffered lines (the connection manager calls this once per sweep)."""
        buffer = self._buffer
        if not buffer:
            return
        self._buffer = []
        if self._logger is not None:
            for line in buffer:
                self._logger.info(line)
            return
        if self._file is None:  # pragma: no cover - a target is always set
            return
        try:
            self._file.write("\n".join(buffer) + "\n")
            self._file.flush()
        except (OSError, ValueError):  # pragma: no cover - a closed or broken log target
            pass

    def close(self) -> None:
        """Flush, and close the file if the log opened it."""
        self.flush()
        if self._owned is not None:
            self._owned.close()
            self._owned = None


def _seen_by(req: Request | None, conn: LoggedConnection) -> LoggedConnection:
    """The connection as the request sees it (with what a trusted proxy forwarded,
    fasthttp.forwarded), or *conn* for an error without a request."""
    return conn if req is None else getattr(req, "connection", conn)


def _client_host(conn: LoggedConnection) -> str:
    """The client address as ``%h`` writes it: the host for TCP, ``unix:PATH`` or
    ``unix:@NAME`` for AF_UNIX (``unix`` for an unnamed peer)."""
    client = conn.client
    if isinstance(client, tuple):
        return str(client[0])
    if isinstance(client, bytes) and client:
        return "unix:@" + client[1:].decode("utf-8", "backslashreplace")
    if isinstance(client, str) and client:
        return "unix:" + client
    return "unix"


def _escape(text: str) -> str:
    """Client text inside a quoted log field: ``\\`` and ``"`` backslash-escaped, as Apache
    does, so a client cannot end the quotes early and forge the fields after them."""
    if "\\" in text or '"' in text:
        return text.replace("\\", "\\\\").replace('"', '\\"')
    return text


def _request_line(req: Request | None) -> str:
    if req is None:
        return "-"
    return _escape(f"{req.method} {req.target.decode('latin-1')} HTTP/{req.version}")


def _header_field(name: str) -> _Field:
    def get(log: AccessLog, req: Request | None, status: int, nbytes: int, conn: LoggedConnection, d: float) -> str:
        if req is None:
            return "-"
        value = req.headers.get(name)
        return "-" if value is None else _escape(value)

    return get


_FIELDS: dict[str, _Field] = {
    # The request's view of the client: what a trusted proxy forwarded, if anything.
    "h": lambda log, req, status, nbytes, conn, d: _client_host(_seen_by(req, conn)),
    "l": lambda *a: "-",
    "u": lambda *a: "-",
    "t": lambda log, *a: log._clf_time(),
    "r": lambda log, req, *a: _request_line(req),
    "m": lambda log, req, *a: req.method if req is not None else "-",
    "U": lambda log, req, *a: _escape(req.path) if req is not None else "-",
    "q": lambda log, req, *a: ("?" + _escape(req.query)) if req is not None and req.query else "",
    "H": lambda log, req, *a: f"HTTP/{req.version}" if req is not None else "-",
    "s": lambda log, req, status, *a: str(status),
    "b": lambda log, req, status, nbytes, *a: str(nbytes) if nbytes else "-",
    "B": lambda log, req, status, nbytes, *a: str(nbytes),
    "D": lambda log, req, status, nbytes, conn, d: str(int(d * 1e6)),
    "T": lambda log, req, status, nbytes, conn, d: f"{d:.6f}",
}


def _compile_format(fmt: str) -> list[str | _Field]:
    parts: list[str | _Field] = []
    text: list[str] = []
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%":
            text.append(c)
            i += 1
            continue
        if fmt[i + 1 : i + 2] == "%":
            text.append("%")
            i += 2
            continue
        if fmt[i + 1 : i + 2] == "{":
            end = fmt.find("}", i)
            if end < 0 or fmt[end + 1 : end + 2] != "i":
                raise ValueError(f"unsupported log field at {fmt[i:]!r} (only %{{Name}}i)")
            getter = _header_field(fmt[i + 2 : end])
            i = end + 2
        else:
            key = fmt[i + 1 : i + 2]
            if key not in _FIELDS:
                raise ValueError(f"unknown log field %{key}")
            getter = _FIELDS[key]
            i += 2
        if text:
            parts.append("".join(text))
            text = []
        parts.append(getter)
    if text:
        parts.append("".join(text))
    return parts
