"""Route documentation and the OpenAPI 3.1 document (``fasthttp.openapi``)."""

from __future__ import annotations

import dataclasses

from fasthttp import App
from fasthttp.openapi import body, doc, header, json_schema, openapi_document, param, response, serve_openapi
from fasthttp.resources import Resource, get
from fasthttp.testing import TestClient


@dataclasses.dataclass
class NewUser:
    name: str
    age: int = 0
    tags: list[str] = dataclasses.field(default_factory=list)


def make_app() -> App:
    app = App()

    @app.get("/users/:id<int>")
    @doc(tags=["users"])
    @param("fields", "which fields to return")
    @header("X-Request-Id", "a correlation id", required=True)
    @response(404, "no such user")
    def show(request):
        """Show one user.

        More words."""
        return {}

    @app.post("/users", consumes=["application/json"], max_body_size=1024)
    @body(NewUser, "the user to create")
    @response(201, "created", schema=NewUser)
    async def create(request):
        return await request.validated(NewUser)

    @app.get("/files/:rest*", produces=["text/plain"])
    def files(request):
        return ""

    class Items(Resource):
        path = "/items"

        @get("/:name")
        @doc("One item")
        def item(self, request):
            return {}

    app.add(Items())
    serve_openapi(app, "/openapi.json", title="Users", version="2.0")
    return app


def test_the_document_describes_paths_parameters_bodies_and_responses():
    document = openapi_document(make_app(), title="Users")
    assert document["openapi"] == "3.1.0" and document["info"]["title"] == "Users"
    paths = document["paths"]
    show = paths["/users/{id}"]["get"]
    assert show["summary"] == "Show one user." and show["tags"] == ["users"]
    assert show["parameters"] == [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}},
        {"name": "fields", "in": "query", "required": False, "schema": {"type": "string"}, "description": "which fields to return"},
        {"name": "X-Request-Id", "in": "header", "required": True, "schema": {"type": "string"}, "description": "a correlation id"},
    ]
    assert show["responses"]["404"]["description"] == "no such user" and "200" in show["responses"]
    create = paths["/users"]["post"]
    schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["tags"] == {"type": "array", "items": {"type": "string"}} and schema["required"] == ["name"]
    assert {"201", "413", "415", "422"} <= set(create["responses"]) and create["x-max-body-size"] == 1024
    files = paths["/files/{rest}"]["get"]
    assert files["parameters"][0]["description"] == "zero or more segments"
    assert set(files["responses"]["200"]["content"]) == {"text/plain"} and "406" in files["responses"]
    assert paths["/items/{name}"]["get"]["summary"] == "One item"
    assert "head" not in paths["/users/{id}"]


def test_the_document_is_served_only_where_asked():
    app = make_app()
    with TestClient(app) as client:
        served = client.get("/openapi.json").json()
        assert served["info"] == {"title": "Users", "version": "2.0"}
        assert "/users/{id}" in served["paths"]
    with TestClient(App()) as client:
        assert client.get("/openapi.json").status == 404


def test_json_schema_of_hints_and_models():
    assert json_schema(int | None) == {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    assert json_schema(dict[str, float]) == {"type": "object", "additionalProperties": {"type": "number"}}
    pydantic = __import__("pydantic")

    class Model(pydantic.BaseModel):
        x: int

    assert json_schema(Model)["properties"]["x"]["type"] == "integer"
