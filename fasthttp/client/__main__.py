"""The command-line client (uHTTP's ``httpcl``): ``python -m fasthttp.client URL [options]``.

Strategy: argument parsing, then one :class:`~fasthttp.client.SyncClient` call; the content goes
to stdout (or ``-o FILE``) as it streams, ``-v`` writes the request and response heads to stderr
the way curl does (``>`` sent, ``<`` received). Exit status: 0 for a 1xx-3xx, 22 for a 4xx/5xx
(curl's ``--fail`` code), 1 for a client error (connect, timeout, protocol), with its message.

    python -m fasthttp.client http://127.0.0.1:8000/users -H "Accept: application/json" -v
    python -m fasthttp.client http://x/upload -X PUT -d @photo.jpg
    python -m fasthttp.client http://localhost/ --unix-socket /run/app.sock --json '{"a": 1}'
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, BinaryIO

from ..errors import ClientError
from ._flow import encode_head
from ._sync import SyncClient


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m fasthttp.client", description="Send one HTTP/1.1 request and print the response content.")
    p.add_argument("url")
    p.add_argument("-X", "--request", dest="method", help="the method (default GET, or POST with -d/--json)")
    p.add_argument("-H", "--header", action="append", default=[], help='a request field, "Name: value" (repeatable)')
    p.add_argument("-d", "--data", help="the request content; @FILE reads it from FILE, @- from stdin")
    p.add_argument("--json", help="a JSON document to send (Content-Type: application/json)")
    p.add_argument("-o", "--output", help="write the content to FILE instead of stdout")
    p.add_argument("-v", "--verbose", action="store_true", help="show the request and response heads on stderr")
    p.add_argument("--insecure", action="store_true", help="do not verify the server's TLS certificate")
    p.add_argument("--cacert", help="trust this CA file instead of the system's")
    p.add_argument("--unix-socket", help="connect to this AF_UNIX path whatever the URL's host")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds for each phase (default 30)")
    p.add_argument("--no-redirects", action="store_true", help="return a 3xx instead of following it")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    headers = []
    for line in args.header:
        name, sep, value = line.partition(":")
        if not sep:
            print(f"error: -H wants 'Name: value', not {line!r}", file=sys.stderr)
            return 2
        headers.append((name.strip(), value.strip()))
    content: Any = None
    if args.data is not None:
        if args.data == "@-":
            content = sys.stdin.buffer.read()
        elif args.data.startswith("@"):
            with open(args.data[1:], "rb") as f:
                content = f.read()
        else:
            content = args.data.encode()
    body_json = json.loads(args.json) if args.json is not None else None
    method = args.method or ("POST" if content is not None or body_json is not None else "GET")
    verify: Any = False if args.insecure else (args.cacert or True)
    out: BinaryIO = open(args.output, "wb") if args.output else sys.stdout.buffer  # noqa: SIM115
    try:
        with SyncClient(timeout=args.timeout, verify=verify, unix_socket=args.unix_socket, follow_redirects=not args.no_redirects) as client:
            response = client.request(method, args.url, headers=headers, content=content, json=body_json, stream=True)
            if args.verbose:
                for hop in [*response.history, response]:
                    req = hop.request
                    body = req.body if isinstance(req.body, bytes) else None
                    sent = encode_head(req, None if body is None else len(body), False).decode("latin-1")
                    for line in sent.rstrip("\r\n").split("\r\n"):
                        print(f"> {line}", file=sys.stderr)
                    print(f"< HTTP/{hop.version} {hop.status} {hop.reason}", file=sys.stderr)
                    for name, value in hop.headers.raw():
                        print(f"< {name.decode('latin-1')}: {value.decode('latin-1')}", file=sys.stderr)
                    print("<", file=sys.stderr)
            for piece in response.stream():
                out.write(piece)
            out.flush()
    except ClientError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.output:
            out.close()
    return 22 if response.status >= 400 else 0


if __name__ == "__main__":
    raise SystemExit(main())
