"""Router.resolve: a static hit, a ``:param`` hit in a 100-route table, a miss, and compiling.

The router is plain Python (no compiled twin: Falcon's finding, STYLE.md habit 3), so there is no
``impl`` fixture here. The table is API-shaped: ten resources with ten routes each, static and
parametrized, so the ``:param`` case is a dispatch among many literal first segments; the request
names the *last* resource registered, the unfavourable end for anything that scans in order.
Run: ``python -m pytest benchmarks/bench_routing.py`` (timing), ``--benchmark-disable`` (CI).
"""

from __future__ import annotations

import pytest

from fasthttp.routing import NOT_FOUND, Router

RESOURCES = (
    "users", "repos", "orgs", "teams", "gists",
    "issues", "pulls", "events", "feeds", "notifications",
)
SUBRESOURCES = ("stars", "labels", "members", "hooks", "keys", "comments")


def handler() -> None:
    pass


def build_table() -> Router:
    """Exactly 100 routes: per resource, 2 static, 1 ``:id``, 6 ``:id/sub``, 1 ``<int>`` pair."""
    router = Router()
    for res in RESOURCES:
        router.add(["GET", "POST"], f"/{res}", handler, name=f"{res}.list")
        router.add("GET", f"/{res}/search", handler, name=f"{res}.search")
        router.add(["GET", "PUT", "DELETE"], f"/{res}/:id", handler, name=f"{res}.item")
        for sub in SUBRESOURCES:
            router.add("GET", f"/{res}/:id/{sub}", handler, name=f"{res}.{sub}")
        router.add("GET", f"/{res}/:id/comments/:cid<int>", handler, name=f"{res}.comment")
    assert len(router.routes()) == 100
    return router


@pytest.fixture(scope="module")
def table() -> Router:
    router = build_table()
    router.resolve("GET", "/")  # compile once, outside the timing
    return router


@pytest.mark.benchmark(group="routing: resolve")
def test_static_hit(benchmark, table):
    m = benchmark(table.resolve, "GET", "/notifications", "example.com")
    assert m.status == 200 and m.endpoint is handler
    assert m.route.name == "notifications.list" and not m.params


@pytest.mark.benchmark(group="routing: resolve")
def test_param_hit_in_100_routes(benchmark, table):
    m = benchmark(table.resolve, "GET", "/notifications/42", "example.com")
    assert m.status == 200 and m.route.name == "notifications.item"
    assert m.params == {"id": "42"}


@pytest.mark.benchmark(group="routing: resolve")
def test_two_params_with_int_converter_in_100_routes(benchmark, table):
    m = benchmark(table.resolve, "GET", "/notifications/42/comments/7", "example.com")
    assert m.route.name == "notifications.comment"
    assert m.params == {"id": "42", "cid": 7}


@pytest.mark.benchmark(group="routing: resolve")
def test_miss(benchmark, table):
    m = benchmark(table.resolve, "GET", "/nothing/here/at/all", "example.com")
    assert m is NOT_FOUND


@pytest.mark.benchmark(group="routing: compile")
def test_build_and_compile_100_routes(benchmark):
    def build_and_compile() -> Router:
        router = build_table()
        router.resolve("GET", "/")
        return router

    router = benchmark(build_and_compile)
    assert router.resolve("GET", "/users/7/stars").route.name == "users.stars"
