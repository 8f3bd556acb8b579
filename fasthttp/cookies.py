"""Cookies in both directions: parsing the ``Cookie`` header field, building ``Set-Cookie``.

Reading. The grammar a server may rely on is RFC 6265 §4.2.1 (what a user agent sends, §5.4):

    cookie-string = cookie-pair *( ";" SP cookie-pair )
    cookie-pair   = cookie-name "=" cookie-value
    cookie-name   = token                                   ; RFC 9110 §5.6.2
    cookie-value  = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE )
    cookie-octet  = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E

The header is split on ``;``; each pair is trimmed of optional whitespace and must match the
grammar exactly, or it is dropped. Dropping one pair never shifts or merges its neighbours, so
no value can smuggle another cookie in (APPSEC: ``http.cookies`` stops at the first bad pair and
decodes octal escapes inside quotes, and it has been bitten by both). Nothing is decoded: a
value is returned as it was sent, minus the optional surrounding double quotes (the quotes are
framing, RFC 6265 §4.1.1; no escape is defined inside them).

When a name occurs twice the first wins: user agents list the cookie with the longer (more
specific) path first (RFC 6265 §5.4 step 2), and that is the one an application means.

Deliberately not accepted: a pair without ``=`` (RFC 6265bis nameless cookies; ambiguous with a
name), and values with spaces, commas, backslashes, or non-ASCII bytes (not cookie-octets).

PERF: a header in the exact RFC form (what browsers send) is validated by one regular
expression match and split with ``str`` methods; anything else is matched pair by pair. No
``Morsel`` objects.

Writing. :func:`format_set_cookie` builds a ``Set-Cookie`` value (RFC 6265 §4.1) and refuses
(``ValueError``) anything that is not the grammar: a name that is not a token, a value outside
cookie-octets, an attribute value with a control character or ``;``. Nothing is silently
encoded, so what a handler sets is what the client stores. The SameSite, Partitioned and name
prefix rules of RFC 6265bis are checked too: a cookie the user agent would drop is an error
here, where it can be fixed. The response types call it (``Response.set_cookie``).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable

from ._grammar import TOKEN, TOKEN_PATTERN
from .dates import format_http_date, parse_http_date

__all__ = ("parse_cookie_header", "parse_cookie_headers", "format_set_cookie", "format_delete_cookie")

# RFC 6265 §4.1.1: cookie-name = token (RFC 9110 §5.6.2); cookie-octet = %x21 / %x23-2B /
# %x2D-3A / %x3C-5B / %x5D-7E: no CTLs, whitespace, DQUOTE, comma, semicolon or backslash.
_NAME = TOKEN_PATTERN
_OCTETS = r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*"
_PAIR = re.compile(rf'[ \t]*({_NAME})=(?:"({_OCTETS})"|({_OCTETS}))[ \t]*')
# The header exactly as RFC 6265 §4.2.1 writes it, without quoted values: what browsers send.
_PLAIN = re.compile(rf"{_NAME}={_OCTETS}(?:; {_NAME}={_OCTETS})*")


def parse_cookie_header(value: str) -> dict[str, str]:
    """``"a=1; b=\\"two\\""`` -> ``{"a": "1", "b": "two"}``: name to value, first wins, pairs
    that do not follow RFC 6265 §4.2.1 dropped."""
    cookies: dict[str, str] = {}
    if not value:
        return cookies
    if _PLAIN.fullmatch(value) is not None:
        # PERF: the common case, checked by one match, then split with str methods: 20 cookies
        # parse in about half the time of a match per pair (timeit, indicative only).
        for pair in value.split("; "):
            name, _, val = pair.partition("=")
            if name not in cookies:
                cookies[name] = val
        return cookies
    match = _PAIR.fullmatch
    for pair in value.split(";"):
        m = match(pair)
        if m is None:
            continue
        name = m.group(1)
        if name not in cookies:
            quoted = m.group(2)
            cookies[name] = quoted if quoted is not None else m.group(3)
    return cookies


def parse_cookie_headers(values: Iterable[str]) -> dict[str, str]:
    """The cookies of several ``Cookie`` field lines, read as one joined with ``"; "``.

    RFC 6265 §5.4 says a user agent sends one ``Cookie`` line; an HTTP/2 hop may split it into
    several, and RFC 9113 §8.2.3 rejoins them with ``"; "``.
    """
    values = list(values)
    if not values:
        return {}
    return parse_cookie_header(values[0] if len(values) == 1 else "; ".join(values))


# -- Set-Cookie (RFC 6265 §4.1) --------------------------------------------------------------------

# cookie-value = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE )
_COOKIE_VALUE = re.compile(rf'{_OCTETS}|"{_OCTETS}"')
# path-value = *<any CHAR except CTLs or ";">
_PATH_VALUE = re.compile(r"[\x20-\x3a\x3c-\x7e]*")
# domain-value = subdomain (RFC 1034 §3.5), with the leading dot user agents ignore.
_DOMAIN_VALUE = re.compile(r"\.?[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*")
_SAMESITE = {"strict": "Strict", "lax": "Lax", "none": "None"}
_EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"


def format_set_cookie(
    name: str,
    value: str = "",
    *,
    max_age: int | _dt.timedelta | None = None,
    expires: _dt.datetime | float | str | None = None,
    path: str | None = "/",
    domain: str | None = None,
    secure: bool = False,
    httponly: bool = False,
    samesite: str | None = "lax",
    partitioned: bool = False,
) -> str:
    """The value of a ``Set-Cookie`` field (RFC 6265 §4.1): ``sid=abc; Path=/; SameSite=Lax``.

    The name must be a token and the value cookie-octets (optionally in double quotes):
    anything else is a ``ValueError``, never silently encoded. *expires* (a ``datetime``,
    POSIX seconds or an HTTP-date) is written as an IMF-fixdate; *max_age* in seconds (an
    int or a ``timedelta``). *samesite* is ``"strict"``, ``"lax"`` (the default) or
    ``"none"`` (which requires *secure*); ``None`` leaves the attribute out. The
    ``__Secure-`` and ``__Host-`` name prefixes are checked.
    """
    if not isinstance(name, str) or not TOKEN.fullmatch(name):
        raise ValueError(f"invalid cookie name {name!r} (RFC 6265 §4.1.1: a token)")
    if not isinstance(value, str) or not _COOKIE_VALUE.fullmatch(value):
        raise ValueError(
            f"invalid cookie value {value!r} (RFC 6265 §4.1.1: no control characters, whitespace, "
            '", comma, semicolon or backslash; encode it first)'
        )
    parts = [f"{name}={value}"]
    if expires is not None:
        if isinstance(expires, str):
            when = parse_http_date(expires)
            if when is None:
                raise ValueError(f"invalid cookie Expires {expires!r}: not an HTTP-date")
            expires = when
        elif not isinstance(expires, (int, float, _dt.datetime)) or isinstance(expires, bool):
            raise TypeError(f"expires is a datetime, POSIX seconds or an HTTP-date, not {type(expires).__name__}")
        # RFC 6265 §4.1.1: sane-cookie-date = rfc1123-date, i.e. the IMF-fixdate.
        parts.append("Expires=" + format_http_date(expires))
    if max_age is not None:
        if isinstance(max_age, _dt.timedelta):
            max_age = int(max_age.total_seconds())
        if not isinstance(max_age, int) or isinstance(max_age, bool):
            raise TypeError(f"max_age is an int or a timedelta, not {type(max_age).__name__}")
        # NOTE: RFC 6265 §4.1.1 writes max-age as non-zero-digit *DIGIT, but 0 is how a cookie
        # is deleted (user agents expire it at once, §5.2.2), so 0 is allowed; negatives are not.
        if max_age < 0:
            raise ValueError(f"max_age must be >= 0, got {max_age}")
        parts.append(f"Max-Age={max_age}")
    if domain is not None:
        if not isinstance(domain, str) or not _DOMAIN_VALUE.fullmatch(domain):
            raise ValueError(f"invalid cookie Domain {domain!r}")
        parts.append(f"Domain={domain}")
    if path is not None:
        if not isinstance(path, str) or not _PATH_VALUE.fullmatch(path):
            raise ValueError(f"invalid cookie Path {path!r} (RFC 6265 §4.1.1: no control characters or ';')")
        parts.append(f"Path={path}")
    if secure:
        parts.append("Secure")
    if httponly:
        parts.append("HttpOnly")
    if samesite is not None:
        canonical = _SAMESITE.get(samesite.lower()) if isinstance(samesite, str) else None
        if canonical is None:
            raise ValueError(f"samesite is 'strict', 'lax', 'none' or None, not {samesite!r}")
        if canonical == "None" and not secure:
            # RFC 6265bis §4.1.2.7 (and every current browser): SameSite=None requires Secure.
            raise ValueError("SameSite=None requires secure=True")
        parts.append(f"SameSite={canonical}")
    if partitioned:
        # CHIPS: a partitioned cookie must be Secure.
        if not secure:
            raise ValueError("a partitioned cookie requires secure=True")
        parts.append("Partitioned")
    # RFC 6265bis §4.1.3: the name prefixes are promises the user agent enforces; refuse a
    # cookie it would drop.
    if name.startswith("__Secure-") and not secure:
        raise ValueError("a __Secure- cookie requires secure=True")
    if name.startswith("__Host-") and (not secure or domain is not None or path != "/"):
        raise ValueError("a __Host- cookie requires secure=True, path='/' and no domain")
    return "; ".join(parts)


def format_delete_cookie(
    name: str,
    *,
    path: str | None = "/",
    domain: str | None = None,
    secure: bool = False,
    httponly: bool = False,
    samesite: str | None = "lax",
) -> str:
    """The ``Set-Cookie`` value that asks the client to drop cookie *name*: an empty value that
    expired in 1970, with ``Max-Age=0``. *path* and *domain* must be the ones the cookie was
    set with."""
    cookie = format_set_cookie(
        name, "", max_age=0, path=path, domain=domain, secure=secure, httponly=httponly, samesite=samesite
    )
    # The epoch date, for user agents that predate Max-Age.
    name_value, _, rest = cookie.partition("; ")
    return f"{name_value}; Expires={_EPOCH}; {rest}"
