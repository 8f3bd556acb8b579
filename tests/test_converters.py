"""fasthttp.converters: the built-in path converters and converter registration.

Read as a specification: each test states how a ``:name<conv>`` parameter recognises and converts
a segment, through ``Router.resolve`` (the converters' ``check_src`` is inlined by the route
compiler, so the router is where they are observable). Plain Python: no ``impl`` fixture.
"""

from __future__ import annotations

import uuid

import pytest

from fasthttp import converters
from fasthttp.converters import BUILTIN, Converter, Converters, register_converter
from fasthttp.routing import Router

from helpers_routing import endpoint, hit, router_with


def test_int_converter_converts_and_refuses_non_digits():
    r = router_with("/items/:id<int>")
    assert hit(r, "/items/42") == ("/items/:id<int>", {"id": 42})
    for bad in ("abc", "-1", "+1", "4.2", "%D9%A3"):  # "%D9%A3": "٣", an Arabic-Indic digit
        assert r.resolve("GET", f"/items/{bad}").status == 404, bad


def test_int_converter_refuses_a_number_int_refuses():
    r = router_with("/items/:id<int>")
    assert r.resolve("GET", "/items/" + "9" * 5000).status == 404  # int() raises ValueError


def test_float_converter():
    r = router_with("/price/:p<float>")
    assert hit(r, "/price/2.5")[1] == {"p": 2.5}
    assert hit(r, "/price/3")[1] == {"p": 3.0}
    for bad in ("nan", "inf", "1e5", "-2.5", "2."):
        assert r.resolve("GET", f"/price/{bad}").status == 404, bad


def test_uuid_converter():
    r = router_with("/o/:key<uuid>")
    value = uuid.uuid4()
    assert hit(r, f"/o/{value}")[1] == {"key": value}
    assert hit(r, f"/o/{str(value).upper()}")[1] == {"key": value}
    assert r.resolve("GET", "/o/not-a-uuid").status == 404


def test_str_converter_is_the_default():
    r = router_with("/u/:name<str>")
    assert r.routes()[0].pattern == "/u/:name"
    assert hit(r, "/u/bob")[1] == {"name": "bob"}


def test_path_converter_joins_one_or_more_segments():
    r = router_with("/static/:file<path>")
    assert hit(r, "/static/css/site.css") == ("/static/:file<path>", {"file": "css/site.css"})
    assert r.resolve("GET", "/static").status == 404


def test_path_converter_with_star_matches_zero_segments_as_empty_string():
    r = router_with("/static/:file<path>*")
    assert hit(r, "/static")[1] == {"file": ""}
    assert hit(r, "/static/a/b")[1] == {"file": "a/b"}


def test_path_converter_refuses_encoded_separators_and_nul():
    r = router_with("/static/:file<path>")
    for bad in ("a%2F..%2Fsecret", "a%5Cb", "a%00b"):
        assert r.resolve("GET", f"/static/{bad}").status == 404, bad


def test_converters_compose_with_modifiers():
    r = router_with("/tags/:ids<int>+", "/maybe/:n<int>?")
    assert hit(r, "/tags/1/2/3")[1] == {"ids": (1, 2, 3)}
    assert r.resolve("GET", "/tags/1/x/3").status == 404
    assert hit(r, "/maybe")[1] == {"n": None}
    assert hit(r, "/maybe/5")[1] == {"n": 5}


def test_router_converter_is_a_regex_and_a_callable():
    r = Router()
    r.register_converter("hex", r"[0-9a-f]+", lambda s: int(s, 16))
    r.add("GET", "/color/:c<hex>", endpoint("color"))
    assert hit(r, "/color/ff")[1] == {"c": 255}
    assert r.resolve("GET", "/color/zz").status == 404


def test_a_failing_conversion_means_no_match_and_the_next_route_is_tried():
    def even(s):
        if int(s) % 2:
            raise ValueError("odd")
        return int(s)

    r = Router()
    r.register_converter("even", r"[0-9]+", even)
    r.add("GET", "/n/:v<even>", endpoint("even"))
    r.add("GET", "/n/:v", endpoint("any"))
    assert hit(r, "/n/4") == ("/n/:v<even>", {"v": 4})
    assert hit(r, "/n/5") == ("/n/:v", {"v": "5"})


def test_a_failing_conversion_inside_a_multi_segment_parameter_means_no_match():
    def small(s):
        if int(s) > 9:
            raise ValueError(s)
        return int(s)

    r = Router(trailing_slash="strict")
    r.register_converter("digit", r"[0-9]+", small)
    r.add("GET", "/d/:v<digit>+", endpoint("d"))
    assert hit(r, "/d/1/2")[1] == {"v": (1, 2)}
    assert r.resolve("GET", "/d/1/20").status == 404


def test_module_level_converter_serves_every_router():
    name = "slug_for_test_routing"
    register_converter(name, r"[a-z0-9-]+")
    try:
        r = router_with(f"/p/:s<{name}>")
        assert hit(r, "/p/hello-world")[1] == {"s": "hello-world"}
        assert r.resolve("GET", "/p/Hello").status == 404
    finally:
        converters._USER_CONVERTERS.pop(name)


def test_converter_names_cannot_be_registered_twice_or_shadow_builtins():
    r = Router()
    r.register_converter("mine", r"x")
    with pytest.raises(ValueError):
        r.register_converter("mine", r"y")
    with pytest.raises(ValueError):
        r.register_converter("int", r"[0-9]+")
    with pytest.raises(ValueError):
        register_converter("uuid", r".+")
    with pytest.raises(ValueError):
        r.register_converter("not a name", r"x")


def test_unknown_converter_is_an_error_at_add():
    with pytest.raises(ValueError, match="unknown converter"):
        Router().add("GET", "/x/:id<nope>", endpoint("x"))


def test_a_converter_set_sees_its_own_the_module_level_and_the_builtin_converters():
    own = Converters()
    mine = own.register("mine_for_test_converters", r"x+")
    assert own["mine_for_test_converters"] is mine and own["int"] is BUILTIN["int"]
    assert "mine_for_test_converters" in own and "mine_for_test_converters" not in Converters()
    with pytest.raises(KeyError):
        own["nope"]
    assert set(BUILTIN) <= set(own) and len(own) == len(BUILTIN) + len(converters._USER_CONVERTERS) + 1


def test_a_converter_needs_a_valid_regex_and_a_callable_conversion():
    with pytest.raises(ValueError):
        Converter("bad", r"([")
    with pytest.raises(TypeError):
        Converter("bad", r"x", convert="int")
    with pytest.raises(ValueError):
        Converters().register("not-an-identifier", r"x")
