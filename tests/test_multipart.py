"""``fasthttp.multipart``: the sans-IO ``multipart/form-data`` parser (RFC 7578 over RFC 2046
§5.1.1 framing): well-formed bodies, names and filenames, malformed bodies (400) and limits (413).

Bodies are fed whole, split at every byte, and byte by byte; a property test encodes random
field sets with a small encoder (``helpers_multipart``, test-only) and parses them back at
random chunk boundaries.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from fasthttp.errors import BadRequest, ContentTooLarge, HttpError, HttpProtocolError
from fasthttp.forms import FormLimits
from fasthttp.multipart import FORM_END, PART_END, MultipartParser, PartStart

from helpers_multipart import (
    CHROME,
    CHROME_BOUNDARY,
    CHROME_PARTS,
    CLASSIC,
    CLASSIC_PARTS,
    FIREFOX,
    FIREFOX_BOUNDARY,
    FIREFOX_PARTS,
    encode_multipart,
    forms,
)

# -- helpers ---------------------------------------------------------------------------------------


def collect(events) -> list:
    """Events -> ``[(name, filename, content_type, charset, content), ...]``, checking their order."""
    parts = []
    current = None
    ended = False
    for ev in events:
        assert not ended, f"an event after FORM_END: {ev!r}"
        if type(ev) is PartStart:
            assert current is None
            current = [ev.name, ev.filename, ev.content_type, ev.charset, b""]
        elif type(ev) is bytes:
            assert current is not None and ev
            current[4] += ev
        elif ev is PART_END:
            parts.append(tuple(current))
            current = None
        else:
            assert ev is FORM_END and current is None
            ended = True
    assert ended, "no FORM_END"
    return parts


def parse(body: bytes, boundary: str = "AaB03x", cuts=(), limits: FormLimits | None = None) -> list:
    parser = MultipartParser(boundary, limits or FormLimits())
    events = []
    start = 0
    for cut in sorted(cuts):
        events += parser.feed(body[start:cut])
        start = cut
    events += parser.feed(body[start:])
    events += parser.end()
    return collect(events)


def parse_error(body: bytes, boundary: str = "AaB03x", limits: FormLimits | None = None) -> HttpProtocolError:
    parser = MultipartParser(boundary, limits or FormLimits())
    with pytest.raises((BadRequest, ContentTooLarge)) as info:
        parser.feed(body)
        parser.end()
    return info.value

SAMPLES = [("classic", CLASSIC, "AaB03x", CLASSIC_PARTS), ("chrome", CHROME, CHROME_BOUNDARY, CHROME_PARTS), ("firefox", FIREFOX, FIREFOX_BOUNDARY, FIREFOX_PARTS)]


# -- the multipart parser: well-formed bodies ------------------------------------------------------------


@pytest.mark.parametrize("name, body, boundary, expected", SAMPLES, ids=[s[0] for s in SAMPLES])
def test_sample_bodies_parse_whole(name, body, boundary, expected):
    assert parse(body, boundary) == expected


@pytest.mark.parametrize("name, body, boundary, expected", SAMPLES, ids=[s[0] for s in SAMPLES])
def test_sample_bodies_parse_the_same_split_at_every_byte(name, body, boundary, expected):
    for cut in range(len(body) + 1):
        assert parse(body, boundary, [cut]) == expected, cut


@pytest.mark.parametrize("name, body, boundary, expected", SAMPLES, ids=[s[0] for s in SAMPLES])
def test_sample_bodies_parse_the_same_fed_byte_by_byte(name, body, boundary, expected):
    assert parse(body, boundary, range(len(body))) == expected


def test_classic_body_split_at_every_pair_of_positions():
    n = len(CLASSIC)
    for i in range(0, n + 1, 3):
        for j in range(i, n + 1, 5):
            assert parse(CLASSIC, cuts=[i, j]) == CLASSIC_PARTS


def test_rfc7578_charset_example_without_transfer_encoding():
    # RFC 7578 §4.5, with the content sent as 8-bit UTF-8 (senders must not use a
    # Content-Transfer-Encoding, §4.7).
    body = (
        b"--AaB03x\r\n"
        b'content-disposition: form-data; name="field1"\r\n'
        b"content-type: text/plain;charset=UTF-8\r\n"
        b"\r\n"
        b"Joe owes \xe2\x82\xac100.\r\n"
        b"--AaB03x--"
    )
    assert parse(body) == [("field1", None, "text/plain", "UTF-8", "Joe owes €100.".encode())]


def test_bytearray_and_memoryview_chunks_are_taken():
    parser = MultipartParser("AaB03x")
    events = parser.feed(bytearray(CLASSIC[:50])) + parser.feed(memoryview(CLASSIC)[50:]) + parser.end()
    assert collect(events) == CLASSIC_PARTS


def test_the_events_in_order():
    parser = MultipartParser("AaB03x")
    events = parser.feed(CLASSIC)
    assert [type(e).__name__ for e in events] == ["PartStart", "bytes", "PartEnd", "PartStart", "bytes", "PartEnd", "FormEnd"]
    assert parser.done and parser.end() == []


def test_part_headers_are_a_case_insensitive_view():
    parser = MultipartParser("AaB03x")
    start = parser.feed(CLASSIC)[3]
    assert start.headers["content-type"] == "text/plain"
    assert start.headers.get("Content-Disposition") == 'form-data; name="files"; filename="file1.txt"'


def test_content_is_passed_through_as_it_arrives():
    parser = MultipartParser("AaB03x")
    head = b'--AaB03x\r\nContent-Disposition: form-data; name="f"; filename="x"\r\n\r\n'
    assert [type(e) for e in parser.feed(head)] == [PartStart]
    assert parser.feed(b"x" * 1000) == [b"x" * 1000]
    # Only what could start a delimiter is held back.
    assert parser.feed(b"abc\r\n--AaB") == [b"abc"]
    assert parser.feed(b"X") == [b"\r\n--AaBX"]
    assert parser.feed(b"\r\n--AaB03x--") == [PART_END, FORM_END]


def test_a_preamble_and_an_epilogue_are_ignored():
    body = b"This is the preamble.\r\n--AaB03x\r\n" + CLASSIC.split(b"\r\n", 1)[1] + b"This is the epilogue.\r\n--AaB03x\r\n"
    assert parse(body) == CLASSIC_PARTS


def test_a_preamble_that_mentions_the_boundary_mid_line_is_skipped():
    body = b"see --AaB03x below\r\n" + CLASSIC
    assert parse(body) == CLASSIC_PARTS


def test_transport_padding_after_a_delimiter_is_allowed():
    body = CLASSIC.replace(b"--AaB03x\r\n", b"--AaB03x \t \r\n")
    assert parse(body) == CLASSIC_PARTS


def test_the_crlf_before_a_delimiter_belongs_to_the_delimiter():
    body = b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nline\r\n\r\n\r\n--b--'
    assert parse(body, "b") == [("a", None, "text/plain", None, b"line\r\n\r\n")]


def test_the_boundary_inside_content_but_not_at_a_line_start_is_content():
    content = b"x--AaB03x\n--AaB03x\r--AaB03x \r\n-AaB03x\r\n--AaB03"
    body = b'--AaB03x\r\nContent-Disposition: form-data; name="a"\r\n\r\n' + content + b"\r\n--AaB03x--"
    assert parse(body) == [("a", None, "text/plain", None, content)]


def test_a_form_without_parts():
    # What a browser sends for a form with no successful controls.
    assert parse(b"--AaB03x--\r\n") == []


def test_a_close_delimiter_without_a_final_crlf():
    assert parse(CLASSIC[:-2]) == CLASSIC_PARTS


def test_bytes_after_the_close_delimiter_are_ignored_even_in_later_feeds():
    parser = MultipartParser("AaB03x")
    parser.feed(CLASSIC)
    assert parser.feed(b"--AaB03x\r\ngarbage") == []


def test_a_quoted_boundary_with_spaces():
    body = encode_multipart([("a", "1", None, None)], "with space's")
    assert parse(body, "with space's") == [("a", None, "text/plain", None, b"1")]


def test_a_boundary_of_seventy_characters():
    boundary = "b" * 70
    assert parse(encode_multipart([("a", "1", None, None)], boundary), boundary) == [("a", None, "text/plain", None, b"1")]


def test_a_part_content_type_and_charset():
    body = encode_multipart([("a", "x", None, "Text/Plain; Charset=ISO-8859-1")], "b")
    assert parse(body, "b") == [("a", None, "text/plain", "ISO-8859-1", b"x")]


def test_part_header_names_are_case_insensitive_and_other_fields_are_kept():
    body = b'--b\r\nCONTENT-DISPOSITION: form-data; name="a"\r\nX-Extra: 1\r\n\r\nv\r\n--b--'
    parser = MultipartParser("b")
    start = parser.feed(body)[0]
    assert start.name == "a" and start.headers["x-extra"] == "1"


def test_identity_transfer_encodings_are_accepted():
    for cte in (b"binary", b"8bit", b"7BIT"):
        body = b'--b\r\nContent-Disposition: form-data; name="a"\r\nContent-Transfer-Encoding: ' + cte + b"\r\n\r\nv\r\n--b--"
        assert parse(body, "b") == [("a", None, "text/plain", None, b"v")]


# -- names and filenames --------------------------------------------------------------------------------


def one_part(disposition: bytes) -> PartStart:
    parser = MultipartParser("b")
    return parser.feed(b"--b\r\nContent-Disposition: " + disposition + b"\r\n\r\nv\r\n--b--")[0]


def test_utf8_names_and_filenames_as_browsers_send_them():
    start = one_part('form-data; name="ñame"; filename="данные.txt"'.encode())
    assert start.name == "ñame" and start.filename == "данные.txt"


def test_browser_percent_escapes_for_quote_cr_and_lf_are_decoded():
    start = one_part(b'form-data; name="a%22b%0D%0Ac"; filename="%22x%0a%0d.txt"')
    assert start.name == 'a"b\r\nc' and start.filename == '"x\n\r.txt'


def test_other_percent_sequences_are_left_alone():
    # Browsers do not escape "%": decoding %41 would corrupt a real "50%41.txt".
    assert one_part(b'form-data; name="f"; filename="50%41 100%.txt"').filename == "50%41 100%.txt"


def test_a_backslash_escaped_quote_from_legacy_encoders():
    assert one_part(b'form-data; name="f"; filename="say \\"hi\\".txt"').filename == 'say "hi".txt'


def test_a_windows_path_keeps_its_backslashes():
    assert one_part(b'form-data; name="f"; filename="C:\\Users\\me\\a.txt"').filename == "C:\\Users\\me\\a.txt"


def test_filename_star_wins_over_filename():
    # RFC 6266 §4.3, RFC 8187 ext-value.
    start = one_part(b"form-data; name=\"f\"; filename=\"EURO rates.txt\"; filename*=UTF-8''%e2%82%ac%20rates.txt")
    assert start.filename == "€ rates.txt"


def test_filename_star_in_iso_8859_1_with_a_language():
    assert one_part(b"form-data; name=\"f\"; filename*=iso-8859-1'en'%A3%20rates").filename == "£ rates"


def test_a_header_value_that_is_not_utf8_is_read_as_iso_8859_1():
    assert one_part(b'form-data; name="f"; filename="caf\xe9.txt"').filename == "café.txt"


def test_an_unquoted_name_token():
    start = one_part(b"form-data; name=field")
    assert start.name == "field" and start.filename is None


@pytest.mark.parametrize(
    "disposition",
    [
        b"form-data; name=\"f\"; filename*=UTF-8'%e2%82%ac",
        b"form-data; name=\"f\"; filename*=UTF-16''%00a",
        b"form-data; name=\"f\"; filename*=UTF-8''%ff",
    ],
    ids=["malformed", "charset", "not-utf8"],
)
def test_a_bad_filename_star_is_a_400(disposition):
    with pytest.raises(BadRequest) as info:
        one_part(disposition)
    assert info.value.status == 400


# -- the multipart parser: malformed bodies are 400 --------------------------------------------------------


@pytest.mark.parametrize("boundary", ["", "b" * 71, "ends with space ", "semi;colon", 'quo"te', "tab\there", "é"])
def test_an_invalid_boundary_is_a_400(boundary):
    with pytest.raises(BadRequest) as info:
        MultipartParser(boundary)
    assert info.value.status == 400


MALFORMED = {
    "no close delimiter": CLASSIC[: -len(b"--AaB03x--\r\n")],
    "cut in a part's content": CLASSIC[:60],
    "cut in a part's headers": CLASSIC[:30],
    "cut after a delimiter": b"--AaB03x",
    "no delimiter at all": b"just some text\r\n",
    "empty body": b"",
    "text right after the boundary": b"--AaB03xyz\r\n" + CLASSIC,
    "a later delimiter followed by text": CLASSIC.replace(b"\r\n--AaB03x\r\nContent-Disposition: form-data; name=\"files\"", b"\r\n--AaB03x-x\r\nContent-Disposition: form-data; name=\"files\""),
    "padding then dashes": CLASSIC.replace(b"--AaB03x--", b"--AaB03x --"),
    "bare LF after the boundary": CLASSIC.replace(b"--AaB03x\r\nContent", b"--AaB03x\nContent", 1),
    "no Content-Disposition": b"--AaB03x\r\nContent-Type: text/plain\r\n\r\nv\r\n--AaB03x--",
    "no header at all": b"--AaB03x\r\n\r\nv\r\n--AaB03x--",
    "two Content-Dispositions": b'--AaB03x\r\nContent-Disposition: form-data; name="a"\r\nContent-Disposition: form-data; name="b"\r\n\r\nv\r\n--AaB03x--',
    "not form-data": b'--AaB03x\r\nContent-Disposition: attachment; name="a"\r\n\r\nv\r\n--AaB03x--',
    "no name": b'--AaB03x\r\nContent-Disposition: form-data; filename="a"\r\n\r\nv\r\n--AaB03x--',
    "malformed disposition": b'--AaB03x\r\nContent-Disposition: form-data; name="a\r\n\r\nv\r\n--AaB03x--',
    "duplicate name parameter": b'--AaB03x\r\nContent-Disposition: form-data; name="a"; name="b"\r\n\r\nv\r\n--AaB03x--',
    "header line without colon": b'--AaB03x\r\nContent-Disposition: form-data; name="a"\r\nbogus\r\n\r\nv\r\n--AaB03x--',
    "space before colon": b'--AaB03x\r\nContent-Disposition : form-data; name="a"\r\n\r\nv\r\n--AaB03x--',
    "obs-fold": b'--AaB03x\r\nContent-Disposition: form-data;\r\n name="a"\r\n\r\nv\r\n--AaB03x--',
    "bare CR in a header": b'--AaB03x\r\nContent-Disposition: form-data; name="a"\rX: 1\r\n\r\nv\r\n--AaB03x--',
    "malformed part Content-Type": b'--AaB03x\r\nContent-Disposition: form-data; name="a"\r\nContent-Type: text\r\n\r\nv\r\n--AaB03x--',
    "two part Content-Types": b'--AaB03x\r\nContent-Disposition: form-data; name="a"\r\nContent-Type: text/plain\r\nContent-Type: text/html\r\n\r\nv\r\n--AaB03x--',
    "base64 transfer encoding": b'--AaB03x\r\nContent-Disposition: form-data; name="a"\r\nContent-Transfer-Encoding: base64\r\n\r\ndg==\r\n--AaB03x--',
}


@pytest.mark.parametrize("body", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_framing_is_a_400(body):
    error = parse_error(body)
    assert error.status == 400 and isinstance(error, HttpError)


def test_rfc7578_quoted_printable_example_is_refused():
    # RFC 7578 §4.5 shows it, §4.7 deprecates it: the content cannot be passed on as is.
    body = (
        b"--AaB03x\r\n"
        b'content-disposition: form-data; name="field1"\r\n'
        b"content-type: text/plain;charset=UTF-8\r\n"
        b"content-transfer-encoding: quoted-printable\r\n"
        b"\r\n"
        b"Joe owes =E2=82=AC100.\r\n"
        b"--AaB03x--"
    )
    assert parse_error(body).status == 400


def test_an_error_is_raised_again_by_every_later_call():
    parser = MultipartParser("AaB03x")
    with pytest.raises(BadRequest) as first:
        parser.feed(MALFORMED["no name"])
    with pytest.raises(BadRequest) as again:
        parser.feed(b"more")
    assert again.value is first.value
    with pytest.raises(BadRequest):
        parser.end()


# -- the multipart parser: limits are 413 -------------------------------------------------------------------


def test_too_many_parts():
    body = encode_multipart([(f"f{i}", "v", None, None) for i in range(4)], "b")
    assert len(parse(body, "b", limits=FormLimits(max_parts=4))) == 4
    error = parse_error(body, "b", FormLimits(max_parts=3))
    assert error.status == 413 and "3 parts" in error.detail


def test_a_part_header_block_too_large():
    body = encode_multipart([("n" * 100, "v", None, None)], "b")
    header_block = len(b'Content-Disposition: form-data; name=""\r\n') + 100
    assert parse(body, "b", limits=FormLimits(max_part_header_size=header_block))
    assert parse_error(body, "b", FormLimits(max_part_header_size=header_block - 1)).status == 413


def test_an_unterminated_part_header_block_is_refused_as_soon_as_it_passes_the_limit():
    parser = MultipartParser("b", FormLimits(max_part_header_size=64))
    parser.feed(b"--b\r\nX-Long: ")
    with pytest.raises(ContentTooLarge) as info:
        for _ in range(10):
            parser.feed(b"x" * 10)
    assert info.value.status == 413


def test_endless_transport_padding_is_refused():
    parser = MultipartParser("b", FormLimits(max_part_header_size=64))
    with pytest.raises(BadRequest):
        parser.feed(b"--b" + b" " * 65)


def test_a_text_field_too_large():
    body = encode_multipart([("a", "x" * 10, None, None), ("f", "y" * 100, "f.bin", None)], "b")
    assert parse(body, "b", limits=FormLimits(max_field_size=10))
    error = parse_error(body, "b", FormLimits(max_field_size=9))
    assert error.status == 413 and "field 'a'" in error.detail


def test_a_file_too_large():
    body = encode_multipart([("a", "x" * 100, None, None), ("f", "y" * 10, "f.bin", None)], "b")
    assert parse(body, "b", limits=FormLimits(max_file_size=10))
    error = parse_error(body, "b", FormLimits(max_file_size=9))
    assert error.status == 413 and "file 'f'" in error.detail


def test_a_file_too_large_is_refused_before_its_end_arrives():
    parser = MultipartParser("b", FormLimits(max_file_size=100))
    parser.feed(b'--b\r\nContent-Disposition: form-data; name="f"; filename="x"\r\n\r\n')
    parser.feed(b"y" * 100)
    with pytest.raises(ContentTooLarge) as info:
        parser.feed(b"y")
    assert info.value.status == 413


def test_the_whole_form_too_large_preamble_and_epilogue_included():
    body = b"preamble\r\n" + CLASSIC + b"epilogue"
    assert parse(body, limits=FormLimits(max_size=len(body)))
    assert parse_error(body, limits=FormLimits(max_size=len(body) - 1)).status == 413


# -- names, values and content round-trip (property) ------------------------------------------------------


def expected_parts(fields):
    out = []
    for name, value, filename, content_type in fields:
        data = value.encode() if isinstance(value, str) else value
        ctype, charset = "text/plain", None
        if content_type == "text/plain; charset=utf-8":
            charset = "utf-8"
        elif content_type is not None:
            ctype = content_type
        out.append((name, filename, ctype, charset, data))
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forms())
def test_random_forms_parse_back_identically_at_random_chunk_boundaries(form):
    fields, boundary, body, cuts = form
    assert parse(body, boundary, cuts) == expected_parts(fields)
