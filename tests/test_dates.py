"""``fasthttp.dates``: the IMF-fixdate written, and the three HTTP-date forms read (RFC 9110 §5.6.7)."""

from __future__ import annotations

import datetime as dt

import pytest

from fasthttp.dates import format_http_date, parse_http_date

T = 784111777  # Sun, 06 Nov 1994 08:49:37 GMT, the RFC 9110 example date
LM = "Sun, 06 Nov 1994 08:49:37 GMT"


# -- HTTP dates -----------------------------------------------------------------------------------------


def test_format_http_date_is_an_imf_fixdate():
    assert format_http_date(T) == LM
    assert format_http_date(dt.datetime(1994, 11, 6, 8, 49, 37, tzinfo=dt.timezone.utc)) == LM
    assert format_http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"


@pytest.mark.parametrize("value", [LM, "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", LM.encode(), f" {LM} "])
def test_parse_http_date_accepts_the_three_forms(value):
    assert parse_http_date(value) == T


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "yesterday",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 31 Feb 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT extra",
        "784111777",
    ],
)
def test_parse_http_date_refuses_anything_else(value):
    assert parse_http_date(value) is None


def test_parse_http_date_reads_two_digit_years_as_at_most_50_years_ahead():
    this_year = dt.datetime.now(dt.timezone.utc).year
    future = (this_year + 60) % 100
    parsed = parse_http_date(f"Monday, 01-Jan-{future:02d} 00:00:00 GMT")
    assert dt.datetime.fromtimestamp(parsed, dt.timezone.utc).year == this_year + 60 - 100


def test_parse_http_date_takes_a_leap_second_as_59():
    assert parse_http_date("Sat, 31 Dec 2016 23:59:60 GMT") == parse_http_date("Sat, 31 Dec 2016 23:59:59 GMT")
