"""Ways to run a server: blocking (with workers), in a background thread, in its own process.

:func:`run` serves until SIGTERM/SIGINT and drains; with ``workers > 1`` the calling process
becomes the master of forked workers (``fasthttp.workers``). :class:`ServerThread` runs a server
on its own loop in a thread; :func:`start_server` in a child process that reports its bound
addresses back (degu's embedding). :func:`load_app` imports ``"module:attribute"``. Each owner
of a loop tears it down with :func:`fasthttp.loops.close_loop`.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import signal
import socket
import sys
import threading
from typing import TYPE_CHECKING, Any

from .application import Application, Handler
from .listeners import DEFAULT_BIND, Address, BindSpec, make_socket
from .loops import close_loop, new_event_loop
from .process import PidFile, ProcessIdentity
from .server import Server, serve_with_signals
from .workers import Supervisor

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

__all__ = ("run", "ServerThread", "start_in_thread", "start_server", "load_app", "check_app", "AppNotFound")


def run(
    app: Application | Handler,
    bind: BindSpec | list[BindSpec] | None = None,
    *,
    workers: int = 1,
    use_uvloop: bool | None = None,
    announce: bool = True,
    pid_file: str | os.PathLike[str] | None = None,
    user: str | int | None = None,
    group: str | int | None = None,
    umask: int | None = None,
    **options: Any,
) -> None:
    """Serve *app* until SIGTERM or SIGINT, then drain and return (blocking).

    With *workers* > 1 the calling process becomes the master of that many forked workers (see
    the module docstring) and must be the main thread of a process without a running loop.
    *announce* prints the listening URLs on stderr; *options* are :class:`Server` keywords.
    *pid_file* is written once the addresses are bound and removed at exit; *user*, *group* and
    *umask* are applied after binding, so a server started as root binds privileged ports and
    then serves without root (:mod:`fasthttp.process`; with workers, the workers switch).
    """
    if _importing:
        # A module that calls app.run() at import, loaded by the command line: it would serve
        # with its own address and options, and the command line's would never apply.
        raise RuntimeError(
            f"app.run() was called while fasthttp imports {_importing[-1]}: guard it with "
            "`if __name__ == \"__main__\":` so that the command line serves the app"
        )
    identity = ProcessIdentity(user, group, umask) if user is not None or group is not None or umask is not None else None
    pid = PidFile(pid_file) if pid_file is not None else None
    if workers and workers > 1:
        Supervisor(app, bind, workers, use_uvloop, announce, options, identity=identity, pid_file=pid).run()
        return
    if identity is None and pid is None:
        loop = new_event_loop(use_uvloop)
        try:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(serve_with_signals(app, bind, announce, options))
        finally:
            close_loop(loop, detach=True)
        return
    # Bind first, then write the pid file and give up root, then start the app (its startup
    # hooks run as the new user too).
    specs: list[BindSpec] = bind if isinstance(bind, list) else [bind if bind is not None else DEFAULT_BIND]
    sockets: list[socket.socket] = []
    unix_paths: list[str] = []
    try:
        for spec in specs:
            sock = make_socket(spec, reuse_port=bool(options.get("reuse_port", False)))
            sockets.append(sock)
            name = sock.getsockname() if sock.family == socket.AF_UNIX else None
            if isinstance(name, str) and name:
                unix_paths.append(name)
        if pid is not None:
            pid.write()
        if identity is not None:
            identity.drop()
        loop = new_event_loop(use_uvloop)
        try:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(serve_with_signals(app, None, announce, dict(options, sockets=sockets)))
        finally:
            close_loop(loop, detach=True)
    finally:
        for sock in sockets:
            sock.close()
        for path in unix_paths:
            try:
                os.unlink(path)
            except OSError:
                pass
        if pid is not None:
            pid.remove()


class ServerThread:
    """A server running on its own event loop in a background thread.

    ``addresses``/``urls`` are known once the constructor returns (it waits until listening);
    ``stop()`` drains gracefully and joins the thread. Usable as a context manager.
    """

    def __init__(
        self,
        app: Application | Handler,
        bind: BindSpec | list[BindSpec] | None = None,
        *,
        use_uvloop: bool | None = None,
        timeout: float = 10.0,
        **options: Any,
    ) -> None:
        self.server = Server(app, bind, **options)
        self.loop = new_event_loop(use_uvloop)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="fasthttp-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the server did not start in time")
        if self._error is not None:
            self._thread.join(timeout)
            raise self._error

    def _main(self) -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)
        try:
            try:
                loop.run_until_complete(self.server.start())
            except BaseException as exc:
                self._error = exc
                self._ready.set()
                return
            self._ready.set()
            loop.run_until_complete(self.server.wait_closed())
        finally:
            close_loop(loop, detach=True)

    @property
    def addresses(self) -> list[Address]:
        return self.server.addresses

    @property
    def urls(self) -> list[str]:
        return self.server.urls

    def stop(self, timeout: float | None = None) -> None:
        """Shut the server down gracefully and join the thread."""
        if self._thread.is_alive() and not self.loop.is_closed():
            fut = asyncio.run_coroutine_threadsafe(self.server.shutdown(timeout), self.loop)
            try:
                fut.result((timeout or self.server.config.shutdown_timeout) + 5)
            except Exception:  # pragma: no cover - the loop went away meanwhile
                pass
        self._thread.join(10)

    def __enter__(self) -> ServerThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_in_thread(app: Application | Handler, bind: BindSpec | list[BindSpec] | None = None, **options: Any) -> ServerThread:
    """Start *app* in a background thread; return once it is listening."""
    return ServerThread(app, bind, **options)


class AppNotFound(ValueError):
    """What :func:`load_app` was given names no application: no such module (the module itself,
    not one it imports), no such attribute, a file path, or a value that is not an app. The
    message says what to write instead."""


class _NoSuchAttribute(AppNotFound, AttributeError):
    """The module has no such attribute (an AttributeError too, as before 0.2)."""


#: The specs :func:`load_app` is importing right now (:func:`run` refuses to start inside one).
_importing: list[str] = []


def load_app(spec: str) -> Any:
    """Import ``"module:attribute"`` (the attribute may be dotted); ``"module"`` means
    ``module:app``. :class:`AppNotFound` when *spec* names no application; an exception raised
    by the module's own code (a SyntaxError, a failing import of its own) propagates as is."""
    module_name, _, attr = spec.partition(":")
    if not module_name:
        raise AppNotFound(f"an app is written MODULE:ATTRIBUTE, not {spec!r}")
    if module_name.endswith(".py") or "/" in module_name or os.sep in module_name:
        dotted = module_name.removesuffix(".py").lstrip("./").replace(os.sep, ".").replace("/", ".")
        raise AppNotFound(
            f"{spec!r} is a file path; fasthttp takes a module name: {dotted}:{attr or 'app'} "
            "(run it from the directory that holds the file, or add that directory to PYTHONPATH)"
        )
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    _importing.append(spec)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            raise AppNotFound(
                f"no module named {missing!r} in {os.getcwd()} or on PYTHONPATH "
                f"(run fasthttp from the directory that holds {missing.replace('.', '/')}.py)"
            ) from None
        raise
    finally:
        _importing.pop()
    obj: Any = module
    for part in (attr or "app").split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            found = [name for name, value in vars(module).items() if isinstance(value, Application)]
            hint = f"; it has {', '.join(found)}" if found else "; it defines no fasthttp.App"
            raise _NoSuchAttribute(f"module {module_name!r} has no attribute {attr or 'app'!r}{hint}") from None
    return obj


def check_app(spec: str, obj: Any) -> Any:
    """*obj*, loaded from *spec*, if it can be served (an Application or a handler callable);
    else :class:`AppNotFound` saying what it is (``mymodule:time`` names a module)."""
    if not isinstance(obj, Application) and (not callable(obj) or isinstance(obj, type)):
        raise AppNotFound(
            f"{spec} is {type(obj).__name__} {obj!r:.60}, not an application "
            "(a fasthttp.App or a handler callable)"
        )
    return obj


def _process_main(app: Application | Handler | str, bind: BindSpec | list[BindSpec] | None, options: dict[str, Any], conn: Connection) -> None:
    # The child of start_server: serve, report the addresses (or the error) through the pipe.
    served = load_app(app) if isinstance(app, str) else app
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    use_uvloop = options.pop("use_uvloop", None)
    loop = new_event_loop(use_uvloop)
    asyncio.set_event_loop(loop)

    def ready(server: Server) -> None:
        conn.send(("ok", server.addresses))
        conn.close()

    try:
        loop.run_until_complete(serve_with_signals(served, bind, False, options, on_ready=ready))
    except BaseException as exc:
        try:
            conn.send(("error", repr(exc)))
        except Exception:
            pass
        raise
    finally:
        close_loop(loop, detach=True)


def start_server(
    app: Application | Handler | str,
    bind: BindSpec | list[BindSpec] | None = None,
    *,
    timeout: float = 10.0,
    start_method: str | None = None,
    **options: Any,
) -> tuple[BaseProcess, list[Address]]:
    """Run the server in its own process; return ``(process, addresses)`` once it listens.

    *app* is a ``"module:attribute"`` string (the child imports it; works with every start
    method) or an app object (needs the ``fork`` start method, the default then). *start_method*
    is a :mod:`multiprocessing` start method (``"fork"``, ``"spawn"``, ``"forkserver"``). The process
    drains and exits 0 on ``process.terminate()`` (SIGTERM).
    """
    import multiprocessing  # NOTE: here, not at the top: only this function needs it

    if start_method is None:
        start_method = "spawn" if isinstance(app, str) else "fork"
    # NOTE: Any, because typeshed's BaseContext lacks the Process that every real context has.
    ctx: Any = multiprocessing.get_context(start_method)
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_process_main, args=(app, bind, options, child), daemon=True)
    process.start()
    child.close()
    try:
        if not parent.poll(timeout):
            process.terminate()
            raise TimeoutError("the server process did not start in time")
        kind, value = parent.recv()
    except EOFError:
        process.join(1)
        raise RuntimeError(f"the server process exited with code {process.exitcode}") from None
    finally:
        parent.close()
    if kind != "ok":
        process.join(1)
        raise RuntimeError(f"the server process failed: {value}")
    return process, value
