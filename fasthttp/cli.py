"""The command line: ``fasthttp MODULE:APP [options]`` (also ``python -m fasthttp``).

``fasthttp --demo`` serves the demo application (``fasthttp/demo.py``). The limits and
deadlines of :class:`fasthttp.config.Config` that operators tune have options (``--help`` lists
them with their defaults); they become keywords of :func:`fasthttp.runners.run`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import traceback
from typing import Any, NoReturn

from . import __version__, kernel_implementations
from .accesslog import FORMATS, AccessLog
from .config import Config
from .demo import ENDPOINTS, DemoLimits, create_app
from .forwarded import ProxyTrust
from .hosting import INTERFACES, hosted
from .listeners import DEFAULT_BIND, BindSpec, ListenError, compose_bind, parse_bind
from .process import parse_umask
from .reloader import run_with_reload
from .runners import AppNotFound, check_app, load_app, run

__all__ = ("main", "build_parser")

_DEFAULTS = Config()


def _size(text: str) -> int | None:
    """``1048576``, ``64k``, ``1m``, ``1g`` (powers of 1024), or ``none``."""
    value = text.strip().lower()
    if value in ("none", "off", "0"):
        return None if value != "0" else 0
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    factor = units.get(value[-1:], 1)
    number = value[:-1] if value[-1:] in units else value
    try:
        result = int(number) * factor
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}") from None
    if result < 0:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}")
    return result


def _count(text: str) -> int | None:
    value = text.strip().lower()
    if value in ("none", "off", "0"):
        return None
    try:
        result = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a count: {text!r}") from None
    if result < 0:
        raise argparse.ArgumentTypeError(f"not a count: {text!r}")
    return result


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("a time must be positive")
    return value


def _fmt_size(n: int | None) -> str:
    return "none" if n is None else str(n)


_SHORT_USAGE = "usage: fasthttp MODULE:APP [--host HOST] [--port PORT] [options]   (fasthttp --help lists them)"


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are two lines (the error, a short usage), not the whole
    usage of every option."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"fasthttp: error: {message}\n{_SHORT_USAGE}\n")


def _port_number(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 0 to 65535, not {text!r}")
    return int(text)


def _version() -> str:
    kernels = set(kernel_implementations().values())
    kind = "compiled" if kernels == {"c"} else "pure Python" if kernels == {"py"} else "mixed"
    return f"fasthttp {__version__} (Python {sys.version.split()[0]}, {kind} kernels)"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``fasthttp``; option defaults come from :class:`Config`."""
    d = _DEFAULTS
    parser = _Parser(
        prog="fasthttp",
        description="Serve a fasthttp application: fasthttp MODULE:APP, or fasthttp --demo.",
        epilog="Sizes accept k/m/g suffixes (powers of 1024); 'none' lifts a limit. "
        "FASTHTTP_NO_UVLOOP=1 has the effect of --no-uvloop; FASTHTTP_NO_EXTENSIONS=1 runs the "
        "pure-Python kernels.",
    )
    parser.add_argument("app", nargs="?", metavar="MODULE:APP", help="the application to serve, e.g. myproject.web:app (MODULE alone means MODULE:app)")
    parser.add_argument("--demo", action="store_true", help="serve the built-in demo application, an httpbin-style load-test target (its endpoints are listed below)")
    parser.add_argument("--version", action="version", version=_version(), help="print the version (and which kernels run) and exit")

    _demo_options(parser)

    g = parser.add_argument_group("listening")
    g.add_argument(
        "-b",
        "--bind",
        action="append",
        metavar="ADDRESS",
        help=f"where to listen, repeatable: HOST:PORT, [V6]:PORT ([fe80::1%%eth0]:PORT for a scope id; [::]:PORT is dual-stack), unix:PATH or unix:@ABSTRACT; port 0 picks a free port (default {DEFAULT_BIND})",
    )
    g.add_argument("--host", metavar="HOST", help=f"uvicorn's spelling: the address to listen on, with --port (default {DEFAULT_BIND.rpartition(':')[0]}); the same as --bind HOST:PORT")
    g.add_argument("--port", type=_port_number, metavar="PORT", help=f"uvicorn's spelling: the port to listen on, with --host (default {DEFAULT_BIND.rpartition(':')[2]})")
    g.add_argument("-w", "--workers", type=int, default=1, metavar="N", help="worker processes sharing the port through SO_REUSEPORT, respawned if they die (default 1)")
    g.add_argument("--backlog", type=int, default=d.backlog, metavar="N", help=f"listen backlog (default {d.backlog})")
    g.add_argument(
        "--accept-listeners",
        type=int,
        default=None,
        metavar="N",
        help="listening sockets per TCP address in each worker (SO_REUSEPORT); several let uvloop accept several connections per loop iteration (default: 8 on uvloop on Linux, else 1)",
    )
    g.add_argument(
        "--defer-accept",
        type=int,
        default=d.defer_accept,
        metavar="SECONDS",
        help=f"TCP_DEFER_ACCEPT: hand a TCP connection to the server only once its first bytes arrive (a silent one after about SECONDS); 0 turns it off (default {d.defer_accept})",
    )
    g.add_argument("--no-uvloop", action="store_true", help="use the standard asyncio loop even when uvloop is installed")
    g.add_argument(
        "--async-handlers",
        default=d.async_handlers,
        choices=("auto", "inline", "eager", "task"),
        help="how async handlers run: inline (first step without a Task, fastest), eager (an eager Task, Python 3.12+), task (always a Task); auto is eager on 3.12+, else inline (default auto)",
    )

    g = parser.add_argument_group("TLS")
    g.add_argument("--certfile", metavar="PATH", help="PEM certificate chain; enables TLS (1.2 minimum, no compression)")
    g.add_argument("--keyfile", metavar="PATH", help="PEM private key (default: in --certfile)")
    g.add_argument("--ca-certs", metavar="PATH", help="PEM CA bundle for verifying client certificates (makes them required unless --client-cert says otherwise)")
    g.add_argument("--client-cert", choices=("none", "optional", "required"), help="client-certificate verification (default: required with --ca-certs, else none)")

    g = parser.add_argument_group("access log")
    g.add_argument("--access-log", metavar="PATH", help="write an access log to PATH ('-' for stdout); off by default")
    g.add_argument(
        "--log-format",
        default="combined",
        metavar="FORMAT",
        help="'combined' (default), 'common', 'json' (JSON lines) or an Apache-style format with %%h %%t %%r %%s %%b %%B %%D %%T %%m %%U %%q %%H %%{Header}i",
    )
    g.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"), help="level of the server's own log on stderr (default info)")
    g.add_argument("--debug", action="store_true", help="trace each connection's events on stderr (bytes in, parsed heads, responses, protocol errors, timeouts; logger fasthttp.trace)")

    g = parser.add_argument_group("limits")
    g.add_argument("--max-request-line", type=int, default=d.max_request_line, metavar="BYTES", help=f"longest request line, else 414 (default {d.max_request_line})")
    g.add_argument("--max-header-size", type=_size, default=d.max_header_size, metavar="BYTES", help=f"largest header section, else 431 (default {d.max_header_size})")
    g.add_argument("--max-header-count", type=int, default=d.max_header_count, metavar="N", help=f"most header fields, else 431 (default {d.max_header_count})")
    g.add_argument("--max-body-size", type=_size, default=d.max_body_size, metavar="BYTES", help=f"largest request body, else 413; routes may override (default {_fmt_size(d.max_body_size)})")
    g.add_argument("--require-content-length", action="store_true", help="refuse chunked request bodies with 411 Length Required")
    g.add_argument("--max-requests-per-connection", type=_count, default=d.max_requests_per_connection, metavar="N", help=f"requests on one connection before it is closed (default {d.max_requests_per_connection})")
    g.add_argument("--max-connections", type=_count, default=d.max_connections, metavar="N", help=f"concurrent connections per worker; more get 503 (default {d.max_connections})")

    g = parser.add_argument_group("timeouts (seconds)")
    g.add_argument("--header-timeout", type=_seconds, default=d.header_timeout, metavar="S", help=f"time to send a request head, from its first byte, else 408 (default {d.header_timeout})")
    g.add_argument("--body-timeout", type=_seconds, default=d.body_timeout, metavar="S", help=f"longest pause while a body arrives, else 408 (default {d.body_timeout})")
    g.add_argument("--min-body-rate", type=float, default=d.min_body_rate, metavar="BYTES_PER_S", help=f"slowest average body rate over each --body-rate-window, else 408; 0 disables (default {d.min_body_rate})")
    g.add_argument("--body-rate-window", type=_seconds, default=d.body_rate_window, metavar="S", help=f"window of the minimum body rate (default {d.body_rate_window})")
    g.add_argument("--keep-alive-timeout", type=_seconds, default=d.keep_alive_timeout, metavar="S", help=f"idle time between requests before the connection is closed (default {d.keep_alive_timeout})")
    g.add_argument("--write-timeout", type=_seconds, default=d.write_timeout, metavar="S", help=f"time a client may leave responses unread before it is dropped (default {d.write_timeout})")
    g.add_argument("--shutdown-timeout", "--timeout-graceful-shutdown", dest="shutdown_timeout", type=_seconds, default=d.shutdown_timeout, metavar="S", help=f"on SIGTERM/SIGINT, time in-flight requests get to finish (default {d.shutdown_timeout})")
    _add_websocket_options(parser)
    _add_interface_options(parser)
    _add_process_options(parser)
    _add_reload_options(parser)
    _add_file_options(parser)
    return parser


def _add_reload_options(parser: argparse.ArgumentParser) -> None:
    """Development reloading (fasthttp.reloader)."""
    g = parser.add_argument_group("development")
    g.add_argument("--reload", action="store_true", help="restart the server when a .py file under the watched directories changes (watchfiles if installed: pip install 'fasthttp[reload]'; else polling); for development")
    g.add_argument("--reload-dir", action="append", metavar="DIR", help="a directory to watch with --reload (repeatable; default the current directory)")


def _add_file_options(parser: argparse.ArgumentParser) -> None:
    """File responses (fasthttp.files, sent by fasthttp.protocol)."""
    d = _DEFAULTS
    g = parser.add_argument_group("file responses")
    g.add_argument(
        "--sendfile-lowat",
        type=_lowat,
        default=d.sendfile_lowat,
        metavar="BYTES",
        help="while a file is sent, the unsent bytes a TCP socket may hold (TCP_NOTSENT_LOWAT; bounds the queue, not the bytes in flight, so distant peers keep a full window); 'none' leaves the kernel's default; 'auto' is 64k on uvloop, none on the stdlib loop (default auto)",
    )


def _lowat(text: str) -> int | str | None:
    """``auto``, ``none``, or a positive size (``64k``)."""
    if text.strip().lower() == "auto":
        return "auto"
    return _positive_size(text)


def _file_options(args: argparse.Namespace) -> dict[str, Any]:
    return {"sendfile_lowat": args.sendfile_lowat}


def _optional_seconds(text: str) -> float | None:
    """A positive number of seconds, or ``none``/``off``."""
    if text.strip().lower() in ("none", "off"):
        return None
    return _seconds(text)


def _positive_size(text: str) -> int | None:
    size = _size(text)
    if size == 0:
        raise argparse.ArgumentTypeError("a size must be positive (or 'none')")
    return size


def _add_websocket_options(parser: argparse.ArgumentParser) -> None:
    """The websocket limits and timers (``fasthttp.websocket``), from the ``ws_*`` Config fields."""
    d = _DEFAULTS
    g = parser.add_argument_group("websockets")
    g.add_argument("--ws-max-message-size", type=_positive_size, default=d.ws_max_message_size, metavar="BYTES", help=f"largest message received, else close 1009 (default {_fmt_size(d.ws_max_message_size)})")
    g.add_argument("--ws-max-frame-size", type=_positive_size, default=d.ws_max_frame_size, metavar="BYTES", help=f"largest frame received, else close 1009 (default {_fmt_size(d.ws_max_frame_size)})")
    g.add_argument("--ws-max-queue", type=int, default=d.ws_max_queue, metavar="N", help=f"messages held for a slow handler before reading pauses (default {d.ws_max_queue})")
    g.add_argument("--ws-ping-interval", type=_optional_seconds, default=d.ws_ping_interval, metavar="S", help=f"ping every S seconds; 'none' never (default {d.ws_ping_interval})")
    g.add_argument("--ws-ping-timeout", type=_optional_seconds, default=d.ws_ping_timeout, metavar="S", help=f"close 1011 when a ping is not answered within S; 'none' waits for ever (default {d.ws_ping_timeout})")
    g.add_argument("--ws-idle-timeout", type=_optional_seconds, default=d.ws_idle_timeout, metavar="S", help=f"close 1001 after S seconds without a message either way (default {d.ws_idle_timeout})")
    g.add_argument("--ws-close-timeout", type=_seconds, default=d.ws_close_timeout, metavar="S", help=f"time the peer gets to answer a close frame before it is dropped (default {d.ws_close_timeout})")
    g.add_argument("--no-ws-compression", dest="ws_compression", action="store_false", help="never agree to permessage-deflate (RFC 7692; default: agreed when the client offers it)")


def _websocket_options(args: argparse.Namespace) -> dict[str, Any]:
    names = ("ws_max_message_size", "ws_max_frame_size", "ws_max_queue", "ws_ping_interval", "ws_ping_timeout", "ws_idle_timeout", "ws_close_timeout", "ws_compression")
    return {name: getattr(args, name) for name in names}


def _add_interface_options(parser: argparse.ArgumentParser) -> None:
    """Hosting ASGI and WSGI applications (issue 13): fasthttp.hosting."""
    g = parser.add_argument_group("application interface")
    g.add_argument(
        "--interface",
        default="auto",
        choices=INTERFACES,
        help="what MODULE:APP is: a fasthttp App or handler, an ASGI 3 app (Starlette, FastAPI, Django's asgi), or a WSGI app (Flask, Django's wsgi); auto tells them apart (default auto)",
    )
    g.add_argument("--factory", action="store_true", help="MODULE:APP is a factory: call it with no arguments to make the application")
    g.add_argument("--root-path", default="", metavar="PATH", help="the path prefix a proxy strips, for ASGI (root_path) and WSGI (SCRIPT_NAME) apps, e.g. /api")
    g.add_argument("--lifespan", default="auto", choices=("auto", "on", "off"), help="ASGI lifespan protocol: auto runs it if the app supports it; on requires it (default auto)")
    g.add_argument("--wsgi-threads", type=int, default=10, metavar="N", help="threads per worker running a WSGI app (default 10)")
    g = parser.add_argument_group("behind proxies")
    g.add_argument(
        "--proxy-headers",
        action="store_true",
        help="believe Forwarded and X-Forwarded-For/-Proto/-Host (client address, scheme, host) from the --forwarded-allow-ips peers (off by default)",
    )
    g.add_argument(
        "--forwarded-allow-ips",
        default=_DEFAULTS.forwarded_allow_ips,
        metavar="LIST",
        help=f"comma-separated addresses and networks of the trusted proxies, '*' for any (default {_DEFAULTS.forwarded_allow_ips}; AF_UNIX peers are trusted)",
    )

    g.add_argument(
        "--proxy-protocol",
        action="store_true",
        help="every connection starts with a PROXY protocol v1 or v2 preface (HAProxy, AWS NLB); without a valid one within --header-timeout it is closed; its client address is believed from --forwarded-allow-ips peers only",
    )

    g = parser.add_argument_group("recycling")
    g.add_argument("--limit-max-requests", type=_count, default=None, metavar="N", help="after N responses a worker drains and stops, and the master starts a new one (without --workers, the server stops); off by default")
    g.add_argument("--max-requests-jitter", type=int, default=0, metavar="N", help="add a random 0..N to --limit-max-requests per worker, so workers do not recycle together (default 0)")
    g.add_argument("--limit-max-rss", type=_count, default=None, metavar="MB", help="a worker whose resident memory exceeds MB MiB (checked about every second) is replaced like --limit-max-requests; off by default")
    g = parser.add_argument_group("metrics")
    g.add_argument(
        "--metrics",
        metavar="ADDRESS",
        help="serve Prometheus metrics (GET /metrics: requests by method and status, latency histogram, open connections, websockets, body bytes, worker restarts; summed over the workers) on their own listener, e.g. 127.0.0.1:9100",
    )


def _umask(text: str) -> int:
    try:
        return parse_umask(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_process_options(parser: argparse.ArgumentParser) -> None:
    """The serving process's identity (fasthttp.process): pid file, user, group, umask."""
    g = parser.add_argument_group("process")
    g.add_argument("--pid", metavar="FILE", help="write the (master) process id to FILE once the addresses are bound; removed at exit")
    g.add_argument(
        "--user",
        metavar="USER",
        help="after binding (so a server started as root can bind ports below 1024), switch to this user, a name or a uid (with --workers, the workers switch; the master stays root to respawn them)",
    )
    g.add_argument("--group", metavar="GROUP", help="after binding, switch to this group, a name or a gid (default: --user's own group)")
    g.add_argument("--umask", type=_umask, metavar="MASK", help="after binding, set this umask (octal, e.g. 027) for files the server creates")


def _process_options(args: argparse.Namespace) -> dict[str, Any]:
    return {"pid_file": args.pid, "user": args.user, "group": args.group, "umask": args.umask}


def _proxy_options(args: argparse.Namespace) -> dict[str, Any]:
    ProxyTrust(args.forwarded_allow_ips)  # validates now, not in every worker
    options = {"proxy_headers": args.proxy_headers, "forwarded_allow_ips": args.forwarded_allow_ips, "proxy_protocol": args.proxy_protocol}
    if args.metrics:
        options["metrics"] = args.metrics
    if args.limit_max_requests:
        options.update(max_requests=args.limit_max_requests, max_requests_jitter=args.max_requests_jitter)
    if args.limit_max_rss:
        options.update(max_rss=args.limit_max_rss)
    return options


def _hosted_app(args: argparse.Namespace, app: Any) -> Any:
    if args.wsgi_threads < 1:
        raise ValueError("--wsgi-threads must be at least 1")
    return hosted(app, args.interface, factory=args.factory, root_path=args.root_path, wsgi_threads=args.wsgi_threads, lifespan=args.lifespan)


def _options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = dict(
        max_request_line=args.max_request_line,
        max_header_size=args.max_header_size,
        max_header_count=args.max_header_count,
        max_body_size=args.max_body_size,
        require_content_length=args.require_content_length,
        max_requests_per_connection=args.max_requests_per_connection,
        max_connections=args.max_connections,
        header_timeout=args.header_timeout,
        body_timeout=args.body_timeout,
        min_body_rate=args.min_body_rate,
        body_rate_window=args.body_rate_window,
        keep_alive_timeout=args.keep_alive_timeout,
        write_timeout=args.write_timeout,
        shutdown_timeout=args.shutdown_timeout,
        backlog=args.backlog,
        async_handlers=args.async_handlers,
    )
    options.update(_websocket_options(args))
    options.update(_file_options(args))
    if args.accept_listeners is not None:
        options.update(accept_listeners=args.accept_listeners)
    if args.defer_accept != _DEFAULTS.defer_accept:
        options.update(defer_accept=args.defer_accept)
    if args.debug:
        options.update(debug=True)
    if args.certfile:
        options.update(certfile=args.certfile, keyfile=args.keyfile, ca_certs=args.ca_certs, client_cert=args.client_cert)
    elif args.keyfile or args.ca_certs or args.client_cert:
        raise SystemExit("fasthttp: --keyfile, --ca-certs and --client-cert need --certfile")
    if args.access_log:
        options.update(access_log=args.access_log, log_format=args.log_format)
    return options


def main(argv: list[str] | None = None) -> int:
    """Run the command line; the exit status: 0 after a graceful stop, 1 when the address
    cannot be bound, 2 for an app that cannot be loaded or an invalid option."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.demo == bool(args.app):
        parser.error("give either MODULE:APP or --demo")
    logging.basicConfig(level=getattr(logging, args.log_level.upper()), format="fasthttp: %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if args.debug:
        logging.getLogger("fasthttp.trace").setLevel(logging.DEBUG)
    if args.log_format not in FORMATS and args.log_format != "json":
        # Validate a custom format now rather than in every worker.
        try:
            AccessLog(sys.stderr, args.log_format)
        except ValueError as exc:
            parser.error(str(exc))
    if args.no_uvloop:
        os.environ["FASTHTTP_NO_UVLOOP"] = "1"
    bind = _binds(parser, args)
    if args.reload:
        dirs = [os.path.abspath(d) for d in (args.reload_dir or [os.getcwd()])]
        for d in dirs:
            if not os.path.isdir(d):
                parser.error(f"--reload-dir {d}: not a directory")
        return run_with_reload(sys.argv[1:] if argv is None else argv, dirs, args.shutdown_timeout)
    spec = "fasthttp.demo:app" if args.demo else args.app
    try:
        app = _demo_app(args) if args.demo else check_app(spec, load_app(spec))
    except AppNotFound as exc:
        print(f"fasthttp: cannot load {spec}: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the module's own code failed: show where, in its own files
        print(f"fasthttp: cannot import {spec.partition(':')[0]}:\n{_user_traceback(exc)}", file=sys.stderr, end="")
        return 2
    try:
        app = _hosted_app(args, app)
    except (ValueError, TypeError) as exc:  # the interface, the factory or a hosting option
        print(f"fasthttp: cannot serve {spec}: {exc}", file=sys.stderr)
        return 2
    try:
        options = _options(args)
        options.update(_proxy_options(args))
        options.update(_process_options(args))
        run(app, bind, workers=args.workers, use_uvloop=False if args.no_uvloop else None, **options)
    except ListenError as exc:
        print(f"fasthttp: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"fasthttp: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"fasthttp: {exc}", file=sys.stderr)
        return 2
    return 0


def _demo_options(parser: argparse.ArgumentParser) -> None:
    """The demo's bounds (``fasthttp.demo.DemoLimits``), and its endpoints in the group's text."""
    d = DemoLimits()
    endpoints = "; ".join(f"{method} {path}" for method, path, _ in ENDPOINTS)
    g = parser.add_argument_group(
        "demo (--demo)",
        f"Endpoints: {endpoints}. Each is bounded by the limits below (past one: 400 naming it); "
        "request bodies by --max-body-size. GET / on the demo describes each endpoint.",
    )
    g.add_argument("--demo-max-bytes", type=_size, default=d.max_bytes, metavar="BYTES", help=f"largest /bytes, /range and /drip body (default {d.max_bytes})")
    g.add_argument("--demo-max-stream-bytes", type=_size, default=d.max_stream_bytes, metavar="BYTES", help=f"largest /stream-bytes body (default {d.max_stream_bytes})")
    g.add_argument("--demo-max-delay", type=_seconds, default=d.max_delay, metavar="SECONDS", help=f"longest /delay, /drip or /sse response (default {d.max_delay})")
    g.add_argument("--demo-max-redirects", type=int, default=d.max_redirects, metavar="N", help=f"most /redirect hops (default {d.max_redirects})")
    g.add_argument("--demo-max-events", type=int, default=d.max_events, metavar="N", help=f"most /sse events (default {d.max_events})")


def _demo_app(args: argparse.Namespace) -> Any:
    return create_app(
        DemoLimits(
            max_bytes=args.demo_max_bytes or 1,
            max_stream_bytes=args.demo_max_stream_bytes or 1,
            max_delay=args.demo_max_delay,
            max_redirects=args.demo_max_redirects,
            max_events=args.demo_max_events,
        )
    )


def _binds(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[BindSpec]:
    """The addresses to listen on: the --bind list, or --host/--port composed into one; each
    checked now, so a mistake is an error with the usage, before the app is imported."""
    if args.host is not None or args.port is not None:
        if args.bind:
            parser.error("give --bind, or --host and --port, not both (repeat --bind for several addresses)")
        try:
            binds: list[BindSpec] = [compose_bind(args.host, args.port)]
        except ValueError as exc:
            parser.error(str(exc))
    else:
        binds = list(args.bind or [DEFAULT_BIND])
    for spec in binds:
        try:
            parse_bind(spec)
        except (ValueError, OSError) as exc:  # OSError: an IPv6 scope that does not resolve
            parser.error(f"--bind {spec!s}: {exc}")
    return binds


def _user_traceback(exc: BaseException) -> str:
    """*exc* as Python would print it, without the frames of fasthttp and importlib: what is
    left is the user's own file and line."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith("<frozen") and os.path.dirname(os.path.abspath(f.filename)) not in _SKIPPED
    ]
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)] if frames else []
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)


_SKIPPED = {os.path.dirname(os.path.abspath(__file__)), os.path.dirname(os.path.abspath(importlib.__file__))}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
