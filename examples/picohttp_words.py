"""picohttp's word handler: answers ``/hello`` and ``/goodbye``, and says it does not know what
to say to anything else (with 404).

picohttp hands every request to one function that looks at ``request.path[0]``. Here each word
is a route parameter, and the "unknown request" branch is the app's 404 handler, so any path
(``/a/b`` too) that no route answers gets the same text.

picohttp runs each request in a thread unless ``threads=False``: fasthttp runs ``def`` handlers
inline on the event loop (these never block), and a route with ``blocking=True`` runs its
handler in the thread pool. ``start=False``/``block=False`` are ``app.start()`` (a background
thread, returns at once) versus ``app.run()`` (blocks until SIGTERM or Ctrl-C).

    python examples/picohttp_words.py --bind 127.0.0.1:8080
    curl http://127.0.0.1:8080/hello
"""

from __future__ import annotations

import argparse

from fasthttp import App, HttpError

WORDS = {"hello": "Hello world!", "goodbye": "Goodbye cruel world"}

app = App()


@app.get("/:word")
def word(request):
    answer = WORDS.get(request.params["word"])
    if answer is None:
        raise HttpError(404)
    return answer


@app.exception_handler(404)
def unknown(request, exc):
    return "I don't know what to say"  # a str keeps the 404 status


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="0.0.0.0:8080", help="HOST:PORT to listen on")
    app.run(parser.parse_args().bind)
