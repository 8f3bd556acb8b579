"""Path converters: how a ``:name<conv>`` parameter segment is recognised and turned into a value.

A converter is a regex that must match the whole *decoded* segment, and an optional conversion
that turns the str into the value (it may raise ``ValueError`` to refuse the segment: "no match",
the router tries the next route, never an error). The built-ins are ``str`` (the default of a bare
``:name``), ``int``, ``float``, ``uuid`` and ``path``; :func:`register_converter` adds one for
every router, :meth:`Converters.register` (``Router.register_converter``) one for a single router.

Strategy: the built-ins carry ``check_src``, an inline expression the route compiler
(``fasthttp._routecompiler``) writes into the generated matcher instead of calling a regex
(PERF: ``benchmarks/bench_routing.py``). APPSEC: ``str`` and ``path`` refuse a decoded "/"
(and ``path`` a backslash or NUL too), so an encoded separator never reaches a handler as part
of a str or path value; a regex segment or a user converter may accept one.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

__all__ = ("Converter", "Converters", "register_converter", "IDENTIFIER", "STR", "PATH", "BUILTIN")

#: The spelling of a converter name and of a pattern parameter name: an ASCII identifier.
IDENTIFIER: re.Pattern[str] = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Converter:
    """How a parameter segment is recognised and turned into a value.

    ``regex`` must match the whole decoded segment; ``convert`` (default: keep the str) turns it
    into the value and may raise ``ValueError`` to refuse it. ``check_src`` is an optional inline
    test used by the code generator for the built-ins (faster than a regex); ``joined`` marks
    ``path``, whose multi-segment value is one str; ``implicit_plus`` means a bare ``:name<conv>``
    takes one or more segments (``path``).
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
        matches: Callable[[str], Any] | None = None,
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
        #: The segment test: truthy when ``regex`` matches the whole segment (a built-in may
        #: give an equivalent faster test).
        self.matches: Callable[[str], Any] = matches or fullmatch
        self.check_src = check_src
        self.joined = joined
        self.implicit_plus = implicit_plus

    def __repr__(self) -> str:
        return f"<Converter {self.name or 'regex'} {self.regex!r}>"


def _no_slash(segment: str) -> bool:
    return "/" not in segment


def _safe_path_part(segment: str) -> bool:
    return "/" not in segment and "\\" not in segment and "\x00" not in segment


#: The default converter of a bare ``:name``: any non-empty segment without a decoded "/".
STR = Converter("str", r"[^/]+", check_src="'/' not in {s}", matches=_no_slash)
#: ``<path>``: one or more segments (``<path>*``: zero or more) joined with "/" into one str.
PATH = Converter(
    "path",
    r"[^/\\\x00]+",
    check_src="'/' not in {s} and '\\\\' not in {s} and '\\x00' not in {s}",
    joined=True,
    implicit_plus=True,
    matches=_safe_path_part,
)

#: The built-in converters by name.
BUILTIN: Mapping[str, Converter] = MappingProxyType({
    "str": STR,
    # Unsigned decimal: "-1" and "+1" do not match (register a signed converter if needed).
    # isascii() keeps out the Unicode digits int() would accept ("٣").
    "int": Converter("int", r"[0-9]+", int, check_src="{s}.isdigit() and {s}.isascii()"),
    "float": Converter("float", r"[0-9]+(?:\.[0-9]+)?", float),
    "uuid": Converter(
        "uuid",
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        uuid.UUID,
    ),
    "path": PATH,
})
# Registered with register_converter: seen by every router.
_USER_CONVERTERS: dict[str, Converter] = {}


def _new_converter(
    name: str, regex: str, convert: Callable[[str], Any] | None, *registries: Mapping[str, Converter]
) -> Converter:
    """A converter named ``name``, if the name is an identifier not taken in ``registries``."""
    if not isinstance(name, str) or not IDENTIFIER.fullmatch(name):
        raise ValueError(f"converter name must be an identifier, not {name!r}")
    for registry in registries:
        if name in registry:
            raise ValueError(f"converter {name!r} is already registered")
    return Converter(name, regex, convert)


def register_converter(name: str, regex: str, convert: Callable[[str], Any] | None = None) -> Converter:
    """Register a converter for every router: ``/:id<name>`` then matches ``regex`` and converts.

    Register it before adding routes that use it (patterns are parsed by ``add``).
    """
    conv = _new_converter(name, regex, convert, BUILTIN, _USER_CONVERTERS)
    _USER_CONVERTERS[name] = conv
    return conv


class Converters(Mapping[str, Converter]):
    """The converters one router's patterns may name: its own (:meth:`register`), those of
    :func:`register_converter` and the built-ins, in that order of precedence."""

    __slots__ = ("_own",)

    def __init__(self) -> None:
        self._own: dict[str, Converter] = {}

    def register(self, name: str, regex: str, convert: Callable[[str], Any] | None = None) -> Converter:
        """Register a converter for this set only (see :func:`register_converter`)."""
        conv = _new_converter(name, regex, convert, BUILTIN, _USER_CONVERTERS, self._own)
        self._own[name] = conv
        return conv

    def __getitem__(self, name: str) -> Converter:
        conv = self._own.get(name) or _USER_CONVERTERS.get(name) or BUILTIN.get(name)
        if conv is None:
            raise KeyError(name)
        return conv

    def __iter__(self) -> Iterator[str]:
        return iter({**BUILTIN, **_USER_CONVERTERS, **self._own})

    def __len__(self) -> int:
        return len({**BUILTIN, **_USER_CONVERTERS, **self._own})
