"""RateLimit (fasthttp/middleware/ratelimit.py): 429 with Retry-After and RateLimit-* fields, per
client address after trusted-proxy resolution or per key, app-wide and per route, bounded memory
under 100,000 sprayed addresses, and the Redis store shared by two app instances, failing open or
closed when the server freezes or dies (bounded by its timeout)."""

from __future__ import annotations

import logging
import socket
import threading

import pytest

from fasthttp import App
from fasthttp.middleware import RateLimit, RedisStore
from fasthttp.middleware.ratelimit import client_key
from fasthttp.testing import TestClient


def limited_app(limit: RateLimit, **options) -> App:
    app = App(**options)
    app.add_middleware(limit)

    @app.get("/")
    def home(request):
        return "ok"

    return app


def test_429_with_retry_after_and_ratelimit_fields():
    client = TestClient(limited_app(RateLimit(3, per=60)))
    first = client.get("/")
    assert first.status == 200
    assert first.headers["ratelimit-limit"] == "3"
    assert first.headers["ratelimit-remaining"] == "2"
    assert first.headers["ratelimit-policy"] == "3;w=60"
    assert 1 <= int(first.headers["ratelimit-reset"]) <= 60
    assert [client.get("/").headers["ratelimit-remaining"] for _ in range(2)] == ["1", "0"]
    refused = client.get("/")
    assert refused.status == 429
    # RFC 9110 §10.2.3: delay-seconds; one request comes back every 60/3 s.
    assert refused.headers["retry-after"] == "20"
    assert refused.headers["ratelimit-remaining"] == "0"
    assert b"Too Many Requests" in refused.body


def test_no_ratelimit_fields_when_headers_off():
    client = TestClient(limited_app(RateLimit(1, per=60, headers=False)))
    ok = client.get("/")
    assert ok.status == 200 and "ratelimit-limit" not in ok.headers
    refused = client.get("/")
    assert refused.status == 429 and refused.headers["retry-after"] == "60"
    assert "ratelimit-limit" not in refused.headers


def test_route_level_limit():
    app = App()

    @app.get("/login", middleware=[RateLimit(2, per=300, name="login")])
    def login(request):
        return "form"

    @app.get("/free")
    def free(request):
        return "free"

    client = TestClient(app)
    assert [client.get("/login").status for _ in range(3)] == [200, 200, 429]
    assert all(client.get("/free").status == 200 for _ in range(5))


def test_key_function_and_unlimited_requests():
    limit = RateLimit(1, per=60, key=lambda request: request.headers.get("x-api-key"))
    client = TestClient(limited_app(limit))
    assert client.get("/", headers={"X-API-Key": "a"}).status == 200
    assert client.get("/", headers={"X-API-Key": "a"}).status == 429
    assert client.get("/", headers={"X-API-Key": "b"}).status == 200
    # No key: not limited.
    assert all(client.get("/").status == 200 for _ in range(3))


def test_ipv6_clients_are_limited_by_their_64():
    limit = RateLimit(2, per=60)
    app = limited_app(limit)
    assert TestClient(app, client_address=("2001:db8:1:2::1", 1)).get("/").status == 200
    assert TestClient(app, client_address=("2001:db8:1:2:ffff::9", 1)).get("/").status == 200
    assert TestClient(app, client_address=("2001:db8:1:2::77", 1)).get("/").status == 429
    assert TestClient(app, client_address=("2001:db8:1:3::1", 1)).get("/").status == 200


def test_client_key_forms():
    class Req:
        def __init__(self, client):
            self.client = client

    assert client_key(Req(("192.0.2.7", 5))) == "192.0.2.7"
    assert client_key(Req(("::ffff:192.0.2.7", 5, 0, 0))) == "192.0.2.7"
    assert client_key(Req(("2001:db8::1", 5, 0, 0))) == "2001:db8::/64"
    assert client_key(Req("/run/app.sock")) == "/run/app.sock"
    assert client_key(Req("")) is None


def test_forwarded_for_from_an_untrusted_peer_does_not_escape_the_limit():
    # The TestClient's peer ("testclient") is not a trusted proxy: its X-Forwarded-For is ignored.
    client = TestClient(limited_app(RateLimit(2, per=60), proxy_headers=True, forwarded_allow_ips="127.0.0.1"))
    statuses = [client.get("/", headers={"X-Forwarded-For": f"198.51.100.{i}"}).status for i in range(3)]
    assert statuses == [200, 200, 429]


def test_forwarded_for_from_a_trusted_proxy_limits_each_client():
    client = TestClient(limited_app(RateLimit(1, per=60), proxy_headers=True, forwarded_allow_ips="*"))
    assert client.get("/", headers={"X-Forwarded-For": "198.51.100.1"}).status == 200
    assert client.get("/", headers={"X-Forwarded-For": "198.51.100.1"}).status == 429
    assert client.get("/", headers={"X-Forwarded-For": "198.51.100.2"}).status == 200


def test_100000_sprayed_addresses_keep_memory_bounded():
    """100,000 distinct client addresses (through a trusted proxy, pipelined on one connection to
    a real server): the limiter's table never holds more than max_entries, and a client that
    hammers throughout stays limited (the spraying does not evict it)."""
    limit = RateLimit(5, per=3600, max_entries=10_000, headers=False)
    app = limited_app(limit, proxy_headers=True, forwarded_allow_ips="*", max_requests_per_connection=None)
    sprayed, every = 100_000, 100  # the hammering client sends one request per 100 sprayed
    requests = []
    for i in range(sprayed):
        requests.append(b"GET / HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 10.%d.%d.%d\r\n\r\n" % (i >> 16 & 255, i >> 8 & 255, i & 255))
        if i % every == every - 1:
            requests.append(b"GET / HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n")
    # The server runs in a thread of this process, beside the writer and the reader: on a loaded
    # machine the GIL can hold the writer back for seconds. This test is about memory, not
    # timeouts, so the connection is not cut for a slow sender.
    server = app.start("127.0.0.1:0", keep_alive_timeout=120, header_timeout=120, write_timeout=120)
    peak = 0
    try:
        host, port = server.addresses[0][:2]
        with socket.create_connection((host, port), timeout=30) as sock:
            # A writer thread, so neither side blocks on a full socket buffer while the other writes.
            writer = threading.Thread(target=sock.sendall, args=(b"".join(requests),), daemon=True)
            writer.start()
            data = bytearray()
            seen = 0
            while seen < len(requests):
                chunk = sock.recv(1 << 20)
                assert chunk, f"the server closed the connection after {seen} answers: {bytes(data[-300:])!r}"
                # A status line may be split across reads: count from 8 bytes (one less than
                # b"HTTP/1.1 ") before the new bytes, where a split one ends and none is counted twice.
                start = max(0, len(data) - 8)
                data += chunk
                seen += data.count(b"HTTP/1.1 ", start)
                peak = max(peak, len(limit.store))  # type: ignore[arg-type]
            writer.join(30)
    finally:
        server.stop()
    answers = bytes(data).split(b"HTTP/1.1 ")[1:]
    assert len(answers) == len(requests)
    statuses = [answer[:3] for answer in answers]
    hammer = statuses[every :: every + 1]
    sprayers = [s for i, s in enumerate(statuses) if i % (every + 1) != every]
    assert sprayers.count(b"200") == sprayed
    assert hammer[:5] == [b"200"] * 5 and set(hammer[5:]) == {b"429"}
    assert peak <= 10_000 and len(limit.store) == 10_000  # type: ignore[arg-type]


def test_refuses_bad_configuration():
    with pytest.raises(ValueError):
        RateLimit(0, per=60)
    with pytest.raises(ValueError):
        RateLimit(5, per=0)
    with pytest.raises(TypeError):
        RateLimit(5, per=1, key="ip")  # type: ignore[arg-type]


# -- redis -------------------------------------------------------------------------------------------


def redis_app(url: str, **options) -> tuple[App, RedisStore]:
    store = RedisStore(url, timeout=0.5)
    app = limited_app(RateLimit(3, per=60, store=store, **options))
    app.on_shutdown(store.aclose)
    return app, store


def test_redis_limit_holds_across_two_instances(redis_server):
    app_a, _ = redis_app(redis_server.url)
    app_b, _ = redis_app(redis_server.url)
    with TestClient(app_a) as a, TestClient(app_b) as b:
        statuses = [a.get("/").status, b.get("/").status, a.get("/").status, b.get("/").status]
        refused = a.get("/")
    assert statuses == [200, 200, 200, 429]
    assert refused.status == 429 and refused.headers["retry-after"] == "20"
    assert refused.headers["ratelimit-limit"] == "3"


def test_redis_frozen_fails_open_by_default(redis_server, caplog):
    app, _ = redis_app(redis_server.url)
    with TestClient(app) as client:
        assert client.get("/").headers["ratelimit-remaining"] == "2"
        redis_server.pause()
        try:
            with caplog.at_level(logging.WARNING, logger="fasthttp.ratelimit"):
                response = client.get("/", timeout=10)
        finally:
            redis_server.resume()
    assert response.status == 200 and "ratelimit-limit" not in response.headers
    assert "failing open" in caplog.text


def test_redis_dead_fails_closed_when_asked(redis_server, caplog):
    app, _ = redis_app(redis_server.url, fail_open=False)
    with TestClient(app) as client:
        assert client.get("/").status == 200
        redis_server.stop()
        with caplog.at_level(logging.WARNING, logger="fasthttp.ratelimit"):
            response = client.get("/", timeout=10)
    assert response.status == 503 and response.headers["retry-after"] == "5"
    assert "failing closed" in caplog.text
