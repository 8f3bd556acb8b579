"""Event loops: uvloop when importable, the stdlib loop otherwise, and one way to close them.

``new_event_loop`` picks the loop (``FASTHTTP_NO_UVLOOP=1`` forces the stdlib one);
``close_loop`` is the single teardown every owner of a loop uses (the server's runners, the
test client, the test fixtures): cancel what is left, let it finish, close the async
generators, detach the loop from the thread if the owner made it current, and close it.

NOTE: the owner says whether it made the loop the thread's current one (as ``asyncio.Runner``
remembers it does): asking the policy for the current loop is not a neutral question, because
in the main thread it creates a loop when none was set (with a DeprecationWarning on Python
3.12 and 3.13).
"""

from __future__ import annotations

import asyncio
import os

__all__ = ("new_event_loop", "uses_uvloop", "close_loop")


def _uvloop_wanted() -> bool:
    return os.environ.get("FASTHTTP_NO_UVLOOP", "").strip().lower() in ("", "0", "false", "no", "off")


def uses_uvloop(use_uvloop: bool | None = None) -> bool:
    """Will :func:`new_event_loop` (given *use_uvloop*) make a uvloop loop? For a process that
    sets up before its loop exists (the master of workers binding their listeners)."""
    if use_uvloop is None:
        use_uvloop = _uvloop_wanted()
    if not use_uvloop:
        return False
    try:
        import uvloop  # noqa: F401
    except ImportError:  # pragma: no cover - uvloop is a dependency on CPython/POSIX
        return False
    return True


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


def close_loop(loop: asyncio.AbstractEventLoop, *, cancel: bool = True, detach: bool = False) -> None:
    """Tear *loop* down: cancel its pending tasks (when *cancel*) and wait for them, finish its
    async generators, and close it. *detach*: the caller made *loop* the thread's current loop
    (``asyncio.set_event_loop``); the thread is left without one. Idempotent."""
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
        if detach:
            asyncio.set_event_loop(None)
        loop.close()
