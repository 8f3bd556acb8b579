"""Socket I/O on a borrowed descriptor: ``send`` with ``MSG_MORE``, ``send`` of a whole response
without blocking, the closing response with its FIN, and the bound on a socket's unsent backlog
(``TCP_NOTSENT_LOWAT``).

Facade: the compiled twin (``fasthttp._speedups.sockio``) unless it is missing or
``FASTHTTP_NO_EXTENSIONS`` is set, then the pure twin (``fasthttp._pure.sockio``). Type checkers
read the pure twin's names (the executable specification); ``tests/test_typing.py`` checks that
the compiled twin's stub, ``_speedups/sockio.pyi``, declares the same API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._compat import load

__all__ = ("send_more", "send_now", "send_and_shutdown", "bound_backlog")

if TYPE_CHECKING:
    from ._pure.sockio import bound_backlog, send_and_shutdown, send_more, send_now
else:
    _impl = load("sockio")

    send_more = _impl.send_more
    send_now = _impl.send_now
    send_and_shutdown = _impl.send_and_shutdown
    bound_backlog = _impl.bound_backlog
