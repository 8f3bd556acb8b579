"""Multipart bodies for the tests of ``fasthttp.multipart`` and ``fasthttp.forms``: a test-only
encoder, sample bodies as browsers send them, and a hypothesis strategy of random forms."""

from __future__ import annotations

import string

from hypothesis import assume
from hypothesis import strategies as st

__all__ = (
    "encode_multipart",
    "forms",
    "CLASSIC",
    "CLASSIC_PARTS",
    "CHROME",
    "CHROME_BOUNDARY",
    "CHROME_PARTS",
    "FIREFOX",
    "FIREFOX_BOUNDARY",
    "FIREFOX_PARTS",
)


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
