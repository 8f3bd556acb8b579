"""Event loops: uvloop when importable, the stdlib loop otherwise, and one way to close them.

``new_event_loop`` picks the loop (``FASTHTTP_NO_UVLOOP=1`` forces the stdlib one);
``close_loop`` is the single teardown every owner of a loop uses (the server's runners, the
test client, the test fixtures): cancel what is left, let it finish, close the async
generators, detach the loop from the thread and close it.
"""

from __future__ import annotations

import asyncio
import os

__all__ = ("new_event_loop", "close_loop")


def _uvloop_wanted() -> bool:
    return os.environ.get("FASTHTTP_NO_UVLOOP", "").strip().lower() in ("", "0", "false", "no", "off")


def new_event_loop(use_uvloop: bool | None = None) -> asyncio.AbstractEventLoop:
    """A new loop: uvloop when it is installed, unless *use_uvloop* is False or the environment
    sets ``FASTHTTP_NO_UVLOOP=1``; the stdlib loop otherwise."""
    if use_uvloop is None:
        use_uvloop = _uvloop_wanted()
    if use_uvloop:
        try:
            import uvloop
        except ImportError:  # pragma: no cover - uvloop is a dependency on CPython/POSIX
            pass
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def close_loop(loop: asyncio.AbstractEventLoop, *, cancel: bool = True) -> None:
    """Tear *loop* down: cancel its pending tasks (when *cancel*) and wait for them, finish its
    async generators, clear it as the thread's current loop, and close it. Idempotent."""
    if loop.is_closed():
        return
    try:
        if cancel:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        try:
            if asyncio.get_event_loop_policy().get_event_loop() is loop:
                asyncio.set_event_loop(None)
        except RuntimeError:  # no current loop in this thread
            pass
        loop.close()
