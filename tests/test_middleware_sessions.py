"""Sessions (fasthttp/middleware/sessions.py): signed cookie sessions (forged, altered, replayed,
expired, future, renamed and retired-key cookies refused; rotation), the size limit's clear error,
server-side stores (memory and a real Redis: shared by two instances, revoked at logout, fixation
defeated by regenerate, a store that dies mid-request answered 503 within its timeout), and the
browser flow of the issue: login form -> session cookie -> CSRF token -> protected route -> logout."""

from __future__ import annotations

import base64
import html
import json
import logging
import re
import time

import pytest

from fasthttp import App
from fasthttp.middleware import CSRF, MemoryStore, RedisStore, Sessions, SessionTooLarge, csrf_token
from fasthttp.middleware.sessions import derive_keys, sign_token, verify_token
from fasthttp.responses import Response
from fasthttp.testing import TestClient

KEY_A = "a" * 32 + "-first-secret"
KEY_B = "b" * 32 + "-second-secret"
BASE = "https://testserver"


def session_app(sessions: Sessions, *, route_level: bool = False) -> App:
    app = App()
    options = {"middleware": [sessions]} if route_level else {}
    if not route_level:
        app.add_middleware(sessions)

    @app.get("/get", **options)
    def get(request):
        return dict(request.cookie_session)

    @app.post("/set", **options)
    async def set_(request):
        request.cookie_session.update(await request.json())
        return "set"

    @app.post("/clear", **options)
    def clear(request):
        request.cookie_session.clear()
        return "cleared"

    @app.post("/login", **options)
    def login(request):
        request.cookie_session.regenerate()
        request.cookie_session["user"] = "ann"
        return "in"

    return app


def cookie_of(response, name: str = "session") -> str:
    for line in response.headers.getall("set-cookie"):
        if line.startswith(name + "="):
            return line
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.getall('set-cookie')}")


def token_of(response, name: str = "session") -> str:
    return cookie_of(response, name).split(";", 1)[0].split("=", 1)[1]


# -- cookie sessions -----------------------------------------------------------------------------


def test_round_trip_and_cookie_attributes():
    client = TestClient(session_app(Sessions(secret_keys=[KEY_A])), BASE)
    response = client.post("/set", json={"cart": [1, 2], "n": 1})
    line = cookie_of(response)
    assert "; Max-Age=1209600" in line and "; Secure" in line and "; HttpOnly" in line and "; SameSite=Lax" in line and "; Path=/" in line
    assert client.get("/get").json() == {"cart": [1, 2], "n": 1}
    # Unchanged: no new cookie.
    assert client.get("/get").headers.getall("set-cookie") == []


def test_no_cookie_no_session_no_set_cookie():
    response = TestClient(session_app(Sessions(secret_keys=[KEY_A])), BASE).get("/get")
    assert response.json() == {} and response.headers.getall("set-cookie") == []


def test_forged_and_altered_cookies_are_ignored(caplog):
    client = TestClient(session_app(Sessions(secret_keys=[KEY_A])), BASE)
    token = token_of(client.post("/set", json={"user": "ann"}))
    version, body, mac = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=="))
    payload["d"]["user"] = "admin"
    altered_body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    forged = [
        f"{version}.{altered_body}.{mac}",  # payload changed, old signature
        f"{version}.{body}.{mac[:-2]}AA",  # signature changed
        f"2.{body}.{mac}",  # another version
        f"{version}.{body}",  # no signature
        sign_token(derive_keys(["z" * 40], b"sessions")[0], "session", {"t": int(time.time()), "d": {"user": "admin"}}),
        "garbage",
        "1.!!!.!!!",
    ]
    with caplog.at_level(logging.DEBUG, logger="fasthttp.sessions"):
        for value in forged:
            assert client.get("/get", cookies={"session": value}).json() == {}, value
    assert "session cookie refused" in caplog.text


def test_a_token_is_bound_to_its_cookie_name():
    keys = derive_keys([KEY_A], b"sessions")
    token = sign_token(keys[0], "session", {"t": int(time.time()), "d": {"user": "ann"}})
    assert verify_token(keys, "session", token, 60) is not None
    assert verify_token(keys, "other", token, 60) is None
    client = TestClient(session_app(Sessions(secret_keys=[KEY_A], cookie_name="other")), BASE)
    assert client.get("/get", cookies={"other": token}).json() == {}


def test_expired_and_future_tokens_are_refused():
    keys = derive_keys([KEY_A], b"sessions")
    now = int(time.time())
    client = TestClient(session_app(Sessions(secret_keys=[KEY_A], max_age=3600)), BASE)
    fresh = sign_token(keys[0], "session", {"t": now - 10, "d": {"u": 1}})
    old = sign_token(keys[0], "session", {"t": now - 3601, "d": {"u": 1}})  # a replay after max_age
    future = sign_token(keys[0], "session", {"t": now + 3600, "d": {"u": 1}})
    assert client.get("/get", cookies={"session": fresh}).json() == {"u": 1}
    assert client.get("/get", cookies={"session": old}).json() == {}
    assert client.get("/get", cookies={"session": future}).json() == {}


def test_key_rotation_accepts_a_retired_key_while_listed():
    old_client = TestClient(session_app(Sessions(secret_keys=[KEY_A])), BASE)
    signed_with_a = token_of(old_client.post("/set", json={"user": "ann"}))
    # New key first, the retired one still listed: accepted, and re-signed with the new key.
    rotated = TestClient(session_app(Sessions(secret_keys=[KEY_B, KEY_A])), BASE)
    assert rotated.get("/get", cookies={"session": signed_with_a}).json() == {"user": "ann"}
    resigned = token_of(rotated.post("/set", json={"n": 2}, cookies={"session": signed_with_a}))
    assert verify_token(derive_keys([KEY_B], b"sessions"), "session", resigned, 60) is not None
    # Once dropped from the list, the retired key's cookies are refused.
    dropped = TestClient(session_app(Sessions(secret_keys=[KEY_B])), BASE)
    assert dropped.get("/get", cookies={"session": signed_with_a}).json() == {}
    assert dropped.get("/get", cookies={"session": resigned}).json() == {"user": "ann", "n": 2}


def test_clearing_deletes_the_cookie():
    client = TestClient(session_app(Sessions(secret_keys=[KEY_A])), BASE)
    client.post("/set", json={"user": "ann"})
    line = cookie_of(client.post("/clear"))
    assert line.startswith("session=;") and "Max-Age=0" in line
    assert client.get("/get").json() == {} and "session" not in client.cookies


def test_oversize_session_is_a_clear_error():
    app = session_app(Sessions(secret_keys=[KEY_A]))
    with TestClient(app, BASE) as client, pytest.raises(SessionTooLarge, match=r"over the limit of 4000 .*server-side"):
        client.post("/set", json={"blob": "x" * 5000})
    response = TestClient(app, BASE, raise_server_exceptions=False).post("/set", json={"blob": "x" * 5000})
    assert response.status == 500 and response.headers.getall("set-cookie") == []


def test_a_value_json_cannot_encode_is_a_clear_error():
    app = App()
    app.add_middleware(Sessions(secret_keys=[KEY_A]))

    @app.get("/")
    def home(request):
        request.cookie_session["when"] = object()
        return "x"

    with TestClient(app, BASE) as client, pytest.raises(TypeError, match="JSON cannot encode"):
        client.get("/")


def test_nested_changes_need_modified():
    app = App()
    app.add_middleware(Sessions(secret_keys=[KEY_A]))

    @app.get("/add")
    def add(request):
        session = request.cookie_session
        session.setdefault("cart", []).append(len(session.get("cart", [])))
        session.modified = True
        return session["cart"]

    client = TestClient(app, BASE)
    assert client.get("/add").json() == [0]
    assert client.get("/add").json() == [0, 1]


def test_cookie_session_without_the_middleware_names_it():
    app = App()

    @app.get("/")
    def home(request):
        return dict(request.cookie_session)

    with TestClient(app) as client, pytest.raises(RuntimeError, match=r"needs the Sessions middleware.*request\.session is the per-connection dict"):
        client.get("/")


def test_cookie_session_is_not_the_connection_session():
    app = App()
    app.add_middleware(Sessions(secret_keys=[KEY_A]))

    @app.get("/")
    def home(request):
        request.session["conn"] = True
        return {"cookie": dict(request.cookie_session), "same": request.session is request.cookie_session}

    assert TestClient(app, BASE).get("/").json() == {"cookie": {}, "same": False}


def test_route_level_sessions():
    client = TestClient(session_app(Sessions(secret_keys=[KEY_A]), route_level=True), BASE)
    client.post("/set", json={"a": 1})
    assert client.get("/get").json() == {"a": 1}


@pytest.mark.parametrize(
    ("keys", "error"),
    [([], ValueError), (["short"], ValueError), (KEY_A, TypeError)],
)
def test_bad_secret_keys(keys, error):
    with pytest.raises(error):
        Sessions(secret_keys=keys)


def test_bad_cookie_options_fail_when_built():
    with pytest.raises(ValueError):
        Sessions(secret_keys=[KEY_A], secure=False, samesite="none")
    with pytest.raises(ValueError):
        Sessions(secret_keys=[KEY_A], cookie_name="bad name")


def test_plain_http_needs_secure_false():
    client = TestClient(session_app(Sessions(secret_keys=[KEY_A], secure=False)))
    client.post("/set", json={"a": 1})
    assert client.get("/get").json() == {"a": 1}


# -- server-side stores ----------------------------------------------------------------------------


def test_memory_store_keeps_the_session_server_side():
    store = MemoryStore()
    client = TestClient(session_app(Sessions(secret_keys=[KEY_A], store=store)), BASE)
    token = token_of(client.post("/set", json={"user": "ann", "big": "x" * 10_000}))
    assert len(token) < 200  # the cookie names the session; the data stays here
    assert client.get("/get").json()["user"] == "ann"
    assert len(store) == 1


def test_store_logout_revokes_a_replayed_cookie():
    client = TestClient(session_app(Sessions(secret_keys=[KEY_A], store=MemoryStore())), BASE)
    stolen = token_of(client.post("/set", json={"user": "ann"}))
    client.post("/clear")
    assert client.get("/get", cookies={"session": stolen}).json() == {}


def test_regenerate_defeats_fixation():
    store = MemoryStore()
    client = TestClient(session_app(Sessions(secret_keys=[KEY_A], store=store)), BASE)
    planted = token_of(client.post("/set", json={"visits": 1}))  # the attacker's own session
    victim = TestClient(session_app(Sessions(secret_keys=[KEY_A], store=store)), BASE)
    logged_in = token_of(victim.post("/login", cookies={"session": planted}))
    assert logged_in != planted
    assert victim.get("/get", cookies={"session": logged_in}).json() == {"visits": 1, "user": "ann"}
    assert client.get("/get", cookies={"session": planted}).json() == {}  # the planted id is gone


def test_store_size_limit():
    app = session_app(Sessions(secret_keys=[KEY_A], store=MemoryStore(), max_size=1000))
    with TestClient(app, BASE) as client, pytest.raises(SessionTooLarge, match="store limit of 1000"):
        client.post("/set", json={"blob": "x" * 2000})


def redis_session_app(url: str, timeout: float = 0.5) -> App:
    store = RedisStore(url, timeout=timeout)
    app = session_app(Sessions(secret_keys=[KEY_A], store=store))
    app.on_shutdown(store.aclose)
    return app


def test_redis_sessions_shared_by_two_instances(redis_server):
    with TestClient(redis_session_app(redis_server.url), BASE) as a, TestClient(redis_session_app(redis_server.url), BASE) as b:
        token = token_of(a.post("/set", json={"user": "ann"}))
        assert b.get("/get", cookies={"session": token}).json() == {"user": "ann"}
        b.post("/clear", cookies={"session": token})  # logout on the other instance
        assert a.get("/get", cookies={"session": token}).json() == {}


def test_redis_gone_before_the_load_is_503(redis_server, caplog):
    with TestClient(redis_session_app(redis_server.url), BASE) as client:
        client.post("/set", json={"user": "ann"})
        redis_server.pause()
        try:
            with caplog.at_level(logging.WARNING, logger="fasthttp.sessions"):
                response = client.get("/get", timeout=10)
        finally:
            redis_server.resume()
    assert response.status == 503 and response.headers["retry-after"] == "5"
    assert "session store unavailable" in caplog.text


def test_redis_gone_mid_request_is_503(redis_server):
    app = App()
    store = RedisStore(redis_server.url, timeout=0.5)
    app.add_middleware(Sessions(secret_keys=[KEY_A], store=store))
    app.on_shutdown(store.aclose)

    @app.post("/work")
    def work(request):
        request.cookie_session["done"] = True
        redis_server.stop()  # the store dies while the request is being handled
        return "done"

    with TestClient(app, BASE) as client:
        response = client.post("/work", timeout=10)
    assert response.status == 503 and response.headers.getall("set-cookie") == []


# -- the browser flow of the issue -------------------------------------------------------------------

USERS = {"ann": "correct horse battery staple"}


def login_app(store: MemoryStore | None) -> App:
    app = App()
    app.add_middleware(Sessions(secret_keys=[KEY_A], store=store))
    app.add_middleware(CSRF())

    @app.get("/login")
    def login_form(request):
        token = html.escape(csrf_token(request))
        return Response.html(
            '<form method="post" action="/login">'
            f'<input type="hidden" name="csrf_token" value="{token}">'
            '<input name="username"><input name="password" type="password"></form>'
        )

    @app.post("/login")
    async def login(request):
        form = await request.form()
        user = form.get("username")
        if user not in USERS or form.get("password") != USERS[user]:
            return Response(b"wrong user or password", 401)
        session = request.cookie_session
        session.regenerate()  # a new id and a new CSRF secret: fixation defeated
        session["user"] = user
        return Response.redirect("/account", 303)

    @app.get("/account")
    def account(request):
        user = request.cookie_session.get("user")
        if user is None:
            return Response.redirect("/login", 303)
        token = html.escape(csrf_token(request))
        return Response.html(f'<p>hello {user}</p><form method="post" action="/logout"><input type="hidden" name="csrf_token" value="{token}"></form>')

    @app.post("/logout")
    def logout(request):
        request.cookie_session.clear()
        return Response.redirect("/login", 303)

    return app


def hidden_token(response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.body.decode())
    assert match, response.body
    return html.unescape(match.group(1))


@pytest.mark.parametrize("store", [None, "memory"], ids=["cookie", "memory-store"])
def test_browser_flow_login_csrf_protected_logout(store):
    client = TestClient(login_app(MemoryStore() if store else None), BASE)

    def post(path, form, origin=BASE):  # a browser sends its page's origin with a form post
        return client.post(path, form=form, headers={"Origin": origin})

    # Not logged in: the protected page sends the browser to the login form.
    assert client.get("/account").headers["location"] == "/login"
    form = client.get("/login")
    assert form.status == 200 and "session" in client.cookies  # the CSRF secret lives in the session
    token = hidden_token(form)
    pre_login_cookie = client.cookies["session"][0]
    # A post without the token, and a forged cross-site post, are refused before the handler.
    assert post("/login", {"username": "ann", "password": USERS["ann"]}).status == 403
    assert post("/login", {"username": "ann", "password": USERS["ann"], "csrf_token": token}, "https://evil.example").status == 403
    # Wrong password: 401, still logged out.
    assert post("/login", {"username": "ann", "password": "guess", "csrf_token": token}).status == 401
    # The real login: a new session cookie, then the protected page.
    response = post("/login", {"username": "ann", "password": USERS["ann"], "csrf_token": token})
    assert response.status == 303 and response.headers["location"] == "/account"
    assert client.cookies["session"][0] != pre_login_cookie
    page = client.get("/account")
    assert page.status == 200 and b"hello ann" in page.body
    # The token from before login is worthless now (regenerate dropped the secret).
    assert post("/logout", {"csrf_token": token}).status == 403
    # Logout with the page's token: the session cookie is deleted, the page is closed again.
    logout = post("/logout", {"csrf_token": hidden_token(page)})
    assert logout.status == 303 and "Max-Age=0" in cookie_of(logout)
    assert "session" not in client.cookies
    assert client.get("/account").headers["location"] == "/login"


def test_store_data_that_is_not_json_is_no_session(caplog):
    import asyncio

    store = MemoryStore()
    asyncio.run(store.save("bad", b"\xff not json", 60))
    token = sign_token(derive_keys([KEY_A], b"sessions")[0], "session", {"t": int(time.time()), "id": "bad"})
    client = TestClient(session_app(Sessions(secret_keys=[KEY_A], store=store)), BASE)
    with caplog.at_level(logging.WARNING, logger="fasthttp.sessions"):
        assert client.get("/get", cookies={"session": token}).json() == {}
    assert "not JSON" in caplog.text


def test_publish_is_the_loader_without_a_store_and_none_with_one():
    # What the stack's quiet form reads (fasthttp.middleware.stack.QuietForm): before() sets
    # exactly this in request.extras and answers request.extras.
    from helpers_requests import make_request

    from fasthttp.requests import COOKIE_SESSION

    sessions = Sessions(secret_keys=[KEY_A])
    key, value = sessions.publish
    assert key == COOKIE_SESSION and sessions.publish[1] is value  # the same object every time
    request = make_request(method="GET")
    assert sessions.before(request) is request.extras and request.extras == {key: value}
    assert Sessions(secret_keys=[KEY_A], store=MemoryStore()).publish is None
