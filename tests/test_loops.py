"""Event loops: uvloop unless the environment says no, and close_loop, the one teardown every
owner of a loop uses."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from fasthttp.loops import close_loop, new_event_loop, uses_uvloop


def test_uvloop_is_used_unless_the_environment_says_no(monkeypatch):
    pytest.importorskip("uvloop")
    monkeypatch.delenv("FASTHTTP_NO_UVLOOP", raising=False)
    loop = new_event_loop()
    try:
        assert type(loop).__module__.startswith("uvloop")
    finally:
        loop.close()
    monkeypatch.setenv("FASTHTTP_NO_UVLOOP", "1")
    loop = new_event_loop()
    try:
        assert isinstance(loop, asyncio.BaseEventLoop)
    finally:
        loop.close()


def test_uses_uvloop_says_what_new_event_loop_will_make(monkeypatch):
    pytest.importorskip("uvloop")
    monkeypatch.delenv("FASTHTTP_NO_UVLOOP", raising=False)
    assert uses_uvloop() is True and uses_uvloop(True) is True and uses_uvloop(False) is False
    monkeypatch.setenv("FASTHTTP_NO_UVLOOP", "1")
    assert uses_uvloop() is False and uses_uvloop(True) is True


# -- close_loop -----------------------------------------------------------------------------------


def _loops():
    try:
        import uvloop  # noqa: F401
    except ImportError:  # pragma: no cover
        return [False]
    return [False, True]


@pytest.mark.parametrize("use_uvloop", _loops(), ids=lambda u: "uvloop" if u else "asyncio")
def test_close_loop_cancels_pending_tasks_and_lets_them_clean_up(use_uvloop):
    loop = new_event_loop(use_uvloop)
    events = []

    async def waiter():
        try:
            await asyncio.Event().wait()
        finally:
            events.append("cleaned up")

    task = loop.create_task(waiter())
    loop.run_until_complete(asyncio.sleep(0))  # the task is now suspended in wait()
    close_loop(loop)
    assert task.cancelled() and events == ["cleaned up"]
    assert loop.is_closed()


@pytest.mark.parametrize("use_uvloop", _loops(), ids=lambda u: "uvloop" if u else "asyncio")
def test_close_loop_finishes_async_generators(use_uvloop):
    loop = new_event_loop(use_uvloop)
    events = []

    async def numbers():
        try:
            yield 1
            yield 2
        finally:
            events.append("generator closed")

    async def first():
        gen = numbers()
        assert await gen.__anext__() == 1
        return gen

    gen = loop.run_until_complete(first())  # suspended at its first yield, still referenced
    close_loop(loop)
    assert events == ["generator closed"]
    del gen


def test_close_loop_detaches_the_loop_its_owner_made_current():
    made_current = new_event_loop()
    asyncio.set_event_loop(made_current)
    try:
        close_loop(made_current, detach=True)
        assert made_current.is_closed()
        with pytest.raises(RuntimeError):  # the thread has no current loop any more
            asyncio.get_event_loop_policy().get_event_loop()
    finally:
        asyncio.set_event_loop(None)


def test_close_loop_leaves_the_threads_current_loop_alone_and_creates_none():
    # A loop that was never made current (the test client's): closing it neither clears nor
    # creates the thread's current loop (asking the policy would create one, with a
    # DeprecationWarning on Python 3.12 and 3.13, which this suite turns into an error).
    current = new_event_loop()
    asyncio.set_event_loop(current)
    try:
        close_loop(new_event_loop())
        assert asyncio.get_event_loop_policy().get_event_loop() is current
    finally:
        asyncio.set_event_loop(None)
        close_loop(current)


def test_close_loop_creates_no_loop_in_a_fresh_main_thread():
    # In a main thread where no loop was ever set, asking the policy for the current loop would
    # create one: left unclosed, it reports itself when collected.
    script = (
        "import asyncio, gc\n"
        "from fasthttp.loops import close_loop, new_event_loop, uses_uvloop\n"
        "close_loop(new_event_loop())\n"
        "asyncio.set_event_loop(None)\n"
        "gc.collect()\n"
    )
    result = subprocess.run([sys.executable, "-W", "error", "-c", script], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_close_loop_is_idempotent():
    loop = new_event_loop()
    close_loop(loop)
    close_loop(loop)
    assert loop.is_closed()
