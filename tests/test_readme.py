"""The README's samples (issue 11): each ```python block runs unchanged, taken from the README
text itself, in order in one namespace (as a reader would paste them), and the first one is also
served by the command line, which its ``if __name__ == "__main__":`` guard makes possible."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fasthttp.testing import TestClient

README = Path(__file__).resolve().parent.parent / "README.md"

pytestmark = pytest.mark.skipif(not README.is_file(), reason="README.md is not beside tests/ (installed-wheel run)")


def samples() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", README.read_text(), flags=re.M | re.S)


def test_every_python_sample_runs_unchanged_in_order():
    blocks = samples()
    assert len(blocks) >= 4
    namespace: dict = {"__name__": "readme_sample"}  # not __main__: app.run() stays guarded
    for number, block in enumerate(blocks, 1):
        exec(compile(block, f"README.md sample {number}", "exec"), namespace)
        if number == 1:
            with TestClient(namespace["app"]) as client:
                assert client.get("/").text == "Hello, World!"
                assert client.get("/users/42").json() == {"id": 42}


def test_the_first_sample_is_served_by_the_command_line_with_its_options(tmp_path):
    # Before: the sample called app.run() at import: `fasthttp sample:app --bind ...` served on
    # 8000, ignored --bind, and needed two Ctrl-C.
    (tmp_path / "sample.py").write_text(samples()[0])
    env = dict(os.environ, PYTHONPATH=os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-m", "fasthttp", "sample:app", "--bind", "127.0.0.1:0"],
        cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 15
        match = None
        while match is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        assert match, "the sample was not served on the --bind address"
        conn = http.client.HTTPConnection("127.0.0.1", int(match.group(1)), timeout=5)
        try:
            conn.request("GET", "/")
            assert conn.getresponse().read() == b"Hello, World!"
        finally:
            conn.close()
        proc.send_signal(signal.SIGINT)  # one Ctrl-C
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()


def test_the_readme_says_how_to_install_and_maps_other_frameworks_habits():
    text = README.read_text()
    assert "`pip install fasthttp`" in text
    section = text.split("## Coming from FastAPI, Starlette, Flask or uvicorn", 1)[1].split("\n## ", 1)[0]
    for habit in ("{item_id}", "<int:uid>", "getlist", "return body, 201", 'headers["X-Id"]', "--host 0.0.0.0 --port 8000", "--workers", "app.run(host=..., port=...)", "raise_server_exceptions", "async def"):
        assert habit in section, habit
