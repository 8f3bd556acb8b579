"""degu's client, rewritten: talk to a server started in its own process on port 0.

degu's ``Client(address)`` takes the address ``start_server`` reported (an IPv4 2-tuple, an IPv6
4-tuple or an AF_UNIX path) and ``client.connect()`` gives a connection that carries request
after request. Here ``SyncClient`` does both: it connects on first use and keeps the connection
alive in its pool, so the degu example's ``/session`` counter (a per-connection session on the
server) counts up across calls. degu's client options are client options too: base headers sent
with every request (``headers=``), an ``on_connect`` hook called with each new connection (the
socket: degu uses it to check a TLS peer); degu's range requests are ``byte_range=(start, end)``.

    python examples/degu_client.py
"""

from __future__ import annotations

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fasthttp import start_server  # noqa: E402
from fasthttp.client import SyncClient  # noqa: E402


def base_url(address) -> tuple[str, str | None]:
    """The URL and AF_UNIX path for an address as start_server reports it (degu's forms)."""
    if isinstance(address, (str, bytes)):
        return "http://localhost", os.fsdecode(address)
    host = address[0]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{address[1]}", None


def session(address) -> list[str]:
    """Three requests on one kept-alive connection, as degu's ``conn.request()`` makes them."""
    connections = []
    url, unix = base_url(address)
    with SyncClient(url, unix_socket=unix, headers={"User-Agent": "degu-example"}, on_connect=connections.append) as client:
        lines = [client.get("/").text()]
        lines += [client.get("/session").text() for _ in range(2)]
    lines.append(f"connections opened: {len(connections)}")
    return lines


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for bind in (("127.0.0.1", 0), "unix:" + os.path.join(tmp, "degu.sock")):
            process, addresses = start_server("degu_hello_world:app", bind)
            try:
                for line in session(addresses[0]):
                    print(line)
            finally:
                process.terminate()
                process.join()


if __name__ == "__main__":
    main()
