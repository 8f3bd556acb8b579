"""Routing: host, path pattern and method to an endpoint, as a sans-IO lookup.

The App calls :meth:`Router.resolve` once per request with the method, the *raw* path and host
(undecoded, as the parser gives them) and the raw query, and gets back a :class:`Match` whose
``status`` says what to do: 200 (call ``endpoint`` with ``params``), 301/308 (redirect to
``location``), 400, 404 or 405 (answer with ``allow``). No I/O, no request objects.

Pattern syntax
--------------
One syntax family, built on ``:name``; each parameter occupies one whole segment::

    /users                      exact path (static route)
    /users/:id                  one segment, a non-empty str without "/"
    /users/:id?                 zero or one segment; ``None`` when absent
    /files/:parts+              one or more segments; a tuple of str
    /files/:parts*              zero or more segments; a tuple (possibly empty)
    /users/:id<int>             a converter in angle brackets: int, float, uuid, str, path, or one
                                registered with register_converter(name, regex, convert)
    /tags/:ids<int>+            modifiers compose with converters: a tuple of int
    /static/:file<path>         path: one or more segments joined with "/" (a str); <path>* also
                                matches zero segments ("")
    /posts/:slug([a-z0-9-]+)    a regex segment in parentheses: the regex must match the whole
                                decoded segment (``fullmatch``); the value is the str

A literal segment is taken percent-decoded (``/caf%C3%A9`` and ``/café`` are the same route); to
write a literal segment that starts with ":", encode the colon (``/%3Aabout``). A trailing "/" in
a pattern is significant (see "Trailing slash"). Parameters never match an empty segment.
A converter refuses a segment when its regex does not match or its conversion raises
``ValueError``: that is "no match" (the next route is tried), never an error.

Precedence
----------
For a request's method: an exact (static) route wins (a dict hit); otherwise patterns are tried in
registration order and the first one that matches the path *and* has the method wins (a pattern's
position is the first time it was added). A ``GET`` route also answers ``HEAD`` (as if it had
registered it, so it keeps the GET route's place in that order). If no route has the method but
some match the path, the outcome is 405 with ``allow``: the sorted union of the methods of *every*
route that matches the path (RFC 9110 §15.5.6), plus ``HEAD`` for GET and ``OPTIONS``.
``OPTIONS`` is answered by the first matching route that registered it explicitly, else
automatically (``auto_options``, status 200, the same ``allow``; RFC 9110 §9.3.7). ``OPTIONS *``
gets the methods of the whole host table. Nothing matches: 404.

Hosts
-----
``add(..., host="api.example.com")`` binds a route to a host; ``host="*.example.com"`` to every
host under example.com (one or more labels, not example.com itself; nginx's rule). A request is
routed within exactly one host's table, chosen by: exact name, then alias (answered with 301 to the
canonical host, same path and query), then the wildcard with the longest suffix; a host that
matches none gets the *default table*: the routes added without a host, which are also the
``default_host``'s routes when one is given. With ``strict_hosts=True`` an unknown host is 400
instead (RFC 9110 §7.2 leaves unknown authorities to the server; refusing them stops
Host-header games) and routes without a host are served only for ``default_host``.
Names compare case-insensitively (RFC 9110 §4.2.3), without a trailing dot; the request's port is
ignored unless the bound host names one, which must then match. An alias's ``Location`` is the
network-path reference ``//canonical/path?query`` (RFC 3986 §4.2): the router does not know the
scheme; the App may prefix it.

Trailing slash
--------------
``/a`` and ``/a/`` are different paths. With ``trailing_slash="redirect"`` (the default) a request
that matches nothing, while its other form (slash added or removed) names a route, is answered
with 308 to that form, query preserved; 308 keeps the method and body (RFC 9110 §15.4.9).
With ``"strict"`` it is 404.

Path decoding (APPSEC)
----------------------
The path is split on "/" *first*; each segment is then percent-decoded as UTF-8 (RFC 3986 §2.1,
§7.3), so ``%2F`` never creates a segment. Parameters of the default ``str`` converter and of
``path`` refuse a decoded "/" (so ``..%2F..%2Fetc`` can never reach a handler as a str or path
value); a regex segment or a user converter may accept one. Malformed percent-encoding or invalid
UTF-8 is a distinct outcome: 400, ``reason`` says why. Dot segments (``.``, ``..``, also encoded
as ``%2E``) are refused with 400 rather than normalized: clients remove them before sending
(RFC 3986 §5.2.4 is part of reference resolution), so a target that still has them is hand-made,
and refusing leaves no way for ``..`` to climb above a route. The path string itself is taken as
raw bytes in latin-1 (what the parser hands over), so an unencoded UTF-8 byte sequence decodes
like its percent-encoded form.

Speed (PERF, see benchmarks/bench_routing.py)
---------------------------------------------
Static routes are one dict lookup on the raw path, keyed by every raw spelling a client sends
unencoded, returning a preallocated :class:`Match`. Patterns compile lazily, on the first resolve
after a change (Falcon compiles on every add, which is quadratic), into one generated Python
function per host table: it dispatches on the segment count, then on literal segments (if/elif
or a dict of sub-functions), and only then runs converters, so the cost of a ``:param`` hit
barely grows with the table. Following Falcon's measurement this stays plain Python.
"""

from __future__ import annotations

import re
import types
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, unquote_to_bytes

__all__ = (
    "Router",
    "Route",
    "Match",
    "Converter",
    "register_converter",
    "NOT_FOUND",
)

# --------------------------------------------------------------------------------------------
# Outcomes
# --------------------------------------------------------------------------------------------

#: Read-only empty params, shared by every static hit and non-200 outcome.
EMPTY_PARAMS: Mapping[str, Any] = types.MappingProxyType({})


class Match:
    """The outcome of :meth:`Router.resolve`. Treat it as read-only: most are shared.

    ``status``: 200 (``endpoint`` answers; ``auto_head`` means a GET endpoint answers a HEAD,
    send no body; ``auto_options`` means no endpoint, answer with ``allow``), 301 or 308
    (``location``), 400 (``reason``), 404, 405 (``allow``).
    ``params``: the converted parameters (a dict for a pattern hit, a shared read-only empty
    mapping otherwise). ``route``: the :class:`Route` that answers, or None.
    """

    # PERF: a pattern hit allocates one of these per request; the fields most outcomes leave at
    # their default are class attributes, overridden by slots in the _Outcome subclass that the
    # preallocated outcomes use (bench_routing.py::test_param_hit_in_100_routes).
    __slots__ = ("status", "endpoint", "params", "route")
    allow: tuple[str, ...] = ()
    location: str | None = None
    auto_head: bool = False
    auto_options: bool = False
    reason: str = ""

    def __init__(self, status: int, endpoint: Any, params: Mapping[str, Any], route: Route | None):
        self.status = status
        self.endpoint = endpoint
        self.params = params
        self.route = route

    def __repr__(self) -> str:
        parts = [f"status={self.status}"]
        if self.route is not None:
            parts.append(f"route={self.route.pattern!r}")
        if self.params:
            parts.append(f"params={dict(self.params)!r}")
        for flag in ("auto_head", "auto_options"):
            if getattr(self, flag):
                parts.append(flag)
        if self.allow:
            parts.append(f"allow={self.allow!r}")
        if self.location is not None:
            parts.append(f"location={self.location!r}")
        if self.reason:
            parts.append(f"reason={self.reason!r}")
        return f"<Match {' '.join(parts)}>"


class _HeadMatch(Match):
    """A GET route answering HEAD (RFC 9110 §9.3.2): run the GET endpoint, send no content."""

    __slots__ = ()
    auto_head = True


class _Outcome(Match):
    """A preallocated or rare outcome: every field is an instance slot."""

    __slots__ = ("allow", "location", "auto_head", "auto_options", "reason")

    def __init__(
        self,
        status: int,
        endpoint: Any = None,
        route: Route | None = None,
        *,
        allow: tuple[str, ...] = (),
        location: str | None = None,
        auto_head: bool = False,
        auto_options: bool = False,
        reason: str = "",
    ) -> None:
        super().__init__(status, endpoint, EMPTY_PARAMS, route)
        self.allow = allow
        self.location = location
        self.auto_head = auto_head
        self.auto_options = auto_options
        self.reason = reason


#: Nothing matched (404).
NOT_FOUND: Match = _Outcome(404, reason="not found")
_BAD_HOST = _Outcome(400, reason="unknown host")
_BAD_PATH = _Outcome(400, reason="invalid request path")
_BAD_ENCODING = _Outcome(400, reason="invalid percent-encoding or UTF-8 in path")
_DOT_SEGMENT = _Outcome(400, reason="dot segment in path")


# --------------------------------------------------------------------------------------------
# Converters
# --------------------------------------------------------------------------------------------


class Converter:
    """How a parameter segment is recognised and turned into a value.

    ``regex`` must match the whole decoded segment; ``convert`` (default: keep the str) turns it
    into the value and may raise ``ValueError`` to refuse it. ``check_src`` is an optional inline
    test used by the code generator for the built-ins (faster than a regex); ``joined`` marks
    ``path``, whose multi-segment value is one str.
    """

    __slots__ = ("name", "regex", "convert", "matches", "check_src", "joined", "implicit_plus")

    def __init__(
        self,
        name: str | None,
        regex: str,
        convert: Callable[[str], Any] | None = None,
        *,
        check_src: str | None = None,
        joined: bool = False,
        implicit_plus: bool = False,
    ) -> None:
        try:
            fullmatch = re.compile(regex).fullmatch
        except re.error as exc:
            raise ValueError(f"invalid converter regex {regex!r}: {exc}") from None
        if convert is not None and not callable(convert):
            raise TypeError("convert must be callable")
        self.name = name
        self.regex = regex
        self.convert = convert
        self.matches: Callable[[str], Any] = fullmatch
        self.check_src = check_src
        self.joined = joined
        self.implicit_plus = implicit_plus

    def __repr__(self) -> str:
        return f"<Converter {self.name or 'regex'} {self.regex!r}>"


def _no_slash(segment: str) -> bool:
    return "/" not in segment


def _safe_path_part(segment: str) -> bool:
    return "/" not in segment and "\\" not in segment and "\x00" not in segment


_STR = Converter("str", r"[^/]+", check_src="'/' not in {s}")
_STR.matches = _no_slash
_PATH = Converter(
    "path",
    r"[^/\\\x00]+",
    check_src="'/' not in {s} and '\\\\' not in {s} and '\\x00' not in {s}",
    joined=True,
    implicit_plus=True,
)
_PATH.matches = _safe_path_part

_BUILTIN_CONVERTERS: dict[str, Converter] = {
    "str": _STR,
    # Unsigned decimal: "-1" and "+1" do not match (register a signed converter if needed).
    # isascii() keeps out the Unicode digits int() would accept ("٣").
    "int": Converter("int", r"[0-9]+", int, check_src="{s}.isdigit() and {s}.isascii()"),
    "float": Converter("float", r"[0-9]+(?:\.[0-9]+)?", float),
    "uuid": Converter(
        "uuid",
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        uuid.UUID,
    ),
    "path": _PATH,
}
_USER_CONVERTERS: dict[str, Converter] = {}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _check_converter_name(name: str, *registries: dict[str, Converter]) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"converter name must be an identifier, not {name!r}")
    for registry in (_BUILTIN_CONVERTERS, *registries):
        if name in registry:
            raise ValueError(f"converter {name!r} is already registered")


def register_converter(
    name: str, regex: str, convert: Callable[[str], Any] | None = None
) -> Converter:
    """Register a converter for every router: ``/:id<name>`` then matches ``regex`` and converts.

    Register it before adding routes that use it (patterns are parsed by ``add``).
    """
    _check_converter_name(name, _USER_CONVERTERS)
    conv = Converter(name, regex, convert)
    _USER_CONVERTERS[name] = conv
    return conv


# --------------------------------------------------------------------------------------------
# Patterns
# --------------------------------------------------------------------------------------------

_ONE, _OPT, _PLUS, _STAR = (1, 1), (0, 1), (1, None), (0, None)
_MODIFIERS = {"": _ONE, "?": _OPT, "+": _PLUS, "*": _STAR}
_MODIFIER_TEXT = {v: k for k, v in _MODIFIERS.items()}

# Characters kept unencoded in a canonical path segment: unreserved (always, by quote) plus
# sub-delims, ":" and "@" (RFC 3986 §3.3 pchar).
_PCHAR_SAFE = "!$&'()*+,;=:@"


class _Lit:
    __slots__ = ("text",)
    variable = False

    def __init__(self, text: str) -> None:
        self.text = text

    def source(self) -> str:
        text = quote(self.text, safe=_PCHAR_SAFE)
        return "%3A" + text[1:] if text.startswith(":") else text


class _Param:
    __slots__ = ("name", "conv", "span", "regex_text", "variable")

    def __init__(
        self, name: str, conv: Converter, span: tuple[int, int | None], regex_text: str | None
    ) -> None:
        self.name = name
        self.conv = conv
        self.span = span  # (least, most) segments; most None: unbounded
        self.regex_text = regex_text
        self.variable = span != _ONE

    def source(self) -> str:
        text = ":" + self.name
        if self.regex_text is not None:
            text += f"({self.regex_text})"
        elif self.conv is not _STR:
            text += f"<{self.conv.name}>"
        if self.conv.implicit_plus and self.span == _PLUS:
            return text
        return text + _MODIFIER_TEXT[self.span]


def _regex_end(pattern: str, start: int) -> int:
    """Index of the ")" closing the "(" at ``start``, honouring escapes and [...] classes."""
    depth, i, in_class = 0, start, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
        elif c == "[":
            in_class = True
            # "]" right after "[" or "[^" is a literal member of the class.
            if pattern[i + 1 : i + 2] == "]":
                i += 1
            elif pattern[i + 1 : i + 3] == "^]":
                i += 2
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unbalanced parentheses in pattern {pattern!r}")


def _decode_literal(text: str, pattern: str) -> str:
    try:
        return _decode_segment(text) if "%" in text else text
    except ValueError:
        raise ValueError(f"invalid percent-encoding in pattern {pattern!r}") from None


def _parse_pattern(pattern: str, converters: Mapping[str, Converter]) -> list:
    """Parse a pattern into literal and parameter elements (see the module docstring)."""
    if not isinstance(pattern, str) or not pattern.startswith("/"):
        raise ValueError(f"a pattern starts with '/': {pattern!r}")
    elements: list = []
    names: set[str] = set()
    i, n = 1, len(pattern)
    if pattern == "/":
        return elements
    while True:
        if pattern.startswith(":", i):
            m = _NAME.match(pattern, i + 1)
            if m is None:
                raise ValueError(f"a parameter needs a name at {i} in {pattern!r}")
            name, i = m.group(), m.end()
            if name in names:
                raise ValueError(f"parameter {name!r} appears twice in {pattern!r}")
            names.add(name)
            conv, regex_text = _STR, None
            if pattern.startswith("<", i):
                close = pattern.find(">", i)
                if close < 0:
                    raise ValueError(f"unclosed '<' in {pattern!r}")
                conv_name = pattern[i + 1 : close]
                conv = converters.get(conv_name)  # type: ignore[assignment]
                if conv is None:
                    raise ValueError(f"unknown converter {conv_name!r} in {pattern!r}")
                i = close + 1
            elif pattern.startswith("(", i):
                close = _regex_end(pattern, i)
                regex_text = pattern[i + 1 : close]
                conv = Converter(None, regex_text)
                i = close + 1
            modifier = pattern[i] if i < n and pattern[i] in "?+*" else ""
            i += len(modifier)
            span = _MODIFIERS[modifier]
            if conv.implicit_plus:
                if modifier == "?":
                    raise ValueError(f"<{conv.name}> takes no '?' (use '*') in {pattern!r}")
                if not modifier:
                    span = _PLUS
            elements.append(_Param(name, conv, span, regex_text))
            if i < n and pattern[i] != "/":
                raise ValueError(f"a parameter fills its whole segment, at {i} in {pattern!r}")
        else:
            end = pattern.find("/", i)
            end = n if end < 0 else end
            raw = pattern[i:end]
            if not raw and end < n:
                raise ValueError(f"empty segment in pattern {pattern!r}")
            text = _decode_literal(raw, pattern)
            if text in (".", ".."):
                raise ValueError(f"dot segment in pattern {pattern!r} (never matches)")
            if raw or elements:
                elements.append(_Lit(text))
            i = end
        if i >= n:
            return elements
        i += 1  # the "/"
        if i == n:
            elements.append(_Lit(""))  # a trailing slash: a final empty segment
            return elements


def _pattern_source(elements: list) -> str:
    if not elements:
        return "/"
    return "".join("/" + e.source() for e in elements)


def _static_keys(elements: list) -> list[str]:
    """The raw spellings of a static path a client may send: canonical, and fully unencoded."""
    if not elements:
        return ["/"]
    texts = [e.text for e in elements]
    keys = ["/" + "/".join(quote(t, safe=_PCHAR_SAFE) for t in texts)]
    plain = "/" + "/".join(texts)
    if plain not in keys and all(t.isascii() and not (set(t) & set("%/?#")) for t in texts):
        keys.append(plain)
    return keys


# --------------------------------------------------------------------------------------------
# Request paths
# --------------------------------------------------------------------------------------------

_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _decode_segment(segment: str) -> str:
    """Percent-decode one segment as UTF-8; ValueError if malformed (RFC 3986 §2.1)."""
    if _BAD_PERCENT.search(segment):
        raise ValueError("malformed percent-encoding")
    # latin-1: the str holds the request's raw bytes (UnicodeError is a ValueError).
    return unquote_to_bytes(segment.encode("latin-1")).decode("utf-8")


def _split_path(path: str) -> list[str] | Match:
    """The decoded segments of a raw path ("/" has none), or a 400 outcome."""
    if path == "/":
        return []
    if not path.startswith("/"):
        return _BAD_PATH
    segs = path[1:].split("/")
    if "%" in path or not path.isascii():
        try:
            segs = [_decode_segment(s) if "%" in s or not s.isascii() else s for s in segs]
        except ValueError:
            return _BAD_ENCODING
    elif "." not in path:
        return segs
    if "." in segs or ".." in segs:
        return _DOT_SEGMENT
    return segs


# --------------------------------------------------------------------------------------------
# Hosts
# --------------------------------------------------------------------------------------------

_HOST_LABELS = re.compile(r"(\*\.)?[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?|\[[0-9a-f:.]+\]")


def _split_host(host: str) -> tuple[str, str | None]:
    """(lowercased name without trailing dot, port or None) of a Host value (RFC 9110 §7.2)."""
    host = host.lower()
    if host.startswith("["):  # IP-literal (RFC 3986 §3.2.2)
        end = host.find("]")
        name, rest = host[: end + 1], host[end + 1 :]
        port = rest[1:] if rest.startswith(":") else None
    else:
        name, sep, port_text = host.rpartition(":")
        if sep and port_text.isdigit():
            port = port_text
        else:
            name, port = host, None
    return name.removesuffix("."), port or None


def _binding_key(host: str) -> str:
    """Validate a host given to add/alias_host and return its canonical key."""
    if not isinstance(host, str) or not host:
        raise ValueError(f"invalid host {host!r}")
    name, port = _split_host(host)
    if not _HOST_LABELS.fullmatch(name):
        raise ValueError(f"invalid host {host!r}")
    return name if port is None else f"{name}:{port}"


# --------------------------------------------------------------------------------------------
# Routes and nodes
# --------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 §5.6.2


class Route:
    """One registered route: a row of :meth:`Router.routes`."""

    __slots__ = ("methods", "host", "pattern", "name", "endpoint", "_elements")

    def __init__(self, methods, host, pattern, name, endpoint, elements) -> None:
        self.methods: tuple[str, ...] = methods
        self.host: str | None = host
        self.pattern: str = pattern
        self.name: str = name
        self.endpoint: Any = endpoint
        self._elements = elements

    def __repr__(self) -> str:
        host = f" host={self.host!r}" if self.host else ""
        return f"<Route {','.join(self.methods)} {self.pattern!r}{host} name={self.name!r}>"


class _Node:
    """All routes of one (host, pattern): what the generated code returns."""

    __slots__ = ("elements", "static", "routes", "templates", "allow_set")

    def __init__(self, elements: list) -> None:
        self.elements = elements
        self.static = not any(isinstance(e, _Param) for e in elements)
        self.routes: dict[str, Route] = {}
        self.templates: dict[str, Match] = {}
        self.allow_set: frozenset[str] = frozenset()

    def build(self) -> None:
        """The method -> Match table; HEAD comes with GET (RFC 9110 §9.3.2)."""
        params = EMPTY_PARAMS
        t: dict[str, Match] = {m: Match(200, r.endpoint, params, r) for m, r in self.routes.items()}
        get = self.routes.get("GET")
        if get is not None and "HEAD" not in t:
            t["HEAD"] = _HeadMatch(200, get.endpoint, params, get)
        self.templates = t
        self.allow_set = frozenset(t) | {"OPTIONS"}


# --------------------------------------------------------------------------------------------
# Code generation: patterns -> one find() per host table
# --------------------------------------------------------------------------------------------


class _TooBig(Exception):
    pass


def _make_multi(conv: Converter) -> Callable[[list], Any]:
    """Check and convert the segments of a +/* parameter: a tuple (or str for path), or None."""
    matches, convert, joined = conv.matches, conv.convert, conv.joined

    def multi(segs: list) -> Any:
        out = []
        for s in segs:
            if not s or not matches(s):
                return None
            if convert is not None:
                try:
                    s = convert(s)
                except ValueError:
                    return None
            out.append(s)
        return "/".join(out) if joined else tuple(out)

    return multi


def _make_complex(elements: list) -> Callable[[list], dict | None]:
    """A backtracking matcher for patterns with two or more variable-length parameters.

    Earlier parameters take as many segments as they can (like a greedy regex).
    """
    multis = {id(e): _make_multi(e.conv) for e in elements if isinstance(e, _Param)}
    least_after = [0] * (len(elements) + 1)
    for i in range(len(elements) - 1, -1, -1):
        e = elements[i]
        least_after[i] = least_after[i + 1] + (1 if isinstance(e, _Lit) else e.span[0])

    def rec(i: int, j: int, segs: list, params: dict) -> dict | None:
        if i == len(elements):
            return params if j == len(segs) else None
        e = elements[i]
        if isinstance(e, _Lit):
            if j < len(segs) and segs[j] == e.text:
                return rec(i + 1, j + 1, segs, params)
            return None
        least, most = e.span
        room = len(segs) - j - least_after[i + 1]
        top = room if most is None else min(most, room)
        for take in range(top, least - 1, -1):
            value = multis[id(e)](segs[j : j + take])
            if value is None:
                continue
            if e.span == _ONE:
                value = value[0]
            elif e.span == _OPT:
                value = value[0] if take else None
            found = rec(i + 1, j + take, segs, {**params, e.name: value})
            if found is not None:
                return found
        return None

    return lambda segs: rec(0, 0, segs, {})


class _Plan:
    """One node's checks inside one block of the generated function."""

    __slots__ = ("node", "k", "lits", "checks", "params", "complex")

    def __init__(self, node: _Node, k: int) -> None:
        self.node, self.k = node, k
        self.lits: dict[int, str] = {}  # constant position -> literal (used to dispatch)
        self.checks: list[tuple[str, str]] = []  # (expression, literal) checked in the leaf
        self.params: list[tuple[str, _Param, str, str]] = []  # (name, param, shape, expression)
        self.complex = False


def _span(e) -> tuple[int, int | None]:
    return (1, 1) if isinstance(e, _Lit) else e.span


def _length_range(elements: list) -> tuple[int, int | None]:
    least = sum(_span(e)[0] for e in elements)
    most: int | None = 0
    for e in elements:
        top = _span(e)[1]
        most = None if most is None or top is None else most + top
    return least, most


def _plan(node: _Node, k: int, n: int | None) -> _Plan:
    """Positions of the node's elements for requests of n segments (None: n > every bound)."""
    plan = _Plan(node, k)
    els = node.elements
    var = [i for i, e in enumerate(els) if e.variable]
    if len(var) > 1:
        plan.complex = True
        return plan
    v = var[0] if var else len(els)
    after = len(els) - v - 1  # elements after the variable one
    for i, e in enumerate(els):
        if i < v:
            pos: int | str = i
            expr = f"s{i}" if n is not None else f"segs[{i}]"
        elif i == v:
            lo = v
            if n is not None:
                width = n - (len(els) - 1)
                hi = lo + width
                if e.span == _OPT:
                    if width:
                        plan.params.append((e.name, e, "one", f"s{lo}"))
                    else:
                        plan.params.append((e.name, e, "none", ""))
                else:
                    plan.params.append((e.name, e, "multi", f"segs[{lo}:{hi}]"))
            else:
                stop = f"n-{after}" if after else ""
                plan.params.append((e.name, e, "multi", f"segs[{lo}:{stop}]"))
            continue
        else:
            back = len(els) - i  # distance from the end
            if n is not None:
                pos = n - back
                expr = f"s{pos}"
            else:
                pos, expr = f"n-{back}", f"segs[n-{back}]"
        if isinstance(e, _Lit):
            if isinstance(pos, int):
                plan.lits[pos] = e.text
            else:
                plan.checks.append((expr, e.text))
        else:
            plan.params.append((e.name, e, "one", expr))
    return plan


class _Codegen:
    """Writes ``find(method, segs, n)`` and ``find_all(segs, n, out)`` for a list of nodes.

    ``find`` returns a new :class:`Match` for the first node (in registration order) that
    matches the path and has the method; ``find_all`` appends every node matching the path.
    Strategy: an if/elif on the segment count n; inside a block, dispatch on the literal at the
    lowest position any candidate pins, each branch keeping the candidates with that literal
    plus, in order, those that do not pin the position (so registration order is preserved:
    routes with different literals at one position can never both match). Then each candidate
    is a straight-line leaf: literal leftovers, converter checks, conversions, return.
    """

    DISPATCH_DICT = 5  # more branches than this: a dict of sub-functions instead of if/elif
    MAX_DEPTH = 40

    def __init__(self, nodes: list[_Node], partition: bool = True) -> None:
        self.nodes = nodes
        self.partition = partition
        self.ns: dict[str, Any] = {"__builtins__": __builtins__, "NEW": object.__new__}
        self.funcs: list[list[str]] = []
        self.counter = 0
        self.budget = 200 * len(nodes) + 2000  # leaves, to bound duplication
        self.conv_names: dict[int, str] = {}

    def _name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def _bind(self, prefix: str, obj: Any) -> str:
        name = self._name(prefix)
        self.ns[name] = obj
        return name

    def generate(self) -> tuple[Callable, Callable, str]:
        for k, node in enumerate(self.nodes):
            self.ns[f"G{k}"] = node.templates.get
            self.ns[f"N{k}"] = node
            if sum(e.variable for e in node.elements) > 1:
                self.ns[f"X{k}"] = _make_complex(node.elements)
        ranges = [_length_range(node.elements) for node in self.nodes]
        top = max([lo for lo, _ in ranges] + [hi for _, hi in ranges if hi is not None] + [0])
        blocks: list[tuple[int | None, list[_Plan]]] = []
        for n in range(top + 1):
            plans = [
                _plan(node, k, n)
                for k, (node, (lo, hi)) in enumerate(zip(self.nodes, ranges))
                if lo <= n and (hi is None or n <= hi)
            ]
            if plans:
                blocks.append((n, plans))
        open_plans = [
            _plan(node, k, None)
            for k, (node, (_, hi)) in enumerate(zip(self.nodes, ranges))
            if hi is None
        ]
        if open_plans:
            blocks.append((None, open_plans))
        sources = []
        for mode in ("find", "all"):
            args = "method, segs, n" if mode == "find" else "segs, n, out"
            body: list[str] = []
            keyword = "if"
            for n, plans in blocks:
                if n is None:  # longer than every bounded pattern
                    body.append(f"{keyword} n > {top}:")
                else:
                    body.append(f"{keyword} n == {n}:")
                keyword = "elif"
                self._block(mode, n, plans, body, 1)
            body.append("return None")
            head = "find" if mode == "find" else "find_all"
            self.funcs.append([f"def {head}({args}):"] + ["    " + line for line in body])
            sources.append(head)
        source = "\n\n".join("\n".join(f) for f in self.funcs) + "\n"
        code = compile(source, "<fasthttp.routing generated>", "exec")
        exec(code, self.ns)  # noqa: S102 - our own generated source; literals go through repr()
        return self.ns["find"], self.ns["find_all"], source

    @staticmethod
    def _unpack(n: int | None) -> str | None:
        if not n:
            return None
        return f"{', '.join(f's{i}' for i in range(n))}, = segs"

    def _block(self, mode: str, n: int | None, plans: list[_Plan], out: list[str], ind: int):
        unpack = self._unpack(n)
        if unpack:
            out.append("    " * ind + unpack)
        self._group(mode, n, [(p, dict(p.lits)) for p in plans], out, ind, 0)

    def _group(self, mode, n, items, out, ind, depth) -> None:
        pad = "    " * ind
        positions = [pos for _, lits in items for pos in lits]
        if not positions or not self.partition or depth > self.MAX_DEPTH:
            for plan, lits in items:
                self._leaf(mode, n, plan, lits, out, ind)
            return
        pos = min(positions)
        texts: list[str] = []
        for _, lits in items:
            text = lits.get(pos)
            if text is not None and text not in texts:
                texts.append(text)
        # Candidates that do not pin the position go into every branch, in order; those after
        # the last one that does ("trailing", typically a catch-all added last) are tried once,
        # after the dispatch, instead of being copied into every branch.
        last = max(i for i, (_, lits) in enumerate(items) if pos in lits)
        trailing = items[last + 1 :]
        buckets: dict[str, list] = {t: [] for t in texts}
        wild = []
        for plan, lits in items[: last + 1]:
            text = lits.get(pos)
            if text is None:
                wild.append((plan, lits))
                for bucket in buckets.values():
                    bucket.append((plan, lits))
            else:
                rest = dict(lits)
                del rest[pos]
                buckets[text].append((plan, rest))
        seg = f"s{pos}"
        if n is None:
            out.append(f"{pad}{seg} = segs[{pos}]")
        if len(buckets) > self.DISPATCH_DICT:
            table = {}
            args = "method, segs, n" if mode == "find" else "segs, n, out"
            for text, sub in buckets.items():
                fname = self._name("_a" if mode == "all" else "_f")
                body: list[str] = []
                unpack = self._unpack(n)
                if unpack:
                    body.append("    " + unpack)
                self._group(mode, n, sub, body, 1, depth + 1)
                body.append("    return None")
                self.funcs.append([f"def {fname}({args}):"] + body)
                table[text] = fname
            dname = self._name("D")
            items_src = ", ".join(f"{t!r}: {f}" for t, f in table.items())
            self.funcs.append([f"{dname} = {{{items_src}}}"])
            out.append(f"{pad}f = {dname}.get({seg})")
            out.append(f"{pad}if f is not None:")
            if mode == "find":
                out.append(f"{pad}    m = f({args})")
                out.append(f"{pad}    if m is not None:")
                out.append(f"{pad}        return m")
            else:
                out.append(f"{pad}    f({args})")
        else:
            keyword = "if"
            for text, sub in buckets.items():
                out.append(f"{pad}{keyword} {seg} == {text!r}:")
                keyword = "elif"
                self._group(mode, n, sub, out, ind + 1, depth + 1)
        if wild:
            out.append(f"{pad}else:")
            self._group(mode, n, wild, out, ind + 1, depth + 1)
        if trailing:
            self._group(mode, n, trailing, out, ind, depth + 1)

    def _conv(self, conv: Converter) -> str:
        """The name prefix bound to a converter: +m its check, +v its conversion, +x multi."""
        key = id(conv)
        if key not in self.conv_names:
            name = self.conv_names[key] = self._bind("C", conv)
            self.ns[name + "m"] = conv.matches
            self.ns[name + "v"] = conv.convert
            self.ns[name + "x"] = _make_multi(conv)
        return self.conv_names[key]

    @staticmethod
    def _hit(out: list[str], pad: str, params: str) -> None:
        # PERF: object.__new__ and four slot stores cost about two thirds of calling
        # Match.__init__ (bench_routing.py::test_param_hit_in_100_routes).
        out.append(f"{pad}m = NEW(t.__class__)")
        out.append(f"{pad}m.status = 200; m.endpoint = t.endpoint; m.route = t.route")
        out.append(f"{pad}m.params = {params}")
        out.append(f"{pad}return m")

    def _leaf(self, mode, n, plan: _Plan, lits: dict[int, str], out: list[str], ind: int) -> None:
        self.budget -= 1
        if self.budget < 0 and self.partition:
            raise _TooBig
        pad = "    " * ind
        k = plan.k
        if plan.complex:
            if mode == "find":
                out.append(f"{pad}t = G{k}(method)")
                out.append(f"{pad}if t is not None:")
                out.append(f"{pad}    p = X{k}(segs)")
                out.append(f"{pad}    if p is not None:")
                self._hit(out, pad + "        ", "p")
            else:
                out.append(f"{pad}if X{k}(segs) is not None:")
                out.append(f"{pad}    out.append(N{k})")
            return
        if mode == "find":
            out.append(f"{pad}t = G{k}(method)")
            out.append(f"{pad}if t is not None:")
            pad += "    "
        out.append(f"{pad}while True:  # one pass: break means this route does not match")
        body = pad + "    "
        for pos, text in sorted(lits.items()):
            seg = f"s{pos}" if n is not None else f"segs[{pos}]"
            out.append(f"{body}if {seg} != {text!r}: break")
        for expr, text in plan.checks:
            out.append(f"{body}if {expr} != {text!r}: break")
        values = []
        for j, (name, param, shape, expr) in enumerate(plan.params):
            var = f"v{j}"
            values.append(f"{name!r}: {var}")
            if shape == "none":
                out.append(f"{body}{var} = None")
                continue
            c = self._conv(param.conv)
            if shape == "multi":
                out.append(f"{body}{var} = {c}x({expr})")
                out.append(f"{body}if {var} is None: break")
                continue
            conv = param.conv
            if conv.check_src is not None:
                check = conv.check_src.format(s=expr)
            else:
                check = f"{c}m({expr}) is not None"
            out.append(f"{body}if not ({expr} and {check}): break")
            if conv.convert is None:
                out.append(f"{body}{var} = {expr}")
            else:
                out.append(f"{body}try:")
                out.append(f"{body}    {var} = {c}v({expr})")
                out.append(f"{body}except ValueError:")
                out.append(f"{body}    break")
        if mode == "find":
            self._hit(out, body, f"{{{', '.join(values)}}}")
        else:
            out.append(f"{body}out.append(N{k})")
            out.append(f"{body}break")


def _compile_patterns(nodes: list[_Node]) -> tuple[Callable, Callable, str]:
    try:
        find, find_all, source = _Codegen(nodes).generate()
    except _TooBig:
        find, find_all, source = _Codegen(nodes, partition=False).generate()
    # The dispatch dicts name functions defined in the same source: exec bound them already.
    return find, find_all, source


def _no_find(*args: Any) -> None:
    return None


# --------------------------------------------------------------------------------------------
# Host tables: the per-host resolvers
# --------------------------------------------------------------------------------------------


class _Table:
    """The compiled routes of one host: a static dict, generated find functions, a slow path."""

    def __init__(self, nodes: list[_Node], redirect_slash: bool) -> None:
        for node in nodes:
            node.build()
        patterns = [node for node in nodes if not node.static]
        if patterns:
            self.find, self.find_all, self.source = _compile_patterns(patterns)
        else:
            self.find, self.find_all, self.source = _no_find, _no_find, ""
        self.redirect_slash = redirect_slash
        self.static: dict[str, dict[str, Match]] = {}
        self.static_segs: dict[tuple[str, ...], _Node] = {}
        self.static_nodes: dict[str, _Node] = {}
        self._405: dict[tuple[str, ...], Match] = {}
        methods: set[str] = {"OPTIONS"}
        for node in nodes:
            methods |= node.allow_set
            if not node.static:
                continue
            segs = [e.text for e in node.elements]
            templates = dict(node.templates)
            if "OPTIONS" not in templates and self.find("OPTIONS", segs, len(segs)) is None:
                allow = self._allowed(segs, node)
                templates["OPTIONS"] = _Outcome(200, allow=allow, auto_options=True)
            for key in _static_keys(node.elements):
                self.static[key] = templates
                self.static_nodes[key] = node
            self.static_segs[tuple(segs)] = node
        self.star = _Outcome(200, allow=tuple(sorted(methods)), auto_options=True)
        self.slow = self._make_slow()

    def _allowed(self, segs: list[str], static: _Node | None) -> tuple[str, ...]:
        nodes: list[_Node] = []
        self.find_all(segs, len(segs), nodes)
        if static is not None:
            nodes.append(static)
        if not nodes:
            return ()
        methods: set[str] = set()
        for node in nodes:
            methods |= node.allow_set
        return tuple(sorted(methods))

    def _routable(self, segs: list[str]) -> bool:
        if tuple(segs) in self.static_segs:
            return True
        nodes: list[_Node] = []
        self.find_all(segs, len(segs), nodes)
        return bool(nodes)

    def _make_slow(self) -> Callable[[str, str, Any, str], Match]:
        """Everything but a static hit on the raw path: patterns, 405/OPTIONS, slash, 404."""
        find, miss, general, nodes_get = self.find, self._miss, self._general, self.static_nodes.get

        def slow(method: str, path: str, host: Any, query: str) -> Match:
            # PERF: the common case, a plain ASCII path with nothing to decode, is split inline
            # (bench_routing.py::test_param_hit_in_100_routes).
            if path[:1] == "/" and "%" not in path and path.isascii() and path != "/":
                segs = path[1:].split("/")
                if "." in path and ("." in segs or ".." in segs):
                    return _DOT_SEGMENT
                found = find(method, segs, len(segs))
                if found is not None:
                    return found
                # Undecoded, the raw path is the static key spelling of these segments.
                return miss(method, path, segs, query, nodes_get(path))
            return general(method, path, query)

        return slow

    def _general(self, method: str, path: str, query: str) -> Match:
        """Paths with percent-escapes, raw non-ASCII bytes, "/" itself, or not starting "/"."""
        segs = _split_path(path)
        if segs.__class__ is not list:
            if path == "*":  # RFC 9110 §9.3.7: OPTIONS * asks about the server as a whole
                return self.star if method == "OPTIONS" else _BAD_PATH
            return segs  # type: ignore[return-value]
        static = self.static_segs.get(tuple(segs))
        if static is not None:
            hit = static.templates.get(method)
            if hit is not None:  # a static route reached through a non-canonical spelling
                return hit
        found = self.find(method, segs, len(segs))
        if found is not None:
            return found
        return self._miss(method, path, segs, query, static)

    def _miss(self, method: str, path: str, segs: list[str], query: str, static) -> Match:
        """No route has the method: 405 or auto OPTIONS if some match the path, else 308/404."""
        allow = self._allowed(segs, static)
        if allow:
            if method == "OPTIONS":
                return _Outcome(200, allow=allow, auto_options=True)
            outcome = self._405.get(allow)
            if outcome is None:
                if len(self._405) >= 256:  # APPSEC: bounded, however many distinct unions
                    self._405.clear()
                outcome = self._405.setdefault(allow, _Outcome(405, allow=allow))
            return outcome
        if self.redirect_slash and segs and "" not in segs[:-1]:
            if segs[-1] == "":
                alt_segs, alt = segs[:-1], path[:-1]
            else:
                alt_segs, alt = segs + [""], path + "/"
            # APPSEC: "//x" or "/\x" in Location would be read as another host (open redirect).
            if alt[1:2] not in ("/", "\\") and alt_segs and self._routable(alt_segs):
                location = f"{alt}?{query}" if query else alt
                return _Outcome(308, location=location, reason="trailing slash")
        return NOT_FOUND


class _Alias:
    """A host answered with 301 to its canonical host, same path and query."""

    def __init__(self, canonical: str) -> None:
        self.name, self.port = _split_host(canonical)
        self.static: dict = {}
        self.find = _no_find

    def slow(self, method: str, path: str, host: Any, query: str) -> Match:
        authority = self.name
        port = self.port
        if port is None and isinstance(host, str):
            port = _split_host(host)[1]  # keep the request's port when the alias names none
        if port is not None:
            authority = f"{authority}:{port}"
        location = f"//{authority}{path}"
        if query:
            location = f"{location}?{query}"
        return _Outcome(301, location=location, reason="host alias")


class _Refuse:
    """strict_hosts: an unknown host is 400."""

    static: Mapping[str, Any] = EMPTY_PARAMS  # nothing is static: every request goes to slow()
    find = staticmethod(_no_find)

    def slow(self, method: str, path: str, host: Any, query: str) -> Match:
        return _BAD_HOST


# --------------------------------------------------------------------------------------------
# The router
# --------------------------------------------------------------------------------------------

_HOST_CACHE_LIMIT = 1024


class Router:
    """Routes by host, path pattern and method; see the module docstring for the rules.

    ``Router(trailing_slash="redirect" | "strict", strict_hosts=False, default_host=None)``.
    Add routes with :meth:`add` (and :meth:`mount`), then call :meth:`resolve` per request.
    The first resolve after a change compiles the table; adding routes while another thread
    resolves is not supported. A reference to ``router.resolve`` taken earlier stays valid: it
    notices the change and defers to the new one.
    """

    def __init__(
        self,
        *,
        trailing_slash: str = "redirect",
        strict_hosts: bool = False,
        default_host: str | None = None,
    ) -> None:
        if trailing_slash not in ("redirect", "strict"):
            raise ValueError("trailing_slash is 'redirect' or 'strict'")
        self.trailing_slash = trailing_slash
        self.strict_hosts = bool(strict_hosts)
        self.default_host = default_host
        self._default_key = _binding_key(default_host) if default_host is not None else None
        if self._default_key is not None and self._default_key.startswith("*."):
            raise ValueError("default_host cannot be a wildcard")
        self._routes: list[Route] = []
        self._nodes: dict[tuple[str | None, str], _Node] = {}
        self._aliases: dict[str, str] = {}
        self._converters: dict[str, Converter] = {}
        self._invalidate: Callable[[], None] | None = None
        self._tables: dict[str | None, _Table] = {}

    # -- building ------------------------------------------------------------------------------

    def register_converter(
        self, name: str, regex: str, convert: Callable[[str], Any] | None = None
    ) -> Converter:
        """Register a converter for this router only (see :func:`register_converter`)."""
        _check_converter_name(name, _USER_CONVERTERS, self._converters)
        conv = Converter(name, regex, convert)
        self._converters[name] = conv
        return conv

    def _lookup_converters(self) -> Mapping[str, Converter]:
        return {**_BUILTIN_CONVERTERS, **_USER_CONVERTERS, **self._converters}

    def add(
        self,
        methods: str | Iterable[str],
        pattern: str,
        endpoint: Any,
        *,
        host: str | None = None,
        name: str | None = None,
    ) -> Route:
        """Register ``endpoint`` for ``methods`` (a str or several) on ``pattern``.

        ``host``: bind to a host (``"api.example.com"``, ``"*.example.com"``, with an optional
        port); None: the default table. ``name`` defaults to the endpoint's qualified name.
        Raises ValueError for a malformed pattern, an unknown converter or a duplicate route.
        """
        elements = _parse_pattern(pattern, self._lookup_converters())
        return self._add(methods, elements, endpoint, host, name)

    def _add(self, methods, elements, endpoint, host, name) -> Route:
        if isinstance(methods, str):
            methods = [methods]
        wanted: list[str] = []
        for method in methods:
            if not isinstance(method, str) or not _TOKEN.fullmatch(method):
                raise ValueError(f"invalid method {method!r}")
            method = method.upper()
            if method not in wanted:
                wanted.append(method)
        if not wanted:
            raise ValueError("a route needs at least one method")
        key = self._host_key(host)
        if key is None and self.strict_hosts and self._default_key is None:
            raise ValueError("with strict_hosts, a route without host needs default_host")
        if key is not None and key in self._aliases:
            raise ValueError(f"host {host!r} is an alias")
        source = _pattern_source(elements)
        node = self._nodes.get((key, source))
        if node is None:
            node = _Node(elements)
        for method in wanted:
            if method in node.routes:
                where = f" on host {host!r}" if host else ""
                raise ValueError(f"{method} {source}{where} is already registered")
        if name is None:
            name = getattr(endpoint, "__qualname__", None) or getattr(endpoint, "__name__", None)
            name = name or type(endpoint).__name__
        route = Route(tuple(wanted), host, source, name, endpoint, elements)
        for method in wanted:
            node.routes[method] = route
        self._nodes.setdefault((key, source), node)
        self._routes.append(route)
        self._changed()
        return route

    def _host_key(self, host: str | None) -> str | None:
        if host is None:
            return None
        key = _binding_key(host)
        return None if key == self._default_key else key

    def alias_host(self, alias: str, canonical: str) -> None:
        """Answer requests for ``alias`` (exact or ``*.`` wildcard) with 301 to ``canonical``."""
        key = _binding_key(alias)
        target = _binding_key(canonical)
        if target.startswith("*."):
            raise ValueError("an alias's canonical host cannot be a wildcard")
        if key == target:
            raise ValueError("a host cannot be its own alias")
        if key == self._default_key or any(k == key for k, _ in self._nodes):
            raise ValueError(f"host {alias!r} already has routes")
        if key in self._aliases:
            raise ValueError(f"host {alias!r} is already an alias")
        self._aliases[key] = canonical
        self._changed()

    def mount(self, prefix: str, other: Router, *, host: str | None = None) -> list[Route]:
        """Copy ``other``'s routes (and host aliases) under ``prefix``, in their order.

        ``prefix`` is a pattern (it may have parameters); ``other``'s ``"/"`` becomes ``prefix``
        itself. Routes of ``other`` without a host take ``host``. This is a snapshot: routes
        added to ``other`` afterwards are not seen. Returns the new routes.
        """
        if other is self:
            raise ValueError("a router cannot be mounted on itself")
        prefix = prefix.rstrip("/") or "/"
        head = _parse_pattern(prefix, self._lookup_converters())
        names = {e.name for e in head if isinstance(e, _Param)}
        added = []
        for alias, canonical in other._aliases.items():
            if alias not in self._aliases:
                self.alias_host(alias, canonical)
        for route in other._routes:
            clash = names & {e.name for e in route._elements if isinstance(e, _Param)}
            if clash:
                raise ValueError(f"parameter {min(clash)!r} is in the prefix and the route")
            elements = head + route._elements
            host_ = route.host or host
            added.append(self._add(route.methods, elements, route.endpoint, host_, route.name))
        return added

    def _changed(self) -> None:
        if self._invalidate is not None:
            self._invalidate()
            self._invalidate = None
        self.__dict__.pop("resolve", None)

    # -- listing -------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        """Every route in registration order: ``methods``, ``host``, ``pattern``, ``name``,
        ``endpoint`` (the methods as registered; HEAD and OPTIONS come automatically)."""
        return list(self._routes)

    def host_aliases(self) -> dict[str, str]:
        """``{alias: canonical}`` as registered (keys normalized)."""
        return dict(self._aliases)

    def describe(self) -> str:
        """The route table as aligned text, for startup logs."""
        rows = [("METHODS", "HOST", "PATTERN", "NAME")]
        for r in self._routes:
            rows.append((",".join(r.methods), r.host or "(default)", r.pattern, r.name))
        for alias, canonical in self._aliases.items():
            rows.append(("(alias)", alias, f"-> {canonical}", ""))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        return "\n".join(
            "  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths)) + "  " + row[3]
            for row in rows
        ).rstrip() + "\n"

    # -- resolving -----------------------------------------------------------------------------

    def resolve(self, method: str, path: str, host: str | None = None, query: str = "") -> Match:
        """Route one request: ``method``, raw ``path`` (not decoded), raw ``host`` (the Host
        field, None if absent) and raw ``query`` (for redirects). Returns a :class:`Match`.

        This class-level method compiles the table (once per change), then installs the compiled
        resolver as the instance attribute ``resolve``; every change removes it again. A bound
        method taken before the first compile lands here each time and reuses that resolver.
        """
        resolve = self.__dict__.get("resolve") or self._compile()
        return resolve(method, path, host, query)

    def _compile(self) -> Callable[..., Match]:
        grouped: dict[str | None, list[_Node]] = {}
        for (key, _), node in self._nodes.items():
            grouped.setdefault(key, []).append(node)
        redirect = self.trailing_slash == "redirect"
        tables = {key: _Table(nodes, redirect) for key, nodes in grouped.items()}
        default = tables.get(None) or _Table([], redirect)
        self._tables = tables
        stale = False
        router = self

        if not (self.strict_hosts or self._aliases or any(k is not None for k in tables)):
            static_get, find, slow = default.static.get, default.find, default.slow
            miss, nodes_get = default._miss, default.static_nodes.get

            def resolve(method: str, path: str, host: str | None = None, query: str = "") -> Match:
                if stale:
                    return router.resolve(method, path, host, query)
                templates = static_get(path)
                if templates is not None:
                    hit = templates.get(method)
                    if hit is not None:
                        return hit
                # PERF: the common pattern hit (a plain path: ASCII, nothing to decode, no dot
                # segment possible) is inlined here, one call less than slow() (bench_routing.py).
                if (
                    path[:1] == "/" and "%" not in path and "." not in path and path.isascii()
                ) and path != "/":
                    segs = path[1:].split("/")
                    found = find(method, segs, len(segs))
                    if found is not None:
                        return found
                    return miss(method, path, segs, query, nodes_get(path))
                return slow(method, path, host, query)

        else:
            exact: dict[str, Any] = {}
            wild: list[tuple[str, str | None, Any]] = []
            targets: list[tuple[str, Any]] = [(k, t) for k, t in tables.items() if k is not None]
            targets += [(k, _Alias(c)) for k, c in self._aliases.items()]
            if self._default_key is not None:
                targets.append((self._default_key, default))
            for key, target in targets:
                if key.startswith("*."):
                    name, port = _split_host(key[1:])
                    wild.append((name, port, target))
                else:
                    exact[key] = target
            # Longest suffix first; at equal length a bound port before none.
            wild.sort(key=lambda w: (len(w[0]), w[1] is not None), reverse=True)
            fallback = _Refuse() if self.strict_hosts else default

            def pick(host: str | None) -> Any:
                if not host:
                    return fallback
                name, port = _split_host(host)
                if port is not None:
                    target = exact.get(f"{name}:{port}")
                    if target is not None:
                        return target
                target = exact.get(name)
                if target is not None:
                    return target
                for suffix, wport, target in wild:
                    if (
                        name.endswith(suffix)
                        and len(name) > len(suffix)
                        and (wport is None or wport == port)
                    ):
                        return target
                return fallback

            cache: dict[Any, tuple[Callable, Callable, Callable]] = {}
            cache_get = cache.get

            def resolve(method: str, path: str, host: str | None = None, query: str = "") -> Match:
                if stale:
                    return router.resolve(method, path, host, query)
                entry = cache_get(host)
                if entry is None:
                    target = pick(host)
                    entry = (target.static.get, target.find, target.slow)
                    if len(cache) < _HOST_CACHE_LIMIT:  # APPSEC: hosts are client-chosen
                        cache[host] = entry
                static_get, find, slow = entry
                templates = static_get(path)
                if templates is not None:
                    hit = templates.get(method)
                    if hit is not None:
                        return hit
                # PERF: as in the single-table resolver; a miss is left to slow().
                if (
                    path[:1] == "/" and "%" not in path and "." not in path and path.isascii()
                ) and path != "/":
                    segs = path[1:].split("/")
                    found = find(method, segs, len(segs))
                    if found is not None:
                        return found
                return slow(method, path, host, query)

        def invalidate() -> None:
            nonlocal stale
            stale = True

        self._invalidate = invalidate
        self.resolve = resolve  # type: ignore[method-assign]
        return resolve

    def _generated_source(self, host: str | None = None) -> str:
        """The generated matcher of a host table (for debugging and tests)."""
        if "resolve" not in self.__dict__:
            self._compile()
        return self._tables[self._host_key(host)].source
