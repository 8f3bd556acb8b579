"""The response validator: checks what handlers return, for development and tests (degu's RGI
validator, for fasthttp's API).

Strategy: :class:`Validator` is a middleware; it looks at each response object ``call_next``
gives (the handler's return value after ``to_response``) and raises
:class:`ResponseValidationError` naming the route and the rule, where the engine would
otherwise answer a bare 500 at write time (or, for a streamed body, abort half-way). The field
and framing rules are the writer kernel's own (``write_head``: token names, values without
CR/LF/controls, no framing fields from the application, a Content-Length that agrees with the
body), run here once more so the error surfaces in the handler's context; the validator adds:

- the status is an ``int`` from 200 to 599, or 101 in an :class:`~fasthttp.responses.Upgrade`
  (RFC 9110 §15: 1xx responses are the server's; 101 only switches protocols);
- a 204 or 304 carries no content (RFC 9110 §15.3.5, §15.4.5); a 1xx never has a body;
- a redirect (301, 302, 303, 307, 308) carries ``Location`` (RFC 9110 §15.4);
- singleton fields (``Content-Type``, ``Content-Length``, ``Location``, ``ETag``,
  ``Last-Modified``, ``Content-Encoding``...) appear once (RFC 9110 §5.3);
- the body is ``bytes``-like; a stream yields ``bytes`` or ``str`` pieces and, with a
  ``content_length``, exactly that many bytes (checked as it streams).

PERF: for development and tests; every response pays a second serialization of its head.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from ..files import FileResponse
from ..responses import FieldMethods, Response, StreamingResponse, Upgrade, get_field, lower_name, without_close
from ..writer import write_fields, write_head
from .stack import CallNext

if TYPE_CHECKING:
    from ..requests import Request

__all__ = ("Validator", "ResponseValidationError", "check_response")

#: RFC 9110 §5.3: fields defined as a single value (a recipient may not combine them).
SINGLETONS = frozenset(
    (b"content-type", b"content-length", b"location", b"etag", b"last-modified", b"content-encoding", b"content-range", b"date", b"expires", b"retry-after", b"age")
)
_REDIRECTS = frozenset((301, 302, 303, 307, 308))


class ResponseValidationError(Exception):
    """A handler returned a response that breaks a rule (the message names the route and the rule)."""


def _where(request: Request) -> str:
    return f"{request.method} {request.target.decode('latin-1')}"


def check_response(request: Request, response: Any) -> Any:
    """Check *response* (a response object) for *request*; return it, or one whose stream is
    checked as it goes. Raise :class:`ResponseValidationError` otherwise."""
    where = _where(request)
    if isinstance(response, Upgrade):
        if response.status != 101 and not (request.method == "CONNECT" and 200 <= response.status < 300):
            raise ResponseValidationError(f"{where}: an Upgrade answers 101 (or 2xx to CONNECT), not {response.status!r}")
        _check_fields(where, response.status, response.fields, None)
        return response
    if not isinstance(response, FieldMethods):
        raise ResponseValidationError(f"{where}: not a response object: {type(response).__name__}")
    status: Any = response.status
    fields: Any = response.fields
    if type(status) is not int or not 200 <= status <= 599:
        raise ResponseValidationError(f"{where}: a final status is an int from 200 to 599 (RFC 9110 §15), not {status!r}")
    if status in _REDIRECTS and get_field(fields, b"location") is None:
        raise ResponseValidationError(f"{where}: a {status} redirect needs a Location field (RFC 9110 §15.4)")
    if isinstance(response, Response):
        body = response.body
        if not isinstance(body, (bytes, bytearray, memoryview)):
            raise ResponseValidationError(f"{where}: a Response body is bytes, not {type(body).__name__}")
        if (status == 204 or status == 304) and len(body):
            raise ResponseValidationError(f"{where}: a {status} has no content (RFC 9110 §15.3.5, §15.4.5), got {len(body)} bytes")
        _check_fields(where, status, fields, len(body))
        return response
    if isinstance(response, FileResponse):
        _check_fields(where, status, fields, None)
        return response
    if isinstance(response, StreamingResponse):
        length = response.content_length
        if length is not None and (type(length) is not int or length < 0):
            raise ResponseValidationError(f"{where}: content_length is a non-negative int, not {length!r}")
        _check_fields(where, status, fields, length)
        content = response.content
        if hasattr(content, "__aiter__"):
            response.content = _checked_async(where, content, length)
        elif hasattr(content, "__iter__"):
            response.content = _checked_sync(where, content, length)
        else:
            raise ResponseValidationError(f"{where}: a stream's content is an iterable or an async iterable, not {type(content).__name__}")
        return response
    _check_fields(where, status, fields, None)
    return response


def _check_fields(where: str, status: int, fields: Any, length: int | None) -> None:
    # The engine honours an application's Connection: close (it closes after the response), so
    # that field passes here; the rest of the writer's rules apply as the engine applies them.
    rest = without_close(fields)
    try:
        write_head(status, fields if rest is None else rest, content_length=length)
    except Exception as exc:  # the writer's own rules: names, values, framing, Content-Length
        for name, value in fields:  # name the field the writer refused, when one field is it
            try:
                write_fields([(name, value)])
            except Exception:
                raise ResponseValidationError(f"{where}: field {name!r}: {exc}") from None
        raise ResponseValidationError(f"{where}: {exc}") from None
    seen: set[bytes] = set()
    for name, _ in fields:
        key = lower_name(name)
        if key in SINGLETONS:
            if key in seen:
                raise ResponseValidationError(f"{where}: {key.decode()} appears twice; it takes one value (RFC 9110 §5.3)")
            seen.add(key)


def _piece(where: str, piece: Any) -> int:
    if isinstance(piece, str):
        return len(piece.encode())
    if isinstance(piece, (bytes, bytearray, memoryview)):
        return len(piece)
    raise ResponseValidationError(f"{where}: a stream yields bytes or str, not {type(piece).__name__}")


def _total(where: str, sent: int, length: int | None) -> None:
    if length is not None and sent != length:
        raise ResponseValidationError(f"{where}: the stream gave {sent} bytes, its content_length says {length}")


def _checked_sync(where: str, content: Any, length: int | None) -> Iterator[Any]:
    sent = 0
    for piece in content:
        sent += _piece(where, piece)
        _total(where, sent, None if length is None or sent <= length else length)
        yield piece
    _total(where, sent, length)


async def _checked_async(where: str, content: Any, length: int | None) -> AsyncIterator[Any]:
    sent = 0
    async for piece in content:
        sent += _piece(where, piece)
        _total(where, sent, None if length is None or sent <= length else length)
        yield piece
    _total(where, sent, length)


class Validator:
    """The validator middleware: ``app.add_middleware(Validator())`` in development and tests
    (see the module docstring for what it checks)."""

    async def __call__(self, request: Request, call_next: CallNext) -> Any:
        response = await call_next(request)
        return check_response(request, response)
