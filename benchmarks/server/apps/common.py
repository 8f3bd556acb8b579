"""What every benchmark application serves, defined once so the servers answer identically.

Routes (the harness's ``scenarios`` module checks each answer before it is load-tested):

- ``GET /plaintext``: ``Hello, World!`` as ``text/plain``;
- ``GET /json``: ``{"message": "Hello, World!"}`` as ``application/json``, serialized per request;
- ``GET /route{N}/{id}`` for N in 0..99: a 100-route table, each route with one path parameter;
  the answer is the parameter's value as ``text/plain``. Static routes are registered first, so a
  router that scans its table pays for the 100 entries only on this scenario;
- ``POST /echo``: the request body back as ``application/octet-stream``;
- ``GET /json10k``: :data:`JSON_10K` (about 10 KB of JSON, serialized per request), compressed
  with gzip (level 6 everywhere) for a client that sends ``Accept-Encoding: gzip``: fasthttp's
  ``Compression`` middleware, Starlette's ``GZipMiddleware``;
- ``GET /file``: the file named by ``BENCH_FILE`` (1 MiB, made by the harness) as
  ``application/octet-stream``, served the way each server recommends (its own file response where
  it has one, else read from disk per request).

NOTE: apps import only the standard library from here, so this module loads in every server.
"""

from __future__ import annotations

import json
import os

PLAINTEXT = b"Hello, World!"
PLAINTEXT_STR = PLAINTEXT.decode()
JSON_MESSAGE = {"message": "Hello, World!"}
ROUTE_COUNT = 100
ROUTE_PREFIXES = tuple(f"route{i}" for i in range(ROUTE_COUNT))
ROUTE_SET = frozenset(ROUTE_PREFIXES)

#: The document of the compression scenario: about 10 KB of JSON, an API listing of 60 records.
JSON_10K = {
    "items": [
        {
            "id": i,
            "name": f"user-{i:04d}",
            "email": f"user{i}@example.com",
            "active": i % 3 != 0,
            "roles": ["reader", "writer"] if i % 2 else ["reader"],
            "score": round(i * 1.37, 2),
            "bio": "Lorem ipsum dolor sit amet, consectetur adipiscing elit.",
        }
        for i in range(60)
    ],
    "total": 60,
}
#: gzip level of the compression scenario, the same on every server (Starlette's default is 9).
GZIP_LEVEL = 6

# The 1 MiB file is made by the harness (see ``run.make_file``) and named by this variable, so no
# large binary lives in the repository. A server started by hand without it serves this module.
FILE_ENV = "BENCH_FILE"
FILE_PATH = os.environ.get(FILE_ENV) or os.path.abspath(__file__)


def json_body() -> bytes:
    """Serialize the JSON message; apps call it per request, as a real handler would."""
    return json.dumps(JSON_MESSAGE).encode()


def read_file() -> bytes:
    """Read the benchmark file from disk (page cache), for servers with no file response."""
    with open(FILE_PATH, "rb") as f:
        return f.read()


def route_param(path: str) -> str | None:
    """Hand routing for the raw apps: ``/route57/abc`` -> ``"abc"``, anything else -> None.

    One split and one set look-up: what a raw ASGI/RSGI application would write by hand.
    """
    head, sep, tail = path[1:].partition("/")
    if sep and tail and "/" not in tail and head in ROUTE_SET:
        return tail
    return None
