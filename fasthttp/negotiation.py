"""Proactive content negotiation (RFC 9110 §12): ``Accept``, ``Accept-Language``, ``Accept-Encoding``.

Strategy: the server offers a short list of alternatives in its order of preference; the
client's header assigns each a quality value; the alternative with the highest quality wins and
ties keep the server's order. A quality of 0 means "not acceptable" (RFC 9110 §12.4.2), so the
answer may be ``None``: the caller decides between a 406 (:func:`choose_media_type`) and a
default.

How each offered alternative gets its quality:

- media types (RFC 9110 §12.5.1): from the *most specific* media range that matches it, whatever
  the ranges' order or qualities: ``text/html;level=1`` > ``text/html`` > ``text/*`` > ``*/*``.
  A range's parameters must all be present, with equal values, in the offered type; the offered
  type may carry more. Unmatched: 0.
- languages (RFC 9110 §12.5.4 with RFC 4647 §3.3.1 *basic filtering*): a range matches a tag
  equal to it or starting with it followed by ``-`` (``en`` matches ``en-GB``, not the other way);
  the longest matching range decides, ``*`` matching anything is the least specific.
- content codings (RFC 9110 §12.5.3): by name, then ``*``; ``identity`` is acceptable unless
  refused (``identity;q=0``, or ``*;q=0`` without a mention of identity), at the lowest quality
  so that any coding the client named first wins. ``x-gzip``/``x-compress`` are ``gzip``/
  ``compress`` (RFC 9110 §8.4.1).

Parsing is lenient where that is safe: an element that does not parse (a missing subtype, a
``q`` outside 0..1 or with more than three decimals, RFC 9110 §12.4.2) is ignored, not the whole
header; a header with no valid element at all counts as absent. Lists may come from several
header lines (RFC 9110 §5.3: they are joined with commas). PERF: parsed headers and offers are
cached (``functools.lru_cache``), since clients repeat the same few ``Accept`` strings.

:func:`choose_media_type` at the end turns "nothing acceptable" into a 406 that carries ``Vary``
(RFC 9110 §12.5.5), so a cache never serves one representation for another. Building the
chosen representation is the response types' business (``fasthttp.responses.negotiated``):
this module reads headers and returns names, and imports nothing above the grammar and errors.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, Union

from ._grammar import TOKEN
from .errors import HttpError

if TYPE_CHECKING:
    from .headers import Headers

__all__ = (
    "MediaRange",
    "HasHeaders",
    "HeaderSource",
    "parse_accept",
    "parse_quality_list",
    "negotiate",
    "negotiate_language",
    "negotiate_encoding",
    "quality",
    "header_value",
    "parse_offer",
    "choose_media_type",
)



class HasHeaders(Protocol):
    """Anything with a ``headers`` view (a request): where the ``Accept*`` fields are read."""

    @property
    def headers(self) -> Headers: ...


#: Where a negotiation reads its header: the field value (``str``/``bytes``), a request, a
#: headers view, a mapping of field names to values, or ``None`` (the field is absent).
HeaderSource = Union[str, bytes, bytearray, "HasHeaders", "Headers", Mapping[Any, Any], None]

_OWS = " \t"
_token = TOKEN.fullmatch


def _is_token(s: str) -> bool:
    # RFC 9110 §5.6.2: token = 1*tchar.
    return _token(s) is not None


def _split_unquoted(value: str, sep: str) -> tuple[list[str], bool]:
    """Split *value* on *sep* outside quoted strings (RFC 9110 §5.6.4); the flag says whether
    every quoted string was closed."""
    if '"' not in value:
        return value.split(sep), True
    parts, start, quoted, escaped = [], 0, False, False
    for i, c in enumerate(value):
        if escaped:
            escaped = False
        elif quoted:
            if c == "\\":
                escaped = True
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c == sep:
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return parts, not quoted


def _split_list(value: str) -> list[str]:
    """Split a ``#rule`` list on commas outside quoted strings (RFC 9110 §5.6.1, §5.6.4)."""
    return _split_unquoted(value, ",")[0]


def _split_params(element: str) -> list[str] | None:
    """Split ``a; b=c; d="e;f"`` on semicolons outside quoted strings; None if a quoted-string
    is unterminated."""
    parts, closed = _split_unquoted(element, ";")
    return parts if closed else None


def _param(text: str) -> tuple[str, str] | None:
    # RFC 9110 §5.6.6: parameter = parameter-name "=" parameter-value, no whitespace around "="
    # (tolerated here); names are case-insensitive, values are token or quoted-string.
    name, eq, value = text.partition("=")
    name = name.strip(_OWS).lower()
    value = value.strip(_OWS)
    if not eq or not _is_token(name):
        return None
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        inner, out, escaped = value[1:-1], [], False
        for c in inner:
            if escaped or c != "\\":
                out.append(c)
                escaped = False
            else:
                escaped = True
        return name, "".join(out)
    if not _is_token(value):
        return None
    return name, value


def _qvalue(text: str) -> float | None:
    # RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ).
    if not text or len(text) > 5 or text[0] not in "01":
        return None
    if len(text) > 1:
        if text[1] != "." or not text[2:].isdigit() and text[2:] != "":
            return None
        if text[0] == "1" and text[2:].strip("0"):
            return None
    try:
        return float(text)
    except ValueError:  # pragma: no cover - excluded by the checks above
        return None


class MediaRange:
    """One element of an ``Accept`` header: ``type/subtype`` (either may be ``*``), its
    parameters (lower-case names), its quality ``q`` and its ``specificity`` (0 for ``*/*``,
    1 for ``type/*``, 2 plus the number of parameters for ``type/subtype``)."""

    __slots__ = ("type", "subtype", "params", "q", "specificity")

    def __init__(self, type: str, subtype: str, params: tuple[tuple[str, str], ...] = (), q: float = 1.0) -> None:
        self.type = type
        self.subtype = subtype
        self.params = params
        self.q = q
        if type == "*":
            self.specificity = 0
        elif subtype == "*":
            self.specificity = 1
        else:
            self.specificity = 2 + len(params)

    def matches(self, type: str, subtype: str, params: Mapping[str, str]) -> bool:
        """Does this range apply to the media type ``type/subtype;params`` (lower-case)?"""
        if self.type != "*" and self.type != type:
            return False
        if self.subtype != "*" and self.subtype != subtype:
            return False
        for name, value in self.params:
            # NOTE: parameter values compare case-insensitively (true of charset, RFC 9110
            # §8.3.2; harmless for the rare others).
            offered = params.get(name)
            if offered is None or offered.lower() != value.lower():
                return False
        return True

    def __repr__(self) -> str:
        params = "".join(f";{k}={v}" for k, v in self.params)
        return f"<MediaRange {self.type}/{self.subtype}{params} q={self.q}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MediaRange):
            return NotImplemented
        return (self.type, self.subtype, self.params, self.q) == (other.type, other.subtype, other.params, other.q)

    __hash__ = None  # type: ignore[assignment]


def _media_type(text: str) -> tuple[str, str, list[str]] | None:
    parts = _split_params(text)
    if parts is None:
        return None
    full = parts[0].strip(_OWS).lower()
    type_, slash, subtype = full.partition("/")
    if not slash or not _is_token(type_) or not _is_token(subtype):
        return None
    return type_, subtype, parts[1:]


@functools.lru_cache(maxsize=256)
def parse_accept(value: str) -> tuple[MediaRange, ...]:
    """The media ranges of an ``Accept`` field value (RFC 9110 §12.5.1), in received order.

    Invalid elements are left out: a malformed range, ``*/subtype``, a parameter that does not
    parse, or an invalid ``q``. Parameters after ``q`` are accept-extensions and are ignored.
    """
    ranges = []
    for element in _split_list(value):
        element = element.strip(_OWS)
        if not element:
            continue
        parsed = _media_type(element)
        if parsed is None:
            continue
        type_, subtype, rest = parsed
        if type_ == "*" and subtype != "*":
            continue  # RFC 9110 §12.5.1: "*/subtype" is not a media range
        params: list[tuple[str, str]] = []
        q = 1.0
        ok = True
        for text in rest:
            if not text.strip(_OWS):
                continue
            p = _param(text)
            if p is None:
                ok = False
                break
            if p[0] == "q":
                # RFC 9110 §12.5.1: the weight separates media-type parameters from
                # accept-extensions, which are ignored.
                weight = _qvalue(p[1])
                if weight is None:
                    ok = False
                else:
                    q = weight
                break
            params.append(p)
        if ok:
            ranges.append(MediaRange(type_, subtype, tuple(params), q))
    return tuple(ranges)


@functools.lru_cache(maxsize=256)
def parse_offer(media_type: str) -> tuple[str, str, dict[str, str]]:
    """An offered media type as ``(type, subtype, params)``, type and names lower-cased:
    ``"text/html; charset=UTF-8"`` -> ``("text", "html", {"charset": "UTF-8"})``.

    ``ValueError`` unless it is a concrete ``type/subtype`` (no ``*``) with valid parameters.
    The result is cached and shared: do not mutate *params*.
    """
    parsed = _media_type(media_type)
    if parsed is None or "*" in (parsed[0], parsed[1]):
        raise ValueError(f"an offered media type is type/subtype, not {media_type!r}")
    type_, subtype, rest = parsed
    params = {}
    for text in rest:
        if text.strip(_OWS):
            p = _param(text)
            if p is None:
                raise ValueError(f"invalid parameter in the offered media type {media_type!r}")
            params[p[0]] = p[1]
    return type_, subtype, params


def header_value(source: HeaderSource, name: str = "accept") -> str | None:
    """The (comma-joined) value of header *name* from *source*: a request (anything with
    ``headers``), a headers view (with ``getall``), a ``str``/``bytes`` value, or ``None``."""
    if source is None or isinstance(source, str):
        return source
    if isinstance(source, (bytes, bytearray)):
        return bytes(source).decode("latin-1")
    headers = getattr(source, "headers", source)
    getall = getattr(headers, "getall", None)
    if getall is not None:
        values = getall(name)
        if not values:
            return None
        return values[0] if len(values) == 1 else ", ".join(values)
    if isinstance(headers, Mapping):
        for k, v in headers.items():
            if (k.decode("latin-1") if isinstance(k, bytes) else k).lower() == name:
                return v.decode("latin-1") if isinstance(v, bytes) else v
        return None
    raise TypeError(f"cannot read a {name} header from {type(source).__name__}")


def _check_offered(offered: Sequence[str]) -> None:
    if isinstance(offered, (str, bytes)):
        raise TypeError("offered is a sequence of strings, not one string")


def quality(accept: str | None, media_type: str) -> float:
    """The quality the ``Accept`` value *accept* gives to *media_type* (1.0 when absent)."""
    ranges = parse_accept(accept) if accept is not None else ()
    if not ranges:
        return 1.0
    return _media_quality(ranges, parse_offer(media_type))


def _media_quality(ranges: tuple[MediaRange, ...], offer: tuple[str, str, dict[str, str]]) -> float:
    type_, subtype, params = offer
    best, q = -1, 0.0
    for r in ranges:
        if r.specificity >= best and r.matches(type_, subtype, params):
            # RFC 9110 §12.5.1: the most specific range decides; between equally specific ranges
            # (a client repeating itself) the higher quality does.
            if r.specificity > best or r.q > q:
                best, q = r.specificity, r.q
    return q


def negotiate(accept: HeaderSource, offered: Sequence[str]) -> str | None:
    """The best of the *offered* media types for the ``Accept`` value *accept* (RFC 9110 §12.5.1).

    *accept* is the field value (``str``/``bytes``), a request, or ``None`` (no header: the
    first offered type). Returns one of *offered* as given, or ``None`` when every one has
    quality 0. Ties keep the order of *offered*.
    """
    _check_offered(offered)
    if not offered:
        return None
    value = header_value(accept, "accept")
    ranges = parse_accept(value) if value is not None else ()
    if not ranges:
        # RFC 9110 §12.5.1: no Accept means any media type is acceptable.
        return offered[0]
    best, best_q = None, 0.0
    for media_type in offered:
        q = _media_quality(ranges, parse_offer(media_type))
        if q > best_q:
            best, best_q = media_type, q
    return best


@functools.lru_cache(maxsize=256)
def parse_quality_list(value: str) -> tuple[tuple[str, float], ...]:
    """``(token, q)`` pairs of an ``Accept-Language``/``Accept-Encoding``-style value, tokens
    lower-cased, in received order; invalid elements are left out."""
    out = []
    for element in _split_list(value):
        element = element.strip(_OWS)
        if not element:
            continue
        parts = _split_params(element)
        if parts is None:
            continue
        token = parts[0].strip(_OWS).lower()
        if not _is_token(token):
            continue
        q = 1.0
        ok = True
        for text in parts[1:]:
            if not text.strip(_OWS):
                continue
            p = _param(text)
            if p is None:
                ok = False
                break
            if p[0] == "q":
                weight = _qvalue(p[1])
                ok = weight is not None
                if weight is not None:
                    q = weight
                break
        if ok:
            out.append((token, q))
    return tuple(out)


def _language_range_ok(tag: str) -> bool:
    # RFC 4647 §2.1: language-range = (1*8ALPHA *("-" 1*8alphanum)) / "*".
    if tag == "*":
        return True
    subtags = tag.split("-")
    if not subtags[0].isalpha():
        return False
    return all(1 <= len(s) <= 8 and s.isascii() and s.isalnum() for s in subtags)


def negotiate_language(accept_language: HeaderSource, offered: Sequence[str]) -> str | None:
    """The best of the *offered* language tags for an ``Accept-Language`` value (RFC 9110
    §12.5.4), by RFC 4647 §3.3.1 basic filtering: ``en`` accepts ``en`` and ``en-GB``. ``None``
    (no header) gives the first offered tag; no acceptable tag gives ``None``."""
    _check_offered(offered)
    if not offered:
        return None
    value = header_value(accept_language, "accept-language")
    ranges = [(t, q) for t, q in parse_quality_list(value) if _language_range_ok(t)] if value is not None else []
    if not ranges:
        return offered[0]
    best, best_q = None, 0.0
    for tag in offered:
        low = tag.lower()
        spec, q = -1, 0.0
        for r, rq in ranges:
            if r == "*":
                s = 0
            elif low == r or low.startswith(r + "-"):
                s = r.count("-") + 1
            else:
                continue
            if s > spec or s == spec and rq > q:
                spec, q = s, rq
        if q > best_q:
            best, best_q = tag, q
    return best


_CODING_ALIASES = {"x-gzip": "gzip", "x-compress": "compress"}
# NOTE: implicit identity ranks below every coding the client lists, whatever its q.
_IMPLICIT_IDENTITY = 0.0001


def negotiate_encoding(accept_encoding: HeaderSource, offered: Sequence[str]) -> str | None:
    """The best of the *offered* content codings (``"br"``, ``"gzip"``, ``"identity"``, ...) for
    an ``Accept-Encoding`` value (RFC 9110 §12.5.3).

    No header: ``"identity"`` if offered, else the first offered coding (any is acceptable).
    An empty header accepts only ``identity``. ``None`` when nothing offered is acceptable.
    """
    _check_offered(offered)
    if not offered:
        return None
    value = header_value(accept_encoding, "accept-encoding")
    if value is None:
        for coding in offered:
            if coding.lower() == "identity":
                return coding
        return offered[0]
    listed: dict[str, float] = {}
    for token, q in parse_quality_list(value):
        token = _CODING_ALIASES.get(token, token)
        # A repeated coding keeps its first quality.
        listed.setdefault(token, q)
    star = listed.get("*")
    best, best_q = None, 0.0
    for coding in offered:
        name = coding.lower()
        name = _CODING_ALIASES.get(name, name)
        weight = listed.get(name)
        if weight is not None:
            q = weight
        elif star is not None:
            q = star
        elif name == "identity":
            q = _IMPLICIT_IDENTITY
        else:
            q = 0.0
        if q > best_q:
            best, best_q = coding, q
    return best


# -- helpers that answer ----------------------------------------------------------------------------


def choose_media_type(request: HeaderSource, offered: Sequence[str]) -> str:
    """The media type to produce for *request* (or an ``Accept`` value), or raise
    ``HttpError(406)`` whose detail lists *offered* and which carries ``Vary: Accept``."""
    chosen = negotiate(request, offered)
    if chosen is None:
        raise HttpError(
            406,
            "Not Acceptable; available media types: " + ", ".join(offered),
            headers=[("Vary", "Accept")],
        )
    return chosen
