"""``fasthttp.conditional``: preconditions evaluated in the order of RFC 9110 §13.2.2, entity-tag
comparison (RFC 9110 §8.8.3.2). ``If-Range`` and the 304 are exercised through files
(``test_files.py``)."""

from __future__ import annotations

import pytest

from fasthttp.conditional import check_preconditions
from fasthttp.headers import Headers

T = 784111777  # Sun, 06 Nov 1994 08:49:37 GMT, the RFC 9110 example date
LM = "Sun, 06 Nov 1994 08:49:37 GMT"
LATER = "Sun, 06 Nov 1994 08:49:38 GMT"
EARLIER = "Sun, 06 Nov 1994 08:49:36 GMT"


# -- conditional requests (RFC 9110 §13.2.2) --------------------------------------------------------------

ETAG = '"abc"'


@pytest.mark.parametrize(
    "method, fields, expected",
    [
        ("GET", [], None),
        ("GET", [("If-None-Match", '"abc"')], 304),
        ("GET", [("If-None-Match", 'W/"abc"')], 304),
        ("GET", [("If-None-Match", '"x", "abc"')], 304),
        ("GET", [("If-None-Match", '"x"'), ("If-None-Match", '"abc"')], 304),
        ("GET", [("If-None-Match", "*")], 304),
        ("GET", [("If-None-Match", '"x"')], None),
        ("HEAD", [("If-None-Match", '"abc"')], 304),
        ("POST", [("If-None-Match", '"abc"')], 412),
        ("PUT", [("If-None-Match", "*")], 412),
        ("GET", [("If-None-Match", "garbage")], None),
        ("GET", [("If-Modified-Since", LM)], 304),
        ("GET", [("If-Modified-Since", LATER)], 304),
        ("GET", [("If-Modified-Since", EARLIER)], None),
        ("GET", [("If-Modified-Since", "not a date")], None),
        ("GET", [("If-Modified-Since", LM), ("If-Modified-Since", LM)], None),
        ("POST", [("If-Modified-Since", LM)], None),
        ("GET", [("If-None-Match", '"x"'), ("If-Modified-Since", LM)], None),
        ("GET", [("If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT")], None),
        ("PUT", [("If-Match", '"abc"')], None),
        ("PUT", [("If-Match", "*")], None),
        ("PUT", [("If-Match", '"x", "abc"')], None),
        ("PUT", [("If-Match", '"x"')], 412),
        ("PUT", [("If-Match", 'W/"abc"')], 412),
        ("PUT", [("If-Match", "garbage")], 412),
        ("PUT", [("If-Unmodified-Since", LM)], None),
        ("PUT", [("If-Unmodified-Since", EARLIER)], 412),
        ("PUT", [("If-Unmodified-Since", "bogus")], None),
        ("PUT", [("If-Match", '"abc"'), ("If-Unmodified-Since", EARLIER)], None),
        ("GET", [("If-Match", '"x"'), ("If-None-Match", '"abc"')], 412),
        ("GET", [("If-Unmodified-Since", EARLIER), ("If-None-Match", '"abc"')], 412),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_preconditions_are_evaluated_in_rfc_order(method, fields, expected):
    assert check_preconditions(method, Headers(fields), ETAG, T) == expected


def test_if_none_match_star_is_true_without_a_representation():
    assert check_preconditions("PUT", Headers([("If-None-Match", "*")]), None, None, exists=False) is None
    assert check_preconditions("PUT", Headers([("If-Match", "*")]), None, None, exists=False) == 412


def test_a_weak_etag_never_satisfies_if_match():
    assert check_preconditions("PUT", Headers([("If-Match", 'W/"abc"')]), 'W/"abc"', T) == 412
    assert check_preconditions("GET", Headers([("If-None-Match", '"abc"')]), 'W/"abc"', T) == 304


def test_an_entity_tag_may_contain_a_comma():
    assert check_preconditions("GET", Headers([("If-None-Match", '"a,b"')]), '"a,b"', T) == 304


# -- the implementation shared by files and in-memory bodies ------------------------------------


def test_entity_tag_is_a_content_digest():
    from fasthttp.conditional import entity_tag

    assert entity_tag(b"a") == entity_tag(bytearray(b"a")) != entity_tag(b"b")
    assert entity_tag(b"a").startswith('"') and entity_tag(b"a", weak=True).startswith('W/"')


@pytest.fixture
def ranges_twin(impl, monkeypatch):
    """fasthttp.conditional with the ranges kernel of one twin (py/c) in place of the facade's."""
    import fasthttp.conditional as conditional

    for name in ("parse_range", "content_range", "unsatisfied_range", "multipart_byteranges", "make_boundary", "byteranges_content_type"):
        monkeypatch.setattr(conditional, name, getattr(impl.ranges, name))
    return conditional


def test_conditional_response_on_bytes(ranges_twin):
    from fasthttp.responses import Response

    conditional_response, entity_tag = ranges_twin.conditional_response, ranges_twin.entity_tag
    body = bytes(range(100))
    plain = Response(body, content_type="application/octet-stream")
    tag = entity_tag(body)
    assert conditional_response("GET", Headers([("If-None-Match", tag)]), plain).status == 304
    assert conditional_response("DELETE", Headers([("If-None-Match", tag)]), plain).status == 412
    r = conditional_response("GET", Headers([("Range", "bytes=10-19")]), plain, ranges=True)
    assert r.status == 206 and r.body == body[10:20]
    assert dict(r.fields)["Content-Range"] == "bytes 10-19/100"
    r = conditional_response("GET", Headers([("Range", "bytes=0-0,-1")]), plain, ranges=True)
    assert r.status == 206 and b"Content-Range: bytes 99-99/100" in r.body
    r = conditional_response("GET", Headers([("Range", "bytes=200-")]), plain, ranges=True)
    assert r.status == 416
    many = "bytes=" + ",".join(f"{i}-{i}" for i in range(1000))
    assert conditional_response("GET", Headers([("Range", many)]), plain, ranges=True).status == 200
    assert conditional_response("GET", Headers([]), Response(b"x", 500)).status == 500
    untouched = Response(b"x", headers=[("ETag", '"1"')])
    assert conditional_response("GET", Headers([]), untouched) is untouched


def test_precondition_required():
    from fasthttp.conditional import precondition_required

    assert precondition_required("GET", Headers([])) is None
    assert precondition_required("PUT", Headers([])).status == 428
    assert precondition_required("PUT", Headers([("If-Match", '"a"')])) is None
    assert precondition_required("DELETE", Headers([("If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:37 GMT")])) is None
