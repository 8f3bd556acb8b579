"""uHTTP's HTTP-to-HTTPS pair: a plain HTTP server that redirects every request to the same URL
over HTTPS, and the HTTPS server that serves the content, both in one process.

uHTTP selects over both servers' sockets by hand; here the two apps are served by one event
loop (``asyncio.gather`` of two ``app.serve``). The redirect keeps the path and query and is
permanent (301); the HTTPS answers carry ``Strict-Transport-Security`` (RFC 6797) so browsers go
straight to HTTPS next time (a user agent ignores that field over plain HTTP, RFC 6797 §7.2).

APPSEC: the redirect goes to the host the client asked for (``Host``), as nginx's
``return 301 https://$host$request_uri`` does; give ``canonical_host`` to always send clients
to one name instead.

    python examples/uhttp_https_redirect.py --certfile fullchain.pem --keyfile privkey.pem
    curl -i http://localhost/page?x=1      # 301 to https://localhost/page?x=1
"""

from __future__ import annotations

import argparse
import asyncio

from fasthttp import App
from fasthttp.responses import JSONResponse, RedirectResponse, security_headers

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def redirect_app(https_port: int = 443, canonical_host: str | None = None) -> App:
    """Every request, whatever its method and path, to ``https://HOST[:PORT]/same/path?query``."""
    app = App()
    port = "" if https_port == 443 else f":{https_port}"

    @app.route("/:path*", methods=_METHODS)
    def to_https(request):
        host = canonical_host or _hostname(request.headers.get("host") or "localhost")
        target = request.path + (f"?{request.query}" if request.query else "")
        return RedirectResponse(f"https://{host}{port}{target}", status=301)

    return app


def _hostname(authority: str) -> str:
    """``Host`` without its port: ``example.com:80`` -> ``example.com``, ``[::1]:80`` -> ``[::1]``."""
    if authority.startswith("["):
        return authority[: authority.find("]") + 1]
    return authority.rsplit(":", 1)[0]


def secure_app() -> App:
    app = App()
    hsts = [(name, value) for name, value in security_headers() if name == "Strict-Transport-Security"]

    @app.get("/:path*")
    def content(request):
        message = "Secure content" if request.is_secure else "Insecure content"
        return JSONResponse({"message": message, "path": request.path}, headers=hsts)

    return app


async def main(http_bind: str, https_bind: str, certfile: str, keyfile: str, https_port: int) -> None:
    await asyncio.gather(
        redirect_app(https_port).serve(http_bind),
        secure_app().serve(https_bind, certfile=certfile, keyfile=keyfile),
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--http", default="0.0.0.0:80", help="HOST:PORT of the redirecting server")
    parser.add_argument("--https", default="0.0.0.0:443", help="HOST:PORT of the HTTPS server")
    parser.add_argument("--certfile", required=True, help="certificate chain (fullchain.pem)")
    parser.add_argument("--keyfile", required=True, help="private key (privkey.pem)")
    args = parser.parse_args()
    port = int(args.https.rsplit(":", 1)[1])
    asyncio.run(main(args.http, args.https, args.certfile, args.keyfile, port))
