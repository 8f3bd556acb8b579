"""Shared fixtures: pytest finds them here, no test module imports them.

``impl`` runs a kernel test against both twins (ids ``py`` and ``c``), as multidict does: test
bodies never name an implementation, they use ``impl.parser``, ``impl.headers`` and so on.
A missing compiled module makes the ``c`` runs *error*, never skip, so a broken build cannot pass
unnoticed. ``--no-extensions`` (or ``FASTHTTP_NO_EXTENSIONS=1``) drops the ``c`` runs on purpose.

``loop`` runs a socket test on each loop kind (ids ``asyncio`` and ``uvloop``), as uvloop's own
suite does; ``tls`` is a throw-away CA with server and client certificates. The helpers these
build on (``run``, ``serving``, ``Client``, ...) are plain names in ``helpers_server.py``.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Iterator

import pytest
from helpers_server import LOOPS

from fasthttp._compat import NO_EXTENSIONS, twins
from fasthttp.loops import close_loop, new_event_loop
from fasthttp.testing import TempPKI


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-extensions",
        action="store_true",
        default=False,
        help="run kernel tests against the pure-Python twins only",
    )


def _want_c(config: pytest.Config) -> bool:
    return not (NO_EXTENSIONS or config.getoption("--no-extensions"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "impl" in metafunc.fixturenames:
        ids = ["py", "c"] if _want_c(metafunc.config) else ["py"]
        metafunc.parametrize("impl", ids, indirect=True, scope="session")


@pytest.fixture(scope="session")
def impl(request: pytest.FixtureRequest) -> types.SimpleNamespace:
    """The kernel twins of one family: ``impl.parser``, ``impl.headers``, ..."""
    return twins("_speedups" if request.param == "c" else "_pure")


@pytest.fixture(scope="session")
def py_impl() -> types.SimpleNamespace:
    return twins("_pure")


@pytest.fixture(scope="session")
def c_impl(request: pytest.FixtureRequest) -> types.SimpleNamespace:
    """The compiled family, for parity tests; skipped only when extensions are off on purpose."""
    if not _want_c(request.config):
        pytest.skip("compiled kernels disabled (FASTHTTP_NO_EXTENSIONS / --no-extensions)")
    return twins("_speedups")


@pytest.fixture(params=LOOPS)
def loop(request: pytest.FixtureRequest) -> Iterator[asyncio.AbstractEventLoop]:
    """A new event loop of each kind, current for the test; closed after it with every leftover
    task cancelled."""
    lp = new_event_loop(request.param == "uvloop")
    asyncio.set_event_loop(lp)
    try:
        yield lp
    finally:
        close_loop(lp, detach=True)


@pytest.fixture(scope="session")
def tls() -> Iterator[TempPKI]:
    """A throw-away CA with a server certificate for localhost/127.0.0.1/::1 and a client
    certificate, as files (``fasthttp.testing.TempPKI``; skipped without trustme)."""
    pytest.importorskip("trustme")
    with TempPKI() as pki:
        yield pki


@pytest.fixture
def redis_server() -> Iterator[object]:
    """A real ``redis-server`` on a free loopback port, for this test only
    (``helpers_redis.RedisServer``: ``.url``, ``.pause()``, ``.resume()``, ``.stop()``); skipped,
    with the reason, where the binary is not installed (``.ci/system-deps`` installs it)."""
    pytest.importorskip("redis", reason="redis-py is not installed (pip install '.[test]')")
    from helpers_redis import RedisServer, redis_binary

    binary = redis_binary()
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/system-deps does it)")
    server = RedisServer(binary).start()
    try:
        yield server
    finally:
        server.stop()
