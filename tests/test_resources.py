"""fasthttp.resources: classes whose methods are routes, registered with ``app.add``.

Each test states one behaviour; requests go through ``fasthttp.testing.TestClient``.
"""

from __future__ import annotations

import asyncio

import pytest

from fasthttp import App, HttpError, Response
from fasthttp.resources import Resource, delete, get, patch, post, put, resource_routes, route, websocket
from fasthttp.testing import TestClient


class Users(Resource):
    """Seed 004's example: ``/user/:username`` with GET, POST and DELETE."""

    def __init__(self):
        self.users = {}

    @get("/user/:username")
    def get_user(self, request):
        name = request.params["username"]
        if name not in self.users:
            raise HttpError(404, f"no user {name}")
        return self.users[name]

    @post("/user/:username")
    async def create_user(self, request):
        self.users[request.params["username"]] = await request.json()
        return Response(b"", status=201)

    @delete("/user/:username")
    def delete_user(self, request):
        self.users.pop(request.params["username"], None)


def test_decorated_methods_become_routes_bound_to_the_instance():
    app = App()
    users = Users()
    app.add(users)
    with TestClient(app) as client:
        assert client.post("/user/ada", json={"name": "Ada"}).status == 201
        assert client.get("/user/ada").json() == {"name": "Ada"}
        assert client.delete("/user/ada").status == 204
        assert client.get("/user/ada").status == 404
    assert users.users == {}


def test_each_instance_keeps_its_own_state():
    app = App()
    first, second = Users(), Users()
    app.add(first, prefix="/a")
    app.add(second, prefix="/b")
    with TestClient(app) as client:
        client.post("/a/user/x", json={"n": 1})
        assert client.get("/a/user/x").json() == {"n": 1}
        assert client.get("/b/user/x").status == 404
    assert first.users == {"x": {"n": 1}} and second.users == {}


def test_method_paths_are_relative_to_the_resource_path_and_the_prefix():
    class Items(Resource):
        path = "/items"

        @get()
        def index(self, request):
            return "index"

        @get("/:id<int>")
        def one(self, request):
            return f"item {request.params['id']}"

    app = App()
    app.add(Items(), prefix="/api/v1")
    with TestClient(app) as client:
        assert client.get("/api/v1/items").text == "index"
        assert client.get("/api/v1/items/3").text == "item 3"
        assert client.get("/items").status == 404


def test_a_resource_without_a_path_answers_at_the_root():
    class Root(Resource):
        @get
        def root(self, request):
            return "root"

    app = App()
    app.add(Root())
    with TestClient(app) as client:
        assert client.get("/").text == "root"


def test_every_verb_decorator_and_route_with_several_methods():
    class All(Resource):
        path = "/r"

        @put()
        def put_(self, request):
            return "put"

        @patch()
        def patch_(self, request):
            return "patch"

        @route("/multi", methods=["GET", "POST"])
        def multi(self, request):
            return request.method

    app = App()
    app.add(All())
    with TestClient(app) as client:
        assert client.put("/r", data=b"").text == "put"
        assert client.patch("/r", data=b"").text == "patch"
        assert client.get("/r/multi").text == "GET"
        assert client.post("/r/multi").text == "POST"


def test_stacked_decorators_register_the_method_twice():
    class Aliases(Resource):
        @get("/a")
        @get("/b")
        def either(self, request):
            return request.path

    app = App()
    app.add(Aliases())
    with TestClient(app) as client:
        assert (client.get("/a").text, client.get("/b").text) == ("/a", "/b")


def test_routes_register_in_definition_order_base_classes_first():
    class Base(Resource):
        @get("/:anything")
        def catch_all(self, request):
            return "base"

    class Child(Base):
        @get("/:name<int>")
        def number(self, request):
            return "never: the base pattern was registered first"

    assert [spec.handler.__name__ for spec in resource_routes(Child())] == ["catch_all", "number"]
    app = App()
    app.add(Child())
    with TestClient(app) as client:
        assert client.get("/5").text == "base"


def test_an_override_without_a_decorator_removes_the_route():
    class Base(Resource):
        @get("/hidden")
        def hidden(self, request):
            return "base"

    class Child(Base):
        def hidden(self, request):
            return "plain method"

    assert resource_routes(Child()) == []


def test_per_route_options_apply_to_resource_methods():
    def no_big_uploads(request):
        return Response("too big", status=413) if (request.content_length or 0) > 3 else None

    class Files(Resource):
        path = "/files"

        @put("/:name", max_body_size=10, consumes=["text/plain"], expect=no_big_uploads)
        async def store(self, request):
            return (await request.body()).decode()

        @get("/:name", produces=["text/plain", "application/json"])
        def read(self, request):
            return {"name": request.params["name"]}

        @get("/slow/:n<int>", blocking=True)
        def slow(self, request):
            return str(request.params["n"] + 1)

    app = App()
    app.add(Files())
    with TestClient(app) as client:
        assert client.put("/files/a", data="abc").text == "abc"
        assert client.put("/files/a", data=b"abc", headers={"Content-Type": "image/png"}).status == 415
        assert client.put("/files/a", data="x" * 11).status == 413
        assert client.put("/files/a", data="abcd", headers={"Expect": "100-continue"}).text == "too big"
        assert client.get("/files/a", headers={"Accept": "application/json"}).headers["vary"] == "Accept"
        assert client.get("/files/slow/1").text == "2"


def test_a_resource_host_binds_all_its_routes():
    class Site(Resource):
        host = "www.example.com"

        @get("/")
        def home(self, request):
            return "site"

    app = App()
    app.add(Site())
    with TestClient(app, base_url="http://www.example.com") as client:
        assert client.get("/").text == "site"
        assert client.get("/", headers={"Host": "other.example.com"}).status == 404


def test_add_host_applies_to_resources_without_one():
    class Home(Resource):
        @get("/")
        def home(self, request):
            return "home"

    app = App()
    app.add(Home(), host="api.example.com")
    assert [r.host for r in app.routes()] == ["api.example.com"]


def test_async_and_sync_methods_both_work():
    class Mixed(Resource):
        @get("/sync")
        def sync(self, request):
            return "sync"

        @get("/async")
        async def not_sync(self, request):
            await asyncio.sleep(0)
            return "async"

    app = App()
    app.add(Mixed())
    with TestClient(app) as client:
        assert client.get("/sync").text == "sync" and client.get("/async").text == "async"


def test_resource_routes_lists_method_pattern_and_handler_triples():
    users = Users()
    triples = users.routes()
    assert [(m, p) for m, p, _ in triples] == [
        ("GET", "/user/:username"),
        ("POST", "/user/:username"),
        ("DELETE", "/user/:username"),
    ]
    assert triples[0][2] == users.get_user


def test_any_object_with_marked_methods_is_a_resource():
    class Plain:
        @get("/plain")
        def plain(self, request):
            return "plain object"

    app = App()
    app.add(Plain())
    with TestClient(app) as client:
        assert client.get("/plain").text == "plain object"


def test_websocket_methods_register_as_websocket_routes():
    # The behaviour of these routes is tested in tests/test_websocket.py.
    class Chat(Resource):
        path = "/chat"

        @get("/history")
        def history(self, request):
            return []

        @websocket("/ws")
        def ws(self, request, opcode, payload):
            return payload or None  # nothing back for OPEN and CLOSE

    specs = resource_routes(Chat())
    assert [(s.kind, s.methods, s.path) for s in specs] == [("http", ("GET",), "/chat/history"), ("websocket", ("GET",), "/chat/ws")]
    app = App()
    routes = app.add(Chat())
    assert [r.pattern for r in routes] == ["/chat/history", "/chat/ws"]
    with TestClient(app) as client, client.websocket_connect("/chat/ws") as ws:
        ws.send("hi")
        assert ws.receive() == "hi"


def test_adding_the_class_instead_of_an_instance_is_an_error():
    app = App()
    with pytest.raises(TypeError, match="instance"):
        app.add(Users)


def test_decorator_arguments_are_checked_when_the_class_is_defined():
    with pytest.raises(TypeError, match="unknown route option"):
        get("/x", max_body=3)(lambda self, request: None)
    with pytest.raises(ValueError):
        get("relative")(lambda self, request: None)


def tagging(tag):
    def middleware(request, call_next):
        response = call_next(request)
        response.fields.append(("X-Tag", tag))
        return response

    return middleware


def test_resource_middleware_wraps_its_routes_outside_each_methods_own():
    class Tagged(Resource):
        path = "/t"
        middleware = (tagging("resource"),)

        @get("/a", middleware=[tagging("method")])
        def a(self, request):
            return "a"

        @get("/b")
        def b(self, request):
            return "b"

    app = App()
    app.add(Tagged())
    app.add(Tagged(), prefix="/p", middleware=[tagging("add")])
    with TestClient(app) as client:
        assert client.get("/t/a").headers.getall("x-tag") == ["method", "resource"]
        assert client.get("/t/b").headers.getall("x-tag") == ["resource"]
        assert client.get("/p/t/a").headers.getall("x-tag") == ["method", "resource", "add"]


def test_resource_routes_take_the_http_semantics_options():
    from fasthttp import App
    from fasthttp.resources import Resource, get, put
    from fasthttp.testing import TestClient

    class Docs(Resource):
        path = "/docs"

        @get("", ranges=True)
        def read(self, request):
            return "0123456789"

        @put("", require_preconditions=True)
        def write(self, request):
            return None

    app = App()
    app.add(Docs())
    with TestClient(app) as c:
        r = c.get("/docs", headers={"Range": "bytes=2-4"})
        assert r.status == 206 and r.content == b"234"
        assert c.put("/docs").status == 428
