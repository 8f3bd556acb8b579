"""CORS (fasthttp/middleware/cors.py): origins as a list, a wildcard, a subdomain pattern, a regex
or a callable; preflights answered without reaching the handler (app-wide and per route, where
the route has no OPTIONS method), refused preflights logged with the reason, Vary: Origin, and
never a wildcard with credentials."""

from __future__ import annotations

import logging
import re

import pytest

from fasthttp import App
from fasthttp.middleware import CORS, RateLimit
from fasthttp.testing import TestClient

SITE = "https://app.example.com"


def cors_app(cors: CORS, **route) -> tuple[App, list[str]]:
    app = App()
    calls: list[str] = []
    if route:
        app.route("/api", ("GET", "PUT", "DELETE"), **route)(lambda request: calls.append(request.method) or "data")
    else:
        app.add_middleware(cors)
        app.route("/api", ("GET", "PUT", "DELETE"))(lambda request: calls.append(request.method) or "data")
    return app, calls


def preflight(client: TestClient, origin: str, method: str = "PUT", headers: str | None = None):
    fields = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        fields["Access-Control-Request-Headers"] = headers
    return client.options("/api", headers=fields)


def test_actual_request_from_an_allowed_origin():
    app, _ = cors_app(CORS(allow_origins=[SITE], expose_headers=["X-Total"]))
    response = TestClient(app).get("/api", headers={"Origin": SITE})
    assert response.status == 200 and response.body == b"data"
    assert response.headers["access-control-allow-origin"] == SITE
    assert response.headers["access-control-expose-headers"] == "X-Total"
    assert "access-control-allow-credentials" not in response.headers
    assert response.headers["vary"] == "Origin"


def test_without_origin_only_vary():
    app, _ = cors_app(CORS(allow_origins=[SITE]))
    response = TestClient(app).get("/api")
    assert response.status == 200 and "access-control-allow-origin" not in response.headers
    assert response.headers["vary"] == "Origin"  # a cache must not reuse it for an allowed origin


def test_disallowed_origin_with_credentials_gets_no_cors_fields():
    app, calls = cors_app(CORS(allow_origins=[SITE], allow_credentials=True))
    response = TestClient(app).get("/api", headers={"Origin": "https://evil.example"}, cookies={"session": "x"})
    # The request runs (CORS guards reading, not sending: CSRF guards sending), but the browser
    # is not allowed to show the response to the page.
    assert response.status == 200 and calls == ["GET"]
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-credentials" not in response.headers
    assert response.headers["vary"] == "Origin"


def test_credentials_with_an_allowed_origin():
    app, _ = cors_app(CORS(allow_origins=[SITE], allow_credentials=True))
    response = TestClient(app).get("/api", headers={"Origin": SITE})
    assert response.headers["access-control-allow-origin"] == SITE
    assert response.headers["access-control-allow-credentials"] == "true"


def test_wildcard_with_credentials_is_refused():
    with pytest.raises(ValueError, match="every site"):
        CORS(allow_origins="*", allow_credentials=True)
    with pytest.raises(ValueError, match="every site"):
        CORS(allow_origins=[SITE, "*"], allow_credentials=True)


def test_wildcard_origin():
    app, _ = cors_app(CORS(allow_origins="*"))
    client = TestClient(app)
    response = client.get("/api", headers={"Origin": "https://anyone.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "vary" not in response.headers  # the same answer for every origin
    assert preflight(client, "https://anyone.example", "PUT").status == 403  # PUT not allowed


@pytest.mark.parametrize(
    ("rule", "origin", "allowed"),
    [
        ("https://*.example.com", "https://a.example.com", True),
        ("https://*.example.com", "https://a.b.example.com", True),
        ("https://*.example.com", "https://example.com", False),
        ("https://*.example.com", "https://evilexample.com", False),
        ("https://*.example.com", "http://a.example.com", False),
        ("https://*.example.com", "https://a.example.com.evil.net", False),
        (re.compile(r"https://pr-\d+\.preview\.example"), "https://pr-12.preview.example", True),
        (re.compile(r"https://pr-\d+\.preview\.example"), "https://pr-12.preview.example.evil", False),
        (lambda origin: origin.endswith(".internal"), "http://x.internal", True),
        (lambda origin: origin.endswith(".internal"), "http://x.external", False),
        ([SITE], SITE + ", https://evil.example", False),  # two origins in one field: not an origin
        ([SITE], "null", False),
        (["null"], "null", True),
    ],
)
def test_origin_rules(rule, origin, allowed):
    assert CORS(allow_origins=rule).allows(origin) is allowed


def test_invalid_origins_are_refused():
    for bad in ("app.example.com", "https://app.example.com/path", "https://*", 42):
        with pytest.raises((ValueError, TypeError)):
            CORS(allow_origins=[bad])


def test_preflight_answered_without_the_handler():
    cors = CORS(allow_origins=[SITE], allow_methods=["PUT", "DELETE"], allow_headers=["X-Token", "Content-Type"], allow_credentials=True, max_age=300)
    app, calls = cors_app(cors)
    response = preflight(TestClient(app), SITE, "PUT", "x-token, content-type")
    assert response.status == 204 and calls == []
    assert response.headers["access-control-allow-origin"] == SITE
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-allow-methods"] == "PUT, DELETE"
    assert response.headers["access-control-allow-headers"] == "x-token, content-type"
    assert response.headers["access-control-max-age"] == "300"
    assert response.headers["vary"] == "Origin"


@pytest.mark.parametrize(
    ("origin", "method", "headers", "reason"),
    [
        ("https://evil.example", "PUT", None, "origin 'https://evil.example' is not allowed"),
        (SITE, "PATCH", None, "method PATCH is not allowed"),
        (SITE, "PUT", "x-token, x-admin", "header 'x-admin' is not allowed"),
        (SITE, "PUT", "bad header", "not a header"),
    ],
)
def test_refused_preflight_says_why_in_the_log(origin, method, headers, reason, caplog):
    app, calls = cors_app(CORS(allow_origins=[SITE], allow_methods=["PUT"], allow_headers=["X-Token"]))
    with caplog.at_level(logging.INFO, logger="fasthttp.cors"):
        response = preflight(TestClient(app), origin, method, headers)
    assert response.status == 403 and calls == []
    assert "access-control-allow-origin" not in response.headers
    assert reason in caplog.text
    assert reason.encode() in response.body


def test_safelisted_methods_and_headers_need_no_listing():
    app, _ = cors_app(CORS(allow_origins=[SITE]))
    response = preflight(TestClient(app), SITE, "GET", "accept-language")
    assert response.status == 204


def test_any_method_and_header():
    app, _ = cors_app(CORS(allow_origins=[SITE], allow_methods="*", allow_headers="*"))
    response = preflight(TestClient(app), SITE, "DELETE", "x-anything")
    assert response.status == 204
    assert response.headers["access-control-allow-methods"] == "DELETE"
    assert response.headers["access-control-allow-headers"] == "x-anything"


def test_plain_options_is_not_a_preflight():
    app, _ = cors_app(CORS(allow_origins=[SITE]))
    response = TestClient(app).options("/api", headers={"Origin": SITE})
    assert response.status == 204 and "GET" in response.headers["allow"]
    assert response.headers["access-control-allow-origin"] == SITE


def test_route_level_cors_answers_the_preflight_of_a_route_without_options():
    cors = CORS(allow_origins=[SITE], allow_methods=["PUT"])
    app, calls = cors_app(cors, middleware=[cors])

    @app.get("/other")
    def other(request):
        return "other"

    client = TestClient(app)
    response = preflight(client, SITE, "PUT")
    assert response.status == 204 and calls == []
    assert response.headers["access-control-allow-origin"] == SITE
    assert preflight(client, "https://evil.example", "PUT").status == 403
    # The actual request gets its fields from the route's middleware.
    assert client.put("/api", headers={"Origin": SITE}).headers["access-control-allow-origin"] == SITE
    # A route without CORS keeps the plain automatic OPTIONS.
    plain = client.options("/other", headers={"Origin": SITE, "Access-Control-Request-Method": "GET"})
    assert plain.status == 204 and "access-control-allow-origin" not in plain.headers
    # So does a plain OPTIONS to the CORS route (no Access-Control-Request-Method).
    assert "access-control-allow-origin" not in client.options("/api").headers


def test_route_level_cors_with_path_parameters():
    app = App()

    @app.put("/items/:id<int>", middleware=[CORS(allow_origins=[SITE], allow_methods=["PUT"])])
    def item(request):
        return {"id": request.params["id"]}

    client = TestClient(app)
    response = client.options("/items/7", headers={"Origin": SITE, "Access-Control-Request-Method": "PUT"})
    assert response.status == 204 and response.headers["access-control-allow-methods"] == "PUT"


def test_errors_from_inner_middleware_carry_cors_fields():
    # A 429 from a rate limit installed after CORS: the page can read it (and its Retry-After).
    app = App()
    app.add_middleware(CORS(allow_origins=[SITE], expose_headers=["Retry-After"]))
    app.add_middleware(RateLimit(1, per=60))
    app.get("/")(lambda request: "ok")
    client = TestClient(app)
    client.get("/", headers={"Origin": SITE})
    refused = client.get("/", headers={"Origin": SITE})
    assert refused.status == 429 and refused.headers["access-control-allow-origin"] == SITE


def test_async_handler_and_shared_response_objects():
    from fasthttp.responses import Response

    shared = Response(b"x", 200, [(b"Content-Type", b"text/plain")])
    app = App()
    app.add_middleware(CORS(allow_origins=[SITE]))

    @app.get("/shared")
    async def handler(request):
        return shared

    client = TestClient(app)
    assert client.get("/shared", headers={"Origin": SITE}).headers["access-control-allow-origin"] == SITE
    assert shared.fields == [(b"Content-Type", b"text/plain")]  # copied, never changed in place
    assert "access-control-allow-origin" not in client.get("/shared", headers={"Origin": "https://x.example"}).headers
