"""fasthttp.routing: host, path pattern and method to an endpoint (issue 4, bullet 1).

Read as a specification: each test states one behaviour of ``Router.resolve``. The router is
framework code in plain Python (no compiled twin), so these tests take no ``impl`` fixture.
"""

from __future__ import annotations

import pytest

from fasthttp.routing import NOT_FOUND, Match, Route, Router

from helpers_routing import endpoint, hit, router_with


# ---------------------------------------------------------------------------------------------
# Exact paths
# ---------------------------------------------------------------------------------------------


def test_exact_path_matches_only_itself():
    r = router_with("/users", "/users/new")
    assert hit(r, "/users") == ("/users", {})
    assert hit(r, "/users/new") == ("/users/new", {})
    assert r.resolve("GET", "/user").status == 404
    assert r.resolve("GET", "/users/new/x").status == 404


def test_root_path_is_a_route_of_zero_segments():
    r = router_with("/", "/a")
    assert hit(r, "/") == ("/", {})
    assert r.resolve("GET", "/a").route.pattern == "/a"


def test_static_hit_returns_a_preallocated_match_with_read_only_params():
    r = router_with("/users")
    first = r.resolve("GET", "/users")
    assert r.resolve("GET", "/users") is first
    assert first.status == 200 and first.endpoint() == "/users"
    with pytest.raises(TypeError):
        first.params["x"] = 1  # type: ignore[index]


def test_not_found_is_the_preallocated_outcome():
    r = router_with("/a", "/b/:x")
    assert r.resolve("GET", "/nothing") is NOT_FOUND
    assert r.resolve("GET", "/b/x/y") is NOT_FOUND
    assert NOT_FOUND.status == 404


def test_literal_segments_are_percent_decoded_at_registration():
    r = router_with("/caf%C3%A9")
    assert r.routes()[0].pattern == "/caf%C3%A9"
    assert r.resolve("GET", "/caf%C3%A9").status == 200
    assert r.resolve("GET", "/caf%c3%a9").status == 200  # lowercase hex, same segment
    assert router_with("/café").resolve("GET", "/caf%C3%A9").status == 200


def test_a_literal_colon_segment_is_written_percent_encoded():
    r = router_with("/%3Aabout")
    assert r.resolve("GET", "/:about").status == 200
    assert r.resolve("GET", "/%3aabout").status == 200
    assert r.resolve("GET", "/about").status == 404


def test_unencoded_static_spelling_hits():
    r = router_with("/a%7Bb%7D")  # "/a{b}"
    assert r.resolve("GET", "/a{b}").status == 200
    assert r.resolve("GET", "/a%7Bb%7D").status == 200


# ---------------------------------------------------------------------------------------------
# Parameters: /:name, ?, +, *
# ---------------------------------------------------------------------------------------------


def test_name_matches_exactly_one_segment():
    r = router_with("/users/:id")
    assert hit(r, "/users/42") == ("/users/:id", {"id": "42"})
    assert r.resolve("GET", "/users").status == 404
    assert r.resolve("GET", "/users/42/x").status == 404


def test_name_never_matches_an_empty_segment():
    r = router_with("/users/:id/posts", trailing_slash="strict")
    assert r.resolve("GET", "/users//posts").status == 404


def test_optional_matches_zero_or_one_segment_and_is_none_when_absent():
    r = router_with("/users/:id?")
    assert hit(r, "/users") == ("/users/:id?", {"id": None})
    assert hit(r, "/users/7") == ("/users/:id?", {"id": "7"})
    assert r.resolve("GET", "/users/7/8").status == 404


def test_optional_at_the_root_matches_slash():
    r = router_with("/:page?")
    assert hit(r, "/") == ("/:page?", {"page": None})
    assert hit(r, "/one") == ("/:page?", {"page": "one"})


def test_optional_in_the_middle():
    r = router_with("/a/:x?/b")
    assert hit(r, "/a/b") == ("/a/:x?/b", {"x": None})
    assert hit(r, "/a/q/b") == ("/a/:x?/b", {"x": "q"})
    assert r.resolve("GET", "/a/q/r/b").status == 404


def test_plus_matches_one_or_more_segments_as_a_tuple():
    r = router_with("/files/:parts+")
    assert hit(r, "/files/a") == ("/files/:parts+", {"parts": ("a",)})
    assert hit(r, "/files/a/b/c") == ("/files/:parts+", {"parts": ("a", "b", "c")})
    assert r.resolve("GET", "/files").status == 404


def test_star_matches_zero_or_more_segments():
    r = router_with("/files/:parts*")
    assert hit(r, "/files") == ("/files/:parts*", {"parts": ()})
    assert hit(r, "/files/a/b") == ("/files/:parts*", {"parts": ("a", "b")})


def test_star_at_the_root_matches_every_path():
    r = router_with("/:all*")
    assert hit(r, "/") == ("/:all*", {"all": ()})
    assert hit(r, "/x/y") == ("/:all*", {"all": ("x", "y")})


def test_multi_segment_parameters_refuse_empty_segments():
    r = router_with("/files/:parts+", trailing_slash="strict")
    assert r.resolve("GET", "/files/a//b").status == 404
    assert r.resolve("GET", "/files/a/").status == 404


def test_variable_parameter_followed_by_literals():
    r = router_with("/repos/:path+/blob/:ref")
    assert hit(r, "/repos/a/b/blob/main") == (
        "/repos/:path+/blob/:ref",
        {"path": ("a", "b"), "ref": "main"},
    )
    assert r.resolve("GET", "/repos/blob/main").status == 404


def test_two_variable_parameters_take_segments_greedily_left_first():
    r = router_with("/c/:x+/d/:y*")
    assert hit(r, "/c/1/2/d") == ("/c/:x+/d/:y*", {"x": ("1", "2"), "y": ()})
    assert hit(r, "/c/1/d/2/3") == ("/c/:x+/d/:y*", {"x": ("1",), "y": ("2", "3")})
    assert hit(r, "/c/1/d/2/d/3")[1] == {"x": ("1", "d", "2"), "y": ("3",)}
    assert r.resolve("GET", "/c/d/2").status == 404


def test_long_paths_reach_unbounded_patterns():
    r = router_with("/a/:x", "/deep/:rest+")
    path = "/deep/" + "/".join(str(i) for i in range(30))
    assert hit(r, path)[1] == {"rest": tuple(str(i) for i in range(30))}


# ---------------------------------------------------------------------------------------------
# Regex segments
# ---------------------------------------------------------------------------------------------


def test_regex_segment_must_match_the_whole_segment():
    r = router_with("/posts/:slug([a-z0-9-]+)")
    assert hit(r, "/posts/my-post") == ("/posts/:slug([a-z0-9-]+)", {"slug": "my-post"})
    assert r.resolve("GET", "/posts/My-Post").status == 404
    assert r.resolve("GET", "/posts/ok!").status == 404  # a prefix match is not enough


def test_regex_segment_may_hold_parentheses_brackets_and_slashes():
    r = router_with(r"/v/:ver((v[0-9]+)|(latest))", r"/q/:x([)(/]+)")
    assert hit(r, "/v/v12")[1] == {"ver": "v12"}
    assert hit(r, "/v/latest")[1] == {"ver": "latest"}
    assert r.resolve("GET", "/v/v").status == 404
    assert hit(r, "/q/%29%28%2F")[1] == {"x": ")(/"}


def test_regex_segment_composes_with_modifiers():
    r = router_with("/n/:d([0-9])+")
    assert hit(r, "/n/1/2")[1] == {"d": ("1", "2")}
    assert r.resolve("GET", "/n/1/22").status == 404


def test_regex_segment_with_encoded_slash_keeps_one_segment():
    r = router_with("/proj/:id(.+)/issues")
    assert hit(r, "/proj/group%2Fname/issues")[1] == {"id": "group/name"}
    assert r.resolve("GET", "/proj/group/name/issues").status == 404


# ---------------------------------------------------------------------------------------------
# Precedence
# ---------------------------------------------------------------------------------------------


def test_exact_route_wins_over_a_pattern_registered_before_it():
    r = router_with("/users/:id", "/users/me")
    assert hit(r, "/users/me") == ("/users/me", {})
    assert hit(r, "/users/you") == ("/users/:id", {"id": "you"})


def test_among_patterns_the_first_registered_wins():
    r = router_with("/a/:x", "/:y/b")
    assert hit(r, "/a/b") == ("/a/:x", {"x": "b"})
    r = router_with("/:y/b", "/a/:x")
    assert hit(r, "/a/b") == ("/:y/b", {"y": "a"})


def test_registration_order_holds_across_literal_dispatch():
    # /a/z/:w shares a first literal with /a/:x/c but was added after /:y/z/b.
    r = router_with("/a/:x/c", "/:y/z/b", "/a/z/:w")
    assert hit(r, "/a/z/b") == ("/:y/z/b", {"y": "a"})
    assert hit(r, "/a/z/c") == ("/a/:x/c", {"x": "z"})
    assert hit(r, "/a/z/q") == ("/a/z/:w", {"w": "q"})


def test_registration_order_holds_with_many_literal_branches():
    r = Router()
    r.add("GET", "/:any/x", endpoint("first"))
    for i in range(20):
        r.add("GET", f"/r{i}/:id", endpoint(f"r{i}"))
    assert hit(r, "/r3/x") == ("/:any/x", {"any": "r3"})
    assert hit(r, "/r3/y") == ("/r3/:id", {"id": "y"})
    assert hit(r, "/other/x") == ("/:any/x", {"any": "other"})


def test_a_pattern_position_is_its_first_registration():
    r = Router()
    r.add("GET", "/a/:x", endpoint("ax-get"))
    r.add("DELETE", "/:y/b", endpoint("yb-delete"))
    r.add("DELETE", "/a/:x", endpoint("ax-delete"))
    assert r.resolve("DELETE", "/a/b").endpoint() == "ax-delete"


def test_the_first_route_with_the_method_answers():
    r = Router()
    r.add("GET", "/users/:id", endpoint("get"))
    r.add("POST", "/users/:name", endpoint("post"))
    assert r.resolve("POST", "/users/7").endpoint() == "post"
    assert r.resolve("GET", "/users/7").endpoint() == "get"


def test_a_pattern_answers_a_method_the_exact_route_lacks():
    r = Router()
    r.add("GET", "/users/me", endpoint("me"))
    r.add("DELETE", "/users/:id", endpoint("delete"))
    m = r.resolve("DELETE", "/users/me")
    assert m.endpoint() == "delete" and dict(m.params) == {"id": "me"}


# ---------------------------------------------------------------------------------------------
# Methods: HEAD, OPTIONS, 405
# ---------------------------------------------------------------------------------------------


def test_get_route_answers_head_automatically():
    r = router_with("/a", "/b/:x")
    for path, pattern in (("/a", "/a"), ("/b/1", "/b/:x")):
        m = r.resolve("HEAD", path)
        assert (m.status, m.auto_head, m.endpoint()) == (200, True, pattern)
    assert r.resolve("GET", "/a").auto_head is False
    assert r.resolve("GET", "/b/1").auto_head is False


def test_explicit_head_route_wins_over_the_automatic_one():
    r = Router()
    r.add("GET", "/a", endpoint("get"))
    r.add("HEAD", "/a", endpoint("head"))
    m = r.resolve("HEAD", "/a")
    assert m.endpoint() == "head" and not m.auto_head


def test_options_is_answered_automatically_with_allow():
    r = Router()
    r.add(["GET", "POST"], "/a", endpoint("a"))
    r.add("DELETE", "/b/:id", endpoint("b"))
    m = r.resolve("OPTIONS", "/a")
    assert (m.status, m.auto_options, m.endpoint) == (200, True, None)
    assert m.allow == ("GET", "HEAD", "OPTIONS", "POST")
    assert r.resolve("OPTIONS", "/b/1").allow == ("DELETE", "OPTIONS")


def test_explicit_options_route_wins():
    r = Router()
    r.add("GET", "/a", endpoint("get"))
    r.add("OPTIONS", "/a", endpoint("options"))
    m = r.resolve("OPTIONS", "/a")
    assert m.endpoint() == "options" and not m.auto_options


def test_explicit_options_on_a_pattern_wins_over_the_automatic_one_of_an_exact_route():
    r = Router()
    r.add("GET", "/users/me", endpoint("me"))
    r.add("OPTIONS", "/users/:id", endpoint("cors"))
    assert r.resolve("OPTIONS", "/users/me").endpoint() == "cors"


def test_options_star_lists_every_method_of_the_table():
    r = Router()
    r.add("GET", "/a", endpoint("a"))
    r.add("PUT", "/b/:x", endpoint("b"))
    m = r.resolve("OPTIONS", "*")
    assert m.auto_options and m.allow == ("GET", "HEAD", "OPTIONS", "PUT")
    assert r.resolve("GET", "*").status == 400


def test_other_method_gives_405_with_sorted_allow():
    r = Router()
    r.add(["POST", "GET"], "/a", endpoint("a"))
    m = r.resolve("DELETE", "/a")
    assert m.status == 405 and m.allow == ("GET", "HEAD", "OPTIONS", "POST")
    assert m.endpoint is None


def test_405_allow_is_the_union_of_every_route_matching_the_path():
    r = Router()
    r.add("GET", "/users/me", endpoint("me"))
    r.add("DELETE", "/users/:id", endpoint("del"))
    r.add("PATCH", "/users/:id<int>", endpoint("patch"))
    assert r.resolve("PUT", "/users/me").allow == ("DELETE", "GET", "HEAD", "OPTIONS")
    assert r.resolve("PUT", "/users/5").allow == ("DELETE", "OPTIONS", "PATCH")


def test_405_outcomes_are_shared():
    r = router_with("/a/:x")
    assert r.resolve("POST", "/a/1") is r.resolve("PUT", "/a/2")


def test_methods_are_tokens_normalized_to_upper_case():
    r = Router()
    r.add(["get", "Post"], "/a", endpoint("a"))
    assert r.routes()[0].methods == ("GET", "POST")
    for bad in ("", "GE T", "GET\r\n", ["GET", 5]):
        with pytest.raises(ValueError):
            r.add(bad, "/b", endpoint("b"))
    with pytest.raises(ValueError):
        r.add([], "/b", endpoint("b"))


def test_the_same_method_and_pattern_cannot_be_added_twice():
    r = Router()
    r.add("GET", "/a/:x", endpoint("one"))
    r.add("POST", "/a/:x", endpoint("two"))
    with pytest.raises(ValueError, match="already registered"):
        r.add(["PUT", "GET"], "/a/:x", endpoint("three"))
    with pytest.raises(ValueError):
        r.add("GET", "/a/:x<str>", endpoint("same pattern spelled differently"))


# ---------------------------------------------------------------------------------------------
# Trailing slash
# ---------------------------------------------------------------------------------------------


def test_missing_or_extra_slash_redirects_with_308_keeping_the_query():
    r = router_with("/a", "/dir/", "/u/:id")
    for path, location in (("/a/", "/a?x=1&y"), ("/dir", "/dir/?x=1&y"), ("/u/7/", "/u/7?x=1&y")):
        m = r.resolve("POST", path, None, "x=1&y")
        assert (m.status, m.location) == (308, location)


def test_redirect_without_query_has_no_question_mark():
    assert router_with("/a").resolve("GET", "/a/").location == "/a"


def test_redirect_keeps_the_client_encoding():
    r = router_with("/caf%C3%A9")
    assert r.resolve("GET", "/caf%c3%a9/").location == "/caf%c3%a9"


def test_no_redirect_when_both_forms_exist_or_neither_does():
    r = router_with("/a", "/a/")
    assert r.resolve("GET", "/a/").route.pattern == "/a/"
    assert router_with("/a").resolve("GET", "/b/") is NOT_FOUND


def test_strict_trailing_slash_gives_404():
    r = router_with("/a", trailing_slash="strict")
    assert r.resolve("GET", "/a/") is NOT_FOUND


def test_trailing_slash_policy_is_validated():
    with pytest.raises(ValueError):
        Router(trailing_slash="sometimes")


@pytest.mark.parametrize(
    "pattern, path",
    [
        ("/:name", "//evil.example/"),
        ("/:name", "/\\evil.example/"),
        ("/:name/", "//evil.example"),
        ("/:name/", "/\\evil.example"),
    ],
)
def test_slash_redirect_never_points_at_another_host(pattern, path):
    m = router_with(pattern).resolve("GET", path)
    assert m.status == 404 and m.location is None


# ---------------------------------------------------------------------------------------------
# Percent-decoding and dot segments
# ---------------------------------------------------------------------------------------------


def test_parameters_are_percent_decoded_per_segment():
    r = router_with("/u/:name")
    assert hit(r, "/u/J%C3%BCrgen%20K")[1] == {"name": "Jürgen K"}


def test_raw_utf8_bytes_decode_like_their_percent_encoding():
    r = router_with("/u/:name")
    raw = "/u/" + "é".encode().decode("latin-1")  # what the parser hands over
    assert hit(r, raw)[1] == {"name": "é"}


def test_encoded_slash_never_creates_a_segment():
    r = router_with("/a/:x/:y")
    assert r.resolve("GET", "/a/b%2Fc").status == 404
    assert hit(r, "/a/b%2Fc/d")[0] is None  # str refuses the decoded "/"


def test_encoded_slash_does_not_match_a_static_route_of_two_segments():
    r = router_with("/a/b")
    assert r.resolve("GET", "/a%2Fb").status == 404


def test_str_parameter_refuses_a_decoded_slash():
    r = router_with("/files/:name", trailing_slash="strict")
    assert r.resolve("GET", "/files/..%2F..%2Fetc%2Fpasswd").status == 404


@pytest.mark.parametrize("path", ["/a/%FF", "/a/%C3", "/a/%zz", "/a/%4", "/a/50%", "/a/\u20ac"])
def test_invalid_encoding_is_a_bad_request(path):
    r = router_with("/a/:x")
    m = r.resolve("GET", path)
    assert m.status == 400 and "encoding" in m.reason


@pytest.mark.parametrize("path", ["/a/../b", "/a/./b", "/..", "/a/%2E%2E/b", "/a/%2e/b", "/a/.."])
def test_dot_segments_are_a_bad_request(path):
    r = router_with("/a/:x/b", "/b", "/:x+")
    m = r.resolve("GET", path)
    assert m.status == 400 and "dot segment" in m.reason


def test_dots_inside_a_segment_are_ordinary_characters():
    r = router_with("/f/:name")
    assert hit(r, "/f/a..b")[1] == {"name": "a..b"}
    assert hit(r, "/f/...")[1] == {"name": "..."}
    assert hit(r, "/f/.hidden")[1] == {"name": ".hidden"}


def test_path_without_leading_slash_is_a_bad_request():
    r = router_with("/a")
    assert r.resolve("GET", "a").status == 400
    assert r.resolve("GET", "").status == 400


# ---------------------------------------------------------------------------------------------
# Hosts
# ---------------------------------------------------------------------------------------------


def host_router(**kwargs):
    r = Router(**kwargs)
    r.add("GET", "/", endpoint("api"), host="api.example.com")
    r.add("GET", "/", endpoint("tenant"), host="*.example.com")
    r.add("GET", "/", endpoint("deep"), host="*.eu.example.com")
    r.add("GET", "/", endpoint("admin"), host="admin.example.com:8443")
    r.add("GET", "/", endpoint("default"))
    return r


def who(router, host, path="/"):
    m = router.resolve("GET", path, host)
    return m.endpoint() if m.endpoint else m.status


def test_route_bound_to_a_host_answers_that_host_only():
    r = host_router()
    assert who(r, "api.example.com") == "api"
    assert who(r, "example.org") == "default"
    assert who(r, None) == "default"


def test_host_comparison_ignores_case_port_and_trailing_dot():
    r = host_router()
    hosts = ("API.Example.COM", "api.example.com:8080", "api.example.com.", "api.example.com.:80")
    for host in hosts:
        assert who(r, host) == "api", host


def test_explicit_port_in_a_bound_host_must_match():
    r = host_router()
    assert who(r, "admin.example.com:8443") == "admin"
    assert who(r, "admin.example.com") == "tenant"
    assert who(r, "admin.example.com:9000") == "tenant"


def test_wildcard_host_matches_subdomains_but_not_the_apex():
    r = host_router()
    assert who(r, "shop.example.com") == "tenant"
    assert who(r, "a.b.example.com") == "tenant"
    assert who(r, "example.com") == "default"
    assert who(r, "badexample.com") == "default"


def test_longest_wildcard_and_exact_name_win():
    r = host_router()
    assert who(r, "paris.eu.example.com") == "deep"
    assert who(r, "eu.example.com") == "tenant"
    assert who(r, "api.example.com") == "api"


def test_each_request_is_routed_within_one_host_table():
    r = host_router()
    r.add("GET", "/health", endpoint("health"))
    assert who(r, "other.org", "/health") == "health"
    assert who(r, "api.example.com", "/health") == 404


def test_alias_host_redirects_301_to_the_canonical_host_with_path_and_query():
    r = host_router()
    r.alias_host("example.com", "www.example.com")
    m = r.resolve("POST", "/a/b%20c", "Example.com", "q=1")
    assert (m.status, m.location) == (301, "//www.example.com/a/b%20c?q=1")


def test_alias_redirect_keeps_the_request_port_unless_the_canonical_has_one():
    r = Router()
    r.alias_host("old.example", "new.example")
    r.alias_host("legacy.example", "new.example:8443")
    assert r.resolve("GET", "/", "old.example:8080").location == "//new.example:8080/"
    assert r.resolve("GET", "/", "legacy.example:8080").location == "//new.example:8443/"


def test_wildcard_alias():
    r = Router()
    r.add("GET", "/", endpoint("x"), host="example.com")
    r.alias_host("*.example.net", "example.com")
    assert r.resolve("GET", "/p", "www.example.net").location == "//example.com/p"


def test_alias_cannot_shadow_a_host_with_routes_or_itself():
    r = host_router()
    with pytest.raises(ValueError):
        r.alias_host("api.example.com", "example.com")
    with pytest.raises(ValueError):
        r.alias_host("x.example", "x.example")
    with pytest.raises(ValueError):
        r.alias_host("x.example", "*.example")
    r.alias_host("old.example", "api.example.com")
    with pytest.raises(ValueError):
        r.add("GET", "/", endpoint("no"), host="old.example")


def test_default_host_serves_routes_without_host_and_unknown_hosts():
    r = Router(default_host="www.example.com")
    r.add("GET", "/", endpoint("www"))
    r.add("GET", "/", endpoint("api"), host="api.example.com")
    assert who(r, "www.example.com") == "www"
    assert who(r, "unknown.example") == "www"
    assert who(r, "api.example.com") == "api"


def test_route_added_for_the_default_host_joins_the_default_table():
    r = Router(default_host="www.example.com")
    r.add("GET", "/a", endpoint("a"), host="WWW.example.com")
    r.add("GET", "/b", endpoint("b"))
    assert who(r, "whatever", "/a") == "a" and who(r, "whatever", "/b") == "b"


def test_strict_hosts_refuse_an_unknown_host_with_400():
    r = Router(strict_hosts=True, default_host="www.example.com")
    r.add("GET", "/", endpoint("www"))
    r.add("GET", "/", endpoint("api"), host="api.example.com")
    r.alias_host("example.com", "www.example.com")
    assert who(r, "www.example.com") == "www"
    assert who(r, "api.example.com:443") == "api"
    assert r.resolve("GET", "/", "example.com").status == 301
    for host in ("evil.example", "", None, "127.0.0.1"):
        m = r.resolve("GET", "/", host)
        assert m.status == 400 and m.reason == "unknown host"


def test_strict_hosts_without_default_host_refuse_routes_without_host():
    r = Router(strict_hosts=True)
    with pytest.raises(ValueError, match="default_host"):
        r.add("GET", "/", endpoint("x"))
    r.add("GET", "/", endpoint("x"), host="a.example")
    assert r.resolve("GET", "/", "b.example").status == 400


def test_ip_literal_hosts():
    r = Router()
    r.add("GET", "/", endpoint("v6"), host="[::1]")
    r.add("GET", "/", endpoint("v4"), host="127.0.0.1:8000")
    assert who(r, "[::1]:8080") == "v6"
    assert who(r, "127.0.0.1:8000") == "v4"
    assert who(r, "127.0.0.1") == 404


@pytest.mark.parametrize("host", ["", "a b", "*", "a.*.example", "example.com:abc", "-x.example"])
def test_invalid_bound_host_is_refused(host):
    with pytest.raises(ValueError):
        Router().add("GET", "/", endpoint("x"), host=host)


def test_many_distinct_hosts_do_not_grow_the_cache_without_bound():
    r = host_router()
    for i in range(3000):
        assert who(r, f"h{i}.example.org") == "default"
    assert who(r, "api.example.com") == "api"


def test_trailing_slash_and_405_apply_within_the_host_table():
    r = Router()
    r.add("GET", "/a", endpoint("a"), host="api.example.com")
    assert r.resolve("GET", "/a/", "api.example.com").location == "/a"
    assert r.resolve("POST", "/a", "api.example.com").status == 405
    assert r.resolve("GET", "/a", "other.example").status == 404


# ---------------------------------------------------------------------------------------------
# Mounting
# ---------------------------------------------------------------------------------------------


def test_mount_puts_another_routers_routes_under_a_prefix():
    api = Router()
    api.add("GET", "/", endpoint("index"))
    api.add("GET", "/items/:id<int>", endpoint("item"))
    r = Router()
    r.mount("/api/", api)
    assert [route.pattern for route in r.routes()] == ["/api", "/api/items/:id<int>"]
    assert hit(r, "/api/items/3") == ("/api/items/:id<int>", {"id": 3})
    assert r.resolve("GET", "/api").endpoint() == "index"
    assert r.resolve("GET", "/api/").location == "/api"


def test_mount_prefix_may_have_parameters():
    users = Router()
    users.add("GET", "/posts/:pid", endpoint("post"))
    r = Router()
    r.mount("/users/:uid<int>", users)
    assert hit(r, "/users/5/posts/x")[1] == {"uid": 5, "pid": "x"}


def test_mount_refuses_a_parameter_name_in_both_prefix_and_route():
    users = Router()
    users.add("GET", "/:id", endpoint("x"))
    with pytest.raises(ValueError):
        Router().mount("/u/:id", users)


def test_mount_keeps_the_sub_routers_converters_hosts_and_aliases():
    sub = Router()
    sub.register_converter("yes", r"y+")
    sub.add("GET", "/:v<yes>", endpoint("yes"))
    sub.add("GET", "/bound", endpoint("bound"), host="b.example")
    sub.alias_host("old.example", "b.example")
    r = Router()
    r.mount("/s", sub, host="m.example")
    assert r.resolve("GET", "/s/yyy", "m.example").endpoint() == "yes"
    assert r.resolve("GET", "/s/bound", "b.example").endpoint() == "bound"
    assert r.resolve("GET", "/s/x", "old.example").status == 301
    assert [route.host for route in r.routes()] == ["m.example", "b.example"]


def test_mount_is_a_snapshot():
    sub = Router()
    sub.add("GET", "/a", endpoint("a"))
    r = Router()
    r.mount("/s", sub)
    sub.add("GET", "/b", endpoint("b"))
    assert r.resolve("GET", "/s/b").status == 404


def test_a_router_cannot_mount_itself():
    r = Router()
    with pytest.raises(ValueError):
        r.mount("/x", r)


# ---------------------------------------------------------------------------------------------
# The route table
# ---------------------------------------------------------------------------------------------


def test_routes_lists_methods_host_pattern_name_and_endpoint_in_order():
    def list_users():
        pass

    r = Router()
    first = r.add(["GET", "POST"], "/users", list_users)
    r.add("GET", "/users/:id<int>", endpoint("x"), host="api.example.com", name="user")
    rows = r.routes()
    assert rows[0] is first and isinstance(first, Route)
    assert (first.methods, first.host, first.pattern, first.endpoint) == (
        ("GET", "POST"), None, "/users", list_users,
    )
    assert first.name.endswith("list_users")
    second = (rows[1].host, rows[1].pattern, rows[1].name)
    assert second == ("api.example.com", "/users/:id<int>", "user")
    rows.clear()
    assert len(r.routes()) == 2  # a copy


def test_describe_renders_the_table_for_startup_logs():
    r = Router()
    r.add("GET", "/users/:id", endpoint("user"), name="user")
    r.alias_host("old.example", "new.example")
    text = r.describe()
    assert text.splitlines()[0].split() == ["METHODS", "HOST", "PATTERN", "NAME"]
    assert "/users/:id" in text and "user" in text and "old.example" in text


# ---------------------------------------------------------------------------------------------
# Lazy compilation
# ---------------------------------------------------------------------------------------------


def test_adding_a_route_after_resolving_recompiles():
    r = router_with("/a/:x")
    assert r.resolve("GET", "/b/1") is NOT_FOUND
    r.add("GET", "/b/:y", endpoint("b"))
    assert hit(r, "/b/1") == ("/b/:y", {"y": "1"})
    r.add("GET", "/c", endpoint("c"))
    assert r.resolve("GET", "/c").status == 200


def test_a_resolve_reference_held_across_changes_sees_new_routes():
    r = router_with("/a")
    early = r.resolve  # taken before the first compile
    assert early("GET", "/a").status == 200
    compiled = r.resolve  # the compiled function
    r.add("GET", "/b/:x", endpoint("b"))
    assert compiled("GET", "/b/1").status == 200
    assert early("GET", "/b/2").status == 200


def test_alias_added_after_resolving_takes_effect():
    r = router_with("/")
    assert r.resolve("GET", "/", "old.example").status == 200
    r.alias_host("old.example", "new.example")
    assert r.resolve("GET", "/", "old.example").status == 301


# ---------------------------------------------------------------------------------------------
# Outcome objects
# ---------------------------------------------------------------------------------------------


def test_match_exposes_every_field_on_every_outcome():
    r = Router()
    r.add("GET", "/a/:x", endpoint("a"))
    outcomes = [
        r.resolve("GET", "/a/1"),
        r.resolve("HEAD", "/a/1"),
        r.resolve("OPTIONS", "/a/1"),
        r.resolve("POST", "/a/1"),
        r.resolve("GET", "/a/1/"),
        r.resolve("GET", "/zzz"),
        r.resolve("GET", "/a/%ff"),
    ]
    for m in outcomes:
        assert isinstance(m, Match)
        for field in ("status", "endpoint", "params", "allow", "location", "route",
                      "auto_head", "auto_options", "reason"):
            getattr(m, field)
        assert repr(m).startswith("<Match status=")
    assert [m.status for m in outcomes] == [200, 200, 200, 405, 308, 404, 400]


def test_pattern_hits_are_fresh_objects_with_their_own_params():
    r = router_with("/a/:x")
    one, two = r.resolve("GET", "/a/1"), r.resolve("GET", "/a/2")
    assert one is not two and one.params == {"x": "1"} and two.params == {"x": "2"}


def test_connect_is_routed_like_any_method_by_host():
    # RFC 9110 §9.3.6: the authority-form target has no path; CONNECT is routed as "/", by host.
    router = Router()
    router.add("CONNECT", "/", endpoint("any"))
    router.add("CONNECT", "/", endpoint("internal"), host="*.internal")
    router.add("GET", "/", endpoint("get"))
    assert router.resolve("CONNECT", "", "example.com:443").route.endpoint is not None
    assert hit(router, "", "CONNECT", "example.com:443") == ("/", {})
    assert router.resolve("CONNECT", "", "db.internal:5432").route.host == "*.internal"
    assert router.resolve("CONNECT", "", "example.com:443").route.host is None
    assert router.resolve("GET", "", None).status == 400  # only CONNECT has no path
