"""CSRF (fasthttp/middleware/csrf.py): a synchronizer token kept in the cookie session (masked
anew for each page), sent as a form field or a header; Origin and Referer checks; a forged, a
missing, another session's, a pre-login and a cross-site token refused with 403 before the
handler runs."""

from __future__ import annotations

import pytest

from fasthttp import App
from fasthttp.middleware import CSRF, Sessions, csrf_token
from fasthttp.middleware.csrf import CSRF_SESSION_KEY
from fasthttp.testing import TestClient

KEY = "k" * 40
BASE = "https://testserver"


def csrf_app(csrf: CSRF | None = None) -> tuple[App, list[str]]:
    app = App()
    app.add_middleware(Sessions(secret_keys=[KEY]))
    app.add_middleware(csrf or CSRF())
    calls: list[str] = []

    @app.get("/token")
    def token(request):
        return csrf_token(request)

    @app.post("/form")
    async def form(request):
        data = await request.form()  # the form CSRF read is the handler's too
        calls.append(data.get("item"))
        return "posted"

    @app.post("/json")
    async def json_(request):
        calls.append((await request.json())["item"])
        return "posted"

    @app.post("/login")
    def login(request):
        request.cookie_session.regenerate()
        request.cookie_session["user"] = "ann"
        return "in"

    @app.post("/hook")
    def hook(request):
        calls.append("hook")
        return "hooked"

    return app, calls


def test_form_field_token():
    app, calls = csrf_app()
    client = TestClient(app, BASE)
    token = client.get("/token").text
    assert client.post("/form", form={"item": "a", "csrf_token": token}).status == 200
    assert calls == ["a"]


def test_header_token_for_scripts():
    app, calls = csrf_app()
    client = TestClient(app, BASE)
    token = client.get("/token").text
    assert client.post("/json", json={"item": "b"}, headers={"X-CSRF-Token": token}).status == 200
    assert calls == ["b"]


def test_each_page_gets_a_new_masking_of_one_secret():
    app, calls = csrf_app()
    client = TestClient(app, BASE)
    first, second = client.get("/token").text, client.get("/token").text
    assert first != second  # BREACH: the token never repeats on the wire
    assert client.post("/form", form={"item": "1", "csrf_token": first}).status == 200
    assert client.post("/form", form={"item": "2", "csrf_token": second}).status == 200


@pytest.mark.parametrize("bad", ["", "x", "A" * 88, "not base64 at all!"])
def test_missing_and_forged_tokens_are_403(bad):
    app, calls = csrf_app()
    client = TestClient(app, BASE)
    client.get("/token")
    assert client.post("/form", form={"item": "a"}).status == 403
    assert client.post("/form", form={"item": "a", "csrf_token": bad}).status == 403
    assert client.post("/json", json={"item": "a"}, headers={"X-CSRF-Token": bad}).status == 403
    assert calls == []


def test_a_token_of_another_session_is_403():
    app, calls = csrf_app()
    attacker = TestClient(app, BASE)
    token = attacker.get("/token").text
    victim = TestClient(app, BASE)
    victim.get("/token")
    assert victim.post("/form", form={"item": "a", "csrf_token": token}).status == 403
    assert TestClient(app, BASE).post("/form", form={"item": "a", "csrf_token": token}).status == 403  # no session
    assert calls == []


def test_login_regenerate_drops_the_secret():
    app, calls = csrf_app()
    client = TestClient(app, BASE)
    token = client.get("/token").text
    assert client.post("/login", headers={"X-CSRF-Token": token}).status == 200
    assert client.post("/form", form={"item": "a", "csrf_token": token}).status == 403
    fresh = client.get("/token").text
    assert client.post("/form", form={"item": "a", "csrf_token": fresh}).status == 200


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"Origin": BASE}, 200),
        ({"Origin": "https://testserver:443"}, 200),  # the default port
        ({"Referer": BASE + "/page?x=1"}, 200),
        ({"Origin": "https://evil.example"}, 403),
        ({"Origin": "http://testserver"}, 403),  # another scheme is another origin
        ({"Origin": "null"}, 403),
        ({"Referer": "https://evil.example/page"}, 403),
        ({"Origin": "https://evil.example", "Referer": BASE + "/"}, 403),  # Origin decides
        ({"Referer": "not a url"}, 403),
    ],
)
def test_origin_and_referer(fields, status):
    app, calls = csrf_app()
    client = TestClient(app, BASE)
    token = client.get("/token").text
    response = client.post("/form", form={"item": "a", "csrf_token": token}, headers=fields)
    assert response.status == status
    if status == 403:
        assert b"cross-site request refused" in response.body and calls == []


def test_two_origin_fields_are_refused():
    app, _ = csrf_app()
    client = TestClient(app, BASE, headers={"Origin": BASE})
    token = client.get("/token").text
    response = client.post("/form", form={"csrf_token": token}, headers={"Origin": "https://evil.example"})
    assert response.status == 403 and b"more than one Origin" in response.body


def test_trusted_origins():
    app, _ = csrf_app(CSRF(trusted_origins=["https://admin.example"]))
    client = TestClient(app, BASE)
    token = client.get("/token").text
    assert client.post("/form", form={"csrf_token": token}, headers={"Origin": "https://admin.example"}).status == 200
    with pytest.raises(ValueError):
        CSRF(trusted_origins=["admin.example"])


def test_safe_methods_and_exempt_requests_pass():
    app, calls = csrf_app(CSRF(exempt=lambda request: request.path == "/hook"))
    client = TestClient(app, BASE)
    assert client.get("/token").status == 200
    assert client.post("/hook", headers={"Origin": "https://evil.example"}).status == 200
    assert calls == ["hook"]


def test_csrf_without_sessions_names_them():
    app = App()
    app.add_middleware(CSRF())
    app.post("/")(lambda request: "x")
    with TestClient(app, BASE) as client, pytest.raises(RuntimeError, match="needs the Sessions middleware"):
        client.post("/", headers={"X-CSRF-Token": "x"})


def test_secret_lives_in_the_session_under_a_middleware_key():
    app = App()
    app.add_middleware(Sessions(secret_keys=[KEY]))

    @app.get("/")
    def home(request):
        csrf_token(request)
        return sorted(request.cookie_session)

    assert TestClient(app, BASE).get("/").json() == [CSRF_SESSION_KEY]
