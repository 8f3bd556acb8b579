"""uHTTP's HTTP-to-HTTPS pair on the poll-driven server: two servers, one plain and one TLS, in one
``select`` loop the program owns.

The plain server answers every request with a permanent redirect (301) to the same path and
query over HTTPS; the TLS server serves the content with ``Strict-Transport-Security`` (RFC 6797;
a user agent ignores it over plain HTTP, §7.2). Each server takes from ``select``'s lists only
the sockets it owns, so the program may watch its own sockets in the same call. A browser that
types the HTTPS port with ``http://`` gets a plaintext 400 that says to use https (as nginx
does), not a failed handshake.

APPSEC: the redirect goes to the host the client asked for (``Host``), as nginx's
``return 301 https://$host$request_uri`` does; give ``canonical_host`` to always send clients
to one name instead.

    python examples/uhttp_poll_https_redirect.py --certfile fullchain.pem --keyfile privkey.pem
    curl -i http://localhost/page?x=1      # 301 to https://localhost/page?x=1
"""

from __future__ import annotations

import argparse
import select
from typing import Any

from fasthttp.listeners import make_ssl_context
from fasthttp.poll import PollRequest, PollServer
from fasthttp.responses import security_headers

HSTS = [(name, value) for name, value in security_headers() if name == "Strict-Transport-Security"]


def hostname(authority: str) -> str:
    """``Host`` without its port: ``example.com:80`` -> ``example.com``, ``[::1]:80`` -> ``[::1]``."""
    if authority.startswith("["):
        return authority[: authority.find("]") + 1]
    return authority.rsplit(":", 1)[0]


def redirect(client: PollRequest, https_port: int, canonical_host: str | None = None) -> None:
    host = canonical_host or hostname(client.headers.get("host") or "localhost")
    port = "" if https_port == 443 else f":{https_port}"
    client.respond_redirect(f"https://{host}{port}{client.url}", 301)


def content(client: PollRequest) -> None:
    message = "Secure content" if client.is_secure else "Insecure content"
    client.respond({"message": message, "path": client.path}, headers=HSTS)


def serve(http_server: PollServer, https_server: PollServer, running: Any = lambda: True, canonical_host: str | None = None) -> None:
    """uHTTP's select loop over both servers."""
    https_port = https_server.port or 443
    while running():
        r, w, _ = select.select(
            http_server.read_sockets + https_server.read_sockets,
            http_server.write_sockets + https_server.write_sockets,
            [],
            0.1,
        )
        http_client = http_server.process_events(r, w)
        if http_client is not None:
            redirect(http_client, https_port, canonical_host)
        https_client = https_server.process_events(r, w)
        if https_client is not None:
            content(https_client)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="0.0.0.0", help="address of both servers")
    parser.add_argument("--http-port", type=int, default=80, help="port of the redirecting server")
    parser.add_argument("--https-port", type=int, default=443, help="port of the HTTPS server")
    parser.add_argument("--certfile", required=True, help="certificate chain (fullchain.pem)")
    parser.add_argument("--keyfile", required=True, help="private key (privkey.pem)")
    args = parser.parse_args()
    context = make_ssl_context(args.certfile, args.keyfile)
    with PollServer(args.address, args.http_port) as plain, PollServer(args.address, args.https_port, context) as secure:
        serve(plain, secure)
