"""picohttp's REST store: items created, updated and deleted over HTTP, persisted to a JSON file.

``GET /`` lists every item as JSON; ``GET /NAME`` returns one (404 if there is none);
``PUT /NAME`` creates or replaces it with the request body (text); ``DELETE /NAME`` removes it
(404 if there is none). Every change rewrites the file, so a restarted server finds its items.

Differences from picohttp, on purpose: ``PUT /`` without a name is 400 as there, but a method
the store does not route (``POST``) is ``405`` with ``Allow`` (RFC 9110 §15.5.6), not ``501``
(which means the server knows no such method at all); and an unexpected error is a bare
``500`` with the traceback in the server log, never ``str(exception)`` sent to the client.

The file is written in a worker thread (the event loop keeps serving meanwhile), atomically (a
temporary file renamed over the old one) and under a lock, so concurrent changes never
interleave. ``DELETE`` shows the route option for that: ``blocking=True`` runs a ``def``
handler in the app's thread pool.

    python examples/picohttp_rest_store.py --file test.json --bind 127.0.0.1:8765
    curl -X PUT --data 'a value' http://127.0.0.1:8765/item1
    curl http://127.0.0.1:8765/
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import threading

from fasthttp import App, HttpError


class Store:
    """The items and the JSON file that holds them."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        self.lock = threading.Lock()
        try:
            with open(self.path, encoding="utf-8") as f:
                self.items: dict[str, str] = json.load(f)
        except FileNotFoundError:
            self.items = {}

    def save(self) -> None:
        with self.lock:
            snapshot = json.dumps(self.items)
            tmp = f"{self.path}.tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(snapshot)
            os.replace(tmp, self.path)


def create_app(data_file: str | os.PathLike = "test.json") -> App:
    store = Store(data_file)
    app = App()
    app.state.store = store

    @app.get("/")
    def all_items(request):
        return store.items  # a dict: sent as JSON

    @app.get("/:name")
    def one_item(request):
        try:
            return store.items[request.params["name"]]
        except KeyError:
            raise HttpError(404) from None

    @app.put("/:name")
    async def put_item(request):
        store.items[request.params["name"]] = await request.text()
        await asyncio.to_thread(store.save)
        return None  # 204 No Content

    @app.put("/")
    def put_without_name(request):
        raise HttpError(400, "an item needs a name: PUT /NAME")

    @app.delete("/:name", blocking=True)
    def delete_item(request):
        if store.items.pop(request.params["name"], None) is None:
            raise HttpError(404)
        store.save()

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", default="test.json", help="the JSON file that holds the items")
    parser.add_argument("--bind", default="0.0.0.0:8765", help="HOST:PORT to listen on")
    args = parser.parse_args()
    create_app(args.file).run(args.bind)
