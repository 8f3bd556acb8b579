"""``fasthttp.validation``: schemas (callables, dataclasses, ``model_validate`` classes,
pydantic) run on decoded request content through :meth:`fasthttp.requests.Request.validated`,
and the 422 listing every problem (RFC 9110 §15.5.21).

Unit tests use a :class:`Request` over a fake connection and body (``helpers_requests``); the
last test drives a real :class:`fasthttp.App` over loopback on both event loops.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Literal, Optional

import pytest

from fasthttp import App
from fasthttp.requests import Request
from fasthttp.validation import UnprocessableContent, ValidationError, validate

from helpers_requests import call, header, make_request, served, status_of


def json_request(payload, **kwargs) -> Request:
    return make_request([("Content-Type", "application/json")], json.dumps(payload).encode(), **kwargs)


def errors_of(coro) -> list[dict]:
    with pytest.raises(UnprocessableContent) as info:
        call(coro)
    error = info.value
    assert error.status == 422 and error.detail == error.errors
    json.dumps(error.errors)  # the details are JSON as they are
    return error.errors


def test_a_callable_schema_returns_the_cleaned_value():
    def positive(data):
        if data["n"] <= 0:
            raise ValueError("n must be positive")
        return data["n"]

    assert call(json_request({"n": 3}).validated(positive)) == 3
    assert errors_of(json_request({"n": -1}).validated(positive)) == [{"loc": [], "msg": "n must be positive", "type": "value_error"}]


def test_validation_error_details_by_field():
    def check(data):
        raise ValidationError({"name": "required", "age": "must be a number"})

    assert errors_of(json_request({}).validated(check)) == [
        {"loc": ["name"], "msg": "required", "type": "value_error"},
        {"loc": ["age"], "msg": "must be a number", "type": "value_error"},
    ]


def test_validation_error_from_a_list_of_dicts_and_messages():
    error = ValidationError([{"loc": ("items", 0), "msg": "bad", "type": "custom"}, "also wrong"])
    assert error.errors() == [
        {"loc": ["items", 0], "msg": "bad", "type": "custom"},
        {"loc": [], "msg": "also wrong", "type": "value_error"},
    ]
    assert isinstance(error, ValueError) and "items.0: bad" in str(error)


def test_other_exceptions_from_a_schema_are_not_422():
    def broken(data):
        raise KeyError("bug")

    with pytest.raises(KeyError):
        call(json_request({}).validated(broken))


class ModelLike:
    """A pydantic-shaped class without pydantic: ``model_validate`` is all that is used."""

    def __init__(self, name: str) -> None:
        self.name = name

    @classmethod
    def model_validate(cls, data):
        if not isinstance(data.get("name"), str):
            raise ValidationError({"name": "a string is required"})
        return cls(data["name"])


def test_a_class_with_model_validate_is_used_as_the_schema():
    assert call(json_request({"name": "ada"}).validated(ModelLike)).name == "ada"
    assert errors_of(json_request({"name": 1}).validated(ModelLike))[0]["loc"] == ["name"]


def test_pydantic_models_are_validated_with_their_error_details():
    pydantic = pytest.importorskip("pydantic")

    class User(pydantic.BaseModel):
        name: str
        age: int

    user = call(json_request({"name": "ada", "age": 36}).validated(User))
    assert user.name == "ada" and user.age == 36
    errors = errors_of(json_request({"name": "ada", "age": "old", "secret": 1}).validated(User))
    assert [e["loc"] for e in errors] == [["age"]] and errors[0]["type"] == "int_parsing"
    assert set(errors[0]) == {"loc", "msg", "type"}  # the input is not echoed back


@dataclasses.dataclass
class Address:
    city: str
    zip: Optional[str] = None


@dataclasses.dataclass
class Person:
    name: str
    age: int
    height: float = 1.7
    admin: bool = False
    tags: list[str] = dataclasses.field(default_factory=list)
    role: Literal["user", "staff"] = "user"
    address: Optional[Address] = None

    def __post_init__(self):
        if self.age < 0:
            raise ValueError("age cannot be negative")


def test_a_dataclass_is_built_from_valid_json():
    payload = {"name": "ada", "age": 36, "height": 2, "tags": ["x"], "address": {"city": "London"}}
    person = call(json_request(payload).validated(Person))
    assert person == Person("ada", 36, 2.0, False, ["x"], "user", Address("London"))


def test_a_dataclass_reports_every_problem_with_its_location():
    payload = {"age": "36", "admin": 1, "tags": ["ok", 2], "role": "root", "address": {"zip": 1}, "extra": True}
    errors = errors_of(json_request(payload).validated(Person))
    assert {tuple(e["loc"]): e["type"] for e in errors} == {
        ("age",): "int_type",
        ("admin",): "bool_type",
        ("tags", 1): "type_error",
        ("role",): "literal_error",
        ("address", "city"): "missing",
        ("address", "zip"): "type_error",
        ("name",): "missing",
        ("extra",): "extra_forbidden",
    }


def test_a_dataclass_nested_errors_are_located():
    errors = errors_of(json_request({"name": "a", "age": 1, "address": {"city": 5}}).validated(Person))
    assert errors == [{"loc": ["address", "city"], "msg": "expected str", "type": "type_error"}]


def test_a_dataclass_post_init_value_error_is_a_422():
    assert errors_of(json_request({"name": "a", "age": -1}).validated(Person))[0]["msg"] == "age cannot be negative"


def test_a_dataclass_needs_an_object():
    assert errors_of(json_request([1, 2]).validated(Person))[0]["type"] == "model_type"


def test_form_data_is_converted_for_a_dataclass():
    request = make_request(
        [("Content-Type", "application/x-www-form-urlencoded")], b"name=ada&age=36&admin=on&tags=a&height=1.5"
    )
    assert call(request.validated(Person)) == Person("ada", 36, 1.5, True, ["a"])


def test_query_parameters_can_be_validated():
    request = make_request(method="GET", target="/?name=ada&age=7&tags=a&tags=b")
    assert call(request.validated(Person, source="query")) == Person("ada", 7, tags=["a", "b"])
    bad = make_request(method="GET", target="/?name=ada&age=seven")
    assert errors_of(bad.validated(Person, source="query"))[0]["loc"] == ["age"]


def test_validated_takes_unlabelled_content_as_json():
    assert call(make_request(body=b'{"name": "a", "age": 1}').validated(Person)).name == "a"


def test_validated_refuses_other_media_types_listing_the_accepted_ones():
    error = status_of(make_request([("Content-Type", "text/csv")], b"a,b").validated(Person))
    assert error.status == 415
    assert header(error, "Accept") == (
        "application/json, application/*+json, application/x-www-form-urlencoded, multipart/form-data"
    )


def test_validated_accept_narrows_the_media_types():
    request = make_request([("Content-Type", "application/x-www-form-urlencoded")], b"name=a&age=1")
    error = status_of(request.validated(Person, accept=["application/json"]))
    assert error.status == 415 and header(error, "Accept") == "application/json"


def test_validated_malformed_json_is_still_a_400():
    assert status_of(make_request([("Content-Type", "application/json")], b"{").validated(Person)).status == 400


def test_validate_refuses_what_is_not_a_schema():
    with pytest.raises(TypeError):
        validate(42, {})


# -- end to end, over loopback -------------------------------------------------------------------------


def test_app_validation_failure_is_a_422_listing_the_errors(loop):
    app = App()

    @app.post("/people")
    async def create(request):
        person = await request.validated(Person)
        return {"name": person.name}

    async def scenario(client):
        json_ct = ("Content-Type", "application/json")
        good = await client.request("POST", "/people", headers=[json_ct], body=b'{"name": "ada", "age": 36}')
        bad = await client.request(
            "POST", "/people", headers=[json_ct, ("Accept", "application/json")], body=b'{"name": "ada", "age": "x"}'
        )
        return good, bad

    good, bad = served(loop, app, scenario)
    assert good.body == b'{"name":"ada"}'
    assert bad.status == 422 and bad.header("content-type").startswith("application/json")
    text = bad.body.decode()
    assert '"loc":["age"]' in text and '"type":"int_type"' in text
