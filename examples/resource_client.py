"""The HTTP/TCP protocol module's ``HTTPClient``, rewritten: many requests in flight, collected
as they complete.

The module's client starts requests in the background (``get``/``post``/``delete`` with an
optional callback) and the caller polls ``pending()`` and drains ``getResponses()``. Here
``client.batch(concurrency=...)`` is that object: ``batch.start(method, url, callback=...)``
returns at once, ``batch.pending`` counts what is not collected yet, and ``async for result in
batch`` yields each :class:`~fasthttp.client.BatchResult` as it completes (a response, or the
error it raised), at most *concurrency* requests at a time. It runs against the module's
``Resource`` example (``resource_users.py``), served in its own process.

    python examples/resource_client.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fasthttp import start_server  # noqa: E402
from fasthttp.client import Client  # noqa: E402

NAMES = ["ada", "bob", "cyd", "dee", "eve"]


async def exercise(url: str) -> list[str]:
    lines = []
    async with Client(url) as client:
        batch = client.batch(concurrency=2)
        for name in NAMES:
            batch.start("POST", f"/user/{name}", json={"name": name.title()})
        lines.append(f"pending: {batch.pending}")
        created = [r async for r in batch]
        lines.append(f"created: {sorted(r.response.status for r in created)}")
        done: list[str] = []
        batch = client.batch(concurrency=3)
        for name in NAMES + ["nobody"]:
            batch.start("GET", f"/user/{name}", callback=lambda r: done.append(r.url.rsplit("/", 1)[1]))
        for result in await batch.results():  # in the order they were started
            body = await result.response.json()
            lines.append(f"{result.method} /user/{result.url.rsplit('/', 1)[1]}: {result.response.status} {body}")
        lines.append(f"callbacks: {len(done)}")
    return lines


def main() -> None:
    with tempfile.TemporaryDirectory() as files:
        os.environ["RESOURCE_USERS_FILES"] = files
        process, addresses = start_server("resource_client:serve_app", ("127.0.0.1", 0))
        try:
            host, port = addresses[0][:2]
            for line in asyncio.run(exercise(f"http://{host}:{port}")):
                print(line)
        finally:
            process.terminate()
            process.join()


def _app():  # type: ignore[no-untyped-def]
    from resource_users import create_app

    return create_app(os.environ.get("RESOURCE_USERS_FILES") or tempfile.mkdtemp())


if __name__ != "__main__":
    serve_app = _app()

if __name__ == "__main__":
    main()
