"""The fasthttp benchmark app with ``CORS``, ``SecurityHeaders`` and ``Sessions`` installed app-wide.

Served as the server ``fasthttp-security``: its plaintext figure, next to ``fasthttp``'s from the
same run, is what the three cost a request that carries no ``Origin`` and no session cookie (what
wrk sends); issue 18's target is at most 20% slower. ``benchmarks/bench_middleware.py`` measures
the browser-style request (``Origin`` and a session cookie) in process.
"""

from __future__ import annotations

from fasthttp.middleware import CORS, SecurityHeaders, Sessions

from .fasthttp_app import app

app.add_middleware(CORS(allow_origins=["https://app.example"], allow_credentials=True))
app.add_middleware(SecurityHeaders())
app.add_middleware(Sessions(secret_keys=["benchmark-secret-key-0123456789abcdef"]))
