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

from fasthttp._compat import CORES, KERNELS, MODELS, NO_EXTENSIONS

PROBE = (
    "import json, fasthttp; from fasthttp import _compat;"
    "print(json.dumps([fasthttp.speedups_enabled(), _compat.kernel_implementations(),"
    " {k: __import__('fasthttp.' + k, fromlist=['_impl'])._impl.__name__ for k in _compat.KERNELS},"
    " __import__('fasthttp.protocol', fromlist=['_core'])._core.__name__,"
    " __import__('fasthttp.requests', fromlist=['RequestBase']).RequestBase.__module__]))"
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
    enabled, impls, modules, core, request_base = probe(FASTHTTP_NO_EXTENSIONS=None)
    assert impls == {k: "c" for k in KERNELS + CORES + MODELS}
    assert all(name.startswith("fasthttp._speedups.") for name in modules.values())
    # The connection core too (issue 17): its compiled twin is an extension type.
    assert core == "fasthttp._core_c.connection"
    from fasthttp._core_c import connection

    assert type(vars(connection.ConnectionCore)["_kind"]).__name__ == "getset_descriptor"
    # And the storage of a Request (issue 17): the compiled connection core reads its fields.
    assert request_base == "fasthttp._model_c.request"
    assert enabled is True


@pytest.mark.parametrize("value", ["1", "yes", "true"])
def test_no_extensions_switches_every_facade_to_the_pure_twin(value):
    enabled, impls, modules, core, request_base = probe(FASTHTTP_NO_EXTENSIONS=value)
    assert impls == {k: "py" for k in KERNELS + CORES + MODELS}
    assert all(name.startswith("fasthttp._pure.") for name in modules.values())
    assert core == "fasthttp._core_py.connection"
    assert request_base == "fasthttp._model_py.request"
    assert enabled is False


@pytest.mark.skipif(NO_EXTENSIONS, reason="extensions disabled on purpose for this run")
@pytest.mark.parametrize("value", ["0", "", "false"])
def test_a_false_value_keeps_the_compiled_kernels(value):
    enabled, impls, _, _, _ = probe(FASTHTTP_NO_EXTENSIONS=value)
    assert enabled is True


def test_facades_export_the_same_names_as_both_twins(py_impl, c_impl):
    import importlib

    for kernel in KERNELS:
        facade = importlib.import_module(f"fasthttp.{kernel}")
        assert tuple(facade.__all__) == tuple(getattr(py_impl, kernel).__all__)
        assert tuple(getattr(c_impl, kernel).__all__) == tuple(getattr(py_impl, kernel).__all__)
        for name in facade.__all__:
            assert hasattr(facade, name)


def test_the_kernel_report_says_why_the_pure_twins_run():
    # issue 11: the no-compiler fallback was invisible; the server now logs this at start
    # (a warning when a compiled kernel was wanted but cannot be imported).
    code = (
        "import sys, json; sys.modules['fasthttp._speedups.parser'] = None\n"
        "import fasthttp; from fasthttp._compat import kernel_report\n"
        "print(json.dumps(kernel_report()))"
    )
    env = {k: v for k, v in os.environ.items() if k != "FASTHTTP_NO_EXTENSIONS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, timeout=60)
    degraded, sentence = json.loads(out.stdout)
    assert degraded and sentence.startswith("kernels: pure Python for ") and "parser" in sentence.split(",")[0] + sentence
    assert "cannot be imported" in sentence and "FASTHTTP_REQUIRE_EXTENSIONS=1" in sentence
    env["FASTHTTP_NO_EXTENSIONS"] = "1"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, timeout=60)
    assert json.loads(out.stdout) == [False, "kernels: pure Python (FASTHTTP_NO_EXTENSIONS is set)"]


def test_every_kernel_core_and_model_names_its_compiled_module_and_its_pure_twin():
    import importlib

    from fasthttp._compat import compiled_module, pure_module

    for name in KERNELS + CORES + MODELS:
        pure = importlib.import_module(pure_module(name))
        assert pure.__name__.rsplit(".", 1) == [pure.__name__.rsplit(".", 1)[0], name]
        assert pure.__name__.split(".")[1] in ("_pure", "_core_py", "_model_py")
        assert compiled_module(name).split(".")[1] in ("_speedups", "_core_c", "_model_c")
