"""Tests for fasthttp.jsontext (both twins through ``impl``): compact JSON for small simple values.

The kernel answers the bytes of ``fasthttp.responses.json_dumps`` (orjson) and of
``stdlib_json_dumps`` for every value it accepts, and None for every value it refuses, so the
caller's encoders keep every decision (floats, escapes, non-ASCII, big integers, other types).
"""

from __future__ import annotations

import collections
import enum
import inspect
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from fasthttp.responses import ORJSON_DUMPS, json_dumps, stdlib_json_dumps


def test_twins_have_the_same_public_api_and_bounds(py_impl, c_impl):
    names = ("MAX_ITEMS", "MAX_DEPTH", "MAX_BYTES", "FASTER_THAN_ORJSON", "encode_simple")
    assert py_impl.jsontext.__all__ == c_impl.jsontext.__all__ == names
    for name in ("MAX_ITEMS", "MAX_DEPTH", "MAX_BYTES"):
        assert getattr(py_impl.jsontext, name) == getattr(c_impl.jsontext, name)
    py_sig = inspect.signature(py_impl.jsontext.encode_simple)
    assert list(py_sig.parameters) == list(inspect.signature(c_impl.jsontext.encode_simple).parameters)


def test_only_the_compiled_twin_is_worth_calling_before_orjson(py_impl, c_impl):
    assert py_impl.jsontext.FASTER_THAN_ORJSON is False
    assert c_impl.jsontext.FASTER_THAN_ORJSON is True


def test_the_facade_serves_the_twin_in_use():
    import fasthttp.jsontext
    from fasthttp._compat import kernel_implementations

    twin = kernel_implementations()["jsontext"]
    module = "fasthttp._speedups.jsontext" if twin == "c" else "fasthttp._pure.jsontext"
    assert fasthttp.jsontext.encode_simple.__module__ == module


def _same_as_the_encoders(value: Any, out: bytes | None) -> None:
    if out is None:
        return
    assert out == json_dumps(value) == stdlib_json_dumps(value)
    if ORJSON_DUMPS is not None:
        assert out == ORJSON_DUMPS(value)


# --- accepted values: the encoders' bytes ------------------------------------------------------


def test_the_benchmarks_answer_is_encoded(impl):
    assert impl.jsontext.encode_simple({"message": "Hello, World!"}) == b'{"message":"Hello, World!"}'


def test_a_flat_object_of_every_leaf_kind_is_the_encoders_bytes(impl):
    value = {"id": 7, "name": "ada", "admin": False, "ok": True, "note": None, "min": -(2**63), "max": 2**63 - 1, "zero": 0, "neg": -10}
    out = impl.jsontext.encode_simple(value)
    assert out == b'{"id":7,"name":"ada","admin":false,"ok":true,"note":null,"min":-9223372036854775808,"max":9223372036854775807,"zero":0,"neg":-10}'
    _same_as_the_encoders(value, out)


def test_empty_containers_nested_containers_and_a_top_level_list_are_encoded(impl):
    value = [{}, [], {"a": [1, {"b": None}]}, ""]
    out = impl.jsontext.encode_simple(value)
    assert out == b'[{},[],{"a":[1,{"b":null}]},""]'
    _same_as_the_encoders(value, out)


def test_delete_and_every_printable_ascii_but_quote_and_backslash_go_unescaped(impl):
    text = "".join(chr(c) for c in range(0x20, 0x80) if chr(c) not in '"\\')
    out = impl.jsontext.encode_simple({text: text})
    assert out is not None and b"\x7f" in out
    _same_as_the_encoders({text: text}, out)


def test_integers_of_every_length_and_sign_are_written_in_decimal(impl):
    # The compiled twin counts the digits, then writes them two at a time from the last.
    values = [0, 2**63 - 1, -(2**63)]
    for digits in range(1, 20):
        values += [10 ** (digits - 1), 10**digits - 1, -(10 ** (digits - 1)), -(10**digits - 1)]
    values = [v for v in values if -(2**63) <= v < 2**63]
    for v in values:
        assert impl.jsontext.encode_simple([v]) == b"[%d]" % v, v
    _same_as_the_encoders(values[:16], impl.jsontext.encode_simple(values[:16]))


def test_the_bounds_themselves_are_accepted(impl):
    k = impl.jsontext
    assert k.encode_simple(list(range(k.MAX_ITEMS))) is not None
    assert k.encode_simple({str(i): i for i in range(k.MAX_ITEMS)}) is not None
    deepest: Any = []
    for _ in range(k.MAX_DEPTH - 1):
        deepest = [deepest]
    assert k.encode_simple(deepest) == b"[" * k.MAX_DEPTH + b"]" * k.MAX_DEPTH
    longest = ["x" * (k.MAX_BYTES - 4)]  # ["xx...x"]: the quotes and brackets make MAX_BYTES
    assert len(k.encode_simple(longest)) == k.MAX_BYTES


# --- refusals: None, for the caller's encoders -------------------------------------------------


class _Color(enum.IntEnum):
    RED = 1


class _Text(str):
    pass


def test_a_float_is_refused(impl):
    assert impl.jsontext.encode_simple({"x": 1.0}) is None


def test_non_ascii_text_is_refused_in_values_and_keys(impl):
    assert impl.jsontext.encode_simple({"x": "é"}) is None
    assert impl.jsontext.encode_simple({"é": 1}) is None


def test_text_needing_an_escape_is_refused(impl):
    for text in ('"', "\\", "\x00", "\n", "\x1f", 'a"b'):
        assert impl.jsontext.encode_simple([text]) is None, repr(text)
        assert impl.jsontext.encode_simple({text: 0}) is None, repr(text)


def test_a_character_needing_an_escape_is_found_at_every_position_of_a_longer_text(impl):
    # The compiled twin checks words of eight bytes (the last one overlapping), or under eight
    # bytes the first and last four, or under four byte by byte: every length and position.
    for length in range(1, 25):
        for bad in ('"', "\\", "\x00", "\x1f"):
            for i in range(length):
                text = "a" * i + bad + "b" * (length - 1 - i)
                assert impl.jsontext.encode_simple([text]) is None, (bad, length, i)
        text = ("~ \x7f!#[]z" * 3)[:length]
        assert impl.jsontext.encode_simple({text: text}) == b'{"%s":"%s"}' % (text.encode(), text.encode())


def test_an_integer_beyond_signed_64_bits_is_refused(impl):
    assert impl.jsontext.encode_simple([2**63]) is None
    assert impl.jsontext.encode_simple([-(2**63) - 1]) is None


def test_a_non_str_key_is_refused(impl):
    assert impl.jsontext.encode_simple({1: "a"}) is None
    assert impl.jsontext.encode_simple({None: "a"}) is None


def test_subclasses_are_refused(impl):
    assert impl.jsontext.encode_simple([_Color.RED]) is None
    assert impl.jsontext.encode_simple([_Text("a")]) is None
    assert impl.jsontext.encode_simple({_Text("a"): 1}) is None
    assert impl.jsontext.encode_simple(collections.OrderedDict(a=1)) is None


def test_other_types_are_refused(impl):
    for value in ([(1, 2)], [b"x"], [object()], [{1, 2}], (1,), [bytearray()]):
        assert impl.jsontext.encode_simple(value) is None, repr(value)


def test_a_container_past_max_items_is_refused(impl):
    k = impl.jsontext
    assert k.encode_simple(list(range(k.MAX_ITEMS + 1))) is None
    assert k.encode_simple({str(i): i for i in range(k.MAX_ITEMS + 1)}) is None
    assert k.encode_simple([[0] * (k.MAX_ITEMS + 1)]) is None


def test_nesting_past_max_depth_is_refused(impl):
    k = impl.jsontext
    deep: Any = []
    for _ in range(k.MAX_DEPTH):
        deep = [deep]
    assert k.encode_simple(deep) is None
    assert k.encode_simple({"a": {"b": {"c": {"d": {}}}}}) is None


def test_an_output_past_max_bytes_is_refused(impl):
    k = impl.jsontext
    assert k.encode_simple(["x" * (k.MAX_BYTES - 3)]) is None
    assert k.encode_simple({"k": "v" * (k.MAX_BYTES - 7)}) is None  # {"k":"..."} is MAX_BYTES + 1
    assert k.encode_simple([[[]]] + ["x" * (k.MAX_BYTES - 8)]) is None  # the last bracket is one too many
    assert k.encode_simple([10**18] * 16 + ["x" * 200]) is None  # numbers count too


# --- random values: the encoders' bytes or None, the same on both twins ------------------------

_SAFE_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7F, blacklist_characters='"\\'), max_size=40)
_ANY_TEXT = st.text(max_size=12)  # escapes, controls, non-ASCII
_INT64 = st.integers(-(2**63), 2**63 - 1)

_simple_leaves = _SAFE_TEXT | _INT64 | st.booleans() | st.none()
_near_leaves = _simple_leaves | _ANY_TEXT | st.integers() | st.floats(allow_nan=False) | st.sampled_from([_Color.RED, _Text("t")])


def _containers(leaves: st.SearchStrategy[Any], keys: st.SearchStrategy[Any], max_size: int) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=max_size) | st.dictionaries(keys, inner, max_size=max_size),
        max_leaves=40,
    )


_simple = _containers(_simple_leaves, _SAFE_TEXT, 16)
_near = _containers(_near_leaves, _SAFE_TEXT | _ANY_TEXT, 18)


def _depth(value: Any) -> int:
    if type(value) is dict:
        return 1 + max(map(_depth, value.values()), default=0)
    if type(value) is list:
        return 1 + max(map(_depth, value), default=0)
    return 0


@settings(max_examples=400)
@given(_simple)
def test_a_simple_value_within_the_bounds_is_encoded_as_the_encoders_do(impl, value):
    out = impl.jsontext.encode_simple(value)
    within = _depth(value) <= impl.jsontext.MAX_DEPTH and len(json_dumps(value)) <= impl.jsontext.MAX_BYTES
    assert (out is not None) == within
    _same_as_the_encoders(value, out)


@settings(max_examples=400)
@given(_near)
def test_any_near_simple_value_is_the_encoders_bytes_or_refused_alike_on_both_twins(py_impl, c_impl, value):
    out = c_impl.jsontext.encode_simple(value)
    assert py_impl.jsontext.encode_simple(value) == out
    _same_as_the_encoders(value, out)
