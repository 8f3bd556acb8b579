"""Helpers shared by the routing test modules (test_routing, test_converters, test_routecompiler):
named endpoints, a router built from patterns, and what a resolve answered."""

from __future__ import annotations

from typing import Any

from fasthttp.routing import Router


def endpoint(name: str) -> Any:
    """A distinct endpoint whose qualified name (the route's default name) is *name*."""

    def handler() -> str:
        return name

    handler.__qualname__ = name
    return handler


def router_with(*patterns: str, methods: Any = "GET", **kwargs: Any) -> Router:
    """A Router with one route per pattern, each answered by ``endpoint(pattern)``."""
    router = Router(**kwargs)
    for pattern in patterns:
        router.add(methods, pattern, endpoint(pattern))
    return router


def hit(router: Router, path: str, method: str = "GET", host: str | None = None, query: str = "") -> tuple[str | None, dict[str, Any]]:
    """The pattern that answered (or None) and the params."""
    m = router.resolve(method, path, host, query)
    return (m.route.pattern if m.route else None), dict(m.params)
