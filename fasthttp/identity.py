"""Who a request is authenticated as: the :class:`Identity` that authentication middleware
publish as ``request.user``.

Strategy: one small immutable value type, shared by every scheme (HTTP Basic, Digest, Bearer,
SAML), so that authorization rules (``fasthttp.middleware.authz``) ask the same questions of any
of them: the user's ``name``, the ``groups`` it belongs to, the ``scheme`` that authenticated it
and free-form ``attributes`` (token claims, SAML attributes). :func:`to_identity` turns what an
application's verify callable returns into one, in one place. Pure: no I/O.
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ("Identity", "to_identity")

_EMPTY: Mapping[str, Any] = types.MappingProxyType({})


class Identity:
    """An authenticated user: *name*, *groups* (what ``in_group`` rules test), the *scheme* that
    authenticated it (``"basic"``, ``"digest"``, ``"bearer"``, ``"saml"``, ...) and
    *attributes* (a read-only mapping: token claims, SAML attributes, anything the application's
    verify callable attaches). Immutable and hashable by name, groups and scheme."""

    __slots__ = ("name", "groups", "scheme", "attributes")

    name: str
    groups: frozenset[str]
    scheme: str
    attributes: Mapping[str, Any]

    def __init__(
        self,
        name: str,
        groups: Iterable[str] = (),
        *,
        scheme: str = "",
        attributes: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(name, str):
            raise TypeError(f"an Identity's name is a str, not {type(name).__name__}")
        if isinstance(groups, str):
            groups = (groups,)  # one group, not its letters
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "groups", frozenset(groups))
        object.__setattr__(self, "scheme", scheme)
        object.__setattr__(self, "attributes", types.MappingProxyType(dict(attributes)) if attributes else _EMPTY)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("an Identity is immutable")

    def with_scheme(self, scheme: str) -> Identity:
        """This identity, authenticated by *scheme* (itself when it already names one)."""
        if self.scheme:
            return self
        return Identity(self.name, self.groups, scheme=scheme, attributes=self.attributes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Identity):
            return NotImplemented
        return (self.name, self.groups, self.scheme) == (other.name, other.groups, other.scheme) and dict(
            self.attributes
        ) == dict(other.attributes)

    def __hash__(self) -> int:
        return hash((self.name, self.groups, self.scheme))

    def __repr__(self) -> str:
        groups = f", groups={sorted(self.groups)!r}" if self.groups else ""
        scheme = f", scheme={self.scheme!r}" if self.scheme else ""
        return f"Identity({self.name!r}{groups}{scheme})"


def to_identity(result: Any, name: str | None, scheme: str) -> Identity | None:
    """What a verify callable returned, as an :class:`Identity` (None: refused).

    ``None``/``False`` refuse; ``True`` accepts *name* (the user name the client sent; a scheme
    that carries none, such as Bearer, passes None and so requires an identity or a name); a
    ``str`` is the user's name; an :class:`Identity` is taken as it is (its scheme filled in).
    Anything else is a TypeError naming what is accepted: a silent truthy value could grant
    access by accident."""
    if result is None or result is False:
        return None
    if result is True:
        if name is None:
            raise TypeError(f"the {scheme} verify callable returns an Identity or a user name for valid credentials, not True")
        return Identity(name, scheme=scheme)
    if isinstance(result, Identity):
        return result.with_scheme(scheme)
    if isinstance(result, str):
        return Identity(result, scheme=scheme)
    raise TypeError(
        f"the {scheme} verify callable returns an Identity, a user name, True or None/False, not {type(result).__name__}"
    )
