"""SAML 2.0 service provider: single sign-on and single logout with an identity provider, as a
middleware that publishes the logged-in user as ``request.user``.

Strategy
--------
The XML, the signatures and the SAML rules are pysaml2's (a well-kept implementation, with
``xmlsec1`` for XML signatures; the ``saml`` extra installs pysaml2, and the system package
``xmlsec1`` is needed beside it). This module is the HTTP side: the endpoints, the bindings, the
state kept in the cookie session, and the mapping to :class:`~fasthttp.identity.Identity`.
Endpoints, under *prefix* (default ``/saml``):

- ``GET  {prefix}/login?next=/path``: SP-initiated login. An ``AuthnRequest`` (signed) goes to
  the identity provider by the HTTP-Redirect binding (a ``303``) or the HTTP-POST binding (an
  auto-submitting form), as *binding* says (SAML Bindings §3.4, §3.5). Its ID is remembered,
  with where to return, in a signed cookie of its own (see ``_pending``: a SameSite=Lax session
  cookie does not come back with the provider's cross-site POST).
- ``POST {prefix}/acs``: the assertion consumer service (HTTP-POST binding). pysaml2 checks the
  response: the XML signature of the assertion (required; of the response too with
  ``want_response_signed``) against the identity provider's certificate from its metadata, the
  ``Audience`` (our entity ID), the ``Recipient``/``Destination`` (our ACS URL), the validity
  window (``NotBefore``/``NotOnOrAfter``, with *clock_skew*), and ``InResponseTo`` against the
  requests this browser has outstanding (no unsolicited responses; a response consumed once is
  no longer outstanding); and an assertion ID is accepted once (SAML Profiles §4.1.4.5, kept per
  process until the assertion expires), so a captured response cannot be replayed. APPSEC: pysaml2 verifies the signature on
  the very element it then reads (XML signature wrapping, CVE-2020-5390, is refused); the tests
  wrap, unsign, expire and re-address assertions. Any failure is ``403`` (logged with the
  reason on ``fasthttp.saml``); a missing or undecodable message ``400``.
- ``GET  {prefix}/metadata``: this SP's metadata (``application/samlmetadata+xml``).
- ``GET|POST {prefix}/logout``: SP-initiated single logout: the local login ends at once, and a
  signed ``LogoutRequest`` goes to the identity provider (HTTP-Redirect).
- ``GET  {prefix}/sls``: the single logout service: the provider's ``LogoutResponse`` (then back
  to where the logout started), or a provider-initiated ``LogoutRequest`` (the local login ends;
  a signed ``LogoutResponse`` goes back). Both must carry a valid redirect-binding signature.

State lives in the cookie session (``request.extras["cookie_session"]``, the ``Sessions``
middleware's, installed before this one): the login (name ID, session index, user name, groups,
attributes) under *session_key*, and each attribute listed in *attributes* under its own
session key. Every other request gets ``request.user`` from there.
Without a cookie session the middleware fails with an error naming the Sessions middleware.
``login_redirect`` is the ``login`` hook for ``Authorize`` (anonymous requests go to the login).

PERF: signing and verifying run ``xmlsec1`` (a process); they run in a worker thread, one at a
time, so the event loop never waits on them. APPSEC: at login the session's ``regenerate()`` is
called when it has one (a new session identifier, against session fixation); logout clears this
module's keys.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import shutil
import threading
import time
import traceback
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from ..cookies import format_delete_cookie, format_set_cookie
from ..errors import Forbidden, HttpError
from ..identity import Identity
from ..responses import Response

if TYPE_CHECKING:
    from ..requests import Request
    from .stack import CallNext

__all__ = ("SamlServiceProvider", "SamlError", "SESSION_KEY", "safe_next")

log = logging.getLogger("fasthttp.saml")

#: The ``request.extras`` key of the cookie session (the Sessions middleware's).
SESSION_KEY = "cookie_session"
_PENDING = "saml_pending"  # the cookie of the outstanding requests: {request ID: where to return}
_MAX_PENDING = 8  # outstanding logins kept per browser (several tabs), the oldest dropped
_PENDING_AGE = 600  # seconds a login may take at the identity provider
_MAX_CONSUMED = 100_000  # assertion IDs remembered against replays (per process)
_SAML_METADATA = "application/samlmetadata+xml"


def _saml() -> Any:
    """pysaml2, imported on first use (an optional dependency)."""
    try:
        with warnings.catch_warnings():
            # pysaml2 touches cryptography's deprecated CFB name at import: not ours to fix.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.filterwarnings("ignore", message=".*cryptography.hazmat.decrepit")
            import saml2
            import saml2.client
            import saml2.config
            import saml2.ident
            import saml2.metadata
            import saml2.samlp
            import saml2.sigver
            import saml2.xmldsig
    except ImportError:  # pragma: no cover - the saml extra installs it
        raise RuntimeError("SamlServiceProvider needs pysaml2: pip install 'fasthttp[saml]'") from None
    return saml2


def _published_session(request: Request) -> Any:
    """The cookie session the Sessions middleware published (a dict-like), or None. It may
    publish a loader ``(request) -> session`` that makes it on first use: called here once."""
    published = request.extras.get(SESSION_KEY)
    if published is None or isinstance(published, Mapping) or not callable(published):
        return published
    session = published(request)
    request.extras[SESSION_KEY] = session
    return session


class SamlError(Exception):
    """pysaml2 refused a message or failed (the message says why)."""


def _clear_frames(exc: BaseException | None) -> None:
    seen = 0
    while exc is not None and seen < 16:
        if exc.__traceback__ is not None:
            traceback.clear_frames(exc.__traceback__)
        exc = exc.__cause__ or exc.__context__
        seen += 1


def safe_next(value: str | None, default: str) -> str:
    """*value* when it is a local path (``/x``, not ``//host`` or ``/\\host``, no control
    characters), else *default*: APPSEC, no open redirect through ``next`` or ``RelayState``."""
    if not value or not value.startswith("/") or value[1:2] in ("/", "\\"):
        return default
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return default
    return value


def _redirect(location: str) -> Response:
    return Response(b"", 303, [(b"Location", location), (b"Cache-Control", b"no-store")])


class SamlServiceProvider:
    """A SAML 2.0 service provider (see the module docstring), as a middleware.

    *base_url*: this application's external URL (``https://app.example.com``), from which the
    endpoints' URLs are made. *idp_metadata*: the identity provider's metadata, as XML text or
    a file path. *key_file*, *cert_file*: this SP's signing (and decryption) key pair, PEM files.
    *entity_id*: default ``{base_url}{prefix}/metadata``. *idp_entity_id*: which provider, when
    the metadata holds several. *binding*: ``"redirect"`` or ``"post"`` for the AuthnRequest.
    *attributes*: SAML attribute name -> session key, copied into the cookie session at login.
    *user_attribute*: the attribute whose first value is ``request.user.name`` (default: the
    NameID). *groups_attribute*: the attribute whose values are ``request.user.groups``.
    *want_response_signed*: require the Response's signature too (the assertion's always is).
    *clock_skew*: seconds of tolerance on validity windows. *default_next*: where to go after
    login or logout without a (safe) ``next``. *xmlsec_binary*: path of ``xmlsec1``.
    *secret*: the key that signs the outstanding-requests cookie (random per instance by
    default: give every worker process the same one).
    *config*: extra pysaml2 configuration, merged last.
    """

    def __init__(
        self,
        *,
        base_url: str,
        idp_metadata: str,
        key_file: str,
        cert_file: str,
        entity_id: str | None = None,
        idp_entity_id: str | None = None,
        prefix: str = "/saml",
        binding: str = "redirect",
        attributes: Mapping[str, str] | None = None,
        user_attribute: str | None = None,
        groups_attribute: str | None = None,
        session_key: str = "saml",
        want_response_signed: bool = False,
        clock_skew: int = 60,
        default_next: str = "/",
        xmlsec_binary: str | None = None,
        secret: bytes | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        saml2 = _saml()
        if binding not in ("redirect", "post"):
            raise ValueError(f"binding is 'redirect' or 'post', not {binding!r}")
        if not prefix.startswith("/") or prefix.endswith("/"):
            raise ValueError(f"prefix starts with '/' and does not end with one: {prefix!r}")
        xmlsec = xmlsec_binary or shutil.which("xmlsec1")
        if not xmlsec or not os.path.exists(xmlsec):
            raise RuntimeError("SamlServiceProvider needs the xmlsec1 program (Debian: apt-get install xmlsec1)")
        base_url = base_url.rstrip("/")
        self.prefix = prefix
        self.acs_url = f"{base_url}{prefix}/acs"
        self.sls_url = f"{base_url}{prefix}/sls"
        self.entity_id = entity_id or f"{base_url}{prefix}/metadata"
        self.binding = saml2.BINDING_HTTP_REDIRECT if binding == "redirect" else saml2.BINDING_HTTP_POST
        self.attributes = dict(attributes or {})
        self.user_attribute = user_attribute
        self.groups_attribute = groups_attribute
        self.session_key = session_key
        self.default_next = default_next
        metadata = {"inline": [idp_metadata]} if idp_metadata.lstrip().startswith("<") else {"local": [idp_metadata]}
        settings: dict[str, Any] = {
            "entityid": self.entity_id,
            "service": {
                "sp": {
                    "endpoints": {
                        "assertion_consumer_service": [(self.acs_url, saml2.BINDING_HTTP_POST)],
                        "single_logout_service": [(self.sls_url, saml2.BINDING_HTTP_REDIRECT)],
                    },
                    "want_assertions_signed": True,
                    "want_response_signed": want_response_signed,
                    "allow_unsolicited": False,
                    "authn_requests_signed": True,
                    "logout_requests_signed": True,
                    "logout_responses_signed": True,
                    # RSA-SHA256 and SHA-256 digests for what this SP signs (pysaml2's default
                    # is SHA-1).
                    "signing_algorithm": saml2.xmldsig.SIG_RSA_SHA256,
                    "digest_algorithm": saml2.xmldsig.DIGEST_SHA256,
                },
            },
            "key_file": key_file,
            "cert_file": cert_file,
            "encryption_keypairs": [{"key_file": key_file, "cert_file": cert_file}],
            "xmlsec_binary": xmlsec,
            "metadata": metadata,
            "accepted_time_diff": clock_skew,
            "allow_unknown_attributes": True,
        }
        settings.update(config or {})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            sp_config = saml2.config.SPConfig()
            sp_config.load(settings)
            self.client = saml2.client.Saml2Client(config=sp_config)
        providers = list(self.client.metadata.identity_providers())
        if idp_entity_id is None:
            if len(providers) != 1:
                raise ValueError(f"the metadata names {len(providers)} identity providers: give idp_entity_id")
            idp_entity_id = providers[0]
        elif idp_entity_id not in providers:
            raise ValueError(f"{idp_entity_id!r} is not an identity provider of the metadata")
        self.idp_entity_id = idp_entity_id
        self._saml2 = saml2
        self._secret = secret if secret is not None else secrets.token_bytes(32)
        self._secure = base_url.startswith("https://")
        # SameSite=None needs Secure (RFC 6265bis §4.1.2.7): over plain HTTP (development, where
        # the provider is usually same-site) the cookie stays Lax.
        self._samesite = "none" if self._secure else "lax"
        self._consumed: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._metadata: bytes | None = None
        self._routes: dict[tuple[str, str], Callable[[Request, Any], Any]] = {
            ("GET", f"{prefix}/login"): self._login,
            ("POST", f"{prefix}/acs"): self._acs,
            ("GET", f"{prefix}/metadata"): self._metadata_endpoint,
            ("GET", f"{prefix}/logout"): self._logout,
            ("POST", f"{prefix}/logout"): self._logout,
            ("GET", f"{prefix}/sls"): self._sls,
        }

    # -- the middleware -------------------------------------------------------------------------

    async def __call__(self, request: Request, call_next: CallNext) -> Any:
        path = request.path
        if path.startswith(self.prefix):
            endpoint = self._routes.get((request.method, path))
            if endpoint is not None:
                return await endpoint(request, self._session(request))
        session = _published_session(request)
        if session is not None:
            login = session.get(self.session_key)
            if login:
                request.extras["user"] = Identity(
                    login["name"], login.get("groups", ()), scheme="saml", attributes=login.get("attributes")
                )
        return await call_next(request)

    def login_redirect(self, request: Request) -> Response:
        """A redirect to this SP's login, returning to the request's path afterwards: the
        ``login`` hook of ``Authorize`` for anonymous requests."""
        target = request.path + (f"?{request.query}" if request.query else "")
        return _redirect(f"{self.prefix}/login?{urlencode({'next': target})}")

    @staticmethod
    def _session(request: Request) -> Any:
        session = _published_session(request)
        if session is None:
            raise RuntimeError(
                "SamlServiceProvider keeps the login in the cookie session: install the Sessions "
                "middleware (fasthttp.middleware.Sessions) before it; request.extras"
                f"[{SESSION_KEY!r}] is missing"
            )
        return session

    async def _run(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """*func* (pysaml2 work: xmlsec1 runs) in a worker thread, one at a time."""

        def locked() -> Any:
            with self._lock:
                try:
                    return func(*args, **kwargs)
                except Exception as exc:
                    message = f"{type(exc).__name__}: {exc}"
                    # NOTE: pysaml2 keeps its temporary certificate files in frame locals; the
                    # traceback would hold them until the cycle collector runs (and closes them
                    # in any order: ResourceWarnings). Clearing the frames releases them now.
                    _clear_frames(exc)
                    raise SamlError(message) from None

        return await asyncio.get_running_loop().run_in_executor(None, locked)

    # -- login ------------------------------------------------------------------------------------

    # The outstanding requests live in a cookie of their own, not in the session: the provider
    # posts the response cross-site, and a SameSite=Lax session cookie is not sent with that
    # POST (RFC 6265bis §5.4.7.1), while this one (path {prefix}/acs, SameSite=None over
    # HTTPS) is. It is signed (HMAC-SHA256 under *secret*), so no one can plant a request ID.

    def _pending(self, request: Request) -> dict[str, str]:
        value = request.cookies.get(_PENDING)
        if not value:
            return {}
        body, _, mac = value.rpartition(".")
        expected = base64.urlsafe_b64encode(hmac.new(self._secret, body.encode("ascii", "replace"), hashlib.sha256).digest())
        if not hmac.compare_digest(mac.encode("ascii", "replace"), expected.rstrip(b"=")):
            return {}
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return {}
        if not isinstance(data, dict) or not isinstance(data.get("t"), (int, float)):
            return {}
        if not 0 <= time.time() - data["t"] <= _PENDING_AGE:
            return {}
        pending = data.get("p")
        if not isinstance(pending, dict):
            return {}
        return {str(k): str(v) for k, v in pending.items()}

    def _pending_cookie(self, pending: dict[str, str]) -> str:
        if not pending:
            return format_delete_cookie(_PENDING, path=self.prefix, secure=self._secure, httponly=True, samesite=self._samesite)
        body = base64.urlsafe_b64encode(json.dumps({"t": int(time.time()), "p": pending}).encode()).rstrip(b"=")
        mac = base64.urlsafe_b64encode(hmac.new(self._secret, body, hashlib.sha256).digest()).rstrip(b"=")
        return format_set_cookie(
            _PENDING,
            f"{body.decode()}.{mac.decode()}",
            max_age=_PENDING_AGE,
            path=self.prefix,
            secure=self._secure,
            httponly=True,
            samesite=self._samesite,
        )

    async def _login(self, request: Request, session: Any) -> Response:
        next_path = safe_next(request.query_params.get("next"), self.default_next)
        request_id, info = await self._run(
            self.client.prepare_for_authenticate,
            entityid=self.idp_entity_id,
            relay_state=next_path,
            binding=self.binding,
            response_binding=self._saml2.BINDING_HTTP_POST,
        )
        pending = self._pending(request)
        pending[request_id] = next_path
        while len(pending) > _MAX_PENDING:
            del pending[next(iter(pending))]
        response = self._deliver(info)
        response.fields.append((b"Set-Cookie", self._pending_cookie(pending)))
        return response

    def _deliver(self, info: Mapping[str, Any]) -> Response:
        """pysaml2's HTTP arguments of a binding, as a response: a redirect, or the HTML form
        that posts the message (SAML Bindings §3.4, §3.5)."""
        if info.get("method") == "GET" or info.get("status") == 303:
            headers = dict(info["headers"])
            return _redirect(headers["Location"])
        body = info["data"]
        return Response(
            body.encode("utf-8") if isinstance(body, str) else body,
            200,
            [(b"Content-Type", b"text/html; charset=utf-8"), (b"Cache-Control", b"no-store")],
        )

    async def _acs(self, request: Request, session: Any) -> Response:
        form = await request.form()
        message = form.get("SAMLResponse")
        if not isinstance(message, str) or not message:
            raise HttpError(400, "Bad Request: no SAMLResponse")
        pending = self._pending(request)
        saml2 = self._saml2
        try:
            response = await self._run(self._parse_authn, message, pending)
        except Exception as exc:  # pysaml2 raises many types: every one is a refusal
            log.warning("SAML response refused: %s", exc)
            raise Forbidden("SAML response refused") from None
        if response is None:
            raise HttpError(400, "Bad Request: undecodable SAMLResponse")
        request_id = response.in_response_to
        next_path = safe_next(pending.pop(request_id, None), self.default_next)
        identity = response.get_identity() or {}
        name_id = response.name_id
        name = str(name_id.text)
        if self.user_attribute is not None:
            values = identity.get(self.user_attribute) or []
            if not values:
                log.warning("SAML response without the %r attribute", self.user_attribute)
                raise Forbidden("SAML response refused")
            name = str(values[0])
        groups = [str(g) for g in identity.get(self.groups_attribute, ())] if self.groups_attribute else []
        attributes = {str(k): [str(v) for v in vs] for k, vs in identity.items()}
        session[self.session_key] = {
            "name": name,
            "groups": groups,
            "attributes": attributes,
            "name_id": saml2.ident.code(name_id),
            "session_index": response.session_index() if hasattr(response, "session_index") else None,
            "idp": self.idp_entity_id,
        }
        for attribute, key in self.attributes.items():
            values = attributes.get(attribute)
            if values:
                session[key] = values[0] if len(values) == 1 else values
        regenerate = getattr(session, "regenerate", None)
        if callable(regenerate):
            regenerate()  # a new session identifier at login, against session fixation
        log.info("SAML login of %r from %s", name, self.idp_entity_id)
        done = _redirect(next_path)
        done.fields.append((b"Set-Cookie", self._pending_cookie(pending)))
        return done

    def _parse_authn(self, message: str, pending: dict[str, str]) -> Any:
        saml2 = self._saml2
        response = self.client.parse_authn_request_response(message, saml2.BINDING_HTTP_POST, outstanding=pending)
        if response is None:
            return None
        # APPSEC: pysaml2 returns the response even when its envelope check failed (a
        # Destination that is not our ACS, an InResponseTo it did not expect): then no assertion
        # was parsed. Accept only a response whose assertion was verified and read, addressed
        # to us, answering a request this session made (SAML Profiles §4.1.4.3, §4.1.4.5).
        destination = response.response.destination
        if response.assertion is None or response.name_id is None:
            raise ValueError("the response carries no verified assertion")
        if destination is not None and destination != self.acs_url:
            raise ValueError(f"the response is for {destination!r}, not this ACS")
        if response.in_response_to not in pending:
            raise ValueError("the response answers no request outstanding in this browser")
        # SAML Profiles §4.1.4.5: a bearer assertion is used once. Its ID is remembered until
        # its validity ends (bounded; per process).
        self._consume(str(response.assertion.id), response.not_on_or_after)
        # pysaml2 caches every identity in memory: drop it (the session holds what we need).
        try:
            self.client.users.remove_person(response.name_id)
        except Exception:  # pragma: no cover - a cache miss is fine
            pass
        return response

    def _consume(self, assertion_id: str, not_on_or_after: Any) -> None:
        now = time.time()
        consumed = self._consumed
        while consumed:
            oldest, until = next(iter(consumed.items()))
            if until > now and len(consumed) < _MAX_CONSUMED:
                break
            del consumed[oldest]
        if assertion_id in consumed:
            raise ValueError(f"assertion {assertion_id} was used before (a replay)")
        until = float(not_on_or_after) if isinstance(not_on_or_after, (int, float)) and not_on_or_after else now + _PENDING_AGE
        consumed[assertion_id] = max(until, now) + 60

    # -- metadata ---------------------------------------------------------------------------------

    async def _metadata_endpoint(self, request: Request, session: Any) -> Response:
        data = self._metadata
        if data is None:
            saml2 = self._saml2
            text = await self._run(saml2.metadata.create_metadata_string, None, config=self.client.config, valid=24)
            data = self._metadata = text if isinstance(text, bytes) else text.encode("utf-8")
        return Response(data, 200, [(b"Content-Type", _SAML_METADATA)])

    # -- logout -----------------------------------------------------------------------------------

    def _end_login(self, session: Any) -> dict[str, Any] | None:
        login: dict[str, Any] | None = session.get(self.session_key)
        for key in (self.session_key, *self.attributes.values()):
            if key in session:
                del session[key]
        return login

    async def _logout(self, request: Request, session: Any) -> Response:
        next_path = safe_next(request.query_params.get("next"), self.default_next)
        login = self._end_login(session)
        if not login:
            return _redirect(next_path)
        saml2 = self._saml2
        destination = self._slo_location()
        if destination is None:
            return _redirect(next_path)  # the provider has no logout service: local logout only

        def make() -> Any:
            _, logout = self.client.create_logout_request(
                destination,
                login["idp"],
                name_id=saml2.ident.decode(login["name_id"]),
                session_indexes=[login["session_index"]] if login.get("session_index") else None,
                sign=False,  # the redirect binding signs the query string instead
            )
            return self.client.apply_binding(
                saml2.BINDING_HTTP_REDIRECT, str(logout), destination, next_path, sign=True
            )

        return self._deliver(await self._run(make))

    def _slo_location(self) -> str | None:
        saml2 = self._saml2
        for service in self.client.metadata.single_logout_service(self.idp_entity_id, saml2.BINDING_HTTP_REDIRECT, "idpsso"):
            location: str = service["location"]
            return location
        return None

    def _check_redirect_signature(self, kind: str, message: str, request: Request) -> None:
        """The HTTP-Redirect binding's signature over the query (SAML Bindings §3.4.4.1),
        against the provider's signing certificates; Forbidden without a valid one."""
        params = request.query_params
        signature, sigalg = params.get("Signature"), params.get("SigAlg")
        if not signature or not sigalg:
            raise Forbidden(f"unsigned SAML {kind}")
        saml_msg = {kind: message, "SigAlg": sigalg, "Signature": signature}
        relay = params.get("RelayState")
        if relay is not None:
            saml_msg["RelayState"] = relay
        certs = self.client.metadata.certs(self.idp_entity_id, "idpsso", "signing")
        for _, cert in certs:
            try:
                if self._saml2.sigver.verify_redirect_signature(saml_msg, self.client.sec.sec_backend, cert=cert):
                    return
            except Exception as exc:
                log.warning("SAML %s signature refused: %s", kind, exc)
        raise Forbidden(f"SAML {kind} signature refused")

    async def _sls(self, request: Request, session: Any) -> Response:
        params = request.query_params
        saml2 = self._saml2
        answer, ask = params.get("SAMLResponse"), params.get("SAMLRequest")
        if answer:
            self._check_redirect_signature("SAMLResponse", answer, request)
            try:
                await self._run(self.client.parse_logout_request_response, answer, saml2.BINDING_HTTP_REDIRECT)
            except Exception as exc:
                log.warning("SAML logout response refused: %s", exc)
                raise Forbidden("SAML logout response refused") from None
            return _redirect(safe_next(params.get("RelayState"), self.default_next))
        if ask:
            self._check_redirect_signature("SAMLRequest", ask, request)
            try:
                parsed = await self._run(self.client.parse_logout_request, ask, saml2.BINDING_HTTP_REDIRECT)
            except Exception as exc:
                log.warning("SAML logout request refused: %s", exc)
                raise Forbidden("SAML logout request refused") from None
            if parsed is None:
                raise HttpError(400, "Bad Request: undecodable SAMLRequest")
            login = session.get(self.session_key)
            status = None
            if login and saml2.ident.decode(login["name_id"]) == parsed.message.name_id:
                self._end_login(session)
            else:
                status = saml2.samlp.STATUS_UNKNOWN_PRINCIPAL
            destination = self._slo_location()
            if destination is None:
                raise HttpError(400, "Bad Request: the identity provider has no logout service")

            def make() -> Any:
                logout = self.client.create_logout_response(
                    parsed.message,
                    [saml2.BINDING_HTTP_REDIRECT],
                    status=None if status is None else saml2.samlp.Status(status_code=saml2.samlp.StatusCode(value=status)),
                    sign=False,
                )
                return self.client.apply_binding(
                    saml2.BINDING_HTTP_REDIRECT,
                    str(logout),
                    destination,
                    params.get("RelayState") or "",
                    response=True,
                    sign=True,
                )

            return self._deliver(await self._run(make))
        raise HttpError(400, "Bad Request: no SAMLResponse or SAMLRequest")
