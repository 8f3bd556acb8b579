"""The one switch (fasthttp._compat) and the facades: compiled by default, pure on request.

These tests run Python in a subprocess so that the environment variable is read fresh, exactly
as a user's process reads it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from fasthttp._compat import KERNELS, NO_EXTENSIONS

PROBE = (
    "import json, fasthttp; from fasthttp import _compat;"
    "print(json.dumps([fasthttp.speedups_enabled(), _compat.kernel_implementations(),"
    " {k: __import__('fasthttp.' + k, fromlist=['_impl'])._impl.__name__ for k in _compat.KERNELS}]))"
)


def probe(**env_changes: str | None) -> list:
    env = dict(os.environ)
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.skipif(NO_EXTENSIONS, reason="extensions disabled on purpose for this run")
def test_compiled_kernels_are_used_by_default(request):
    if request.config.getoption("--no-extensions"):
        pytest.skip("--no-extensions")
    enabled, impls, modules = probe(FASTHTTP_NO_EXTENSIONS=None)
    assert impls == {k: "c" for k in KERNELS}
    assert all(name.startswith("fasthttp._speedups.") for name in modules.values())
    assert enabled is True


@pytest.mark.parametrize("value", ["1", "yes", "true"])
def test_no_extensions_switches_every_facade_to_the_pure_twin(value):
    enabled, impls, modules = probe(FASTHTTP_NO_EXTENSIONS=value)
    assert impls == {k: "py" for k in KERNELS}
    assert all(name.startswith("fasthttp._pure.") for name in modules.values())
    assert enabled is False


@pytest.mark.skipif(NO_EXTENSIONS, reason="extensions disabled on purpose for this run")
@pytest.mark.parametrize("value", ["0", "", "false"])
def test_a_false_value_keeps_the_compiled_kernels(value):
    enabled, impls, _ = probe(FASTHTTP_NO_EXTENSIONS=value)
    assert enabled is True


def test_facades_export_the_same_names_as_both_twins(py_impl, c_impl):
    import importlib

    for kernel in KERNELS:
        facade = importlib.import_module(f"fasthttp.{kernel}")
        assert tuple(facade.__all__) == tuple(getattr(py_impl, kernel).__all__)
        assert tuple(getattr(c_impl, kernel).__all__) == tuple(getattr(py_impl, kernel).__all__)
        for name in facade.__all__:
            assert hasattr(facade, name)
