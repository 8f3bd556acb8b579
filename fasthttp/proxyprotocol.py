"""The PROXY protocol preface (HAProxy's PROXY protocol, versions 1 and 2): the real client and
server addresses a load balancer sends before the first byte of HTTP.

Strategy: sans-IO, like the kernels. :func:`parse_preface` takes the bytes received so far and
returns None (more are needed), or ``(preface, consumed)``; anything malformed raises
:class:`ProxyProtocolError` at once, without waiting for more bytes: the connection is then closed
(the engine's ``fasthttp.preface``). Strict: a v1 line is at most 107 bytes, ends in CRLF and has
exactly the fields of its family; a v2 header has the 12-byte signature, version 2, a known
command and family, an address block of at least the family's size, and TLVs that exactly fill
what follows it. ``LOCAL`` (v2) and ``UNKNOWN`` (v1) carry no addresses: the connection's own
are kept (health checks of the balancer).
"""

from __future__ import annotations

import ipaddress
import struct

__all__ = ("ProxyPreface", "ProxyProtocolError", "parse_preface", "V2_SIGNATURE", "MAX_V1")

V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
MAX_V1 = 107  # the longest v1 line, CRLF included (the specification's section 2.1)

# v2 families (transport protocol in the low nibble, address family in the high one).
_FAMILIES = {0x00: None, 0x11: "tcp4", 0x12: "udp4", 0x21: "tcp6", 0x22: "udp6", 0x31: "unix", 0x32: "unix-dgram"}
_SIZES = {"tcp4": 12, "udp4": 12, "tcp6": 36, "udp6": 36, "unix": 216, "unix-dgram": 216}


class ProxyProtocolError(ValueError):
    """A malformed or missing PROXY protocol preface."""


class ProxyPreface:
    """What the balancer said: ``version`` (1 or 2), ``family`` (``"tcp4"``, ``"tcp6"``,
    ``"unix"``, ... or None for LOCAL/UNKNOWN), ``client`` and ``server`` (``(host, port)``, a
    UNIX path as bytes, or None), and the v2 ``tlvs`` as ``(type, value)`` pairs."""

    __slots__ = ("version", "family", "client", "server", "tlvs")

    def __init__(self, version: int, family: str | None, client: object, server: object, tlvs: list[tuple[int, bytes]]) -> None:
        self.version = version
        self.family = family
        self.client = client
        self.server = server
        self.tlvs = tlvs

    def __repr__(self) -> str:
        return f"ProxyPreface(v{self.version}, {self.family}, client={self.client!r}, server={self.server!r}, tlvs={self.tlvs!r})"


def parse_preface(data: bytes) -> tuple[ProxyPreface, int] | None:
    """The preface at the start of *data* and its length, or None if more bytes are needed."""
    if data[:1] == b"P":
        return _parse_v1(data)
    if data[:1] == b"\r":
        return _parse_v2(data)
    if data:
        raise ProxyProtocolError("no PROXY protocol preface")
    return None


def _port(text: bytes) -> int:
    # v1: a port is 1 to 5 digits without a leading zero (0 alone is allowed), at most 65535.
    if not text.isdigit() or len(text) > 5 or (len(text) > 1 and text[:1] == b"0") or int(text) > 65535:
        raise ProxyProtocolError(f"invalid port in PROXY line: {text!r}")
    return int(text)


def _parse_v1(data: bytes) -> tuple[ProxyPreface, int] | None:
    if not b"PROXY "[: len(data)] == data[:6]:
        raise ProxyProtocolError("no PROXY protocol preface")
    end = data.find(b"\r\n", 0, MAX_V1)
    if end < 0:
        if len(data) >= MAX_V1 or b"\n" in data[:MAX_V1]:
            raise ProxyProtocolError("PROXY line too long or not ended by CRLF")
        return None
    fields = data[:end].split(b" ")
    if fields[1:2] == [b"UNKNOWN"]:
        return ProxyPreface(1, None, None, None, []), end + 2
    if len(fields) != 6 or fields[1] not in (b"TCP4", b"TCP6"):
        raise ProxyProtocolError("malformed PROXY line")
    family = fields[1].decode().lower()
    version = 4 if family == "tcp4" else 6
    try:
        src = ipaddress.ip_address(fields[2].decode("ascii"))
        dst = ipaddress.ip_address(fields[3].decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise ProxyProtocolError("invalid address in PROXY line") from None
    if src.version != version or dst.version != version:
        raise ProxyProtocolError("address family mismatch in PROXY line")
    return ProxyPreface(1, family, (str(src), _port(fields[4])), (str(dst), _port(fields[5])), []), end + 2


def _parse_v2(data: bytes) -> tuple[ProxyPreface, int] | None:
    n = min(len(data), 12)
    if data[:n] != V2_SIGNATURE[:n]:
        raise ProxyProtocolError("no PROXY protocol preface")
    if len(data) < 16:
        return None
    ver_cmd, fam, length = data[12], data[13], struct.unpack("!H", data[14:16])[0]
    if ver_cmd >> 4 != 2:
        raise ProxyProtocolError(f"unsupported PROXY protocol version {ver_cmd >> 4}")
    command = ver_cmd & 0x0F
    if command not in (0, 1):
        raise ProxyProtocolError(f"unknown PROXY protocol v2 command {command}")
    if fam not in _FAMILIES:
        raise ProxyProtocolError(f"unknown PROXY protocol v2 family 0x{fam:02x}")
    if len(data) < 16 + length:
        return None
    block = data[16 : 16 + length]
    family = _FAMILIES[fam]
    size = _SIZES.get(family, 0) if family is not None else 0
    if len(block) < size:
        raise ProxyProtocolError("PROXY protocol v2 address block too short")
    client: object = None
    server: object = None
    if family in ("tcp4", "udp4"):
        client = (str(ipaddress.IPv4Address(block[0:4])), struct.unpack("!H", block[8:10])[0])
        server = (str(ipaddress.IPv4Address(block[4:8])), struct.unpack("!H", block[10:12])[0])
    elif family in ("tcp6", "udp6"):
        client = (str(ipaddress.IPv6Address(block[0:16])), struct.unpack("!H", block[32:34])[0])
        server = (str(ipaddress.IPv6Address(block[16:32])), struct.unpack("!H", block[34:36])[0])
    elif family is not None:  # unix: two 108-byte NUL-padded paths
        client = block[0:108].split(b"\x00", 1)[0] if block[0] else block[0:108].rstrip(b"\x00")
        server = block[108:216].split(b"\x00", 1)[0] if block[108] else block[108:216].rstrip(b"\x00")
    tlvs = []
    i = size
    while i < len(block):
        if i + 3 > len(block):
            raise ProxyProtocolError("truncated PROXY protocol v2 TLV")
        kind, tlv_len = block[i], struct.unpack("!H", block[i + 1 : i + 3])[0]
        if i + 3 + tlv_len > len(block):
            raise ProxyProtocolError("PROXY protocol v2 TLV overruns the header")
        tlvs.append((kind, block[i + 3 : i + 3 + tlv_len]))
        i += 3 + tlv_len
    if command == 0:  # LOCAL: the balancer's own connection (a health check)
        return ProxyPreface(2, None, None, None, tlvs), 16 + length
    return ProxyPreface(2, family, client, server, tlvs), 16 + length
