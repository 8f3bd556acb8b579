"""Helpers for the SAML tests: throw-away key pairs, an identity provider made with pysaml2 (the
same library as the SP) served as a fasthttp App, a minimal cookie-session stand-in, and a small
browser that follows redirects and submits auto-posting forms.

The session stand-in is a dict-backed session for the one test that reads what the SP stored;
the other tests run on the real Sessions middleware. The SP only needs
``request.extras["cookie_session"]`` (a dict-like) from either.
"""

from __future__ import annotations

import datetime
import http.client
import re
import secrets
import socket
import warnings
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from fasthttp import App, Response

saml2 = pytest.importorskip("saml2", reason="pysaml2 is not installed (the saml and test extras)")

with warnings.catch_warnings():
    # pysaml2 reads cryptography's deprecated CFB name at import (a CryptographyDeprecationWarning).
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.filterwarnings("ignore", message=".*cryptography.hazmat.decrepit")
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
    from saml2.config import IdPConfig
    from saml2.metadata import create_metadata_string
    from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
    from saml2.server import Server

XMLSEC = "/usr/bin/xmlsec1"
AUTHN = {"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"}


def keypair(directory: Path, name: str) -> tuple[str, str]:
    """A self-signed RSA key pair for signing, as PEM files: (key file, certificate file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = directory / f"{name}.key", directory / f"{name}.pem"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(key_file), str(cert_file)


def bound_socket() -> socket.socket:
    """A listening-ready TCP socket on 127.0.0.1 (port known before the server starts)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class IdentityProvider:
    """A pysaml2 identity provider at *base_url*: ``metadata`` (XML), ``server`` (pysaml2's
    ``Server``), ``app()`` (its SSO and SLO endpoints as a fasthttp App). ``user`` and
    ``attributes`` are who logs in (no login form: the test decides)."""

    def __init__(self, base_url: str, key_file: str, cert_file: str, lifetime_minutes: int = 15) -> None:
        self.base_url = base_url
        self.entity_id = f"{base_url}/metadata"
        self.user = "alice"
        self.attributes: dict[str, list[str]] = {"uid": ["alice"], "mail": ["alice@example.com"], "eduPersonAffiliation": ["staff", "admin"]}
        self.settings: dict[str, Any] = {
            "entityid": self.entity_id,
            "service": {
                "idp": {
                    "endpoints": {
                        "single_sign_on_service": [
                            (f"{base_url}/sso/redirect", BINDING_HTTP_REDIRECT),
                            (f"{base_url}/sso/post", BINDING_HTTP_POST),
                        ],
                        "single_logout_service": [(f"{base_url}/slo/redirect", BINDING_HTTP_REDIRECT)],
                    },
                    "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                    "want_authn_requests_signed": True,
                    "policy": {"default": {"lifetime": {"minutes": lifetime_minutes}, "attribute_restrictions": None}},
                }
            },
            "key_file": key_file,
            "cert_file": cert_file,
            "xmlsec_binary": XMLSEC,
            "metadata": {},
        }
        self.server = self._server()
        self.metadata = _text(create_metadata_string(None, config=self.server.config, valid=24))
        self.logouts: list[str] = []  # NameIDs logged out at the IdP

    def _server(self) -> Any:
        config = IdPConfig()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            config.load(self.settings)
            return Server(config=config)

    def trust(self, sp_metadata: str) -> None:
        """Load the SP's metadata (its ACS, SLS and signing certificate)."""
        self.settings["metadata"] = {"inline": [sp_metadata]}
        self.server = self._server()

    def response(
        self,
        in_response_to: str | None,
        destination: str,
        audience: str,
        *,
        sign_assertion: bool = True,
        sign_response: bool = False,
        user: str | None = None,
    ) -> str:
        """A SAML Response (XML text) for the current user."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            resp = self.server.create_authn_response(
                dict(self.attributes),
                in_response_to,
                destination,
                audience,
                name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=user or self.user),
                sign_assertion=sign_assertion,
                sign_response=sign_response,
                authn={**AUTHN, "authn_auth": self.entity_id},
            )
        return str(resp)

    def app(self) -> App:
        app = App()
        idp = self

        def answer(message: str, binding: str, relay_state: str, sigalg: str | None, signature: str | None) -> Response:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                req = idp.server.parse_authn_request(message, binding, relay_state=relay_state, sigalg=sigalg, signature=signature)
                acs = req.message.assertion_consumer_service_url
                xml = idp.response(req.message.id, acs, req.message.issuer.text)
                info = idp.server.apply_binding(BINDING_HTTP_POST, xml, acs, relay_state, response=True)
            return Response(info["data"].encode(), 200, [(b"Content-Type", b"text/html")])

        @app.get("/sso/redirect", blocking=True)
        def sso_redirect(request):
            q = request.query_params
            return answer(q["SAMLRequest"], BINDING_HTTP_REDIRECT, q.get("RelayState", ""), q.get("SigAlg"), q.get("Signature"))

        @app.post("/sso/post", blocking=True)
        def sso_post(request):
            from fasthttp.app import from_thread

            form = from_thread(request.form())
            return answer(form["SAMLRequest"], BINDING_HTTP_POST, form.get("RelayState", ""), None, None)

        @app.get("/slo/redirect", blocking=True)
        def slo(request):
            q = request.query_params
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                req = idp.server.parse_logout_request(
                    q["SAMLRequest"], BINDING_HTTP_REDIRECT, relay_state=q.get("RelayState"), sigalg=q.get("SigAlg"), signature=q.get("Signature")
                )
                idp.logouts.append(req.message.name_id.text)
                resp = idp.server.create_logout_response(req.message, [BINDING_HTTP_REDIRECT], sign=False)
                info = idp.server.apply_binding(
                    BINDING_HTTP_REDIRECT, str(resp), resp.destination, q.get("RelayState", ""), response=True, sign=True
                )
            return Response(b"", 303, [(b"Location", dict(info["headers"])["Location"])])

        return app

    def logout_request(self, sp_sls: str, name_id: str, *, sign: bool = True) -> str:
        """The URL of an IdP-initiated LogoutRequest (HTTP-Redirect) for *name_id*."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            _, req = self.server.create_logout_request(
                sp_sls, self.entity_id, name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=name_id), sign=False
            )
            info = self.server.apply_binding(BINDING_HTTP_REDIRECT, str(req), sp_sls, "/bye", sign=sign)
        return dict(info["headers"])["Location"]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def session_stand_in(store: dict[str, dict[str, Any]] | None = None) -> Any:
    """A minimal server-side cookie session: ``request.extras["cookie_session"]`` is a dict
    kept in *store* under a random ``sid`` cookie (a stand-in for the Sessions middleware)."""
    sessions: dict[str, dict[str, Any]] = {} if store is None else store

    async def middleware(request, call_next):
        sid = request.cookies.get("sid")
        fresh = sid is None or sid not in sessions
        if fresh:
            sid = secrets.token_urlsafe(16)
            sessions[sid] = {}
        request.extras["cookie_session"] = sessions[sid]
        response = await call_next(request)
        if fresh:
            response.fields.append((b"Set-Cookie", f"sid={sid}; Path=/; HttpOnly"))
        return response

    middleware.sessions = sessions  # type: ignore[attr-defined]
    return middleware


class Browser:
    """Follows redirects, keeps cookies per origin, submits auto-posting HTML forms (what a
    browser does in the SAML flows). Every request is bounded by *timeout*."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.cookies: dict[str, dict[str, str]] = {}
        self.timeout = timeout
        self.visited: list[tuple[str, str, int]] = []

    def request(self, method: str, url: str, body: dict[str, str] | None = None) -> tuple[int, dict[str, str], str, str]:
        for _ in range(10):
            parts = urlsplit(url)
            origin = parts.netloc
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.timeout)
            headers = {}
            jar = self.cookies.setdefault(origin, {})
            if jar:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
            data = None
            if body is not None:
                data = urlencode(body).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            try:
                conn.request(method, target, body=data, headers=headers)
                resp = conn.getresponse()
                text = resp.read().decode("utf-8", "replace")
                fields = resp.getheaders()
            finally:
                conn.close()
            self.visited.append((method, url, resp.status))
            for name, value in fields:
                if name.lower() == "set-cookie":
                    pair = value.split(";", 1)[0]
                    k, _, v = pair.partition("=")
                    jar[k.strip()] = v.strip()
            lower = {k.lower(): v for k, v in fields}
            if resp.status in (301, 302, 303, 307, 308):
                location = lower["location"]
                if location.startswith("/"):
                    location = f"{parts.scheme}://{origin}{location}"
                url, method, body = location, "GET", None
                continue
            form = auto_form(text)
            if resp.status == 200 and form is not None:
                url, body = form
                method = "POST"
                continue
            return resp.status, lower, text, url
        raise AssertionError("too many redirects")


def auto_form(html: str) -> tuple[str, dict[str, str]] | None:
    """The action and fields of an auto-submitting SAML form, if *html* is one."""
    if "document.forms[0].submit()" not in html:
        return None
    action = re.search(r'<form[^>]*action="([^"]+)"', html)
    assert action is not None
    fields = {unescape(n): unescape(v) for n, v in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html)}
    return unescape(action.group(1)), fields


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
