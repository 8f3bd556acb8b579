"""Which interface an application speaks (fasthttp, ASGI 3, WSGI), and the adapter that serves it.

Strategy: the engine serves one :class:`~fasthttp.application.Application`; this module turns
what a user points the command line (or :func:`fasthttp.runners.run`) at into one. ``auto``
detection looks at the object, never calls it: an ``Application`` (``fasthttp.App``, an adapter)
is served as it is; an ``async`` callable of three positional parameters ``(scope, receive,
send)`` is ASGI; a plain callable of two ``(environ, start_response)`` is WSGI; any other callable
is a fasthttp handler ``handler(request)``. ``--factory`` calls the object first, with no
arguments, and detects on what it returns.
"""

from __future__ import annotations

from typing import Any

from .application import Application, Handler
from .asgi import AsgiApplication, is_asgi_application
from .wsgi import WsgiApplication, is_wsgi_application

__all__ = ("INTERFACES", "detect_interface", "hosted")

#: The values of ``--interface``.
INTERFACES = ("auto", "fasthttp", "asgi", "wsgi")


def detect_interface(app: Any) -> str:
    """``"fasthttp"``, ``"asgi"`` or ``"wsgi"``: the interface *app* speaks (see the module
    docstring); TypeError if it is not callable at all."""
    if isinstance(app, Application):
        return "fasthttp"
    if not callable(app):
        raise TypeError(f"{app!r} is not an application: not callable")
    if is_asgi_application(app):
        return "asgi"
    if is_wsgi_application(app):
        return "wsgi"
    return "fasthttp"


def hosted(
    app: Any,
    interface: str = "auto",
    *,
    factory: bool = False,
    root_path: str = "",
    wsgi_threads: int = 10,
    lifespan: str = "auto",
) -> Application | Handler:
    """*app* ready for the engine: itself for ``fasthttp``, wrapped in the ASGI or WSGI adapter
    otherwise. *factory*: *app* is called first (no arguments) to make the application.
    *root_path* is the prefix a proxy strips (ASGI ``root_path``, WSGI ``SCRIPT_NAME``)."""
    if interface not in INTERFACES:
        raise ValueError(f"interface must be one of {', '.join(INTERFACES)}, not {interface!r}")
    if factory:
        if not callable(app):
            raise TypeError(f"--factory: {app!r} is not callable")
        app = app()
    if interface == "auto":
        interface = detect_interface(app)
    if interface == "asgi":
        return AsgiApplication(app, root_path=root_path, lifespan=lifespan)
    if interface == "wsgi":
        return WsgiApplication(app, threads=wsgi_threads, root_path=root_path)
    if root_path:
        raise ValueError("--root-path applies to ASGI and WSGI applications (a fasthttp App mounts with app.mount)")
    return app
