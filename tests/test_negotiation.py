"""``fasthttp.negotiation``: Accept (RFC 9110 §12.5.1), Accept-Language (§12.5.4 with RFC 4647
basic filtering) and Accept-Encoding (§12.5.3), and the 406 with ``Vary: Accept``. The
representations built from a choice (``fasthttp.responses.negotiated``) are tested in
``test_responses.py``."""

from __future__ import annotations

import pytest

from fasthttp.headers import Headers
from fasthttp.negotiation import (
    MediaRange,
    choose_media_type,
    header_value,
    negotiate,
    negotiate_encoding,
    negotiate_language,
    parse_accept,
    parse_quality_list,
    quality,
)
from fasthttp.errors import HttpError

HTML, JSON, TEXT = "text/html", "application/json", "text/plain"

# -- parsing -------------------------------------------------------------------------------------------


def test_parse_accept_reads_ranges_parameters_and_weights():
    assert parse_accept('text/html;level=1, text/*;q=0.5, */*;q=0, application/json;charset="utf-8";q=0.8;ext=1') == (
        MediaRange("text", "html", (("level", "1"),), 1.0),
        MediaRange("text", "*", (), 0.5),
        MediaRange("*", "*", (), 0.0),
        MediaRange("application", "json", (("charset", "utf-8"),), 0.8),
    )


def test_parse_accept_lowercases_types_and_tolerates_whitespace():
    assert parse_accept(" TEXT/HTML ; Q=0.5 ,\tApplication/JSON ") == (MediaRange("text", "html", (), 0.5), MediaRange("application", "json"))


@pytest.mark.parametrize(
    "element",
    ["text", "text/", "/html", "*/html", "text/html;q=2", "text/html;q=1.5", "text/html;q=0.1234", "text/html;q=abc",
     "text/html;q=-1", "text/html;q=", "text/html;level", "te xt/html", "text/ht(ml"],
)
def test_parse_accept_skips_invalid_elements_only(element):
    assert parse_accept(f"{element}, application/json") == (MediaRange("application", "json"),)


def test_an_unterminated_quoted_string_spoils_only_the_rest_of_the_header():
    assert parse_accept('application/json, text/html;a="x, text/plain') == (MediaRange("application", "json"),)


def test_quoted_strings_may_hold_commas_and_semicolons():
    assert parse_accept('text/html;x="a,b;c";q=0.4, application/json') == (
        MediaRange("text", "html", (("x", "a,b;c"),), 0.4),
        MediaRange("application", "json"),
    )


def test_media_range_specificity():
    assert [r.specificity for r in parse_accept("*/*, text/*, text/html, text/html;level=1")] == [0, 1, 2, 3]


def test_parse_quality_list():
    assert parse_quality_list("gzip;q=0.8, BR, identity;q=0, bad token, x;q=9") == (("gzip", 0.8), ("br", 1.0), ("identity", 0.0))


@pytest.mark.parametrize("q, value", [("0", 0.0), ("0.", 0.0), ("0.5", 0.5), ("0.123", 0.123), ("1", 1.0), ("1.000", 1.0)])
def test_qvalue_grammar(q, value):
    assert parse_accept(f"text/html;q={q}")[0].q == value


# -- media types ---------------------------------------------------------------------------------------

RFC_ACCEPT = "text/*;q=0.3, text/plain;q=0.7, text/plain;format=flowed, text/plain;format=fixed;q=0.4, */*;q=0.5"


@pytest.mark.parametrize(
    "media_type, q",
    [
        ("text/plain;format=flowed", 1.0),
        ("text/plain", 0.7),
        ("text/html", 0.3),
        ("image/jpeg", 0.5),
        ("text/plain;format=fixed", 0.4),
        ("text/html;level=3", 0.3),
    ],
)
def test_quality_follows_the_rfc_9110_example_table(media_type, q):
    # RFC 9110 §12.5.1, Table 5 (with erratum 7138 for text/html;level=3).
    assert quality(RFC_ACCEPT, media_type) == q


def test_no_accept_header_gives_the_first_offer():
    assert negotiate(None, [JSON, HTML]) == JSON
    assert negotiate("", [JSON, HTML]) == JSON
    assert negotiate("garbage", [JSON, HTML]) == JSON


def test_highest_quality_wins():
    assert negotiate("text/html;q=0.5, application/json", [HTML, JSON]) == JSON


def test_ties_keep_the_server_order():
    assert negotiate("application/json, text/html", [HTML, JSON]) == HTML
    assert negotiate("*/*", [JSON, HTML]) == JSON


def test_the_most_specific_range_decides_whatever_its_quality():
    assert negotiate("text/*;q=1, text/html;q=0.1, */*;q=0.5", [HTML, JSON]) == JSON
    assert negotiate("text/html, text/*;q=0", [TEXT, HTML]) == HTML


def test_q_zero_excludes():
    assert negotiate("application/json;q=0, */*", [JSON, HTML]) == HTML
    assert negotiate("*/*;q=0", [JSON, HTML]) is None


def test_nothing_acceptable_is_none():
    assert negotiate("image/png", [JSON, HTML]) is None


def test_a_browser_accept_prefers_html():
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
    assert negotiate(accept, [JSON, HTML]) == HTML


def test_range_parameters_must_be_present_in_the_offer():
    assert negotiate("text/html;charset=utf-8", ["text/html"]) is None
    assert negotiate("text/html;charset=UTF-8", ["text/html; charset=utf-8"]) == "text/html; charset=utf-8"
    assert negotiate("text/html", ["text/html; charset=utf-8"]) == "text/html; charset=utf-8"


def test_offers_compare_case_insensitively_and_come_back_as_given():
    assert negotiate("application/json", ["Application/JSON"]) == "Application/JSON"


def test_accept_may_be_bytes_a_headers_view_or_a_request_like_object():
    assert negotiate(b"application/json", [HTML, JSON]) == JSON
    headers = Headers([("Accept", "text/plain;q=0.1"), ("Accept", "application/json")])
    assert header_value(headers) == "text/plain;q=0.1, application/json"
    assert negotiate(headers, [TEXT, JSON]) == JSON

    class FakeRequest:
        pass

    req = FakeRequest()
    req.headers = headers
    assert negotiate(req, [TEXT, JSON]) == JSON
    assert negotiate(Headers([]), [TEXT, JSON]) == TEXT
    assert negotiate({"Accept": "application/json"}, [TEXT, JSON]) == JSON
    assert negotiate({b"accept": b"application/json"}, [TEXT, JSON]) == JSON
    with pytest.raises(TypeError):
        negotiate(42, [TEXT])


def test_offers_must_be_concrete_media_types():
    with pytest.raises(ValueError):
        negotiate("*/*", ["text/*"])
    with pytest.raises(ValueError):
        negotiate("*/*", ["html"])
    with pytest.raises(TypeError):
        negotiate("*/*", "text/html")
    assert negotiate("*/*", []) is None


# -- languages -----------------------------------------------------------------------------------------


def test_language_basic_filtering_matches_prefixes():
    assert negotiate_language("en", ["de", "en-GB"]) == "en-GB"
    assert negotiate_language("en-GB", ["en"]) is None


def test_language_qualities_and_the_longest_range():
    assert negotiate_language("de;q=0.5, en;q=0.9", ["de", "en-US"]) == "en-US"
    assert negotiate_language("en;q=0.9, en-US;q=0.1", ["en-US", "en-GB"]) == "en-GB"
    assert negotiate_language("*;q=0.1, fr", ["de", "fr-CA"]) == "fr-CA"
    assert negotiate_language("*, de;q=0", ["de", "it"]) == "it"


def test_language_case_ties_and_absent_header():
    assert negotiate_language("EN-us", ["en-US"]) == "en-US"
    assert negotiate_language("fr, de", ["de", "fr"]) == "de"
    assert negotiate_language(None, ["cs", "sk"]) == "cs"
    assert negotiate_language("1x, en_US", ["cs", "sk"]) == "cs"
    assert negotiate_language("ja", ["cs", "sk"]) is None


# -- content codings ------------------------------------------------------------------------------------


def test_encoding_picks_the_highest_quality():
    assert negotiate_encoding("gzip;q=0.5, br", ["gzip", "br", "identity"]) == "br"
    assert negotiate_encoding("gzip, br", ["gzip", "br", "identity"]) == "gzip"


def test_identity_is_implicitly_acceptable_but_last():
    assert negotiate_encoding("gzip", ["identity", "gzip"]) == "gzip"
    assert negotiate_encoding("br", ["identity", "gzip"]) == "identity"


def test_identity_can_be_refused():
    assert negotiate_encoding("identity;q=0", ["identity"]) is None
    assert negotiate_encoding("*;q=0", ["identity", "gzip"]) is None
    assert negotiate_encoding("*;q=0, identity", ["identity"]) == "identity"


def test_star_covers_unlisted_codings():
    assert negotiate_encoding("*;q=0.5, gzip;q=0", ["gzip", "br"]) == "br"


def test_x_gzip_is_gzip():
    assert negotiate_encoding("x-gzip", ["gzip"]) == "gzip"
    assert negotiate_encoding("gzip", ["x-gzip"]) == "x-gzip"


def test_absent_and_empty_accept_encoding():
    assert negotiate_encoding(None, ["gzip", "identity"]) == "identity"
    assert negotiate_encoding(None, ["br", "gzip"]) == "br"
    assert negotiate_encoding("", ["gzip", "identity"]) == "identity"
    assert negotiate_encoding("", ["gzip"]) is None


# -- helpers that answer --------------------------------------------------------------------------------


def test_choose_media_type_raises_406_listing_the_offers():
    with pytest.raises(HttpError) as info:
        choose_media_type("image/png", [HTML, JSON])
    err = info.value
    assert err.status == 406
    assert err.detail == "Not Acceptable; available media types: text/html, application/json"
    assert err.headers == [("Vary", "Accept")]
    assert choose_media_type("application/*", [HTML, JSON]) == JSON
