"""The websocket scenarios: echo of small text messages and of 64 KiB binary messages, against
uvicorn with the websockets library and socketify, with the server's CPU time per message.

Run with ``python -m benchmarks.server.wsbench`` (``--help`` lists the options). wrk does not
speak websockets, so the load client is here: client processes (pinned to the client CPU), each
running its share of the connections on asyncio (uvloop when installed). A connection does the
opening handshake, then keeps *window* messages in flight: it writes pre-masked frames (RFC 6455
§5.3: a client masks; one key per run is enough for a benchmark) and counts the echoed frames by
their headers alone, writing one new message per echo received. The figures:

- messages per second: echoes received by all connections over the measured window;
- server CPU µs per message: the server's process-tree CPU time (``/proc``, user + system)
  over the window, divided by the echoes.

Before the load, ``check`` sends one message of each scenario and requires the exact echo, so a
server that answers wrong cannot win. A server that fails to start or to echo keeps its row with
the reason.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import struct
import sys
import time
from dataclasses import dataclass

from . import servers

__all__ = (
    "WsScenario",
    "WS_SCENARIOS",
    "client_frame",
    "FrameCounter",
    "handshake_request",
    "check_echo",
    "run_scenario",
    "main",
)

MASK = b"\x37\xfa\x21\x3d"
PATH = "/ws"


@dataclass(frozen=True)
class WsScenario:
    name: str
    title: str
    opcode: int  # 1 text, 2 binary
    size: int  # payload bytes
    connections: int
    window: int  # messages in flight per connection


WS_SCENARIOS: tuple[WsScenario, ...] = (
    WsScenario("ws-text", "echo of 32-byte text messages, 256 connections", 1, 32, 256, 4),
    WsScenario("ws-64k", "echo of 64 KiB binary messages, 32 connections", 2, 64 * 1024, 32, 1),
)


def payload(scenario: WsScenario) -> bytes:
    if scenario.opcode == 1:
        return (b"fasthttp websocket benchmark " * (scenario.size // 29 + 1))[: scenario.size]
    return bytes(range(256)) * (scenario.size // 256) + bytes(scenario.size % 256)


def client_frame(opcode: int, data: bytes, mask: bytes = MASK) -> bytes:
    """One final, masked client frame (RFC 6455 §5.2)."""
    n = len(data)
    if n <= 125:
        head = bytes([0x80 | opcode, 0x80 | n])
    elif n <= 0xFFFF:
        head = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack("!H", n)
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + struct.pack("!Q", n)
    # XOR with the key repeated over the payload, as one big-integer operation.
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    masked = (int.from_bytes(data, "big") ^ key).to_bytes(n, "big")
    return head + mask + masked


class FrameCounter:
    """Counts the complete frames a server sends (unmasked, RFC 6455 §5.1) in a byte stream fed
    in arbitrary pieces; keeps the last complete frame's payload when asked (for the check)."""

    def __init__(self, keep: bool = False) -> None:
        self.buffer = bytearray()
        self.keep = keep
        self.frames: list[tuple[int, bytes]] = []

    def feed(self, data: bytes) -> int:
        buf = self.buffer
        buf += data
        count = 0
        pos = 0
        end = len(buf)
        while end - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            n = b1 & 0x7F
            start = pos + 2
            if n == 126:
                if end - pos < 4:
                    break
                n = struct.unpack_from("!H", buf, pos + 2)[0]
                start = pos + 4
            elif n == 127:
                if end - pos < 10:
                    break
                n = struct.unpack_from("!Q", buf, pos + 2)[0]
                start = pos + 10
            if end - start < n:
                break
            if self.keep:
                self.frames.append((b0 & 0x0F, bytes(buf[start : start + n])))
            pos = start + n
            count += 1
        del buf[:pos]
        return count


def handshake_request(host: str, port: int, path: str = PATH) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


async def _open(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(handshake_request(host, port))
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        writer.close()
        status_line = head.split(b"\r\n", 1)[0]
        raise ConnectionError(f"handshake refused: {status_line!r}")
    return reader, writer, b""


async def check_echo(host: str, port: int, scenario: WsScenario, timeout: float = 5.0) -> str | None:
    """None if the server echoes one message of *scenario* exactly, else what went wrong."""
    data = payload(scenario)
    try:
        reader, writer, _ = await asyncio.wait_for(_open(host, port), timeout)
        counter = FrameCounter(keep=True)
        writer.write(client_frame(scenario.opcode, data))
        while not counter.frames:
            chunk = await asyncio.wait_for(reader.read(1 << 20), timeout)
            if not chunk:
                return "the server closed the connection"
            counter.feed(chunk)
        writer.close()
    except (OSError, asyncio.TimeoutError, ConnectionError, asyncio.IncompleteReadError) as exc:
        return f"{type(exc).__name__}: {exc}"
    opcode, echoed = counter.frames[0]
    if (opcode, echoed) != (scenario.opcode, data):
        return f"wrong echo: opcode {opcode}, {len(echoed)} bytes"
    return None


async def _connection(host: str, port: int, frame: bytes, window: int, start_at: float, stop_at: float) -> int:
    reader, writer, _ = await _open(host, port)
    counter = FrameCounter()
    writer.write(frame * window)
    counted = 0
    loop = asyncio.get_running_loop()
    try:
        while True:
            chunk = await reader.read(1 << 18)
            if not chunk:
                break
            n = counter.feed(chunk)
            now = loop.time()
            if now >= stop_at:
                break
            if now >= start_at:
                counted += n
            if n:
                writer.write(frame * n)
                if writer.transport.get_write_buffer_size() > 1 << 20:
                    await writer.drain()
    finally:
        writer.close()
    return counted


def _client_process(host: str, port: int, scenario: WsScenario, connections: int, warmup: float, duration: float, cpu: int | None, out: multiprocessing.Queue) -> None:
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    frame = client_frame(scenario.opcode, payload(scenario))

    async def run() -> int:
        loop = asyncio.get_running_loop()
        start_at = loop.time() + warmup
        stop_at = start_at + duration
        counts = await asyncio.gather(
            *(_connection(host, port, frame, scenario.window, start_at, stop_at) for _ in range(connections)),
            return_exceptions=True,
        )
        return sum(c for c in counts if isinstance(c, int))

    out.put(asyncio.run(run()))


def run_scenario(server: servers.ServerProcess, scenario: WsScenario, *, warmup: float, duration: float, processes: int, client_cpu: int | None) -> dict[str, float]:
    """One measured run: messages per second and the server's CPU µs per message."""
    out: multiprocessing.Queue = multiprocessing.Queue()
    shares = [scenario.connections // processes + (i < scenario.connections % processes) for i in range(processes)]
    workers = [
        multiprocessing.Process(
            target=_client_process,
            args=(servers.HOST, server.port, scenario, share, warmup, duration, client_cpu, out),
            daemon=True,
        )
        for share in shares
        if share
    ]
    for w in workers:
        w.start()
    time.sleep(warmup)
    cpu_before = server.cpu_seconds()
    time.sleep(duration)
    cpu_after = server.cpu_seconds()
    total = sum(out.get(timeout=duration + warmup + 30) for _ in workers)
    for w in workers:
        w.join(timeout=10)
    messages = max(total, 1)
    return {
        "messages": total,
        "messages_per_s": total / duration,
        "server_cpu_s": cpu_after - cpu_before,
        "cpu_us_per_message": (cpu_after - cpu_before) * 1e6 / messages,
    }


def markdown(results: dict[str, dict[str, dict[str, float] | str]]) -> str:
    lines = []
    for scenario in WS_SCENARIOS:
        lines += [f"### {scenario.name}: {scenario.title}", "", "| server | messages/s | server CPU µs/message |", "|---|---:|---:|"]
        for name, rows in results.items():
            row = rows.get(scenario.name)
            if isinstance(row, dict):
                lines.append(f"| {name} | {row['messages_per_s']:,.0f} | {row['cpu_us_per_message']:.1f} |")
            else:
                lines.append(f"| {name} | - | - ({row}) |")
        lines.append("")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.server.wsbench", description=__doc__.splitlines()[0])
    p.add_argument("--servers", default="fasthttp,uvicorn-websockets,socketify", help="comma-separated servers")
    p.add_argument("--scenarios", default=",".join(s.name for s in WS_SCENARIOS))
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds per scenario")
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--processes", type=int, default=2, help="client processes")
    p.add_argument("--server-cpu", type=int, default=0)
    p.add_argument("--client-cpu", type=int, default=1)
    p.add_argument("--out", default=os.path.join("benchmarks", "results", "websocket.json"))
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    chosen = [s for s in WS_SCENARIOS if s.name in args.scenarios.split(",")]
    results: dict[str, dict[str, dict[str, float] | str]] = {}
    raw = os.path.join(os.path.dirname(args.out) or ".", "raw")
    os.makedirs(raw, exist_ok=True)
    try:
        for name in args.servers.split(","):
            spec = servers.by_name(name)
            server = servers.ServerProcess(spec, cpu=args.server_cpu, log_path=os.path.join(raw, f"ws-{name}.log"), env=dict(os.environ), cwd=os.getcwd())
            rows: dict[str, dict[str, float] | str] = results.setdefault(name, {})
            if not server.start():
                for s in chosen:
                    rows[s.name] = server.failure or "did not start"
                continue
            try:
                for s in chosen:
                    problem = asyncio.run(check_echo(servers.HOST, server.port, s))
                    rows[s.name] = problem or run_scenario(server, s, warmup=args.warmup, duration=args.duration, processes=args.processes, client_cpu=args.client_cpu)
                    print(f"{name} {s.name}: {rows[s.name]}", file=sys.stderr)
            finally:
                server.stop()
    finally:
        servers.stop_all()
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
    print(markdown(results))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
