"""``CSRF``: cross-site request forgery protection for apps with cookie sessions.

Strategy
--------
Two checks on every request whose method is not safe (RFC 9110 §9.2.1: anything but GET, HEAD,
OPTIONS and TRACE), both before the route runs:

1. Origin (the OWASP "verifying origin with standard headers" defence): the ``Origin`` field, or
   without one the origin of ``Referer``, must be this site's own (the request's scheme and
   ``Host``, which a trusted proxy's ``Forwarded`` may set: ``fasthttp.forwarded``) or one of
   *trusted_origins*. ``Origin: null`` (sandboxed frames, some redirects) is refused. Neither
   field (a non-browser client) leaves the decision to the token.
2. Synchronizer token: a secret kept in the cookie session (``request.cookie_session``, so the
   ``Sessions`` middleware must run outside this one) under ``"_csrf"``; pages embed
   :func:`csrf_token` (``<input type="hidden" name="csrf_token" value="...">``, or an
   ``X-CSRF-Token`` header from scripts). The token sent must match the secret; comparison is
   constant-time. Each call of :func:`csrf_token` masks the secret with a fresh random pad (the
   token is ``pad || pad XOR secret``), so a compressed HTTPS page never repeats it (the BREACH
   attack). :meth:`CookieSession.regenerate` at login drops the secret, so a token planted
   before login is worthless after.

A refused request is ``403`` with the reason; the route never runs. Reading the token from a form
reads the body first (``await request.form()``, cached: the handler reads the same form).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import HttpError
from ..media import FORM_TYPES
from .stack import CallNext

if TYPE_CHECKING:
    from ..requests import Request

__all__ = ("CSRF", "csrf_token", "CSRF_SESSION_KEY")

#: Where the secret lives in the cookie session (``_``: a middleware's key, see ``regenerate``).
CSRF_SESSION_KEY = "_csrf"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_SECRET_BYTES = 32
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _secret(request: Request, create: bool) -> bytes | None:
    try:
        session = request.cookie_session
    except RuntimeError:
        raise RuntimeError(
            "CSRF (and csrf_token) needs the Sessions middleware installed before it, outside it: "
            "app.add_middleware(Sessions(secret_keys=[...])) then app.add_middleware(CSRF())"
        ) from None
    value = session.get(CSRF_SESSION_KEY)
    if isinstance(value, str):
        try:
            raw = base64.urlsafe_b64decode(value)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) == _SECRET_BYTES:
            return raw
    if not create:
        return None
    raw = secrets.token_bytes(_SECRET_BYTES)
    session[CSRF_SESSION_KEY] = base64.urlsafe_b64encode(raw).decode("ascii")
    return raw


def csrf_token(request: Request) -> str:
    """A token for the forms and scripts of the page being built (a new masking each call; the
    secret is created in the cookie session on first use)."""
    secret = _secret(request, create=True)
    assert secret is not None
    pad = secrets.token_bytes(_SECRET_BYTES)
    return base64.urlsafe_b64encode(pad + bytes(a ^ b for a, b in zip(pad, secret))).decode("ascii")


def _unmask(token: str) -> bytes | None:
    try:
        raw = base64.urlsafe_b64decode(token.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None
    if len(raw) != 2 * _SECRET_BYTES:
        return None
    pad, masked = raw[:_SECRET_BYTES], raw[_SECRET_BYTES:]
    return bytes(a ^ b for a, b in zip(pad, masked))


def _origin_of(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    return _normal(parts.scheme.lower(), parts.netloc.lower().rpartition("@")[2])


def _normal(scheme: str, host: str) -> str:
    """``scheme://host[:port]`` without the scheme's default port."""
    name, sep, port = host.rpartition(":")
    if sep and port == _DEFAULT_PORTS.get(scheme) and (not name.startswith("[") or name.endswith("]")):
        host = name
    return f"{scheme}://{host}"


class CSRF:
    """Cross-site request forgery protection (see the module docstring); install it inside
    ``Sessions`` (after it: ``app.add_middleware(Sessions(...)); app.add_middleware(CSRF())``).

    *trusted_origins*: other origins allowed to post (``"https://admin.example.com"``).
    *header_name* and *field_name*: where the token is looked for (a header, then a form field).
    *exempt*: ``callable(request) -> bool`` for requests not to check (a webhook with its own
    authentication).
    """

    def __init__(
        self,
        *,
        trusted_origins: Iterable[str] = (),
        header_name: str = "X-CSRF-Token",
        field_name: str = "csrf_token",
        exempt: Callable[[Request], bool] | None = None,
    ) -> None:
        trusted = set()
        for origin in trusted_origins:
            normal = _origin_of(origin)
            if normal is None:
                raise ValueError(f"a trusted origin is scheme://host[:port], not {origin!r}")
            trusted.add(normal)
        self.trusted_origins = frozenset(trusted)
        self.header_name = header_name
        self.field_name = field_name
        self.exempt = exempt

    def __call__(self, request: Request, call_next: CallNext) -> Any:
        if request.method in _SAFE or (self.exempt is not None and self.exempt(request)):
            return call_next(request)
        self.check_origin(request)
        token = request.headers.get(self.header_name)
        if token is not None:
            self._check_token(request, token)
            return call_next(request)
        return self._check_form(request, call_next)

    async def _check_form(self, request: Request, call_next: CallNext) -> Any:
        token = None
        if request.body_reader is not None and request.content_type in FORM_TYPES:
            value = (await request.form()).get(self.field_name)
            token = value if isinstance(value, str) else None
        if token is None:
            raise HttpError(403, f"CSRF token missing: send it in the {self.field_name} form field or the {self.header_name} header")
        self._check_token(request, token)
        result = call_next(request)
        if hasattr(result, "__await__"):
            result = await result
        return result

    def _check_token(self, request: Request, token: str) -> None:
        secret = _secret(request, create=False)
        sent = _unmask(token)
        if secret is None or sent is None or not hmac.compare_digest(secret, sent):
            raise HttpError(403, "CSRF token incorrect or expired: reload the page and try again")

    def check_origin(self, request: Request) -> None:
        """Raise ``HttpError(403)`` unless the request's ``Origin`` (or ``Referer``) is this
        site's or a trusted one; a request with neither passes (the token decides)."""
        origins = request.headers.getall("origin")
        if len(origins) > 1:  # RFC 6454 §7.3: one Origin field; two is someone's trick
            raise HttpError(403, "cross-site request refused: more than one Origin field")
        origin = origins[0] if origins else None
        if origin is not None:
            if origin.strip().lower() == "null":
                raise HttpError(403, "cross-site request refused: Origin is null")
            claimed = _origin_of(origin.strip())
            what = "Origin"
        else:
            referer = request.headers.get("referer")
            if referer is None:
                return
            claimed = _origin_of(referer.strip())
            what = "Referer"
        host = request.host
        own = _normal(request.scheme, host.lower()) if host else None
        if claimed is None or (claimed != own and claimed not in self.trusted_origins):
            raise HttpError(403, f"cross-site request refused: the {what} is not this site ({own})")

    def __repr__(self) -> str:
        return f"<CSRF trusted={sorted(self.trusted_origins)}>"
