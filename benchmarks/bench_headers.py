"""Header-index benchmarks: look-ups on a browser request's 12 fields, ``py`` and ``c`` twins.

Well-known names (``host``, ``cookie``) resolve through the fixed table; ``dnt`` is not in it and
is compared byte for byte. Each benchmark asserts what it found.
"""

from __future__ import annotations

import pytest

from bench_parser import BROWSER_GET


@pytest.fixture
def headers(impl):
    return impl.parser.RequestParser().feed(BROWSER_GET)[0].headers


def test_get_well_known(benchmark, headers):
    benchmark.group = "headers:get-well-known"
    assert benchmark(headers.get, "cookie").startswith("wp_ozh")


def test_get_other_name(benchmark, headers):
    benchmark.group = "headers:get-other"
    assert benchmark(headers.get, "DNT") == "1"


def test_get_missing(benchmark, headers):
    benchmark.group = "headers:get-missing"
    assert benchmark(headers.get, "x-not-there") is None


def test_contains(benchmark, headers):
    benchmark.group = "headers:contains"
    assert benchmark(headers.__contains__, "referer") is True


def test_items(benchmark, headers):
    benchmark.group = "headers:items"
    assert len(benchmark(headers.items)) == 12


def test_construct_from_pairs(benchmark, impl):
    benchmark.group = "headers:construct"
    pairs = [("Content-Type", "text/plain"), ("X-Request-Id", "abc"), ("Cache-Control", "no-cache")]
    assert len(benchmark(impl.headers.Headers, pairs)) == 3
