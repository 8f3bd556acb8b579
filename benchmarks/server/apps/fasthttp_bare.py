"""The engine without the framework: one plain handler, routing by hand.

The baseline for the framework's overhead (issue 4: a route with a ``:param`` in a 100-route
table through ``fasthttp.App`` against the engine serving a bare handler). It answers the same
requests as ``fasthttp_app`` for the plaintext, JSON and route scenarios, with the least work
that can: a dict for the static paths, a split and a set look-up for ``/routeN/:id``.
Served by ``python -m fasthttp benchmarks.server.apps.fasthttp_bare:handler``.
"""

from __future__ import annotations

from fasthttp import HttpError

from . import common


def _plaintext(request):
    return common.PLAINTEXT_STR


def _json(request):
    return common.JSON_MESSAGE


_STATIC = {"/plaintext": _plaintext, "/json": _json}


def handler(request):
    path = request.path
    static = _STATIC.get(path)
    if static is not None:
        return static(request)
    prefix, _, ident = path[1:].partition("/")
    if prefix in common.ROUTE_SET and ident and "/" not in ident:
        return ident
    raise HttpError(404)
