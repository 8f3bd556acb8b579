"""fasthttp.middleware.saml: the SAML 2.0 service provider against a pysaml2 identity provider.

End to end over loopback sockets (both loops): a protected page, the HTTP-Redirect AuthnRequest,
the provider's auto-posting form, the ACS, the session, the groups and attributes, then single
logout. In process: the HTTP-POST binding, the metadata, IdP-initiated logout, and hostile
responses: unsigned, expired, for another audience or recipient, unsolicited, replayed, signed
by another key, tampered, XML signature wrapping (three placements), and garbage (each a 403 or
a 400, never a 500, and never a login).

The cookie session is the real Sessions middleware (signed cookies; ``secure=False`` because the
tests speak plain HTTP on loopback), except in the POST-binding test, which reads what was stored
and so uses ``helpers_saml.session_stand_in``, a dict-backed session.
"""

from __future__ import annotations

import base64
import re
import shutil
from pathlib import Path

import pytest
from helpers_saml import Browser, IdentityProvider, bound_socket, keypair, query_of, session_stand_in
from helpers_server import LOOPS

from fasthttp import App
from fasthttp.middleware import Authorize, Sessions, in_group, is_authenticated
from fasthttp.middleware.saml import SamlServiceProvider, safe_next
from fasthttp.runners import ServerThread
from fasthttp.testing import TestClient

pytestmark = pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="xmlsec1 is not installed (apt-get install xmlsec1)")

SP_URL = "http://sp.test"
IDP_URL = "http://idp.test"


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    directory = tmp_path_factory.mktemp("saml")
    return {name: keypair(directory, name) for name in ("idp", "sp", "attacker")}


def make_sp(keys, idp, base_url=SP_URL, **options):
    return SamlServiceProvider(
        base_url=base_url,
        idp_metadata=idp.metadata,
        key_file=keys["sp"][0],
        cert_file=keys["sp"][1],
        attributes={"mail": "email"},
        user_attribute="uid",
        groups_attribute="eduPersonAffiliation",
        **options,
    )


def sp_app(sp, sessions=None):
    app = App()
    app.add_middleware(sessions or Sessions(secret_keys=["saml-tests-" + "k" * 32], secure=False))
    app.add_middleware(sp)

    @app.get("/")
    def home(request):
        user = request.user
        session = request.extras["cookie_session"]
        return {
            "user": user.name if user else None,
            "groups": sorted(user.groups) if user else [],
            "email": session.get("email"),
        }

    app.get("/private", middleware=[Authorize(is_authenticated, login=sp.login_redirect)])(home)
    app.get("/admin", middleware=[Authorize(in_group("admin"))])(home)
    return app


@pytest.fixture(scope="module")
def idp(keys):
    return IdentityProvider(IDP_URL, *keys["idp"])


@pytest.fixture(scope="module")
def sp(keys, idp):
    provider = make_sp(keys, idp)
    with TestClient(sp_app(provider)) as client:
        idp.trust(client.get("/saml/metadata").text)
    return provider


def start_login(client, idp, next_path="/private"):
    """GET the SP's login; the IdP parses the (signed) AuthnRequest: (request id, ACS URL)."""
    resp = client.get(f"/saml/login?next={next_path}")
    assert resp.status == 303
    q = query_of(resp.headers["location"])
    assert resp.headers["location"].startswith(f"{IDP_URL}/sso/redirect?") and "Signature" in q
    from saml2 import BINDING_HTTP_REDIRECT

    req = idp.server.parse_authn_request(q["SAMLRequest"], BINDING_HTTP_REDIRECT, relay_state=q["RelayState"], sigalg=q["SigAlg"], signature=q["Signature"])
    return req.message.id, req.message.assertion_consumer_service_url


def post_response(client, xml, relay="/private"):
    encoded = base64.b64encode(xml.encode() if isinstance(xml, str) else xml).decode()
    return client.post("/saml/acs", form={"SAMLResponse": encoded, "RelayState": relay})


# -- end to end over sockets -----------------------------------------------------------------------


@pytest.mark.parametrize("loop_kind", LOOPS)
def test_login_and_single_logout_end_to_end_over_sockets(keys, loop_kind):
    sp_sock, idp_sock = bound_socket(), bound_socket()
    sp_url = "http://127.0.0.1:%d" % sp_sock.getsockname()[1]
    idp_url = "http://127.0.0.1:%d" % idp_sock.getsockname()[1]
    idp = IdentityProvider(idp_url, *keys["idp"])
    provider = make_sp(keys, idp, base_url=sp_url)
    app = sp_app(provider)
    uvloop = loop_kind == "uvloop"
    with ServerThread(app, sp_sock, use_uvloop=uvloop), ServerThread(idp.app(), idp_sock, use_uvloop=uvloop):
        browser = Browser()
        status, _, metadata, _ = browser.request("GET", f"{sp_url}/saml/metadata")
        assert status == 200
        idp.trust(metadata)
        browser.visited.clear()
        status, _, body, url = browser.request("GET", f"{sp_url}/private")
        assert status == 200 and url == f"{sp_url}/private"
        assert body == '{"user":"alice","groups":["admin","staff"],"email":"alice@example.com"}'
        hops = [(m, u.split("?")[0], s) for m, u, s in browser.visited]
        assert hops == [
            ("GET", f"{sp_url}/private", 303),
            ("GET", f"{sp_url}/saml/login", 303),
            ("GET", f"{idp_url}/sso/redirect", 200),
            ("POST", f"{sp_url}/saml/acs", 303),
            ("GET", f"{sp_url}/private", 200),
        ]
        assert browser.request("GET", f"{sp_url}/admin")[0] == 200
        browser.visited.clear()
        status, _, body, url = browser.request("GET", f"{sp_url}/saml/logout?next=/")
        assert status == 200 and body == '{"user":null,"groups":[],"email":null}'
        assert [u.split("?")[0] for _, u, _ in browser.visited] == [
            f"{sp_url}/saml/logout",
            f"{idp_url}/slo/redirect",
            f"{sp_url}/saml/sls",
            f"{sp_url}/",
        ]
        assert idp.logouts == ["alice"]
        assert browser.request("GET", f"{sp_url}/admin")[0] == 401


# -- in process ------------------------------------------------------------------------------------


def test_metadata_names_the_endpoints_and_the_signing_certificate(sp, keys):
    with TestClient(sp_app(sp)) as client:
        resp = client.get("/saml/metadata")
    assert resp.status == 200 and resp.headers["content-type"] == "application/samlmetadata+xml"
    text = resp.text
    assert f'entityID="{SP_URL}/saml/metadata"' in text
    assert f'Location="{SP_URL}/saml/acs"' in text and f'Location="{SP_URL}/saml/sls"' in text
    cert = "".join(Path(keys["sp"][1]).read_text().splitlines()[1:-1])
    assert cert in text.replace("\n", "")
    assert 'WantAssertionsSigned="true"' in text and 'AuthnRequestsSigned="true"' in text


def test_login_with_the_post_binding_and_the_session_holds_the_attributes(keys, idp, sp):
    post_sp = make_sp(keys, idp, binding="post")
    sessions = session_stand_in()
    with TestClient(sp_app(post_sp, sessions)) as client:
        form = client.get("/saml/login?next=/admin")
        assert form.status == 200 and form.headers["content-type"].startswith("text/html")
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.text))
        assert f'action="{IDP_URL}/sso/post"' in form.text
        from saml2 import BINDING_HTTP_POST

        req = idp.server.parse_authn_request(fields["SAMLRequest"], BINDING_HTTP_POST)  # signed in the XML
        pending = form.headers["set-cookie"]
        assert pending.startswith("saml_pending=") and "Path=/saml" in pending and "HttpOnly" in pending
        assert "SameSite=Lax" in pending  # over plain http; SameSite=None; Secure over https
        done = post_response(client, idp.response(req.message.id, req.message.assertion_consumer_service_url, sp.entity_id))
        assert done.status == 303 and done.headers["location"] == "/admin"
        assert any(c.startswith("saml_pending=;") and "Max-Age=0" in c for c in done.headers.getall("set-cookie"))
        assert client.get("/admin").json() == {"user": "alice", "groups": ["admin", "staff"], "email": "alice@example.com"}
    (session,) = sessions.sessions.values()
    assert session["saml"]["attributes"]["mail"] == ["alice@example.com"] and session["email"] == "alice@example.com"


def logged_in_client(sp, idp, sessions=None):
    client = TestClient(sp_app(sp, sessions))
    client.__enter__()
    request_id, acs = start_login(client, idp)
    assert post_response(client, idp.response(request_id, acs, sp.entity_id)).status == 303
    assert client.get("/").json()["user"] == "alice"
    return client


def test_idp_initiated_logout_needs_a_valid_signature(sp, idp):
    client = logged_in_client(sp, idp)
    try:
        unsigned = client.get(idp.logout_request(f"{SP_URL}/saml/sls", "alice", sign=False).replace(SP_URL, ""))
        assert unsigned.status == 403 and client.get("/").json()["user"] == "alice"
        other_user = client.get(idp.logout_request(f"{SP_URL}/saml/sls", "bob").replace(SP_URL, ""))
        assert other_user.status == 303 and client.get("/").json()["user"] == "alice"
        resp = client.get(idp.logout_request(f"{SP_URL}/saml/sls", "alice").replace(SP_URL, ""))
        assert resp.status == 303 and resp.headers["location"].startswith(f"{IDP_URL}/slo/redirect?SAMLResponse=")
        assert "Signature" in query_of(resp.headers["location"])
        assert client.get("/").json() == {"user": None, "groups": [], "email": None}
    finally:
        client.close()


def test_a_forged_logout_response_is_refused(sp, idp):
    client = logged_in_client(sp, idp)
    try:
        assert client.get("/saml/sls?SAMLResponse=abc").status == 403  # no signature
        assert client.get("/saml/sls?SAMLResponse=abc&SigAlg=x&Signature=eA==").status == 403
        assert client.get("/saml/sls").status == 400
    finally:
        client.close()


def test_login_next_is_local_only():
    assert safe_next("/a?b=c", "/") == "/a?b=c"
    for hostile in ("//evil.example/", "/\\evil.example", "https://evil.example/", "", None, "/a\r\nb", "javascript:x"):
        assert safe_next(hostile, "/home") == "/home"


def test_without_a_cookie_session_the_error_names_the_sessions_middleware(sp):
    app = App()
    app.add_middleware(sp)
    app.get("/")(lambda request: "x")
    with TestClient(app) as client, pytest.raises(RuntimeError, match="Sessions middleware"):
        client.get("/saml/login")
    with TestClient(app) as client:
        assert client.get("/").text == "x"  # other paths do not need it


def test_constructor_checks(keys, idp):
    with pytest.raises(ValueError):
        make_sp(keys, idp, binding="artifact")
    with pytest.raises(ValueError):
        make_sp(keys, idp, prefix="saml")
    with pytest.raises(ValueError):
        make_sp(keys, idp, idp_entity_id="http://unknown.example/metadata")
    with pytest.raises(RuntimeError, match="xmlsec1"):
        make_sp(keys, idp, xmlsec_binary="/nonexistent/xmlsec1")


# -- hostile responses -----------------------------------------------------------------------------


# pysaml2 picks namespace prefixes (ns1:, saml:, ...) as its registry stands: match any.
ASSERTION = re.compile(r"<(\w+:)?Assertion[ >].*?</(\w+:)?Assertion>", re.S)
SIGNATURE = re.compile(r"<(\w+:)?Signature[ >].*?</(\w+:)?Signature>", re.S)


def as_mallory(xml):
    xml = re.sub(r">alice</(\w+:)?NameID>", r">mallory</\1NameID>", xml)
    return re.sub(r"(<(\w+:)?AttributeValue[^>]*>)alice<", r"\1mallory<", xml)


def evil_copy(signed_assertion, same_id=False):
    evil = as_mallory(SIGNATURE.sub("", signed_assertion))
    if not same_id:
        evil = re.sub(r'ID="[^"]+"', 'ID="id-evil0000000000"', evil, count=1)
    return evil


def wrapped(xml, how):
    found = ASSERTION.search(xml)
    original = found.group(0)
    if how == "evil-first":
        return xml.replace(original, evil_copy(original) + original)
    if how == "evil-first-same-id":
        return xml.replace(original, evil_copy(original, same_id=True) + original)
    if how == "original-inside-evil":
        close = f"</{found.group(2) or ''}Assertion>"
        evil = evil_copy(original)
        return xml.replace(original, evil[: -len(close)] + original + close)
    if how == "original-in-extensions":
        swapped = xml.replace(original, evil_copy(original))
        protocol = re.search(r"<(\w+:)?Response[ >]", swapped).group(1) or ""
        issuer_end = re.search(r"</(\w+:)?Issuer>", swapped).end()  # the Response's Issuer
        return swapped[:issuer_end] + f"<{protocol}Extensions>{original}</{protocol}Extensions>" + swapped[issuer_end:]
    raise AssertionError(how)


@pytest.fixture
def hostile(sp, idp):
    with TestClient(sp_app(sp), raise_server_exceptions=True) as client:
        request_id, acs = start_login(client, idp)
        yield client, request_id, acs
        assert client.get("/").json()["user"] is None, "a hostile response logged someone in"


@pytest.mark.parametrize("how", ["evil-first", "evil-first-same-id", "original-inside-evil", "original-in-extensions"])
def test_xml_signature_wrapping_is_refused(hostile, idp, sp, how):
    client, request_id, acs = hostile
    xml = wrapped(idp.response(request_id, acs, sp.entity_id), how)
    assert xml.count("mallory") >= 1
    assert post_response(client, xml).status == 403


def test_unsigned_assertion_is_refused(hostile, idp, sp):
    client, request_id, acs = hostile
    assert post_response(client, idp.response(request_id, acs, sp.entity_id, sign_assertion=False)).status == 403


def test_a_response_signed_but_not_its_assertion_is_refused(hostile, idp, sp):
    client, request_id, acs = hostile
    xml = idp.response(request_id, acs, sp.entity_id, sign_assertion=False, sign_response=True)
    assert post_response(client, xml).status == 403


def test_tampered_assertion_is_refused(hostile, idp, sp):
    client, request_id, acs = hostile
    xml = as_mallory(idp.response(request_id, acs, sp.entity_id))
    assert "mallory" in xml
    assert post_response(client, xml).status == 403


def test_expired_assertion_is_refused(hostile, keys, sp):
    client, request_id, acs = hostile
    stale_idp = IdentityProvider(IDP_URL, *keys["idp"], lifetime_minutes=-10)  # same key, past validity
    with TestClient(sp_app(sp)) as other:
        stale_idp.trust(other.get("/saml/metadata").text)
    xml = stale_idp.response(request_id, acs, sp.entity_id)
    assert "NotOnOrAfter" in xml
    assert post_response(client, xml).status == 403


def test_another_audience_or_recipient_is_refused(hostile, idp, sp):
    client, request_id, acs = hostile
    assert post_response(client, idp.response(request_id, acs, "http://other.example/saml/metadata")).status == 403
    assert post_response(client, idp.response(request_id, "http://other.example/saml/acs", sp.entity_id)).status == 403


def test_unsolicited_and_replayed_responses_are_refused(sp, idp):
    with TestClient(sp_app(sp)) as client:
        assert post_response(client, idp.response(None, f"{SP_URL}/saml/acs", sp.entity_id)).status == 403
        assert post_response(client, idp.response("id-never-asked", f"{SP_URL}/saml/acs", sp.entity_id)).status == 403
        request_id, acs = start_login(client, idp)
        xml = idp.response(request_id, acs, sp.entity_id)
        assert post_response(client, xml).status == 303
        client.get("/saml/logout")  # local logout (the IdP is not reachable in process: redirect only)
        assert client.get("/").json()["user"] is None
        assert post_response(client, xml).status == 403  # consumed: no longer outstanding
        assert client.get("/").json()["user"] is None
        # Replayed with the pending cookie of that login too (a captured browser state): the
        # assertion ID was used.
        request_id2, _ = start_login(client, idp)
        stolen = client.cookies["saml_pending"]
        replay = idp.response(request_id2, acs, sp.entity_id)
        assert post_response(client, replay).status == 303
        client.get("/saml/logout")
        client.cookies["saml_pending"] = stolen
        assert post_response(client, replay).status == 403  # the same assertion again: refused
        assert client.get("/").json()["user"] is None


def test_a_forged_pending_cookie_is_ignored(sp, idp):
    with TestClient(sp_app(sp)) as client:
        request_id, acs = start_login(client, idp)
        value, path, secure, expires = client.cookies["saml_pending"]
        body, mac = value.rsplit(".", 1)
        forged = base64.urlsafe_b64encode(base64.urlsafe_b64decode(body + "==").replace(request_id.encode(), b"id-attacker00000000")).rstrip(b"=").decode()
        client.cookies["saml_pending"] = (f"{forged}.{mac}", path, secure, expires)
        resp = post_response(client, idp.response("id-attacker00000000", acs, sp.entity_id))
        assert resp.status == 403 and client.get("/").json()["user"] is None


def test_a_response_signed_by_another_key_is_refused(hostile, keys, sp):
    client, request_id, acs = hostile
    impostor = IdentityProvider(IDP_URL, *keys["attacker"])  # same entity ID, its own key
    with TestClient(sp_app(sp)) as other:
        impostor.trust(other.get("/saml/metadata").text)
    assert post_response(client, impostor.response(request_id, acs, sp.entity_id)).status == 403


@pytest.mark.parametrize("payload", [b"not base64 !!!", base64.b64encode(b"<not-xml"), base64.b64encode(b"plain text"), base64.b64encode(b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>")])
def test_garbage_is_400_or_403_never_500(hostile, payload):
    client, _, _ = hostile
    resp = client.post("/saml/acs", form={"SAMLResponse": payload.decode("latin-1")})
    assert resp.status in (400, 403)


def test_a_missing_saml_response_is_400(hostile):
    client, _, _ = hostile
    assert client.post("/saml/acs", form={"RelayState": "/"}).status == 400


class LoaderSession(dict):
    regenerated = 0

    def regenerate(self):
        LoaderSession.regenerated += 1


def test_a_session_published_as_a_loader_is_loaded_and_regenerated_at_login(sp, idp):
    # The Sessions middleware may publish a loader (request) -> session, made on first use.
    store = {}

    async def lazy_sessions(request, call_next):
        request.extras["cookie_session"] = lambda request: store.setdefault("s", LoaderSession())
        return await call_next(request)

    app = App()
    app.add_middleware(lazy_sessions)
    app.add_middleware(sp)
    app.get("/")(lambda request: {"user": request.user.name if request.user else None})
    with TestClient(app) as client:
        request_id, acs = start_login(client, idp)
        assert post_response(client, idp.response(request_id, acs, sp.entity_id)).status == 303
        assert client.get("/").json() == {"user": "alice"}
    assert LoaderSession.regenerated == 1 and store["s"]["saml"]["name"] == "alice"


def test_over_https_the_pending_cookie_is_samesite_none_and_secure(keys, idp):
    # The provider posts the response cross-site: only a SameSite=None cookie comes back with it.
    secure_sp = make_sp(keys, idp, base_url="https://sp.test")
    with TestClient(sp_app(secure_sp), base_url="https://sp.test") as client:
        resp = client.get("/saml/login?next=/")
    cookie = resp.headers["set-cookie"]
    assert "SameSite=None" in cookie and "Secure" in cookie and "Path=/saml" in cookie
