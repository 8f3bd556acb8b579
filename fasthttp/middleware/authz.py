"""Authorization rules: composable conditions on a request, enforced by the :class:`Authorize`
middleware (403 when authenticated but not allowed, 401 when not authenticated).

A *condition* is any callable ``(request) -> bool`` (``def`` or ``async def``). This module
builds the usual ones (circuits.http's realm conditions): :func:`is_user`, :func:`in_group`
(the groups of ``request.user``, an :class:`~fasthttp.identity.Identity`), :func:`from_network`
(``request.client``, after trusted-proxy resolution by ``fasthttp.forwarded``), :data:`is_https`
(``request.is_secure``, idem) and :data:`is_authenticated`; and composes them with
:func:`all_of`, :func:`any_of`, :func:`none_of` or the operators ``&``, ``|``, ``~``.

``Authorize(rule)`` is a middleware: app-wide (``app.add_middleware``), on a mount
(``app.mount(prefix, sub, middleware=[...])``, or installed on the mounted App itself), on a
resource (its ``middleware`` attribute, or ``app.add(resource, middleware=[...])``) or on one
route (``middleware=[...]``). Install it inside (after) the authentication middleware, which
publishes ``request.user``.

Strategy: a :class:`Condition` evaluates synchronously as long as its parts do, and switches to
awaiting at the first part that returns an awaitable, so a rule of plain conditions costs plain
calls; combinators short-circuit left to right. The refusal (RFC 9110 §15.5.2, §15.5.4):

- the rule holds: the request goes on;
- it fails for an anonymous request (``request.user`` is None): ``login(request)`` when given
  (a redirect to a login page or to an identity provider), else ``401`` with the challenges that
  the authentication middleware offered (installed with ``required=False``; RFC 9110 §11.6.1
  wants at least one: an app that authenticates by other means gives ``login``);
- it fails for an authenticated user: ``403``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..errors import Forbidden
from ..forwarded import ProxyTrust
from ..responses import to_response
from .auth import unauthorized

if TYPE_CHECKING:
    from ..requests import Request
    from .stack import CallNext

__all__ = (
    "Condition",
    "condition",
    "all_of",
    "any_of",
    "none_of",
    "is_user",
    "in_group",
    "from_network",
    "is_https",
    "is_authenticated",
    "Authorize",
)

#: What a condition's test returns: a truth value, or an awaitable of one.
Verdict = Any


class Condition:
    """A named test of a request: ``condition(request)`` is a bool (or an awaitable of one, when
    a part is ``async``). Combine with ``&``, ``|`` and ``~``."""

    __slots__ = ("test", "description")

    def __init__(self, test: Callable[[Request], Verdict], description: str) -> None:
        self.test = test
        self.description = description

    def __call__(self, request: Request) -> Verdict:
        return self.test(request)

    def __and__(self, other: Callable[[Request], Verdict]) -> Condition:
        return all_of(self, other)

    def __or__(self, other: Callable[[Request], Verdict]) -> Condition:
        return any_of(self, other)

    def __invert__(self) -> Condition:
        return none_of(self)

    def __repr__(self) -> str:
        return self.description


def condition(test: Callable[[Request], Verdict], description: str | None = None) -> Condition:
    """*test* as a :class:`Condition` (itself if it is one)."""
    if isinstance(test, Condition):
        return test
    if not callable(test):
        raise TypeError(f"a condition is a callable(request) -> bool, not {test!r}")
    return Condition(test, description or str(getattr(test, "__name__", None) or repr(test)))


def _conditions(parts: tuple[Callable[[Request], Verdict], ...], name: str) -> tuple[Condition, ...]:
    if not parts:
        raise TypeError(f"{name}() takes at least one condition")
    return tuple(condition(p) for p in parts)


def _first(conditions: tuple[Condition, ...], request: Request, wanted: bool, start: int = 0) -> Verdict:
    """Whether some condition from *start* on evaluates to *wanted* (short-circuit, sync while
    the parts are)."""
    for i in range(start, len(conditions)):
        verdict = conditions[i](request)
        if inspect.isawaitable(verdict):
            return _first_async(verdict, conditions, request, wanted, i)
        if bool(verdict) is wanted:
            return True
    return False


async def _first_async(
    pending: Awaitable[Any], conditions: tuple[Condition, ...], request: Request, wanted: bool, index: int
) -> bool:
    if bool(await pending) is wanted:
        return True
    rest = _first(conditions, request, wanted, index + 1)
    if inspect.isawaitable(rest):
        rest = await rest
    return bool(rest)


def _negate(verdict: Verdict) -> Verdict:
    if inspect.isawaitable(verdict):
        return _negate_async(verdict)
    return not verdict


async def _negate_async(verdict: Awaitable[Any]) -> bool:
    return not await verdict


def all_of(*parts: Callable[[Request], Verdict]) -> Condition:
    """True when every part is (evaluated left to right, stopping at the first false one)."""
    conditions = _conditions(parts, "all_of")
    return Condition(
        lambda request: _negate(_first(conditions, request, False)),
        f"all_of({', '.join(map(repr, conditions))})",
    )


def any_of(*parts: Callable[[Request], Verdict]) -> Condition:
    """True when some part is (left to right, stopping at the first true one)."""
    conditions = _conditions(parts, "any_of")
    return Condition(lambda request: _first(conditions, request, True), f"any_of({', '.join(map(repr, conditions))})")


def none_of(*parts: Callable[[Request], Verdict]) -> Condition:
    """True when no part is."""
    conditions = _conditions(parts, "none_of")
    return Condition(
        lambda request: _negate(_first(conditions, request, True)),
        f"none_of({', '.join(map(repr, conditions))})",
    )


def is_user(*names: str) -> Condition:
    """True when the request is authenticated as one of *names*."""
    wanted = frozenset(names)
    if not wanted or not all(isinstance(n, str) for n in wanted):
        raise TypeError("is_user() takes one or more user names")

    def test(request: Request) -> bool:
        user = request.user
        return user is not None and user.name in wanted

    return Condition(test, f"is_user({', '.join(map(repr, names))})")


def in_group(*groups: str) -> Condition:
    """True when the authenticated user belongs to at least one of *groups*."""
    wanted = frozenset(groups)
    if not wanted or not all(isinstance(g, str) for g in wanted):
        raise TypeError("in_group() takes one or more group names")

    def test(request: Request) -> bool:
        user = request.user
        return user is not None and not wanted.isdisjoint(user.groups)

    return Condition(test, f"in_group({', '.join(map(repr, groups))})")


def from_network(*networks: str | Iterable[str]) -> Condition:
    """True when the client address (``request.client``: the real client behind trusted
    proxies) is in one of *networks* (``"10.0.0.0/8"``, ``"::1"``, ...; an IPv4-mapped IPv6
    address counts as its IPv4 address). A client on an AF_UNIX socket is in none."""
    flat: list[str] = []
    for item in networks:
        flat.extend([item] if isinstance(item, str) else item)
    if not flat or "*" in flat:
        raise ValueError("from_network() takes IP addresses or networks (not '*')")
    # One home for "is this address in these networks": fasthttp.forwarded's proxy trust.
    space = ProxyTrust(flat, unix=False)

    def test(request: Request) -> bool:
        return space.trusts_peer(request.client)

    return Condition(test, f"from_network({', '.join(map(repr, flat))})")


#: True over HTTPS (``request.is_secure``: TLS, or the scheme a trusted proxy forwarded).
is_https = Condition(lambda request: request.is_secure, "is_https")
#: True when some authentication middleware published ``request.user``.
is_authenticated = Condition(lambda request: request.user is not None, "is_authenticated")


class Authorize:
    """Middleware that lets a request through only when *rule* holds (see the module docstring
    for the 401/403 decision). *rule*: a condition or any ``callable(request) -> bool``.
    *login* ``(request)``: the response for an anonymous request the rule refuses (a redirect
    to a login page, ``SamlServiceProvider.login_redirect``...); default: 401. *detail*: the
    error's detail."""

    def __init__(
        self,
        rule: Callable[[Request], Verdict],
        *,
        login: Callable[[Request], Any] | None = None,
        detail: str | None = None,
    ) -> None:
        self.rule = condition(rule)
        if login is not None and not callable(login):
            raise TypeError("login is a callable(request) -> response")
        self.login = login
        self.detail = detail

    async def __call__(self, request: Request, call_next: CallNext) -> Any:
        verdict = self.rule(request)
        if inspect.isawaitable(verdict):
            verdict = await verdict
        if verdict:
            return await call_next(request)
        if request.user is not None:
            raise Forbidden(self.detail)
        if self.login is not None:
            response = self.login(request)
            if inspect.isawaitable(response):
                response = await response
            return to_response(response)
        raise unauthorized(request, self.detail)

    def __repr__(self) -> str:
        return f"Authorize({self.rule!r})"
