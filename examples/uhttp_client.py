"""uHTTP's client, rewritten: keep-alive, credentials, timeouts and a size limit, on one server.

uHTTP ships a small client (and ``httpcl``, its command line: here ``python -m fasthttp.client``)
with keep-alive, Basic and Digest authentication retried on a 401, timeouts, and a maximum
response size. This example runs uHTTP's server example (``uhttp_server.py``) in its own process
and calls it the way uHTTP's client does: the HTML page, the JSON ``/rpc`` with a query and a
header it echoes, a 404, then a response larger than the client allows (``ResponseTooLarge``,
raised on the head: the content is never read).

    python examples/uhttp_client.py
    python -m fasthttp.client http://127.0.0.1:8080/rpc?x=1 -v      # the same, by hand
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fasthttp import start_server  # noqa: E402
from fasthttp.client import BasicAuth, Limits, ResponseTooLarge, SyncClient, Timeouts  # noqa: E402


def calls(url: str) -> list[str]:
    out = []
    timeouts = Timeouts(connect=5, read=5, total=10)
    with SyncClient(url, timeout=timeouts, auth=BasicAuth("user", "secret")) as client:
        page = client.get("/")
        out.append(f"{page.status} {page.headers.get('content-type')}: {page.text()}")
        rpc = client.get("/rpc", params={"x": "1"}, headers={"X-Test": "yes"}).json()
        out.append(f"rpc: message={rpc['message']} query={rpc['query']} x-test={rpc['headers'].get('x-test')}")
        out.append(f"missing: {client.get('/missing').status}")
    with SyncClient(url, limits=Limits(max_response_size=10)) as small:
        try:
            small.get("/")
        except ResponseTooLarge as exc:
            out.append(f"limited: {type(exc).__name__}")
    return out


def main() -> None:
    process, addresses = start_server("uhttp_server:app", ("127.0.0.1", 0))
    try:
        host, port = addresses[0][:2]
        for line in calls(f"http://{host}:{port}"):
            print(line)
    finally:
        process.terminate()
        process.join()


if __name__ == "__main__":
    main()
