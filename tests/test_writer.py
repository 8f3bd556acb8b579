"""The response-head writer (``fasthttp.writer``): status lines, Date, fields, heads, responses.

Every test runs against both twins through the ``impl`` fixture; the parity tests at the end feed
the same generated inputs to both and require equal bytes or equal error types.
"""

from __future__ import annotations

import array
import contextlib
import datetime
import email.utils
import enum
import inspect
import re
import types
from collections.abc import Iterator, Mapping

import httptools
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fasthttp.errors import InvalidResponseHeader

# 1994-11-06 08:49:37 UTC, the example of RFC 9110 §5.6.7.
RFC_EXAMPLE_SECOND = 784111777
RFC_EXAMPLE_DATE = b"Sun, 06 Nov 1994 08:49:37 GMT"


@contextlib.contextmanager
def frozen(module: types.ModuleType, now: float) -> Iterator[None]:
    """Stop the writer's clock at *now*: both twins read the time through ``writer._clock``."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(module, "_clock", lambda: now)
        yield


# --- status_line --------------------------------------------------------------------------------

REASONS = {
    100: b"Continue",
    101: b"Switching Protocols",
    103: b"Early Hints",
    200: b"OK",
    201: b"Created",
    202: b"Accepted",
    203: b"Non-Authoritative Information",
    204: b"No Content",
    205: b"Reset Content",
    206: b"Partial Content",
    207: b"Multi-Status",
    208: b"Already Reported",
    226: b"IM Used",
    300: b"Multiple Choices",
    301: b"Moved Permanently",
    302: b"Found",
    303: b"See Other",
    304: b"Not Modified",
    305: b"Use Proxy",
    307: b"Temporary Redirect",
    308: b"Permanent Redirect",
    400: b"Bad Request",
    401: b"Unauthorized",
    402: b"Payment Required",
    403: b"Forbidden",
    404: b"Not Found",
    405: b"Method Not Allowed",
    406: b"Not Acceptable",
    407: b"Proxy Authentication Required",
    408: b"Request Timeout",
    409: b"Conflict",
    410: b"Gone",
    411: b"Length Required",
    412: b"Precondition Failed",
    413: b"Content Too Large",
    414: b"URI Too Long",
    415: b"Unsupported Media Type",
    416: b"Range Not Satisfiable",
    417: b"Expectation Failed",
    418: b"I'm a teapot",
    421: b"Misdirected Request",
    422: b"Unprocessable Content",
    425: b"Too Early",
    426: b"Upgrade Required",
    428: b"Precondition Required",
    429: b"Too Many Requests",
    431: b"Request Header Fields Too Large",
    451: b"Unavailable For Legal Reasons",
    500: b"Internal Server Error",
    501: b"Not Implemented",
    502: b"Bad Gateway",
    503: b"Service Unavailable",
    504: b"Gateway Timeout",
    505: b"HTTP Version Not Supported",
    506: b"Variant Also Negotiates",
    507: b"Insufficient Storage",
    508: b"Loop Detected",
    510: b"Not Extended",
    511: b"Network Authentication Required",
}


def test_status_line_is_http_1_1_code_and_reason(impl):
    assert impl.writer.status_line(200) == b"HTTP/1.1 200 OK\r\n"


@pytest.mark.parametrize(("code", "reason"), sorted(REASONS.items()))
def test_status_line_carries_the_registered_reason_phrase(impl, code, reason):
    assert impl.writer.status_line(code) == b"HTTP/1.1 %d %s\r\n" % (code, reason)


@pytest.mark.parametrize("code", [102, 199, 209, 306, 420, 499, 509, 599, 600, 999])
def test_status_line_of_an_unregistered_code_keeps_the_space_before_an_empty_reason(impl, code):
    assert impl.writer.status_line(code) == b"HTTP/1.1 %d \r\n" % code


@pytest.mark.parametrize(
    "status",
    [0, 99, -200, 1000, 10**30, -(10**30), True, 200.0, "200", b"200", None],
    ids=repr,
)
def test_status_line_rejects_what_is_not_an_int_in_100_to_999(impl, status):
    with pytest.raises(ValueError):
        impl.writer.status_line(status)


def test_status_line_accepts_an_int_enum_by_value(impl):
    class Status(enum.IntEnum):
        NOT_FOUND = 404

    assert impl.writer.status_line(Status.NOT_FOUND) == b"HTTP/1.1 404 Not Found\r\n"


def test_status_line_is_cached_per_code(impl):
    first = impl.writer.status_line(404)
    assert impl.writer.status_line(404) == first
    assert impl.writer.status_line(404) is first


# --- http_date ----------------------------------------------------------------------------------

IMF_FIXDATE = re.compile(
    rb"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d "
    rb"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT"
)


def test_http_date_is_an_imf_fixdate_of_now(impl):
    value = impl.writer.http_date()
    assert IMF_FIXDATE.fullmatch(value)
    parsed = email.utils.parsedate_to_datetime(value.decode("ascii"))
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((parsed - now).total_seconds()) < 3


def test_http_date_formats_the_rfc_9110_example(impl):
    with frozen(impl.writer, RFC_EXAMPLE_SECOND + 0.25):
        assert impl.writer.http_date() == RFC_EXAMPLE_DATE


def test_http_date_is_cached_within_a_second(impl):
    with frozen(impl.writer, RFC_EXAMPLE_SECOND + 0.1):
        first = impl.writer.http_date()
    with frozen(impl.writer, RFC_EXAMPLE_SECOND + 0.9):
        assert impl.writer.http_date() is first


def test_http_date_changes_when_the_second_changes(impl):
    with frozen(impl.writer, RFC_EXAMPLE_SECOND + 0.999):
        assert impl.writer.http_date() == RFC_EXAMPLE_DATE
    with frozen(impl.writer, RFC_EXAMPLE_SECOND + 1.0):
        assert impl.writer.http_date() == b"Sun, 06 Nov 1994 08:49:38 GMT"


def test_http_date_accepts_an_int_clock(impl):
    with frozen(impl.writer, RFC_EXAMPLE_SECOND):
        assert impl.writer.http_date() == RFC_EXAMPLE_DATE


@settings(max_examples=200)
@given(second=st.integers(min_value=0, max_value=253402300799))  # up to 9999-12-31T23:59:59Z
def test_http_date_matches_the_stdlib_formatter_for_any_second(impl, second):
    # email.utils.formatdate(usegmt=True) writes the IMF-fixdate without the locale.
    with frozen(impl.writer, second):
        assert impl.writer.http_date() == email.utils.formatdate(second, usegmt=True).encode()


def test_write_head_uses_the_cached_date(impl):
    with frozen(impl.writer, RFC_EXAMPLE_SECOND):
        head = impl.writer.write_head(200)
    assert head == b"HTTP/1.1 200 OK\r\nDate: " + RFC_EXAMPLE_DATE + b"\r\n\r\n"


# --- write_fields -------------------------------------------------------------------------------


def test_write_fields_writes_name_colon_space_value_crlf_in_order(impl):
    fields = [(b"Content-Type", b"text/plain"), (b"X-B", b"2"), (b"X-A", b"1")]
    assert impl.writer.write_fields(fields) == (b"Content-Type: text/plain\r\nX-B: 2\r\nX-A: 1\r\n")


def test_write_fields_of_nothing_is_empty(impl):
    assert impl.writer.write_fields([]) == b""
    assert impl.writer.write_fields({}) == b""


def test_write_fields_keeps_repeated_names(impl):
    fields = [(b"Set-Cookie", b"a=1"), (b"Set-Cookie", b"b=2")]
    assert impl.writer.write_fields(fields) == b"Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n"


def test_write_fields_keeps_the_name_case(impl):
    assert impl.writer.write_fields([(b"x-CaSe", b"v")]) == b"x-CaSe: v\r\n"


def test_write_fields_encodes_str_as_latin_1(impl):
    assert impl.writer.write_fields([("X-Name", "caf\xe9")]) == b"X-Name: caf\xe9\r\n"


def test_write_fields_writes_an_int_value_in_decimal(impl):
    assert impl.writer.write_fields([(b"X-Count", 42), (b"X-Neg", -7)]) == (
        b"X-Count: 42\r\nX-Neg: -7\r\n"
    )


def test_write_fields_accepts_a_mapping(impl):
    assert impl.writer.write_fields({"A": "1", "B": b"2"}) == b"A: 1\r\nB: 2\r\n"


def test_write_fields_accepts_a_mapping_that_is_not_a_dict(impl):
    proxy = types.MappingProxyType({b"A": b"1"})
    assert isinstance(proxy, Mapping)
    assert impl.writer.write_fields(proxy) == b"A: 1\r\n"


def test_write_fields_accepts_any_iterable_of_pairs(impl):
    def pairs() -> Iterator[tuple[bytes, bytes]]:
        yield b"A", b"1"
        yield b"B", b"2"

    assert impl.writer.write_fields(pairs()) == b"A: 1\r\nB: 2\r\n"
    assert impl.writer.write_fields(((b"A", b"1"), [b"B", b"2"])) == b"A: 1\r\nB: 2\r\n"


def test_write_fields_handles_more_fields_than_fit_in_a_small_buffer(impl):
    fields = [(b"X-%d" % i, b"v" * i) for i in range(100)]
    expected = b"".join(b"X-%d: %s\r\n" % (i, b"v" * i) for i in range(100))
    assert impl.writer.write_fields(fields) == expected


def test_write_fields_allows_an_empty_value(impl):
    assert impl.writer.write_fields([(b"X-Empty", b"")]) == b"X-Empty: \r\n"


def test_write_fields_allows_sp_htab_and_obs_text_in_a_value(impl):
    value = b"a b\tc \x80\xff"
    assert impl.writer.write_fields([(b"X", value)]) == b"X: " + value + b"\r\n"


def test_write_fields_allows_every_tchar_in_a_name(impl):
    name = b"!#$%&'*+-.^_`|~09AZaz"
    assert impl.writer.write_fields([(name, b"v")]) == name + b": v\r\n"


BAD_VALUE_BYTES = [b for b in range(256) if b != 9 and (b < 32 or b == 127)]


@pytest.mark.parametrize("octet", BAD_VALUE_BYTES, ids=lambda b: f"0x{b:02x}")
def test_write_fields_refuses_a_control_character_in_a_value(impl, octet):
    with pytest.raises(InvalidResponseHeader):
        impl.writer.write_fields([(b"X", b"a" + bytes([octet]) + b"b")])
    with pytest.raises(InvalidResponseHeader):
        impl.writer.write_fields([("X", "a" + chr(octet) + "b")])


@pytest.mark.parametrize(
    "value",
    [b"a\r\nSet-Cookie: evil=1", b"a\r\n\r\nHTTP/1.1 200 OK", b"\n", b"\r", b"\x00", b"x\r"],
    ids=repr,
)
def test_write_fields_refuses_response_splitting_in_a_value(impl, value):
    with pytest.raises(InvalidResponseHeader):
        impl.writer.write_fields([(b"Location", value)])


@pytest.mark.parametrize(
    "name",
    [
        b"",
        b"a b",
        b"a:b",
        b"a\r\nb",
        b"a\n",
        b"\x00",
        b"a\tb",
        b"(x)",
        b"a,b",
        b'"',
        b"\x80",
        b"\x7f",
    ],
    ids=repr,
)
def test_write_fields_refuses_a_name_that_is_not_a_token(impl, name):
    with pytest.raises(InvalidResponseHeader):
        impl.writer.write_fields([(name, b"v")])
    with pytest.raises(InvalidResponseHeader):
        impl.writer.write_fields([(name.decode("latin-1"), b"v")])


@pytest.mark.parametrize("text", ["\u20ac", "caf\xe9\u0100", "\U0001f600"], ids=repr)
def test_write_fields_refuses_a_str_that_is_not_latin_1(impl, text):
    with pytest.raises(InvalidResponseHeader):
        impl.writer.write_fields([("X", text)])
    with pytest.raises(InvalidResponseHeader):
        impl.writer.write_fields([(text, "v")])


def test_write_fields_refuses_a_bad_field_after_good_ones(impl):
    with pytest.raises(InvalidResponseHeader):
        impl.writer.write_fields([(b"A", b"1")] * 20 + [(b"B", b"\r\n")])


def test_invalid_response_header_is_a_value_error():
    assert issubclass(InvalidResponseHeader, ValueError)


@pytest.mark.parametrize(
    "pair",
    [
        (1, b"v"),
        (None, b"v"),
        (bytearray(b"X"), b"v"),
        (b"X", None),
        (b"X", 1.5),
        (b"X", bytearray(b"v")),
    ],
    ids=repr,
)
def test_write_fields_refuses_a_name_or_value_of_the_wrong_type(impl, pair):
    with pytest.raises(TypeError):
        impl.writer.write_fields([pair])


@pytest.mark.parametrize("pair", [(b"X",), (b"X", b"v", b"w"), ()], ids=repr)
def test_write_fields_refuses_an_item_that_is_not_a_pair(impl, pair):
    with pytest.raises(ValueError):
        impl.writer.write_fields([pair])


def test_write_fields_refuses_fields_that_are_not_iterable(impl):
    with pytest.raises(TypeError):
        impl.writer.write_fields(None)


# --- write_head ---------------------------------------------------------------------------------


def test_write_head_writes_status_fields_and_blank_line(impl):
    head = impl.writer.write_head(200, [(b"Content-Type", b"text/plain")], date=False)
    assert head == b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"


def test_write_head_orders_date_server_fields_framing_connection(impl):
    with frozen(impl.writer, RFC_EXAMPLE_SECOND):
        head = impl.writer.write_head(
            404,
            [(b"Content-Type", b"text/html"), (b"X-A", b"1")],
            content_length=9,
            keep_alive=False,
            server=b"fasthttp",
        )
    assert head == (
        b"HTTP/1.1 404 Not Found\r\n"
        b"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
        b"Server: fasthttp\r\n"
        b"Content-Type: text/html\r\n"
        b"X-A: 1\r\n"
        b"Content-Length: 9\r\n"
        b"Connection: close\r\n"
        b"\r\n"
    )


def test_write_head_without_fields_is_status_line_and_blank_line(impl):
    assert impl.writer.write_head(200, date=False) == b"HTTP/1.1 200 OK\r\n\r\n"


def test_write_head_accepts_a_str_server(impl):
    head = impl.writer.write_head(200, date=False, server="fasthttp/0.1")
    assert head == b"HTTP/1.1 200 OK\r\nServer: fasthttp/0.1\r\n\r\n"


@pytest.mark.parametrize("server", [b"evil\r\nX: 1", "a\nb", "\u20ac"], ids=repr)
def test_write_head_refuses_an_invalid_server(impl, server):
    with pytest.raises(InvalidResponseHeader):
        impl.writer.write_head(200, server=server)


def test_write_head_refuses_a_server_that_is_not_text(impl):
    with pytest.raises(TypeError):
        impl.writer.write_head(200, server=1)


def test_write_head_refuses_an_invalid_field(impl):
    with pytest.raises(InvalidResponseHeader):
        impl.writer.write_head(200, [(b"X", b"a\r\nb")])


def test_write_head_writes_content_length(impl):
    assert impl.writer.write_head(200, date=False, content_length=1234) == (
        b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
    )


def test_write_head_writes_a_zero_content_length(impl):
    assert impl.writer.write_head(200, date=False, content_length=0) == (
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    )


def test_write_head_writes_a_content_length_beyond_64_bits(impl):
    head = impl.writer.write_head(200, date=False, content_length=2**70)
    assert head == b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % 2**70


def test_write_head_writes_transfer_encoding_chunked(impl):
    assert impl.writer.write_head(200, date=False, chunked=True) == (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    )


def test_write_head_without_framing_leaves_the_body_close_delimited(impl):
    head = impl.writer.write_head(200, date=False, keep_alive=False)
    assert head == b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"


@pytest.mark.parametrize("status", [100, 101, 103, 199, 204])
def test_write_head_omits_content_length_for_1xx_and_204(impl, status):
    head = impl.writer.write_head(status, date=False, content_length=5)
    assert head == impl.writer.status_line(status) + b"\r\n"


@pytest.mark.parametrize("status", [100, 101, 103, 199, 204, 304])
def test_write_head_omits_transfer_encoding_for_1xx_204_and_304(impl, status):
    head = impl.writer.write_head(status, date=False, chunked=True)
    assert head == impl.writer.status_line(status) + b"\r\n"


def test_write_head_keeps_content_length_for_304(impl):
    # RFC 9110 §8.6: a 304 may state the length of the representation it did not send.
    head = impl.writer.write_head(304, date=False, content_length=5)
    assert head == b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"


def test_write_head_says_connection_close_when_not_keeping_alive(impl):
    head = impl.writer.write_head(200, date=False, content_length=0, keep_alive=False)
    assert head == b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def test_write_head_says_connection_keep_alive_to_a_persistent_http_1_0_client(impl):
    head = impl.writer.write_head(200, date=False, content_length=0, http_1_0=True)
    assert head == b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"


def test_write_head_says_connection_close_to_a_closing_http_1_0_client(impl):
    head = impl.writer.write_head(200, date=False, http_1_0=True, keep_alive=False)
    assert head == b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"


def test_write_head_says_nothing_about_a_persistent_http_1_1_connection(impl):
    head = impl.writer.write_head(200, date=False, content_length=0)
    assert b"Connection" not in head


def test_write_head_refuses_chunked_for_http_1_0(impl):
    with pytest.raises(ValueError):
        impl.writer.write_head(200, chunked=True, http_1_0=True)


def test_write_head_refuses_content_length_with_chunked(impl):
    with pytest.raises(ValueError):
        impl.writer.write_head(200, content_length=3, chunked=True)


@pytest.mark.parametrize("length", [-1, -(2**70)])
def test_write_head_refuses_a_negative_content_length(impl, length):
    with pytest.raises(ValueError):
        impl.writer.write_head(200, content_length=length)


@pytest.mark.parametrize("length", ["5", 5.0, b"5"], ids=repr)
def test_write_head_refuses_a_content_length_that_is_not_an_int(impl, length):
    with pytest.raises(TypeError):
        impl.writer.write_head(200, content_length=length)


def test_write_head_refuses_an_invalid_status(impl):
    with pytest.raises(ValueError):
        impl.writer.write_head(1000)


def test_write_head_writes_the_callers_fields_verbatim(impl):
    # Framing fields are the server's (see the framing tests below); the rest go out as given.
    head = impl.writer.write_head(200, [(b"x-Thing", b" 3 "), ("Upgrade", "h2c")], date=False)
    assert head == b"HTTP/1.1 200 OK\r\nx-Thing:  3 \r\nUpgrade: h2c\r\n\r\n"


# --- write_response -----------------------------------------------------------------------------


def test_write_response_is_head_content_length_and_body(impl):
    response = impl.writer.write_response(
        200, [(b"content-type", b"text/plain")], b"Hello, World!", date=False
    )
    assert response == (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!"
    )


def test_write_response_includes_date_and_server(impl):
    with frozen(impl.writer, RFC_EXAMPLE_SECOND):
        response = impl.writer.write_response(200, [], b"ok", server="fasthttp")
    assert response == (
        b"HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: fasthttp\r\n"
        b"Content-Length: 2\r\n\r\nok"
    )


@pytest.mark.parametrize("keep_alive,http_1_0,head", [(True, False, False), (False, True, False), (True, True, True)])
def test_write_response_takes_its_options_by_position_too(impl, keep_alive, http_1_0, head):
    # The connection core passes them positionally (PERF, issue 17): the same bytes.
    fields = [(b"content-type", b"text/plain")]
    with frozen(impl.writer, RFC_EXAMPLE_SECOND):
        by_name = impl.writer.write_response(
            200, fields, b"hi", keep_alive=keep_alive, http_1_0=http_1_0, head=head, date=True, server="s"
        )
        by_position = impl.writer.write_response(200, fields, b"hi", keep_alive, http_1_0, head, True, "s")
    assert by_position == by_name


def test_write_response_with_an_empty_body_says_content_length_0(impl):
    assert impl.writer.write_response(200, [], b"", date=False) == (
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    )


def test_write_response_to_head_keeps_content_length_and_drops_the_body(impl):
    response = impl.writer.write_response(200, [], b"Hello", head=True, date=False)
    assert response == b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"


@pytest.mark.parametrize("status", [204, 304])
def test_write_response_without_content_has_neither_content_length_nor_body(impl, status):
    response = impl.writer.write_response(status, [(b"ETag", b'"x"')], b"ignored", date=False)
    assert response == impl.writer.status_line(status) + b'ETag: "x"\r\n\r\n'


@pytest.mark.parametrize("status", [100, 101, 103, 199])
def test_write_response_refuses_an_interim_status_as_a_final_response(impl, status):
    # RFC 9110 §15.2: a 1xx is never final; written as one, a client would take the next
    # response on the connection for this request's. Interim heads go through write_head.
    with pytest.raises(ValueError, match="interim"):
        impl.writer.write_response(status, [], b"", date=False)
    with pytest.raises(ValueError, match="interim"):
        impl.writer.write_response(status, [], bytearray(b"x"), date=False)
    assert impl.writer.write_head(status, [], date=False) == impl.writer.status_line(status) + b"\r\n"


def test_write_response_says_connection_close(impl):
    response = impl.writer.write_response(200, [], b"x", keep_alive=False, date=False)
    assert response == b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx"


def test_write_response_says_keep_alive_to_http_1_0(impl):
    response = impl.writer.write_response(200, [], b"x", http_1_0=True, date=False)
    assert response == b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\nx"


@pytest.mark.parametrize(
    "body", [bytearray(b"abc"), memoryview(b"abc"), memoryview(b"xabcx")[1:4]], ids=repr
)
def test_write_response_accepts_bytes_like_bodies(impl, body):
    assert impl.writer.write_response(200, [], body, date=False) == (
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
    )


def test_write_response_counts_the_bytes_of_a_wide_memoryview(impl):
    body = memoryview(array.array("H", [0x4141, 0x4242]))
    response = impl.writer.write_response(200, [], body, date=False)
    assert response.endswith(b"Content-Length: 4\r\n\r\nAABB")


def test_write_response_refuses_a_non_contiguous_body(impl):
    with pytest.raises(BufferError):
        impl.writer.write_response(200, [], memoryview(b"abcdef")[::2])


@pytest.mark.parametrize("body", [None, 3, ["text"]], ids=repr)
def test_write_response_refuses_a_body_that_is_neither_bytes_like_nor_str(impl, body):
    with pytest.raises(TypeError):
        impl.writer.write_response(200, [], body)


@pytest.mark.parametrize("text", ["", "Hello, World!", "caf\u00e9 \u20ac \U0001f600", "x" * 5000], ids=len)
@pytest.mark.parametrize("head", [False, True])
def test_write_response_sends_a_str_body_as_its_utf8_and_counts_those_bytes(impl, text, head):
    # The engine's text answers (fasthttp/_core_py/connection.py): the same bytes as the
    # encoded body's, whichever twin, for every kind of str (ASCII, wide, astral, long).
    expected = impl.writer.write_response(200, [(b"X", b"1")], text.encode(), True, False, head, False)
    assert impl.writer.write_response(200, [(b"X", b"1")], text, True, False, head, False) == expected
    assert b"Content-Length: %d\r\n" % len(text.encode()) in expected


def test_write_response_sends_a_str_subclass_as_its_utf8(impl):
    class Text(str):
        pass

    assert impl.writer.write_response(200, [], Text("h\u00e9"), date=False) == (
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nh\xc3\xa9"
    )


def test_write_response_refuses_a_str_body_with_a_lone_surrogate(impl):
    with pytest.raises(UnicodeEncodeError):
        impl.writer.write_response(200, [], "bad \ud800")


def test_write_response_refuses_an_invalid_field(impl):
    with pytest.raises(InvalidResponseHeader):
        impl.writer.write_response(200, [(b"X", b"\n")], b"")


def test_write_response_refuses_an_invalid_status(impl):
    with pytest.raises(ValueError):
        impl.writer.write_response(99, [], b"")


# --- round trip through httptools (llhttp) -----------------------------------------------------

TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
FRAMING = {"content-length", "transfer-encoding", "connection", "upgrade", "keep-alive",
           "proxy-connection", "te"}  # fmt: skip
VCHAR_OBS = bytes(range(0x21, 0x7F)) + bytes(range(0x80, 0x100))

names = (
    st.text(alphabet=TCHARS, min_size=1, max_size=20)
    .filter(lambda n: n.lower() not in FRAMING)
    .map(str.encode)
)
# RFC 9110 §5.5: field-content starts and ends with a visible octet (SP/HTAB only inside).
values = st.one_of(
    st.just(b""),
    st.tuples(
        st.sampled_from(VCHAR_OBS),
        st.binary(max_size=30).map(lambda b: bytes(c for c in b if c in VCHAR_OBS + b" \t")),
        st.sampled_from(VCHAR_OBS),
    ).map(lambda t: bytes([t[0]]) + t[1] + bytes([t[2]])),
)
field_lists = st.lists(st.tuples(names, values), max_size=12)


class _Collector:
    def __init__(self) -> None:
        self.fields: list[tuple[bytes, bytes]] = []
        self.complete = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.fields.append((name, value))

    def on_message_complete(self) -> None:
        self.complete = True


@settings(suppress_health_check=[HealthCheck.filter_too_much])
@given(fields=field_lists, status=st.sampled_from([200, 201, 404, 500, 599]))
def test_write_head_round_trips_through_httptools(impl, fields, status):
    head = impl.writer.write_head(status, fields, content_length=0, server=b"fh")
    collector = _Collector()
    parser = httptools.HttpResponseParser(collector)
    parser.feed_data(head)
    assert collector.complete
    assert parser.get_status_code() == status
    date, server, *rest, framing = collector.fields
    assert date[0] == b"Date" and IMF_FIXDATE.fullmatch(date[1])
    assert server == (b"Server", b"fh")
    assert rest == fields
    assert framing == (b"Content-Length", b"0")


# --- framing belongs to the server (RFC 9112 §6) -----------------------------------------------

REFUSED_FIELDS = [
    ("Transfer-Encoding", "chunked"),
    ("transfer-encoding", "gzip, chunked"),
    ("Connection", "keep-alive"),
    ("Connection", "close"),
    ("CONNECTION", "upgrade, Close"),
    ("Keep-Alive", "timeout=5"),
    ("Proxy-Connection", "keep-alive"),
    ("TE", "trailers"),
]


@pytest.mark.parametrize(("name", "value"), REFUSED_FIELDS)
def test_write_response_refuses_framing_fields_from_the_application(impl, name, value):
    # Before: the field went out beside the server's own framing (a second, forged response to
    # a proxy that prefers Transfer-Encoding; keep-alive beside close).
    with pytest.raises(InvalidResponseHeader, match="server"):
        impl.writer.write_response(200, [(name, value)], b"0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n")


@pytest.mark.parametrize(("name", "value"), REFUSED_FIELDS)
@pytest.mark.parametrize(
    "framing",
    [{"content_length": 3}, {"chunked": True}, {"http_1_0": True, "keep_alive": False}, {}],
    ids=["length", "chunked", "close-delimited", "none"],
)
def test_write_head_refuses_framing_fields_from_the_application(impl, name, value, framing):
    with pytest.raises(InvalidResponseHeader, match="server"):
        impl.writer.write_head(200, [(name, value)], **framing)


@pytest.mark.parametrize("value", ["5", "00005", b"5", 5])
def test_a_content_length_equal_to_the_body_is_honoured_and_sent_once(impl, value):
    out = impl.writer.write_response(200, [("content-length", value), ("X", "y")], b"hello", date=False)
    assert out == b"HTTP/1.1 200 OK\r\nX: y\r\nContent-Length: 5\r\n\r\nhello"


@pytest.mark.parametrize("value", ["2", "6", "", "5 ", "+5", "0x5", "5, 5", -5])
def test_a_content_length_that_contradicts_the_body_is_refused(impl, value):
    # Before: Response("hello", headers={"Content-Length": "2"}) sent two Content-Length fields.
    with pytest.raises(InvalidResponseHeader, match="Content-Length"):
        impl.writer.write_response(200, [("Content-Length", value)], b"hello")


def test_a_content_length_equal_to_the_announced_length_is_written_once(impl):
    out = impl.writer.write_head(206, [("Content-Length", "7")], content_length=7, date=False)
    assert out == b"HTTP/1.1 206 Partial Content\r\nContent-Length: 7\r\n\r\n"
    with pytest.raises(InvalidResponseHeader):
        impl.writer.write_head(200, [("Content-Length", "1")], content_length=2)


@pytest.mark.parametrize(
    "framing", [{"chunked": True}, {"http_1_0": True}, {}], ids=["chunked", "close-delimited", "none"]
)
def test_a_content_length_where_the_server_sends_none_is_refused(impl, framing):
    # Before: a StreamingResponse with Content-Length: 3 sent 10 bytes over HTTP/1.0.
    with pytest.raises(InvalidResponseHeader, match="Content-Length"):
        impl.writer.write_head(200, [("Content-Length", "3")], **framing)


@pytest.mark.parametrize("status", [204, 304])
def test_a_content_length_in_a_response_without_content_is_refused(impl, status):
    with pytest.raises(InvalidResponseHeader):
        impl.writer.write_response(status, [("Content-Length", "0")], b"")


@pytest.mark.parametrize("value", ["Upgrade", "upgrade", "Upgrade, X-Hop", ""])
def test_connection_options_other_than_close_and_keep_alive_pass(impl, value):
    fields = [("Upgrade", "websocket"), ("Connection", value)]
    out = impl.writer.write_head(101, fields, date=False)
    assert out == b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: %s\r\n\r\n" % value.encode()


def test_write_fields_checks_no_framing_names(impl):
    # Trailers and body-part headers: no message framing to protect there.
    assert impl.writer.write_fields([("Content-Length", "3")]) == b"Content-Length: 3\r\n"


def test_the_framing_check_comes_after_the_name_and_value_checks(impl):
    with pytest.raises(InvalidResponseHeader, match="invalid header value"):
        impl.writer.write_response(200, [("Transfer-Encoding", "chunked\r\nX: y")], b"")
    with pytest.raises(TypeError):
        impl.writer.write_response(200, [("Connection", None)], b"")


# --- a constant tuple of fields, written again and again (the compiled twin keeps its lines) -----


def test_a_constant_tuple_of_fields_writes_the_same_bytes_every_time(impl):
    # PERF (issue 17): the compiled twin serializes a tuple it sees twice in a row once and
    # copies the lines after that; the bytes never change, on either twin.
    fields = ((b"Content-Type", b"text/plain; charset=utf-8"), ("X-Id", "7"))
    expected = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nX-Id: 7\r\nContent-Length: 2\r\n\r\nhi"
    for _ in range(5):
        assert impl.writer.write_response(200, fields, b"hi", date=False) == expected
    assert impl.writer.write_head(200, fields, content_length=2, date=False) == expected[:-2]
    assert impl.writer.write_fields(fields) == b"Content-Type: text/plain; charset=utf-8\r\nX-Id: 7\r\n"


def test_a_constant_tuple_naming_a_framing_field_is_checked_on_every_response(impl):
    # The framing rule depends on the response (its body's length), so a tuple holding a
    # Content-Length is never served from the compiled twin's cache: honoured when it agrees...
    fields = (("Content-Length", "5"), ("X", "y"))
    for _ in range(3):
        out = impl.writer.write_response(200, fields, b"hello", date=False)
        assert out == b"HTTP/1.1 200 OK\r\nX: y\r\nContent-Length: 5\r\n\r\nhello"
    # ... and refused when it does not, however often the same tuple came before.
    for _ in range(3):
        with pytest.raises(InvalidResponseHeader, match="Content-Length"):
            impl.writer.write_response(200, fields, b"hi")
    # A framing field is checked in write_fields (trailers) neither before nor after.
    assert impl.writer.write_fields(fields) == b"Content-Length: 5\r\nX: y\r\n"
    with pytest.raises(InvalidResponseHeader):
        impl.writer.write_response(200, fields, b"hi")


def test_a_tuple_of_mutable_or_unusual_pairs_is_read_afresh_every_time(impl):
    # Only exact tuples of exact str/bytes pairs are immutable all the way down: a list inside a
    # tuple, or an int value, is serialized from what it holds now.
    pair = ["X-A", "1"]
    fields = (pair,)
    for value in ("1", "2", "3"):
        pair[1] = value
        assert impl.writer.write_fields(fields) == b"X-A: %s\r\n" % value.encode()
        assert impl.writer.write_fields(fields) == b"X-A: %s\r\n" % value.encode()
    pair[1] = "bad\r\nX: y"
    with pytest.raises(InvalidResponseHeader):
        impl.writer.write_fields(fields)
    numbers = (("X-N", 12),)
    assert impl.writer.write_fields(numbers) == impl.writer.write_fields(numbers) == b"X-N: 12\r\n"


def test_invalid_constant_tuples_are_refused_every_time(impl):
    for fields, error in (
        ((("Bad Name", "1"),), InvalidResponseHeader),
        ((("X", "a\nb"),), InvalidResponseHeader),
        ((("X", "\u20ac"),), InvalidResponseHeader),
        ((("X", None),), TypeError),
    ):
        for _ in range(3):
            with pytest.raises(error):
                impl.writer.write_response(200, fields, b"")


def test_many_constant_tuples_in_turn_each_write_their_own_bytes(impl):
    # More constant tuples than the compiled twin keeps: each still writes its own fields.
    tuples = [(("X-N", str(i)),) for i in range(20)]
    for _ in range(3):
        for i, fields in enumerate(tuples):
            assert impl.writer.write_fields(fields) == b"X-N: %d\r\n" % i
            assert impl.writer.write_fields(fields) == b"X-N: %d\r\n" % i


def test_one_pair_lists_with_the_same_name_and_value_write_their_own_bytes_however_they_change(impl):
    # PERF (issue 17): a Response's fields are a new one-pair list each time, whose name and
    # value are the same objects; the compiled twin keeps the line of such a pair (the pure twin
    # keys the same lists by the pair). A list is read on every response: one the application
    # changes after a response used it is written as it is then.
    name, value = b"Content-Type", "application/octet-stream"
    line = b"Content-Type: application/octet-stream\r\n"
    for _ in range(4):
        out = impl.writer.write_response(200, [(name, value)], b"abc", date=False)
        assert out == b"HTTP/1.1 200 OK\r\n" + line + b"Content-Length: 3\r\n\r\nabc"
    fields = [(name, value)]
    assert impl.writer.write_fields(fields) == impl.writer.write_fields(fields) == line
    fields.append(("X-More", "1"))
    assert impl.writer.write_fields(fields) == line + b"X-More: 1\r\n"
    fields[:] = [(name, "text/plain")]
    assert impl.writer.write_fields(fields) == b"Content-Type: text/plain\r\n"
    fields[:] = [(name, value)]
    assert impl.writer.write_fields(fields) == line
    fields[0] = ("Content-Length", "3")  # a framing field: checked against each response
    for body in (b"abc", b"abc"):
        assert impl.writer.write_response(200, fields, body, date=False).endswith(b"Content-Length: 3\r\n\r\nabc")
    with pytest.raises(InvalidResponseHeader, match="Content-Length"):
        impl.writer.write_response(200, fields, b"hello")
    bad = [("X", "a\nb")]
    for _ in range(3):
        with pytest.raises(InvalidResponseHeader):
            impl.writer.write_fields(bad)
    pair = ["X-A", "1"]  # a list pair: read afresh
    for each in ("1", "2", "1"):
        pair[1] = each
        assert impl.writer.write_fields([pair]) == impl.writer.write_fields([pair]) == b"X-A: %s\r\n" % each.encode()
    many = [[("X-N", str(i))] for i in range(20)]  # more pairs than the compiled twin keeps
    for _ in range(3):
        for i, each in enumerate(many):
            assert impl.writer.write_fields(each) == impl.writer.write_fields(each) == b"X-N: %d\r\n" % i


# The response-framing property: whatever header set the application supplies and whatever the
# response kind, the bytes on the wire are exactly one message whose body is the application's
# (or the writer refuses the fields). httptools (llhttp) is the independent reader.

FRAMING_NAMES = ["Content-Length", "content-length", "Transfer-Encoding", "TRANSFER-ENCODING",
                 "Connection", "connection", "Keep-Alive", "Proxy-Connection", "TE", "Upgrade",
                 "Trailer"]  # fmt: skip
FRAMING_VALUES = [b"0", b"3", b"5", b"00005", b"10", b"chunked", b"gzip, chunked", b"identity",
                  b"close", b"keep-alive", b"Upgrade", b"upgrade, close", b"timeout=5"]  # fmt: skip
app_fields = st.lists(
    st.one_of(
        st.tuples(names, values),
        st.tuples(st.sampled_from(FRAMING_NAMES).map(str.encode), st.sampled_from(FRAMING_VALUES)),
        st.tuples(st.sampled_from(FRAMING_NAMES).map(str.encode), values),
    ),
    max_size=6,
)
# The four ways the engine frames a body: write_response (Response), write_head with a length
# (FileResponse, StreamingResponse with content_length), chunked (StreamingResponse to
# HTTP/1.1), close-delimited (StreamingResponse to HTTP/1.0).
KINDS = ["response", "length", "chunked", "close"]
bodies = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", b"hello"]),
)


class _Messages:
    def __init__(self) -> None:
        self.bodies: list[bytes] = [b""]
        self.complete = 0
        self.fields: list[tuple[bytes, bytes]] = []

    def on_header(self, name: bytes, value: bytes) -> None:
        self.fields.append((name.lower(), value))

    def on_body(self, body: bytes) -> None:
        self.bodies[-1] += body

    def on_message_complete(self) -> None:
        self.complete += 1
        self.bodies.append(b"")


def _wire(writer, kind, status, fields, body, keep_alive):
    if kind == "response":
        return writer.write_response(status, fields, body, keep_alive=keep_alive)
    if kind == "length":
        return writer.write_head(status, fields, content_length=len(body), keep_alive=keep_alive) + body
    if kind == "chunked":
        head = writer.write_head(status, fields, chunked=True, keep_alive=keep_alive)
        return head + (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
    return writer.write_head(status, fields, http_1_0=True, keep_alive=False) + body


def _names_framing(fields) -> bool:
    return any(name.lower() in {b"content-length", b"transfer-encoding", b"connection", b"keep-alive",
                                b"proxy-connection", b"te"} for name, _ in fields)  # fmt: skip


@settings(max_examples=400, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    kind=st.sampled_from(KINDS),
    status=st.sampled_from([200, 201, 206, 404, 500]),
    fields=app_fields,
    body=bodies,
    keep_alive=st.booleans(),
)
def test_the_wire_carries_exactly_one_message_with_the_applications_body(impl, kind, status, fields, body, keep_alive):
    try:
        wire = _wire(impl.writer, kind, status, fields, body, keep_alive)
    except InvalidResponseHeader:
        assert _names_framing(fields)  # refused only for a framing field
        return
    messages = _Messages()
    parser = httptools.HttpResponseParser(messages)
    parser.feed_data(wire)
    if kind == "close":
        # Close-delimited (RFC 9112 §6.3 (8)): the message ends at EOF, so nothing completes
        # before it and every byte is body.
        assert messages.complete == 0
    else:
        assert messages.complete == 1
    assert messages.bodies[0] == body
    assert not any(messages.bodies[1:])
    framing = [(n, v) for n, v in messages.fields if n in (b"content-length", b"transfer-encoding")]
    assert len(framing) <= 1


# --- the twins agree ------------------------------------------------------------------------------


def test_twins_have_the_same_public_api(py_impl, c_impl):
    assert py_impl.writer.__all__ == c_impl.writer.__all__
    assert set(py_impl.writer.__all__) == {
        "status_line", "http_date", "write_fields", "write_head", "write_response", "FieldBlock",
    }  # fmt: skip
    for name in py_impl.writer.__all__:
        if name == "FieldBlock":  # a class: its API is compared with the stub (tests/test_typing.py)
            assert set(dir(py_impl.writer.FieldBlock)) >= {"fields", "encoded", "__iter__", "__len__", "__getitem__"}
            assert set(dir(c_impl.writer.FieldBlock)) >= {"fields", "encoded", "__iter__", "__len__", "__getitem__"}
            continue
        py_sig = inspect.signature(getattr(py_impl.writer, name))
        c_sig = inspect.signature(getattr(c_impl.writer, name))
        assert [(p.name, p.kind, p.default) for p in py_sig.parameters.values()] == [
            (p.name, p.kind, p.default) for p in c_sig.parameters.values()
        ], name


# Inputs that are mostly valid, with every kind of invalid mixed in.
any_name = st.one_of(
    names,
    st.sampled_from(FRAMING_NAMES),
    st.text(alphabet=TCHARS, max_size=8),
    st.binary(max_size=8),
    st.text(max_size=6),
    st.sampled_from([None, 1, bytearray(b"X")]),
)
any_value = st.one_of(
    values,
    st.sampled_from(FRAMING_VALUES),
    st.binary(max_size=12),
    st.text(max_size=8),
    st.integers(),
    st.booleans(),
    st.sampled_from([None, 1.5, bytearray(b"v")]),
)
any_fields = st.one_of(
    st.lists(st.tuples(any_name, any_value), max_size=14),
    st.lists(st.tuples(names, values), max_size=14),
    st.dictionaries(names, values, max_size=5),
    st.lists(st.one_of(st.tuples(names), st.tuples(names, values, values)), max_size=2),
)
any_status = st.one_of(
    st.sampled_from([100, 101, 200, 204, 206, 304, 404, 418, 599, 999]),
    st.integers(min_value=-5, max_value=1100),
    st.sampled_from([True, 200.0, "200", None, 2**64]),
)
any_length = st.one_of(
    st.none(), st.integers(min_value=-3, max_value=2**66), st.sampled_from(["1", 1.0])
)
any_server = st.one_of(st.none(), values, st.binary(max_size=6), st.text(max_size=4))
any_body = st.one_of(
    st.binary(max_size=40),
    st.binary(max_size=10).map(bytearray),
    st.binary(max_size=10).map(memoryview),
    st.sampled_from([memoryview(b"abcdef")[::2], "text", None]),
)


def _outcome(call):
    try:
        return ("ok", call())
    except Exception as exc:  # noqa: BLE001 - the type is the result under comparison
        return ("error", type(exc))


def _both(py_impl, c_impl, fn_name, *args, **kwargs):
    with frozen(py_impl.writer, RFC_EXAMPLE_SECOND), frozen(c_impl.writer, RFC_EXAMPLE_SECOND):
        py = _outcome(lambda: getattr(py_impl.writer, fn_name)(*args, **kwargs))
        c = _outcome(lambda: getattr(c_impl.writer, fn_name)(*args, **kwargs))
    return py, c


@settings(max_examples=300)
@given(fields=any_fields)
def test_twins_agree_on_write_fields(py_impl, c_impl, fields):
    py, c = _both(py_impl, c_impl, "write_fields", fields)
    assert py == c


@settings(max_examples=300)
@given(status=any_status)
def test_twins_agree_on_status_line(py_impl, c_impl, status):
    py, c = _both(py_impl, c_impl, "status_line", status)
    assert py == c


@settings(max_examples=300)
@given(
    status=any_status,
    fields=any_fields,
    content_length=any_length,
    chunked=st.booleans(),
    keep_alive=st.booleans(),
    http_1_0=st.booleans(),
    date=st.booleans(),
    server=any_server,
)
def test_twins_agree_on_write_head(
    py_impl, c_impl, status, fields, content_length, chunked, keep_alive, http_1_0, date, server
):
    py, c = _both(
        py_impl,
        c_impl,
        "write_head",
        status,
        fields,
        content_length=content_length,
        chunked=chunked,
        keep_alive=keep_alive,
        http_1_0=http_1_0,
        date=date,
        server=server,
    )
    assert py == c


@settings(max_examples=300)
@given(
    status=any_status,
    fields=any_fields,
    body=any_body,
    keep_alive=st.booleans(),
    http_1_0=st.booleans(),
    head=st.booleans(),
    date=st.booleans(),
    server=any_server,
)
def test_twins_agree_on_write_response(
    py_impl, c_impl, status, fields, body, keep_alive, http_1_0, head, date, server
):
    py, c = _both(
        py_impl,
        c_impl,
        "write_response",
        status,
        fields,
        body,
        keep_alive=keep_alive,
        http_1_0=http_1_0,
        head=head,
        date=date,
        server=server,
    )
    assert py == c


# --- FieldBlock: constant fields checked and serialized once ----------------------------------------

SECURITY = [
    (b"Content-Type", b"text/plain; charset=utf-8"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Vary", "Origin"),
    ("X-Count", 3),
]


def test_a_field_block_writes_what_its_pairs_write(impl):
    block = impl.writer.FieldBlock(SECURITY)
    assert block.encoded == impl.writer.write_fields(SECURITY)
    with frozen(impl.writer, RFC_EXAMPLE_SECOND):
        for kwargs in ({}, {"keep_alive": False}, {"http_1_0": True}, {"head": True}, {"server": "fasthttp"}):
            assert impl.writer.write_response(200, block, b"hello", **kwargs) == impl.writer.write_response(200, SECURITY, b"hello", **kwargs)
        assert impl.writer.write_response(304, block, b"") == impl.writer.write_response(304, SECURITY, b"")
        assert impl.writer.write_head(200, block, chunked=True) == impl.writer.write_head(200, SECURITY, chunked=True)
        assert impl.writer.write_head(200, block, content_length=9) == impl.writer.write_head(200, SECURITY, content_length=9)
    assert impl.writer.write_fields(block) == block.encoded


def test_a_field_block_reads_as_its_pairs_and_never_changes(impl):
    block = impl.writer.FieldBlock(dict(SECURITY[1:3]))
    assert list(block) == [("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY")]
    assert len(block) == 2 and block[1] == ("X-Frame-Options", "DENY") and block.fields == tuple(block)
    assert [*block, ("Set-Cookie", "a=b")][-1] == ("Set-Cookie", "a=b")
    with pytest.raises(AttributeError):
        block.append(("X", "y"))  # type: ignore[attr-defined]
    with pytest.raises((AttributeError, TypeError)):
        block.encoded = b"X: forged\r\n"  # type: ignore[misc]
    assert "X-Frame-Options" in repr(block)


@pytest.mark.parametrize(("name", "value"), [*REFUSED_FIELDS, ("Content-Length", "0")])
def test_a_field_block_refuses_framing_fields(impl, name, value):
    # APPSEC: a block goes out with any body, so no framing field can be right in it.
    with pytest.raises(InvalidResponseHeader, match="server"):
        impl.writer.FieldBlock([("X-Ok", "1"), (name, value)])


@pytest.mark.parametrize(
    "field",
    [("X", "a\r\nSet-Cookie: forged"), ("Bad Name", "v"), ("X", "\x00"), ("X", "caf\u00e9\u20ac")],
)
def test_a_field_block_refuses_what_the_writer_refuses(impl, field):
    with pytest.raises(InvalidResponseHeader):
        impl.writer.FieldBlock([field])
    with pytest.raises(TypeError):
        impl.writer.FieldBlock([("X", 1.5)])


def test_a_field_block_of_the_other_twin_is_written_as_pairs(py_impl, c_impl):
    for made, writing in ((py_impl, c_impl), (c_impl, py_impl)):
        block = made.writer.FieldBlock(SECURITY)
        with frozen(writing.writer, RFC_EXAMPLE_SECOND):
            assert writing.writer.write_response(200, block, b"x") == writing.writer.write_response(200, SECURITY, b"x")


@settings(max_examples=200)
@given(fields=any_fields, body=any_body)
def test_twins_agree_on_field_blocks(py_impl, c_impl, fields, body):
    (py_kind, py), (c_kind, c) = _both(py_impl, c_impl, "FieldBlock", fields)
    assert py_kind == c_kind
    if py_kind == "error":
        assert py is c
        return
    assert py.encoded == c.encoded and py.fields == c.fields
    assert _both(py_impl, c_impl, "write_response", 200, py, body)[0] == _both(py_impl, c_impl, "write_response", 200, c, body)[1]
