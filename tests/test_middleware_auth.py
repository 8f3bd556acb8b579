"""fasthttp.middleware.auth: Basic (RFC 7617), Digest (RFC 7616) and Bearer (RFC 6750).

Through the App (app-wide and per route), with hostile input (malformed fields are 400 or 401,
never 500; Digest replays, stale, forged and foreign nonces, another realm or uri), the
constant-time comparisons, and real clients over loopback sockets: curl (``--basic``,
``--digest``, ``--oauth2-bearer``) and ``urllib.request``'s Basic and Digest handlers.
"""

from __future__ import annotations

import base64
import hmac
import shutil
import subprocess
import urllib.error
import urllib.request

import pytest
from helpers_auth import basic, challenge_params, digest, digest_challenges
from helpers_server import LOOPS

from fasthttp import App
from fasthttp.identity import Identity
from fasthttp.middleware import BasicAuth, BearerAuth, DigestAuth, passwords_match
from fasthttp.middleware.auth import parse_authorization
from fasthttp.runners import ServerThread
from fasthttp.testing import TestClient

USERS = {"alice": "wonderland", "bob": "builder", "zoë": "pässwörd"}


def whoami(request):
    user = request.user
    return {"user": None if user is None else user.name, "groups": sorted(user.groups) if user else [], "scheme": user.scheme if user else None}


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# -- the Authorization grammar -------------------------------------------------------------------


def test_parse_authorization_reads_token68_and_auth_params():
    assert parse_authorization("Basic dXNlcjpwYXNz") == ("basic", "dXNlcjpwYXNz")
    assert parse_authorization("Bearer abc.def-ghi_~+/==") == ("bearer", "abc.def-ghi_~+/==")
    scheme, params = parse_authorization('Digest username="a\\"b", realm="r, s", nc=00000001, ,qop=auth')
    assert scheme == "digest" and params == {"username": 'a"b', "realm": "r, s", "nc": "00000001", "qop": "auth"}
    assert parse_authorization("Negotiate") == ("negotiate", "")
    for bad in ['Digest a="b', "Digest a=b, a=c", "Digest =b", "", "Basic a b", 'Digest a="\x01"']:
        with pytest.raises(ValueError):
            parse_authorization(bad)


# -- Basic ---------------------------------------------------------------------------------------


def basic_app(**options):
    app = App()
    app.add_middleware(BasicAuth(lambda u, p: USERS.get(u) is not None and passwords_match(p, USERS[u]), **options))
    app.get("/me")(whoami)
    return app


def test_basic_accepts_valid_credentials_and_publishes_the_user():
    with TestClient(basic_app()) as client:
        ok = client.get("/me", headers=basic("alice", "wonderland"))
        utf8 = client.get("/me", headers=basic("zoë", "pässwörd"))
        colon = client.get("/me", headers=basic("bob", "builder"))
    assert ok.status == 200 and ok.json() == {"user": "alice", "groups": [], "scheme": "basic"}
    assert utf8.json()["user"] == "zoë"
    assert colon.status == 200


def test_basic_refuses_with_401_and_its_challenge():
    with TestClient(basic_app(realm='staff "only"')) as client:
        missing = client.get("/me")
        wrong = client.get("/me", headers=basic("alice", "nope"))
        unknown = client.get("/me", headers=basic("mallory", "wonderland"))
        other_scheme = client.get("/me", headers={"Authorization": "Bearer abc"})
    for resp in (missing, wrong, unknown, other_scheme):
        assert resp.status == 401
        assert resp.headers.getall("www-authenticate") == ['Basic realm="staff \\"only\\"", charset="UTF-8"']
        scheme, params = challenge_params(resp.headers["www-authenticate"])
        assert scheme == "basic" and params["realm"] == 'staff "only"'


@pytest.mark.parametrize(
    "value",
    [
        "Basic",  # no credentials
        "Basic !!!!",  # not base64
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),  # not UTF-8
        "Basic " + base64.b64encode(b"al\x01ice:x").decode(),  # control character (RFC 7617 §2)
        "Basic " + base64.b64encode(b"alice:wonder\nland").decode(),
        "Basic a=b, c=d",  # auth-params where a token68 belongs
        'Basic x="unterminated',
    ],
)
def test_malformed_basic_credentials_are_400_never_500(value):
    with TestClient(basic_app()) as client:
        resp = client.get("/me", headers={"Authorization": value})
    assert resp.status == 400


def test_two_authorization_fields_are_400():
    with TestClient(basic_app()) as client:
        resp = client.get("/me", headers=[("Authorization", basic("alice", "wonderland")["Authorization"])] * 2)
    assert resp.status == 400


def test_basic_with_users_mapping_async_verify_and_identity_with_groups():
    app = App()

    async def verify(user, password):
        if user == "carol" and passwords_match(password, "s3cret"):
            return Identity("carol", {"admin", "staff"})
        return None

    app.get("/mapped", middleware=[BasicAuth(users={"dave": "pw"})])(whoami)
    app.get("/async", middleware=[BasicAuth(verify)])(whoami)
    app.get("/public")(whoami)
    with TestClient(app) as client:
        assert client.get("/mapped", headers=basic("dave", "pw")).json()["user"] == "dave"
        assert client.get("/mapped", headers=basic("dave", "PW")).status == 401
        assert client.get("/mapped", headers=basic("nobody", "pw")).status == 401
        carol = client.get("/async", headers=basic("carol", "s3cret")).json()
        assert client.get("/async", headers=basic("carol", "x")).status == 401
        public = client.get("/public").json()
    assert carol == {"user": "carol", "groups": ["admin", "staff"], "scheme": "basic"}
    assert public["user"] is None  # a route without the middleware: anonymous, request.user None


def test_a_verify_callable_returning_something_odd_is_a_clear_500_not_access():
    app = App()
    app.get("/", middleware=[BasicAuth(lambda u, p: 1)])(whoami)
    with TestClient(app, raise_server_exceptions=False) as client:
        resp = client.get("/", headers=basic("a", "b"))
    assert resp.status == 500
    with TestClient(app) as client, pytest.raises(TypeError, match="verify callable returns an Identity"):
        client.get("/", headers=basic("a", "b"))


def test_constructor_checks():
    with pytest.raises(TypeError):
        BasicAuth()
    with pytest.raises(TypeError):
        BasicAuth(lambda u, p: True, users={})
    with pytest.raises(ValueError):
        BasicAuth(users={}, realm="a\r\nb")
    with pytest.raises(ValueError):
        DigestAuth("r", lambda u: None, algorithms=("SHA-512-256",))
    with pytest.raises(TypeError):
        BearerAuth("not callable")  # type: ignore[arg-type]


# -- Digest --------------------------------------------------------------------------------------


def digest_app(clock=None, **options):
    app = App()
    auth = DigestAuth("staff@example.com", USERS.get, clock=clock or Clock(), **options)
    app.add_middleware(auth)
    app.get("/me")(whoami)
    app.post("/me")(whoami)
    return app, auth


def first_challenge(client, algorithm="SHA-256", path="/me"):
    resp = client.get(path)
    assert resp.status == 401
    return next(c for c in digest_challenges(resp) if c["algorithm"] == algorithm)


def test_digest_challenges_offer_sha256_then_md5_with_qop_auth():
    app, _ = digest_app()
    with TestClient(app) as client:
        resp = client.get("/me")
    values = resp.headers.getall("www-authenticate")
    assert resp.status == 401 and len(values) == 2
    first, second = digest_challenges(resp)
    assert first["algorithm"] == "SHA-256" and second["algorithm"] == "MD5"
    for c in (first, second):
        assert c["realm"] == "staff@example.com" and c["qop"] == "auth" and c["charset"] == "UTF-8"
        assert c["nonce"] and c["opaque"] and "stale" not in c


@pytest.mark.parametrize("algorithm", ["SHA-256", "MD5"])
def test_digest_accepts_a_correct_response(algorithm):
    app, _ = digest_app()
    with TestClient(app) as client:
        c = first_challenge(client, algorithm)
        ok = client.get("/me", headers=digest(c, "alice", "wonderland", "GET", "/me"))
        again = client.get("/me", headers=digest(c, "alice", "wonderland", "GET", "/me", nc=2))
        post = client.post("/me", headers=digest(c, "alice", "wonderland", "POST", "/me", nc=3))
    assert ok.status == 200 and ok.json() == {"user": "alice", "groups": [], "scheme": "digest"}
    assert again.status == 200 and post.status == 200


def test_digest_username_star_carries_a_utf8_name():
    app, _ = digest_app()
    with TestClient(app) as client:
        c = first_challenge(client)
        headers = digest(c, "zoë", "pässwörd", "GET", "/me")
        value = headers["Authorization"].replace('username="zoë"', "username*=UTF-8''zo%C3%AB")
        resp = client.get("/me", headers={"Authorization": value.encode("utf-8").decode("latin-1")})
    assert resp.status == 200 and resp.json()["user"] == "zoë"


def test_digest_username_as_raw_utf8_bytes():
    app, _ = digest_app()
    with TestClient(app) as client:
        c = first_challenge(client)
        value = digest(c, "zoë", "pässwörd", "GET", "/me")["Authorization"]
        resp = client.get("/me", headers={"Authorization": value.encode("utf-8").decode("latin-1")})
    assert resp.status == 200 and resp.json()["user"] == "zoë"


def test_digest_replayed_nonce_count_is_refused():
    app, _ = digest_app()
    with TestClient(app) as client:
        c = first_challenge(client)
        headers = digest(c, "alice", "wonderland", "GET", "/me", nc=5)
        first = client.get("/me", headers=headers)
        replay = client.get("/me", headers=headers)  # the same nc again: a replay
        lower = client.get("/me", headers=digest(c, "alice", "wonderland", "GET", "/me", nc=3))  # in the window, unseen
        lower_again = client.get("/me", headers=digest(c, "alice", "wonderland", "GET", "/me", nc=3))
        far_back = client.get("/me", headers=digest(c, "alice", "wonderland", "GET", "/me", nc=200))
        outside = client.get("/me", headers=digest(c, "alice", "wonderland", "GET", "/me", nc=100))  # 100 below 200
    assert first.status == 200
    assert replay.status == 401 and replay.text == "Unauthorized: nonce-count replayed"
    assert all("stale" not in ch for ch in digest_challenges(replay))
    assert lower.status == 200 and lower_again.status == 401
    assert far_back.status == 200 and outside.status == 401


def test_digest_stale_nonce_gets_stale_true_and_the_new_nonce_works():
    clock = Clock()
    app, _ = digest_app(clock, nonce_lifetime=60)
    with TestClient(app) as client:
        c = first_challenge(client)
        assert client.get("/me", headers=digest(c, "alice", "wonderland", "GET", "/me")).status == 200
        clock.now += 61
        stale = client.get("/me", headers=digest(c, "alice", "wonderland", "GET", "/me", nc=2))
        wrong_and_stale = client.get("/me", headers=digest(c, "alice", "nope", "GET", "/me", nc=3))
        fresh = next(ch for ch in digest_challenges(stale) if ch["algorithm"] == "SHA-256")
        ok = client.get("/me", headers=digest(fresh, "alice", "wonderland", "GET", "/me"))
    assert stale.status == 401 and all(ch.get("stale") == "true" for ch in digest_challenges(stale))
    # RFC 7616 §3.3: stale only when the response was otherwise valid.
    assert wrong_and_stale.status == 401 and all("stale" not in ch for ch in digest_challenges(wrong_and_stale))
    assert ok.status == 200


def test_digest_forged_foreign_and_garbled_nonces_are_401():
    app, _ = digest_app()
    other_app, _ = digest_app()  # another instance: another secret
    with TestClient(other_app) as other:
        foreign = first_challenge(other)
    with TestClient(app) as client:
        c = first_challenge(client)
        raw = bytearray(base64.urlsafe_b64decode(c["nonce"]))
        raw[0] ^= 1  # move the issue time: the MAC no longer matches
        forged = dict(c, nonce=base64.urlsafe_b64encode(bytes(raw)).decode())
        responses = [
            client.get("/me", headers=digest(forged, "alice", "wonderland", "GET", "/me")),
            client.get("/me", headers=digest(dict(foreign, opaque=c["opaque"]), "alice", "wonderland", "GET", "/me")),
            client.get("/me", headers=digest(dict(c, nonce="!!not base64!!"), "alice", "wonderland", "GET", "/me")),
            client.get("/me", headers=digest(dict(c, nonce="c2hvcnQ="), "alice", "wonderland", "GET", "/me")),
        ]
    for resp in responses:
        assert resp.status == 401 and resp.text == "Unauthorized: unknown nonce"


def test_digest_wrong_password_unknown_user_realm_algorithm_qop_opaque_are_401():
    app, _ = digest_app(algorithms=("SHA-256",))
    with TestClient(app) as client:
        c = first_challenge(client)
        md5 = dict(c, algorithm="MD5")
        cases = {
            "password": digest(c, "alice", "wrong", "GET", "/me"),
            "user": digest(c, "mallory", "wonderland", "GET", "/me"),
            "realm": digest(c, "alice", "wonderland", "GET", "/me", realm="other"),
            "algorithm": digest(md5, "alice", "wonderland", "GET", "/me"),
            "qop": digest(c, "alice", "wonderland", "GET", "/me", qop="auth-int"),
            "opaque": digest(c, "alice", "wonderland", "GET", "/me", opaque="0000"),
            "userhash": digest(c, "alice", "wonderland", "GET", "/me", userhash="true"),
            "method": digest(c, "alice", "wonderland", "POST", "/me"),  # signed for another method
        }
        results = {name: client.get("/me", headers=h) for name, h in cases.items()}
    for name, resp in results.items():
        assert resp.status == 401, name
        assert [ch["algorithm"] for ch in digest_challenges(resp)] == ["SHA-256"], name


@pytest.mark.parametrize(
    "change",
    [
        {"digest_uri": "/other"},  # RFC 7616 §3.4.6: the digest-uri must be the request-target
        {"username": None},
        {"nonce": None},
        {"response": None},
        {"cnonce": None},
        {"nc": None},
        {"nc": ""},
        {"nc": "1"},
        {"nc": "0000000g"},
        {"nc": "00000000"},
        {"username*": "latin-1''x"},
    ],
    ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()),
)
def test_digest_malformed_credentials_are_400(change):
    app, _ = digest_app()
    with TestClient(app) as client:
        c = first_challenge(client)
        resp = client.get("/me", headers=digest(c, "alice", "wonderland", "GET", "/me", **change))
    assert resp.status == 400


@pytest.mark.parametrize(
    "value",
    ["Digest", "Digest abc", 'Digest username="a", username="b"', "Digest username=\"a\", realm=\"staff@example.com\", nonce=\"x\", uri=\"/me\", response=\"x\", username*=UTF-8''a"],
)
def test_digest_garbage_is_400_never_500(value):
    app, _ = digest_app()
    with TestClient(app) as client:
        resp = client.get("/me", headers={"Authorization": value})
    assert resp.status == 400


def test_digest_replay_table_is_bounded_and_a_forgotten_nonce_is_stale_not_replayable():
    clock = Clock()
    app, auth = digest_app(clock, max_nonces=3)
    with TestClient(app) as client:
        challenges = []
        for _ in range(5):
            challenges.append(first_challenge(client))
            clock.now += 0.01
        first = digest(challenges[0], "alice", "wonderland", "GET", "/me")
        assert client.get("/me", headers=first).status == 200
        for c in challenges[1:]:
            assert client.get("/me", headers=digest(c, "alice", "wonderland", "GET", "/me")).status == 200
        assert len(auth._counts.table) == 3
        replay = client.get("/me", headers=first)  # its count was forgotten: must not pass
    assert replay.status == 401 and all(ch.get("stale") == "true" for ch in digest_challenges(replay))


def test_digest_identify_gives_groups_and_an_async_get_password_works():
    async def get_password(user):
        return USERS.get(user)

    app = App()
    auth = DigestAuth("r", get_password, identify=lambda u: Identity(u, ["ops"]), clock=Clock())
    app.get("/me", middleware=[auth])(whoami)
    with TestClient(app) as client:
        c = first_challenge(client)
        resp = client.get("/me", headers=digest(c, "bob", "builder", "GET", "/me"))
    assert resp.json() == {"user": "bob", "groups": ["ops"], "scheme": "digest"}


# -- Bearer --------------------------------------------------------------------------------------


TOKENS = {"t0ken-alice": Identity("alice", ["admin"])}


def bearer_verify(token):
    for known, identity in TOKENS.items():
        if passwords_match(token, known):
            return identity
    return None


def test_bearer_accepts_a_valid_token_and_refuses_with_rfc6750_errors():
    app = App()
    app.add_middleware(BearerAuth(bearer_verify, realm="api"))
    app.get("/me")(whoami)
    with TestClient(app) as client:
        ok = client.get("/me", headers={"Authorization": "Bearer t0ken-alice"})
        missing = client.get("/me")
        invalid = client.get("/me", headers={"Authorization": "Bearer wrong"})
        malformed = client.get("/me", headers={"Authorization": "Bearer a b"})
        empty = client.get("/me", headers={"Authorization": "Bearer"})
        params = client.get("/me", headers={"Authorization": 'Bearer token="x"'})
    assert ok.json() == {"user": "alice", "groups": ["admin"], "scheme": "bearer"}
    assert missing.status == 401 and missing.headers.getall("www-authenticate") == ['Bearer realm="api"']
    assert invalid.status == 401 and invalid.headers["www-authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert malformed.status == 400
    for resp in (empty, params):
        assert resp.status == 400 and resp.headers["www-authenticate"] == 'Bearer realm="api", error="invalid_request"'


def test_bearer_verify_returning_true_is_a_type_error():
    app = App()
    app.get("/", middleware=[BearerAuth(lambda t: True)])(whoami)
    with TestClient(app) as client, pytest.raises(TypeError, match="not True"):
        client.get("/", headers={"Authorization": "Bearer x"})


# -- several schemes -----------------------------------------------------------------------------


def test_optional_schemes_offer_every_challenge_and_either_authenticates():
    app = App()
    app.add_middleware(BasicAuth(users=USERS, required=False))
    app.add_middleware(BearerAuth(bearer_verify))
    app.get("/me")(whoami)
    with TestClient(app) as client:
        none = client.get("/me")
        by_basic = client.get("/me", headers=basic("alice", "wonderland"))
        by_bearer = client.get("/me", headers={"Authorization": "Bearer t0ken-alice"})
        bad_basic = client.get("/me", headers=basic("alice", "x"))
    assert none.status == 401
    assert none.headers.getall("www-authenticate") == ['Basic realm="fasthttp", charset="UTF-8"', 'Bearer realm="fasthttp"']
    assert by_basic.json()["scheme"] == "basic" and by_bearer.json()["scheme"] == "bearer"
    assert bad_basic.status == 401  # wrong credentials never fall back to anonymous


def test_optional_auth_lets_anonymous_requests_through():
    app = App()
    app.add_middleware(BasicAuth(users=USERS, required=False))
    app.get("/me")(whoami)
    with TestClient(app) as client:
        assert client.get("/me").json()["user"] is None
        assert client.get("/me", headers=basic("alice", "wonderland")).json()["user"] == "alice"


# -- constant time -------------------------------------------------------------------------------


def test_secrets_are_compared_with_hmac_compare_digest(monkeypatch):
    """No timed test: the comparisons are checked to go through hmac.compare_digest."""
    seen = []
    real = hmac.compare_digest

    def spy(a, b):
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    app, _ = digest_app()
    app.get("/basic", middleware=[BasicAuth(users=USERS)])(whoami)
    with TestClient(app) as client:
        c = first_challenge(client)
        seen.clear()
        assert client.get("/me", headers=digest(c, "alice", "wonderland", "GET", "/me")).status == 200
        digest_calls = list(seen)
    # The nonce's MAC, the opaque and the response digest.
    sent = digest(c, "alice", "wonderland", "GET", "/me")["Authorization"]
    response = sent.rsplit('response="', 1)[1].rstrip('"')
    assert (response.encode(), response.encode()) in digest_calls
    assert any(a == c["opaque"].encode() for a, _ in digest_calls)
    assert len(digest_calls) >= 3
    seen.clear()
    assert passwords_match("a", "a") and not passwords_match("a", b"b")
    assert seen == [(b"a", b"a"), (b"a", b"b")]
    # Basic with a users mapping: known and unknown users both compare (no enumeration by timing).
    seen.clear()
    app2 = App()
    app2.get("/", middleware=[BasicAuth(users=USERS)])(whoami)
    with TestClient(app2) as client:
        client.get("/", headers=basic("alice", "nope"))
        client.get("/", headers=basic("nobody", "nope"))
    assert len(seen) == 2 and seen[0] == (b"nope", b"wonderland")


# -- real clients over loopback sockets ---------------------------------------------------------


def real_app():
    app = App()
    app.get("/basic", middleware=[BasicAuth(users=USERS)])(whoami)
    app.get("/digest", middleware=[DigestAuth("staff", USERS.get)])(whoami)
    app.get("/digest-md5", middleware=[DigestAuth("staff", USERS.get, algorithms=("MD5",))])(whoami)
    app.get("/bearer", middleware=[BearerAuth(bearer_verify)])(whoami)
    return app


@pytest.fixture(params=LOOPS)
def server(request):
    with ServerThread(real_app(), "127.0.0.1:0", use_uvloop=request.param == "uvloop") as thread:
        yield thread.urls[0].rstrip("/")


def curl(*args):
    if shutil.which("curl") is None:  # pragma: no cover
        pytest.skip("curl is not installed")
    done = subprocess.run(["curl", "-s", "-S", "--max-time", "10", "-w", "\n%{http_code}", *args], capture_output=True, text=True, timeout=20)
    body, _, status = done.stdout.rpartition("\n")
    return int(status), body


def test_curl_basic_digest_and_bearer(server):
    assert curl("--basic", "-u", "alice:wonderland", f"{server}/basic") == (200, '{"user":"alice","groups":[],"scheme":"basic"}')
    assert curl("--basic", "-u", "alice:nope", f"{server}/basic")[0] == 401
    # curl answers the first Digest challenge it supports (SHA-256 since curl 7.57).
    assert curl("--digest", "-u", "alice:wonderland", f"{server}/digest?x=1")[1] == '{"user":"alice","groups":[],"scheme":"digest"}'
    assert curl("--digest", "-u", "alice:wonderland", f"{server}/digest-md5")[0] == 200
    assert curl("--digest", "-u", "alice:nope", f"{server}/digest")[0] == 401
    assert curl("--digest", "-u", "zoë:pässwörd", f"{server}/digest")[1] == '{"user":"zoë","groups":[],"scheme":"digest"}'
    assert curl("--oauth2-bearer", "t0ken-alice", f"{server}/bearer")[0] == 200
    assert curl("--oauth2-bearer", "nope", f"{server}/bearer")[0] == 401


class Closing401:
    # urllib leaves the 401 response it answered open (a ResourceWarning): close it.
    def http_error_401(self, req, fp, code, msg, headers):
        try:
            return super().http_error_401(req, fp, code, msg, headers)
        finally:
            fp.close()


class ClosingBasic(Closing401, urllib.request.HTTPBasicAuthHandler):
    pass


class ClosingDigest(Closing401, urllib.request.HTTPDigestAuthHandler):
    pass


def test_urllib_basic_and_digest_handlers(server):
    passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    passwords.add_password(None, server, "alice", "wonderland")
    opener = urllib.request.build_opener(
        ClosingBasic(passwords), ClosingDigest(passwords)
    )
    with opener.open(f"{server}/basic", timeout=10) as resp:
        assert resp.status == 200 and b'"alice"' in resp.read()
    # NOTE: urllib (Python < 3.14) answers only the first challenge and knows MD5 and SHA-1
    # only: the route offers MD5 alone.
    with opener.open(f"{server}/digest-md5?q=1", timeout=10) as resp:
        assert resp.status == 200 and b'"scheme":"digest"' in resp.read()
    wrong = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    wrong.add_password(None, server, "alice", "nope")
    bad = urllib.request.build_opener(ClosingDigest(wrong))
    with pytest.raises(urllib.error.HTTPError) as info:
        bad.open(f"{server}/digest-md5", timeout=10)
    assert info.value.code == 401
    info.value.close()
