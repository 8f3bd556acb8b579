"""Keeps ``benchmarks/clientbench.py`` from rotting: a short run of every client it compares,
each response checked (the figures come from ``python -m benchmarks.clientbench``)."""

from __future__ import annotations

import pytest

from benchmarks import clientbench


def test_clientbench_runs_every_client(capsys):
    for name in ("aiohttp", "httpx"):
        pytest.importorskip(name)
    assert clientbench.main(["-n", "100", "-c", "4"]) == 0
    table = capsys.readouterr().out
    for name in clientbench.CLIENTS:
        assert f"| {name} |" in table
