"""Range parsing, compiled twin vs pure twin (pytest-benchmark).

Each case runs once per twin through the ``impl`` fixture (``py``/``c``, from
benchmarks/conftest.py) and in one benchmark group, so the two sit side by side; each asserts
its result, so the CI run with ``--benchmark-disable`` still checks it. Run:

    python -m pytest benchmarks/bench_ranges.py --benchmark-only
"""

from __future__ import annotations

import pytest

LENGTH = 10_000_000

SINGLE = "bytes=0-499"
SUFFIX = "bytes=-500"
# Ten range-specs, unsorted, with overlapping, adjacent and contained ranges, OWS after commas.
TEN_OVERLAPPING = (
    "bytes=0-99, 50-199, 1000-1099, 1050-1199, 5000-5999, -500, 200-299, 300-399, 9000-, 2000-2099"
)


@pytest.mark.benchmark(group="ranges: single range")
def test_parse_single_range(benchmark, impl):
    assert benchmark(impl.ranges.parse_range, SINGLE, LENGTH) == [(0, 499)]


@pytest.mark.benchmark(group="ranges: suffix range")
def test_parse_suffix_range(benchmark, impl):
    assert benchmark(impl.ranges.parse_range, SUFFIX, LENGTH) == [(LENGTH - 500, LENGTH - 1)]


@pytest.mark.benchmark(group="ranges: ten overlapping ranges")
def test_parse_ten_overlapping_ranges(benchmark, impl):
    assert benchmark(impl.ranges.parse_range, TEN_OVERLAPPING, LENGTH) == [
        (0, 399),
        (1000, 1199),
        (2000, 2099),
        (5000, 5999),
        (9000, LENGTH - 1),
    ]
