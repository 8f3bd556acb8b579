"""Helpers for the websocket tests: raw frames, and a raw websocket client over a socket.

- :func:`frame`: one RFC 6455 §5.2 frame as bytes, exactly as asked (masked or not, reserved
  bits, any opcode, a declared length that lies), for the hostile-peer tests;
- :func:`handshake`: the opening handshake request (RFC 6455 §4.1) and its key;
- :class:`RawWebSocket`: a client over asyncio streams that sends bytes as given and reads the
  server's frames one by one (:meth:`RawWebSocket.read_frame`), so a test sees every frame,
  control frames included, and can refuse to answer a ping or a close.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from dataclasses import dataclass
from typing import Any

from helpers_server import Client, Resp

TEXT, BINARY, CONTINUATION, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA


def frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    mask: bool = True,
    rsv: int = 0,
    length: int | None = None,
    key: bytes | None = None,
) -> bytes:
    """One frame: FIN, RSV bits (``rsv`` is 0-7 for RSV1-3), the opcode, the payload length
    (*length* overrides what is declared), the masking key and the (masked) payload."""
    declared = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | (rsv & 7) << 4 | opcode & 0x0F])
    bit = 0x80 if mask else 0
    if declared <= 125:
        head += bytes([bit | declared])
    elif declared <= 0xFFFF:
        head += bytes([bit | 126]) + struct.pack("!H", declared)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", declared)
    if not mask:
        return head + payload
    key = os.urandom(4) if key is None else key
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def close_payload(code: int, reason: str = "") -> bytes:
    return struct.pack("!H", code) + reason.encode()


def handshake(target: str = "/ws", headers: list[tuple[str, str]] | None = None, *, host: str = "test") -> tuple[bytes, str]:
    """The opening handshake request for *target* and its ``Sec-WebSocket-Key``."""
    key = base64.b64encode(os.urandom(16)).decode()
    fields = [
        ("Host", host),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", key),
        ("Sec-WebSocket-Version", "13"),
    ] + list(headers or [])
    head = f"GET {target} HTTP/1.1\r\n" + "".join(f"{n}: {v}\r\n" for n, v in fields) + "\r\n"
    return head.encode("latin-1"), key


@dataclass
class Frame:
    fin: bool
    rsv: int
    opcode: int
    payload: bytes

    @property
    def close_code(self) -> int | None:
        return struct.unpack("!H", self.payload[:2])[0] if self.opcode == CLOSE and len(self.payload) >= 2 else None


class RawWebSocket:
    """A websocket client that sends raw bytes and reads every frame the server sends."""

    def __init__(self, client: Client, response: Resp) -> None:
        self.client = client
        self.response = response

    @classmethod
    async def connect(cls, server: Any, target: str = "/ws", headers: list[tuple[str, str]] | None = None) -> RawWebSocket:
        client = await Client.connect(server)
        request, _ = handshake(target, headers)
        await client.send(request)
        response = await client.read_head()
        assert response.status == 101, response
        return cls(client, response)

    async def send(self, data: bytes) -> None:
        await self.client.send(data)

    async def send_text(self, text: str) -> None:
        await self.send(frame(TEXT, text.encode()))

    async def read_frame(self) -> Frame:
        """The next frame from the server (which never masks, RFC 6455 §5.1)."""
        reader = self.client.reader
        b0, b1 = await reader.readexactly(2)
        assert not b1 & 0x80, "a server frame is never masked"
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", await reader.readexactly(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", await reader.readexactly(8))[0]
        payload = await reader.readexactly(n)
        return Frame(bool(b0 & 0x80), b0 >> 4 & 7, b0 & 0x0F, payload)

    async def read_close(self) -> Frame:
        """Frames up to the server's close frame (data and pings before it are skipped)."""
        while True:
            f = await self.read_frame()
            if f.opcode == CLOSE:
                return f

    async def closed(self, timeout: float = 5.0) -> bool:
        """True once the server has closed the TCP connection (EOF or reset)."""
        try:
            while await asyncio.wait_for(self.client.reader.read(65536), timeout):
                pass
        except (ConnectionResetError, BrokenPipeError):
            return True
        except asyncio.TimeoutError:
            return False
        return True

    async def close(self) -> None:
        await self.client.close()
