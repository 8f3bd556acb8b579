"""The fasthttp benchmark app with the ``Compression`` middleware installed app-wide.

Served as the server ``fasthttp-compression``: its plaintext figure, next to ``fasthttp``'s, is
the cost of the middleware for clients that do not ask for compression (wrk sends no
``Accept-Encoding``); the target is within 5%.
"""

from __future__ import annotations

from fasthttp.middleware import Compression

from . import common
from .fasthttp_app import app

app.add_middleware(Compression(levels={"gzip": common.GZIP_LEVEL}))
