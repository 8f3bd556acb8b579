"""A forward proxy for HTTPS: circuits.http's CONNECT, as a fasthttp route.

Browsers and ``curl --proxy`` reach HTTPS sites through a proxy with ``CONNECT host:443``: the
proxy connects, answers 200, then relays the encrypted bytes both ways without reading them.
Here CONNECT is routed like any method (``app.route("/", methods=["CONNECT"])``) and
``fasthttp.proxy.open_tunnel`` does the rest: 502 when the site cannot be reached, 504 when the
connection takes too long, flow control both ways, and an idle timeout reset by every byte (the
server's keep-alive timeout never cuts a busy tunnel). ``--allow-port`` limits the ports a
client may tunnel to (443 by default: an open proxy to any port is an abuse waiting to happen).

    python examples/forward_proxy.py --bind 127.0.0.1:3128
    curl --proxy http://127.0.0.1:3128 https://example.com/
"""

from __future__ import annotations

import argparse

from fasthttp import App
from fasthttp.proxy import open_tunnel


def create_app(allowed_ports: frozenset[int] = frozenset({443}), idle_timeout: float = 300.0) -> App:
    app = App()

    @app.route("/", methods=["CONNECT"])
    async def tunnel(request):
        return await open_tunnel(request, idle_timeout=idle_timeout, allow=lambda host, port: port in allowed_ports)

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="127.0.0.1:3128", help="HOST:PORT to listen on")
    parser.add_argument("--allow-port", type=int, action="append", help="a port clients may tunnel to (repeatable; default 443)")
    args = parser.parse_args()
    create_app(frozenset(args.allow_port or [443])).run(args.bind)
