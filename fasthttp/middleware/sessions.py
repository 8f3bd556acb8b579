"""``Sessions``: a user's session in a signed cookie, or in a server-side store named by one.

Strategy
--------
The cookie value is a versioned, signed token::

    "1." base64url(payload) "." base64url(HMAC-SHA256(key, cookie-name NUL "1." base64url(payload)))

The payload is JSON: ``{"t": issued-at, "d": {...the session...}}`` for a cookie session, or
``{"t": issued-at, "id": session-id}`` with a server-side store (:class:`~fasthttp.middleware.
stores.MemoryStore`, :class:`~fasthttp.middleware.stores.RedisStore`, or any
:class:`~fasthttp.middleware.stores.SessionStore`), where the session itself lives under that
random id, so that several instances behind a load balancer share it and logout revokes it.

- Keys: ``secret_keys[0]`` signs; every key of the list verifies (rotation: put the new key
  first, keep the old one until the cookies it signed have expired, then drop it). Each secret
  is at least 32 bytes; the HMAC key is derived from it for this purpose only (HMAC of a fixed
  label), so the same secret used elsewhere never yields a token valid here.
- The cookie name is inside the MAC: a token is not valid under another name. Comparison is
  constant-time (``hmac.compare_digest``).
- ``max_age`` bounds a token's life from when it was issued (the ``t`` inside, which the client
  cannot change), whatever the cookie's own expiry says; a token from the future (beyond one
  minute of clock skew) is refused too. A token that fails any check is ignored: the request
  gets a new, empty session.
- The session is written back (``Set-Cookie``, and the store) only when a handler changed it
  (:class:`fasthttp.requests.CookieSession` records changes); emptied, it is deleted.
- Cookie attributes default to ``Secure; HttpOnly; SameSite=Lax; Path=/`` with ``Max-Age``.
- Size: a cookie over ``max_size`` bytes (4000 by default: user agents keep at least 4096 per
  cookie, RFC 6265 §6.1, name and attributes included) is a :class:`SessionTooLarge` error
  when the response is sent (a 500 with the reason in the server log): keep less in it, or use
  a store (whose sessions are bounded by ``max_size`` too: 64 KiB of JSON by default).

APPSEC: a cookie session is stateless, so a copied cookie stays valid until ``max_age`` even
after logout (clearing the session replaces the cookie in *this* browser only); use a store
where logout must revoke it. :meth:`CookieSession.regenerate` (at login) issues a new id (and a
new token), against session fixation.

Store failures fail closed: a session that cannot be loaded or saved is a ``503`` (with
``Retry-After``), never an empty session that would log a user out or be written over theirs.
Each store call is bounded by the store's timeout (``RedisStore(timeout=...)``).

The session is ``request.cookie_session`` (published in ``request.extras``);
``request.session`` is the per-connection dict of the engine, something else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
import time
import types
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..cookies import format_delete_cookie, format_set_cookie
from ..errors import HttpError
from ..requests import COOKIE_SESSION, CookieSession
from ..responses import json_dumps, json_loads, with_fields
from .stack import FULL, CallNext
from .stores import SessionStore, StoreUnavailable

if TYPE_CHECKING:
    from ..requests import Request

__all__ = ("Sessions", "SessionTooLarge", "sign_token", "verify_token")

log = logging.getLogger("fasthttp.sessions")

_CORO = types.CoroutineType
_VERSION = "1"
_SKEW = 60  # seconds a token's issue time may lie in the future (clock skew between instances)
_MIN_SECRET = 32


class SessionTooLarge(ValueError):
    """The session does not fit in its cookie (or the store's size limit)."""


def derive_keys(secret_keys: Iterable[str | bytes], purpose: bytes) -> list[bytes]:
    """The HMAC keys for *purpose*, one per secret (the first signs, all verify). Each secret is
    at least 32 bytes; the list is not empty."""
    if isinstance(secret_keys, (str, bytes)):
        raise TypeError("secret_keys is a list of secrets (the first signs, all verify), not one secret")
    keys = []
    for secret in secret_keys:
        raw = secret.encode() if isinstance(secret, str) else bytes(secret)
        if len(raw) < _MIN_SECRET:
            raise ValueError(
                f"a secret key is at least {_MIN_SECRET} bytes (got {len(raw)}): make one with "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        keys.append(hmac.new(raw, b"fasthttp:" + purpose, hashlib.sha256).digest())
    if not keys:
        raise ValueError("secret_keys is empty: give at least one secret")
    return keys


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_token(key: bytes, name: str, payload: Any) -> str:
    """The signed token for *payload* (JSON) under cookie *name* (see the module docstring)."""
    body = f"{_VERSION}.{_b64(json_dumps(payload))}"
    mac = hmac.new(key, name.encode() + b"\x00" + body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def verify_token(keys: list[bytes], name: str, token: str, max_age: int, now: float | None = None) -> dict[str, Any] | None:
    """The payload of *token* if one of *keys* signed it for cookie *name*, it is of this
    version and not older than *max_age* seconds; None otherwise (forged, altered, retired key,
    expired, or not a token)."""
    version, _, rest = token.partition(".")
    body_b64, _, mac_b64 = rest.partition(".")
    if version != _VERSION or not body_b64 or not mac_b64:
        return None
    try:
        mac = _unb64(mac_b64)
    except (binascii.Error, ValueError):
        return None
    signed = name.encode() + b"\x00" + f"{version}.{body_b64}".encode()
    # Every key is tried, whatever matched: the time taken does not say which key signed.
    valid = False
    for key in keys:
        valid |= hmac.compare_digest(hmac.new(key, signed, hashlib.sha256).digest(), mac)
    if not valid:
        return None
    try:
        payload = json_loads(_unb64(body_b64))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(payload, dict):
        return None
    issued = payload.get("t")
    if not isinstance(issued, int) or isinstance(issued, bool):
        return None
    now = time.time() if now is None else now
    if issued > now + _SKEW or now - issued > max_age:
        return None
    return payload


class Sessions:
    """User sessions in a signed cookie, or in *store* under an id the cookie carries (see the
    module docstring): ``request.cookie_session`` in handlers.

    *secret_keys*: the first signs, every one verifies (rotation). *store*: a
    :class:`~fasthttp.middleware.stores.SessionStore` (None: the session is the cookie).
    *max_age*: seconds a session lives after it was last written. *cookie_name*, *path*,
    *domain*, *secure*, *httponly*, *samesite*: the cookie's (``fasthttp.cookies`` checks them).
    *max_size*: the largest cookie (bytes, name and attributes included; 4000 by default), or
    with a store the largest stored session (bytes of JSON; 64 KiB by default).
    """

    def __init__(
        self,
        secret_keys: Iterable[str | bytes],
        *,
        store: SessionStore | None = None,
        max_age: int = 14 * 24 * 3600,
        cookie_name: str = "session",
        path: str = "/",
        domain: str | None = None,
        secure: bool = True,
        httponly: bool = True,
        samesite: str | None = "lax",
        max_size: int | None = None,
    ) -> None:
        self._keys = derive_keys(secret_keys, b"sessions")
        if not isinstance(max_age, int) or isinstance(max_age, bool) or max_age <= 0:
            raise ValueError(f"max_age is a positive int of seconds, not {max_age!r}")
        if max_size is None:
            max_size = 4000 if store is None else 64 * 1024
        if not isinstance(max_size, int) or max_size <= 0:
            raise ValueError(f"max_size is a positive int of bytes, not {max_size!r}")
        self.store = store
        self.max_age = max_age
        self.cookie_name = cookie_name
        self.max_size = max_size
        self.path = path
        self.domain = domain
        self.secure = secure
        self.httponly = httponly
        self.samesite = samesite
        # Checked now (name, attributes), so a misconfiguration fails at startup, not per request.
        self._set_cookie("x")
        #: What request.cookie_session calls on first use: (request) -> CookieSession.
        self._loader = self._load_cookie
        self._delete = format_delete_cookie(
            cookie_name, path=path, domain=domain, secure=secure, httponly=httponly, samesite=samesite
        )

    def _set_cookie(self, token: str) -> str:
        """The ``Set-Cookie`` value carrying *token* (``fasthttp.cookies`` checks it)."""
        return format_set_cookie(
            self.cookie_name,
            token,
            max_age=self.max_age,
            path=self.path,
            domain=self.domain,
            secure=self.secure,
            httponly=self.httponly,
            samesite=self.samesite,
        )

    # -- reading ---------------------------------------------------------------------------------

    def _payload(self, request: Request) -> dict[str, Any] | None:
        token = request.cookies.get(self.cookie_name)
        if token is None:
            return None
        if len(token) > 2 * self.max_size:  # not one of ours: do not even decode it
            return None
        payload = verify_token(self._keys, self.cookie_name, token, self.max_age)
        if payload is None:
            log.debug("session cookie refused (forged, altered, expired or signed with a retired key)")
        return payload

    # -- the middleware ----------------------------------------------------------------------------

    def __call__(self, request: Request, call_next: CallNext) -> Any:
        if self.store is not None:
            return self._with_store(request, call_next)
        # PERF: a loader, not the session: the cookie is parsed and its HMAC checked only if the
        # handler reads request.cookie_session (benchmarks/bench_middleware.py).
        extras = request.extras
        extras[COOKIE_SESSION] = self._loader
        result = call_next(request)
        if type(result) is _CORO:
            return self._finish_cookie_async(result, extras)
        session = extras.get(COOKIE_SESSION)
        if type(session) is not CookieSession:
            return result  # never looked at: nothing to write
        return self._finish_cookie(result, session)

    @property
    def publish(self) -> tuple[str, Any] | None:
        """What :meth:`before` does to a request, for the stack's quiet form
        (``fasthttp.middleware.stack.QuietForm``): it sets ``request.extras[key] = value`` (the
        loader) and answers ``request.extras``, and :meth:`after` has nothing to do while the
        loader is still there (no handler looked at the session). None with a store (the
        ``async`` :meth:`__call__` runs instead). PERF: a request whose handler never reads
        the session then costs the publication only (``benchmarks/server`` fasthttp-security)."""
        return (COOKIE_SESSION, self._loader) if self.store is None else None

    def before(self, request: Request) -> Any:
        """The stack's split form (``fasthttp.middleware.stack``): the loader is published, and
        :meth:`after` writes the session back if a handler changed it. With a store, the
        ``async`` :meth:`__call__` runs instead."""
        if self.store is not None:
            return FULL
        extras = request.extras
        extras[COOKIE_SESSION] = self._loader
        return extras

    def after(self, request: Request, response: Any, extras: dict[str, Any]) -> Any:
        session = extras.get(COOKIE_SESSION)
        if type(session) is not CookieSession:
            return response  # never looked at: nothing to write
        return self._finish_cookie(response, session)

    def _load_cookie(self, request: Request) -> CookieSession:
        payload = self._payload(request)
        data = payload.get("d") if payload is not None else None
        if isinstance(data, dict):
            return CookieSession(data, new=False)
        return CookieSession()

    async def _finish_cookie_async(self, result: Any, extras: dict[str, Any]) -> Any:
        response = await result
        session = extras.get(COOKIE_SESSION)
        if type(session) is not CookieSession:
            return response
        return self._finish_cookie(response, session)

    def _finish_cookie(self, response: Any, session: CookieSession) -> Any:
        if not session.modified:
            return response
        if not session:
            return response if session.new else with_fields(response, [("Set-Cookie", self._delete)])
        try:
            token = sign_token(self._keys[0], self.cookie_name, {"t": int(time.time()), "d": dict(session)})
        except TypeError as exc:
            raise TypeError(f"the cookie session holds a value JSON cannot encode: {exc}") from None
        cookie = self._set_cookie(token)
        if len(cookie) > self.max_size:
            raise SessionTooLarge(
                f"the session cookie would be {len(cookie)} bytes, over the limit of {self.max_size} "
                "(browsers drop cookies past 4096 bytes): keep less in request.cookie_session, or "
                "keep sessions server-side with Sessions(store=RedisStore(...) or MemoryStore())"
            )
        return with_fields(response, [("Set-Cookie", cookie)])

    async def _with_store(self, request: Request, call_next: CallNext) -> Any:
        store = self.store
        assert store is not None
        payload = self._payload(request)
        session_id = payload.get("id") if payload is not None else None
        session = CookieSession()
        if isinstance(session_id, str):
            try:
                stored = await store.load(session_id)
            except StoreUnavailable as exc:
                log.warning("session store unavailable, answering 503: %s", exc)
                raise HttpError(503, "session store unavailable", [("Retry-After", "5")]) from None
            try:
                data = json_loads(stored) if stored is not None else None
            except ValueError:  # not what this middleware wrote: no session
                log.warning("session %s in the store is not JSON: ignored", session_id[:8])
                data = None
            if isinstance(data, dict):
                session = CookieSession(data, new=False, session_id=session_id)
            # else: revoked (logout) or expired in the store: a replayed cookie gets a new session
        request.extras[COOKIE_SESSION] = session
        result = call_next(request)
        if type(result) is _CORO:
            result = await result
        if not session.modified:
            return result
        try:
            return await self._save(result, session)
        except StoreUnavailable as exc:
            log.warning("session store unavailable, answering 503: %s", exc)
            raise HttpError(503, "session store unavailable", [("Retry-After", "5")]) from None

    async def _save(self, response: Any, session: CookieSession) -> Any:
        store = self.store
        assert store is not None
        old = session.session_id
        if not session:
            if old is not None:
                await store.delete(old)
            return response if session.new else with_fields(response, [("Set-Cookie", self._delete)])
        try:
            data = json_dumps(dict(session))
        except TypeError as exc:
            raise TypeError(f"the cookie session holds a value JSON cannot encode: {exc}") from None
        if len(data) > self.max_size:
            raise SessionTooLarge(
                f"the session is {len(data)} bytes of JSON, over the store limit of {self.max_size}: "
                "keep less in request.cookie_session, or raise Sessions(max_size=...)"
            )
        new_id = old if old is not None and not session.regenerated else secrets.token_urlsafe(32)
        if old is not None and new_id != old:
            await store.delete(old)
        await store.save(new_id, data, self.max_age)
        session.session_id = new_id
        # A new token even for the same id: its issue time restarts max_age, as the store's did.
        token = sign_token(self._keys[0], self.cookie_name, {"t": int(time.time()), "id": new_id})
        cookie = self._set_cookie(token)
        return with_fields(response, [("Set-Cookie", cookie)])

    def __repr__(self) -> str:
        return f"<Sessions cookie={self.cookie_name!r} store={self.store!r}>"
