"""``fasthttp.forms``: urlencoded bodies, the sans-IO ``multipart/form-data`` parser (RFC 7578
over RFC 2046 §5.1.1 framing), the collected :class:`FormData` with spooled files, and the
streaming :class:`MultipartReader`.

Multipart bodies are fed whole, split at every byte, and byte by byte; a property test encodes
random field sets with a small encoder (below, test-only) and parses them back at random
chunk boundaries.
"""

from __future__ import annotations

import asyncio
import os
import string

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fasthttp.forms import (
    FORM_END,
    PART_END,
    FormData,
    FormError,
    FormLimits,
    MultipartParser,
    MultipartReader,
    PartStart,
    UploadFile,
    codec_for,
    parse_urlencoded,
    read_multipart,
)
from fasthttp.errors import HttpError

# -- helpers ---------------------------------------------------------------------------------------


def encode_multipart(fields, boundary: str) -> bytes:
    """A test-only multipart/form-data encoder, written as browsers do (WHATWG HTML: '"', CR
    and LF in names and filenames percent-encoded, headers in UTF-8).

    *fields*: ``(name, value, filename, content_type)``; *value* is str (UTF-8) or bytes.
    """

    def esc(text: str) -> bytes:
        return text.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A").encode()

    out = []
    for name, value, filename, content_type in fields:
        out.append(b"--" + boundary.encode() + b"\r\n")
        disposition = b'Content-Disposition: form-data; name="' + esc(name) + b'"'
        if filename is not None:
            disposition += b'; filename="' + esc(filename) + b'"'
        out.append(disposition + b"\r\n")
        if content_type is not None:
            out.append(b"Content-Type: " + content_type.encode() + b"\r\n")
        out.append(b"\r\n")
        out.append(value.encode() if isinstance(value, str) else value)
        out.append(b"\r\n")
    out.append(b"--" + boundary.encode() + b"--\r\n")
    return b"".join(out)


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


def parse_error(body: bytes, boundary: str = "AaB03x", limits: FormLimits | None = None) -> FormError:
    parser = MultipartParser(boundary, limits or FormLimits())
    with pytest.raises(FormError) as info:
        parser.feed(body)
        parser.end()
    return info.value


def run(coro):
    return asyncio.run(coro)


async def chunked(data: bytes, size: int = 7):
    for i in range(0, len(data), size):
        yield data[i : i + size]


# The form of RFC 7578 §4 / HTML 4.01 §17.13.4.2: a text field and one file.
CLASSIC = (
    b"--AaB03x\r\n"
    b'Content-Disposition: form-data; name="submit-name"\r\n'
    b"\r\n"
    b"Larry\r\n"
    b"--AaB03x\r\n"
    b'Content-Disposition: form-data; name="files"; filename="file1.txt"\r\n'
    b"Content-Type: text/plain\r\n"
    b"\r\n"
    b"... contents of file1.txt ...\r\n"
    b"--AaB03x--\r\n"
)
CLASSIC_PARTS = [
    ("submit-name", None, "text/plain", None, b"Larry"),
    ("files", "file1.txt", "text/plain", None, b"... contents of file1.txt ..."),
]

# What Chrome sends for <input name=title> <input type=file name=doc> <input type=file name=empty>
# (the last left empty): boundary ----WebKitFormBoundary + 16 characters.
CHROME_BOUNDARY = "----WebKitFormBoundaryePkpFF7tjBAqx29L"
CHROME = (
    b"------WebKitFormBoundaryePkpFF7tjBAqx29L\r\n"
    b'Content-Disposition: form-data; name="title"\r\n'
    b"\r\n"
    b"Caf\xc3\xa9 \xe2\x82\xac\r\n"
    b"------WebKitFormBoundaryePkpFF7tjBAqx29L\r\n"
    b'Content-Disposition: form-data; name="doc"; filename="r\xc3\xa9sum\xc3\xa9 %22final%22.pdf"\r\n'
    b"Content-Type: application/pdf\r\n"
    b"\r\n"
    b"%PDF-1.4\r\n\x00\x01\xff\r\n--not a boundary\r\n"
    b"------WebKitFormBoundaryePkpFF7tjBAqx29L\r\n"
    b'Content-Disposition: form-data; name="empty"; filename=""\r\n'
    b"Content-Type: application/octet-stream\r\n"
    b"\r\n"
    b"\r\n"
    b"------WebKitFormBoundaryePkpFF7tjBAqx29L--\r\n"
)
CHROME_PARTS = [
    ("title", None, "text/plain", None, "Café €".encode()),
    ("doc", 'résumé "final".pdf', "application/pdf", None, b"%PDF-1.4\r\n\x00\x01\xff\r\n--not a boundary"),
    ("empty", "", "application/octet-stream", None, b""),
]

# Firefox: a boundary of dashes and digits (older releases) or ----geckoformboundary + hex.
FIREFOX_BOUNDARY = "---------------------------735323031399963166993862150"
FIREFOX = (
    b"-----------------------------735323031399963166993862150\r\n"
    b'Content-Disposition: form-data; name="text1"\r\n'
    b"\r\n"
    b"text default\r\n"
    b"-----------------------------735323031399963166993862150\r\n"
    b'Content-Disposition: form-data; name="file1"; filename="a.txt"\r\n'
    b"Content-Type: text/plain\r\n"
    b"\r\n"
    b"Content of a.txt.\r\n\r\n"
    b"-----------------------------735323031399963166993862150\r\n"
    b'Content-Disposition: form-data; name="file2"; filename="a.html"\r\n'
    b"Content-Type: text/html\r\n"
    b"\r\n"
    b"<!DOCTYPE html><title>Content of a.html.</title>\r\n\r\n"
    b"-----------------------------735323031399963166993862150--\r\n"
)
FIREFOX_PARTS = [
    ("text1", None, "text/plain", None, b"text default"),
    ("file1", "a.txt", "text/plain", None, b"Content of a.txt.\r\n"),
    ("file2", "a.html", "text/html", None, b"<!DOCTYPE html><title>Content of a.html.</title>\r\n"),
]

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
    with pytest.raises(FormError) as info:
        one_part(disposition)
    assert info.value.status == 400


# -- the multipart parser: malformed bodies are 400 --------------------------------------------------------


@pytest.mark.parametrize("boundary", ["", "b" * 71, "ends with space ", "semi;colon", 'quo"te', "tab\there", "é"])
def test_an_invalid_boundary_is_a_400(boundary):
    with pytest.raises(FormError) as info:
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
    with pytest.raises(FormError) as first:
        parser.feed(MALFORMED["no name"])
    with pytest.raises(FormError) as again:
        parser.feed(b"more")
    assert again.value is first.value
    with pytest.raises(FormError):
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
    with pytest.raises(FormError) as info:
        for _ in range(10):
            parser.feed(b"x" * 10)
    assert info.value.status == 413


def test_endless_transport_padding_is_refused():
    parser = MultipartParser("b", FormLimits(max_part_header_size=64))
    with pytest.raises(FormError):
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
    with pytest.raises(FormError) as info:
        parser.feed(b"y")
    assert info.value.status == 413


def test_the_whole_form_too_large_preamble_and_epilogue_included():
    body = b"preamble\r\n" + CLASSIC + b"epilogue"
    assert parse(body, limits=FormLimits(max_size=len(body)))
    assert parse_error(body, limits=FormLimits(max_size=len(body) - 1)).status == 413


# -- names, values and content round-trip (property) ------------------------------------------------------

# Names as a browser may send them: any text but controls (CR, LF and '"' are escaped by the
# encoder). "%" and "\\" are left out: browsers do not escape them, so a name holding "%22" or
# "\\\\" reads back differently (see the filename tests above for those rules).
_NAME_CHARS = st.one_of(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="%\\"),
    st.sampled_from('\r\n"'),
)
_NAME = st.text(_NAME_CHARS, min_size=1, max_size=12)
_FIELD = st.one_of(
    st.tuples(_NAME, st.text(st.characters(blacklist_categories=("Cs",)), max_size=40), st.none(), st.none()),
    st.tuples(
        _NAME,
        st.binary(max_size=200),
        _NAME,
        st.sampled_from(["application/octet-stream", "image/png", "text/plain; charset=utf-8"]),
    ),
)
_BOUNDARY_CHARS = string.ascii_letters + string.digits + "'()+_,-./:=?"


@st.composite
def forms(draw):
    fields = draw(st.lists(_FIELD, max_size=6))
    boundary = draw(st.text(st.sampled_from(_BOUNDARY_CHARS), min_size=1, max_size=70))
    for _, value, _, _ in fields:
        assume(boundary.encode() not in (value.encode() if isinstance(value, str) else value))
    body = encode_multipart(fields, boundary)
    cuts = draw(st.lists(st.integers(0, len(body)), max_size=8))
    return fields, boundary, body, cuts


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


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forms(), st.integers(1, 64))
def test_random_forms_collect_into_form_data_with_spooling(form, spool_size):
    fields, boundary, body, cuts = form

    async def pieces():
        start = 0
        for cut in sorted(cuts):
            yield body[start:cut]
            start = cut
        yield body[start:]

    collected = run(read_multipart(pieces(), boundary, FormLimits(spool_size=spool_size)))
    try:
        got = []
        for name, value in collected.items():
            if isinstance(value, UploadFile):
                got.append((name, value.filename, value.file.read()))
            else:
                got.append((name, None, value))
        want = [(n, f, v) for n, v, f, _ in fields]
        assert got == want
    finally:
        collected.close()


# -- read_multipart: FormData and UploadFile ------------------------------------------------------------------


def test_read_multipart_collects_fields_and_files():
    form = run(read_multipart(chunked(CHROME), CHROME_BOUNDARY))
    try:
        assert form["title"] == "Café €"
        doc = form["doc"]
        assert isinstance(doc, UploadFile)
        assert doc.name == "doc" and doc.filename == 'résumé "final".pdf' and doc.content_type == "application/pdf"
        assert doc.headers["content-type"] == "application/pdf"
        assert doc.size == len(CHROME_PARTS[1][4]) and doc.in_memory
        assert run(doc.read()) == CHROME_PARTS[1][4]
        assert form["empty"].filename == "" and form["empty"].size == 0
        assert form.keys() == ["title", "doc", "empty"] and len(form) == 3
        assert form.files == [doc, form["empty"]]
    finally:
        form.close()
    assert doc.closed


def test_a_file_past_the_spool_size_moves_to_an_anonymous_temporary_file(tmp_path):
    content = os.urandom(300_000)
    body = encode_multipart([("f", content, "big.bin", "application/octet-stream")], "b")
    form = run(read_multipart(chunked(body, 65536), "b", FormLimits(spool_size=100_000, spool_dir=str(tmp_path))))
    upload = form["f"]
    try:
        assert not upload.in_memory and upload.size == len(content)
        stat = os.fstat(upload.file.fileno())
        assert stat.st_size == len(content)
        assert stat.st_nlink == 0  # never linked into the directory: nothing to leak
        assert os.listdir(tmp_path) == []

        async def read_back():
            first = await upload.read(10)
            await upload.seek(0)
            return first, await upload.read()

        first, whole = run(read_back())
        assert first == content[:10] and whole == content
    finally:
        form.close()
    assert upload.closed


def test_small_files_stay_in_memory():
    body = encode_multipart([("f", b"x" * 1000, "small.bin", None)], "b")
    form = run(read_multipart(chunked(body), "b", FormLimits(spool_size=1000)))
    assert form["f"].in_memory and form["f"].file.read() == b"x" * 1000
    form.close()


def test_files_move_to_disk_early_when_the_memory_budget_runs_out():
    body = encode_multipart([(f"f{i}", b"x" * 600, f"{i}.bin", None) for i in range(3)], "b")
    form = run(read_multipart(chunked(body, 100), "b", FormLimits(spool_size=1000, max_memory=1000)))
    try:
        assert [f.in_memory for f in form.files] == [True, False, False]
        assert all(f.file.read() == b"x" * 600 for f in form.files)
    finally:
        form.close()


def test_text_fields_past_the_memory_budget_are_a_413():
    body = encode_multipart([(f"a{i}", "x" * 600, None, None) for i in range(2)], "b")
    with pytest.raises(FormError) as info:
        run(read_multipart(chunked(body), "b", FormLimits(max_memory=1000)))
    assert info.value.status == 413


def test_files_created_before_an_error_are_closed():
    created = []
    original = UploadFile.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        created.append(self)

    body = encode_multipart([("f", b"data", "a.bin", None), ("g", b"data", "b.bin", None)], "b")[:-10]
    UploadFile.__init__ = spy
    try:
        with pytest.raises(FormError):
            run(read_multipart(chunked(body), "b"))
    finally:
        UploadFile.__init__ = original
    assert len(created) == 2 and all(f.closed for f in created)


def test_text_fields_are_decoded_with_their_charset():
    body = encode_multipart([("a", "caf\xe9".encode("latin-1"), None, "text/plain; charset=iso-8859-1")], "b")
    assert run(read_multipart(chunked(body), "b"))["a"] == "café"


def test_a_text_field_that_is_not_valid_utf8_is_a_400():
    body = encode_multipart([("a", b"\xff\xfe", None, None)], "b")
    with pytest.raises(FormError) as info:
        run(read_multipart(chunked(body), "b"))
    assert info.value.status == 400


def test_a_text_field_in_an_unknown_charset_is_a_415():
    body = encode_multipart([("a", b"x", None, "text/plain; charset=klingon")], "b")
    with pytest.raises(HttpError) as info:
        run(read_multipart(chunked(body), "b"))
    assert info.value.status == 415


def test_read_multipart_stops_at_the_close_delimiter():
    async def body_then_stall():
        yield CLASSIC
        await asyncio.Event().wait()  # a client that never ends its body: not waited for
        yield b""  # pragma: no cover

    form = run(asyncio.wait_for(read_multipart(body_then_stall(), "AaB03x"), 5))
    assert form["submit-name"] == "Larry"
    form.close()


def test_an_upload_file_closes_itself_when_collected():
    upload = UploadFile("x")
    file = upload.file
    del upload
    assert file.closed


# -- FormData ----------------------------------------------------------------------------------------------


def test_form_data_is_multi_valued():
    form = FormData([("a", "1"), ("b", "2"), ("a", "3")])
    assert form["a"] == "1" and form.get("a") == "1" and form.getall("a") == ["1", "3"]
    assert form.get("zzz") is None and form.get("zzz", "d") == "d" and form.getall("zzz") == []
    assert "b" in form and "zzz" not in form
    assert list(form) == ["a", "b"] and form.keys() == ["a", "b"] and form.values() == ["1", "2"]
    assert form.items() == [("a", "1"), ("b", "2"), ("a", "3")] and len(form) == 3
    assert form == FormData([("a", "1"), ("b", "2"), ("a", "3")]) and form != FormData()
    with pytest.raises(KeyError):
        form["zzz"]


def test_form_data_to_dict_lists_repeated_names_only():
    form = FormData([("a", "1"), ("b", "2"), ("a", "3"), ("c", "x"), ("c", "y"), ("c", "z")])
    assert form.to_dict() == {"a": ["1", "3"], "b": "2", "c": ["x", "y", "z"]}


# -- urlencoded ------------------------------------------------------------------------------------------------


def test_urlencoded_pairs_in_order_with_repeats():
    assert parse_urlencoded(b"a=1&b=2&a=3") == [("a", "1"), ("b", "2"), ("a", "3")]


def test_urlencoded_plus_is_space_and_percent_escapes_are_utf8():
    assert parse_urlencoded(b"q=caf%C3%A9+au+lait&x%2By=1%2B1") == [("q", "café au lait"), ("x+y", "1+1")]


def test_urlencoded_empty_pieces_are_skipped_and_a_bare_name_has_an_empty_value():
    assert parse_urlencoded(b"&a=&&b&c==x&") == [("a", ""), ("b", ""), ("c", "=x")]


def test_urlencoded_an_empty_body_has_no_fields():
    assert parse_urlencoded(b"") == []


def test_urlencoded_invalid_escapes_are_kept_literally():
    assert parse_urlencoded(b"a=%zz%4") == [("a", "%zz%4")]


def test_urlencoded_in_another_charset():
    assert parse_urlencoded(b"a=caf%E9", "iso-8859-1") == [("a", "café")]


@pytest.mark.parametrize("body", [b"a=%C3%28", b"a=\xff", b"%ff=1"], ids=["escaped", "raw", "name"])
def test_urlencoded_text_not_valid_utf8_is_a_400(body):
    with pytest.raises(FormError) as info:
        parse_urlencoded(body)
    assert info.value.status == 400


def test_urlencoded_too_many_fields_is_a_413():
    assert len(parse_urlencoded(b"&".join(b"a=1" for _ in range(5)) + b"&&&", limits=FormLimits(max_parts=5))) == 5
    with pytest.raises(FormError) as info:
        parse_urlencoded(b"&".join(b"a=1" for _ in range(6)), limits=FormLimits(max_parts=5))
    assert info.value.status == 413


def test_urlencoded_body_past_the_memory_budget_is_a_413():
    with pytest.raises(FormError) as info:
        parse_urlencoded(b"a=" + b"x" * 100, limits=FormLimits(max_memory=100))
    assert info.value.status == 413


@pytest.mark.parametrize("charset", ["klingon", "utf-7", "UTF7", "unicode_escape", "rot13", "base64"])
def test_unknown_or_unsafe_charsets_are_a_415(charset):
    with pytest.raises(HttpError) as info:
        codec_for(charset)
    assert info.value.status == 415


# -- MultipartReader: streaming ---------------------------------------------------------------------------------


def test_streaming_parts_in_order():
    async def scenario():
        out = []
        async for part in MultipartReader(chunked(FIREFOX, 5), FIREFOX_BOUNDARY):
            pieces = [chunk async for chunk in part.stream()]
            assert all(pieces)
            out.append((part.name, part.filename, part.content_type, b"".join(pieces)))
        return out

    assert run(scenario()) == [(n, f, c, d) for n, f, c, _, d in FIREFOX_PARTS]


def test_streaming_read_and_text():
    async def scenario():
        reader = MultipartReader(chunked(CHROME, 3), CHROME_BOUNDARY)
        title = await reader.next_part()
        text = await title.text()
        doc = await reader.next_part()
        data = await doc.read()
        again = await doc.read()  # the content is not kept: a second read is empty
        return text, data, again

    assert run(scenario()) == ("Café €", CHROME_PARTS[1][4], b"")


def test_streaming_skips_what_a_handler_leaves_unread():
    async def scenario():
        names = []
        async for part in MultipartReader(chunked(CHROME, 4), CHROME_BOUNDARY):
            names.append(part.name)
        return names

    assert run(scenario()) == ["title", "doc", "empty"]


def test_streaming_a_part_after_moving_on_is_an_error():
    async def scenario():
        reader = MultipartReader(chunked(CLASSIC), "AaB03x")
        first = await reader.next_part()
        await reader.next_part()
        with pytest.raises(RuntimeError):
            await first.read()

    run(scenario())


def test_streaming_a_body_without_its_close_delimiter_is_a_400():
    async def scenario():
        async for part in MultipartReader(chunked(MALFORMED["no close delimiter"]), "AaB03x"):
            await part.read()

    with pytest.raises(FormError) as info:
        run(scenario())
    assert info.value.status == 400


def test_streaming_enforces_the_limits():
    body = encode_multipart([("f", b"y" * 100, "f.bin", None)], "b")

    async def scenario():
        async for part in MultipartReader(chunked(body), "b", FormLimits(max_file_size=50)):
            await part.read()

    with pytest.raises(FormError) as info:
        run(scenario())
    assert info.value.status == 413
