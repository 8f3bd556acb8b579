"""The RFC 9110 vocabulary every layer shares: tokens, date names and status reason phrases.

One home per rule (DESIGN.md): the pure kernels, the message model and the engine import these
names; nobody spells ``tchar`` or the month names again. The compiled kernels keep C tables of
the same sets (a 256-entry lookup is what makes them fast); ``tests/test_grammar.py`` checks
that those tables and this module agree, character by character.

This module imports nothing from fasthttp, so any layer may use it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = (
    "TCHARS",
    "TCHAR",
    "TOKEN_PATTERN",
    "TOKEN",
    "TOKEN_BYTES",
    "DAYS",
    "MONTHS",
    "REASONS",
    "reason_phrase",
    "FORBIDDEN_TRAILERS",
    "sendable_trailers",
)

# RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
#                          "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
TCHARS: str = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#: The tchar set as byte values, for scanning ``bytes``.
TCHAR: frozenset[int] = frozenset(TCHARS.encode("ascii"))
#: token = 1*tchar as regular-expression source, for patterns that embed a token.
TOKEN_PATTERN: str = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
#: token = 1*tchar, as a regular expression over ``str`` and over ``bytes``.
TOKEN: re.Pattern[str] = re.compile(TOKEN_PATTERN)
TOKEN_BYTES: re.Pattern[bytes] = re.compile(TOKEN_PATTERN.encode("ascii"))

# RFC 9110 §6.5.1: fields whose evaluation is needed before the content (framing, routing,
# authentication, request modifiers, response controls, content format) have no place in a
# trailer section; a recipient keeps them out of the message (both chunked twins use this set,
# lower-case).
FORBIDDEN_TRAILERS: frozenset[bytes] = frozenset(
    b"""authorization cache-control connection content-encoding content-length content-range
    content-type cookie expect host if-match if-modified-since if-none-match if-range
    if-unmodified-since keep-alive max-forwards pragma proxy-authenticate proxy-authorization
    proxy-connection range set-cookie te trailer transfer-encoding upgrade www-authenticate""".split()
)


def sendable_trailers(fields: Any) -> list[tuple[Any, Any]]:
    """The pairs of *fields* (pairs or a Mapping) that may be sent in a trailer section.

    RFC 9110 §6.5.1: a sender MUST NOT generate a trailer field whose definition does not allow
    it; an application's ``Content-Length``, ``Transfer-Encoding``, ``Set-Cookie``... trailer is
    dropped (as the receiving side drops it), never written, so a recipient that merges trailers
    into the header section cannot be given a second framing or a late cookie. A name that is
    not latin-1 ``str`` or ``bytes`` is kept: the writer refuses it with its own error.
    """
    pairs = fields.items() if isinstance(fields, Mapping) else fields
    kept = []
    for pair in pairs:
        name = pair[0]
        if isinstance(name, str):
            low = name.lower().encode("latin-1", "replace")
        elif isinstance(name, (bytes, bytearray)):
            low = bytes(name).lower()
        else:
            low = b""
        if low not in FORBIDDEN_TRAILERS:
            kept.append(pair)
    return kept

# RFC 9110 §5.6.7: the day and month names of IMF-fixdate (and of the obsolete forms). NOTE:
# fixed English names, never strftime("%a"/"%b"), which follow the process locale.
DAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # tm_wday: Monday is 0
MONTHS: tuple[str, ...] = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Reason phrases (RFC 9112 §4: the reason-phrase is informational; clients ignore it). The
# phrases are the IANA "HTTP Status Code Registry" ones for every code RFC 9110 §15 defines, plus
# the registered extension codes below. NOTE: 306 and 418 are registered as "(Unused)", which is
# an annotation, not a phrase: 306 gets the empty reason of an unknown code, 418 the phrase of
# RFC 2324 §2.3.2 that clients and tools recognise. 510 drops the registry's "(OBSOLETED)".
REASONS: dict[int, str] = {
    100: "Continue",
    101: "Switching Protocols",
    103: "Early Hints",  # RFC 8297
    200: "OK",
    201: "Created",
    202: "Accepted",
    203: "Non-Authoritative Information",
    204: "No Content",
    205: "Reset Content",
    206: "Partial Content",
    207: "Multi-Status",  # RFC 4918
    208: "Already Reported",  # RFC 5842
    226: "IM Used",  # RFC 3229
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    304: "Not Modified",
    305: "Use Proxy",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    409: "Conflict",
    410: "Gone",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Content Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    416: "Range Not Satisfiable",
    417: "Expectation Failed",
    418: "I'm a teapot",  # RFC 2324
    421: "Misdirected Request",
    422: "Unprocessable Content",
    425: "Too Early",  # RFC 8470
    426: "Upgrade Required",
    428: "Precondition Required",  # RFC 6585
    429: "Too Many Requests",  # RFC 6585
    431: "Request Header Fields Too Large",  # RFC 6585
    451: "Unavailable For Legal Reasons",  # RFC 7725
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
    506: "Variant Also Negotiates",  # RFC 2295
    507: "Insufficient Storage",  # RFC 4918
    508: "Loop Detected",  # RFC 5842
    510: "Not Extended",  # RFC 2774
    511: "Network Authentication Required",  # RFC 6585
}


def reason_phrase(status: int) -> str:
    """The reason phrase sent with *status* (``"Not Found"``), ``""`` for an unregistered code."""
    return REASONS.get(status, "")
