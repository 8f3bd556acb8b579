"""uHTTP's usage example on the poll-driven server: the program owns the loop and asks the server
for the next request (``server.wait()``), with no asyncio and no threads.

``/`` is HTML, ``/rpc`` JSON (a greeting with the request's headers and query, and the JSON body
of a POST), ``/later`` is answered on a later turn of the loop (uHTTP's delayed response: keep
the request, answer when the result is ready), ``/camera`` a ``multipart/x-mixed-replace`` stream
fed from the loop (MJPEG), and anything else ``Not found`` (404). uHTTP's limits map onto the
same options as the engine's: 4 KiB of header (431 past it), 512 KiB of body (413), a 30 s
keep-alive and 100 requests per connection. uHTTP's TODO list is done here too:
``Expect: 100-continue``, chunked request bodies, and large responses that never block the loop.

    python examples/uhttp_poll_server.py --port 9980
    curl http://localhost:9980/rpc?name=value
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from fasthttp.errors import HttpError
from fasthttp.poll import MultipartStream, PollRequest, PollServer

LIMITS: dict[str, Any] = dict(
    max_header_size=4 * 1024,
    max_body_size=512 * 1024,
    keep_alive_timeout=30,
    max_requests_per_connection=100,
)


class Handler:
    """What the loop does with each request, and with the time between them."""

    def __init__(self, delay: float = 0.5, frame_interval: float = 0.1, frames: int = 50) -> None:
        self.delay = delay
        self.frame_interval = frame_interval
        self.frames = frames
        self.later: list[tuple[float, PollRequest]] = []  # (when, request): delayed responses
        self.cameras: list[tuple[MultipartStream, int]] = []  # live streams, frames sent
        self.next_frame = 0.0

    def __call__(self, client: PollRequest) -> None:
        if client.path == "/":
            client.respond("<h1>hello</h1><p>uHTTP</p>", headers={"Content-Type": "text/html; charset=utf-8"})
        elif client.path == "/rpc":
            try:
                body = client.sync(client.json()) if client.data else None
            except HttpError as exc:
                client.respond_error(exc)
                return
            query = client.query_params
            client.respond(
                {
                    "message": "hello",
                    "success": True,
                    "headers": dict(client.headers.items()),
                    "query": {name: query.get(name) for name in query.keys()},
                    "body": body,
                }
            )
        elif client.path == "/later":
            self.later.append((time.monotonic() + self.delay, client))
        elif client.path == "/camera":
            self.cameras.append((client.respond_multipart(headers={"Cache-Control": "no-store"}), 0))
        else:
            client.respond("Not found", status=404)

    def tick(self) -> None:
        """Work done on every turn of the loop: answer the delayed requests that are due, and
        send the cameras their next frame (skipped for a client that has not taken the last)."""
        now = time.monotonic()
        due = [r for when, r in self.later if when <= now]
        self.later = [(when, r) for when, r in self.later if when > now]
        for client in due:
            client.respond({"message": "sorry for the wait"})
        if self.cameras and now >= self.next_frame:
            self.next_frame = now + self.frame_interval
            live = []
            for stream, sent in self.cameras:
                if stream.closed:
                    continue
                if sent >= self.frames:
                    stream.end()
                    continue
                if stream.buffered < 64 * 1024:  # a slow viewer skips frames, never lags
                    stream.frame(b"\xff\xd8 frame %d \xff\xd9" % sent)
                    sent += 1
                live.append((stream, sent))
            self.cameras = live


def serve(server: PollServer, handler: Handler, running: Any = lambda: True) -> None:
    """uHTTP's loop: wait for a request (at most 50 ms, so the ticks keep their pace), answer it."""
    while running():
        client = server.wait(0.05)
        if client is not None:
            handler(client)
        handler.tick()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="0.0.0.0", help="address to listen on ('::' for IPv4 and IPv6)")
    parser.add_argument("--port", type=int, default=9980, help="port to listen on")
    args = parser.parse_args()
    with PollServer(args.address, args.port, **LIMITS) as server:
        print(f"listening on port {server.port}", flush=True)
        serve(server, Handler())
