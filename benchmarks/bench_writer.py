"""Response-head serialization: the compiled writer against its pure twin.

Each case runs once per twin (``impl`` = ``py`` / ``c``) in its own benchmark group, so the
report puts the two side by side. The compiled twin must be at least 5x the pure one on every
case, and the plaintext response (the TechEmpower-style hot path) well under a microsecond.
Run: ``python -m pytest benchmarks/bench_writer.py`` (timing), ``--benchmark-disable`` (CI).
"""

from __future__ import annotations

import pytest

PLAINTEXT_FIELDS = [(b"content-type", b"text/plain")]
PLAINTEXT_BODY = b"Hello, World!"

JSON_FIELDS = [
    (b"Content-Type", b"application/json"),
    (b"Cache-Control", b"no-store"),
    (b"Vary", b"Accept-Encoding"),
    (b"X-Request-Id", b"3f2a9c1e-5b7d-4e0a-9c4f-1d2e3f4a5b6c"),
]
JSON_BODY = b'{"message":"Hello, World!"}'

TEN_FIELDS = [
    (b"Content-Type", b"text/html; charset=utf-8"),
    (b"Cache-Control", b"public, max-age=3600"),
    (b"ETag", b'"33a64df551425fcc55e4d42a148795d9f25f89d4"'),
    (b"Last-Modified", b"Wed, 21 Oct 2015 07:28:00 GMT"),
    (b"Vary", b"Accept-Encoding"),
    (b"X-Content-Type-Options", b"nosniff"),
    (b"X-Frame-Options", b"DENY"),
    (b"Strict-Transport-Security", b"max-age=63072000; includeSubDomains"),
    (b"Set-Cookie", b"session=abc123; Path=/; HttpOnly; Secure"),
    (b"Set-Cookie", b"theme=dark; Path=/"),
]


@pytest.mark.benchmark(group="writer: write_response plaintext")
def test_write_response_plaintext(benchmark, impl):
    out = benchmark(impl.writer.write_response, 200, PLAINTEXT_FIELDS, PLAINTEXT_BODY)
    assert out.startswith(b"HTTP/1.1 200 OK\r\nDate: ")
    assert out.endswith(b"\r\ncontent-type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!")


@pytest.mark.benchmark(group="writer: write_response json, 4 fields")
def test_write_response_json(benchmark, impl):
    out = benchmark(impl.writer.write_response, 200, JSON_FIELDS, JSON_BODY, server=b"fasthttp")
    assert out.startswith(b"HTTP/1.1 200 OK\r\nDate: ")
    assert b"\r\nServer: fasthttp\r\nContent-Type: application/json\r\n" in out
    assert out.endswith(b"\r\nContent-Length: 27\r\n\r\n" + JSON_BODY)


@pytest.mark.benchmark(group="writer: write_head chunked")
def test_write_head_chunked(benchmark, impl):
    out = benchmark(impl.writer.write_head, 200, JSON_FIELDS[:1], chunked=True)
    assert out.startswith(b"HTTP/1.1 200 OK\r\nDate: ")
    assert out.endswith(b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")


@pytest.mark.benchmark(group="writer: write_fields, 10 fields")
def test_write_fields_ten(benchmark, impl):
    out = benchmark(impl.writer.write_fields, TEN_FIELDS)
    assert out == b"".join(b"%s: %s\r\n" % pair for pair in TEN_FIELDS)


STATUS_CODES = (200, 201, 204, 206, 301, 302, 304, 400, 401, 403, 404, 405, 429, 500, 502, 503)


def _status_lines(status_line):
    return list(map(status_line, STATUS_CODES))


@pytest.mark.benchmark(group="writer: status_line x16")
def test_status_line(benchmark, impl):
    # NOTE: one compiled status_line costs about as much as the harness's own call (~0.1 us), so
    # a single call measures the harness. map() over 16 codes amortises it; divide by 16.
    out = benchmark(_status_lines, impl.writer.status_line)
    assert len(out) == len(STATUS_CODES)
    assert out[10] == b"HTTP/1.1 404 Not Found\r\n"
    assert all(line.startswith(b"HTTP/1.1 %d " % code) for code, line in zip(STATUS_CODES, out))
