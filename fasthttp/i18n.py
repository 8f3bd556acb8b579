"""Languages: gettext catalogs chosen per request by ``Accept-Language`` (RFC 9110 §12.5.4).

Strategy: :class:`Catalogs` knows the languages an application is translated into, from a
gettext locale directory (``localedir/<lang>/LC_MESSAGES/<domain>.mo``, the layout ``msgfmt``
and Babel write) or from translation objects given directly. For a request, :meth:`Catalogs.
select` picks the best of them for the client's ``Accept-Language`` by RFC 4647 basic filtering
(``fasthttp.negotiation.negotiate_language``: ``de`` accepts ``de-AT``; q-values; ``*``), and
falls back to the default language when nothing offered is acceptable (a page in the default
language beats a 406 for nearly every site). Each catalog is loaded once and shared: gettext
translation objects are read-only after loading, so many requests use one safely.

Tags and directory names: a directory ``pt_BR`` is the language tag ``pt-BR`` (POSIX locale
names use ``_``, HTTP language tags ``-``: RFC 5646); tags compare case-insensitively.
The ``Languages`` middleware (``fasthttp.middleware.i18n``) publishes the choice on the request
(``request.language``, ``request.gettext``) and labels the response with ``Content-Language``
and ``Vary: Accept-Language`` (RFC 9110 §8.5, §12.5.5).
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Iterable, Mapping
from .negotiation import HeaderSource, negotiate_language

__all__ = ("Catalogs", "locale_to_tag", "tag_to_locale")


def locale_to_tag(name: str) -> str:
    """A POSIX locale directory name as a language tag: ``pt_BR`` -> ``pt-BR``."""
    return name.split(".", 1)[0].split("@", 1)[0].replace("_", "-")


def tag_to_locale(tag: str) -> str:
    """A language tag as a POSIX locale name: ``pt-br`` -> ``pt_BR``."""
    parts = tag.split("-")
    return "_".join([parts[0].lower(), *(p.upper() if len(p) == 2 else p for p in parts[1:])])


class Catalogs:
    """The gettext catalogs of an application, one per language.

    *localedir*: a gettext locale directory whose ``<lang>/LC_MESSAGES/<domain>.mo`` files are
    found when constructed; *translations*: ``{tag: gettext.NullTranslations}`` given directly
    (either or both). *default*: the language of the untranslated messages (the source
    strings), served when the client accepts none of the catalogs. *languages* restricts and
    orders the offer (the first wins a tie).
    """

    __slots__ = ("default", "_catalogs", "_offered", "_null")

    def __init__(
        self,
        localedir: str | os.PathLike[str] | None = None,
        *,
        domain: str = "messages",
        default: str = "en",
        languages: Iterable[str] | None = None,
        translations: Mapping[str, gettext.NullTranslations] | None = None,
    ) -> None:
        found: dict[str, gettext.NullTranslations] = {}
        if localedir is not None:
            root = os.fspath(localedir)
            if not os.path.isdir(root):
                raise ValueError(f"locale directory {root!r} does not exist")
            for name in sorted(os.listdir(root)):
                path = os.path.join(root, name, "LC_MESSAGES", domain + ".mo")
                if os.path.isfile(path):
                    with open(path, "rb") as f:
                        found[locale_to_tag(name)] = gettext.GNUTranslations(f)
        for tag, catalog in (translations or {}).items():
            found[tag] = catalog
        by_lower = {tag.lower(): (tag, catalog) for tag, catalog in found.items()}
        if languages is not None:
            wanted = [t.lower() for t in languages]
            missing = [t for t in wanted if t not in by_lower and t != default.lower()]
            if missing:
                raise ValueError(f"no catalog for {', '.join(missing)} (found: {', '.join(found) or 'none'})")
            order = wanted
        else:
            order = list(by_lower)
        self.default = default
        self._null = gettext.NullTranslations()
        self._catalogs: dict[str, gettext.NullTranslations] = {}
        offered = []
        for low in order:
            if low == default.lower() and low not in by_lower:
                continue
            tag, catalog = by_lower[low]
            self._catalogs[low] = catalog
            offered.append(tag)
        if default.lower() not in self._catalogs:
            self._catalogs[default.lower()] = self._null
            offered.append(default)
        self._offered = tuple(offered)

    @property
    def languages(self) -> tuple[str, ...]:
        """The language tags offered, in the server's order of preference (default included)."""
        return self._offered

    def select(self, accept_language: HeaderSource) -> str:
        """The language for an ``Accept-Language`` value (or a request): the best offered tag,
        else :attr:`default`."""
        if len(self._offered) == 1:
            return self._offered[0]
        return negotiate_language(accept_language, self._offered) or self.default

    def translations(self, language: str) -> gettext.NullTranslations:
        """The catalog of *language* (one of :attr:`languages`; else the untranslated one)."""
        return self._catalogs.get(language.lower(), self._null)

    def __repr__(self) -> str:
        return f"<Catalogs {', '.join(self._offered)} (default {self.default})>"
