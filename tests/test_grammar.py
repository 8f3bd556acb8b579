"""fasthttp._grammar: the one home of tchar, the date names and the reason phrases.

The compiled kernels keep C tables of the same sets; these tests hold every twin to this module.
"""

from __future__ import annotations

import pytest

from fasthttp import _grammar
from fasthttp.errors import BadRequest

ALL_BYTES = range(256)


def test_tchar_is_the_rfc_9110_set():
    # RFC 9110 §5.6.2: the 15 symbols, DIGIT and ALPHA, nothing else.
    symbols = set("!#$%&'*+-.^_`|~")
    alnum = {chr(c) for c in ALL_BYTES if chr(c).isascii() and chr(c).isalnum()}
    assert set(_grammar.TCHARS) == symbols | alnum
    assert _grammar.TCHAR == frozenset(_grammar.TCHARS.encode())


def test_token_patterns_match_exactly_the_tchars():
    for c in ALL_BYTES:
        is_tchar = c in _grammar.TCHAR
        assert (_grammar.TOKEN_BYTES.fullmatch(bytes([c])) is not None) == is_tchar
        assert (_grammar.TOKEN.fullmatch(chr(c)) is not None) == is_tchar


def test_every_twin_takes_exactly_the_tchars_in_a_field_name(impl):
    for c in ALL_BYTES:
        line = b"a" + bytes([c]) + b": v"
        if c in _grammar.TCHAR:
            assert impl.headers.parse_field_line(line) == (line[:2], b"v")
        elif c != ord(":"):
            with pytest.raises(BadRequest):
                impl.headers.parse_field_line(line)


def test_every_twin_quotes_a_boundary_unless_all_tchars(impl):
    for c in "'()+_,-./:=?":
        quoted = '"' in impl.ranges.byteranges_content_type(f"ab{c}cd")
        assert quoted == (c not in _grammar.TCHARS)


def test_reason_phrases_are_the_ones_the_writers_send(impl):
    for code, phrase in _grammar.REASONS.items():
        assert impl.writer.status_line(code) == f"HTTP/1.1 {code} {phrase}\r\n".encode()
    assert _grammar.reason_phrase(599) == ""
