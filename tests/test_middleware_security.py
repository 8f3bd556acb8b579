"""SecurityHeaders (fasthttp/middleware/security.py): the fields of responses.security_headers()
on every response, HSTS over HTTPS only (a trusted proxy's proto counts), a handler's own fields
kept, app-wide and per route, shared responses never changed in place."""

from __future__ import annotations

import pytest

from fasthttp import App
from fasthttp.middleware import SecurityHeaders
from fasthttp.responses import Response, security_headers
from fasthttp.testing import TestClient

SHARED = Response(b"x", 200, [(b"Content-Type", b"text/plain")])


def secured_app(middleware: SecurityHeaders, **options) -> App:
    app = App(**options)
    app.add_middleware(middleware)

    @app.get("/")
    def home(request):
        return "home"

    @app.get("/own")
    def own(request):
        return Response(b"frame me", 200, [("X-Frame-Options", "SAMEORIGIN"), ("Content-Security-Policy", "default-src 'none'")])

    @app.get("/shared")
    def shared(request):
        return SHARED

    return app


def test_defaults_over_https_are_the_helpers():
    response = TestClient(secured_app(SecurityHeaders()), "https://testserver").get("/")
    for name, value in security_headers():
        assert response.headers[name] == value


def test_no_hsts_over_plain_http():
    response = TestClient(secured_app(SecurityHeaders())).get("/")
    assert "strict-transport-security" not in response.headers  # RFC 6797 §7.2
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def test_hsts_behind_a_trusted_tls_proxy():
    app = secured_app(SecurityHeaders(), proxy_headers=True, forwarded_allow_ips="*")
    response = TestClient(app).get("/", headers={"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"})
    assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    # From an untrusted peer, the claim is ignored.
    app = secured_app(SecurityHeaders(), proxy_headers=True, forwarded_allow_ips="127.0.0.1")
    assert "strict-transport-security" not in TestClient(app).get("/", headers={"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}).headers


def test_options_csp_and_permissions_policy():
    middleware = SecurityHeaders(csp="default-src 'self'", permissions_policy="camera=(), geolocation=()", frame_options="SAMEORIGIN", preload=True)
    response = TestClient(secured_app(middleware), "https://testserver").get("/")
    assert response.headers["content-security-policy"] == "default-src 'self'"
    assert response.headers["permissions-policy"] == "camera=(), geolocation=()"
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert response.headers["strict-transport-security"].endswith("; preload")


def test_handler_fields_win():
    response = TestClient(secured_app(SecurityHeaders(csp="default-src 'self'"))).get("/own")
    assert response.headers.getall("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers.getall("content-security-policy") == ["default-src 'none'"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_shared_response_not_changed_in_place():
    client = TestClient(secured_app(SecurityHeaders()))
    assert client.get("/shared").headers["x-frame-options"] == "DENY"
    assert client.get("/shared").headers.getall("x-frame-options") == ["DENY"]
    assert SHARED.fields == [(b"Content-Type", b"text/plain")]


def test_errors_get_the_fields_too():
    response = TestClient(secured_app(SecurityHeaders())).get("/missing")
    assert response.status == 404 and response.headers["x-frame-options"] == "DENY"
    assert response.headers.getall("x-content-type-options") == ["nosniff"]  # once, not twice


def test_route_level():
    app = App()

    @app.get("/admin", middleware=[SecurityHeaders(csp="default-src 'none'")])
    def admin(request):
        return "admin"

    @app.get("/public")
    def public(request):
        return "public"

    client = TestClient(app)
    assert client.get("/admin").headers["content-security-policy"] == "default-src 'none'"
    assert "content-security-policy" not in client.get("/public").headers


def test_async_handler():
    app = App()
    app.add_middleware(SecurityHeaders())

    @app.get("/")
    async def home(request):
        return "async"

    assert TestClient(app).get("/").headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("kwargs", [{"csp": "a\r\nb"}, {"frame_options": "ALLOW-FROM x"}, {"permissions_policy": "x\n"}])
def test_invalid_options_refused_when_built(kwargs):
    with pytest.raises(ValueError):
        SecurityHeaders(**kwargs)
