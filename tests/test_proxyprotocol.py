"""fasthttp.proxyprotocol: the PROXY protocol v1/v2 preface, parsed strictly, whole and byte by byte."""

from __future__ import annotations

import ipaddress
import struct

import pytest

from fasthttp.proxyprotocol import V2_SIGNATURE, ProxyProtocolError, parse_preface


def v2(command: int, family: int, block: bytes) -> bytes:
    return V2_SIGNATURE + bytes([0x20 | command, family]) + struct.pack("!H", len(block)) + block


def tcp4_block(src="192.0.2.1", dst="198.51.100.2", sport=4711, dport=443) -> bytes:
    return ipaddress.IPv4Address(src).packed + ipaddress.IPv4Address(dst).packed + struct.pack("!HH", sport, dport)


def fed_bytewise(data: bytes):
    """parse_preface on every prefix: None until the whole preface is there."""
    for i in range(len(data)):
        assert parse_preface(data[:i]) is None, i
    return parse_preface(data)


def test_v1_tcp4_and_tcp6():
    data = b"PROXY TCP4 192.0.2.1 198.51.100.2 4711 443\r\nGET / HTTP/1.1\r\n"
    preface, used = fed_bytewise(data[: data.index(b"\n") + 1])
    assert (preface.version, preface.family, preface.client, preface.server) == (1, "tcp4", ("192.0.2.1", 4711), ("198.51.100.2", 443))
    preface, used = parse_preface(data)
    assert data[used:] == b"GET / HTTP/1.1\r\n"
    preface, _ = parse_preface(b"PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n")
    assert preface.client == ("2001:db8::1", 1) and preface.family == "tcp6"


def test_v1_unknown_keeps_the_connection_addresses():
    preface, used = parse_preface(b"PROXY UNKNOWN whatever\r\n")
    assert preface.client is None and used == 24


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\r\n",  # no preface at all
        b"PROXY TCP4 192.0.2.1 198.51.100.2 4711\r\n",  # a field missing
        b"PROXY TCP4 2001:db8::1 198.51.100.2 1 2\r\n",  # family mismatch
        b"PROXY TCP4 192.0.2.1 198.51.100.2 04711 443\r\n",  # leading zero
        b"PROXY TCP4 192.0.2.1 198.51.100.2 70000 443\r\n",  # port out of range
        b"PROXY TCP4 192.0.2.1 198.51.100.2 1 2\n",  # bare LF
        b"PROXY TCP5 192.0.2.1 198.51.100.2 1 2\r\n",  # unknown family
        b"PROXY " + b"1" * 120,  # too long
        b"PROXY  TCP4 192.0.2.1 198.51.100.2 1 2\r\n",  # two spaces
    ],
)
def test_v1_malformed(data):
    with pytest.raises(ProxyProtocolError):
        parse_preface(data)


def test_v2_tcp4_with_tlvs():
    tlvs = bytes([0x02]) + struct.pack("!H", 11) + b"example.com" + bytes([0x04]) + struct.pack("!H", 0)
    data = v2(1, 0x11, tcp4_block() + tlvs) + b"GET"
    preface, used = fed_bytewise(data[:-3])
    assert (preface.version, preface.family, preface.client, preface.server) == (2, "tcp4", ("192.0.2.1", 4711), ("198.51.100.2", 443))
    assert preface.tlvs == [(0x02, b"example.com"), (0x04, b"")]
    assert parse_preface(data)[1] == len(data) - 3


def test_v2_tcp6_unix_and_local():
    block = ipaddress.IPv6Address("2001:db8::1").packed + ipaddress.IPv6Address("::1").packed + struct.pack("!HH", 5, 6)
    preface, _ = parse_preface(v2(1, 0x21, block))
    assert preface.client == ("2001:db8::1", 5) and preface.server == ("::1", 6)
    unix = b"/run/client.sock".ljust(108, b"\x00") + b"/run/server.sock".ljust(108, b"\x00")
    preface, _ = parse_preface(v2(1, 0x31, unix))
    assert preface.family == "unix" and preface.client == b"/run/client.sock"
    preface, _ = parse_preface(v2(0, 0x11, tcp4_block()))  # LOCAL: a health check
    assert preface.client is None and preface.family is None
    preface, _ = parse_preface(v2(1, 0x00, b""))  # UNSPEC
    assert preface.client is None


@pytest.mark.parametrize(
    "data",
    [
        V2_SIGNATURE[:11] + b"X",  # a wrong signature byte
        V2_SIGNATURE + bytes([0x11, 0x11, 0, 12]) + tcp4_block(),  # version 1 in a v2 header
        V2_SIGNATURE + bytes([0x22, 0x11, 0, 12]) + tcp4_block(),  # unknown command
        v2(1, 0x41, b""),  # unknown family
        v2(1, 0x11, tcp4_block()[:8]),  # address block too short
        v2(1, 0x11, tcp4_block() + b"\x02\x00\x05ab"),  # a TLV overruns
        v2(1, 0x11, tcp4_block() + b"\x02\x00"),  # a truncated TLV
    ],
)
def test_v2_malformed(data):
    with pytest.raises(ProxyProtocolError):
        parse_preface(data)
