"""Behaviour of the ranges kernel (RFC 9110 §14): Range parsing, Content-Range, byteranges framing.

Every test runs on both twins through the ``impl`` fixture; the parity tests at the end feed the
same generated inputs to ``py`` and ``c`` and require equal answers and equal error types.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fasthttp.errors import InvalidResponseHeader, RangeNotSatisfiable

PUBLIC_API = {
    "parse_range",
    "content_range",
    "unsatisfied_range",
    "multipart_byteranges",
    "make_boundary",
    "byteranges_content_type",
}

LENGTH = 10_000


def test_module_exports_exactly_the_public_api(impl):
    assert set(impl.ranges.__all__) == PUBLIC_API
    assert len(impl.ranges.__all__) == len(PUBLIC_API)


# --- parse_range: valid range sets (RFC 9110 §14.1.1) ----------------------------------------


def test_int_range_is_inclusive(impl):
    assert impl.ranges.parse_range("bytes=0-499", LENGTH) == [(0, 499)]


def test_single_byte_range(impl):
    assert impl.ranges.parse_range("bytes=7-7", LENGTH) == [(7, 7)]


def test_open_range_runs_to_the_end(impl):
    assert impl.ranges.parse_range("bytes=9500-", LENGTH) == [(9500, 9999)]


def test_suffix_range_selects_the_last_bytes(impl):
    assert impl.ranges.parse_range("bytes=-500", LENGTH) == [(9500, 9999)]


def test_first_and_last_byte(impl):
    assert impl.ranges.parse_range("bytes=0-0,-1", LENGTH) == [(0, 0), (9999, 9999)]


@pytest.mark.parametrize("unit", ["bytes", "Bytes", "BYTES", "bYtEs"])
def test_unit_is_case_insensitive(impl, unit):
    assert impl.ranges.parse_range(f"{unit}=0-1", LENGTH) == [(0, 1)]


def test_bytes_and_str_input_give_the_same_answer(impl):
    value = "bytes=0-1, 5-9, -3"
    assert impl.ranges.parse_range(value.encode(), LENGTH) == impl.ranges.parse_range(value, LENGTH)


def test_last_pos_past_the_end_is_clamped(impl):
    assert impl.ranges.parse_range("bytes=9000-20000", LENGTH) == [(9000, 9999)]


def test_last_pos_equal_to_the_length_is_clamped(impl):
    assert impl.ranges.parse_range("bytes=9000-10000", LENGTH) == [(9000, 9999)]


def test_suffix_equal_to_the_length_selects_all_of_it(impl):
    assert impl.ranges.parse_range("bytes=-10000", LENGTH) == [(0, 9999)]


def test_suffix_longer_than_the_representation_selects_all_of_it(impl):
    assert impl.ranges.parse_range("bytes=-20000", LENGTH) == [(0, 9999)]


def test_eighteen_digit_numbers_are_accepted(impl):
    assert impl.ranges.parse_range("bytes=0-" + "9" * 18, LENGTH) == [(0, 9999)]
    assert impl.ranges.parse_range("bytes=-" + "9" * 18, LENGTH) == [(0, 9999)]


def test_leading_zeros_are_decimal(impl):
    assert impl.ranges.parse_range("bytes=010-0020", LENGTH) == [(10, 20)]


def test_largest_length_is_supported(impl):
    big = 2**63 - 1
    assert impl.ranges.parse_range("bytes=-1", big) == [(big - 1, big - 1)]
    assert impl.ranges.parse_range("bytes=0-", big) == [(0, big - 1)]


# --- the #rule list: OWS and empty elements (RFC 9110 §5.6.1) -----------------------------------


def test_ows_around_commas_is_allowed(impl):
    assert impl.ranges.parse_range("bytes=0-1 ,\t5-6 , 9-9", LENGTH) == [(0, 1), (5, 6), (9, 9)]


def test_empty_list_elements_are_ignored(impl):
    assert impl.ranges.parse_range("bytes=,0-1,, ,\t,5-6,", LENGTH) == [(0, 1), (5, 6)]


def test_whitespace_around_the_field_value_is_ignored(impl):
    assert impl.ranges.parse_range(" \tbytes=0-1\t ", LENGTH) == [(0, 1)]


def test_whitespace_before_the_first_element_is_tolerated(impl):
    assert impl.ranges.parse_range("bytes= 0-1", LENGTH) == [(0, 1)]


# --- coalescing (RFC 9110 §14.6) --------------------------------------------------------------


def test_ranges_are_sorted_by_start(impl):
    assert impl.ranges.parse_range("bytes=50-59,0-9,20-29", LENGTH) == [(0, 9), (20, 29), (50, 59)]


def test_overlapping_ranges_are_coalesced(impl):
    assert impl.ranges.parse_range("bytes=0-100,50-150", LENGTH) == [(0, 150)]


def test_adjacent_ranges_are_coalesced(impl):
    assert impl.ranges.parse_range("bytes=0-9,10-19", LENGTH) == [(0, 19)]


def test_ranges_one_byte_apart_stay_separate(impl):
    assert impl.ranges.parse_range("bytes=0-9,11-19", LENGTH) == [(0, 9), (11, 19)]


def test_contained_range_is_absorbed(impl):
    assert impl.ranges.parse_range("bytes=0-100,10-20", LENGTH) == [(0, 100)]


def test_duplicate_ranges_collapse_to_one(impl):
    assert impl.ranges.parse_range("bytes=5-9,5-9,5-9", LENGTH) == [(5, 9)]


def test_suffix_and_open_ranges_coalesce_with_the_rest(impl):
    assert impl.ranges.parse_range("bytes=-100,9000-,9850-9899", LENGTH) == [(9000, 9999)]


def test_coalescing_chains_across_several_ranges(impl):
    value = "bytes=30-39,0-9,20-29,10-19,60-69"
    assert impl.ranges.parse_range(value, LENGTH) == [(0, 39), (60, 69)]


# --- headers to ignore: None (RFC 9110 §14.2) --------------------------------------------------

INVALID = [
    "",
    "   ",
    "bytes",
    "bytes=",
    "bytes=,",
    "bytes= , ,\t",
    "0-1",
    "=0-1",
    "bytes 0-1",
    "bytes =0-1",
    "bytes==0-1",
    "byte=0-1",
    "bytesx=0-1",
    "items=0-1",
    "none",
    "bytes=-",
    "bytes=--1",
    "bytes=-1-",
    "bytes=1",
    "bytes=1--",
    "bytes=a-b",
    "bytes=1-a",
    "bytes=0x10-20",
    "bytes=+1-2",
    "bytes=1-+2",
    "bytes=-+2",
    "bytes=1_0-20",
    "bytes=1 -2",
    "bytes=1- 2",
    "bytes=- 1",
    "bytes=1-2-3",
    "bytes=1-2;3-4",
    "bytes=1-2 3-4",
    "bytes=0-1,x",
    "bytes=0-1=",
    "bytes=0-1\r\n",
    "bytes=0-1\x00",
    "bytes=\u0661-2",  # ARABIC-INDIC DIGIT ONE: not a DIGIT, and not latin-1
    "bytes=\uff11-2",  # FULLWIDTH DIGIT ONE
    "bytes=\xb9-2",  # SUPERSCRIPT ONE: latin-1, still not a DIGIT
    "bytes=0-1,\xa02-3",  # NO-BREAK SPACE is not OWS
]


@pytest.mark.parametrize("value", INVALID)
def test_invalid_syntax_is_ignored(impl, value):
    assert impl.ranges.parse_range(value, LENGTH) is None


@pytest.mark.parametrize("value", INVALID)
def test_invalid_syntax_is_ignored_as_bytes(impl, value):
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        raw = value.encode("utf-8")
    assert impl.ranges.parse_range(raw, LENGTH) is None


def test_last_before_first_is_invalid(impl):
    assert impl.ranges.parse_range("bytes=500-499", LENGTH) is None


def test_one_invalid_spec_invalidates_the_whole_header(impl):
    assert impl.ranges.parse_range("bytes=0-1,5-3,7-8", LENGTH) is None


@pytest.mark.parametrize(
    "value", ["bytes=" + "1" * 19 + "-", "bytes=0-" + "1" * 19, "bytes=-" + "1" * 19]
)
def test_numbers_longer_than_eighteen_digits_are_ignored(impl, value):
    assert impl.ranges.parse_range(value, LENGTH) is None


def test_nineteen_digits_are_refused_even_when_they_are_zeros(impl):
    assert impl.ranges.parse_range("bytes=" + "0" * 19 + "-", LENGTH) is None


def test_invalid_syntax_wins_over_unsatisfiable(impl):
    # The header is ignored (200), not answered with 416, when any spec is malformed.
    assert impl.ranges.parse_range("bytes=20000-,5-3", LENGTH) is None
    assert impl.ranges.parse_range("bytes=20000-,x", LENGTH) is None


# --- unsatisfiable: 416 (RFC 9110 §14.1.1, §15.5.17) --------------------------------------------

UNSATISFIABLE = [
    ("bytes=10000-", LENGTH),
    ("bytes=10000-20000", LENGTH),
    ("bytes=-0", LENGTH),
    ("bytes=-0,10000-,20000-30000", LENGTH),
    ("bytes=0-", 0),
    ("bytes=0-0", 0),
    ("bytes=-5", 0),
    ("bytes=1-", 1),
]


@pytest.mark.parametrize(("value", "length"), UNSATISFIABLE)
def test_no_satisfiable_range_raises_416_with_the_length(impl, value, length):
    with pytest.raises(RangeNotSatisfiable) as info:
        impl.ranges.parse_range(value, length)
    assert info.value.status == 416
    assert info.value.length == length


def test_unsatisfiable_ranges_are_dropped_when_others_are_satisfiable(impl):
    assert impl.ranges.parse_range("bytes=20000-,0-1", LENGTH) == [(0, 1)]
    assert impl.ranges.parse_range("bytes=-0,500-", LENGTH) == [(500, 9999)]


def test_first_pos_just_inside_the_end_is_satisfiable(impl):
    assert impl.ranges.parse_range("bytes=9999-", LENGTH) == [(9999, 9999)]


def test_zero_length_representation_with_invalid_header_is_ignored(impl):
    assert impl.ranges.parse_range("bytes=5-3", 0) is None


# --- the max_ranges cap (APPSEC, CVE-2011-3192) -----------------------------------------------


def _many(count: int) -> str:
    return "bytes=" + ",".join(f"{3 * i}-{3 * i}" for i in range(count))


def test_default_cap_allows_sixteen_range_specs(impl):
    assert len(impl.ranges.parse_range(_many(16), LENGTH)) == 16


def test_more_range_specs_than_the_cap_are_ignored(impl):
    assert impl.ranges.parse_range(_many(17), LENGTH) is None


def test_cap_counts_specs_before_coalescing(impl):
    assert impl.ranges.parse_range(",".join(["bytes=0-0"] + ["0-0"] * 16), LENGTH) is None


def test_cap_counts_unsatisfiable_specs(impl):
    assert impl.ranges.parse_range("bytes=0-0,20000-,30000-", LENGTH, max_ranges=2) is None


def test_empty_elements_do_not_count_against_the_cap(impl):
    assert impl.ranges.parse_range("bytes=,,0-0,,,,2-2,,,", LENGTH, max_ranges=2) == [
        (0, 0),
        (2, 2),
    ]


def test_custom_cap(impl):
    assert impl.ranges.parse_range("bytes=0-0,2-2", LENGTH, max_ranges=1) is None
    assert impl.ranges.parse_range("bytes=0-0", LENGTH, max_ranges=1) == [(0, 0)]


def test_large_cap_allows_many_ranges(impl):
    # Past the compiled twin's stack buffer and its insertion-sort threshold; given in reverse.
    value = "bytes=" + ",".join(f"{3 * i}-{3 * i}" for i in reversed(range(500)))
    assert impl.ranges.parse_range(value, LENGTH, max_ranges=500) == [
        (3 * i, 3 * i) for i in range(500)
    ]


def test_huge_cap_is_accepted(impl):
    assert impl.ranges.parse_range("bytes=0-1", LENGTH, max_ranges=10**30) == [(0, 1)]


@pytest.mark.parametrize("max_ranges", [0, -1, -(10**30)])
def test_cap_below_one_is_a_value_error(impl, max_ranges):
    with pytest.raises(ValueError):
        impl.ranges.parse_range("bytes=0-1", LENGTH, max_ranges=max_ranges)


def test_cap_must_be_an_int(impl):
    with pytest.raises(TypeError):
        impl.ranges.parse_range("bytes=0-1", LENGTH, max_ranges=2.0)


def test_cap_is_keyword_only(impl):
    with pytest.raises(TypeError):
        impl.ranges.parse_range("bytes=0-1", LENGTH, 4)


# --- argument errors -------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, 1, bytearray(b"bytes=0-1"), memoryview(b"bytes=0-1")])
def test_value_must_be_str_or_bytes(impl, value):
    with pytest.raises(TypeError):
        impl.ranges.parse_range(value, LENGTH)


@pytest.mark.parametrize("length", [1.0, "10", None])
def test_length_must_be_an_int(impl, length):
    with pytest.raises(TypeError):
        impl.ranges.parse_range("bytes=0-1", length)


@pytest.mark.parametrize("length", [-1, 2**63, 10**40])
def test_length_out_of_range_is_a_value_error(impl, length):
    with pytest.raises(ValueError):
        impl.ranges.parse_range("bytes=0-1", length)


# --- Content-Range (RFC 9110 §14.4) ------------------------------------------------------------


def test_content_range(impl):
    assert impl.ranges.content_range(0, 99, 1000) == "bytes 0-99/1000"


def test_content_range_of_the_last_byte(impl):
    assert impl.ranges.content_range(999, 999, 1000) == "bytes 999-999/1000"


@pytest.mark.parametrize(
    ("first", "last", "length"), [(5, 4, 10), (0, 10, 10), (-1, 5, 10), (0, 0, 0)]
)
def test_content_range_rejects_a_range_outside_the_representation(impl, first, last, length):
    with pytest.raises(ValueError):
        impl.ranges.content_range(first, last, length)


def test_content_range_rejects_non_ints(impl):
    with pytest.raises(TypeError):
        impl.ranges.content_range("0", 1, 10)


def test_unsatisfied_range(impl):
    assert impl.ranges.unsatisfied_range(1000) == "bytes */1000"
    assert impl.ranges.unsatisfied_range(0) == "bytes */0"


def test_unsatisfied_range_rejects_a_negative_length(impl):
    with pytest.raises(ValueError):
        impl.ranges.unsatisfied_range(-1)


def test_unsatisfied_range_is_what_a_416_carries(impl):
    with pytest.raises(RangeNotSatisfiable) as info:
        impl.ranges.parse_range("bytes=5000-", 1000)
    assert impl.ranges.unsatisfied_range(info.value.length) == "bytes */1000"


# --- multipart/byteranges framing (RFC 9110 §14.6, RFC 2046 §5.1.1) ----------------------------

DATA = bytes(range(256)) * 4  # every byte value, CR and LF included
TEXT = b"".join(b"line %03d of the text\r\n" % i for i in range(60))


def _assemble(heads, closing, ranges, data):
    parts = [
        head + data[first : last + 1] for head, (first, last) in zip(heads, ranges, strict=True)
    ]
    return b"".join(parts) + closing


def _parse_by_hand(body: bytes, boundary: bytes):
    """Walk a multipart/byteranges body as a client would, trusting only each part's head."""
    parts = []
    pos = 0
    assert body.startswith(b"--" + boundary + b"\r\n")
    pos = len(boundary) + 4
    while True:
        head_end = body.index(b"\r\n\r\n", pos)
        fields = dict(line.split(b": ", 1) for line in body[pos:head_end].split(b"\r\n"))
        match = re.fullmatch(rb"bytes (\d+)-(\d+)/(\d+)", fields[b"Content-Range"])
        first, last, length = map(int, match.groups())
        start = head_end + 4
        data = body[start : start + last - first + 1]
        parts.append((fields, (first, last, length), data))
        pos = start + len(data)
        delimiter = b"\r\n--" + boundary
        assert body[pos : pos + len(delimiter)] == delimiter
        pos += len(delimiter)
        if body[pos:] == b"--\r\n":
            return parts
        assert body[pos : pos + 2] == b"\r\n"
        pos += 2


def test_first_head_opens_with_the_dash_boundary(impl):
    heads, _ = impl.ranges.multipart_byteranges([(0, 9), (20, 29)], 100, None, "sep")
    assert heads[0] == b"--sep\r\nContent-Range: bytes 0-9/100\r\n\r\n"


def test_later_heads_start_with_the_crlf_ending_the_previous_part(impl):
    heads, _ = impl.ranges.multipart_byteranges([(0, 9), (20, 29)], 100, "text/plain", "sep")
    assert (
        heads[1]
        == b"\r\n--sep\r\nContent-Type: text/plain\r\nContent-Range: bytes 20-29/100\r\n\r\n"
    )


def test_closing_delimiter(impl):
    _, closing = impl.ranges.multipart_byteranges([(0, 9)], 100, None, "sep")
    assert closing == b"\r\n--sep--\r\n"


def test_content_type_is_in_every_part_when_given(impl):
    heads, _ = impl.ranges.multipart_byteranges([(0, 0), (2, 2), (4, 4)], 10, "image/png", "b")
    assert all(b"\r\nContent-Type: image/png\r\n" in head for head in heads)


def test_content_type_is_left_out_when_none(impl):
    heads, _ = impl.ranges.multipart_byteranges([(0, 0), (2, 2)], 10, None, "b")
    assert not any(b"Content-Type" in head for head in heads)


def test_body_length_is_known_without_the_data(impl):
    ranges = [(0, 99), (500, 599), (1000, 1023)]
    heads, closing = impl.ranges.multipart_byteranges(ranges, len(DATA), None, "x")
    expected = sum(map(len, heads)) + sum(last - first + 1 for first, last in ranges) + len(closing)
    assert len(_assemble(heads, closing, ranges, DATA)) == expected


def test_assembled_body_parses_back_by_hand(impl):
    ranges = [(0, 12), (13, 13), (250, 270), (1000, 1023)]
    boundary = impl.ranges.make_boundary()
    heads, closing = impl.ranges.multipart_byteranges(
        ranges, len(DATA), "application/octet-stream", boundary
    )
    parts = _parse_by_hand(_assemble(heads, closing, ranges, DATA), boundary.encode())
    assert [(first, last) for _, (first, last, _), _ in parts] == ranges
    for fields, (first, last, length), data in parts:
        assert length == len(DATA)
        assert fields[b"Content-Type"] == b"application/octet-stream"
        assert data == DATA[first : last + 1]


def test_assembled_body_parses_back_with_the_email_package(impl):
    ranges = [(0, 99), (400, 449), (1300, len(TEXT) - 1)]
    boundary = impl.ranges.make_boundary()
    heads, closing = impl.ranges.multipart_byteranges(ranges, len(TEXT), "text/plain", boundary)
    message = (
        b"Content-Type: "
        + impl.ranges.byteranges_content_type(boundary).encode()
        + b"\r\n\r\n"
        + _assemble(heads, closing, ranges, TEXT)
    )
    parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(message)
    assert parsed.get_content_type() == "multipart/byteranges"
    assert not parsed.defects
    parts = list(parsed.iter_parts())
    assert len(parts) == len(ranges)
    for part, (first, last) in zip(parts, ranges, strict=True):
        assert part["Content-Range"] == f"bytes {first}-{last}/{len(TEXT)}"
        assert part.get_content_type() == "text/plain"
        assert part.get_payload(decode=True) == TEXT[first : last + 1]


def test_a_quoted_boundary_parses_back_with_the_email_package(impl):
    boundary = "it's (a) boundary: =?"
    ranges = [(0, 9), (20, 29)]
    heads, closing = impl.ranges.multipart_byteranges(ranges, len(TEXT), None, boundary)
    message = (
        b"Content-Type: "
        + impl.ranges.byteranges_content_type(boundary).encode()
        + b"\r\n\r\n"
        + _assemble(heads, closing, ranges, TEXT)
    )
    parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(message)
    assert parsed.get_boundary() == boundary
    assert [p["Content-Range"] for p in parsed.iter_parts()] == [
        f"bytes 0-9/{len(TEXT)}",
        f"bytes 20-29/{len(TEXT)}",
    ]


def test_parts_follow_the_given_order(impl):
    heads, _ = impl.ranges.multipart_byteranges([(50, 59), (0, 9)], 100, None, "b")
    assert b"bytes 50-59/100" in heads[0] and b"bytes 0-9/100" in heads[1]


def test_multipart_needs_at_least_one_range(impl):
    with pytest.raises(ValueError):
        impl.ranges.multipart_byteranges([], 100, None, "b")


@pytest.mark.parametrize("span", [(5, 4), (0, 100), (-1, 3)])
def test_multipart_rejects_a_range_outside_the_representation(impl, span):
    with pytest.raises(ValueError):
        impl.ranges.multipart_byteranges([(0, 1), span], 100, None, "b")


@pytest.mark.parametrize(
    "content_type",
    ["text/plain\r\nX-Injected: 1", "text/plain\n", "a\x00b", "", " text/plain", "\u0100"],
)
def test_multipart_rejects_a_content_type_that_is_not_a_field_value(impl, content_type):
    with pytest.raises(InvalidResponseHeader):
        impl.ranges.multipart_byteranges([(0, 1)], 100, content_type, "b")


def test_multipart_rejects_a_content_type_that_is_not_a_str(impl):
    with pytest.raises(TypeError):
        impl.ranges.multipart_byteranges([(0, 1)], 100, b"text/plain", "b")


# --- boundaries (RFC 2046 §5.1.1) --------------------------------------------------------------

VALID_BOUNDARIES = ["b", "x" * 70, "a b", "'()+_,-./:=?", "0123456789ABCDEFabcdef"]
INVALID_BOUNDARIES = [
    "",
    "x" * 71,
    "trailing ",
    " ",
    "semi;colon",
    'quo"te',
    "back\\slash",
    "cr\rlf",
    "caf\xe9",
]


@pytest.mark.parametrize("boundary", VALID_BOUNDARIES)
def test_valid_boundaries_are_accepted(impl, boundary):
    heads, closing = impl.ranges.multipart_byteranges([(0, 0)], 1, None, boundary)
    assert heads[0].startswith(b"--" + boundary.encode() + b"\r\n")
    assert closing == b"\r\n--" + boundary.encode() + b"--\r\n"


@pytest.mark.parametrize("boundary", INVALID_BOUNDARIES)
def test_invalid_boundaries_are_a_value_error(impl, boundary):
    with pytest.raises(ValueError):
        impl.ranges.multipart_byteranges([(0, 0)], 1, None, boundary)
    with pytest.raises(ValueError):
        impl.ranges.byteranges_content_type(boundary)


def test_boundary_must_be_a_str(impl):
    with pytest.raises(TypeError):
        impl.ranges.byteranges_content_type(b"abc")


def test_make_boundary_is_valid_and_token_safe(impl):
    boundary = impl.ranges.make_boundary()
    assert re.fullmatch(r"[0-9a-f]{32}", boundary)
    assert (
        impl.ranges.byteranges_content_type(boundary)
        == f"multipart/byteranges; boundary={boundary}"
    )


def test_make_boundary_is_fresh_each_time(impl):
    assert len({impl.ranges.make_boundary() for _ in range(50)}) == 50


def test_token_boundary_is_not_quoted(impl):
    assert (
        impl.ranges.byteranges_content_type("abc-123_x.y")
        == "multipart/byteranges; boundary=abc-123_x.y"
    )


@pytest.mark.parametrize("boundary", ["a b", "a:b", "a=b", "a?b", "a/b", "a,b", "(ab)"])
def test_boundary_with_a_non_tchar_is_quoted(impl, boundary):
    assert (
        impl.ranges.byteranges_content_type(boundary)
        == f'multipart/byteranges; boundary="{boundary}"'
    )


# --- properties (hypothesis) -------------------------------------------------------------------

OWS = st.sampled_from(["", " ", "\t", "  "])


@st.composite
def range_sets(draw):
    """A valid Range header, the length it is for, and the byte set it asks for.

    Numbers are drawn at random or from the edges that matter: 0, the length and its
    neighbours, and the neighbours of the ends already drawn (for adjacency and overlap).
    """
    length = draw(st.integers(0, 300))
    edges = {0, 1, max(length - 1, 0), length, length + 1}

    def number(low):
        near = sorted(e for e in edges if e >= low)
        return draw(st.one_of(st.integers(low, low + 400), st.sampled_from(near or [low])))

    specs = []
    wanted: set[int] = set()
    for _ in range(draw(st.integers(1, 16))):
        kind = draw(st.sampled_from(["int", "open", "suffix"]))
        if kind == "suffix":
            suffix = number(0)
            specs.append(f"-{suffix}")
            first, last = max(length - suffix, 0), length - 1
            wanted.update(range(first, length))
        else:
            first = number(0)
            if kind == "open":
                specs.append(f"{first}-")
                last = length - 1
                wanted.update(range(first, length))
            else:
                last = number(first)
                specs.append(f"{first}-{last}")
                wanted.update(range(first, min(last + 1, length)))
        edges.update(e for e in (first - 1, first, last, last + 1, last + 2) if e >= 0)
    elements = []
    for spec in specs:
        elements.extend([""] * draw(st.integers(0, 1)))
        elements.append(spec)
    separators = [draw(OWS) + "," + draw(OWS) for _ in elements[1:]]
    value = draw(st.sampled_from(["bytes", "Bytes", "BYTES"])) + "=" + elements[0]
    value += "".join(sep + element for sep, element in zip(separators, elements[1:], strict=True))
    return value, length, wanted


@settings(max_examples=200, deadline=None)
@given(case=range_sets(), as_bytes=st.booleans())
def test_property_result_is_the_coalesced_union_of_satisfiable_bytes(impl, case, as_bytes):
    value, length, wanted = case
    if not wanted:
        with pytest.raises(RangeNotSatisfiable) as info:
            impl.ranges.parse_range(value.encode() if as_bytes else value, length)
        assert info.value.length == length
        return
    result = impl.ranges.parse_range(value.encode() if as_bytes else value, length)
    covered: set[int] = set()
    for first, last in result:
        assert 0 <= first <= last < length
        covered.update(range(first, last + 1))
    for (_, prev_last), (first, _) in itertools.pairwise(result):
        assert first > prev_last + 1  # sorted, no overlap, no adjacency
    assert covered == wanted


def _outcome(ranges, value, length, max_ranges):
    try:
        return ("ok", ranges.parse_range(value, length, max_ranges=max_ranges))
    except RangeNotSatisfiable as exc:
        return ("416", exc.length)
    except Exception as exc:  # noqa: BLE001 - the type is what parity compares
        return ("error", type(exc))


RANGE_ALPHABET = "bytesBYTES=-,0123456789 \t;x\r\n\x00\xa0\u0661"
header_like = st.one_of(
    st.text(alphabet=RANGE_ALPHABET, max_size=40).map(lambda s: "bytes=" + s),
    st.text(alphabet=RANGE_ALPHABET, max_size=40),
    st.lists(
        st.one_of(
            st.from_regex(r"[0-9]{0,20}-[0-9]{0,20}", fullmatch=True),
            st.sampled_from(["", " ", "x", "-", "--"]),
        ),
        max_size=20,
    ).map(lambda parts: "bytes=" + ",".join(parts)),
    range_sets().map(lambda case: case[0]),
)


@settings(max_examples=500, deadline=None)
@given(
    value=header_like,
    encoding=st.sampled_from(["str", "latin-1", "utf-8"]),
    length=st.one_of(st.integers(0, 2000), st.integers(0, 2**63 - 1), st.integers(-5, 2**64)),
    max_ranges=st.one_of(st.integers(1, 20), st.integers(-2, 2**70)),
)
def test_parity_parse_range(py_impl, c_impl, value, encoding, length, max_ranges):
    if encoding != "str":
        value = value.encode(encoding, "replace")
    assert _outcome(c_impl.ranges, value, length, max_ranges) == _outcome(
        py_impl.ranges, value, length, max_ranges
    )


def _call(function, *args):
    try:
        return ("ok", function(*args))
    except Exception as exc:  # noqa: BLE001 - the type is what parity compares
        return ("error", type(exc))


@settings(max_examples=200, deadline=None)
@given(
    spans=st.lists(st.tuples(st.integers(-2, 120), st.integers(-2, 120)), max_size=4),
    length=st.integers(-1, 110),
    content_type=st.one_of(st.none(), st.sampled_from(["text/plain", "a\r\nb", "", "\xe9t\xe9"])),
    boundary=st.one_of(st.text(alphabet="ab '()=?:;\"\xe9", max_size=72), st.just("x" * 70)),
)
def test_parity_framing_helpers(py_impl, c_impl, spans, length, content_type, boundary):
    py, c = py_impl.ranges, c_impl.ranges
    assert _call(c.multipart_byteranges, spans, length, content_type, boundary) == _call(
        py.multipart_byteranges, spans, length, content_type, boundary
    )
    assert _call(c.byteranges_content_type, boundary) == _call(py.byteranges_content_type, boundary)
    for first, last in spans:
        assert _call(c.content_range, first, last, length) == _call(
            py.content_range, first, last, length
        )
    assert _call(c.unsatisfied_range, length) == _call(py.unsatisfied_range, length)
