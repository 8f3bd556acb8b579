"""fasthttp.middleware.authz: composable conditions and the Authorize middleware.

The conditions on their own (sync and async, short-circuit, operators), then Authorize on an
App, a route, a mount (and a mounted App's own middleware), a Resource and a resource method;
403 for an authenticated user the rule refuses, 401 (with the authentication challenges) or the
login response for an anonymous one; from_network through the trusted-proxy resolution and
is_https over a real TLS socket.
"""

from __future__ import annotations

import asyncio
import types

import pytest
from helpers_auth import basic
from helpers_server import Client, run, serving

from fasthttp import App, Response
from fasthttp.identity import Identity
from fasthttp.middleware import (
    Authorize,
    BasicAuth,
    Condition,
    all_of,
    any_of,
    from_network,
    in_group,
    is_authenticated,
    is_https,
    is_user,
    none_of,
)
from fasthttp.middleware.authz import condition
from fasthttp.resources import Resource, get
from fasthttp.testing import TestClient

USERS = {
    "alice": Identity("alice", ["admin", "staff"]),
    "bob": Identity("bob", ["staff"]),
    "carol": Identity("carol"),
}


def verify(user, password):
    return USERS.get(user) if password == "pw" else None


def fake(user=None, client=("127.0.0.1", 1), secure=False):
    return types.SimpleNamespace(user=user, client=client, is_secure=secure)


# -- conditions -----------------------------------------------------------------------------------


def test_identity_conditions():
    alice, carol = fake(USERS["alice"]), fake(USERS["carol"])
    assert is_user("alice", "bob")(alice) and not is_user("bob")(alice) and not is_user("alice")(fake())
    assert in_group("admin")(alice) and in_group("ops", "staff")(alice) and not in_group("admin")(carol)
    assert not in_group("admin")(fake())
    assert is_authenticated(carol) and not is_authenticated(fake())
    assert is_https(fake(secure=True)) and not is_https(fake())
    with pytest.raises(TypeError):
        is_user()
    with pytest.raises(TypeError):
        in_group(42)  # type: ignore[arg-type]


def test_from_network():
    rule = from_network("10.0.0.0/8", "2001:db8::/32", ["192.0.2.7"])
    assert rule(fake(client=("10.1.2.3", 80))) and rule(fake(client=("192.0.2.7", 1)))
    assert rule(fake(client=("2001:db8::1", 1, 0, 0))) and rule(fake(client=("::ffff:10.0.0.1", 1, 0, 0)))
    assert not rule(fake(client=("11.0.0.1", 80))) and not rule(fake(client=("192.0.2.8", 1)))
    assert not rule(fake(client="/run/app.sock")) and not rule(fake(client=("testclient", 1)))
    with pytest.raises(ValueError):
        from_network("10.0.0.0/33")
    with pytest.raises(ValueError):
        from_network("*")
    with pytest.raises(ValueError):
        from_network()


def test_combinators_short_circuit_and_compose_with_operators():
    calls = []

    def spy(name, value):
        def test(request):
            calls.append(name)
            return value

        return test

    assert all_of(spy("a", True), spy("b", False), spy("c", True))(fake()) is False
    assert calls == ["a", "b"]
    calls.clear()
    assert any_of(spy("a", False), spy("b", True), spy("c", True))(fake()) is True
    assert calls == ["a", "b"]
    assert none_of(spy("x", False), spy("y", False))(fake()) is True
    assert none_of(spy("x", False), spy("y", 1))(fake()) is False
    rule = (in_group("admin") | is_user("bob")) & ~from_network("10.0.0.0/8")
    assert rule(fake(USERS["alice"])) and rule(fake(USERS["bob"]))
    assert not rule(fake(USERS["carol"])) and not rule(fake(USERS["alice"], client=("10.0.0.1", 1)))
    assert repr(rule) == "all_of(any_of(in_group('admin'), is_user('bob')), none_of(from_network('10.0.0.0/8')))"
    assert condition(rule) is rule
    with pytest.raises(TypeError):
        condition("admin")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        all_of()


def test_async_parts_are_awaited_in_order():
    async def slow_true(request):
        await asyncio.sleep(0)
        return True

    async def slow_false(request):
        return False

    async def check():
        assert await all_of(is_authenticated, slow_true, slow_true)(fake(USERS["bob"])) is True
        assert await all_of(slow_true, slow_false, in_group("staff"))(fake(USERS["bob"])) is False
        assert await any_of(slow_false, slow_true)(fake()) is True
        assert await none_of(slow_false, slow_false)(fake()) is True
        assert await none_of(slow_false, slow_true)(fake()) is False
        # A sync part that decides first never reaches the async one.
        assert all_of(is_authenticated, slow_true)(fake()) is False

    asyncio.run(check())


# -- Authorize on an App, a route, a mount, a resource -------------------------------------------


def whoami(request):
    return {"user": request.user.name if request.user else None}


def test_authorize_on_a_route_is_403_for_the_wrong_user_and_401_for_anonymous():
    app = App()
    app.add_middleware(BasicAuth(verify, required=False))
    app.get("/admin", middleware=[Authorize(in_group("admin"))])(whoami)
    app.get("/open")(whoami)

    @app.get("/either", middleware=[Authorize(any_of(is_user("carol"), in_group("admin")), detail="admins and carol")])
    async def either(request):
        return whoami(request)

    with TestClient(app) as client:
        admin = client.get("/admin", headers=basic("alice", "pw"))
        staff = client.get("/admin", headers=basic("bob", "pw"))
        anonymous = client.get("/admin")
        wrong_password = client.get("/admin", headers=basic("alice", "nope"))
        open_ = client.get("/open")
        carol = client.get("/either", headers=basic("carol", "pw"))
        bob = client.get("/either", headers=basic("bob", "pw"))
    assert admin.status == 200 and admin.json() == {"user": "alice"}
    assert staff.status == 403 and "www-authenticate" not in staff.headers
    assert anonymous.status == 401 and anonymous.headers["www-authenticate"] == 'Basic realm="fasthttp", charset="UTF-8"'
    assert wrong_password.status == 401
    assert open_.json() == {"user": None}
    assert carol.status == 200 and bob.status == 403 and bob.text == "admins and carol"


def test_authorize_app_wide_and_the_login_hook_for_anonymous_requests():
    app = App()
    app.add_middleware(BasicAuth(verify, required=False))
    app.add_middleware(Authorize(is_authenticated, login=lambda request: Response(b"", 303, [(b"Location", "/login")])))
    app.get("/")(whoami)
    with TestClient(app) as client:
        anonymous = client.get("/")
        carol = client.get("/", headers=basic("carol", "pw"))
    assert anonymous.status == 303 and anonymous.headers["location"] == "/login"
    assert carol.json() == {"user": "carol"}


def test_authorize_on_a_mount_and_a_mounted_apps_own_rule():
    admin = App()
    admin.add_middleware(Authorize(in_group("admin")))  # installed on the sub-app itself
    admin.get("/panel")(whoami)
    reports = App()
    reports.get("/q")(whoami)
    app = App()
    app.add_middleware(BasicAuth(verify, required=False))
    app.mount("/admin", admin)
    app.mount("/reports", reports, middleware=[Authorize(in_group("staff"))])
    app.mount("/public", reports)
    with TestClient(app) as client:
        assert client.get("/admin/panel", headers=basic("alice", "pw")).status == 200
        assert client.get("/admin/panel", headers=basic("bob", "pw")).status == 403
        assert client.get("/admin/panel").status == 401
        assert client.get("/reports/q", headers=basic("bob", "pw")).status == 200
        assert client.get("/reports/q", headers=basic("carol", "pw")).status == 403
        assert client.get("/public/q").status == 200


class Staff(Resource):
    path = "/staff"
    middleware = (Authorize(in_group("staff")),)

    @get("/list")
    def list(self, request):
        return whoami(request)

    @get("/secret", middleware=[Authorize(is_user("alice"))])
    def secret(self, request):
        return whoami(request)


class Plain(Resource):
    @get("/plain")
    def plain(self, request):
        return whoami(request)


def test_authorize_on_a_resource_and_a_resource_method():
    app = App()
    app.add_middleware(BasicAuth(verify, required=False))
    app.add(Staff())
    app.add(Plain(), prefix="/guarded", middleware=[Authorize(is_user("carol"))])
    with TestClient(app) as client:
        assert client.get("/staff/list", headers=basic("bob", "pw")).status == 200
        assert client.get("/staff/list", headers=basic("carol", "pw")).status == 403
        assert client.get("/staff/list").status == 401
        assert client.get("/staff/secret", headers=basic("alice", "pw")).status == 200
        assert client.get("/staff/secret", headers=basic("bob", "pw")).status == 403
        assert client.get("/guarded/plain", headers=basic("carol", "pw")).status == 200
        assert client.get("/guarded/plain", headers=basic("bob", "pw")).status == 403


def test_a_rule_without_authentication_is_401_without_a_challenge_and_handlers_can_shape_it():
    app = App()
    app.get("/net", middleware=[Authorize(from_network("10.0.0.0/8"))])(whoami)

    @app.exception_handler(401)
    def login_page(request, exc):
        return "please log in"

    with TestClient(app, client_address=("10.2.3.4", 1000)) as inside:
        assert inside.get("/net").status == 200
    with TestClient(app, client_address=("192.0.2.1", 1000)) as outside:
        resp = outside.get("/net")
    assert resp.status == 401 and resp.text == "please log in"


def test_async_rule_on_a_def_route():
    async def looked_up(request):
        await asyncio.sleep(0)
        return request.headers.get("x-ticket") == "ok"

    app = App()
    app.get("/", middleware=[BasicAuth(verify), Authorize(looked_up)])(whoami)
    with TestClient(app) as client:
        assert client.get("/", headers={**basic("bob", "pw"), "X-Ticket": "ok"}).status == 200
        assert client.get("/", headers=basic("bob", "pw")).status == 403


def test_condition_objects_are_plain_callables_in_handlers():
    app = App()
    admin = in_group("admin")

    @app.get("/", middleware=[BasicAuth(verify)])
    def home(request):
        return {"admin": admin(request)}

    with TestClient(app) as client:
        assert client.get("/", headers=basic("alice", "pw")).json() == {"admin": True}
        assert client.get("/", headers=basic("carol", "pw")).json() == {"admin": False}
    assert isinstance(admin, Condition)


# -- over real sockets: the trusted proxy's client address, and TLS ------------------------------


def net_app():
    app = App()
    app.get("/net", middleware=[Authorize(from_network("10.0.0.0/8"))])(whoami)
    app.get("/tls", middleware=[Authorize(is_https)])(whoami)
    return app


def test_from_network_uses_the_client_behind_a_trusted_proxy(loop):
    async def scenario():
        async with serving(net_app(), proxy_headers=True, forwarded_allow_ips="127.0.0.1") as server:
            client = await Client.connect(server)
            try:
                inside = await client.request("GET", "/net", headers=[("X-Forwarded-For", "10.9.9.9")])
                outside = await client.request("GET", "/net", headers=[("X-Forwarded-For", "203.0.113.5")])
                # A client cannot claim an inside address: the proxy appends the real one.
                spoof = await client.request("GET", "/net", headers=[("X-Forwarded-For", "10.0.0.1, 203.0.113.5")])
                direct = await client.request("GET", "/net")
            finally:
                await client.close()
            return inside, outside, spoof, direct

    inside, outside, spoof, direct = run(loop, scenario())
    assert inside.status == 200
    assert outside.status == 401 and spoof.status == 401 and direct.status == 401


def test_is_https_over_a_real_tls_socket(loop, tls):
    async def scenario():
        async with serving(net_app(), certfile=tls.cert_file, keyfile=tls.key_file) as secure, serving(net_app()) as plain:
            over_tls = await Client.connect(secure, ssl_context=tls.client_context(), server_hostname="localhost")
            over_tcp = await Client.connect(plain)
            try:
                return await over_tls.request("GET", "/tls"), await over_tcp.request("GET", "/tls")
            finally:
                await over_tls.close()
                await over_tcp.close()

    tls_resp, tcp_resp = run(loop, scenario())
    assert tls_resp.status == 200 and tcp_resp.status == 401
