"""Media types: parsing ``Content-Type``-style values and matching them against patterns.

Strategy: one strict scanner for the grammar shared by ``Content-Type`` (RFC 9110 §8.3.1) and
``Content-Disposition`` (RFC 6266 §4.1):

    media-type = type "/" subtype parameters
    parameters = *( OWS ";" OWS [ parameter ] )          ; RFC 9110 §5.6.6
    parameter  = parameter-name "=" parameter-value
    parameter-value = token / quoted-string             ; RFC 9110 §5.6.4

Type, subtype and parameter names are case-insensitive and come back lower-cased; parameter
values come back as sent (unquoted), since whether they are case-sensitive depends on the
parameter (a ``boundary`` is, a ``charset`` is not: RFC 9110 §8.3.2). A value that does not
follow the grammar is a ``ValueError``, never a best guess: two parsers that disagree on where
a parameter ends are how a ``boundary`` gets smuggled past a proxy (APPSEC), so a duplicated
parameter is refused too.

Matching (:func:`matches`) takes the patterns a route or a body decoder accepts: ``*/*``,
``type/*``, an exact ``type/subtype``, or a structured-syntax suffix ``type/*+suffix``
(``application/*+json`` matches ``application/ld+json``, RFC 6838 §4.2.8).

The RFC 8187 ``ext-value`` grammar (``filename*=UTF-8''%e2%82%ac.txt``) lives here too
(:data:`EXT_VALUE` to read one, :data:`ATTR_CHAR_SAFE` to write one), for the
``Content-Disposition`` fields that multipart parts carry and file downloads send.

PERF: a bare type (no ``;``, the common ``application/json``) is validated by one regular
expression match; the parameter scanner runs only when there are parameters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ._grammar import TOKEN_PATTERN

__all__ = (
    "parse_media_type",
    "parse_parameters",
    "parse_disposition",
    "matches",
    "first_match",
    "JSON_TYPES",
    "XML_TYPES",
    "FORM_TYPES",
    "URLENCODED",
    "MULTIPART_FORM",
    "EXT_VALUE",
    "ATTR_CHAR_SAFE",
)

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART_FORM = "multipart/form-data"

#: What :meth:`Request.json` accepts (RFC 8259 §11; RFC 6839 §3.1 for the ``+json`` suffix).
JSON_TYPES: tuple[str, ...] = ("application/json", "application/*+json")
#: What :meth:`Request.xml` accepts (RFC 7303 §4.1, §4.2 and §9.2 for the ``+xml`` suffix).
XML_TYPES: tuple[str, ...] = ("application/xml", "text/xml", "application/*+xml")
#: What :meth:`Request.form` accepts (WHATWG URL §5, RFC 7578).
FORM_TYPES: tuple[str, ...] = (URLENCODED, MULTIPART_FORM)

_TOKEN = TOKEN_PATTERN  # RFC 9110 §5.6.2: token = 1*tchar
_OWS = r"[ \t]*"
# RFC 9110 §5.6.4: qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text;
# quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
_QUOTED = r'"((?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*)"'

_TYPE = re.compile(f"{_OWS}({_TOKEN})/({_TOKEN}){_OWS}")
_DISPOSITION = re.compile(f"{_OWS}({_TOKEN}){_OWS}")
# One ";" and what follows it up to the next ";" or the end; an empty parameter is allowed.
_PARAM = re.compile(f";{_OWS}(?:({_TOKEN})=(?:({_TOKEN})|{_QUOTED}){_OWS})?")
_QUOTED_PAIR = re.compile(r"\\(.)", re.S)
# The HTML form encoder leaves a backslash alone and escapes only '"' (RFC 9110 quoted-pair, the
# legacy encoders) or percent-encodes '"', CR and LF (WHATWG HTML, "multipart/form-data encoding
# algorithm"). A receiver unescaping every "\x" would mangle "C:\dir\file" into "C:dirfile".
_FORM_PAIR = re.compile(r'\\(["\\])')

#: RFC 8187 §3.2.1: the characters of attr-char besides ALPHA and DIGIT; a value-chars writer
#: percent-encodes everything else (``urllib.parse.quote(text, safe=ATTR_CHAR_SAFE)``).
ATTR_CHAR_SAFE = "!#$&+-.^_`|~"
#: RFC 8187 §3.2.1: ext-value = charset "'" [ language ] "'" value-chars; the groups are the
#: charset (mime-charset), the language and the still percent-encoded value-chars.
EXT_VALUE: re.Pattern[str] = re.compile(
    r"([!#$%&+\-^_`{}~0-9A-Za-z]+)'([0-9A-Za-z\-]*)'((?:%[0-9A-Fa-f]{2}|["
    + re.escape(ATTR_CHAR_SAFE)
    + r"0-9A-Za-z])*)"
)


def _unquote(value: str, form: bool) -> str:
    if "\\" not in value:
        return value
    return (_FORM_PAIR if form else _QUOTED_PAIR).sub(r"\1", value)


def parse_parameters(value: str, pos: int = 0, *, form: bool = False) -> dict[str, str]:
    """Parse ``*( OWS ";" OWS [ name "=" value ] )`` from *value* at *pos* to its end.

    Names are lower-cased; quoted values are unquoted (*form*: only ``\\"`` and ``\\\\`` are
    escapes, as the multipart/form-data senders write them). ``ValueError`` on a syntax error
    or on a parameter given twice.
    """
    params: dict[str, str] = {}
    end = len(value)
    match = _PARAM.match
    while pos < end:
        m = match(value, pos)
        if m is None:
            raise ValueError(f"malformed parameters at {pos}: {value!r}")
        pos = m.end()
        name = m.group(1)
        if name is None:
            continue  # an empty parameter (";;"), allowed by the grammar
        name = name.lower()
        if name in params:
            raise ValueError(f"parameter {name!r} given twice")
        token = m.group(2)
        params[name] = token if token is not None else _unquote(m.group(3), form)
    return params


def parse_media_type(value: str) -> tuple[str, dict[str, str]]:
    """``"text/html; charset=UTF-8"`` -> ``("text/html", {"charset": "UTF-8"})``.

    The type is lower-cased and parameter names too; ``ValueError`` when *value* is not a
    media type (RFC 9110 §8.3.1).
    """
    if ";" not in value:
        m = _TYPE.fullmatch(value)
        if m is None:
            raise ValueError(f"not a media type: {value!r}")
        return f"{m.group(1)}/{m.group(2)}".lower(), {}
    m = _TYPE.match(value)
    if m is None:
        raise ValueError(f"not a media type: {value!r}")
    return f"{m.group(1)}/{m.group(2)}".lower(), parse_parameters(value, m.end())


def parse_disposition(value: str) -> tuple[str, dict[str, str]]:
    """``'form-data; name="a"'`` -> ``("form-data", {"name": "a"})`` (RFC 6266 §4.1; quoted
    values unescaped the way form encoders escape them). ``ValueError`` on a syntax error."""
    m = _DISPOSITION.match(value)
    if m is None:
        raise ValueError(f"not a disposition: {value!r}")
    return m.group(1).lower(), parse_parameters(value, m.end(), form=True)


def matches(media_type: str, pattern: str) -> bool:
    """Does the lower-case *media_type* (no parameters) match *pattern*?

    *pattern* is ``*/*``, ``type/*``, ``type/subtype`` or ``type/*+suffix`` (lower case).
    """
    if pattern == media_type or pattern == "*/*":
        return True
    ptype, _, psub = pattern.partition("/")
    mtype, _, msub = media_type.partition("/")
    if ptype != mtype and ptype != "*":
        return False
    if psub == "*":
        return True
    if psub[:2] == "*+":
        # RFC 6838 §4.2.8: the suffix follows the last "+" of the subtype.
        return "+" in msub and msub[msub.rindex("+") :] == psub[1:]
    return psub == msub


def first_match(media_type: str, patterns: Iterable[str]) -> str | None:
    """The first of *patterns* that *media_type* matches, or None."""
    for pattern in patterns:
        if matches(media_type, pattern):
            return pattern
    return None
