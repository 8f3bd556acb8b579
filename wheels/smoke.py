#!/usr/bin/env python3
"""Smoke test of an *installed* fasthttp: the kernels in use, and one request answered.

    python wheels/smoke.py --expect compiled          # a platform wheel
    python wheels/smoke.py --expect pure --no-uvloop  # the py3-none-any wheel, uvloop absent

Run by wheels/check.py in a fresh venv and by cibuildwheel's test-command, never against the
source tree: it first proves that ``fasthttp`` was imported from site-packages.

What it proves:

* ``--expect compiled``: ``fasthttp.speedups_enabled()`` is True, every kernel reports ``"c"`` and
  is an extension module (not a .py shadowing it); ``FASTHTTP_NO_EXTENSIONS=1`` still switches a
  fresh interpreter to the pure twins.
* ``--expect pure``: no compiled kernel is importable at all, and the facades fall back to the
  pure twins *without* ``FASTHTTP_NO_EXTENSIONS`` (the path a user on an odd platform takes).
* ``--no-uvloop``: uvloop is really absent, so everything above ran without it.
* One request: when ``fasthttp.App`` and ``python -m fasthttp`` exist, a one-route app is served
  by the CLI on a loopback port and a GET is answered 200 over a real socket; until the engine
  lands, the request is parsed with ``fasthttp.parser.RequestParser`` instead. The output says
  which was done.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.machinery
import importlib.util
import os
import socket
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
from pathlib import Path

REQUEST = b"GET /smoke HTTP/1.1\r\nHost: smoke.test\r\nConnection: close\r\n\r\n"
BODY = "hello from the installed wheel"

APP_MODULE = f"""
import fasthttp

app = fasthttp.App()


@app.get("/smoke")
def smoke(request):
    return {BODY!r}
"""


class SmokeFailure(AssertionError):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)
    print(f"  ok  {message}", flush=True)


def installed_roots() -> set[Path]:
    paths = sysconfig.get_paths()
    return {Path(paths[key]).resolve() for key in ("purelib", "platlib")}


def check_installed(fasthttp) -> None:
    location = Path(fasthttp.__file__).resolve().parent
    check(
        any(root in location.parents for root in installed_roots()),
        f"fasthttp {fasthttp.__version__} is imported from site-packages ({location})",
    )


def check_compiled(fasthttp) -> None:
    impls = fasthttp.kernel_implementations()
    check(fasthttp.speedups_enabled() is True, "speedups_enabled() is True")
    check(set(impls.values()) == {"c"}, f"every kernel runs its compiled twin: {impls}")
    from fasthttp._compat import compiled_module

    for kernel in impls:  # the kernels and the engine's connection core
        name = compiled_module(kernel)
        module = importlib.import_module(name)
        suffix = next(
            (s for s in importlib.machinery.EXTENSION_SUFFIXES if module.__file__.endswith(s)), None
        )
        check(
            suffix is not None,
            f"{name} is an extension ({Path(module.__file__).name})",
        )
    switched = subprocess.run(
        [sys.executable, "-c", "import fasthttp; print(fasthttp.speedups_enabled())"],
        env={**os.environ, "FASTHTTP_NO_EXTENSIONS": "1"},
        check=False,
        capture_output=True,
        text=True,
    )
    check(
        switched.returncode == 0 and switched.stdout.strip() == "False",
        "FASTHTTP_NO_EXTENSIONS=1 switches a fresh interpreter to the pure twins",
    )


def check_pure(fasthttp) -> None:
    check(not os.environ.get("FASTHTTP_NO_EXTENSIONS"), "FASTHTTP_NO_EXTENSIONS is not set")
    impls = fasthttp.kernel_implementations()
    check(fasthttp.speedups_enabled() is False, "speedups_enabled() is False")
    check(set(impls.values()) == {"py"}, f"every kernel falls back to its pure twin: {impls}")
    from fasthttp._compat import compiled_module

    present = [k for k in impls if importlib.util.find_spec(compiled_module(k)) is not None]
    check(not present, f"no compiled kernel is installed (found: {present or 'none'})")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_one_request() -> None:
    """Serve a one-route app with ``python -m fasthttp`` on loopback and GET it once."""
    print("  request: served by fasthttp.App through `python -m fasthttp` on 127.0.0.1", flush=True)
    with tempfile.TemporaryDirectory(prefix="fasthttp-smoke-") as tmp:
        Path(tmp, "smoke_app.py").write_text(textwrap.dedent(APP_MODULE))
        port = free_port()
        env = {**os.environ, "PYTHONPATH": tmp}
        cmd = [sys.executable, "-m", "fasthttp", "smoke_app:app", "--bind", f"127.0.0.1:{port}"]
        # Output to a file, not a pipe: a chatty server must not block on a full pipe.
        server_log = Path(tmp, "server.log").open("w+b")  # noqa: SIM115 (closed in finally)
        server = subprocess.Popen(
            cmd, cwd=tmp, env=env, stdout=server_log, stderr=subprocess.STDOUT
        )
        answered = False
        try:
            response = b""
            deadline = time.monotonic() + 30
            while True:
                if server.poll() is not None:
                    raise SmokeFailure(f"the server exited ({server.returncode}) before answering")
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
                        conn.sendall(REQUEST)
                        while chunk := conn.recv(65536):
                            response += chunk
                    break
                except TimeoutError:
                    raise SmokeFailure(
                        f"no complete response within 10 s (got {response[:80]!r}); after"
                        " `Connection: close` the server must close (RFC 9112 §9.6)"
                    ) from None
                except ConnectionRefusedError:
                    if time.monotonic() > deadline:
                        raise SmokeFailure("the server did not listen within 30 s") from None
                    time.sleep(0.1)
            head, _, body = response.partition(b"\r\n\r\n")
            status = head.split(b"\r\n", 1)[0].decode("latin-1")
            check(status.startswith("HTTP/1.1 200"), f"GET /smoke answered: {status}")
            check(BODY.encode() in body, f"the body is the handler's: {body[:60]!r}")
            answered = True
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            server_log.seek(0)
            output = server_log.read().decode(errors="replace")
            server_log.close()
            if not answered:  # show what the server said before it failed us
                print(output[-3000:], file=sys.stderr)


def parse_one_request(why: str) -> None:
    print(f"  request: parsed by fasthttp.parser.RequestParser ({why})", flush=True)
    from fasthttp.parser import RequestParser

    events = RequestParser().feed(REQUEST)
    check(len(events) >= 1, f"the parser returned {len(events)} event(s)")
    head = events[0]
    check(head.method == "GET", f"the first event is the request head: method={head.method!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Smoke-test an installed fasthttp.")
    parser.add_argument("--expect", choices=["compiled", "pure"], required=True)
    parser.add_argument("--no-uvloop", action="store_true", help="require that uvloop is absent")
    args = parser.parse_args(argv)

    print(
        f"smoke ({args.expect}) on {sys.implementation.name} {sys.version.split()[0]}, {sys.platform}"
    )
    try:
        if args.no_uvloop:
            check(importlib.util.find_spec("uvloop") is None, "uvloop is not installed")
        import fasthttp

        check_installed(fasthttp)
        if not args.no_uvloop:
            uvloop = importlib.util.find_spec("uvloop")
            print(f"  uvloop is {'installed' if uvloop else 'not installed'}", flush=True)
        (check_compiled if args.expect == "compiled" else check_pure)(fasthttp)
        has_app = hasattr(fasthttp, "App")
        has_cli = importlib.util.find_spec("fasthttp.__main__") is not None
        if has_app and has_cli:
            serve_one_request()
        else:
            missing = [
                n for n, ok in (("fasthttp.App", has_app), ("fasthttp.__main__", has_cli)) if not ok
            ]
            parse_one_request(f"{' and '.join(missing)} not there yet")
    except SmokeFailure as exc:
        print(f"  FAIL  {exc}", flush=True)
        print(f"smoke ({args.expect}): FAILED")
        return 1
    print(f"smoke ({args.expect}): passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
