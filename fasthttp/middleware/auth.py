"""HTTP authentication middleware: Basic (RFC 7617), Digest (RFC 7616) and Bearer (RFC 6750).

Each class is a middleware ``(request, call_next)``: app-wide with ``app.add_middleware(X)``, on
one route with ``middleware=[X]``. It reads the one ``Authorization`` field (RFC 9110 §11.6.2),
and when its scheme is the middleware's, checks the credentials with the application's callable
and publishes the :class:`~fasthttp.identity.Identity` as ``request.user``
(``request.extras["user"]``).

Strategy
--------
- No credentials of the middleware's scheme: with ``required=True`` (the default) the answer is
  ``401`` with every challenge offered so far (RFC 9110 §11.6.1: the client picks a scheme); with
  ``required=False`` the request goes on anonymous and the middleware only records its challenge
  (:func:`challenges`), so that a later authorization rule (``fasthttp.middleware.authz``) answers
  its ``401`` with it. A request already authenticated by another scheme goes on.
- Credentials of the scheme that fail verification: ``401`` with a fresh challenge, whatever
  ``required`` says (wrong credentials never fall back to anonymous).
- Credentials that do not parse (bad base64, a control character, a Digest field missing or
  given twice, two ``Authorization`` fields): ``400`` (RFC 7616 §3.4.6 and RFC 6750 §3.1 name
  400 for malformed requests), never a 500.
- Order: install ``CORS`` before (outside) authentication: a CORS preflight never carries
  credentials (Fetch standard, CORS-preflight request), so it must be answered before them.
- APPSEC: every secret is compared with :func:`hmac.compare_digest` (:func:`passwords_match` is
  that comparison for applications' verify callables), and an unknown user costs the same
  comparison as a known one (no user enumeration by timing).

Digest (RFC 7616): one challenge per algorithm, the preferred first (SHA-256, then MD5; §3.7),
``qop="auth"`` only. The nonce is stateless and self-authenticating: its issue time and random
bytes with an HMAC-SHA256 under the middleware's secret (§5.4 suggests a time-stamped, keyed
nonce), so any process that shares the ``secret`` accepts it. A nonce older than
``nonce_lifetime`` with an otherwise correct response gets ``stale=true`` (§3.3: the client
retries with the new nonce without asking the user again). Replays: the nonce-count of each
nonce in use is tracked in a bounded table (a sliding window of 64 counts, as IPsec's
anti-replay window, so concurrent requests may arrive out of order), and a count seen before is
refused (§3.4: "the server ... MUST ... ensure that the nc-value is not repeated" for replay
protection, §5.4). When the table is full the least recently used nonce is forgotten, and every
nonce issued no later than a forgotten one is then answered ``stale=true``: memory stays bounded
and a forgotten nonce is never replayable. NOTE: the count table is per process; with several
worker processes pass one ``secret`` to all of them (a nonce is then accepted everywhere, and a
replay is caught by the process that saw the count).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import inspect
import re
import secrets
import struct
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from .._grammar import TOKEN_PATTERN
from ..errors import HttpError, Unauthorized
from ..forwarded import split_unquoted
from ..identity import Identity, to_identity

if TYPE_CHECKING:
    from ..requests import Request
    from .stack import CallNext

__all__ = (
    "BasicAuth",
    "DigestAuth",
    "BearerAuth",
    "Identity",
    "challenges",
    "unauthorized",
    "passwords_match",
    "parse_authorization",
    "CHALLENGES_KEY",
)

#: The ``request.extras`` key of the challenges offered so far (a list of str).
CHALLENGES_KEY = "auth_challenges"
#: The ``request.extras`` key of the authenticated user (``request.user`` reads it).
USER_KEY = "user"

# RFC 9110 §11.2: auth-param = token BWS "=" BWS ( token / quoted-string ); token68.
_PARAM = re.compile(
    rf'[ \t]*({TOKEN_PATTERN})[ \t]*=[ \t]*(?:({TOKEN_PATTERN})|"((?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*)")[ \t]*'
)
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_SCHEME = re.compile(rf"({TOKEN_PATTERN})(?: +(.*))?", re.S)
_QUOTED_PAIR = re.compile(r"\\(.)", re.S)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# RFC 8187 §3.2.1 ext-value, as RFC 7616 §3.4.4 uses it for ``username*``: UTF-8 only here.
_EXT_VALUE = re.compile(r"(?i:utf-8)'[0-9A-Za-z\-]*'((?:%[0-9A-Fa-f]{2}|[!#$&+\-.^_`|~0-9A-Za-z])*)")
_NC = re.compile(r"[0-9a-fA-F]{8}")


def passwords_match(given: str | bytes, expected: str | bytes) -> bool:
    """Compare two secrets in constant time (``hmac.compare_digest`` over their UTF-8 bytes):
    the comparison for an application's ``verify`` callable."""
    if isinstance(given, str):
        given = given.encode("utf-8")
    if isinstance(expected, str):
        expected = expected.encode("utf-8")
    return hmac.compare_digest(given, expected)


def parse_authorization(value: str) -> tuple[str, str | dict[str, str]]:
    """An ``Authorization`` value (RFC 9110 §11.4) as ``(scheme, credentials)``: the scheme lower
    case; the credentials a token68 string, or a dict of auth-params (names lower case, quoted
    values unquoted), or ``""``. ``ValueError`` when it does not parse or a parameter repeats."""
    m = _SCHEME.fullmatch(value.strip(" \t"))
    if m is None:
        raise ValueError("malformed Authorization field")
    scheme = m.group(1).lower()
    rest = (m.group(2) or "").strip(" \t")
    if not rest:
        return scheme, ""
    if _TOKEN68.fullmatch(rest) and not _PARAM.fullmatch(rest.split(",", 1)[0]):
        return scheme, rest
    params: dict[str, str] = {}
    for item in split_unquoted(rest, ","):
        if not item.strip(" \t"):
            continue  # RFC 9110 §5.6.1: empty list elements are ignored
        p = _PARAM.fullmatch(item)
        if p is None:
            raise ValueError("malformed auth-param in Authorization field")
        name = p.group(1).lower()
        if name in params:
            raise ValueError(f"auth-param {name!r} given twice")
        token = p.group(2)
        params[name] = token if token is not None else _QUOTED_PAIR.sub(r"\1", p.group(3))
    return scheme, params


def _quote(value: str) -> str:
    """A quoted-string (RFC 9110 §5.6.4)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check_realm(realm: str) -> str:
    if not isinstance(realm, str) or _CONTROL.search(realm):
        raise ValueError(f"a realm is text without control characters, not {realm!r}")
    return realm


def challenges(request: Request) -> list[str]:
    """The ``WWW-Authenticate`` challenges the authentication middleware offered so far for
    *request* (those installed with ``required=False`` that found no credentials)."""
    extras = request.extras
    found: list[str] | None = extras.get(CHALLENGES_KEY)
    return list(found) if found else []


def unauthorized(request: Request, detail: str | None = None, own: Iterable[str] = ()) -> Unauthorized:
    """A ``401`` carrying every challenge offered for *request* and then *own* (RFC 9110
    §11.6.1)."""
    offered = challenges(request)
    offered.extend(c for c in own if c not in offered)
    return Unauthorized(detail, offered)


async def _call(func: Callable[..., Any], *args: Any) -> Any:
    result = func(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


class _Authentication:
    """What the three schemes share: reading the one ``Authorization`` field, and what happens
    without credentials of the scheme (:attr:`required`)."""

    scheme = ""

    def __init__(self, realm: str, required: bool) -> None:
        self.realm = _check_realm(realm)
        self.required = required

    def challenge(self, request: Request) -> list[str]:
        """This middleware's challenges for *request*."""
        raise NotImplementedError

    async def authenticate(self, request: Request, credentials: str | dict[str, str]) -> Identity:
        """The identity for *credentials* of this scheme, or raise 401 or 400."""
        raise NotImplementedError

    async def __call__(self, request: Request, call_next: CallNext) -> Any:
        values = request.headers.getall("authorization")
        if values:
            if len(values) > 1:
                raise HttpError(400, "more than one Authorization field")
            try:
                scheme, credentials = parse_authorization(values[0])
            except ValueError as exc:
                raise HttpError(400, f"Bad Request: {exc}") from None
            if scheme == self.scheme:
                request.extras[USER_KEY] = await self.authenticate(request, credentials)
                return await call_next(request)
        if request.extras.get(USER_KEY) is not None:
            return await call_next(request)  # another scheme authenticated it
        own = self.challenge(request)
        if self.required:
            raise unauthorized(request, None, own)
        offered = request.extras.setdefault(CHALLENGES_KEY, [])
        offered.extend(own)
        return await call_next(request)


# -- Basic ---------------------------------------------------------------------------------------


class BasicAuth(_Authentication):
    """HTTP Basic authentication (RFC 7617).

    *verify* ``(user, password)`` (``def`` or ``async def``) returns an
    :class:`~fasthttp.identity.Identity` (with its groups), the user's name, ``True`` (the name
    the client sent), or ``None``/``False`` to refuse. Or give *users*, a mapping of user names
    to passwords, compared in constant time. *realm* names the protection space; *required*
    (default True): see ``fasthttp.middleware.auth``.

    APPSEC: Basic sends the password with every request; use it over HTTPS only.
    """

    scheme = "basic"

    def __init__(
        self,
        verify: Callable[[str, str], Any] | None = None,
        *,
        users: Mapping[str, str] | None = None,
        realm: str = "fasthttp",
        required: bool = True,
    ) -> None:
        super().__init__(realm, required)
        if (verify is None) == (users is None):
            raise TypeError("BasicAuth takes verify=callable(user, password) or users={user: password}")
        if verify is not None and not callable(verify):
            raise TypeError("verify is a callable(user, password)")
        self.verify = verify if verify is not None else _users_verifier(dict(users or {}))
        # RFC 7617 §2.1: charset="UTF-8" tells the client how to encode user-id and password.
        self._challenge = f"Basic realm={_quote(self.realm)}, charset=\"UTF-8\""

    def challenge(self, request: Request) -> list[str]:
        return [self._challenge]

    async def authenticate(self, request: Request, credentials: str | dict[str, str]) -> Identity:
        if not isinstance(credentials, str) or not credentials:
            raise HttpError(400, "Bad Request: Basic credentials are one base64 token")
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise HttpError(400, "Bad Request: Basic credentials are not base64 of UTF-8 text") from None
        user, sep, password = decoded.partition(":")
        # RFC 7617 §2: a user-id has no colon (the first one separates) and neither part has
        # control characters.
        if not sep or _CONTROL.search(decoded):
            raise HttpError(400, "Bad Request: malformed Basic credentials")
        identity = to_identity(await _call(self.verify, user, password), user, "basic")
        if identity is None:
            raise unauthorized(request, None, [self._challenge])
        return identity


def _users_verifier(users: dict[str, str]) -> Callable[[str, str], bool]:
    # An unknown user is compared against a random secret, so it costs what a known one costs.
    dummy = secrets.token_urlsafe(16)

    def verify(user: str, password: str) -> bool:
        expected = users.get(user)
        ok = passwords_match(password, dummy if expected is None else expected)
        return ok and expected is not None

    return verify


# -- Digest --------------------------------------------------------------------------------------

#: RFC 7616 §3.7 algorithms: name -> hash function over text.
_ALGORITHMS: dict[str, Callable[[bytes], Any]] = {
    "SHA-256": hashlib.sha256,
    "MD5": hashlib.md5,
}
_NONCE_BYTES = 8 + 8 + 16  # issue time, random, MAC
_WINDOW = 64  # nonce-counts accepted below the highest seen (out-of-order concurrent requests)


class _NonceCounts:
    """The nonce-counts seen per nonce (RFC 7616 §3.4, §5.4 replay protection), bounded: see
    the module docstring."""

    __slots__ = ("limit", "table", "forgotten_before")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        #: nonce -> [issue time, highest count, bitmask of the counts seen below it]
        self.table: OrderedDict[str, list[int]] = OrderedDict()
        #: Nonces issued at or before this time may have been forgotten.
        self.forgotten_before = -1

    def use(self, nonce: str, issued: int, count: int) -> str | None:
        """Record *count* for *nonce*: None when accepted, else why not (``"replay"``, or
        ``"forgotten"`` for a nonce that may have been evicted)."""
        entry = self.table.get(nonce)
        if entry is None:
            if issued <= self.forgotten_before:
                return "forgotten"
            self.table[nonce] = [issued, count, 1]
            if len(self.table) > self.limit:
                _, old = self.table.popitem(last=False)
                self.forgotten_before = max(self.forgotten_before, old[0])
            return None
        self.table.move_to_end(nonce)
        highest, mask = entry[1], entry[2]
        if count > highest:
            shift = count - highest
            entry[1] = count
            entry[2] = ((mask << shift) | 1) & ((1 << _WINDOW) - 1) if shift < _WINDOW else 1
            return None
        back = highest - count
        if back >= _WINDOW or mask >> back & 1:
            return "replay"
        entry[2] = mask | 1 << back
        return None

    def expire(self, before: int) -> None:
        """Drop the entries of nonces issued before *before* (expired ones are refused stale)."""
        table = self.table
        while table:
            nonce, entry = next(iter(table.items()))
            if entry[0] >= before:
                break
            del table[nonce]


class DigestAuth(_Authentication):
    """HTTP Digest authentication (RFC 7616) with ``qop="auth"``.

    *get_password* ``(user)`` (``def`` or ``async def``) returns the user's password, or None
    for an unknown user. *identify* ``(user)`` optionally returns the
    :class:`~fasthttp.identity.Identity` (groups, attributes) of an authenticated user; by
    default it is just the user name. *algorithms*: offered in this order of preference
    (``"SHA-256"``, ``"MD5"``). *nonce_lifetime*: seconds a nonce is good for, after which the
    client is told ``stale=true``. *secret*: the nonces' HMAC key (bytes; random per instance by
    default: give every worker process the same one). *max_nonces* bounds the replay table.
    *realm*, *required*: see ``fasthttp.middleware.auth``. *clock*: the time source (seconds).
    """

    scheme = "digest"

    def __init__(
        self,
        realm: str,
        get_password: Callable[[str], Any],
        *,
        identify: Callable[[str], Any] | None = None,
        algorithms: Iterable[str] = ("SHA-256", "MD5"),
        nonce_lifetime: float = 300.0,
        secret: bytes | None = None,
        max_nonces: int = 100_000,
        required: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(realm, required)
        if not callable(get_password):
            raise TypeError("get_password is a callable(user) -> password or None")
        if identify is not None and not callable(identify):
            raise TypeError("identify is a callable(user) -> Identity")
        self.get_password = get_password
        self.identify = identify
        self.algorithms = tuple(a.upper() for a in ([algorithms] if isinstance(algorithms, str) else algorithms))
        unknown = [a for a in self.algorithms if a not in _ALGORITHMS]
        if not self.algorithms or unknown:
            raise ValueError(f"algorithms are among {', '.join(_ALGORITHMS)}, not {unknown or 'none'}")
        if nonce_lifetime <= 0 or max_nonces < 1:
            raise ValueError("nonce_lifetime and max_nonces are positive")
        self.nonce_lifetime = nonce_lifetime
        self._secret = secret if secret is not None else secrets.token_bytes(32)
        self._clock = clock
        self._counts = _NonceCounts(max_nonces)
        # RFC 7616 §3.3: opaque is returned unchanged by the client; ours is fixed per realm.
        self._opaque = self._mac(b"opaque\0" + self.realm.encode("utf-8")).hex()[:32]

    # -- nonces --

    def _mac(self, data: bytes) -> bytes:
        return hmac.new(self._secret, data, hashlib.sha256).digest()

    def new_nonce(self) -> str:
        """A fresh nonce: issue time, random bytes, and their HMAC (base64url)."""
        head = struct.pack(">Q", int(self._clock() * 1000)) + secrets.token_bytes(8)
        return base64.urlsafe_b64encode(head + self._mac(head + self.realm.encode("utf-8"))[:16]).decode("ascii")

    def _nonce_issued(self, nonce: str) -> int | None:
        """The issue time (ms) of a nonce this middleware made, else None."""
        try:
            raw = base64.urlsafe_b64decode(nonce.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            return None
        if len(raw) != _NONCE_BYTES:
            return None
        head, mac = raw[:16], raw[16:]
        if not hmac.compare_digest(mac, self._mac(head + self.realm.encode("utf-8"))[:16]):
            return None
        issued: int = struct.unpack(">Q", head[:8])[0]
        return issued

    # -- challenges --

    def challenge(self, request: Request, stale: bool = False) -> list[str]:
        nonce = self.new_nonce()
        tail = ", stale=true" if stale else ""
        return [
            f"Digest realm={_quote(self.realm)}, qop=\"auth\", algorithm={algorithm}, "
            f"nonce=\"{nonce}\", opaque=\"{self._opaque}\", charset=UTF-8{tail}"
            for algorithm in self.algorithms
        ]

    def _refuse(self, request: Request, stale: bool = False, detail: str | None = None) -> Unauthorized:
        return unauthorized(request, detail, self.challenge(request, stale))

    # -- verification --

    async def authenticate(self, request: Request, credentials: str | dict[str, str]) -> Identity:
        if not isinstance(credentials, dict):
            raise HttpError(400, "Bad Request: Digest credentials are auth-params")
        p = credentials
        # RFC 7616 §3.4: username (or username*), realm, nonce, uri, response are required;
        # with qop, so are cnonce and nc.
        missing = [n for n in ("realm", "nonce", "uri", "response") if n not in p]
        if ("username" in p) == ("username*" in p):
            missing.insert(0, "username")
        if missing:
            raise HttpError(400, f"Bad Request: Digest credentials without {', '.join(missing)}")
        user = p.get("username")
        if user is not None:
            # Field values arrive as latin-1 text; with charset=UTF-8 (RFC 7616 §4) a client may
            # send the name's UTF-8 bytes as they are (curl does).
            try:
                user = user.encode("latin-1").decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                pass
        else:
            m = _EXT_VALUE.fullmatch(p["username*"])
            if m is None:
                raise HttpError(400, "Bad Request: malformed username*")
            try:
                user = unquote(m.group(1), errors="strict")
            except UnicodeDecodeError:
                raise HttpError(400, "Bad Request: username* is not UTF-8") from None
        if _CONTROL.search(user):
            raise HttpError(400, "Bad Request: control character in the Digest username")
        # RFC 7616 §3.4.6 (RFC 2617 §3.2.2.5): the digest-uri names the request-target; a
        # mismatch is a Bad Request, before anything else is judged.
        if p["uri"] != request.target.decode("latin-1"):
            raise HttpError(400, "Bad Request: the Digest uri is not the request-target")
        if p["realm"] != self.realm:
            raise self._refuse(request, detail="Unauthorized: another realm")
        algorithm = p.get("algorithm", "MD5").upper()  # §3.4: absent means MD5
        if algorithm not in self.algorithms:
            raise self._refuse(request, detail=f"Unauthorized: algorithm {algorithm} not offered")
        if p.get("qop") != "auth":
            raise self._refuse(request, detail='Unauthorized: qop="auth" is required')
        if p.get("userhash", "false").lower() != "false":
            raise self._refuse(request, detail="Unauthorized: userhash not offered")
        if "opaque" in p and not hmac.compare_digest(p["opaque"].encode("utf-8"), self._opaque.encode("ascii")):
            raise self._refuse(request, detail="Unauthorized: wrong opaque")
        cnonce = p.get("cnonce")
        nc_text = p.get("nc")
        if cnonce is None or nc_text is None or not _NC.fullmatch(nc_text):
            raise HttpError(400, "Bad Request: qop=auth needs cnonce and an 8-digit hex nc")
        count = int(nc_text, 16)
        if count == 0:
            raise HttpError(400, "Bad Request: nc starts at 00000001")
        issued = self._nonce_issued(p["nonce"])
        if issued is None:
            raise self._refuse(request, detail="Unauthorized: unknown nonce")

        password = await _call(self.get_password, user)
        if password is not None and not isinstance(password, str):
            raise TypeError("get_password returns the password (str) or None")
        h = _ALGORITHMS[algorithm]

        def hx(text: str) -> str:
            return str(h(text.encode("utf-8")).hexdigest())

        # RFC 7616 §3.4.1-§3.4.3: response = KD(H(A1), nonce:nc:cnonce:qop:H(A2)) with
        # A1 = username:realm:passwd and A2 = method:digest-uri. An unknown user is checked
        # against a random password: the same work, and a refusal.
        secret = password if password is not None else secrets.token_urlsafe(16)
        ha1 = hx(f"{user}:{self.realm}:{secret}")
        ha2 = hx(f"{request.method}:{p['uri']}")
        expected = hx(f"{ha1}:{p['nonce']}:{nc_text}:{cnonce}:auth:{ha2}")
        given = p["response"].lower().encode("ascii", "replace")
        if not hmac.compare_digest(given, expected.encode("ascii")) or password is None:
            raise self._refuse(request, detail="Unauthorized")

        now = int(self._clock() * 1000)
        oldest = now - int(self.nonce_lifetime * 1000)
        if issued < oldest or issued > now + 60_000:  # expired, or from a clock far ahead
            raise self._refuse(request, stale=True, detail="Unauthorized: stale nonce")
        counts = self._counts
        counts.expire(oldest)
        refused = counts.use(p["nonce"], issued, count)
        if refused == "forgotten":
            raise self._refuse(request, stale=True, detail="Unauthorized: stale nonce")
        if refused is not None:
            raise self._refuse(request, detail="Unauthorized: nonce-count replayed")

        if self.identify is None:
            return Identity(user, scheme="digest")
        identity = to_identity(await _call(self.identify, user), user, "digest")
        if identity is None:
            raise self._refuse(request, detail="Unauthorized")
        return identity


# -- Bearer --------------------------------------------------------------------------------------


class BearerAuth(_Authentication):
    """Bearer token authentication (RFC 6750 §2.1: the ``Authorization`` field only).

    *verify* ``(token)`` (``def`` or ``async def``) returns an
    :class:`~fasthttp.identity.Identity` or a user name for a valid token, ``None``/``False``
    otherwise; it compares secrets with :func:`passwords_match` (or looks tokens up by a hash).
    *realm*, *required*: see ``fasthttp.middleware.auth``.
    """

    scheme = "bearer"

    def __init__(self, verify: Callable[[str], Any], *, realm: str = "fasthttp", required: bool = True) -> None:
        super().__init__(realm, required)
        if not callable(verify):
            raise TypeError("verify is a callable(token) -> Identity | name | None")
        self.verify = verify
        self._challenge = f"Bearer realm={_quote(self.realm)}"
        # RFC 6750 §3.1: a token that fails verification is "invalid_token" (401).
        self._invalid = f'{self._challenge}, error="invalid_token"'

    def challenge(self, request: Request) -> list[str]:
        # RFC 6750 §3.1: a request without credentials gets a challenge without an error code.
        return [self._challenge]

    async def authenticate(self, request: Request, credentials: str | dict[str, str]) -> Identity:
        if not isinstance(credentials, str) or not credentials:
            # RFC 6750 §3.1: a malformed request is "invalid_request", 400.
            raise HttpError(
                400,
                "Bad Request: a Bearer token is one token68",
                [("WWW-Authenticate", f'{self._challenge}, error="invalid_request"')],
            )
        identity = to_identity(await _call(self.verify, credentials), None, "bearer")
        if identity is None:
            raise unauthorized(request, "Unauthorized: invalid token", [self._invalid])
        return identity

