"""fasthttp.wsframe: the websocket frame reader (RFC 6455 §5), every rule on both twins, and
parity: the same bytes, whole and split at every byte (and hypothesis mutations), give the same
events and the same error from the pure and the compiled twin."""

from __future__ import annotations

import struct

import pytest
from helpers_websocket import BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT, close_payload, frame
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fasthttp.errors import WebSocketProtocolError

KEY = b"\x12\x34\x56\x78"


def f(opcode, payload=b"", **kw):
    kw.setdefault("key", KEY)
    return frame(opcode, payload, **kw)


def read(impl, data, cuts=(), **limits):
    """Events and the error (code, reason) of *data* fed cut at *cuts*."""
    reader = impl.wsframe.FrameReader(**limits)
    events = []
    bounds = [0, *cuts, len(data)]
    for a, b in zip(bounds, bounds[1:]):
        try:
            events += reader.feed(data[a:b])
        except WebSocketProtocolError as exc:
            return events + exc.events, (exc.code, exc.reason)
    return events, None


def control(impl, opcode, data=b"", code=0, reason=""):
    return impl.wsframe.Control(opcode, data, code, reason)


# -- what a reader returns --------------------------------------------------------------------------


def test_messages_and_control_frames_in_order(impl):
    data = (
        f(TEXT, b"hello")
        + f(BINARY, b"\x00\xff")
        + f(PING, b"p")
        + f(PONG, b"")
        + f(TEXT, "κόσμε".encode())
        + f(CLOSE, close_payload(1000, "bye"))
    )
    events, error = read(impl, data)
    assert error is None
    assert events == [
        "hello",
        b"\x00\xff",
        control(impl, PING, b"p"),
        control(impl, PONG),
        "κόσμε",
        control(impl, CLOSE, close_payload(1000, "bye"), 1000, "bye"),
    ]


def test_after_a_close_frame_the_reader_is_done(impl):
    reader = impl.wsframe.FrameReader()
    events = reader.feed(f(CLOSE) + f(TEXT, b"ignored"))
    assert events == [control(impl, CLOSE, b"", 1005)]  # RFC 6455 §7.1.5: no code is 1005
    assert reader.closed and reader.buffered == 0
    assert reader.feed(f(TEXT, b"more")) == []


def test_fragments_are_joined_with_control_frames_between(impl):
    text = "κόσμε".encode()
    data = (
        f(TEXT, text[:3], fin=False)
        + f(PING, b"1")
        + f(CONTINUATION, text[3:7], fin=False)
        + f(CONTINUATION, text[7:])
        + f(BINARY, b"ab", fin=False)
        + f(CONTINUATION, b"", fin=False)
        + f(CONTINUATION, b"cd")
    )
    events, error = read(impl, data)
    assert (events, error) == ([control(impl, PING, b"1"), "κόσμε", b"abcd"], None)


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 125, 126, 127, 511, 512, 513, 65535, 65536, 70000])
def test_every_length_encoding_and_unmasking(impl, n):
    payload = bytes(range(256)) * (n // 256 + 1)
    payload = payload[:n]
    text = ("é" * n)[: n // 2]
    events, error = read(impl, f(BINARY, payload) + f(TEXT, text.encode()))
    assert (events, error) == ([payload, text], None)


def test_partial_frames_wait_and_are_buffered(impl):
    reader = impl.wsframe.FrameReader()
    data = f(BINARY, b"x" * 300)
    assert reader.feed(data[:3]) == []
    assert reader.feed(data[3:100]) == []
    assert reader.buffered == 100
    assert reader.feed(data[100:] + data[:1]) == [b"x" * 300]
    assert reader.buffered == 1


def test_unmask_is_its_own_inverse(impl):
    data = bytes(range(200))
    masked = impl.wsframe.unmask(data, KEY)
    assert masked == bytes(b ^ KEY[i % 4] for i, b in enumerate(data))
    assert impl.wsframe.unmask(masked, KEY) == data
    assert impl.wsframe.unmask(b"", KEY) == b""
    with pytest.raises(ValueError):
        impl.wsframe.unmask(b"abc", b"12")


def test_valid_close_codes(impl):
    valid = impl.wsframe.valid_close_code
    assert all(valid(c) for c in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999))
    assert not any(valid(c) for c in (0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 1 << 70))


# -- the rules ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, code",
    [
        (f(TEXT, b"unmasked", mask=False), 1002),  # RFC 6455 §5.1
        (f(PING, mask=False), 1002),
        (f(TEXT, b"x", rsv=4), 1002),  # RSV1 without an extension (§5.2)
        (f(TEXT, b"x", rsv=2), 1002),
        (f(TEXT, b"x", rsv=1), 1002),
        (f(0x3, b"x"), 1002),  # reserved data opcode
        (f(0x7, b"x"), 1002),
        (f(0xB, b"x"), 1002),  # reserved control opcode
        (f(0xF, b"x"), 1002),
        (f(PING, b"x" * 126), 1002),  # control frame over 125 bytes (§5.5)
        (f(PONG, b"x", fin=False), 1002),  # fragmented control frame
        (f(CONTINUATION, b"x"), 1002),  # nothing to continue (§5.4)
        (f(TEXT, b"a", fin=False) + f(TEXT, b"b"), 1002),  # a new message inside one
        (f(TEXT, b"a", fin=False) + f(BINARY, b"b"), 1002),
        (f(BINARY, b"", length=1 << 63), 1002),  # the length's most significant bit (§5.2)
        (f(BINARY, b"", length=(1 << 64) - 1), 1002),
        (b"\x82\xfe\x00\x7d" + KEY, 1002),  # 125 in the 16-bit form: not minimal
        (b"\x82\xff" + struct.pack("!Q", 65535) + KEY, 1002),  # not minimal in the 64-bit form
        (f(CLOSE, b"\x03"), 1002),  # a one-byte close payload (§5.5.1)
        (f(CLOSE, close_payload(1005)), 1002),  # a code that is never sent (§7.4.1)
        (f(CLOSE, close_payload(1006)), 1002),
        (f(CLOSE, close_payload(1004)), 1002),
        (f(CLOSE, close_payload(999)), 1002),
        (f(CLOSE, close_payload(2000)), 1002),
        (f(CLOSE, close_payload(5000)), 1002),
        (f(TEXT, b"\xff"), 1007),  # not UTF-8 (§8.1)
        (f(TEXT, b"\xed\xa0\x80"), 1007),  # a surrogate
        (f(TEXT, b"\xc0\xaf"), 1007),  # overlong
        (f(TEXT, b"\xf4\x90\x80\x80"), 1007),  # past U+10FFFF
        (f(TEXT, b"x" * 600 + b"\xff"), 1007),  # past the stack buffer of the compiled twin
        (f(TEXT, b"ok\xce", fin=False) + f(CONTINUATION, b"", fin=True), 1007),  # truncated at the end
        (f(CLOSE, close_payload(1000) + b"\xff"), 1007),  # a close reason that is not UTF-8
    ],
)
def test_protocol_errors_carry_their_close_code(impl, data, code):
    events, error = read(impl, data)
    assert events == [] and error is not None and error[0] == code, error


def test_invalid_utf8_fails_at_the_fragment_that_holds_it(impl):
    reader = impl.wsframe.FrameReader()
    assert reader.feed(f(TEXT, "hello κ".encode()[:-1], fin=False)) == []
    with pytest.raises(WebSocketProtocolError) as failed:
        reader.feed(f(CONTINUATION, b"\x41", fin=False))  # the message has not ended
    assert failed.value.code == 1007


def test_events_before_an_error_are_kept_and_the_reader_stays_failed(impl):
    reader = impl.wsframe.FrameReader()
    with pytest.raises(WebSocketProtocolError) as failed:
        reader.feed(f(TEXT, b"first") + f(PING, b"p") + f(0x3))
    assert failed.value.events == ["first", control(impl, PING, b"p")]
    with pytest.raises(WebSocketProtocolError) as again:
        reader.feed(f(TEXT, b"later"))
    assert again.value.code == 1002 and again.value.events == []


def test_header_errors_need_no_more_than_the_header(impl):
    # A lying length fails with only its header in: nothing is buffered or awaited.
    for data, code in ((f(BINARY, b"", length=1 << 63)[:10], 1002), (f(0x3)[:2], 1002), (f(TEXT, mask=False)[:2], 1002)):
        with pytest.raises(WebSocketProtocolError) as failed:
            impl.wsframe.FrameReader().feed(data)
        assert failed.value.code == code


def test_frame_and_message_limits_are_1009_before_buffering(impl):
    limits = dict(max_frame_size=600, max_message_size=1000)
    assert read(impl, f(BINARY, b"x" * 600), **limits) == ([b"x" * 600], None)
    assert read(impl, f(TEXT, "é".encode() * 300), **limits) == (["é" * 300], None)
    joined = f(BINARY, b"y" * 500, fin=False) + f(CONTINUATION, b"y" * 500)
    assert read(impl, joined, **limits) == ([b"y" * 1000], None)
    assert read(impl, f(BINARY, b"z" * 601), **limits)[1][0] == 1009
    assert read(impl, f(TEXT, b"z" * 500, fin=False) + f(CONTINUATION, b"z" * 501), **limits)[1] == (1009, "message too big")
    # A huge declared length fails with its header only, before any payload is buffered.
    reader = impl.wsframe.FrameReader(**limits)
    with pytest.raises(WebSocketProtocolError) as failed:
        reader.feed(f(BINARY, b"", length=1 << 40))
    assert (failed.value.code, failed.value.reason) == (1009, "frame too big")
    # Control frames do not count against the message, and limits of None are no limits.
    assert read(impl, f(BINARY, b"a" * 500, fin=False) + f(PING, b"p" * 125) + f(CONTINUATION, b"a" * 500), **limits)[1] is None
    assert read(impl, f(BINARY, b"b" * 70000), max_frame_size=None, max_message_size=None) == ([b"b" * 70000], None)


def test_limits_are_attributes(impl):
    reader = impl.wsframe.FrameReader(max_frame_size=10)
    assert (reader.max_frame_size, reader.max_message_size) == (10, None)
    reader.max_frame_size = None
    assert reader.feed(f(BINARY, b"c" * 20)) == [b"c" * 20]


# -- parity: the two twins agree, whatever the split ----------------------------------------------------

SEEDS = [
    f(TEXT, b"hello") + f(BINARY, b"\x00" * 130) + f(PING, b"ping") + f(CLOSE, close_payload(1000, "ok")),
    f(TEXT, "κόσμε".encode()[:3], fin=False) + f(PONG) + f(CONTINUATION, "κόσμε".encode()[3:]),
    f(BINARY, b"q" * 70000) + f(TEXT, b""),
    f(TEXT, b"a" * 700, fin=False) + f(CONTINUATION, b"\xff"),
    f(TEXT, b"ab", fin=False) + f(TEXT, b"c"),
    f(BINARY, b"", length=1 << 63),
    f(CLOSE, close_payload(1000) + b"\xff"),
    f(CLOSE, b"") + f(TEXT, b"after"),
    f(TEXT, b"x") + f(0xB),
    f(BINARY, b"z" * 300),
]
LIMITS = dict(max_frame_size=200, max_message_size=400)


def records(impl, data):
    out = []
    for limits in ({}, LIMITS):
        out.append(read(impl, data, **limits))
        for cut in range(1, len(data)) if len(data) < 400 else range(1, len(data), 97):
            assert read(impl, data, (cut,), **limits) == out[-1], cut
        assert read(impl, data, range(1, min(len(data), 300)), **limits) == out[-1]
    return out


@pytest.mark.parametrize("data", SEEDS)
def test_parity_whole_and_split_at_every_byte(py_impl, c_impl, data):
    assert records(py_impl, data) == records(c_impl, data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(SEEDS),
    edits=st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), max_size=4),
    cut=st.integers(0, 1 << 16),
)
def test_parity_on_mutated_frames(py_impl, c_impl, seed, edits, cut):
    data = bytearray(seed[:2000])
    for at, value in edits:
        data[at % len(data)] = value
    data = bytes(data)
    cuts = (cut % len(data),) if data else ()
    for limits in ({}, LIMITS):
        assert read(py_impl, data, cuts, **limits) == read(c_impl, data, cuts, **limits)
