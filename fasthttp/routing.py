"""Routing: host, path pattern and method to an endpoint, as a sans-IO lookup.

The App calls :meth:`Router.resolve` once per request with the method, the *raw* path and host
(undecoded, as the parser gives them) and the raw query, and gets back a :class:`Match` whose
``status`` says what to do: 200 (call ``endpoint`` with ``params``), 301/308 (redirect to
``location``), 400, 404 or 405 (answer with ``allow``). No I/O, no request objects.

This module holds the rules, the outcomes (:class:`Match`), the route table (:class:`Route`,
host tables) and :class:`Router`. Converters live in ``fasthttp.converters``; the pattern parser
and the code generator in ``fasthttp._routecompiler``.

One route type: :class:`Route` (also ``fasthttp.Route``) is the single public route class. The
router makes it in :meth:`Router.add`, with the options its owner gives (``fasthttp.App`` passes
its per-route options; the router stores them without interpreting them), and returns it from
:meth:`Router.routes`, ``App.routes()`` and as ``Match.route``. So what ``app.routes()``,
``app.describe()`` and ``router.routes()`` show is one type, and ``App.mount`` of an App or a
Router reads the same rows.

Pattern syntax
--------------
One syntax family, built on ``:name``; each parameter occupies one whole segment::

    /users                      exact path (static route)
    /users/:id                  one segment, a non-empty str without "/"
    /users/:id?                 zero or one segment; ``None`` when absent
    /files/:parts+              one or more segments; a tuple of str
    /files/:parts*              zero or more segments; a tuple (possibly empty)
    /users/:id<int>             a converter in angle brackets: int, float, uuid, str, path, or one
                                registered with fasthttp.converters.register_converter(name,
                                regex, convert) or Router.register_converter
    /tags/:ids<int>+            modifiers compose with converters: a tuple of int
    /static/:file<path>         path: one or more segments joined with "/" (a str); <path>* also
                                matches zero segments ("")
    /posts/:slug([a-z0-9-]+)    a regex segment in parentheses: the regex must match the whole
                                decoded segment (``fullmatch``); the value is the str

The brace spelling of FastAPI, Starlette and circuits.http is accepted too, for whole segments:
``{id}`` is ``:id``, ``{id:int}`` is ``:id<int>`` (any converter's name) and ``{slug:[a-z-]+}`` is
``:slug([a-z-]+)`` (anything else after the colon is a regex); ``Route.pattern`` shows the ``:``
spelling. Other frameworks' syntax is refused when the route is added, with ours in the message:
Flask's ``<int:id>``, or a brace inside a segment (``/file-{id}.txt``; a literal brace is ``%7B``).

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
function per host table (``fasthttp._routecompiler``): it dispatches on the segment count, then
on literal segments (if/elif or a dict of sub-functions), and only then runs converters, so the
cost of a ``:param`` hit barely grows with the table. Following Falcon's measurement this stays
plain Python.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._grammar import TOKEN
from ._routecompiler import (
    Element,
    Param,
    compile_patterns,
    decode_segment,
    literal_texts,
    no_find,
    parse_pattern,
    pattern_source,
    static_keys,
)
from .converters import Converter, Converters

__all__ = (
    "Router",
    "Route",
    "Match",
    "NOT_FOUND",
    "EMPTY_PARAMS",
    "normalize_methods",
    "endpoint_name",
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
# Request paths
# --------------------------------------------------------------------------------------------

def _split_path(path: str) -> list[str] | Match:
    """The decoded segments of a raw path ("/" has none), or a 400 outcome."""
    if path == "/":
        return []
    if not path.startswith("/"):
        return _BAD_PATH
    segs = path[1:].split("/")
    if "%" in path or not path.isascii():
        try:
            segs = [decode_segment(s) if "%" in s or not s.isascii() else s for s in segs]
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

def normalize_methods(methods: str | Iterable[str]) -> tuple[str, ...]:
    """*methods* (one name or several) as a tuple of upper-case method names, in order, without
    duplicates. A method name is a token (RFC 9110 §9.1, §5.6.2): anything else, or no method at
    all, is a ValueError. The one check of a route's methods, for the Router and the App."""
    if isinstance(methods, str):
        methods = (methods,)
    wanted: list[str] = []
    for method in methods:
        if not isinstance(method, str) or not TOKEN.fullmatch(method):
            raise ValueError(f"invalid method {method!r}")
        method = method.upper()
        if method not in wanted:
            wanted.append(method)
    if not wanted:
        raise ValueError("a route needs at least one method")
    return tuple(wanted)


def endpoint_name(endpoint: object) -> str:
    """The default name of a route: its endpoint's qualified name (else its type's name)."""
    name = getattr(endpoint, "__qualname__", None) or getattr(endpoint, "__name__", None)
    return name if isinstance(name, str) and name else type(endpoint).__name__


class Route:
    """One route: ``endpoint`` answers ``methods`` on ``pattern``, optionally only for ``host``.

    The one route type of fasthttp (``fasthttp.Route``): :meth:`Router.add` makes it; it is a row
    of :meth:`Router.routes` and of ``App.routes()``, and the ``route`` of a :class:`Match`.
    ``methods`` as registered (HEAD and OPTIONS come automatically), ``pattern`` in its canonical
    spelling, ``name`` (default: the endpoint's qualified name) and :meth:`options`, the
    per-route options the App applies (``max_body_size``, ``consumes``, ...). The router does not
    interpret the options; it keeps them with the route, so that mounting carries them along.
    """

    __slots__ = ("methods", "host", "pattern", "name", "endpoint", "_options", "_elements")

    def __init__(
        self,
        methods: tuple[str, ...],
        host: str | None,
        pattern: str,
        name: str,
        endpoint: Any,
        options: Mapping[str, Any],
        elements: list[Element],
    ) -> None:
        self.methods = methods
        self.host = host
        self.pattern = pattern
        self.name = name
        self.endpoint = endpoint
        self._options = dict(options)
        self._elements = elements

    def options(self) -> dict[str, Any]:
        """The per-route options, as keyword arguments of ``App.route`` (a copy)."""
        return dict(self._options)

    @property
    def elements(self) -> list[Element]:
        """The parsed pattern: literal segments (``text``) and parameters (``name``, ``conv``,
        ``span``, ``regex_text``), for tools such as the OpenAPI
        document (``fasthttp.openapi``)."""
        return list(self._elements)

    def __repr__(self) -> str:
        host = f" host={self.host!r}" if self.host else ""
        return f"<Route {','.join(self.methods)} {self.pattern!r}{host} name={self.name!r}>"


class _Node:
    """All routes of one (host, pattern): what the generated code returns."""

    __slots__ = ("elements", "static", "routes", "templates", "allow_set")

    def __init__(self, elements: list[Element]) -> None:
        self.elements = elements
        self.static = not any(isinstance(e, Param) for e in elements)
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
# Host tables: the per-host resolvers
# --------------------------------------------------------------------------------------------


class _Table:
    """The compiled routes of one host: a static dict, generated find functions, a slow path."""

    def __init__(self, nodes: list[_Node], redirect_slash: bool) -> None:
        for node in nodes:
            node.build()
        patterns = [node for node in nodes if not node.static]
        if patterns:
            self.find, self.find_all, self.source = compile_patterns(patterns)
        else:
            self.find, self.find_all, self.source = no_find, no_find, ""
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
            segs = literal_texts(node.elements)
            templates = dict(node.templates)
            if "OPTIONS" not in templates and self.find("OPTIONS", segs, len(segs)) is None:
                allow = self._allowed(segs, node)
                templates["OPTIONS"] = _Outcome(200, allow=allow, auto_options=True)
            for key in static_keys(node.elements):
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
        if not path and method == "CONNECT":
            # RFC 9110 §9.3.6: a CONNECT target is an authority, without a path; it is routed as
            # "/" (by host, as Host names that authority: RFC 9112 §3.2.3). Off the fast path.
            path = "/"
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

    def _miss(self, method: str, path: str, segs: list[str], query: str, static: _Node | None) -> Match:
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
        self.static: dict[str, dict[str, Match]] = {}
        self.find = no_find

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
    find = staticmethod(no_find)

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
        self._converters = Converters()
        self._invalidate: Callable[[], None] | None = None
        self._tables: dict[str | None, _Table] = {}

    # -- building ------------------------------------------------------------------------------

    def register_converter(
        self, name: str, regex: str, convert: Callable[[str], Any] | None = None
    ) -> Converter:
        """Register a converter for this router only (see :func:`fasthttp.converters.register_converter`)."""
        return self._converters.register(name, regex, convert)

    def add(
        self,
        methods: str | Iterable[str],
        pattern: str,
        endpoint: Any,
        *,
        host: str | None = None,
        name: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Route:
        """Register ``endpoint`` for ``methods`` (a str or several) on ``pattern``.

        ``host``: bind to a host (``"api.example.com"``, ``"*.example.com"``, with an optional
        port); None: the default table. ``name`` defaults to the endpoint's qualified name.
        ``options``: what the route carries for its owner (the App's per-route options); the
        router keeps them, see :class:`Route`. Raises ValueError for a malformed pattern, an
        unknown converter, a method that is not a token or a duplicate route.
        """
        elements = parse_pattern(pattern, self._converters)
        return self._add(methods, elements, endpoint, host, name, options or {})

    def _add(
        self,
        methods: str | Iterable[str],
        elements: list[Element],
        endpoint: Any,
        host: str | None,
        name: str | None,
        options: Mapping[str, Any],
    ) -> Route:
        wanted = normalize_methods(methods)
        key = self._host_key(host)
        if key is None and self.strict_hosts and self._default_key is None:
            raise ValueError("with strict_hosts, a route without host needs default_host")
        if key is not None and key in self._aliases:
            raise ValueError(f"host {host!r} is an alias")
        source = pattern_source(elements)
        node = self._nodes.get((key, source))
        if node is None:
            node = _Node(elements)
        for method in wanted:
            if method in node.routes:
                where = f" on host {host!r}" if host else ""
                raise ValueError(f"{method} {source}{where} is already registered")
        if name is None:
            name = endpoint_name(endpoint)
        route = Route(wanted, host, source, name, endpoint, options, elements)
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
        """Copy ``other``'s routes (with their options, and its host aliases) under ``prefix``, in
        their order.

        ``prefix`` is a pattern (it may have parameters); ``other``'s ``"/"`` becomes ``prefix``
        itself. Routes of ``other`` without a host take ``host``. This is a snapshot: routes
        added to ``other`` afterwards are not seen. Returns the new routes.
        """
        if other is self:
            raise ValueError("a router cannot be mounted on itself")
        prefix = prefix.rstrip("/") or "/"
        head = parse_pattern(prefix, self._converters)
        names = {e.name for e in head if isinstance(e, Param)}
        added = []
        for alias, canonical in other._aliases.items():
            if alias not in self._aliases:
                self.alias_host(alias, canonical)
        for route in other._routes:
            clash = names & {e.name for e in route._elements if isinstance(e, Param)}
            if clash:
                raise ValueError(f"parameter {min(clash)!r} is in the prefix and the route")
            elements = head + route._elements
            host_ = route.host or host
            added.append(
                self._add(route.methods, elements, route.endpoint, host_, route.name, route._options)
            )
        return added

    def _changed(self) -> None:
        if self._invalidate is not None:
            self._invalidate()
            self._invalidate = None
        self.__dict__.pop("resolve", None)

    # -- listing -------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        """Every :class:`Route` in registration order: ``methods``, ``host``, ``pattern``,
        ``name``, ``endpoint``, ``options()`` (the methods as registered; HEAD and OPTIONS come
        automatically)."""
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

            cache: dict[Any, tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]] = {}
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
