"""A :class:`fasthttp.requests.Request` without a server, for the message-model tests
(test_requests, test_validation): built from a head parsed by the real parser, over a fake
connection (:class:`fasthttp.requests.ConnectionInfo`) and a fake body fed from a list
(:class:`fasthttp.requests.BodyReader`); and :func:`served`, one scenario against an App served
over loopback.
"""

from __future__ import annotations

import asyncio

import pytest

from fasthttp import HttpError
from fasthttp.errors import ContentTooLarge
from fasthttp.parser import RequestParser
from fasthttp.requests import Request

from helpers_server import Client, build_request, run, serving


class FakeConnection:
    client = ("127.0.0.1", 50000)
    session: dict = {}
    peercert = None
    is_secure = False


class FakeBody:
    """The engine's body contract (:class:`fasthttp.requests.BodyReader`), fed from a list; it
    enforces its limit on the running total as the engine's reader does."""

    def __init__(self, chunks: list[bytes], limit: int | None = None) -> None:
        self._chunks = list(chunks)
        self._cached: bytes | None = None
        self._received = 0
        self.limit = limit
        self.reads = 0
        self.trailers = None
        self.complete = False

    def set_limit(self, limit: int | None) -> None:
        self.limit = limit

    def check_size(self) -> None:
        pass

    @property
    def cached(self) -> bytes | None:
        return self._cached

    async def read(self) -> bytes:
        await asyncio.sleep(0)  # a body arrives over time
        self.reads += 1
        if not self._chunks:
            self.complete = True
            return b""
        chunk = self._chunks.pop(0)
        self._received += len(chunk)
        if self.limit is not None and self._received > self.limit:
            raise ContentTooLarge()
        return chunk

    async def read_all(self) -> bytes:
        if self._cached is None:
            parts = []
            while chunk := await self.read():
                parts.append(chunk)
            self._cached = b"".join(parts)
        return self._cached


def make_request(
    headers: list[tuple[str, str]] | None = None,
    body: bytes | None = None,
    *,
    method: str = "POST",
    target: str = "/",
    chunk: int | None = None,
    chunked: bool = False,
    max_body_size: int | None = None,
) -> Request:
    headers = list(headers or [])
    if chunked:
        headers.append(("Transfer-Encoding", "chunked"))
        raw = build_request(method, target, headers=headers)
    else:
        raw = build_request(method, target, headers=headers, body=body)
    head = RequestParser().feed(raw)[0]
    request = Request(head, FakeConnection(), max_body_size)
    if body is not None and (head.content_length or head.chunked):
        size = chunk or max(len(body), 1)
        request.body_reader = FakeBody([body[i : i + size] for i in range(0, len(body), size)], max_body_size)
    return request


def call(coro):
    return asyncio.run(coro)


def status_of(coro) -> HttpError:
    with pytest.raises(HttpError) as info:
        call(coro)
    return info.value


def header(error: HttpError, name: str) -> str | None:
    for k, v in error.headers or []:
        if k.lower() == name.lower():
            return v
    return None


def served(loop, app, scenario, **options):
    async def main():
        async with serving(app, **options) as server:
            client = await Client.connect(server)
            try:
                return await scenario(client)
            finally:
                await client.close()

    return run(loop, main())
