"""The route compiler: patterns parsed into elements, and host tables compiled into one function.

``fasthttp.routing`` owns the rules (its module docstring states the syntax, precedence, hosts and
path decoding); this module does the two jobs that turn them into fast code:

- **Patterns**: :func:`parse_pattern` reads ``/users/:id<int>`` into a list of elements
  (:class:`Literal` segments, percent-decoded, and :class:`Param` segments with a converter from
  ``fasthttp.converters`` and a span of segments); :func:`pattern_source` writes the canonical
  spelling back; :func:`static_keys` lists the raw spellings a client may send for a static path.
- **Code generation**: :func:`compile_patterns` writes, for the pattern nodes of one host table,
  ``find(method, segs, n)`` and ``find_all(segs, n, out)`` as Python source and executes it
  (see :class:`_Codegen` for the strategy). A node is anything with ``elements`` (as parsed here)
  and ``templates`` (``method -> Match``, ``fasthttp.routing``): a hit is a fresh copy of the
  method's template carrying the converted params.

PERF (``benchmarks/bench_routing.py``): the generated function dispatches on the segment count,
then on literal segments (if/elif or a dict of sub-functions), and only then runs converters, so
the cost of a ``:param`` hit barely grows with the table. Following Falcon's measurement (Cython
made ordinary framework code slower on CPython 3.12+) this stays plain Python.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, Union
from urllib.parse import quote, unquote_to_bytes

from .converters import IDENTIFIER, STR, Converter

__all__ = (
    "Literal",
    "Param",
    "Element",
    "PatternNode",
    "check_pattern",
    "parse_pattern",
    "pattern_source",
    "static_keys",
    "literal_texts",
    "decode_segment",
    "compile_patterns",
    "no_find",
)

# --------------------------------------------------------------------------------------------
# Patterns
# --------------------------------------------------------------------------------------------

_ONE, _OPT, _PLUS, _STAR = (1, 1), (0, 1), (1, None), (0, None)
_MODIFIERS = {"": _ONE, "?": _OPT, "+": _PLUS, "*": _STAR}
_MODIFIER_TEXT = {v: k for k, v in _MODIFIERS.items()}

# Characters kept unencoded in a canonical path segment: unreserved (always, by quote) plus
# sub-delims, ":" and "@" (RFC 3986 §3.3 pchar).
_PCHAR_SAFE = "!$&'()*+,;=:@"


class Literal:
    """A literal segment of a pattern, percent-decoded (``text``)."""

    __slots__ = ("text",)
    variable = False

    def __init__(self, text: str) -> None:
        self.text = text

    def source(self) -> str:
        text = quote(self.text, safe=_PCHAR_SAFE)
        return "%3A" + text[1:] if text.startswith(":") else text


class Param:
    """A parameter segment: its ``name``, converter, ``span`` of segments ``(least, most)``
    (``most`` None: unbounded) and, for a regex segment, the regex as written."""

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
        elif self.conv is not STR:
            text += f"<{self.conv.name}>"
        if self.conv.implicit_plus and self.span == _PLUS:
            return text
        return text + _MODIFIER_TEXT[self.span]


#: One segment of a parsed pattern.
Element = Union[Literal, Param]


class PatternNode(Protocol):
    """What the code generator needs of a route-table node (``fasthttp.routing``): the parsed
    pattern, and the outcome to copy for each method."""

    @property
    def elements(self) -> list[Element]: ...

    @property
    def templates(self) -> Mapping[str, Any]: ...


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
        return decode_segment(text) if "%" in text else text
    except ValueError:
        raise ValueError(f"invalid percent-encoding in pattern {pattern!r}") from None


def check_pattern(pattern: object) -> None:
    """ValueError unless *pattern* is a str that starts with "/" (the first rule of a pattern)."""
    if not isinstance(pattern, str) or not pattern.startswith("/"):
        raise ValueError(f"a pattern starts with '/': {pattern!r}")


def parse_pattern(pattern: str, converters: Mapping[str, Converter]) -> list[Element]:
    """Parse a pattern into literal and parameter elements (syntax: ``fasthttp.routing``).

    ValueError for a malformed pattern or a converter that *converters* does not name.
    """
    check_pattern(pattern)
    elements: list[Element] = []
    names: set[str] = set()
    i, n = 1, len(pattern)
    if pattern == "/":
        return elements
    while True:
        if pattern.startswith("{", i):
            i = _parse_brace(pattern, i, converters, names, elements)
        elif pattern.startswith(":", i):
            m = IDENTIFIER.match(pattern, i + 1)
            if m is None:
                raise ValueError(f"a parameter needs a name at {i} in {pattern!r}")
            name, i = m.group(), m.end()
            if name in names:
                raise ValueError(f"parameter {name!r} appears twice in {pattern!r}")
            names.add(name)
            conv, regex_text = STR, None
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
            elements.append(Param(name, conv, span, regex_text))
            if i < n and pattern[i] != "/":
                raise ValueError(f"a parameter fills its whole segment, at {i} in {pattern!r}")
        else:
            end = pattern.find("/", i)
            end = n if end < 0 else end
            raw = pattern[i:end]
            _refuse_foreign(raw, pattern)
            if not raw and end < n:
                raise ValueError(f"empty segment in pattern {pattern!r}")
            text = _decode_literal(raw, pattern)
            if text in (".", ".."):
                raise ValueError(f"dot segment in pattern {pattern!r} (never matches)")
            if raw or elements:
                elements.append(Literal(text))
            i = end
        if i >= n:
            return elements
        i += 1  # the "/"
        if i == n:
            elements.append(Literal(""))  # a trailing slash: a final empty segment
            return elements


def _brace_end(pattern: str, start: int) -> int:
    """Index of the "}" closing the "{" at ``start`` (nested braces of a regex quantifier such
    as ``{3}`` and backslash escapes honoured)."""
    depth, i = 0, start
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unclosed '{{' in pattern {pattern!r}")


def _parse_brace(
    pattern: str, i: int, converters: Mapping[str, Converter], names: set[str], elements: list[Element]
) -> int:
    """The brace spelling of a parameter (FastAPI, Starlette, circuits.http): ``{name}``,
    ``{name:conv}`` (a converter's name, as ``:name<conv>``) or ``{name:regex}`` (as
    ``:name(regex)``); it fills its whole segment. Appends the Param, returns the index after
    the "}". A converter name wins over a regex of the same spelling (``{n:int}`` is the
    converter); the canonical spelling (``Route.pattern``) is the ``:name`` one."""
    close = _brace_end(pattern, i)
    inner = pattern[i + 1 : close]
    name, colon, spec = inner.partition(":")
    name = name.strip()
    if not IDENTIFIER.fullmatch(name):
        raise ValueError(f"a parameter needs a name, as in {{id}} or {{id:int}}, at {i} in {pattern!r}")
    if name in names:
        raise ValueError(f"parameter {name!r} appears twice in {pattern!r}")
    names.add(name)
    conv, regex_text = STR, None
    span: tuple[int, int | None] = _ONE
    if colon:
        if not spec:
            raise ValueError(f"'{{{name}:}}' names no converter or regex in {pattern!r}")
        known = converters.get(spec)
        if known is not None:
            conv = known
            if conv.implicit_plus:
                span = _PLUS
        else:
            try:
                re.compile(spec)
            except re.error as exc:
                raise ValueError(f"{{{name}:{spec}}} is neither a converter nor a valid regex ({exc}) in {pattern!r}") from None
            regex_text = spec
            conv = Converter(None, spec)
    i = close + 1
    if i < len(pattern) and pattern[i] != "/":
        raise ValueError(f"a parameter fills its whole segment, at {i} in {pattern!r}")
    elements.append(Param(name, conv, span, regex_text))
    return i


_FLASK_PARAM = re.compile(r"<(?:([A-Za-z_][A-Za-z0-9_]*):)?([A-Za-z_][A-Za-z0-9_]*)>")


def _refuse_foreign(raw: str, pattern: str) -> None:
    """A literal segment written in another framework's parameter syntax is an error, with the
    fasthttp spelling: Flask/Werkzeug ``<int:uid>``, or a brace inside a segment."""
    if "<" in raw and ">" in raw:
        m = _FLASK_PARAM.search(raw)
        if m is not None:
            conv, name = m.groups()
            ours = f":{name}" if conv in (None, "string") else f":{name}<{conv}>"
            brace = f"{{{name}}}" if conv in (None, "string") else f"{{{name}:{conv}}}"
            raise ValueError(
                f"{m.group()!r} in {pattern!r} is Flask's syntax; fasthttp writes a parameter as "
                f"{ours!r} or {brace!r} (a whole segment), e.g. {pattern.replace(m.group(), ours)!r}"
            )
    if "{" in raw or "}" in raw:
        raise ValueError(
            f"a parameter fills its whole segment ('/{{name}}' or '/:name'); for a literal brace "
            f"write %7B or %7D: {raw!r} in {pattern!r}"
        )


def pattern_source(elements: list[Element]) -> str:
    """The canonical spelling of a parsed pattern (what ``Route.pattern`` shows)."""
    if not elements:
        return "/"
    return "".join("/" + e.source() for e in elements)


def literal_texts(elements: list[Element]) -> list[str]:
    """The decoded segments of a static pattern (one without parameters)."""
    texts = []
    for e in elements:
        if not isinstance(e, Literal):
            raise ValueError(f"not a static pattern: {pattern_source(elements)!r}")
        texts.append(e.text)
    return texts


def static_keys(elements: list[Element]) -> list[str]:
    """The raw spellings of a static path a client may send: canonical, and fully unencoded."""
    if not elements:
        return ["/"]
    texts = literal_texts(elements)
    keys = ["/" + "/".join(quote(t, safe=_PCHAR_SAFE) for t in texts)]
    plain = "/" + "/".join(texts)
    if plain not in keys and all(t.isascii() and not (set(t) & set("%/?#")) for t in texts):
        keys.append(plain)
    return keys


# --------------------------------------------------------------------------------------------
# Segment decoding (patterns and request paths)
# --------------------------------------------------------------------------------------------

_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def decode_segment(segment: str) -> str:
    """Percent-decode one segment as UTF-8; ValueError if malformed (RFC 3986 §2.1)."""
    if _BAD_PERCENT.search(segment):
        raise ValueError("malformed percent-encoding")
    # latin-1: the str holds the request's raw bytes (UnicodeError is a ValueError).
    return unquote_to_bytes(segment.encode("latin-1")).decode("utf-8")


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


def _make_complex(elements: list[Element]) -> Callable[[list], dict | None]:
    """A backtracking matcher for patterns with two or more variable-length parameters.

    Earlier parameters take as many segments as they can (like a greedy regex).
    """
    multis = {id(e): _make_multi(e.conv) for e in elements if isinstance(e, Param)}
    least_after = [0] * (len(elements) + 1)
    for i in range(len(elements) - 1, -1, -1):
        e = elements[i]
        least_after[i] = least_after[i + 1] + (1 if isinstance(e, Literal) else e.span[0])

    def rec(i: int, j: int, segs: list, params: dict) -> dict | None:
        if i == len(elements):
            return params if j == len(segs) else None
        e = elements[i]
        if isinstance(e, Literal):
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

    def __init__(self, node: PatternNode, k: int) -> None:
        self.node, self.k = node, k
        self.lits: dict[int, str] = {}  # constant position -> literal (used to dispatch)
        self.checks: list[tuple[str, str]] = []  # (expression, literal) checked in the leaf
        self.params: list[tuple[str, Param, str, str]] = []  # (name, param, shape, expression)
        self.complex = False


def _span(e: Element) -> tuple[int, int | None]:
    return (1, 1) if isinstance(e, Literal) else e.span


def _length_range(elements: list[Element]) -> tuple[int, int | None]:
    least = sum(_span(e)[0] for e in elements)
    most: int | None = 0
    for e in elements:
        top = _span(e)[1]
        most = None if most is None or top is None else most + top
    return least, most


def _plan(node: PatternNode, k: int, n: int | None) -> _Plan:
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
            assert isinstance(e, Param)  # the variable element
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
        if isinstance(e, Literal):
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

    def __init__(self, nodes: Sequence[PatternNode], partition: bool = True) -> None:
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
            for size, plans in blocks:
                if size is None:  # longer than every bounded pattern
                    body.append(f"{keyword} n > {top}:")
                else:
                    body.append(f"{keyword} n == {size}:")
                keyword = "elif"
                self._block(mode, size, plans, body, 1)
            body.append("return None")
            head = "find" if mode == "find" else "find_all"
            self.funcs.append([f"def {head}({args}):"] + ["    " + line for line in body])
            sources.append(head)
        source = "\n\n".join("\n".join(f) for f in self.funcs) + "\n"
        code = compile(source, "<fasthttp._routecompiler generated>", "exec")
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


def compile_patterns(nodes: Sequence[PatternNode]) -> tuple[Callable[..., Any], Callable[..., Any], str]:
    """``(find, find_all, source)`` for the pattern nodes of one host table (see :class:`_Codegen`);
    past the duplication budget, the leaves are written one after the other instead."""
    try:
        find, find_all, source = _Codegen(nodes).generate()
    except _TooBig:
        find, find_all, source = _Codegen(nodes, partition=False).generate()
    # The dispatch dicts name functions defined in the same source: exec bound them already.
    return find, find_all, source


def no_find(*args: Any) -> None:
    """The ``find``/``find_all`` of a table without patterns."""
    return None
