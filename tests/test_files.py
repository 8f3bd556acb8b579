"""``fasthttp.files``: ``Content-Disposition`` (RFC 6266), :class:`FileResponse` plans
(validators, conditional requests, ranges), and files served end to end over loopback on both
event loops: whole, by ranges (RFC 9110 §14), conditionally (RFC 9110 §13), over TLS."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from fasthttp import App
from fasthttp.dates import parse_http_date
from fasthttp.files import FileResponse, content_disposition
from fasthttp.headers import Headers
from fasthttp.responses import Response

from helpers_server import Client, run, serving

T = 784111777  # Sun, 06 Nov 1994 08:49:37 GMT, the RFC 9110 example date
LM = "Sun, 06 Nov 1994 08:49:37 GMT"
LATER = "Sun, 06 Nov 1994 08:49:38 GMT"
EARLIER = "Sun, 06 Nov 1994 08:49:36 GMT"
DATA = bytes(range(256)) * 4  # 1 KiB


def make_file(directory, name: str = "blob", data: bytes = DATA):
    path = directory / name
    path.write_bytes(data)
    os.utime(path, ns=(T * 10**9, T * 10**9))
    return path


def etag_of(path, weak: bool = False) -> str:
    st = os.stat(path)
    return ("W/" if weak else "") + f'"{st.st_mtime_ns:x}-{st.st_size:x}"'


def exchange(loop, app, *requests, **options):
    """Send each ``(method, target, headers)`` on one connection; the responses, in order."""

    async def scenario():
        async with serving(app, **options) as server:
            client = await Client.connect(server)
            try:
                return [await client.request(m, t, headers=h) for m, t, h in requests]
            finally:
                await client.close()

    return run(loop, scenario())


def get(loop, app, target="/f", headers=None, method="GET", **options):
    return exchange(loop, app, (method, target, headers or []), **options)[0]


def file_app(path, **options):
    app = App()
    app.get("/f")(lambda request: FileResponse(path, **options))
    return app


def parse_byteranges(content_type: str, body: bytes) -> list[tuple[list[tuple[str, str]], bytes]]:
    """The parts of a multipart/byteranges body: ``(fields, data)`` each."""
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    assert body.startswith(b"--" + boundary + b"\r\n")
    assert body.endswith(b"\r\n--" + boundary + b"--\r\n")
    inner = body[len(boundary) + 4 : -(len(boundary) + 8)]
    parts = []
    for chunk in inner.split(b"\r\n--" + boundary + b"\r\n"):
        head, _, data = chunk.partition(b"\r\n\r\n")
        fields = [tuple(x.strip() for x in line.decode().split(":", 1)) for line in head.split(b"\r\n")]
        parts.append((fields, data))
    return parts


# -- Content-Disposition (RFC 6266) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename, disposition, expected",
    [
        ("report.pdf", "attachment", 'attachment; filename="report.pdf"'),
        ("report.pdf", "inline", 'inline; filename="report.pdf"'),
        (None, "inline", "inline"),
        ("naïve résumé.txt", "attachment", "attachment; filename=\"na_ve r_sum_.txt\"; filename*=UTF-8''na%C3%AFve%20r%C3%A9sum%C3%A9.txt"),
        ('a"b%c.txt', "attachment", "attachment; filename=\"a_b_c.txt\"; filename*=UTF-8''a%22b%25c.txt"),
        ("../../etc/passwd", "attachment", 'attachment; filename="passwd"'),
        ("C:\\Users\\x\\evil.exe", "attachment", 'attachment; filename="evil.exe"'),
        ("bad\r\nname.txt", "attachment", 'attachment; filename="badname.txt"'),
        ("..", "attachment", 'attachment; filename="download"'),
        ("日本.txt", "attachment", "attachment; filename=\"__.txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt"),
    ],
)
def test_content_disposition_is_safe_and_has_a_utf8_form(filename, disposition, expected):
    assert content_disposition(filename, disposition) == expected


@pytest.mark.parametrize("disposition", ["", "at tachment", "a;b", "x\r\n"])
def test_content_disposition_refuses_an_invalid_type(disposition):
    with pytest.raises(ValueError):
        content_disposition("a.txt", disposition)


# -- FileResponse.plan (no I/O beyond stat) ------------------------------------------------------------------


def plan(path, method="GET", fields=(), **options):
    return FileResponse(path, **options).plan(method, Headers(list(fields)), os.stat(path))


def test_file_plan_adds_validators_and_accept_ranges(tmp_path):
    path = make_file(tmp_path)
    status, fields, parts, length = plan(path)
    assert (status, parts, length) == (200, [(0, 1024)], 1024)
    assert fields == [
        (b"Content-Type", b"application/octet-stream"),
        ("ETag", etag_of(path)),
        ("Last-Modified", LM),
        ("Accept-Ranges", "bytes"),
    ]


def test_file_plan_never_sends_a_last_modified_in_the_future(tmp_path):
    path = make_file(tmp_path)
    future = 4102444800  # 2100-01-01
    os.utime(path, (future, future))
    _, fields, _, _ = plan(path)
    last_modified = parse_http_date(dict((n, v) for n, v in fields if isinstance(n, str))["Last-Modified"])
    assert last_modified < future


def test_file_plan_keeps_validators_given_in_headers(tmp_path):
    path = make_file(tmp_path)
    status, fields, _, _ = plan(path, headers=[("ETag", '"v1"'), ("Last-Modified", EARLIER)])
    assert ("ETag", '"v1"') in fields and ("Last-Modified", EARLIER) in fields
    assert [n for n, _ in fields].count("ETag") == 1
    resp = plan(path, fields=[("If-None-Match", '"v1"')], headers=[("ETag", '"v1"')])
    assert resp.status == 304


def test_file_plan_can_leave_validators_and_ranges_out(tmp_path):
    path = make_file(tmp_path)
    _, fields, parts, _ = plan(path, fields=[("Range", "bytes=0-1")], etag=False, last_modified=False, accept_ranges=False)
    assert fields == [(b"Content-Type", b"application/octet-stream")] and parts == [(0, 1024)]


def test_file_plan_weak_etag(tmp_path):
    path = make_file(tmp_path)
    _, fields, _, _ = plan(path, weak_etag=True)
    assert ("ETag", etag_of(path, weak=True)) in fields


def test_file_plan_ignores_conditions_and_ranges_for_a_non_2xx_status(tmp_path):
    path = make_file(tmp_path)
    status, fields, parts, _ = plan(path, fields=[("If-None-Match", "*"), ("Range", "bytes=0-1")], status=404)
    assert status == 404 and parts == [(0, 1024)]
    assert [n for n, _ in fields] == [b"Content-Type"]


def test_file_plan_304_keeps_etag_and_cache_fields_only(tmp_path):
    path = make_file(tmp_path)
    resp = plan(path, fields=[("If-None-Match", etag_of(path))], headers=[("Cache-Control", "max-age=60")], filename="x.bin")
    assert type(resp) is Response and resp.status == 304 and resp.body == b""
    assert resp.fields == [("Cache-Control", "max-age=60"), ("ETag", etag_of(path))]


def test_file_plan_304_keeps_last_modified_when_there_is_no_etag(tmp_path):
    path = make_file(tmp_path)
    resp = plan(path, fields=[("If-Modified-Since", LM)], etag=False)
    assert resp.status == 304 and resp.fields == [("Last-Modified", LM)]


def test_file_plan_ignores_range_for_head_and_other_methods(tmp_path):
    path = make_file(tmp_path)
    assert plan(path, "HEAD", [("Range", "bytes=0-1")])[0] == 200
    assert plan(path, "POST", [("Range", "bytes=0-1")])[0] == 200


def test_file_plan_ignores_a_repeated_or_invalid_range(tmp_path):
    path = make_file(tmp_path)
    assert plan(path, fields=[("Range", "bytes=0-1"), ("Range", "bytes=2-3")])[0] == 200
    assert plan(path, fields=[("Range", "bytes=5-1")])[0] == 200
    assert plan(path, fields=[("Range", "lines=1-2")])[0] == 200


def test_file_plan_ignores_more_ranges_than_max_ranges(tmp_path):
    path = make_file(tmp_path)
    value = "bytes=" + ",".join(f"{i * 10}-{i * 10 + 1}" for i in range(5))
    assert plan(path, fields=[("Range", value)], max_ranges=4)[0] == 200
    assert plan(path, fields=[("Range", value)], max_ranges=5)[0] == 206


def test_file_plan_multipart_length_is_exact(tmp_path):
    path = make_file(tmp_path)
    status, fields, parts, length = plan(path, fields=[("Range", "bytes=0-9, 100-109, -5")])
    assert status == 206
    assert sum(len(p) if isinstance(p, bytes) else p[1] for p in parts) == length
    assert [p for p in parts if not isinstance(p, bytes)] == [(0, 10), (100, 10), (1019, 5)]
    assert fields[0][1].startswith("multipart/byteranges; boundary=")


def test_file_plan_416_for_an_empty_file(tmp_path):
    path = make_file(tmp_path, "empty.bin", b"")
    resp = plan(path, fields=[("Range", "bytes=0-")])
    assert resp.status == 416 and ("Content-Range", "bytes */0") in resp.fields


def test_file_plan_does_not_mutate_the_response(tmp_path):
    path = make_file(tmp_path)
    resp = FileResponse(path)
    before = list(resp.fields)
    resp.plan("GET", Headers([("Range", "bytes=0-1,5-6")]), os.stat(path))
    assert resp.fields == before


def test_file_response_guesses_content_types(tmp_path):
    assert FileResponse(tmp_path / "a.html").fields[0] == (b"Content-Type", "text/html; charset=utf-8")
    assert FileResponse(tmp_path / "a.png").fields[0] == (b"Content-Type", "image/png")
    assert FileResponse(tmp_path / "a.tar.gz").fields[0] == (b"Content-Type", b"application/octet-stream")
    assert FileResponse(tmp_path / "noext").fields[0] == (b"Content-Type", b"application/octet-stream")
    assert FileResponse(tmp_path / "a.png", content_type="image/x").fields[0] == (b"Content-Type", "image/x")


def test_file_response_disposition_defaults_to_the_file_name(tmp_path):
    assert ("Content-Disposition", 'attachment; filename="a.png"') in FileResponse(tmp_path / "a.png", disposition="attachment").fields
    assert ("Content-Disposition", 'inline; filename="b.png"') in FileResponse(tmp_path / "a.png", filename="b.png", disposition="inline").fields


# -- end to end: files --------------------------------------------------------------------------------------


def test_file_is_served_with_validators(loop, tmp_path):
    path = make_file(tmp_path)
    resp = get(loop, file_app(path))
    assert resp.status == 200 and resp.body == DATA
    assert resp.header("etag") == etag_of(path)
    assert resp.header("last-modified") == LM
    assert resp.header("accept-ranges") == "bytes"
    assert resp.header("content-length") == "1024"


def test_head_on_a_file_sends_the_head_only(loop, tmp_path):
    path = make_file(tmp_path)
    head, after = exchange(loop, file_app(path), ("HEAD", "/f", []), ("GET", "/f", [("Range", "bytes=0-0")]))
    assert head.status == 200 and head.body == b""
    assert head.header("content-length") == "1024" and head.header("etag") == etag_of(path)
    # The connection is still in step: the next response is read intact.
    assert after.status == 206 and after.body == DATA[:1]


def test_single_range_is_206_with_content_range(loop, tmp_path):
    path = make_file(tmp_path)
    resp = get(loop, file_app(path), headers=[("Range", "bytes=10-19")])
    assert resp.status == 206 and resp.body == DATA[10:20]
    assert resp.header("content-range") == "bytes 10-19/1024"
    assert resp.header("content-length") == "10"
    assert resp.header("content-type") == "application/octet-stream"


def test_suffix_and_open_ended_ranges(loop, tmp_path):
    path = make_file(tmp_path)
    suffix, open_ended = exchange(loop, file_app(path), ("GET", "/f", [("Range", "bytes=-100")]), ("GET", "/f", [("Range", "bytes=1000-")]))
    assert (suffix.status, suffix.header("content-range"), suffix.body) == (206, "bytes 924-1023/1024", DATA[-100:])
    assert (open_ended.status, open_ended.header("content-range"), open_ended.body) == (206, "bytes 1000-1023/1024", DATA[1000:])


def test_several_ranges_are_multipart_byteranges(loop, tmp_path):
    path = make_file(tmp_path, "page.html", DATA)
    resp = get(loop, file_app(path), headers=[("Range", "bytes=0-4, 500-509, -3")])
    assert resp.status == 206 and resp.header("content-range") is None
    ctype = resp.header("content-type")
    assert ctype.startswith("multipart/byteranges; boundary=")
    assert int(resp.header("content-length")) == len(resp.body)
    assert parse_byteranges(ctype, resp.body) == [
        ([("Content-Type", "text/html; charset=utf-8"), ("Content-Range", "bytes 0-4/1024")], DATA[0:5]),
        ([("Content-Type", "text/html; charset=utf-8"), ("Content-Range", "bytes 500-509/1024")], DATA[500:510]),
        ([("Content-Type", "text/html; charset=utf-8"), ("Content-Range", "bytes 1021-1023/1024")], DATA[1021:]),
    ]


def test_overlapping_ranges_are_coalesced_into_one(loop, tmp_path):
    path = make_file(tmp_path)
    resp = get(loop, file_app(path), headers=[("Range", "bytes=0-9,5-14")])
    assert resp.status == 206 and resp.header("content-range") == "bytes 0-14/1024" and resp.body == DATA[:15]


def test_unsatisfiable_range_is_416_with_the_length(loop, tmp_path):
    path = make_file(tmp_path)
    resp, after = exchange(loop, file_app(path), ("GET", "/f", [("Range", "bytes=2000-3000")]), ("GET", "/f", []))
    assert resp.status == 416 and resp.header("content-range") == "bytes */1024"
    assert after.status == 200 and after.body == DATA


def test_if_range_with_the_current_etag_gets_the_range(loop, tmp_path):
    path = make_file(tmp_path)
    resp = get(loop, file_app(path), headers=[("Range", "bytes=0-9"), ("If-Range", etag_of(path))])
    assert resp.status == 206 and resp.body == DATA[:10]


def test_if_range_with_another_etag_gets_the_whole_file(loop, tmp_path):
    path = make_file(tmp_path)
    resp = get(loop, file_app(path), headers=[("Range", "bytes=0-9"), ("If-Range", '"stale"')])
    assert resp.status == 200 and resp.body == DATA and resp.header("content-range") is None


def test_if_range_with_a_weak_etag_never_matches(loop, tmp_path):
    path = make_file(tmp_path)
    resp = get(loop, file_app(path, weak_etag=True), headers=[("Range", "bytes=0-9"), ("If-Range", etag_of(path, weak=True))])
    assert resp.status == 200 and resp.body == DATA


def test_if_range_with_a_date_matches_only_the_exact_last_modified(loop, tmp_path):
    path = make_file(tmp_path)
    exact, other = exchange(
        loop,
        file_app(path),
        ("GET", "/f", [("Range", "bytes=0-9"), ("If-Range", LM)]),
        ("GET", "/f", [("Range", "bytes=0-9"), ("If-Range", LATER)]),
    )
    assert exact.status == 206 and exact.body == DATA[:10]
    assert other.status == 200 and other.body == DATA


def test_if_range_with_a_date_never_matches_a_file_modified_in_the_current_second(loop, tmp_path):
    # RFC 9110 §8.8.2.2: such a Last-Modified is a weak validator (the file may change again
    # within the second), and §13.1.5: an If-Range date that is not strong is false.
    path = make_file(tmp_path)
    future = int(time.time()) + 3600  # the future is clamped to now: as recent as it gets
    os.utime(path, (future, future))
    first = get(loop, file_app(path))
    resp = get(loop, file_app(path), headers=[("Range", "bytes=0-9"), ("If-Range", first.header("last-modified"))])
    assert resp.status == 200 and resp.body == DATA


def test_if_none_match_with_the_current_etag_is_304(loop, tmp_path):
    path = make_file(tmp_path)
    resp, after = exchange(loop, file_app(path), ("GET", "/f", [("If-None-Match", etag_of(path))]), ("GET", "/f", []))
    assert resp.status == 304 and resp.header("etag") == etag_of(path)
    assert resp.header("content-length") is None and resp.header("content-type") is None
    assert resp.header("last-modified") is None
    assert after.status == 200 and after.body == DATA


def test_if_modified_since_not_modified_is_304(loop, tmp_path):
    path = make_file(tmp_path)
    same, earlier = exchange(loop, file_app(path), ("GET", "/f", [("If-Modified-Since", LM)]), ("GET", "/f", [("If-Modified-Since", EARLIER)]))
    assert same.status == 304
    assert earlier.status == 200 and earlier.body == DATA


def test_if_none_match_takes_precedence_over_if_modified_since(loop, tmp_path):
    path = make_file(tmp_path)
    resp = get(loop, file_app(path), headers=[("If-None-Match", '"other"'), ("If-Modified-Since", LM)])
    assert resp.status == 200


def test_if_match_mismatch_is_412(loop, tmp_path):
    path = make_file(tmp_path)
    resp = get(loop, file_app(path), headers=[("If-Match", '"other"')])
    assert resp.status == 412 and resp.body == b"Precondition Failed"


def test_if_match_with_the_current_etag_proceeds(loop, tmp_path):
    path = make_file(tmp_path)
    resp = get(loop, file_app(path), headers=[("If-Match", etag_of(path)), ("Range", "bytes=0-0")])
    assert resp.status == 206


def test_if_unmodified_since_before_the_change_is_412(loop, tmp_path):
    path = make_file(tmp_path)
    before, same = exchange(
        loop, file_app(path), ("GET", "/f", [("If-Unmodified-Since", EARLIER)]), ("GET", "/f", [("If-Unmodified-Since", LM)])
    )
    assert before.status == 412
    assert same.status == 200


def test_conditional_head_is_304_too(loop, tmp_path):
    path = make_file(tmp_path)
    resp = get(loop, file_app(path), headers=[("If-None-Match", "*")], method="HEAD")
    assert resp.status == 304


def test_download_has_a_content_disposition(loop, tmp_path):
    path = make_file(tmp_path)
    resp = get(loop, file_app(path, filename="rapport été.bin"))
    assert resp.header("content-disposition") == "attachment; filename=\"rapport _t_.bin\"; filename*=UTF-8''rapport%20%C3%A9t%C3%A9.bin"


@pytest.mark.parametrize("sendfile", [True, False], ids=["sendfile", "copy"])
def test_a_5_mb_file_whole_and_by_ranges(loop, tmp_path, sendfile):
    data = os.urandom(64 * 1024) * 80  # 5 MiB
    path = make_file(tmp_path, "big.bin", data)
    whole, middle, several = exchange(
        loop,
        file_app(path),
        ("GET", "/f", []),
        ("GET", "/f", [("Range", "bytes=1000000-3999999")]),
        ("GET", "/f", [("Range", "bytes=0-99999,2500000-2600000,-70000")]),
        sendfile=sendfile,
    )
    assert whole.status == 200 and whole.body == data
    assert middle.status == 206 and middle.body == data[1000000:4000000]
    parts = parse_byteranges(several.header("content-type"), several.body)
    assert [p[1] for p in parts] == [data[:100000], data[2500000:2600001], data[-70000:]]


def test_ranges_over_tls_are_read_from_the_file(loop, tls, tmp_path):
    # Under TLS there is no sendfile: the spans are read and written in chunks.
    path = make_file(tmp_path, "page.txt", DATA)

    async def scenario():
        async with serving(file_app(path, chunk_size=100), certfile=tls.cert_file, keyfile=tls.key_file) as server:
            client = await Client.connect(server, ssl_context=tls.client_context(), server_hostname="localhost")
            try:
                single = await client.request("GET", "/f", headers=[("Range", "bytes=100-349")])
                several = await client.request("GET", "/f", headers=[("Range", "bytes=0-0,1000-")])
                return single, several
            finally:
                await client.close()

    single, several = run(loop, scenario())
    assert single.status == 206 and single.body == DATA[100:350]
    assert [p[1] for p in parse_byteranges(several.header("content-type"), several.body)] == [DATA[:1], DATA[1000:]]


def test_a_client_leaving_in_the_middle_of_a_file_gets_no_other_connections_bytes(loop, tmp_path):
    # The zero-copy path writes to the socket's own descriptor until the socket's buffer is full,
    # then waits on (and writes to) a duplicate. Here the first client stops reading so the
    # server has to wait, then leaves; new connections that may reuse its descriptor number must
    # get exactly their own answers, and the server goes on serving the file whole.
    import socket

    big = os.urandom(64 * 1024) * 256  # 16 MiB: more than loopback's socket buffers hold
    path = make_file(tmp_path, "big.bin", big)
    small = make_file(tmp_path, "small.txt", DATA)
    app = App()
    app.get("/big")(lambda request: FileResponse(path))
    app.get("/small")(lambda request: FileResponse(small))

    async def scenario():
        async with serving(app, sendfile=True) as server:
            host, port = server.addresses[0][:2]
            reader, writer = await asyncio.open_connection(host, port)
            writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            writer.write(f"GET /big HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(1000)
            await asyncio.sleep(0.2)  # the server fills the socket and waits on it
            writer.transport.abort()
            answers = []
            for _ in range(4):
                client = await Client.connect(server)
                try:
                    answers.append(await client.request("GET", "/small"))
                finally:
                    await client.close()
            client = await Client.connect(server)
            try:
                whole = await client.request("GET", "/big")
            finally:
                await client.close()
            return head, answers, whole

    head, answers, whole = run(loop, scenario())
    assert head.startswith(b"HTTP/1.1 200 ")
    assert all(a.status == 200 and a.body == DATA for a in answers)
    assert whole.status == 200 and whole.body == big
