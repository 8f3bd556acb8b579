"""Benchmark fixtures: ``impl`` runs each case on both twins (ids ``py``/``c``), as in tests/.

Run: ``python -m pytest benchmarks`` (add ``--benchmark-disable`` to only check the results).
"""

from __future__ import annotations

import types

import pytest

from fasthttp._compat import NO_EXTENSIONS, twins


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "impl" in metafunc.fixturenames:
        ids = ["py"] if NO_EXTENSIONS else ["py", "c"]
        metafunc.parametrize("impl", ids, indirect=True, scope="session")


@pytest.fixture(scope="session")
def impl(request: pytest.FixtureRequest) -> types.SimpleNamespace:
    return twins("_speedups" if request.param == "c" else "_pure")
