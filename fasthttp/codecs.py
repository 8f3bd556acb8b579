"""Codecs: request decoders and response encoders per media type, with server-side qualities.

Strategy: a :class:`CodecRegistry` maps media types to a :class:`Codec`, an encoder (a Python
value to bytes) and/or a decoder (request content to a Python value), each with a server-side
quality (RFC 9110 §12.1 calls the server's own weighting "quality" too; a lower one makes a
representation lose ties and close calls: the client's q-value times the codec's quality
decides, ties keep registration order). The App holds one (``app.codecs``, circuits.http's
per-method codecs made app-wide); the route options ``produces`` and ``consumes`` use it:
``produces=True`` offers every encoder, and a handler of a ``produces`` route that returns a
plain value (a ``dict``, a list, a dataclass...) gets it encoded in the type the client's
``Accept`` chose; ``consumes=True`` takes every decoder's type, and
``await app.codecs.decode(request)`` decodes the content by its ``Content-Type``.

The defaults (:func:`default_codecs`): JSON (``application/json`` and ``+json``; orjson when
installed, ``fasthttp.responses.json_dumps``), XML (encoded by :func:`xml_encode`, decoded by
``Request.xml`` through defusedxml), forms (``application/x-www-form-urlencoded`` both ways,
``multipart/form-data`` decoded) and ``text/plain``. Decoding a request goes through the
Request's own readers for the built-in types (one home for their limits, charsets and 4xx), and
through the codec's ``decode(bytes, params)`` for the types an application registers.
"""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as _ET
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from .errors import HttpError
from .media import first_match
from .negotiation import header_value, parse_accept, parse_offer, quality
from .requests import unsupported_media_type
from .responses import HeadersLike, Response, json_dumps

if TYPE_CHECKING:
    from .requests import Request

__all__ = ("Codec", "CodecRegistry", "default_codecs", "xml_encode")

Encoder = Callable[[Any], "bytes | str"]
Decoder = Callable[[bytes, Mapping[str, str]], Any]


class Codec:
    """One media type's encoder and/or decoder, and its server-side *quality* (0 < q <= 1)."""

    __slots__ = ("media_type", "encode", "decode", "quality")

    def __init__(self, media_type: str, encode: Encoder | None = None, decode: Decoder | None = None, quality: float = 1.0) -> None:
        self.media_type = media_type
        self.encode = encode
        self.decode = decode
        self.quality = quality

    def __repr__(self) -> str:
        return f"<Codec {self.media_type} q={self.quality}{' encode' if self.encode else ''}{' decode' if self.decode else ''}>"


# The decoders of the built-in types: the Request's own readers (each checks its types, reads
# within the limit and answers 400/413/415 itself).
_REQUEST_READERS = {
    "application/json": "json",
    "application/*+json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/*+xml": "xml",
    "application/x-www-form-urlencoded": "form",
    "multipart/form-data": "form",
    "text/plain": "text",
}


class CodecRegistry:
    """Encoders and decoders by media type (see the module docstring)."""

    __slots__ = ("_codecs",)

    def __init__(self) -> None:
        self._codecs: dict[str, Codec] = {}

    def register(
        self,
        media_type: str,
        *,
        encode: Encoder | None = None,
        decode: Decoder | None = None,
        quality: float = 1.0,
    ) -> Codec:
        """Register (or replace) the codec of *media_type*: ``encode(value) -> bytes | str``
        and/or ``decode(content, params) -> value`` (*params*: the ``Content-Type``
        parameters). A decoder's type may be a pattern (``application/*+json``)."""
        if encode is None and decode is None:
            raise ValueError("a codec has an encoder, a decoder or both")
        if not isinstance(quality, (int, float)) or not 0 < quality <= 1:
            raise ValueError(f"quality is in (0, 1], not {quality!r}")
        key = media_type.strip().lower()
        if encode is not None:
            parse_offer(key)  # ValueError unless a concrete type/subtype
        elif "/" not in key:
            raise ValueError(f"a media type is type/subtype, not {media_type!r}")
        codec = self._codecs[key] = Codec(key, encode, decode, float(quality))
        return codec

    def unregister(self, media_type: str) -> None:
        """Remove the codec of *media_type* (KeyError if none)."""
        del self._codecs[media_type.strip().lower()]

    def __contains__(self, media_type: object) -> bool:
        return isinstance(media_type, str) and media_type.strip().lower() in self._codecs

    def __getitem__(self, media_type: str) -> Codec:
        return self._codecs[media_type.strip().lower()]

    def encoder_types(self) -> tuple[str, ...]:
        """The media types with an encoder, in registration order (the server's preference)."""
        return tuple(t for t, c in self._codecs.items() if c.encode is not None)

    def decoder_types(self) -> tuple[str, ...]:
        """The media types (and patterns) with a decoder, in registration order."""
        return tuple(t for t, c in self._codecs.items() if c.decode is not None)

    # -- responses -----------------------------------------------------------------------------

    def choose(self, accept: Any, offered: tuple[str, ...] | None = None) -> str | None:
        """The encoder type for the ``Accept`` *accept* (a value, a request, or ``None``): the
        highest client q-value times codec quality among *offered* (default: every encoder),
        ties in registration order; ``None`` when none is acceptable."""
        types = self.encoder_types() if offered is None else offered
        value = header_value(accept, "accept")
        if value is None or not parse_accept(value):
            return types[0] if types else None
        best, best_q = None, 0.0
        for media_type in types:
            codec = self._codecs.get(media_type.lower())
            q = quality(value, media_type) * (codec.quality if codec is not None else 1.0)
            if q > best_q:
                best, best_q = media_type, q
        return best

    def encode(self, media_type: str, value: Any) -> bytes:
        """*value* encoded as *media_type* (``KeyError`` without an encoder for it)."""
        codec = self._codecs[media_type.strip().lower()]
        if codec.encode is None:
            raise KeyError(media_type)
        data = codec.encode(value)
        return data.encode() if isinstance(data, str) else bytes(data)

    def respond(
        self, request: Any, value: Any, status: int = 200, headers: HeadersLike = None, *, offered: tuple[str, ...] | None = None
    ) -> Response:
        """*value* in the representation *request*'s ``Accept`` prefers among the encoders
        (or *offered*), with ``Vary: Accept``; 406 (listing them) when none is acceptable."""
        types = self.encoder_types() if offered is None else offered
        chosen = self.choose(request, types)
        if chosen is None:
            raise HttpError(406, "Not Acceptable; available media types: " + ", ".join(types), headers=[("Vary", "Accept")])
        response = Response(self.encode(chosen, value), status, headers, content_type(chosen))
        response.add_vary("Accept")
        return response

    # -- requests ------------------------------------------------------------------------------

    async def decode(self, request: Request, accepted: tuple[str, ...] | None = None) -> Any:
        """The request content decoded by the codec of its ``Content-Type`` (among *accepted*,
        default every decoder): 415 listing them for another type, 400 for content that does
        not decode, 413 past the body limit. Content without a ``Content-Type`` goes to the
        first decoder (RFC 9110 §8.3 lets the recipient assume one)."""
        types = self.decoder_types() if accepted is None else accepted
        if not types:
            raise unsupported_media_type((), "Unsupported Media Type: no decoder is registered", request.method)
        mtype = request.content_type
        if mtype is None:
            pattern: str | None = types[0]
        else:
            pattern = first_match(mtype, [t.lower() for t in types])
        if pattern is None:
            raise unsupported_media_type(types, None, request.method)
        codec = self._codecs.get(pattern)
        if codec is None or codec.decode is None:
            raise unsupported_media_type(types, None, request.method)
        reader = _REQUEST_READERS.get(pattern) if codec.decode is _BUILTIN_DECODE else None
        if reader == "json":
            return await request.json()
        if reader == "xml":
            return await request.xml()
        if reader == "form":
            return (await request.form()).to_dict()
        if reader == "text":
            return await request.text()
        params = dict(request.representation(types)[1])  # 415 for content still content-coded
        data = await request.body()
        try:
            return codec.decode(data, params)
        except HttpError:
            raise
        except (ValueError, TypeError, UnicodeDecodeError) as exc:
            raise HttpError(400, f"request content is not valid {pattern}: {exc}") from None


def _builtin_decode(data: bytes, params: Mapping[str, str]) -> Any:  # pragma: no cover - marker
    """Marks the built-in types: they are decoded by the Request's own readers."""
    raise AssertionError("decoded by the Request")


_BUILTIN_DECODE: Decoder = _builtin_decode


def content_type(media_type: str) -> str:
    """The ``Content-Type`` for a representation of *media_type*: text types get
    ``charset=utf-8`` (the encoders produce UTF-8) unless they name one."""
    if media_type.startswith("text/") and "charset" not in media_type.lower():
        return media_type + "; charset=utf-8"
    return media_type


# -- the default encoders ----------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A dataclass instance as a dict; anything else unchanged (what every encoder takes)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    dump = getattr(value, "model_dump", None)  # pydantic models
    if callable(dump):
        return dump()
    return value


def _json_encode(value: Any) -> bytes:
    return json_dumps(_plain(value))


# XML 1.0 §2.3 Name, restricted to ASCII letters, digits and -_. (no colon: no namespaces here)
_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
# XML 1.0 §2.2: the characters a document may contain (others cannot be escaped either).
_XML_BAD = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_fill(element: _ET.Element, value: Any) -> None:
    value = _plain(value)
    if isinstance(value, Mapping):
        for key, item in value.items():
            key = str(key)
            if _XML_NAME.fullmatch(key) and not key.lower().startswith("xml"):
                child = _ET.SubElement(element, key)
            else:  # a key that is no element name goes in an attribute
                child = _ET.SubElement(element, "entry", {"key": _XML_BAD.sub("\ufffd", key)})
            _xml_fill(child, item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _xml_fill(_ET.SubElement(element, "item"), item)
    elif value is None:
        element.set("null", "true")
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = _XML_BAD.sub("\ufffd", str(value))


def xml_encode(value: Any, root: str = "response") -> bytes:
    """*value* as an XML document (UTF-8, with a declaration): a mapping becomes child elements
    named by its keys (a key that is not an XML name becomes ``<entry key="...">``), a list
    ``<item>`` elements, ``None`` an empty element with ``null="true"``, anything else its text;
    an ``xml.etree.ElementTree.Element`` is serialised as is. Text is escaped by ElementTree;
    characters XML cannot carry are replaced with U+FFFD."""
    if isinstance(value, _ET.Element):
        element = value
    else:
        element = _ET.Element(root)
        _xml_fill(element, value)
    return bytes(_ET.tostring(element, encoding="utf-8", xml_declaration=True))


def _form_encode(value: Any) -> bytes:
    value = _plain(value)
    if isinstance(value, Mapping):
        pairs = []
        for key, item in value.items():
            for one in item if isinstance(item, (list, tuple)) else (item,):
                pairs.append((str(key), "" if one is None else str(one)))
        return urlencode(pairs).encode("ascii")
    if isinstance(value, (list, tuple)):
        return urlencode([(str(k), str(v)) for k, v in value]).encode("ascii")
    raise TypeError(f"a form is a mapping or a list of pairs, not {type(value).__name__}")


def _text_encode(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def default_codecs() -> CodecRegistry:
    """A registry with JSON, XML, urlencoded forms and text (encoders in that order of
    preference) and the decoders of JSON, XML, both form encodings and text."""
    registry = CodecRegistry()
    registry.register("application/json", encode=_json_encode, decode=_BUILTIN_DECODE)
    registry.register("application/*+json", decode=_BUILTIN_DECODE)
    registry.register("application/xml", encode=xml_encode, decode=_BUILTIN_DECODE, quality=0.9)
    registry.register("text/xml", decode=_BUILTIN_DECODE)
    registry.register("application/*+xml", decode=_BUILTIN_DECODE)
    registry.register("application/x-www-form-urlencoded", encode=_form_encode, decode=_BUILTIN_DECODE, quality=0.5)
    registry.register("multipart/form-data", decode=_BUILTIN_DECODE)
    registry.register("text/plain", encode=_text_encode, decode=_BUILTIN_DECODE, quality=0.5)
    return registry
