"""``fasthttp.cookies``: the ``Cookie`` request header, parsed strictly per RFC 6265 §4.2.1
(what a user agent sends, §5.4), invalid pairs dropped without disturbing their neighbours."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fasthttp.cookies import parse_cookie_header, parse_cookie_headers


def test_pairs_separated_by_semicolon_space():
    assert parse_cookie_header("a=1; b=two; c=3") == {"a": "1", "b": "two", "c": "3"}


def test_an_empty_header_has_no_cookies():
    assert parse_cookie_header("") == {}


def test_the_first_of_a_repeated_name_wins():
    # RFC 6265 §5.4: the cookie with the longer path comes first.
    assert parse_cookie_header("sid=specific; sid=general") == {"sid": "specific"}


def test_surrounding_double_quotes_are_removed():
    assert parse_cookie_header('a="quoted"; b=""') == {"a": "quoted", "b": ""}


def test_an_empty_value_is_an_empty_string():
    assert parse_cookie_header("a=; b=1") == {"a": "", "b": "1"}


def test_whitespace_around_pairs_is_tolerated():
    assert parse_cookie_header(" a=1 ;b=2;\tc=3\t") == {"a": "1", "b": "2", "c": "3"}


def test_values_keep_equals_signs_and_every_cookie_octet():
    value = "!#$%&'()*+-./0123456789:<=>?@AZ[]^_`az{|}~"
    assert parse_cookie_header(f"token={value}") == {"token": value}


def test_values_are_not_decoded():
    assert parse_cookie_header("a=%41%20b; b=\\101") == {"a": "%41%20b"}


@pytest.mark.parametrize(
    "pair",
    [
        "novalue",  # no "=" (nameless cookie): ambiguous, dropped
        "=value",  # empty name
        "a b=1",  # space in the name
        "a=1 2",  # space in the value
        "a=x,y",  # comma
        'a=x"y',  # a quote inside the value
        'a="x',  # an unbalanced quote
        "a=x\\y",  # backslash
        "a=\x7f",  # DEL
        "a=é",  # non-ASCII
        "(a)=1",  # separators in the name
        "a=\x01",
    ],
)
def test_pairs_off_the_grammar_are_dropped_and_neighbours_kept(pair):
    assert parse_cookie_header(f"before=1; {pair}; after=2") == {"before": "1", "after": "2"}


def test_a_bad_pair_cannot_smuggle_another_cookie():
    # http.cookies would read '"a=1; admin=1"' differently; here the quoted pair is just dropped
    # and "admin" is never set by the quoted text.
    assert parse_cookie_header('x="a; admin=1"') == {}


def test_several_cookie_lines_are_joined_as_one():
    # RFC 9113 §8.2.3: an HTTP/2 hop may split the Cookie field into several lines.
    assert parse_cookie_headers(["a=1", "b=2; a=3"]) == {"a": "1", "b": "2"}
    assert parse_cookie_headers([]) == {}


_NAMES = st.text(st.sampled_from("!#$%&'*+-.^_`|~09AZaz"), min_size=1, max_size=6)
_VALUES = st.text(st.sampled_from("!#$%&'()*+-./09:<=>?@AZ[]^_`az{|}~"), max_size=8)


@given(st.lists(st.tuples(_NAMES, _VALUES), max_size=8), st.lists(st.sampled_from(["", " ", "\t", "  "]), min_size=1))
def test_any_valid_cookie_string_parses_the_same_in_canonical_and_loose_spacing(pairs, spaces):
    expected: dict[str, str] = {}
    for name, value in pairs:
        expected.setdefault(name, value)
    canonical = "; ".join(f"{n}={v}" for n, v in pairs)
    loose = ";".join(f"{spaces[i % len(spaces)]}{n}={v}{spaces[-1]}" for i, (n, v) in enumerate(pairs))
    assert parse_cookie_header(canonical) == expected
    assert parse_cookie_header(loose) == expected
