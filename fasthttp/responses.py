"""Responses: what a handler returns, and how plain values become responses.

Strategy: a response is data, not behaviour. The connection protocol (``fasthttp.protocol``)
recognises four shapes by exact type and writes each its own way:

- :class:`Response`: a status, the header fields and a body held in memory; written with the
  writer kernel's ``write_response`` in one ``transport.write``;
- :class:`StreamingResponse`: a body produced by an (async) iterator, sent with chunked coding
  (RFC 9112 §7.1), optionally followed by trailer fields (RFC 9110 §6.5);
- :class:`FileResponse`: a file sent with ``sendfile`` on plain TCP (zero copy), read in chunks
  under TLS;
- :class:`Upgrade`: hands the connection to another protocol (websocket, CONNECT tunnels).

Handlers may also return a ``str`` (``text/plain; charset=utf-8``), ``bytes``
(``application/octet-stream``), a ``dict`` or ``list`` (JSON, through orjson when it is
installed), or ``None`` (``204 No Content``: the handler produced nothing, RFC 9110 §15.3.5).
:func:`to_response` does that conversion; the protocol inlines the ``str`` case.

PERF: the header fields of a :class:`Response` are built once, in the constructor, as the list
of ``(name, value)`` pairs the writer takes, so writing it costs no Python-level work per field.
"""

from __future__ import annotations

import json as _json
import mimetypes
import os
from collections.abc import AsyncIterable, Iterable, Mapping
from typing import Any, Callable

try:  # PERF: orjson serialises several times faster than json; optional.
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None

from .writer import status_line as _status_line

__all__ = (
    "Response",
    "StreamingResponse",
    "FileResponse",
    "Upgrade",
    "HTTPError",
    "to_response",
    "error_response",
    "reason",
    "json_dumps",
    "json_loads",
    "TEXT_TYPE",
    "JSON_TYPE",
    "OCTET_TYPE",
)

TEXT_TYPE = b"text/plain; charset=utf-8"
JSON_TYPE = b"application/json"
OCTET_TYPE = b"application/octet-stream"
_CT = b"Content-Type"

#: Ready-made field lists for the common bodies; shared, never mutated (the writer only reads).
TEXT_FIELDS = ((_CT, TEXT_TYPE),)
JSON_FIELDS = ((_CT, JSON_TYPE),)
OCTET_FIELDS = ((_CT, OCTET_TYPE),)

Fields = Iterable[tuple[Any, Any]]


if _orjson is not None:

    def json_dumps(value: Any) -> bytes:
        """Serialise *value* to compact UTF-8 JSON bytes (orjson)."""
        return _orjson.dumps(value)

    json_loads = _orjson.loads
else:  # pragma: no cover - depends on the environment
    _encoder = _json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

    def json_dumps(value: Any) -> bytes:
        """Serialise *value* to compact UTF-8 JSON bytes (stdlib json)."""
        return _encoder.encode(value).encode()

    json_loads = _json.loads


def _fields(headers: Mapping | Fields | None) -> list:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return list(headers.items())
    return list(headers)


def _has_field(fields: list, name: bytes) -> bool:
    for n, _ in fields:
        if (n.encode("latin-1") if isinstance(n, str) else bytes(n)).lower() == name:
            return True
    return False


class Response:
    """A complete response held in memory.

    ``body`` is ``bytes`` (or ``str``, encoded as UTF-8). ``headers`` is a mapping or an iterable
    of ``(name, value)`` pairs (``str`` or ``bytes``). ``content_type`` defaults to
    ``text/plain; charset=utf-8`` for a ``str`` body and ``application/octet-stream`` for a
    non-empty ``bytes`` body, unless ``headers`` already holds a Content-Type.

    ``Content-Length`` (and ``Date``, ``Connection``) are added by the engine; a HEAD request
    gets the head only (RFC 9110 §9.3.2).
    """

    __slots__ = ("status", "fields", "body")

    def __init__(
        self,
        body: bytes | bytearray | memoryview | str = b"",
        status: int = 200,
        headers: Mapping | Fields | None = None,
        content_type: str | bytes | None = None,
    ) -> None:
        if isinstance(body, str):
            body = body.encode()
            default_type = TEXT_TYPE
        else:
            default_type = OCTET_TYPE if body else None
        self.status = status
        self.body = body
        if headers is None:
            ctype = content_type if content_type is not None else default_type
            self.fields = [(_CT, ctype)] if ctype is not None else []
            return
        fields = _fields(headers)
        if content_type is not None:
            fields.insert(0, (_CT, content_type))
        elif default_type is not None and not _has_field(fields, b"content-type"):
            fields.insert(0, (_CT, default_type))
        self.fields = fields

    @classmethod
    def json(cls, value: Any, status: int = 200, headers: Mapping | Fields | None = None) -> Response:
        """A JSON response (``application/json``)."""
        return cls(json_dumps(value), status, headers, JSON_TYPE)

    @property
    def headers(self) -> list:
        """The header fields as ``(name, value)`` pairs (without the ones the engine adds)."""
        return self.fields

    def __repr__(self) -> str:
        return f"<Response {self.status} {len(self.body)} bytes>"


class StreamingResponse:
    """A body produced piece by piece: *content* is an async iterable (or iterable) of ``bytes``
    or ``str``.

    Sent with chunked transfer coding (RFC 9112 §7.1) unless *content_length* is given; to an
    HTTP/1.0 client, which knows no chunked coding, the body is delimited by closing the
    connection. *trailers* (a mapping, pairs, or a callable returning either, called once the
    iterator is exhausted, sync or async) are sent after the last chunk (RFC 9112 §7.1.2); they
    are dropped when the body is not chunked. The engine stops pulling from *content* while the
    peer does not read (transport flow control).
    """

    __slots__ = ("status", "fields", "content", "content_length", "trailers")

    def __init__(
        self,
        content: AsyncIterable | Iterable,
        status: int = 200,
        headers: Mapping | Fields | None = None,
        content_type: str | bytes | None = None,
        *,
        content_length: int | None = None,
        trailers: Mapping | Fields | Callable[[], Any] | None = None,
    ) -> None:
        fields = _fields(headers)
        if content_type is not None:
            fields.insert(0, (_CT, content_type))
        elif not _has_field(fields, b"content-type"):
            fields.insert(0, (_CT, OCTET_TYPE))
        self.status = status
        self.fields = fields
        self.content = content
        self.content_length = content_length
        self.trailers = trailers

    def __repr__(self) -> str:
        return f"<StreamingResponse {self.status}>"


class FileResponse:
    """A file from disk, ``sendfile``'d on plain TCP (zero copy) and read in chunks under TLS.

    ``Content-Type`` is guessed from the file name when not given; ``Content-Length`` is the
    file size at the time the response is sent. A missing file answers ``404``.
    """

    __slots__ = ("status", "fields", "path", "chunk_size")

    def __init__(
        self,
        path: str | os.PathLike,
        status: int = 200,
        headers: Mapping | Fields | None = None,
        content_type: str | bytes | None = None,
        *,
        chunk_size: int = 256 * 1024,
    ) -> None:
        fields = _fields(headers)
        if content_type is None and not _has_field(fields, b"content-type"):
            guessed, encoding = mimetypes.guess_type(os.fspath(path))
            content_type = guessed if guessed and not encoding else OCTET_TYPE
        if content_type is not None:
            fields.insert(0, (_CT, content_type))
        self.status = status
        self.fields = fields
        self.path = os.fspath(path)
        self.chunk_size = chunk_size

    def __repr__(self) -> str:
        return f"<FileResponse {self.status} {self.path!r}>"


class Upgrade:
    """Take the connection over: answer with *status* (101, or 200 for CONNECT) and *headers*,
    then hand the transport to ``protocol_factory()``.

    The new protocol gets ``connection_made(transport)`` and then, if the client already sent
    bytes after the request, one ``data_received(rest)``. From then on the HTTP engine no longer
    reads from or writes to that connection, though graceful shutdown still closes it. A 2xx
    answer to CONNECT carries no framing fields (RFC 9110 §9.3.6); a 101 must name the new
    protocol in ``Upgrade`` (RFC 9110 §7.8), which is the handler's to supply in *headers*.
    """

    __slots__ = ("status", "fields", "protocol_factory")

    def __init__(
        self,
        protocol_factory: Callable[[], Any],
        status: int = 101,
        headers: Mapping | Fields | None = None,
    ) -> None:
        self.status = status
        self.fields = _fields(headers)
        self.protocol_factory = protocol_factory


class HTTPError(Exception):
    """Raise from a handler to answer with *status*; the body is *detail* as text (the reason
    phrase by default) and *headers* are added to the response.

    Unlike any other exception, it is not logged as a server error.
    """

    def __init__(self, status: int, detail: str | None = None, headers: Mapping | Fields | None = None) -> None:
        super().__init__(status, detail)
        self.status = status
        self.detail = detail if detail is not None else reason(status)
        self.headers = headers

    def response(self) -> Response:
        return Response(self.detail, self.status, self.headers)


def reason(status: int) -> str:
    """The reason phrase the writer sends for *status* (``"Not Found"``), or ``""``."""
    return _status_line(status)[13:-2].decode("latin-1")


def error_response(status: int, detail: str | None = None, headers=None) -> Response:
    """A small ``text/plain`` response for an error *status*."""
    return Response(reason(status) if detail is None else detail, status, headers)


def to_response(value: Any) -> Any:
    """Turn a handler's return value into one of the response types above.

    ``str`` -> text/plain UTF-8; ``bytes``/``bytearray``/``memoryview`` -> application/
    octet-stream; ``dict``/``list`` -> JSON; ``None`` -> ``204 No Content``; a response object is
    returned as is. Anything else is a ``TypeError`` (the engine answers it with a 500).
    """
    t = type(value)
    if t is Response or t is StreamingResponse or t is FileResponse or t is Upgrade:
        return value
    if t is str:
        return Response(value.encode(), 200, None, TEXT_TYPE)
    if t is bytes or t is bytearray or t is memoryview:
        return Response(value, 200, None, OCTET_TYPE)
    if t is dict or t is list:
        return Response(json_dumps(value), 200, None, JSON_TYPE)
    if value is None:
        return _NO_CONTENT
    if isinstance(value, (Response, StreamingResponse, FileResponse, Upgrade)):
        return value
    if isinstance(value, str):
        return Response(str(value).encode(), 200, None, TEXT_TYPE)
    if isinstance(value, (dict, list)):
        return Response(json_dumps(value), 200, None, JSON_TYPE)
    raise TypeError(f"a handler returned {t.__name__}; expected str, bytes, dict, list, None or a Response")


_NO_CONTENT = Response(b"", 204)
