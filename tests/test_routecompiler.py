"""fasthttp._routecompiler: patterns parsed into elements, host tables compiled into one function.

The parser is specified by what ``Router.add`` refuses and by the canonical spelling it gives
back; the generated matcher by its source shape and, above all, by agreeing with a slow reference
matcher on generated route tables (hypothesis). Plain Python: no ``impl`` fixture.
"""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fasthttp import _routecompiler
from fasthttp.routing import Router

from helpers_routing import endpoint


# ---------------------------------------------------------------------------------------------
# Invalid patterns
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [
        "users",  # no leading slash
        "/a//b",  # empty segment
        "/a/:id.json",  # a parameter fills its segment
        "/:x/:x",  # duplicate name
        "/:",  # no name
        "/:1x",  # not an identifier
        "/:x(abc",  # unbalanced regex
        "/:x([)",  # invalid regex
        "/:x<int",  # unclosed converter
        "/:f<path>?",  # path takes no '?'
        "/a/../b",  # dot segment can never match
        "/a/%zz",  # malformed percent-encoding
    ],
)
def test_malformed_pattern_is_refused(pattern):
    with pytest.raises(ValueError):
        Router().add("GET", pattern, endpoint("x"))


def test_canonical_pattern_text_round_trips():
    patterns = [
        "/", "/a/", "/:x?", "/:x+", "/:x*", "/:x<int>+", "/:f<path>", "/:f<path>*", "/:s([a-z]+)",
    ]
    r = Router()
    for p in patterns:
        r.add("GET", p, endpoint(p))
    assert [route.pattern for route in r.routes()] == patterns


def test_generated_matcher_dispatches_many_literals_with_a_dict():
    r = Router()
    for i in range(40):
        r.add("GET", f"/r{i}/:id", endpoint(f"r{i}"))
    assert " = {'r0': " in r._generated_source()
    for i in range(40):
        assert r.resolve("GET", f"/r{i}/z").endpoint() == f"r{i}"


def test_codegen_falls_back_to_sequential_leaves_when_duplication_explodes(monkeypatch):
    monkeypatch.setattr(_routecompiler._Codegen, "__init__", _tiny_budget(_routecompiler._Codegen.__init__))
    r = Router()
    r.add("GET", "/:a/x", endpoint("wild"))
    for i in range(10):
        r.add("GET", f"/l{i}/:b", endpoint(f"l{i}"))
    assert r.resolve("GET", "/l3/x").endpoint() == "wild"
    assert r.resolve("GET", "/l3/y").endpoint() == "l3"
    assert not re.search(r"^D[0-9]+ = ", r._generated_source(), re.MULTILINE)  # no dispatch dict


def _tiny_budget(init):
    def patched(self, nodes, partition=True):
        init(self, nodes, partition)
        self.budget = len(nodes) + 2  # partitioning duplicates leaves beyond this

    return patched


# ---------------------------------------------------------------------------------------------
# The generated matcher against a reference
# ---------------------------------------------------------------------------------------------

SEGMENTS = ["a", "b", "1", "22"]
ELEMENTS = ["a", "b", "1", ":p", ":p<int>", ":p?", ":p+", ":p*", ":p<int>*", ":p([ab])"]


@st.composite
def pattern_sets(draw):
    patterns = []
    for _ in range(draw(st.integers(1, 8))):
        parts = draw(st.lists(st.sampled_from(ELEMENTS), min_size=0, max_size=4))
        names = itertools.count()
        parts = [p.replace(":p", f":p{next(names)}") if p.startswith(":") else p for p in parts]
        slash = "/" if parts and draw(st.booleans()) else ""
        patterns.append(("/" + "/".join(parts) + slash, draw(st.sampled_from(["GET", "POST"]))))
    return patterns


# Every path of up to three segments over the alphabet, plus a few longer ones.
PATHS = [list(p) for k in range(4) for p in itertools.product(SEGMENTS + [""], repeat=k)]
PATHS += [["a", "1", "b", "22", "a"], ["1", "1", "1", "1", "1", "b"], ["b", "a", "", "1"]]


@settings(max_examples=120, deadline=None)
@given(pattern_sets())
def test_generated_matcher_agrees_with_the_reference_matcher(patterns):
    r = Router(trailing_slash="strict")
    order = []  # (pattern, method, elements) in registration order, first occurrence decides
    for pattern, method in patterns:
        try:
            route = r.add(method, pattern, endpoint(pattern))
        except ValueError:
            continue  # a duplicate
        order.append((route.pattern, method, route._elements))
    static = {p for p, _, els in order if not any(isinstance(e, _routecompiler.Param) for e in els)}
    nodes = list(dict.fromkeys(p for p, _, _ in order))
    for segs in PATHS:
        path = "/" + "/".join(segs)
        segs = [] if path == "/" else path[1:].split("/")
        for method in ("GET", "POST"):
            m = r.resolve(method, path)
            expected = None
            # An exact route first, then patterns by first registration.
            candidates = [p for p in nodes if p in static] + [p for p in nodes if p not in static]
            for pattern in candidates:
                if (pattern, method) not in {(p, mm) for p, mm, _ in order}:
                    continue
                els = next(e for p, _, e in order if p == pattern)
                params = _routecompiler._make_complex(els)(segs)
                if params is not None:
                    expected = (pattern, params)
                    break
            if expected is None:
                assert m.status in (404, 405), (path, method, m)
            else:
                assert m.status == 200, (path, method, m)
                assert (m.route.pattern, dict(m.params)) == expected, (path, method)


# ---------------------------------------------------------------------------------------------
# Other frameworks' spellings (issue 11): braces accepted, Flask's refused with ours
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written, canonical",
    [
        ("/items/{item_id}", "/items/:item_id"),
        ("/n/{n:int}", "/n/:n<int>"),
        ("/u/{id:uuid}", "/u/:id<uuid>"),
        ("/f/{rest:path}", "/f/:rest<path>"),
        ("/z/{code:[0-9]{3}}", "/z/:code([0-9]{3})"),
        ("/a/{x}/b/{y:float}", "/a/:x/b/:y<float>"),
    ],
)
def test_brace_patterns_are_the_colon_patterns(written, canonical):
    r = Router()
    route = r.add("GET", written, endpoint("x"))
    assert route.pattern == canonical


def test_brace_patterns_route_and_convert():
    r = Router()
    r.add("GET", "/items/{item_id}", endpoint("item"))
    r.add("GET", "/n/{n:int}", endpoint("n"))
    r.add("GET", "/z/{code:[0-9]{3}}", endpoint("z"))
    r.add("GET", "/f/{rest:path}", endpoint("f"))
    assert dict(r.resolve("GET", "/items/42").params) == {"item_id": "42"}
    assert dict(r.resolve("GET", "/n/7").params) == {"n": 7}
    assert r.resolve("GET", "/n/x").status == 404
    assert dict(r.resolve("GET", "/z/123").params) == {"code": "123"}
    assert r.resolve("GET", "/z/12").status == 404
    assert dict(r.resolve("GET", "/f/a/b").params) == {"rest": "a/b"}


@pytest.mark.parametrize(
    "pattern, message",
    [
        ("/users/<int:uid>", "'/users/:uid<int>'"),
        ("/users/<uid>", "'/users/:uid'"),
        ("/users/<string:name>", "'/users/:name'"),
        ("/file-{id}.txt", "whole segment"),
        ("/a/{x", "unclosed '{'"),
        ("/a/{}", "needs a name"),
        ("/a/{x:}", "names no converter or regex"),
        ("/a/{x:[}", "neither a converter nor a valid regex"),
        ("/a/{x}/{x}", "appears twice"),
    ],
)
def test_foreign_or_malformed_parameters_are_refused_with_our_spelling(pattern, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        Router().add("GET", pattern, endpoint("x"))


def test_a_literal_brace_is_written_encoded():
    r = Router()
    r.add("GET", "/%7Bx%7D", endpoint("x"))
    assert r.resolve("GET", "/%7Bx%7D").status == 200
