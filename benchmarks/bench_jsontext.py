"""Small JSON answers: the compiled jsontext kernel against its pure twin and orjson.

Each case runs once per twin (``impl`` = ``py`` / ``c``) and once with orjson (the encoder the
kernel stands in front of), in one benchmark group per value: the benchmark server's JSON answer
(``{"message": "Hello, World!"}``) and a flat object of ten keys, as an API answers.
Run: ``python -m pytest benchmarks/bench_jsontext.py`` (timing), ``--benchmark-disable`` (CI).
"""

from __future__ import annotations

from typing import Any

import pytest

from fasthttp.responses import ORJSON_DUMPS, json_dumps

VALUES: dict[str, Any] = {
    "message": {"message": "Hello, World!"},
    "10 keys": {
        "id": 12345,
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "active": True,
        "admin": False,
        "manager": None,
        "age": 36,
        "country": "GB",
        "created": "2024-01-31T12:00:00Z",
        "score": -7,
    },
}


@pytest.mark.parametrize("case", VALUES)
def test_encode_simple(benchmark, impl, case):
    value = VALUES[case]
    benchmark.group = f"jsontext: {case}"
    assert benchmark(impl.jsontext.encode_simple, value) == json_dumps(value)


@pytest.mark.parametrize("case", VALUES)
def test_orjson_dumps(benchmark, case):
    if ORJSON_DUMPS is None:
        pytest.skip("orjson is not installed (or FASTHTTP_NO_ORJSON is set)")
    value = VALUES[case]
    benchmark.group = f"jsontext: {case}"
    assert benchmark(ORJSON_DUMPS, value) == json_dumps(value)
