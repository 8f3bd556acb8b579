"""Shared fixtures.

``impl`` runs a kernel test against both twins (ids ``py`` and ``c``), as multidict does: test
bodies never name an implementation, they use ``impl.parser``, ``impl.headers`` and so on.
A missing compiled module makes the ``c`` runs *error*, never skip, so a broken build cannot pass
unnoticed. ``--no-extensions`` (or ``FASTHTTP_NO_EXTENSIONS=1``) drops the ``c`` runs on purpose.
"""

from __future__ import annotations

import types

import pytest

from fasthttp._compat import NO_EXTENSIONS, twins


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
