"""``python -m benchmarks.server``: run the server load harness (see ``run.main``)."""

from .run import main

raise SystemExit(main())
