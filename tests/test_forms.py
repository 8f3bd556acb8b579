"""``fasthttp.forms``: urlencoded bodies, the collected :class:`FormData` with spooled files, and
the streaming :class:`MultipartReader`, both over the ``fasthttp.multipart`` parser (tested in
``test_multipart.py``). A property test collects random forms at random chunk boundaries.
"""

from __future__ import annotations

import asyncio
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fasthttp.errors import BadRequest, ContentTooLarge, HttpError
from fasthttp.forms import (
    FormData,
    FormLimits,
    MultipartReader,
    SpoolBudget,
    UploadFile,
    codec_for,
    parse_urlencoded,
    read_multipart,
)

from helpers_multipart import (
    CHROME,
    CHROME_BOUNDARY,
    CHROME_PARTS,
    CLASSIC,
    FIREFOX,
    FIREFOX_BOUNDARY,
    FIREFOX_PARTS,
    encode_multipart,
    forms,
)

# -- helpers ---------------------------------------------------------------------------------------


def run(coro):
    return asyncio.run(coro)


async def chunked(data: bytes, size: int = 7):
    for i in range(0, len(data), size):
        yield data[i : i + size]


# -- read_multipart: random forms (property) --------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forms(), st.integers(1, 64))
def test_random_forms_collect_into_form_data_with_spooling(form, spool_size):
    fields, boundary, body, cuts = form

    async def pieces():
        start = 0
        for cut in sorted(cuts):
            yield body[start:cut]
            start = cut
        yield body[start:]

    collected = run(read_multipart(pieces(), boundary, FormLimits(spool_size=spool_size)))
    try:
        got = []
        for name, value in collected.items():
            if isinstance(value, UploadFile):
                got.append((name, value.filename, value.file.read()))
            else:
                got.append((name, None, value))
        want = [(n, f, v) for n, v, f, _ in fields]
        assert got == want
    finally:
        collected.close()


# -- read_multipart: FormData and UploadFile ------------------------------------------------------------------


def test_read_multipart_collects_fields_and_files():
    form = run(read_multipart(chunked(CHROME), CHROME_BOUNDARY))
    try:
        assert form["title"] == "Café €"
        doc = form["doc"]
        assert isinstance(doc, UploadFile)
        assert doc.name == "doc" and doc.filename == 'résumé "final".pdf' and doc.content_type == "application/pdf"
        assert doc.headers["content-type"] == "application/pdf"
        assert doc.size == len(CHROME_PARTS[1][4]) and doc.in_memory
        assert run(doc.read()) == CHROME_PARTS[1][4]
        assert form["empty"].filename == "" and form["empty"].size == 0
        assert form.keys() == ["title", "doc", "empty"] and len(form) == 3
        assert form.files == [doc, form["empty"]]
    finally:
        form.close()
    assert doc.closed


def test_a_file_past_the_spool_size_moves_to_an_anonymous_temporary_file(tmp_path):
    content = os.urandom(300_000)
    body = encode_multipart([("f", content, "big.bin", "application/octet-stream")], "b")
    form = run(read_multipart(chunked(body, 65536), "b", FormLimits(spool_size=100_000, spool_dir=str(tmp_path))))
    upload = form["f"]
    try:
        assert not upload.in_memory and upload.size == len(content)
        stat = os.fstat(upload.file.fileno())
        assert stat.st_size == len(content)
        assert stat.st_nlink == 0  # never linked into the directory: nothing to leak
        assert os.listdir(tmp_path) == []

        async def read_back():
            first = await upload.read(10)
            await upload.seek(0)
            return first, await upload.read()

        first, whole = run(read_back())
        assert first == content[:10] and whole == content
    finally:
        form.close()
    assert upload.closed


def test_small_files_stay_in_memory():
    body = encode_multipart([("f", b"x" * 1000, "small.bin", None)], "b")
    form = run(read_multipart(chunked(body), "b", FormLimits(spool_size=1000)))
    assert form["f"].in_memory and form["f"].file.read() == b"x" * 1000
    form.close()


def test_files_move_to_disk_early_when_the_memory_budget_runs_out():
    body = encode_multipart([(f"f{i}", b"x" * 600, f"{i}.bin", None) for i in range(3)], "b")
    form = run(read_multipart(chunked(body, 100), "b", FormLimits(spool_size=1000, max_memory=1000, spool_min=500)))
    try:
        assert [f.in_memory for f in form.files] == [True, False, False]
        assert all(f.file.read() == b"x" * 600 for f in form.files)
    finally:
        form.close()


def test_text_fields_past_the_memory_budget_are_a_413():
    body = encode_multipart([(f"a{i}", "x" * 600, None, None) for i in range(2)], "b")
    with pytest.raises(ContentTooLarge) as info:
        run(read_multipart(chunked(body), "b", FormLimits(max_memory=1000)))
    assert info.value.status == 413


def test_files_created_before_an_error_are_closed():
    created = []
    original = UploadFile.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        created.append(self)

    body = encode_multipart([("f", b"data", "a.bin", None), ("g", b"data", "b.bin", None)], "b")[:-10]
    UploadFile.__init__ = spy
    try:
        with pytest.raises(BadRequest):
            run(read_multipart(chunked(body), "b"))
    finally:
        UploadFile.__init__ = original
    assert len(created) == 2 and all(f.closed for f in created)


def test_text_fields_are_decoded_with_their_charset():
    body = encode_multipart([("a", "caf\xe9".encode("latin-1"), None, "text/plain; charset=iso-8859-1")], "b")
    assert run(read_multipart(chunked(body), "b"))["a"] == "café"


def test_a_text_field_that_is_not_valid_utf8_is_a_400():
    body = encode_multipart([("a", b"\xff\xfe", None, None)], "b")
    with pytest.raises(BadRequest) as info:
        run(read_multipart(chunked(body), "b"))
    assert info.value.status == 400


def test_a_text_field_in_an_unknown_charset_is_a_415():
    body = encode_multipart([("a", b"x", None, "text/plain; charset=klingon")], "b")
    with pytest.raises(HttpError) as info:
        run(read_multipart(chunked(body), "b"))
    assert info.value.status == 415


def test_read_multipart_stops_at_the_close_delimiter():
    async def body_then_stall():
        yield CLASSIC
        await asyncio.Event().wait()  # a client that never ends its body: not waited for
        yield b""  # pragma: no cover

    form = run(asyncio.wait_for(read_multipart(body_then_stall(), "AaB03x"), 5))
    assert form["submit-name"] == "Larry"
    form.close()


def test_an_upload_file_closes_itself_when_collected():
    upload = UploadFile("x")
    file = upload.file
    del upload
    assert file.closed


# -- FormData ----------------------------------------------------------------------------------------------


def test_form_data_is_multi_valued():
    form = FormData([("a", "1"), ("b", "2"), ("a", "3")])
    assert form["a"] == "1" and form.get("a") == "1" and form.getall("a") == ["1", "3"]
    assert form.get("zzz") is None and form.get("zzz", "d") == "d" and form.getall("zzz") == []
    assert "b" in form and "zzz" not in form
    assert list(form) == ["a", "b"] and form.keys() == ["a", "b"] and form.values() == ["1", "2"]
    assert form.items() == [("a", "1"), ("b", "2"), ("a", "3")] and len(form) == 3
    assert form == FormData([("a", "1"), ("b", "2"), ("a", "3")]) and form != FormData()
    with pytest.raises(KeyError):
        form["zzz"]


def test_form_data_to_dict_lists_repeated_names_only():
    form = FormData([("a", "1"), ("b", "2"), ("a", "3"), ("c", "x"), ("c", "y"), ("c", "z")])
    assert form.to_dict() == {"a": ["1", "3"], "b": "2", "c": ["x", "y", "z"]}


# -- urlencoded ------------------------------------------------------------------------------------------------


def test_urlencoded_pairs_in_order_with_repeats():
    assert parse_urlencoded(b"a=1&b=2&a=3") == [("a", "1"), ("b", "2"), ("a", "3")]


def test_urlencoded_plus_is_space_and_percent_escapes_are_utf8():
    assert parse_urlencoded(b"q=caf%C3%A9+au+lait&x%2By=1%2B1") == [("q", "café au lait"), ("x+y", "1+1")]


def test_urlencoded_empty_pieces_are_skipped_and_a_bare_name_has_an_empty_value():
    assert parse_urlencoded(b"&a=&&b&c==x&") == [("a", ""), ("b", ""), ("c", "=x")]


def test_urlencoded_an_empty_body_has_no_fields():
    assert parse_urlencoded(b"") == []


def test_urlencoded_invalid_escapes_are_kept_literally():
    assert parse_urlencoded(b"a=%zz%4") == [("a", "%zz%4")]


def test_urlencoded_in_another_charset():
    assert parse_urlencoded(b"a=caf%E9", "iso-8859-1") == [("a", "café")]


@pytest.mark.parametrize("body", [b"a=%C3%28", b"a=\xff", b"%ff=1"], ids=["escaped", "raw", "name"])
def test_urlencoded_text_not_valid_utf8_is_a_400(body):
    with pytest.raises(BadRequest) as info:
        parse_urlencoded(body)
    assert info.value.status == 400


def test_urlencoded_too_many_fields_is_a_413():
    assert len(parse_urlencoded(b"&".join(b"a=1" for _ in range(5)) + b"&&&", limits=FormLimits(max_parts=5))) == 5
    with pytest.raises(ContentTooLarge) as info:
        parse_urlencoded(b"&".join(b"a=1" for _ in range(6)), limits=FormLimits(max_parts=5))
    assert info.value.status == 413


def test_urlencoded_body_past_the_memory_budget_is_a_413():
    with pytest.raises(ContentTooLarge) as info:
        parse_urlencoded(b"a=" + b"x" * 100, limits=FormLimits(max_memory=100))
    assert info.value.status == 413


@pytest.mark.parametrize("charset", ["klingon", "utf-7", "UTF7", "unicode_escape", "rot13", "base64"])
def test_unknown_or_unsafe_charsets_are_a_415(charset):
    with pytest.raises(HttpError) as info:
        codec_for(charset)
    assert info.value.status == 415


# -- MultipartReader: streaming ---------------------------------------------------------------------------------


def test_streaming_parts_in_order():
    async def scenario():
        out = []
        async for part in MultipartReader(chunked(FIREFOX, 5), FIREFOX_BOUNDARY):
            pieces = [chunk async for chunk in part.stream()]
            assert all(pieces)
            out.append((part.name, part.filename, part.content_type, b"".join(pieces)))
        return out

    assert run(scenario()) == [(n, f, c, d) for n, f, c, _, d in FIREFOX_PARTS]


def test_streaming_read_and_text():
    async def scenario():
        reader = MultipartReader(chunked(CHROME, 3), CHROME_BOUNDARY)
        title = await reader.next_part()
        text = await title.text()
        doc = await reader.next_part()
        data = await doc.read()
        again = await doc.read()  # the content is not kept: a second read is empty
        return text, data, again

    assert run(scenario()) == ("Café €", CHROME_PARTS[1][4], b"")


def test_streaming_skips_what_a_handler_leaves_unread():
    async def scenario():
        names = []
        async for part in MultipartReader(chunked(CHROME, 4), CHROME_BOUNDARY):
            names.append(part.name)
        return names

    assert run(scenario()) == ["title", "doc", "empty"]


def test_streaming_a_part_after_moving_on_is_an_error():
    async def scenario():
        reader = MultipartReader(chunked(CLASSIC), "AaB03x")
        first = await reader.next_part()
        await reader.next_part()
        with pytest.raises(RuntimeError):
            await first.read()

    run(scenario())


def test_streaming_a_body_without_its_close_delimiter_is_a_400():
    async def scenario():
        async for part in MultipartReader(chunked(CLASSIC[: -len(b"--AaB03x--\r\n")]), "AaB03x"):
            await part.read()

    with pytest.raises(BadRequest) as info:
        run(scenario())
    assert info.value.status == 400


def test_streaming_enforces_the_limits():
    body = encode_multipart([("f", b"y" * 100, "f.bin", None)], "b")

    async def scenario():
        async for part in MultipartReader(chunked(body), "b", FormLimits(max_file_size=50)):
            await part.read()

    with pytest.raises(ContentTooLarge) as info:
        run(scenario())
    assert info.value.status == 413


# -- bounds on temporary files (per form, per process) ----------------------------------------------

# The probe's form: a text field spends the memory budget, then many one-byte file parts.
# Before: each of them got its own temporary file (about 1,000 per request).
def hostile_form(files: int, text: int = 1000) -> bytes:
    parts = [("t", "x" * text, None, None)] + [(f"f{i}", b"x", f"{i}.bin", None) for i in range(files)]
    return encode_multipart(parts, "b")


def test_small_file_parts_stay_in_memory_past_the_budget():
    limits = FormLimits(max_memory=1000, spool_budget=SpoolBudget(1000))
    form = run(read_multipart(chunked(hostile_form(50), 4096), "b", limits))
    try:
        assert all(f.in_memory for f in form.files) and len(form.files) == 50
        assert limits.spool_budget.open == 0
    finally:
        form.close()


def test_more_file_parts_than_max_files_is_a_413():
    with pytest.raises(ContentTooLarge, match="files"):
        run(read_multipart(chunked(hostile_form(101), 4096), "b", FormLimits()))
    form = run(read_multipart(chunked(hostile_form(100), 4096), "b", FormLimits()))
    assert len(form.files) == 100
    form.close()


def test_the_spool_budget_is_a_503_and_every_spooled_file_returns_its_share():
    budget = SpoolBudget(2)
    limits = FormLimits(max_memory=100, spool_size=100, spool_min=0, spool_budget=budget)
    body = encode_multipart([(f"f{i}", b"x" * 200, f"{i}.bin", None) for i in range(3)], "b")
    with pytest.raises(HttpError) as info:
        run(read_multipart(chunked(body, 64), "b", limits))
    assert info.value.status == 503 and info.value.headers == {"Retry-After": "1"}
    assert budget.open == 0  # the files spooled before the refusal were closed
    body = encode_multipart([(f"f{i}", b"x" * 200, f"{i}.bin", None) for i in range(2)], "b")
    form = run(read_multipart(chunked(body, 64), "b", limits))
    assert budget.open == 2 and not any(f.in_memory for f in form.files)
    form.close()
    form.close()  # closing twice returns nothing twice
    assert budget.open == 0


def _spool_fds(directory) -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith(str(directory)):
                count += 1
        except OSError:
            pass
    return count


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
@pytest.mark.parametrize("budget_size", [1000, 12], ids=["per-request", "per-server"])
def test_concurrent_hostile_uploads_hold_a_bounded_number_of_files(loop, tmp_path, budget_size):
    # Resource exhaustion, asserted on the bound (descriptors), not on time: six concurrent
    # forms of 1,000 file parts, each part too big for memory once the text spent the budget.
    from fasthttp import App

    from helpers_server import Client, build_request, run as run_on, serving

    peak = [0]

    class Watched(SpoolBudget):
        def acquire(self) -> None:
            super().acquire()
            # The files open now, and the one about to be created.
            peak[0] = max(peak[0], _spool_fds(tmp_path) + 1)

    budget = Watched(budget_size)
    limits = FormLimits(max_memory=1000, spool_min=0, max_files=10, spool_dir=str(tmp_path), spool_budget=budget)
    app = App()

    @app.post("/upload")
    async def upload(request):
        form = await request.form(limits)
        return str(len(form.files))

    body = hostile_form(999)  # 1,000 parts: max_parts is not what refuses it
    request = build_request("POST", "/upload", headers=[("Content-Type", "multipart/form-data; boundary=b")], body=body)

    async def one(server):
        client = await Client.connect(server)
        try:
            await client.send(request)
            return (await client.read_response()).status
        finally:
            await client.close()

    async def scenario():
        async with serving(app) as server:
            statuses = await asyncio.gather(*(one(server) for _ in range(6)))
        return statuses

    statuses = run_on(loop, scenario())
    # Before: one temporary file per part, about 6,000 here. After: a 413 past max_files (10
    # per request), a 503 past the process's budget, and never more files open than either.
    assert set(statuses) <= {413, 503}, statuses
    assert 10 <= peak[0] <= min(6 * 10, budget_size)
    assert budget.open == 0 and _spool_fds(tmp_path) == 0
