"""``fasthttp.media``: parsing media types (RFC 9110 §8.3.1, §5.6.6) and matching them against
accepted patterns (RFC 6838 §4.2.8 for ``+suffix`` patterns)."""

from __future__ import annotations

import pytest

from fasthttp.media import (
    FORM_TYPES,
    JSON_TYPES,
    XML_TYPES,
    first_match,
    matches,
    parse_disposition,
    parse_media_type,
    parse_parameters,
)

# -- parse_media_type ------------------------------------------------------------------------------


def test_a_bare_media_type_has_no_parameters():
    assert parse_media_type("application/json") == ("application/json", {})


def test_parameters_are_split_from_the_type():
    assert parse_media_type("text/html; charset=UTF-8") == ("text/html", {"charset": "UTF-8"})


def test_type_and_parameter_names_are_lower_cased_values_kept_as_sent():
    assert parse_media_type("Multipart/Form-Data; BOUNDARY=AbC") == ("multipart/form-data", {"boundary": "AbC"})


def test_optional_whitespace_around_the_type_and_the_semicolons_is_allowed():
    assert parse_media_type(" text/plain ;\tcharset=utf-8 ; format=flowed ") == (
        "text/plain",
        {"charset": "utf-8", "format": "flowed"},
    )


def test_quoted_values_are_unquoted_with_quoted_pairs():
    # RFC 9110 §5.6.4: quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
    assert parse_media_type('multipart/form-data; boundary="a b\\"c\\\\d;e"') == (
        "multipart/form-data",
        {"boundary": 'a b"c\\d;e'},
    )


def test_empty_parameters_are_allowed_by_the_grammar():
    assert parse_media_type("text/plain;;charset=utf-8;") == ("text/plain", {"charset": "utf-8"})


def test_an_empty_quoted_value_is_an_empty_string():
    assert parse_media_type('text/plain; a=""') == ("text/plain", {"a": ""})


@pytest.mark.parametrize(
    "value",
    [
        "",
        "text",
        "text/",
        "/plain",
        "text/plain/extra",
        "text /plain",
        "text/html, text/plain",
        "text/plain; charset",
        "text/plain; charset=",
        "text/plain; charset = utf-8",
        'text/plain; a="unterminated',
        'text/plain; a="x"y',
        "text/plain; a=b c",
        "téxt/plain",
        "text/plain\r\n",
    ],
)
def test_malformed_media_types_are_value_errors(value):
    with pytest.raises(ValueError):
        parse_media_type(value)


def test_a_parameter_given_twice_is_refused():
    # APPSEC: two parsers choosing different boundaries is a filter bypass.
    with pytest.raises(ValueError, match="twice"):
        parse_media_type("multipart/form-data; boundary=a; Boundary=b")


def test_parse_parameters_starts_at_an_offset():
    assert parse_parameters("xx; a=1", 2) == {"a": "1"}


# -- parse_disposition ------------------------------------------------------------------------------


def test_a_form_data_disposition_with_name_and_filename():
    assert parse_disposition('form-data; name="field"; filename="a.txt"') == (
        "form-data",
        {"name": "field", "filename": "a.txt"},
    )


def test_disposition_quoted_strings_unescape_only_quote_and_backslash():
    # Form encoders escape '"' (legacy) but never a backslash in a Windows path.
    _, params = parse_disposition('form-data; name="a\\"b"; filename="C:\\dir\\file.txt"')
    assert params == {"name": 'a"b', "filename": "C:\\dir\\file.txt"}


def test_disposition_type_is_lower_cased():
    assert parse_disposition("Form-Data; name=x")[0] == "form-data"


def test_malformed_dispositions_are_value_errors():
    for value in ("", "; name=x", 'form-data; name="x', "form-data name=x"):
        with pytest.raises(ValueError):
            parse_disposition(value)


# -- matching ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "media_type, pattern, expected",
    [
        ("application/json", "application/json", True),
        ("application/json", "*/*", True),
        ("application/json", "application/*", True),
        ("text/json", "application/*", False),
        ("application/xml", "application/json", False),
        ("application/ld+json", "application/*+json", True),
        ("application/vnd.api+json", "application/*+json", True),
        ("application/json", "application/*+json", False),
        ("application/jsonx", "application/*+json", False),
        ("application/x+json+xml", "application/*+json", False),
        ("application/x+json+xml", "application/*+xml", True),
        ("text/ld+json", "application/*+json", False),
        ("image/svg+xml", "*/*+xml", True),
    ],
)
def test_matches(media_type, pattern, expected):
    assert matches(media_type, pattern) is expected


def test_first_match_returns_the_first_pattern_that_matches():
    assert first_match("application/ld+json", JSON_TYPES) == "application/*+json"
    assert first_match("text/xml", XML_TYPES) == "text/xml"
    assert first_match("multipart/form-data", FORM_TYPES) == "multipart/form-data"
    assert first_match("text/plain", JSON_TYPES) is None
