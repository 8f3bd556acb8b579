"""A gunicorn worker class: ``gunicorn -k fasthttp.gunicorn.Worker MODULE:APP``.

Strategy: gunicorn's arbiter keeps doing what it does (binding, forking, reaping, restarting
workers, ``--max-requests``-free recycling by ``--timeout``, SIGHUP reloads); each worker runs a
fasthttp :class:`~fasthttp.server.Server` on the sockets gunicorn bound, with the application
gunicorn loaded, adapted by :func:`fasthttp.hosting.hosted` (a WSGI app such as Flask or Django,
an ASGI app such as Starlette or FastAPI, or a fasthttp App). The worker tells the arbiter it is
alive once a second (``notify``). SIGTERM drains gracefully within ``--graceful-timeout``; SIGINT
and SIGQUIT too (gunicorn's quick exit would cut requests in flight). gunicorn's request limits
map to ours: ``--limit-request-line`` (``max_request_line``), ``--limit-request-fields``
(``max_header_count``), ``--limit-request-field_size`` (``max_header_size``, as a bound on the
whole section), ``--keep-alive`` (``keep_alive_timeout``); ``--forwarded-allow-ips`` to
``forwarded_allow_ips`` (with ``proxy_headers`` on); ``--threads`` sizes the WSGI pool; TLS from
``--certfile``/``--keyfile``/``--ca-certs``.
"""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

from gunicorn.workers.base import Worker as _GunicornWorker

from .hosting import hosted
from .listeners import make_ssl_context
from .loops import close_loop, new_event_loop
from .server import Server

__all__ = ("Worker",)


class Worker(_GunicornWorker):
    """A gunicorn worker that serves with fasthttp's engine (see the module docstring)."""

    def run(self) -> None:
        loop = new_event_loop(None)
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        finally:
            close_loop(loop)

    def _options(self) -> dict[str, Any]:
        cfg = self.cfg
        options: dict[str, Any] = {
            "keep_alive_timeout": max(float(cfg.keepalive), 0.1),
            "shutdown_timeout": max(float(cfg.graceful_timeout), 0.1),
        }
        if cfg.limit_request_line:
            options["max_request_line"] = cfg.limit_request_line
        if cfg.limit_request_fields:
            options["max_header_count"] = cfg.limit_request_fields
        if cfg.limit_request_field_size:
            options["max_header_size"] = max(cfg.limit_request_field_size, 1)
        allow = cfg.forwarded_allow_ips
        if allow:
            options["proxy_headers"] = True
            options["forwarded_allow_ips"] = allow if isinstance(allow, str) else ",".join(allow)
        return options

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()

        def quit_now() -> None:
            self.alive = False
            stop.set()

        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
            loop.add_signal_handler(sig, quit_now)
        cfg = self.cfg
        ssl = None
        if cfg.is_ssl:
            ssl = make_ssl_context(cfg.certfile, cfg.keyfile or None, ca_certs=cfg.ca_certs or None)
        app = hosted(self.wsgi, wsgi_threads=max(int(cfg.threads), 1))
        server = Server(app, sockets=[s.sock for s in self.sockets], ssl=ssl, **self._options())
        await server.start()
        try:
            while self.alive and not stop.is_set():
                self.notify()
                if self.ppid != os.getppid():
                    self.log.info("Parent changed, shutting down: %s", self)
                    break
                try:
                    await asyncio.wait_for(stop.wait(), 1.0)
                except asyncio.TimeoutError:
                    pass
        finally:
            await server.shutdown(timeout=float(cfg.graceful_timeout))
