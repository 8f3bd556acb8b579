"""WebSocket frame reading benchmarks, ``py`` and ``c`` twins (and wsproto, the reader the kernel
replaces on connections without an extension): a read of 16 small text messages, one 64 KiB
binary message, and a text message in 8 fragments."""

from __future__ import annotations

import os
import struct

KEY = b"\x1f\x2e\x3d\x4c"


def _frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    return head + KEY + bytes(b ^ KEY[i % 4] for i, b in enumerate(payload))


SMALL = b"x" * 32  # benchmarks/server/wsbench.py ws-text sends 32-byte messages
SMALL_16 = _frame(0x1, SMALL) * 16
BINARY_64K = _frame(0x2, os.urandom(65536))
FRAGMENTS = _frame(0x1, "κόσμε".encode() * 100, fin=False) + b"".join(
    _frame(0x0, "κόσμε".encode() * 100, fin=i == 6) for i in range(7)
)


def _read(impl, data):
    events = impl.wsframe.FrameReader(max_frame_size=1 << 24, max_message_size=1 << 24).feed(data)
    return len(events), sum(len(e) for e in events)


def _read_wsproto(data):
    from wsproto.connection import Connection, ConnectionType

    conn = Connection(ConnectionType.SERVER)
    conn.receive_data(data)
    events = list(conn.events())
    return len(events), sum(len(e.data) for e in events)


def test_read_16_small_text(benchmark, impl):
    benchmark.group = "wsframe:read-16x32B-text"
    assert benchmark(_read, impl, SMALL_16) == (16, 16 * 32)


def test_read_16_small_text_wsproto(benchmark):
    benchmark.group = "wsframe:read-16x32B-text"
    assert benchmark(_read_wsproto, SMALL_16) == (16, 16 * 32)


def test_read_64k_binary(benchmark, impl):
    benchmark.group = "wsframe:read-64K-binary"
    assert benchmark(_read, impl, BINARY_64K) == (1, 65536)


def test_read_64k_binary_wsproto(benchmark):
    benchmark.group = "wsframe:read-64K-binary"
    assert benchmark(_read_wsproto, BINARY_64K) == (1, 65536)


def test_read_8_text_fragments(benchmark, impl):
    benchmark.group = "wsframe:read-8-fragments"
    assert benchmark(_read, impl, FRAGMENTS) == (1, 8 * 500)


def test_unmask_64k(benchmark, impl):
    benchmark.group = "wsframe:unmask-64K"
    data = bytes(65536)
    assert benchmark(impl.wsframe.unmask, data, KEY)[:4] == KEY
