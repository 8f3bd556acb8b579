"""``fasthttp.static``: the safe path join (never a file outside the root) and the static-file
handler, end to end over loopback on both event loops, including path traversal attempts."""

from __future__ import annotations

import os

import pytest

from fasthttp import App
from fasthttp.errors import HttpError
from fasthttp.files import FileResponse
from fasthttp.responses import RedirectResponse
from fasthttp.static import path_join_safe, split_url_path, static_files

from helpers_server import Client, run, serving

SECRET = b"top secret outside the root"


@pytest.fixture
def tree(tmp_path):
    """root/ with files, a subdirectory, dot files and links; outside/ holds the secret."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    root = tmp_path / "root"
    root.mkdir()
    (root / "index.html").write_text("<h1>home</h1>")
    (root / "hello.txt").write_text("hello, world")
    (root / "caf\u00e9.txt").write_text("coffee")
    (root / "sub").mkdir()
    (root / "sub" / "index.html").write_text("<h1>sub</h1>")
    (root / "sub" / "page.txt").write_text("a page")
    (root / "empty_dir").mkdir()
    (root / ".hidden").write_text("dot file")
    (root / ".well-known").mkdir()
    (root / ".well-known" / "security.txt").write_text("Contact: mailto:x@example.com")
    (root / "link_out").symlink_to(outside / "secret.txt")
    (root / "link_dir_out").symlink_to(outside)
    (root / "link_in").symlink_to(root / "hello.txt")
    (root / "sub" / "link_up").symlink_to("../hello.txt")
    return root


def fetch(loop, handler, *targets, method="GET", headers=None, raw=False, **options):
    """Responses to requests for each target on one connection (targets sent byte for byte)."""

    async def scenario():
        async with serving(handler, **options) as server:
            client = await Client.connect(server)
            try:
                out = []
                for target in targets:
                    out.append(await client.request(method, target, headers=headers))
                return out
            finally:
                await client.close()

    result = run(loop, scenario())
    return result if len(targets) > 1 else result[0]


# -- split_url_path ---------------------------------------------------------------------------------


def test_split_url_path_splits_before_decoding():
    assert split_url_path("/a/b%2Fc/%2e%2e/caf%C3%A9") == ["", "a", "b/c", "..", "café"]


def test_split_url_path_takes_raw_non_ascii_bytes_as_utf8():
    # The parser hands the target over as latin-1: these two characters are the bytes of "é".
    assert split_url_path("/caf\u00c3\u00a9") == ["", "café"]


@pytest.mark.parametrize("path", ["/%zz", "/%2", "/a%", "/%ff", "/%C3", "/\u00ff"])
def test_split_url_path_refuses_malformed_escapes_and_invalid_utf8(path):
    assert split_url_path(path) is None


# -- path_join_safe -------------------------------------------------------------------------------------


def test_path_join_safe_joins_inside_the_root(tree):
    assert path_join_safe(tree, "sub/page.txt") == os.path.realpath(tree / "sub" / "page.txt")
    assert path_join_safe(str(tree), "/hello.txt") == os.path.realpath(tree / "hello.txt")
    assert path_join_safe(tree, "./sub//page.txt") == os.path.realpath(tree / "sub" / "page.txt")
    assert path_join_safe(tree, "") == os.path.realpath(tree)


@pytest.mark.parametrize(
    "name",
    ["..", "../outside/secret.txt", "sub/../../outside/secret.txt", "sub/../hello.txt", "hello.txt\x00.png",
     "..\\outside\\secret.txt", "sub\\page.txt", "missing.txt", "/etc/passwd", "link_out", "link_dir_out/secret.txt"],
)
def test_path_join_safe_refuses_what_leaves_the_root_or_does_not_exist(tree, name):
    assert path_join_safe(tree, name) is None


def test_path_join_safe_follows_a_link_that_stays_inside(tree):
    assert path_join_safe(tree, "link_in") == os.path.realpath(tree / "hello.txt")
    assert path_join_safe(tree, "sub/link_up") == os.path.realpath(tree / "hello.txt")


def test_path_join_safe_trusts_links_with_follow_symlinks(tree):
    assert path_join_safe(tree, "link_out", follow_symlinks=True) == os.path.join(os.path.realpath(tree), "link_out")
    assert path_join_safe(tree, "../outside/secret.txt", follow_symlinks=True) is None


def test_path_join_safe_hidden_files_are_optional(tree):
    assert path_join_safe(tree, ".hidden") == os.path.realpath(tree / ".hidden")
    assert path_join_safe(tree, ".hidden", allow_hidden=False) is None


def test_path_join_safe_accepts_a_root_that_is_a_link(tree, tmp_path):
    alias = tmp_path / "alias"
    alias.symlink_to(tree)
    assert path_join_safe(alias, "hello.txt") == os.path.realpath(tree / "hello.txt")


def test_path_join_safe_wants_a_str():
    with pytest.raises(TypeError):
        path_join_safe("/", b"x")


# -- static_files: configuration and direct calls ---------------------------------------------------------


def test_static_files_checks_its_configuration(tree):
    with pytest.raises(ValueError):
        static_files(tree / "hello.txt")
    with pytest.raises(ValueError):
        static_files(tree, index="a/b.html")
    with pytest.raises(ValueError):
        static_files(tree, prefix="static")
    with pytest.raises(ValueError):
        static_files(tree, prefix="/static/")


class RoutedRequest:
    """What a request mounted on "/static/:path*" looks like to the handler."""

    def __init__(self, path, params, method="GET", query=""):
        self.method = method
        self.path = path
        self.query = query
        self.params = params


def test_static_files_takes_the_path_from_the_route_parameter(tree):
    handler = static_files(tree)
    resp = handler(RoutedRequest("/static/sub/page.txt", {"path": "sub/page.txt"}))
    assert isinstance(resp, FileResponse) and resp.path == os.path.realpath(tree / "sub" / "page.txt")
    resp = handler(RoutedRequest("/static/sub/page.txt", {"path": ("sub", "page.txt")}))
    assert resp.path == os.path.realpath(tree / "sub" / "page.txt")
    # Route values are already decoded: a "%" is a character, never decoded twice.
    with pytest.raises(HttpError) as info:
        handler(RoutedRequest("/static/%252e%252e", {"path": "%2e%2e/outside"}))
    assert info.value.status == 404


def test_a_routed_directory_serves_its_index_without_a_redirect(tree):
    # The router sends "/static/sub/" to "/static/sub" (its trailing-slash policy): redirecting
    # back to the slash form would loop.
    resp = static_files(tree)(RoutedRequest("/static/sub", {"path": "sub"}, query="v=1"))
    assert isinstance(resp, FileResponse) and resp.path == os.path.realpath(tree / "sub" / "index.html")
    resp = static_files(tree)(RoutedRequest("/static", {"path": ()}))
    assert resp.path == os.path.realpath(tree / "index.html")


def test_an_unrouted_directory_is_redirected_to_its_slash_form(tree):
    resp = static_files(tree)(RoutedRequest("/sub", {}, query="v=1"))
    assert isinstance(resp, RedirectResponse) and resp.status == 308 and resp.location == "/sub/?v=1"


def test_mounted_on_an_app_pattern_route(loop, tree):
    app = App()
    app.get("/static/:path*")(static_files(tree))
    page, index, root, escape = fetch(
        loop, app, "/static/sub/page.txt", "/static/sub", "/static", "/static/sub/..%2f..%2f..%2foutside%2fsecret.txt"
    )
    assert page.status == 200 and page.body == b"a page"
    assert index.status == 200 and index.body == b"<h1>sub</h1>"
    assert root.status == 200 and root.body == b"<h1>home</h1>"
    assert escape.status in (400, 404) and SECRET not in escape.body


def test_static_files_passes_headers_and_file_options(tree):
    handler = static_files(tree, headers={"Cache-Control": "max-age=3600"}, weak_etag=True)
    resp = handler(RoutedRequest("/hello.txt", {"path": "hello.txt"}))
    assert ("Cache-Control", "max-age=3600") in resp.fields and resp.weak_etag


# -- static_files over loopback -----------------------------------------------------------------------------


def test_a_file_is_served_with_type_validators_and_ranges(loop, tree):
    resp = fetch(loop, static_files(tree), "/hello.txt")
    st = os.stat(tree / "hello.txt")
    assert resp.status == 200 and resp.body == b"hello, world"
    assert resp.header("content-type") == "text/plain; charset=utf-8"
    assert resp.header("etag") == f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
    assert resp.header("last-modified") is not None and resp.header("accept-ranges") == "bytes"


def test_a_range_of_a_static_file(loop, tree):
    resp = fetch(loop, static_files(tree), "/hello.txt", headers=[("Range", "bytes=7-")])
    assert resp.status == 206 and resp.body == b"world" and resp.header("content-range") == "bytes 7-11/12"


def test_head_on_a_static_file(loop, tree):
    resp = fetch(loop, static_files(tree), "/hello.txt", method="HEAD")
    assert resp.status == 200 and resp.body == b"" and resp.header("content-length") == "12"


def test_the_root_and_a_directory_with_a_slash_serve_their_index(loop, tree):
    root, sub = fetch(loop, static_files(tree), "/", "/sub/")
    assert root.status == 200 and root.body == b"<h1>home</h1>"
    assert root.header("content-type") == "text/html; charset=utf-8"
    assert sub.status == 200 and sub.body == b"<h1>sub</h1>"


def test_a_directory_without_its_slash_is_redirected_with_308(loop, tree):
    plain, query = fetch(loop, static_files(tree), "/sub", "/sub?x=1&y=%20")
    assert (plain.status, plain.header("location"), plain.body) == (308, "/sub/", b"")
    assert query.header("location") == "/sub/?x=1&y=%20"


def test_a_redirect_never_becomes_a_network_path_reference(loop, tree):
    resp = fetch(loop, static_files(tree), "//sub")
    assert resp.status == 308 and resp.header("location") == "/sub/"


def test_a_directory_without_index_is_404(loop, tree):
    assert fetch(loop, static_files(tree), "/empty_dir/").status == 404
    assert fetch(loop, static_files(tree, index=None), "/sub/").status == 404


def test_percent_encoded_and_raw_utf8_names(loop, tree):
    encoded = fetch(loop, static_files(tree), "/caf%C3%A9.txt")
    assert encoded.status == 200 and encoded.body == b"coffee"


def test_methods_other_than_get_and_head_are_405(loop, tree):
    resp = fetch(loop, static_files(tree), "/hello.txt", method="DELETE")
    assert resp.status == 405 and resp.header("allow") == "GET, HEAD"


def test_a_prefix_is_stripped_from_the_request_path(loop, tree):
    handler = static_files(tree, prefix="/static")
    inside, sub, other, glued = fetch(loop, handler, "/static/hello.txt", "/static/sub", "/other/hello.txt", "/statichello.txt")
    assert inside.status == 200 and inside.body == b"hello, world"
    assert sub.status == 308 and sub.header("location") == "/static/sub/"
    assert other.status == 404 and glued.status == 404


def test_a_link_inside_the_root_is_served(loop, tree):
    resp = fetch(loop, static_files(tree), "/link_in")
    assert resp.status == 200 and resp.body == b"hello, world"


def test_dot_files_are_404_unless_allowed(loop, tree):
    hidden, well_known = fetch(loop, static_files(tree), "/.hidden", "/.well-known/security.txt")
    assert hidden.status == 404 and well_known.status == 404
    allowed = fetch(loop, static_files(tree, allow_hidden=True), "/.well-known/security.txt")
    assert allowed.status == 200 and allowed.body.startswith(b"Contact:")


def test_links_leading_out_are_served_only_with_follow_symlinks(loop, tree):
    assert fetch(loop, static_files(tree), "/link_out").status == 404
    resp = fetch(loop, static_files(tree, follow_symlinks=True), "/link_out")
    assert resp.status == 200 and resp.body == SECRET


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_is_never_opened(loop, tree):
    os.mkfifo(tree / "pipe")
    resp = fetch(loop, static_files(tree), "/pipe")
    assert resp.status == 404


TRAVERSALS = [
    "/../outside/secret.txt",
    "/sub/../../outside/secret.txt",
    "/%2e%2e/outside/secret.txt",
    "/%2E%2E/outside/secret.txt",
    "/.%2e/outside/secret.txt",
    "/%2e%2e%2foutside%2fsecret.txt",
    "/sub/..%2f..%2foutside%2fsecret.txt",
    "/..%5c..%5coutside%5csecret.txt",
    "/%2fetc%2fpasswd",
    "/%2F..%2Foutside%2Fsecret.txt",
    "//etc/passwd",
    "/etc/passwd",
    "/hello.txt%00",
    "/hello.txt%00.png",
    "/%00/../outside/secret.txt",
    "/link_out",
    "/link_dir_out/secret.txt",
    "/link_dir_out/",
    "/%252e%252e/outside/secret.txt",
    "/%zz/../outside/secret.txt",
    "/%c0%ae%c0%ae/outside/secret.txt",
    "/..;/outside/secret.txt",
    "/sub/..",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_traversal_attempts_are_404_or_400_and_never_leak(loop, tree, target):
    resp = fetch(loop, static_files(tree), target)
    assert resp.status in (400, 404), (target, resp.status)
    assert SECRET not in resp.body


def test_traversal_attempts_under_a_prefix(loop, tree):
    handler = static_files(tree, prefix="/static")
    for resp in fetch(loop, handler, "/static/../outside/secret.txt", "/static/%2e%2e/outside/secret.txt", "/static/link_out"):
        assert resp.status in (400, 404) and SECRET not in resp.body


def test_malformed_escapes_are_400(loop, tree):
    bad, invalid_utf8 = fetch(loop, static_files(tree), "/%zz", "/%ff.txt")
    assert bad.status == 400 and invalid_utf8.status == 400


# -- hardening: deep paths, parameter names ----------------------------------------------------------


def test_a_deep_path_that_does_not_exist_costs_a_bounded_number_of_system_calls(tree, monkeypatch):
    # Resource bound, not time: before, realpath ran one lstat per segment (4,000 here, ~25 ms
    # of CPU per request); after, one stat finds the first missing segment.
    calls = []
    real_stat, real_lstat = os.stat, os.lstat
    handler = static_files(tree)
    monkeypatch.setattr(os, "stat", lambda *a, **k: calls.append("stat") or real_stat(*a, **k))
    monkeypatch.setattr(os, "lstat", lambda *a, **k: calls.append("lstat") or real_lstat(*a, **k))
    with pytest.raises(HttpError) as info:
        handler(RoutedRequest("/" + "a/" * 4000 + "b", {}))
    assert info.value.status == 404
    assert len(calls) <= 2
    calls.clear()
    # path_join_safe resolves its root on each call: the root's depth, not the path's.
    assert path_join_safe(tree, "sub/" * 4000 + "x") is None
    assert len(calls) <= 2 + len(os.path.realpath(tree).split(os.sep))


def test_a_found_file_is_still_resolved_inside_the_root(tree):
    assert path_join_safe(tree, "sub/page.txt") == os.path.realpath(tree / "sub" / "page.txt")


@pytest.mark.parametrize("pattern", ["/s/:file*", "/s/:rest<path>*"])
def test_a_mount_whose_parameter_is_not_named_path_does_not_loop(loop, tree, pattern):
    # Before: /s/sub -> 308 /s/sub/ -> (router) /s/sub -> ... After: the one parameter serves.
    app = App()
    app.get(pattern)(static_files(tree))
    index, slash, page = fetch(loop, app, "/s/sub", "/s/sub/", "/s/sub/page.txt")
    assert index.status == 200 and index.body == b"<h1>sub</h1>"
    assert slash.status in (200, 301, 308) and slash.header("location") in (None, "/s/sub")
    assert page.status == 200 and page.body == b"a page"


def test_a_mount_with_several_parameters_none_named_param_is_an_error(tree):
    with pytest.raises(LookupError, match="param="):
        static_files(tree)(RoutedRequest("/s/a/b", {"a": "a", "b": "b"}))


# -- precompressed siblings ----------------------------------------------------------------------


def test_precompressed_siblings(tmp_path):
    import gzip

    import brotli

    from fasthttp import App
    from fasthttp.testing import TestClient

    text = b"body { color: red; }\n" * 200
    (tmp_path / "site.css").write_bytes(text)
    (tmp_path / "site.css.gz").write_bytes(gzip.compress(text))
    (tmp_path / "site.css.br").write_bytes(brotli.compress(text))
    (tmp_path / "plain.txt").write_bytes(b"no siblings")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "index.html").write_bytes(b"<p>index</p>")
    (tmp_path / "sub" / "index.html.gz").write_bytes(gzip.compress(b"<p>index</p>"))
    app = App()
    app.get("/static/:path*")(static_files(tmp_path, precompressed=True))
    app.get("/only-gzip/:path*")(static_files(tmp_path, precompressed=["gzip"]))
    app.get("/off/:path*")(static_files(tmp_path))
    with TestClient(app) as c:
        r = c.get("/static/site.css", headers={"Accept-Encoding": "gzip, br"})
        assert r.headers["content-encoding"] == "br"  # the server's preference on a tie
        assert r.headers["content-type"] == "text/css; charset=utf-8"
        assert r.headers["vary"] == "Accept-Encoding"
        assert brotli.decompress(r.content) == text
        r = c.get("/static/site.css", headers={"Accept-Encoding": "gzip"})
        assert r.headers["content-encoding"] == "gzip" and gzip.decompress(r.content) == text
        r = c.get("/static/site.css")
        assert "content-encoding" not in r.headers and r.content == text
        assert r.headers["vary"] == "Accept-Encoding"
        r = c.get("/static/site.css", headers={"Accept-Encoding": "identity"})
        assert r.content == text
        r = c.get("/only-gzip/site.css", headers={"Accept-Encoding": "br, gzip;q=0.5"})
        assert r.headers["content-encoding"] == "gzip"
        r = c.get("/off/site.css", headers={"Accept-Encoding": "gzip"})
        assert "content-encoding" not in r.headers and "vary" not in r.headers
        r = c.get("/static/plain.txt", headers={"Accept-Encoding": "gzip"})
        assert r.content == b"no siblings" and "vary" not in r.headers
        r = c.get("/static/sub", headers={"Accept-Encoding": "gzip"})
        assert r.headers["content-encoding"] == "gzip" and r.headers["content-type"].startswith("text/html")
        # ranges apply to the coded representation, conditional requests to its validators
        r = c.get("/static/site.css", headers={"Accept-Encoding": "gzip", "Range": "bytes=0-1"})
        assert r.status == 206 and r.content == (tmp_path / "site.css.gz").read_bytes()[:2]
        tag = c.get("/static/site.css", headers={"Accept-Encoding": "gzip"}).headers["etag"]
        assert c.get("/static/site.css", headers={"Accept-Encoding": "gzip", "If-None-Match": tag}).status == 304
    with pytest.raises(ValueError):
        static_files(tmp_path, precompressed=["deflate"])
