"""fasthttp.caching: Cache-Control and Expires fields."""

from __future__ import annotations

import datetime as dt

import pytest

from fasthttp.caching import cache_control, cache_for, expires, no_store
from fasthttp.dates import parse_http_date


def test_cache_control_directives():
    assert cache_control(max_age=60, public=True) == ("Cache-Control", "public, max-age=60")
    assert cache_control(no_cache=True, must_revalidate=True, private=True)[1] == "private, no-cache, must-revalidate"
    value = cache_control(max_age=dt.timedelta(days=1), immutable=True, stale_while_revalidate=30, s_maxage=10)[1]
    assert value == "immutable, max-age=86400, s-maxage=10, stale-while-revalidate=30"


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"public": True, "private": True}, {"max_age": -1}, {"no_store": True, "max_age": 5}, {"max_age": True}, {"max_age": "60"}],
)
def test_cache_control_refuses_nonsense(kwargs):
    with pytest.raises(ValueError):
        cache_control(**kwargs)


def test_expires():
    name, value = expires(3600, now=1_000_000)
    assert name == "Expires" and parse_http_date(value) == 1_003_600
    assert parse_http_date(expires(dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc))[1]) == 1893456000
    assert parse_http_date(expires(dt.timedelta(minutes=1), now=0)[1]) == 60
    with pytest.raises(ValueError):
        expires(-5)


def test_cache_for_and_no_store():
    fields = dict(cache_for(120))
    assert fields["Cache-Control"] == "public, max-age=120"
    assert parse_http_date(fields["Expires"]) is not None
    assert dict(no_store()) == {"Cache-Control": "no-store", "Expires": "0"}
