"""Blocking raw-socket clients for the TLS tests (run in a thread while the server runs on the
test's loop): the bytes on the wire, read to the end of one response."""

from __future__ import annotations

import socket
import ssl
from typing import Any

LIMIT = 10.0


def read_head(sock: Any) -> bytes:
    """Bytes up to and including the first blank line (the head of one response)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(1)
        if not chunk:
            break
        data += chunk
    return data


def read_response(sock: Any) -> tuple[bytes, bytes]:
    """``(head, body)`` of one response framed by Content-Length (or read to EOF without one)."""
    head = read_head(sock)
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = b""
    while length is None or len(body) < length:
        chunk = sock.recv(65536 if length is None else length - len(body))
        if not chunk:
            break
        body += chunk
    return head, body


def read_all(sock: Any) -> bytes:
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            break
        if not chunk:
            break
        data += chunk
    return data


def connect(address: tuple[str, int]) -> socket.socket:
    return socket.create_connection(address[:2], timeout=LIMIT)
