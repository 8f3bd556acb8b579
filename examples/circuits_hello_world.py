"""circuits.http's hello world: one resource, on the domain ``localhost``, answering ``GET /``
with the plain-text document "Hello World!".

circuits.http puts a ``Resource`` (with ``path = '/'`` and a ``GET`` method whose codec is
``text/plain``) inside a ``Domain('localhost')``. Here the resource class names its host and its
path, ``produces`` states the one media type it offers (an ``Accept`` that refuses it gets 406),
and the server writes a combined-format access log, as circuits' ``logformat`` does.

Run it, then ask for the resource::

    python examples/circuits_hello_world.py --bind 0.0.0.0:8090
    curl -i http://localhost:8090/

A request for another host gets 404: only ``localhost`` has routes.
"""

from __future__ import annotations

import argparse

from fasthttp import App
from fasthttp.resources import Resource, get


class HelloWorld(Resource):
    path = "/"
    host = "localhost"

    @get(produces=["text/plain"])
    def hello(self, request):
        return "Hello World!"


app = App()
app.add(HelloWorld())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="0.0.0.0:8090", help="HOST:PORT to listen on")
    args = parser.parse_args()
    app.run(args.bind, access_log="-", log_format="combined")
