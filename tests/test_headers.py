"""The header index (fasthttp.headers): look-ups, validation and the well-known table."""

from __future__ import annotations

import pytest

from fasthttp.errors import BadRequest


@pytest.fixture
def headers(impl):
    return impl.headers.Headers(
        [
            ("Host", "example.com"),
            ("Content-Type", "text/plain"),
            ("X-Multi", "one"),
            ("x-multi", "two"),
            ("Cookie", "a=1"),
        ]
    )


def test_get_is_case_insensitive(headers):
    assert headers.get("content-type") == "text/plain"
    assert headers.get("CONTENT-TYPE") == "text/plain"
    assert headers.get(b"Content-Type") == "text/plain"


def test_get_returns_the_first_value_and_default_when_missing(headers):
    assert headers.get("x-multi") == "one"
    assert headers.get("missing") is None
    assert headers.get("missing", "d") == "d"


def test_getall_returns_every_value_in_received_order(headers):
    assert headers.getall("X-MULTI") == ["one", "two"]
    assert headers.getall("missing") == []


def test_getitem_raises_keyerror_when_missing(headers):
    assert headers["host"] == "example.com"
    with pytest.raises(KeyError):
        headers["missing"]


def test_contains(headers):
    assert "HOST" in headers
    assert b"cookie" in headers
    assert "missing" not in headers
    assert 42 not in headers


def test_len_counts_field_lines(headers):
    assert len(headers) == 5


def test_iteration_yields_lowercase_names_in_received_order(headers):
    assert list(headers) == ["host", "content-type", "x-multi", "x-multi", "cookie"]
    assert headers.values() == ["example.com", "text/plain", "one", "two", "a=1"]
    assert headers.items()[2] == ("x-multi", "one")


def test_raw_keeps_received_case_and_bytes(headers):
    assert headers.raw()[0] == (b"Host", b"example.com")
    assert headers.raw()[3] == (b"x-multi", b"two")


def test_get_bytes_returns_the_received_bytes(headers):
    assert headers.get_bytes("cookie") == b"a=1"
    assert headers.get_bytes("missing") is None


def test_values_decode_as_latin1(impl):
    h = impl.headers.Headers([(b"X-Name", b"caf\xe9")])
    assert h.get("x-name") == "caf\u00e9"
    assert h.get_bytes("x-name") == b"caf\xe9"


def test_non_latin1_query_name_matches_nothing(impl):
    h = impl.headers.Headers([("a", "b")])
    assert h.get("\u20ac") is None
    assert "\u20ac" not in h


def test_constructed_from_a_mapping(impl):
    h = impl.headers.Headers({"A": "1", "B": "2"})
    assert h.items() == [("a", "1"), ("b", "2")]


def test_values_are_trimmed_of_surrounding_whitespace(impl):
    assert impl.headers.Headers([("a", " \tx y\t ")]).get("a") == "x y"


def test_equality_compares_items(impl):
    H = impl.headers.Headers
    assert H([("A", "1")]) == H([("a", "1")])
    assert H([("a", "1")]) != H([("a", "2")])


def test_well_known_names_and_unknown_names_with_the_same_length(impl):
    # "x-custom-host" is not "host"; ids must not make unrelated names equal.
    h = impl.headers.Headers([("Hosx", "1"), ("HOST", "2"), ("Content-Lengtx", "3")])
    assert h.get("host") == "2"
    assert h.get("hosx") == "1"
    assert h.get("content-length") is None
    assert h.get("content-lengtx") == "3"


def test_many_fields_beyond_the_inline_capacity(impl):
    fields = [(f"X-{i}", str(i)) for i in range(40)]
    h = impl.headers.Headers(fields)
    assert len(h) == 40
    assert h.get("x-39") == "39"
    assert h.raw()[20] == (b"X-20", b"20")


def test_well_known_tables_are_identical_in_both_twins(py_impl, c_impl):
    assert py_impl.headers.WELL_KNOWN == c_impl.headers.WELL_KNOWN


def test_the_ids_the_parser_relies_on_are_the_first_seven_names(impl):
    # headers.pxd fixes H_HOST=1 ... H_UPGRADE=7 for the compiled parser
    assert impl.headers.WELL_KNOWN[:7] == (
        "host", "content-length", "transfer-encoding", "connection", "content-type", "expect", "upgrade",
    )


class TestParseFieldLine:
    def test_splits_name_and_trimmed_value(self, impl):
        assert impl.headers.parse_field_line(b"Name:  value \t") == (b"Name", b"value")
        assert impl.headers.parse_field_line(b"Name:") == (b"Name", b"")

    def test_value_may_contain_colons_htab_and_obs_text(self, impl):
        assert impl.headers.parse_field_line(b"A: x:y\tz\x80\xff") == (b"A", b"x:y\tz\x80\xff")

    @pytest.mark.parametrize(
        "line",
        [
            b"no colon here",
            b": empty name",
            b"Name : space before colon",  # RFC 9112 §5.1
            b"Name\t: tab before colon",
            b" Name: leading whitespace",  # obs-fold / continuation
            b"Na(me: value",
            b"Na\x00me: value",
            b"Name: nul\x00byte",
            b"Name: del\x7fbyte",
            b"Name: ctl\x01byte",
            b"Name: bare\rcr",
            b"Name: bare\nlf",
        ],
    )
    def test_refuses_invalid_lines(self, impl, line):
        with pytest.raises(BadRequest):
            impl.headers.parse_field_line(line)


@pytest.mark.parametrize(
    "name,value",
    [("Bad Name", "v"), ("", "v"), ("ok", "a\r\nInjected: 1"), ("ok", "nul\x00")],
)
def test_constructor_refuses_invalid_fields(impl, name, value):
    with pytest.raises(BadRequest):
        impl.headers.Headers([(name, value)])


def test_constructor_refuses_a_colon_in_a_name(impl):
    with pytest.raises(BadRequest):
        impl.headers.Headers([("a:b", "v")])


def test_looking_up_a_non_string_name_is_a_type_error(impl, headers):
    with pytest.raises(TypeError):
        headers.get(42)


class TestRepeatedValues:
    # The compiled index reuses the last value object seen for a well-known field when the bytes
    # match (keep-alive clients repeat them); whatever it caches, every look-up must answer with
    # the value of the Headers it is asked.
    def test_alternating_values_of_a_well_known_field(self, impl):
        first = impl.headers.Headers([("Host", "a.example"), ("Accept", "text/html")])
        second = impl.headers.Headers([("Host", "b.example"), ("Accept", "text/html")])
        for _ in range(3):
            assert first.get("host") == "a.example" and second.get("host") == "b.example"
            assert first.get_bytes("host") == b"a.example" and second.get_bytes("host") == b"b.example"
            assert first.raw()[0] == (b"Host", b"a.example") and second.raw()[0] == (b"Host", b"b.example")
            assert first.items()[0] == ("host", "a.example") and second.items()[0] == ("host", "b.example")
            assert first["accept"] == second["accept"] == "text/html"

    def test_values_that_differ_only_in_length_or_last_byte(self, impl):
        values = ["keep-alive", "keep-alivE", "keep-aliv", "keep-alive ", "close"]
        heads = [impl.headers.Headers([("Connection", v)]) for v in values]
        for _ in range(2):
            assert [h.get("connection") for h in heads] == [v.strip() for v in values]
            assert [h.values() for h in heads] == [[v.strip()] for v in values]

    def test_several_values_of_one_field(self, impl):
        h = impl.headers.Headers([("Accept", "a"), ("Accept", "b"), ("Accept", "a")])
        assert h.getall("accept") == ["a", "b", "a"]
        assert [v for _, v in h.raw()] == [b"a", b"b", b"a"]

    def test_long_values_are_exact(self, impl):
        long_a, long_b = "x" * 300, "x" * 299 + "y"
        a = impl.headers.Headers([("User-Agent", long_a)])
        b = impl.headers.Headers([("User-Agent", long_b)])
        assert (a.get("user-agent"), b.get("user-agent")) == (long_a, long_b)
        assert (a.get_bytes("user-agent"), b.get_bytes("user-agent")) == (long_a.encode(), long_b.encode())

    def test_parsed_requests_in_a_pipeline_keep_their_own_values(self, impl):
        data = b"".join(b"GET / HTTP/1.1\r\nHost: h%d\r\nUser-Agent: ua\r\n\r\n" % (i % 3) for i in range(9))
        heads = [e for e in impl.parser.RequestParser().feed(data) if isinstance(e, impl.parser.RequestHead)]
        assert [h.headers.get("host") for h in heads] == [f"h{i % 3}" for i in range(9)]
        assert [h.headers.raw()[0][1] for h in heads] == [b"h%d" % (i % 3) for i in range(9)]


def test_raw_lower_gives_lowercase_names_and_the_received_values(headers, impl):
    # ASGI's scope["headers"]: names lower-cased (well-known and other names), values as received.
    assert headers.raw_lower() == [
        (b"host", b"example.com"),
        (b"content-type", b"text/plain"),
        (b"x-multi", b"one"),
        (b"x-multi", b"two"),
        (b"cookie", b"a=1"),
    ]
    assert impl.headers.Headers([("X-MiXeD-Name", "V a L")]).raw_lower() == [(b"x-mixed-name", b"V a L")]
    assert impl.headers.Headers([]).raw_lower() == []


class TestEveryLengthAndPosition:
    # PERF (issue 17): the compiled twin checks a value's bytes and compares a name with the
    # well-known ones in 8-byte words, the tail as one overlapping word; a bad byte or a
    # differing letter is found at every position of every length.

    @pytest.mark.parametrize("bad", [0x00, 0x01, 0x0A, 0x0D, 0x1F, 0x7F])
    def test_a_bad_byte_anywhere_in_a_value_is_refused(self, impl, bad):
        for n in range(1, 26):
            for pos in range(n):
                value = bytearray(b"v" * n)
                value[pos] = bad
                with pytest.raises(BadRequest):
                    impl.headers.parse_field_line(b"X-A: " + bytes(value))

    def test_htab_sp_and_obs_text_pass_at_every_position(self, impl):
        for n in range(1, 26):
            for pos in range(1, n - 1):
                for good in (0x09, 0x20, 0x80, 0xFF, 0x7E, 0x21):
                    value = bytearray(b"v" * n)
                    value[pos] = good
                    assert impl.headers.parse_field_line(b"X-A: " + bytes(value)) == (b"X-A", bytes(value))

    def test_a_name_one_letter_off_a_well_known_name_is_another_name(self, impl):
        for name in impl.headers.WELL_KNOWN:
            mixed = "".join(c.upper() if i % 2 else c for i, c in enumerate(name))
            headers = impl.headers.Headers([(mixed, "v")])
            assert headers.get(name) == "v" and headers.keys() == [name]
            for pos in range(len(name)):
                if name[pos] == "-":
                    continue
                off = name[:pos] + ("q" if name[pos] != "q" else "z") + name[pos + 1 :]
                headers = impl.headers.Headers([(off, "v")])
                assert headers.get(name) is None and headers.get(off) == "v" and headers.keys() == [off]
