"""``Languages``: ``Accept-Language`` negotiation, a gettext catalog per request, ``Content-Language``.

Strategy: the catalogs and the choice are ``fasthttp.i18n``'s (:class:`~fasthttp.i18n.
Catalogs`); this middleware applies them to each request before the route runs: it publishes
the chosen language and its catalog on the request (``request.language``, ``request.gettext``,
``request.ngettext``, kept in ``request.extras``), and labels the response with
``Content-Language`` (RFC 9110 §8.5; unless the handler set one) and, when more than one
language is offered, ``Vary: Accept-Language`` (RFC 9110 §12.5.5), so that a cache keeps one
copy per language. The response object is copied before it is labelled (a handler may return a
shared constant).
"""

from __future__ import annotations

import copy
import types
from typing import TYPE_CHECKING, Any

from ..i18n import Catalogs
from ..responses import FieldMethods, Response, has_field, to_response
from .stack import CallNext

if TYPE_CHECKING:
    from ..requests import Request

__all__ = ("Languages",)

_CORO = types.CoroutineType


class Languages:
    """Per-request language from ``Accept-Language`` (``app.add_middleware(Languages(catalogs))``).

    *catalogs*: a :class:`~fasthttp.i18n.Catalogs`. *content_language*: label responses with
    ``Content-Language`` and ``Vary: Accept-Language``.
    """

    __slots__ = ("catalogs", "content_language", "_varies")

    def __init__(self, catalogs: Catalogs, *, content_language: bool = True) -> None:
        if not isinstance(catalogs, Catalogs):
            raise TypeError(f"Languages takes a fasthttp.i18n.Catalogs, not {type(catalogs).__name__}")
        self.catalogs = catalogs
        self.content_language = content_language
        self._varies = len(catalogs.languages) > 1

    def __call__(self, request: Request, call_next: CallNext) -> Any:
        catalogs = self.catalogs
        language = catalogs.select(request)
        extras = request.extras
        extras["language"] = language
        extras["translations"] = catalogs.translations(language)
        result = call_next(request)
        if not self.content_language:
            return result
        if type(result) is _CORO:
            return self._later(language, result)
        return self.label(language, result)

    async def _later(self, language: str, result: Any) -> Any:
        return self.label(language, to_response(await result))

    def label(self, language: str, response: Any) -> Any:
        """*response* (a copy) with ``Content-Language`` and ``Vary: Accept-Language``."""
        if not isinstance(response, FieldMethods):
            return response
        if type(response) is Response:
            clone: Any = Response(response.body, response.status, list(response.fields))
        else:
            clone = copy.copy(response)
            clone.fields = list(response.fields)
        if not has_field(clone.fields, b"content-language") and response.status != 304:
            clone.fields.append(("Content-Language", language))
        if self._varies:
            clone.add_vary("Accept-Language")
        return clone
