"""``fasthttp.cookies``: the ``Cookie`` request header, parsed strictly per RFC 6265 §4.2.1
(what a user agent sends, §5.4), invalid pairs dropped without disturbing their neighbours; and
``Set-Cookie`` values built strictly per RFC 6265 §4.1 (through ``set_cookie`` and
``delete_cookie``, as handlers write them)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fasthttp.cookies import parse_cookie_header, parse_cookie_headers
from fasthttp.responses import Response

T = 784111777  # Sun, 06 Nov 1994 08:49:37 GMT, the RFC 9110 example date
LM = "Sun, 06 Nov 1994 08:49:37 GMT"


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


# -- Set-Cookie (RFC 6265 §4.1) ------------------------------------------------------------------------------------------


def set_cookie_values(resp) -> list[str]:
    return [v for n, v in resp.fields if n == "Set-Cookie"]


def test_set_cookie_defaults_to_root_path_and_samesite_lax():
    resp = Response("x")
    resp.set_cookie("sid", "abc123")
    assert set_cookie_values(resp) == ["sid=abc123; Path=/; SameSite=Lax"]


def test_set_cookie_writes_every_attribute_in_order():
    resp = Response("x")
    resp.set_cookie(
        "sid",
        "v",
        max_age=3600,
        expires=dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
        path="/app",
        domain="example.com",
        secure=True,
        httponly=True,
        samesite="strict",
    )
    assert set_cookie_values(resp) == [
        "sid=v; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Max-Age=3600; Domain=example.com; Path=/app; "
        "Secure; HttpOnly; SameSite=Strict"
    ]


@pytest.mark.parametrize(
    "expires", [T, float(T) + 0.9, LM, dt.datetime(1994, 11, 6, 8, 49, 37), "Sunday, 06-Nov-94 08:49:37 GMT"]
)
def test_set_cookie_expires_is_an_imf_fixdate(expires):
    resp = Response()
    resp.set_cookie("a", "b", expires=expires, samesite=None, path=None)
    assert set_cookie_values(resp) == [f"a=b; Expires={LM}"]


def test_set_cookie_max_age_takes_a_timedelta():
    resp = Response()
    resp.set_cookie("a", "b", max_age=dt.timedelta(days=1), samesite=None)
    assert set_cookie_values(resp) == ["a=b; Max-Age=86400; Path=/"]


def test_set_cookie_accepts_a_quoted_value_and_an_empty_one():
    resp = Response()
    resp.set_cookie("a", '"quoted"', samesite=None, path=None)
    resp.set_cookie("b", "", samesite=None, path=None)
    assert set_cookie_values(resp) == ['a="quoted"', "b="]


@pytest.mark.parametrize("name", ["", "a b", "a;b", "a,b", "a=b", "a\tb", "a\x01", "é", 'a"', "a(b)", "a/b"])
def test_set_cookie_refuses_a_name_that_is_not_a_token(name):
    with pytest.raises(ValueError):
        Response().set_cookie(name, "v")


@pytest.mark.parametrize("value", ["a b", "a;b", "a,b", 'a"b', "a\\b", "a\x00", "a\r\nX: y", "\x7f", "é", '"a'])
def test_set_cookie_refuses_a_value_outside_cookie_octets(value):
    with pytest.raises(ValueError):
        Response().set_cookie("n", value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"path": "/a;b"},
        {"path": "/a\nb"},
        {"domain": "exa mple.com"},
        {"domain": "a;b"},
        {"domain": ""},
        {"max_age": -1},
        {"expires": "yesterday"},
        {"samesite": "sometimes"},
        {"samesite": "none"},
        {"partitioned": True},
    ],
)
def test_set_cookie_refuses_invalid_attributes(kwargs):
    with pytest.raises(ValueError):
        Response().set_cookie("n", "v", **kwargs)


def test_set_cookie_refuses_wrongly_typed_attributes():
    with pytest.raises(TypeError):
        Response().set_cookie("n", "v", max_age="10")
    with pytest.raises(TypeError):
        Response().set_cookie("n", "v", expires=[1])


def test_samesite_none_is_allowed_with_secure():
    resp = Response()
    resp.set_cookie("n", "v", samesite="None", secure=True, partitioned=True)
    assert set_cookie_values(resp) == ["n=v; Path=/; Secure; SameSite=None; Partitioned"]


def test_cookie_name_prefixes_are_enforced():
    with pytest.raises(ValueError):
        Response().set_cookie("__Secure-id", "v")
    with pytest.raises(ValueError):
        Response().set_cookie("__Host-id", "v", secure=True, domain="example.com")
    with pytest.raises(ValueError):
        Response().set_cookie("__Host-id", "v", secure=True, path="/app")
    resp = Response()
    resp.set_cookie("__Host-id", "v", secure=True)
    assert set_cookie_values(resp) == ["__Host-id=v; Path=/; Secure; SameSite=Lax"]


def test_delete_cookie_expires_it_in_the_past():
    resp = Response()
    resp.delete_cookie("sid", path="/app", domain="example.com")
    assert set_cookie_values(resp) == [
        "sid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Domain=example.com; Path=/app; SameSite=Lax"
    ]
