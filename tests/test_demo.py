"""The demo application (``fasthttp --demo``): an httpbin-style load-test target whose every
endpoint is bounded by :class:`fasthttp.demo.DemoLimits`. In process through ``TestClient``
(the real engine), plus a real server for the websocket echo and the README's command."""

from __future__ import annotations

import gzip
import json

import pytest

from fasthttp import demo
from fasthttp.demo import ENDPOINTS, DemoLimits, create_app
from fasthttp.testing import TestClient

SMALL = DemoLimits(max_bytes=1000, max_stream_bytes=5000, max_chunk=100, max_delay=0.2, max_redirects=3, max_events=5)


@pytest.fixture
def client():
    with TestClient(create_app(SMALL)) as c:
        yield c


def test_the_index_lists_every_endpoint(client):
    text = client.get("/").text
    assert text.startswith("fasthttp demo")
    for _, path, _ in ENDPOINTS:
        assert path in text


def test_the_default_app_is_the_module_attribute():
    assert demo.app is demo.app
    with TestClient(demo.app) as c:
        assert c.get("/json").json() == {"message": "Hello, World!"}


def test_anything_echoes_any_method_and_body(client):
    resp = client.post("/anything/a/b?x=1&x=2&y=3", json={"k": "v"}, headers={"X-Test": "t"})
    data = resp.json()
    assert data["method"] == "POST" and data["json"] == {"k": "v"}
    assert data["args"] == {"x": ["1", "2"], "y": "3"}
    assert data["headers"]["x-test"] == "t" and data["url"].endswith("/anything/a/b?x=1&x=2&y=3")
    form = client.put("/anything", form={"a": "1"}).json()
    assert form["form"] == {"a": "1"} and form["method"] == "PUT"
    assert client.get("/get").json()["method"] == "GET"


def test_headers_and_ip(client):
    assert client.get("/headers", headers={"X-A": "1"}).json()["headers"]["x-a"] == "1"
    assert "origin" in client.get("/ip").json()


def test_bytes_are_bounded_and_seedable(client):
    one = client.get("/bytes/1000?seed=7")
    assert len(one.body) == 1000 and one.body == client.get("/bytes/1000?seed=7").body
    refused = client.get("/bytes/1001")
    assert refused.status == 400 and "1000" in refused.text


def test_stream_bytes_are_chunked_and_bounded(client):
    resp = client.get("/stream-bytes/5000?chunk_size=100")
    assert len(resp.body) == 5000 and resp.headers["transfer-encoding"] == "chunked"
    assert client.get("/stream-bytes/5001").status == 400
    assert client.get("/stream-bytes/10?chunk_size=101").status == 400


def test_delay_is_bounded(client):
    assert client.get("/delay/10").json()["method"] == "GET"
    assert client.get("/delay/201").status == 400


def test_status_codes(client):
    assert client.get("/status/418").status == 418
    assert client.delete("/status/204").status == 204
    assert client.get("/status/201,202").status in (201, 202)
    assert client.get("/status/99").status == 400
    assert client.get("/status/abc").status == 400


def test_drip_is_bounded(client):
    resp = client.get("/drip?numbytes=5&duration=0.05&code=201")
    assert resp.status == 201 and resp.body == b"*****"
    assert client.get("/drip?numbytes=5&duration=1").status == 400
    assert client.get("/drip?numbytes=2000&duration=0").status == 400


@pytest.mark.parametrize("query", ["duration=nan", "duration=1e308", "duration=abc", "delay=inf", "duration=-1&delay=1"])
def test_drip_durations_that_are_not_finite_non_negative_numbers_are_400(client, query):
    # Before: float("nan") and 1e308 reached int() and the handler failed (500).
    assert client.get("/drip?numbytes=5&" + query).status == 400


def test_redirects_are_bounded(client):
    resp = client.get("/redirect/3")
    assert resp.status == 302 and resp.headers["location"] == "/redirect/2"
    assert client.get("/redirect/1").headers["location"] == "/get"
    assert client.get("/redirect/4").status == 400


def test_cookies_set_read_delete(client):
    assert client.get("/cookies/set?flavour=oat").status == 302
    assert client.get("/cookies").json() == {"cookies": {"flavour": "oat"}}
    client.get("/cookies/delete?flavour")
    assert client.get("/cookies").json() == {"cookies": {}}


@pytest.mark.parametrize("query", ["a=%0d%0aX-Evil:%201", "a%0d%0aX-Evil=1", "a%3Bb=c", "a=b%3B%20Domain%3Devil", "a=%00"])
def test_cookies_set_refuses_what_is_not_a_cookie_with_400(client, query):
    # RFC 6265 §4.1.1: the client's name or value, not the server, is at fault (was a 500).
    resp = client.get("/cookies/set?" + query)
    assert resp.status == 400 and "set-cookie" not in resp.headers


def test_cookies_delete_refuses_a_name_that_is_not_a_token_with_400(client):
    assert client.get("/cookies/delete?a%0d%0aX-Evil").status == 400


def test_gzip(client):
    resp = client.get("/gzip")
    assert resp.headers["content-encoding"] == "gzip"
    assert json.loads(gzip.decompress(resp.body))["gzipped"] is True


def test_range(client):
    whole = client.get("/range/30")
    assert whole.body == b"abcdefghijklmnopqrstuvwxyzabcd" and whole.headers["accept-ranges"] == "bytes"
    part = client.get("/range/30", headers={"Range": "bytes=25-27"})
    assert part.status == 206 and part.body == b"zab" and part.headers["content-range"] == "bytes 25-27/30"
    assert client.get("/range/30", headers={"Range": "bytes=40-"}).status == 416
    assert client.get("/range/1001").status == 400


def test_range_honours_if_range_and_head_as_a_file_would(client):
    # RFC 9110 §13.1.5: a weak or stale If-Range never holds; §14.2: Range is for GET only.
    for validator in ('W/"range30"', '"other"'):
        resp = client.get("/range/30", headers={"Range": "bytes=0-1", "If-Range": validator})
        assert resp.status == 200 and len(resp.body) == 30
    assert client.get("/range/30", headers={"Range": "bytes=0-1", "If-Range": '"range30"'}).status == 206
    assert client.head("/range/30", headers={"Range": "bytes=0-1"}).status == 200
    assert client.get("/range/30", headers={"If-None-Match": '"range30"'}).status == 304


def test_sse_is_bounded(client):
    resp = client.get("/sse?count=3&interval=0")
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert resp.text.count("event: tick") == 3 and "data: {\"id\": 2}" in resp.text
    assert client.get("/sse?count=6&interval=0").status == 400
    assert client.get("/sse?count=5&interval=100").status == 400  # 500 ms > max_delay


def test_websocket_echo(client):
    with client.websocket_connect("/ws/echo") as ws:
        ws.send("hello")
        assert ws.receive() == "hello"
        ws.send(b"\x00\x01")
        assert ws.receive() == b"\x00\x01"


def test_limits_must_be_positive():
    with pytest.raises(ValueError, match="max_delay"):
        DemoLimits(max_delay=0)
