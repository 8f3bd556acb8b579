"""``python -m fasthttp MODULE:APP [options]``: see ``fasthttp.cli``."""

import sys

from .cli import main

sys.exit(main())
